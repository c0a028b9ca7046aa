"""Running: each time a script's clock advances, its network is lowered and simulated.

spikemem's targets simulate a whole network from ``t = 0``; a PyNN segment that is run in
several steps (``run(50); run(50)``) is simulated again from 0 up to the new time at each
step, which gives the same spikes as one longer run. The network must not change between
the steps of one segment (``reset()`` starts a new one), since its history would change too:
that is refused.

PyNN's conventions for what a run of ``T`` ms records (as pyNN.nest does): spikes at times
``<= T`` and ``v`` at ``0, dt, ..., T`` (``T/dt + 1`` samples). sPyNNaker's dialect records
steps ``0 ... T - dt`` (spikes ``< T``, ``T/dt`` samples), as SpiNNaker does. Both simulate one
step more than ``T`` (so the state at ``T`` is known) and the recorder keeps what falls within.

Learned STDP weights (``Projection.get("weight")`` after a run) are the weights at ``T``: the
first time a script asks, the segment is simulated again with the projection's weights
recorded (the same seed gives the same spikes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UnsupportedFeature
from ..simulate import simulate
from .lowering import lower

FRONT_END = "spikemem.pynn"


def advance(state: Any, tstop: float) -> None:
    """Simulate the state's network up to ``tstop`` (ms) on its target; keep the results."""
    if tstop <= state.t + 1e-12 and state.results is not None:
        return
    lowered = lower(state)
    if state.lowered is not None and state.t > 0 and lowered.network.digest() != state.lowered.network.digest():
        raise UnsupportedFeature(
            FRONT_END,
            "changing the network, its parameters or what is recorded between run() calls of one segment",
            "spikemem simulates each segment from t = 0; call reset() before changing it",
        )
    _simulate(state, lowered, tstop)


def _simulate(state: Any, lowered: Any, tstop: float) -> None:
    state.lowered = lowered
    if tstop <= 0:
        state.results = None
        return
    duration = tstop + lowered.network.dt
    state.results = simulate(lowered.network, duration, target=state.target, seed=state.seed, **state.options)


def learned_weights(state: Any, projection: Any) -> dict[tuple[int, int], float]:
    """The weights of a plastic projection at the current time, by (pre, post) index of the lowered
    populations (module docstring)."""
    if projection not in state.weighed or state.results is None:
        state.weighed.add(projection)
        _simulate(state, lower(state), state.t)
    name = state.lowered.projections[projection]
    trace = state.results.weights[name]
    k = int(np.argmin(np.abs(trace.times - state.t)))
    i, j = state.results.synapses[name]
    return {(int(a), int(b)): float(w) for a, b, w in zip(i, j, trace.values[k], strict=True)}
