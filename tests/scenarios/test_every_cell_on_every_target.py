"""Every cell of the description in one network, on every target that runs it.

The current-based cells (``IF_curr_exp``, ``IF_curr_delta``) are integrated exactly by the
``brian2`` and ``norse`` targets and by NEST, so their network gives one set of spike trains
on all three, step for step. ``IF_cond_exp`` is integrated numerically: the ``brian2`` and
``norse`` targets take the same exponential-Euler step and agree spike for spike; NEST
integrates it with an adaptive Runge–Kutta method, so a network with conductance-based cells
agrees with NEST only approximately and is not held to it here.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from _scenarios import on_targets, require

from spikemem import (
    AllToAll,
    FixedProbability,
    FromList,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Network,
    OneToOne,
    Poisson,
    Population,
    Probe,
    Projection,
    Results,
    SpikeSource,
    Static,
    simulate,
)

DT, DURATION_MS = 0.1, 150.0


def current_based() -> tuple[list[Population], list[Projection]]:
    """Exponential-current and delta cells driven by spike times and Poisson noise; delays of
    1 to 25 steps, every connector, both receptors, recurrence between the two cell types."""
    rng = np.random.default_rng(5)
    times = SpikeSource("times", [np.sort(rng.uniform(1.0, DURATION_MS, 12)).round(1) for _ in range(10)])
    noise = Population("noise", 12, Poisson(rate_hz=120.0, start_ms=1.0))
    curr = IF_curr_exp(cm=0.5, tau_m=10.0, tau_refrac=2.0, tau_syn_E=2.0, tau_syn_I=4.0, v_thresh=-55.0)
    delta = IF_curr_delta(tau_m=15.0, tau_refrac=1.0, v_thresh=-57.0, i_offset=0.3)
    pairs = rng.permutation(10 * 16)[:40]
    rows = np.column_stack([pairs // 16, pairs % 16, rng.uniform(0.4, 1.6, 40), rng.choice([0.1, 0.5, 1.2, 2.5], 40)])
    pops = [
        times,
        noise,
        Population("curr", 16, curr, initial_v=rng.uniform(-65.0, -56.0, 16)),
        Population("delta", 10, delta),
    ]
    projections = [
        Projection("times_curr", "times", "curr", FromList(rows), Static(1.0, 1.0)),
        Projection("noise_curr", "noise", "curr", FixedProbability(0.5, seed=1), Static(0.7, 0.5)),
        Projection("times_delta", "times", "delta", OneToOne(), Static(9.0, 0.3)),
        Projection("curr_delta", "curr", "delta", AllToAll(), Static(1.2, 1.5)),
        Projection("delta_curr", "delta", "curr", FixedProbability(0.4, seed=2), Static(0.8, 2.0), "inhibitory"),
        Projection(
            "delta_delta", "delta", "delta", AllToAll(allow_self_connections=False), Static(0.6, 1.0), "inhibitory"
        ),
    ]
    return pops, projections


def current_network() -> Network:
    pops, projections = current_based()
    return Network(pops, projections, [Probe(p) for p in ("noise", "curr", "delta")], dt=DT, name="current_cells")


def conductance_network() -> Network:
    """The current-based network and a population of conductance-based cells in its loop."""
    pops, projections = current_based()
    cond = IF_cond_exp(cm=0.5, tau_m=12.0, tau_refrac=1.5, tau_syn_E=3.0, tau_syn_I=6.0, v_thresh=-55.0, i_offset=0.1)
    pops.append(Population("cond", 8, cond))
    projections += [
        Projection("curr_cond", "curr", "cond", AllToAll(), Static(0.02, 1.0)),
        Projection("noise_cond", "noise", "cond", FixedProbability(0.6, seed=3), Static(0.015, 0.5)),
        Projection("cond_delta", "cond", "delta", AllToAll(), Static(2.0, 1.0), "inhibitory"),
    ]
    probes = [Probe(p) for p in ("noise", "curr", "delta", "cond")]
    return Network(pops, projections, probes, dt=DT, name="every_cell")


def steps(res: Results, pop: str) -> list[tuple[int, int]]:
    st = res.spikes[pop]
    return sorted(zip(st.steps(DT).tolist(), st.indices.tolist()))


@functools.cache
def on_brian2(which: str, seed: int) -> Results:
    network = current_network() if which == "current" else conductance_network()
    return simulate(network, DURATION_MS, target="brian2:numpy", seed=seed)


@pytest.mark.parametrize("seed", [1, 2])
@on_targets("norse", "pynn:nest")
def test_current_based_cells_give_brian2s_spikes(target, seed):
    require(target)
    ref = on_brian2("current", seed)
    res = simulate(current_network(), DURATION_MS, target=target, seed=seed)
    assert len(ref.spikes["curr"]) > 40 and len(ref.spikes["delta"]) > 40
    for pop in ("noise", "curr", "delta"):
        assert steps(res, pop) == steps(ref, pop), pop


@on_targets("norse")
def test_conductance_based_cells_give_brian2s_spikes(target):
    require(target)
    ref = on_brian2("conductance", 1)
    res = simulate(conductance_network(), DURATION_MS, target=target, seed=1)
    assert len(ref.spikes["cond"]) > 20
    for pop in ("noise", "curr", "delta", "cond"):
        assert steps(res, pop) == steps(ref, pop), pop
