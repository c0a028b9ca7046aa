r"""Gated writes on PyNN simulators, carried out by the host between time steps.

PyNN's plasticity rules have no third factor, so the ``pynn`` targets run a
:class:`~spikemem.synapses.GatedWrite` projection as a static projection whose weights
the host rewrites while the simulation is paused (host-in-the-loop learning):

* Gate (modulatory) projections are not sent to the simulator. Their drivers must be
  spike sources, so every gate's open interval is known before the run:
  neuron :math:`k` is open at :math:`x` iff :math:`s + d \le x < s + d + T` for a spike
  :math:`s` of a source connected to it by a Gate of delay :math:`d` and window :math:`T`.
* The run pauses after every step :math:`t` in which a trigger neuron could write (its
  gate is open at the write time: :math:`t + d_{syn}` for ``trigger="pre"``, :math:`t`
  for ``"post"``), reads which trigger neurons spiked in that step, and sets each of
  their synapses to ``w_max`` where the other end is open at the write time, else
  ``w_min`` (``Projection.set``).
* A pre spike is delivered ``d_syn >= dt`` after its step, so it carries the weight
  just written, as the Brian2 lowering does; a post-triggered write applies from the
  next step on.

The same semantics as the Brian2 targets, exactly, for any GatedWrite whose gates
are driven by spike sources; the cost is one pause per step of every open window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikemem.network import Network, Projection
from spikemem.synapses import Gate, GatedWrite

_EPS = 1e-9


@dataclass
class GateWindows:
    """Open intervals ``[lo, hi)`` (ms) of the plasticity gates of one population."""

    size: int
    neuron: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    def open_at(self, x: float) -> np.ndarray:
        """Which neurons have their gate open at time ``x``."""
        hit = (self.lo <= x + _EPS) & (x < self.hi - _EPS)
        out = np.zeros(self.size, dtype=bool)
        out[self.neuron[hit]] = True
        return out


@dataclass
class HostWrite:
    """One GatedWrite projection and the host's copy of its weights (pre × post, NaN: no synapse)."""

    projection: Projection
    trigger: str
    trigger_pop: str
    other_pop: str
    write_lag_ms: float
    w_min: float
    w_max: float
    weights: np.ndarray

    def write(self, spiked: np.ndarray, t_ms: float, gates: dict[str, GateWindows]) -> bool:
        """Apply the writes of the trigger neurons that spiked in the step at ``t_ms``;
        whether any weight was written."""
        x = t_ms + self.write_lag_ms
        writers = spiked & gates[self.trigger_pop].open_at(x)
        if not writers.any():
            return False
        tags = gates[self.other_pop].open_at(x)
        by_trigger = self.weights if self.trigger == "pre" else self.weights.T  # a view: rows = trigger neurons
        block = by_trigger[writers]
        by_trigger[writers] = np.where(np.isnan(block), np.nan, np.where(tags, self.w_max, self.w_min))
        return True


@dataclass
class HostWrites:
    """Everything the host does for a network's GatedWrite projections."""

    gates: dict[str, GateWindows] = field(default_factory=dict)
    writes: list[HostWrite] = field(default_factory=list)
    #: steps (index of the step, time = step * dt) after which the run pauses to write
    steps: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def trigger_populations(self) -> set[str]:
        return {w.trigger_pop for w in self.writes}


def ends(proj: Projection) -> tuple[str, str]:
    """A GatedWrite projection's (trigger population, tagged population)."""
    assert isinstance(proj.synapse, GatedWrite)
    return (proj.pre, proj.post) if proj.synapse.trigger == "pre" else (proj.post, proj.pre)


def unsupported(network: Network) -> tuple[str, str] | None:
    """Why the host cannot carry out this network's gates, as (feature, reason), or None."""
    pops = {p.name: p for p in network.populations}
    for proj in network.projections:
        if isinstance(proj.synapse, Gate) and not pops[proj.pre].is_source:
            return (
                f"the plasticity gate {proj.name!r} driven by the cells of {proj.pre!r}",
                "PyNN targets carry out gated writes on the host, which needs gate times known before the run "
                "(gates driven by spike sources)",
            )
    return None


def plan(network: Network, duration_ms: float, source_times: Any) -> HostWrites:
    """Gate windows, host weight copies and pause steps; ``source_times(pop)`` gives a
    source population's spike times per neuron (on the time grid)."""
    host = HostWrites()
    dt = network.dt
    parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for proj in network.projections:
        if not isinstance(proj.synapse, Gate):
            continue
        trains = source_times(network.population(proj.pre))
        conns = network.connections(proj)
        for i, j in zip(conns.i, conns.j):
            s = np.asarray(trains[int(i)], dtype=float) + proj.synapse.delay
            parts.setdefault(proj.post, []).append((np.full(len(s), int(j)), s, s + proj.synapse.window_ms))
    for name, chunks in parts.items():
        size = network.population(name).size
        neuron, lo, hi = (np.concatenate([c[k] for c in chunks]) for k in range(3))
        host.gates[name] = GateWindows(size, neuron.astype(np.int64), lo, hi)
    steps: set[int] = set()
    n_steps = int(round(duration_ms / dt))
    for proj in network.projections:
        syn = proj.synapse
        if not isinstance(syn, GatedWrite):
            continue
        conns = network.connections(proj)
        matrix = np.full((network.population(proj.pre).size, network.population(proj.post).size), np.nan)
        matrix[conns.i, conns.j] = conns.weight
        trigger_pop, other_pop = ends(proj)
        lag = syn.delay if syn.trigger == "pre" else 0.0
        host.writes.append(HostWrite(proj, syn.trigger, trigger_pop, other_pop, lag, syn.w_min, syn.w_max, matrix))
        win = host.gates[trigger_pop]
        for lo, hi in zip(win.lo - lag, win.hi - lag):
            first = max(0, int(np.ceil(lo / dt - _EPS)))
            last = min(n_steps - 1, int(np.ceil(hi / dt - _EPS)) - 1)
            steps.update(range(first, last + 1))
    host.steps = np.array(sorted(steps), dtype=np.int64)
    return host
