"""Current-based networks on every CPU engine: the same spikes everywhere, and again with the same seed.

``brian2``, ``pynn:brian2`` and ``pynn:nest`` integrate current-based cells exactly (the
same propagator, the same spike steps), so a network gives one set of spike trains on all
of them. The reference is the ``brian2`` target, itself held to a hand-written Brian2
model (tests/targets/test_brian2_system.py).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from _scenarios import CPU_ENGINES, on_targets, require, run_script

from spikemem import (
    AllToAll,
    FixedProbability,
    IF_curr_exp,
    Network,
    Poisson,
    Population,
    Probe,
    Projection,
    Results,
    SpikeSource,
    Static,
    simulate,
)
from spikemem.models.cuba import cuba_network


def assert_same_steps(a: Results, b: Results, dt: float) -> None:
    """Both runs spiked in the same steps, neuron by neuron, in every recorded population."""
    assert set(a.spikes) == set(b.spikes)
    for pop in a.spikes:
        x, y = a.spikes[pop], b.spikes[pop]
        assert len(x) > 0, f"{pop} is silent: the comparison would be empty"
        mine = sorted(zip(x.steps(dt).tolist(), x.indices.tolist()))
        theirs = sorted(zip(y.steps(dt).tolist(), y.indices.tolist()))
        assert mine == theirs, pop


@functools.cache
def cuba_reference() -> Results:
    return simulate(cuba_network(400, p_connect=0.05, seed=3), 150.0, target="brian2:numpy")


@on_targets(*CPU_ENGINES[1:])
def test_cuba_gives_the_same_spikes_on_every_engine(target):
    """The self-sustained CUBA network (400 neurons, 5 % connectivity, 150 ms): chaotic, so a
    single spike moved by one step anywhere would change the rest of the run."""
    require(target)
    res = simulate(cuba_network(400, p_connect=0.05, seed=3), 150.0, target=target)
    ref = cuba_reference()
    assert_same_steps(ref, res, 0.1)
    assert sum(len(st) for st in res.spikes.values()) > 500


def noisy_network() -> Network:
    """Poisson input and random connectivity, both drawn by spikemem from the run seed."""
    cell = IF_curr_exp(tau_m=10.0, tau_refrac=2.0, v_thresh=-55.0)
    pops = [
        Population("noise", 20, Poisson(rate_hz=200.0)),
        SpikeSource("kick", [[5.0], [7.0]]),
        Population("cells", 30, cell),
    ]
    projections = [
        Projection("noise_cells", "noise", "cells", FixedProbability(0.3), Static(weight=1.5, delay=1.0)),
        Projection("kick_cells", "kick", "cells", AllToAll(), Static(weight=2.0, delay=0.5)),
        Projection("cells_cells", "cells", "cells", FixedProbability(0.1), Static(weight=0.8, delay=2.0), "inhibitory"),
    ]
    return Network(pops, projections, [Probe("cells"), Probe("noise")], dt=0.1, name="noisy")


@on_targets(*CPU_ENGINES)
def test_same_seed_same_spikes_other_seed_other_input(target):
    """Seed 1 twice: identical spike trains; seed 2: other Poisson input."""
    require(target)
    first, again, other = (simulate(noisy_network(), 60.0, target=target, seed=s) for s in (1, 1, 2))
    assert_same_steps(first, again, 0.1)
    assert first.provenance["seed"] == 1 and first.provenance["target"].startswith(target)
    assert not np.array_equal(first.spikes["noise"].times, other.spikes["noise"].times)


@pytest.mark.parametrize("seed", [1, 2])
@on_targets(*CPU_ENGINES[1:])
def test_seeded_input_is_the_same_on_every_engine(target, seed):
    """spikemem draws the random input and connectivity itself, so every engine receives the
    same: the same spikes as the brian2 target for the same seed."""
    require(target)
    res = simulate(noisy_network(), 60.0, target=target, seed=seed)
    assert_same_steps(simulate(noisy_network(), 60.0, target="brian2:numpy", seed=seed), res, 0.1)


@on_targets(*CPU_ENGINES[1:])
def test_the_exported_script_gives_the_same_spikes(target, tmp_path):
    """``python net.py --simulator X`` (plain PyNN, no spikemem) gives the brian2 target's
    spikes for the same seed: the script carries every simulator convention itself."""
    require(target)
    from spikemem.hardware.pynn.script import write_script

    net = noisy_network()
    script, _ = write_script(net, tmp_path / "net.py", duration_ms=60.0, seed=1)
    got = run_script(script, target.partition(":")[2])
    reference = simulate(net, 60.0, target="brian2:numpy", seed=1)
    for pop, st in reference.spikes.items():
        assert len(st) > 0
        mine = sorted(zip(np.rint(got[f"{pop}_times"] / 0.1).astype(int).tolist(), got[f"{pop}_indices"].tolist()))
        assert mine == sorted(zip(st.steps(0.1).tolist(), st.indices.tolist())), pop
