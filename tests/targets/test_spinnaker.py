"""The ``spinnaker`` target: the constraint report, the fixed-point fidelity check and a
virtual-board run.

The constraint tests use deliberately illegal networks and check each specific message
and number (computed here from sPyNNaker's rules, see the module docstring). The
sPyNNaker tests check the report against what sPyNNaker itself decides.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from spikemem import (
    STDP,
    AllToAll,
    FixedProbability,
    FromList,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikeSource,
    Static,
    UnsupportedFeature,
    ValidationError,
    simulate,
)
from spikemem.hardware import spinnaker
from spikemem.hardware.spinnaker.limits import constraints, fidelity_check, quantise

CHIP = IF_curr_exp(integration="spinnaker")


def relay(post_size: int = 1, weight: float = 1.0, delay: float = 1.0, synapse=None, cell=CHIP, extra=()) -> Network:
    """A spike source driving one population, plus optional extra projections."""
    syn = synapse or Static(weight, delay)
    return Network(
        [SpikeSource("src", [[2.0, 9.0]] * 4), Population("post", post_size, cell)],
        [Projection("p", "src", "post", AllToAll(), syn), *extra],
        [Probe("post")],
        dt=1.0,
        name="relay",
    )


# --- violations ------------------------------------------------------------------------


def test_delay_too_long():
    """256 neurons per core leave 14 - 8 - 1 = 5 bits: 32 delay slots; a delay extension
    adds 8 x 32: 288 ms at most."""
    report = constraints(relay(post_size=256, delay=300.0))
    (fit,) = report.delays
    assert (fit.native_ms, fit.max_supported_ms, fit.extension_needed) == (32.0, 288.0, True)
    assert report.violations == [
        "delays into 'post' up to 300 ms exceed the 288 ms SpiNNaker supports for 256 neurons per core "
        "(32 slots + 8 delay-extension stages)"
    ]
    ok = constraints(relay(post_size=256, delay=40.0))
    assert ok.ok and ok.delays[0].extension_needed and ok.delay_extension_cores == 1
    small = constraints(relay(post_size=5, delay=300.0))  # 3 atom bits: 1024 native slots
    assert small.ok and not small.delays[0].extension_needed and small.delays[0].native_ms == 1024.0


def test_weight_that_overflows():
    report = constraints(relay(weight=70000.0))
    assert report.violations == [
        "excitatory input of 'post': a single weight of 70000 nA overflows the chip's s16.15 input (limit 65536 nA)"
    ]
    cond = constraints(relay(weight=80.0, cell=IF_cond_exp(integration="spinnaker")))
    assert cond.violations == [
        "excitatory input of 'post': a single weight of 80 uS overflows the chip's s16.15 input (limit 64 uS)"
    ]


def test_sum_that_can_overflow_is_reported_with_its_threshold():
    """Four sources of 20000 nA onto one neuron: the sum (80000) can overflow, but only
    when more than 3 of them coincide (3 x 20000 < 65536)."""
    report = constraints(relay(weight=20000.0))
    assert report.ok
    assert (
        "excitatory input of 'post': summed input up to 80000 nA per step can overflow the s16.15 input "
        "(limit 65536 nA): it does when more than 3 spikes of the largest weight (20000 nA) arrive in one step"
    ) in report.losses


@pytest.mark.parametrize(
    ("net", "message"),
    [
        (relay(synapse=STDP(timing="online")), "projection 'p': STDP timing 'online', but sPyNNaker applies STDP"),
        (relay(cell=IF_curr_exp()), "population 'post': integration 'exact', but the chip performs the discrete"),
        (relay().replace(dt=0.1), "time step 0.1 ms: SpiNNaker runs sPyNNaker models at 1 ms steps"),
    ],
)
def test_unsupported_rule_cell_or_time_step(net, message):
    report = constraints(net)
    assert any(v.startswith(message) for v in report.violations), report.violations
    with pytest.raises(UnsupportedFeature, match=message.split(":")[0].replace("(", r"\(")):
        spinnaker.check(net, virtual=True)


def test_delta_cells_are_refused_with_what_sPyNNaker_does_instead(tmp_path):
    """sPyNNaker's IF_curr_delta divides the weight by dt (input_type_delta.h) and integrates
    it as a current held over the step (neuron_model_lif_impl.h): v moves by
    w tau_m (1 - e^{-dt/tau_m}) / (cm dt), 0.975 w for tau_m = 20 ms and cm = 1 nF, not by w.
    The report still sizes the population and its fixed-point weights, in mV."""
    cell = IF_curr_delta(tau_m=20.0, cm=1.0, tau_refrac=1.0)
    inhibit = Projection("inh", "src", "post", AllToAll(), Static(2.0, 2.0), "inhibitory")
    net = relay(post_size=300, weight=0.123456, cell=cell, extra=[inhibit])
    report = constraints(net)
    factor = 20.0 * (1.0 - math.exp(-1.0 / 20.0)) / (1.0 * 1.0)
    assert f"{factor:.6g}" == "0.975412"
    assert report.violations == [
        "population 'post': IF_curr_delta, but sPyNNaker's moves v by w * tau_m (1 - exp(-dt/tau_m)) / (cm dt) = "
        "0.975412 w instead of w: its delta input type divides the weight by dt and its LIF update integrates it as "
        "a current held over the step (arrival step, refractoriness and leak agree)"
    ]
    fits = [(p.name, p.kind, p.cores) for p in report.populations]
    assert fits == [("src", "source", 1), ("post", "IF_curr_delta", 2)]
    exc, inh = report.weights
    assert (exc.unit, exc.receptor, inh.unit, inh.receptor) == ("mV", "excitatory", "mV", "inhibitory")
    assert exc.shift == 0 and exc.max_error == pytest.approx(abs(round(0.123456 * 2**15) / 2**15 - 0.123456))
    assert "step 3.05e-05 mV" in str(report)
    with pytest.raises(UnsupportedFeature, match=r"0\.975412 w instead of w"):
        spinnaker.check(net, virtual=True)
    with pytest.raises(UnsupportedFeature, match="IF_curr_delta"):
        spinnaker.export(net, tmp_path / "net.py")
    assert not list(tmp_path.iterdir())


def test_row_too_long_for_plastic_synapses():
    """All-to-all STDP onto a 300-neuron population: a row onto the first core holds 256
    plastic synapses, sPyNNaker fits 254; 200 neurons per core fix it."""
    pre = Population("pre", 3, CHIP)
    net = Network(
        [SpikeSource("src", [[1.0]] * 3), pre, Population("big", 300, CHIP)],
        [
            Projection("in", "src", "pre", OneToOne(), Static(5.0, 1.0)),
            Projection("learn", "pre", "big", AllToAll(), STDP(weight=0.5, w_max=1.0, timing="deferred")),
        ],
        [],
        dt=1.0,
    )
    report = constraints(net)
    assert report.violations == [
        "projection 'learn': up to 256 synapses from one pre neuron onto one core of 'big' (256 neurons per core); "
        "sPyNNaker holds 254 plastic synapses per row: lower neurons_per_core"
    ]
    fixed = constraints(net, neurons_per_core=200)
    assert fixed.ok and [p.cores for p in fixed.populations] == [1, 1, 2]


# --- losses with numbers -----------------------------------------------------------------


def test_weight_quantisation_step_and_error():
    """One 0.123456 nA synapse per post neuron: bound 0.123456 < 2**0, shift 0, stored as
    rint(w * 2**15) / 2**15."""
    report = constraints(
        Network(
            [SpikeSource("src", [[1.0]]), Population("post", 1, CHIP)],
            [Projection("p", "src", "post", OneToOne(), Static(0.123456, 1.0))],
            [],
            dt=1.0,
        )
    )
    (fit,) = report.weights
    assert (fit.shift, fit.step, fit.bound) == (0, 2.0**-15, "max-sum rule")
    assert fit.max_error == pytest.approx(abs(round(0.123456 * 2**15) / 2**15 - 0.123456), abs=1e-15)
    assert f"max error {fit.max_error:.3g} nA" in str(report)


def test_small_weight_beside_a_large_one_is_lost():
    """A 100 nA synapse sets the shift to 7 (step 2**-8 nA); 0.001 nA rounds to 0."""
    extra = Projection("tiny", "src", "post", FromList([(0, 0, 0.001, 1.0)]), Static(0.0, 1.0))
    report = constraints(relay(weight=25.0, extra=[extra]))  # 4 sources x 25 + 0.001 = 100.001
    (fit,) = report.weights
    assert (fit.shift, fit.n_lost) == (7, 1)
    assert "excitatory input of 'post': 1 of 5 synapses round to weight 0 (below 0.00195 nA)" in report.losses


def test_cores_and_readable_report():
    net = relay(post_size=600)
    report = constraints(net)
    assert [(p.name, p.cores) for p in report.populations] == [("src", 1), ("post", 3)]
    assert report.total_cores == 4
    text = str(report)
    assert "post" in text and "256/core -> 3 core(s)" in text and "violations: none" in text


def test_check_needs_one_machine():
    with pytest.raises(ValidationError, match="exactly one"):
        spinnaker.check(relay())
    with pytest.raises(ValidationError, match="exactly one"):
        spinnaker.check(relay(), virtual=True, board="192.168.240.1")
    with pytest.raises(ValidationError, match="spynnaker.cfg"):
        spinnaker.check(relay(), config="/nonexistent/spynnaker.cfg")


# --- fixed-point fidelity ----------------------------------------------------------------


def test_quantised_network_moves_weights_onto_the_grid():
    net = relay(weight=25.0, extra=[Projection("tiny", "src", "post", FromList([(0, 0, 0.3, 1.0)]), Static(0.0, 1.0))])
    fixed = quantise(net)
    assert fixed.projection("p").synapse.weight == 25.0
    assert fixed.projection("tiny").connector.conn_list[0, 2] == round(0.3 * 256) / 256


def test_fidelity_check_detects_a_lost_spike():
    """A 2.5 nA input fires a cell whose threshold needs 2.2 nA (spec/ca3.md §2.3: 0.911 mV
    per nA against 2 mV), but its receptor also
    carries a 30000 nA synapse (from a silent source): shift 15, step 1 nA, 2.5 -> 2.0."""
    cell = IF_curr_exp(integration="spinnaker", cm=0.27, tau_m=3.0, tau_syn_E=0.3, v_rest=-60.0, v_reset=-60.0)
    cell = cell.replace(v_thresh=-58.0)
    net = Network(
        [SpikeSource("src", [[2.0, 10.0]]), SpikeSource("quiet", [[]]), Population("out", 1, cell)],
        [
            Projection("p", "src", "out", OneToOne(), Static(2.5, 1.0)),
            Projection("big", "quiet", "out", OneToOne(), Static(30000.0, 1.0)),
        ],
        [Probe("out")],
        dt=1.0,
    )
    assert quantise(net).projection("p").synapse.weight == 2.0
    check = fidelity_check(net, 20.0, target="brian2:numpy", decode=lambda r: len(r.spikes["out"]))
    assert check.float_answers == 2 and check.quantised_answers == 0
    assert check.mismatches == {"out": 2} and check.answers_changed
    assert "2 mismatching" in str(check)


def test_fidelity_check_of_the_published_circuit():
    """Every weight of the CA3 circuit is a small integer: the fixed-point copy is exact."""
    from spikemem.models.ca3.fidelity import build_fidelity

    cue = [[0.0, 1.0, 2.0, 30.0], [], [], [], []]  # learn cue 0 at 0 ms, recall it at 30 ms
    cont = [[0.0, 1.0, 2.0] if k in (0, 1, 8, 9) else [] for k in range(10)]
    check = fidelity_check(build_fidelity(5, 10, cue, cont), 40.0, target="brian2:numpy")
    assert check.total_mismatches == 0
    out = check.float_results.spikes["OUTcont"]
    assert sorted(out.indices[out.times == 36.0].tolist()) == [0, 1, 8, 9]  # the recalled content
    assert all(w.max_error == 0 for w in constraints(build_fidelity(5, 10, cue, cont)).weights)


# --- sPyNNaker (virtual board) -------------------------------------------------------------


@pytest.mark.spinnaker
def test_virtual_run_maps_without_simulating(tmp_path):
    pytest.importorskip("spynnaker")
    home_cfg = Path.home() / ".spynnaker.cfg"
    existed = home_cfg.exists()
    net = relay(post_size=300, synapse=STDP(weight=0.5, w_max=1.0, timing="deferred"))
    with pytest.raises(UnsupportedFeature, match="254 plastic synapses per row"):
        simulate(net, 20.0, target="spinnaker", virtual=True)
    res = simulate(net, 20.0, target="spinnaker", virtual=True, neurons_per_core=150, workdir=str(tmp_path))
    mapping = res.provenance["spinnaker_mapping"]
    assert res.spikes == {} and res.provenance["simulated"] is False
    assert mapping["cores_per_population"] == {"src": 1, "post": 2}
    assert mapping["application_cores"] == constraints(net, neurons_per_core=150).total_cores == 3
    assert mapping["n_chips_used"] >= 1 and mapping["routing_entries"] > 0 and mapping["sdram_bytes"] > 0
    assert res.provenance["spinnaker_constraints"]["ok"] is True
    assert (tmp_path / ".spynnaker.cfg").read_text().startswith("[Machine]\nvirtual_board = True")
    assert home_cfg.exists() == existed, "the user's home must be left alone"
    assert Path(os.getcwd()) != tmp_path


@pytest.mark.spinnaker
def test_weight_shifts_match_sPyNNaker(tmp_path):
    """sPyNNaker's own ring-buffer shifts (read from its vertices) equal the report's, for
    the max-sum rule, the statistical rule (varying delays) and conductance cells."""
    pytest.importorskip("spynnaker")
    rng = np.random.default_rng(1)
    rows = np.column_stack([rng.integers(0, 20, 300), rng.integers(0, 30, 300), rng.uniform(0.1, 2.5, 300)])
    rows = np.column_stack([rows, rng.integers(1, 20, 300)])
    diagonal = np.column_stack([np.arange(10), np.arange(10), np.full(10, 0.05), np.arange(1.0, 11.0)])
    cond = IF_cond_exp(integration="spinnaker")
    a = Population("a", 30, CHIP)
    net = Network(
        [SpikeSource("s", [[1.0, 5.0]] * 20), a, Population("b", 300, CHIP), Population("c", 10, cond)],
        [
            Projection("p", "s", "a", FromList(rows), Static(1.0, 1.0)),
            Projection("q", "s", "b", FixedProbability(0.3, seed=2), Static(0.123456, 4.0)),
            Projection("r", "a", "b", AllToAll(), STDP(0.5, 1.0, w_max=1.7, timing="deferred"), "inhibitory"),
            Projection("t", "s", "c", AllToAll(), Static(0.0123, 2.0)),
            Projection("u", "a", "c", FromList(diagonal), Static(0.0, 1.0), "inhibitory"),
        ],
        [Probe("a")],
        dt=1.0,
    )
    report = constraints(net, neurons_per_core=200)
    res = simulate(net, 30.0, target="spinnaker", virtual=True, neurons_per_core=200, workdir=str(tmp_path))
    mine: dict[str, list[int]] = {}
    for w in report.weights:
        mine.setdefault(w.post, [0, 0])[0 if w.receptor == "excitatory" else 1] = w.shift
    assert {w.bound for w in report.weights} == {"max-sum rule", "statistical rule"}
    assert res.provenance["spinnaker_mapping"]["weight_shifts"] == mine == {"a": [3, 0], "b": [1, 6], "c": [4, 6]}
    assert math.isclose(report.weights[-1].step, 2.0 ** (6 - 15) / 1024)


# --- export ------------------------------------------------------------------------------


def test_export_writes_script_and_report(tmp_path):
    net = relay(synapse=STDP(weight=0.5, w_max=1.0, timing="deferred"))
    files = spinnaker.export(net, tmp_path / "net.py")
    assert [f.name for f in files] == ["net.py", "net.npz", "net.constraints.txt"]
    assert "default='spiNNaker'" in files[0].read_text()
    assert files[2].read_text() == str(constraints(net)) + "\n"
    with pytest.raises(UnsupportedFeature, match="STDP timing 'online'"):
        spinnaker.export(relay(synapse=STDP()), tmp_path / "bad.py")


@pytest.mark.spinnaker
def test_exported_script_runs_on_a_virtual_board(tmp_path):
    """The script's sPyNNaker branch (positive inhibitory weights, absolute STDP steps, no
    dendritic_delay_fraction) is accepted by sPyNNaker and mapped."""
    import subprocess
    import sys

    pytest.importorskip("spynnaker")
    inhibit = Projection("inh", "src", "post", OneToOne(), Static(2.0, 2.0), "inhibitory")
    net = relay(post_size=4, synapse=STDP(weight=0.5, w_max=1.0, timing="deferred"), extra=[inhibit])
    script = spinnaker.export(net, tmp_path / "net.py", duration_ms=20.0)[0]
    (tmp_path / ".spynnaker.cfg").write_text(spinnaker.machine_config(virtual=True))
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config")}
    proc = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path / "spikes.npz")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "post: 0 spikes from 4 neurons" in proc.stdout  # a virtual board maps, it does not simulate
