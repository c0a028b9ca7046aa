"""The Vogels–Abbott CUBA network on the ``brian2`` target, and Brian2 names in the lowering.

The lowering puts populations of equal cells into one NeuronGroup; the CUBA network's
``exc`` and ``inh`` are such a pair and it also has a projection called ``exc_inh``, the
name a joined group would get: a regression test for Brian2's unique-name rule.
"""

from __future__ import annotations

import numpy as np

from spikemem import IF_curr_exp, Network, OneToOne, Population, Probe, Projection, SpikeSource, Static, simulate
from spikemem.cli import main
from spikemem.experiments import cuba as cuba_experiment
from spikemem.results import load_results


def test_run_cuba_keeps_its_activity_going(tmp_path, capsys):
    """No external input: the random initial potentials start activity that the recurrent
    excitation and inhibition keep going at a low, irregular rate in both populations."""
    out = tmp_path / "cuba.h5"
    args = ["run", "cuba", "--neurons", "1000", "--duration", "300", "--target", "brian2:numpy"]
    assert main([*args, "--out", str(out), "--no-progress"]) == 0
    assert "rate (Hz)" in capsys.readouterr().out
    results = load_results(out)
    for pop in ("exc", "inh"):
        trains = results.spikes[pop]
        late = trains.times > 200.0
        assert late.any(), f"{pop} fell silent"
        rate_late = late.sum() / trains.size / 0.1
        assert 1.0 < rate_late < 40.0, (pop, rate_late)
        assert len(np.unique(trains.indices[late])) > trains.size // 4  # many cells take part, not a few


def test_bad_outputs_are_refused_before_simulating(tmp_path, capsys, monkeypatch):
    """A results file in a missing folder, or a plot that is no image, is named before the
    network is simulated (nothing would be left of a run that cannot be saved)."""

    def no_simulation(*args, **kwargs):
        raise AssertionError("simulated before the output paths were checked")

    monkeypatch.setattr(cuba_experiment, "simulate", no_simulation)
    args = ["run", "cuba", "--neurons", "100", "--duration", "20", "--target", "brian2:numpy", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "missing" / "cuba.h5")]) == 2
    assert "--out" in capsys.readouterr().err
    assert main([*args, "--plot", str(tmp_path / "raster.txt")]) == 2
    assert "--plot" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_groups_of_equal_cells_get_names_of_their_own():
    """Two populations of equal cells share one Brian2 group whose natural name (``a_b``)
    and derived names (``a_b_step``, ``spikes_a``) are taken by projections."""
    cell = IF_curr_exp(tau_refrac=1.0)
    relay = Static(weight=5.0, delay=1.0)
    net = Network(
        [SpikeSource("inp", [[1.0], [4.0]]), Population("a", 2, cell), Population("b", 2, cell)],
        [
            Projection("spikes_a", "inp", "a", OneToOne(), relay),
            Projection("a_b", "a", "b", OneToOne(), relay),
            Projection("a_b_step", "b", "a", OneToOne(), Static(weight=0.0, delay=1.0)),
        ],
        [Probe("a"), Probe("b")],
        dt=0.1,
    )
    results = simulate(net, 20.0, target="brian2:numpy")
    a, b = results.spikes["a"], results.spikes["b"]
    assert list(a.indices) == [0, 1] and list(b.indices) == [0, 1]
    assert np.all(b.times - a.times > 1.0)  # b fires after a, through the delay
