"""A network of delta-synapse cells (``IF_curr_delta``) on every CPU engine: NEST's spikes everywhere.

NEST's ``iaf_psc_delta`` on grid is the reference semantics of ``IF_curr_delta``
(``pynn:nest`` runs it through PyNN's ``IF_curr_delta``), so the ``brian2`` target must give
NEST's spike trains step for step, for every seed; the ``brian2`` lowering is itself held to
a hand-written Brian2 model (tests/targets/test_brian2_system.py). pyNN.brian2 integrates
delta synapses differently (the input after the threshold check, a strict threshold), so
``pynn:brian2`` refuses the network before running, with the reason.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from _scenarios import CPU_ENGINES, on_targets, require

from spikemem import (
    AllToAll,
    FixedProbability,
    FromList,
    IF_curr_delta,
    Network,
    OneToOne,
    Poisson,
    Population,
    Probe,
    Projection,
    Results,
    SpikeSource,
    Static,
    UnsupportedFeature,
    simulate,
)

DT = 0.1
DURATION_MS = 200.0
CELLS = ("relay", "exc", "inh")


def delta_network() -> Network:
    """Delta-synapse cells with refractory periods (a subthreshold offset current on ``exc``),
    delays of 1 to 30 steps, one-to-one, all-to-all, fixed-probability and from-list
    connectors, Poisson and spike-time sources, excitatory and inhibitory projections,
    recurrent excitation and inhibition."""
    rng = np.random.default_rng(11)
    times = SpikeSource("times", [np.sort(rng.uniform(2.0, DURATION_MS, 10)).round(1) for _ in range(8)])
    noise = Population("noise", 20, Poisson(rate_hz=150.0, start_ms=1.0))  # NEST: nothing at t = 0 off rest
    relay = IF_curr_delta(tau_m=5.0, tau_refrac=1.0)
    exc = IF_curr_delta(tau_m=20.0, tau_refrac=2.0, i_offset=0.5, v_reset=-70.0)  # offset alone: 10 of 15 mV
    inh = IF_curr_delta(cm=0.5, tau_m=10.0, tau_refrac=1.0, v_rest=-60.0, v_reset=-62.0, v_thresh=-52.0)
    rows = np.column_stack([rng.integers(0, 8, 40), rng.integers(0, 40, 40), rng.uniform(3.0, 9.0, 40)])
    rows = np.column_stack([rows, rng.choice([0.1, 0.4, 1.0, 3.0], 40)])
    pairs = np.unique(rows[:, :2], axis=0, return_index=True)[1]  # one synapse per (pre, post): PyNN's rule
    projections = [
        Projection("times_relay", "times", "relay", OneToOne(), Static(16.0, 0.2)),
        Projection("relay_exc", "relay", "exc", AllToAll(), Static(1.5, 1.5)),
        Projection("times_exc", "times", "exc", FromList(rows[np.sort(pairs)]), Static(1.0, 1.0)),
        Projection("noise_exc", "noise", "exc", FixedProbability(0.2), Static(2.5, 1.0)),
        Projection("exc_exc", "exc", "exc", FixedProbability(0.1, seed=4), Static(1.0, 2.0)),
        Projection("exc_inh", "exc", "inh", AllToAll(), Static(0.8, 0.5)),
        Projection("inh_exc", "inh", "exc", FixedProbability(0.5, seed=3), Static(3.0, 0.3), "inhibitory"),
        Projection("inh_inh", "inh", "inh", AllToAll(allow_self_connections=False), Static(0.5, 1.0), "inhibitory"),
    ]
    pops = [
        times,
        noise,
        Population("relay", 8, relay),
        Population("exc", 40, exc, initial_v=rng.uniform(-65.0, -55.0, 40)),
        Population("inh", 10, inh),
    ]
    return Network(pops, projections, [Probe(p) for p in ("noise", *CELLS)], dt=DT, name="delta_scenario")


def spike_steps(res: Results, pop: str) -> list[tuple[int, int]]:
    st = res.spikes[pop]
    return sorted(zip(st.steps(DT).tolist(), st.indices.tolist()))


@functools.cache
def nest_reference(seed: int) -> Results:
    require("pynn:nest")
    return simulate(delta_network(), DURATION_MS, target="pynn:nest", seed=seed)


#: The engines held to NEST: the CPU engines that run IF_curr_delta (the norse target in
#: float64 among them), and Brian2's C++ standalone.
HELD_TO_NEST = (*(t for t in CPU_ENGINES if t.startswith("brian2")), "norse", "brian2:cpp_standalone")


@pytest.mark.parametrize("seed", [1, 2])
@on_targets(*HELD_TO_NEST)
def test_delta_network_gives_NESTs_spikes(target, seed):
    """Every population, every spike in the same step as on NEST; a busy network (recurrent,
    so one spike moved by a step would move others)."""
    require(target)
    ref = nest_reference(seed)
    res = simulate(delta_network(), DURATION_MS, target=target, seed=seed)
    counts = {pop: len(ref.spikes[pop]) for pop in CELLS}
    assert counts["relay"] > 60 and counts["exc"] > 300 and counts["inh"] > 150, counts
    for pop in ("noise", *CELLS):
        assert spike_steps(res, pop) == spike_steps(ref, pop), pop


@on_targets(*(t for t in CPU_ENGINES if t != "pynn:brian2"), "norse")
def test_same_seed_same_spikes_other_seed_other_spikes(target):
    """Seed 1 twice: identical spike trains; seed 2: other Poisson input and connectivity, so
    the comparison above is made over two different runs."""
    require(target)
    first, again, other = (simulate(delta_network(), DURATION_MS, target=target, seed=s) for s in (1, 1, 2))
    for pop in ("noise", *CELLS):
        assert spike_steps(first, pop) == spike_steps(again, pop), pop
    assert spike_steps(first, "noise") != spike_steps(other, "noise")
    assert spike_steps(first, "exc") != spike_steps(other, "exc")


@on_targets("pynn:brian2")
def test_pyNN_brian2_refuses_delta_cells_before_running(target):
    require(target)
    with pytest.raises(UnsupportedFeature, match="after the step's threshold check.*v > v_thresh"):
        simulate(delta_network(), DURATION_MS, target=target, seed=1)
