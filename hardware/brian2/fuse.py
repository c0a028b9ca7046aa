"""Fewer Brian2 objects: merged spike sources, fused synapses.

Every Brian2 object costs time at every step, however little it does; in a memory
circuit driven by many small spike-source populations, or in a network of a few
populations of equal cells, that fixed cost dominates. The lowering therefore

* puts every unrecorded spike source whose projections are all *simple* into one
  ``SpikeGeneratorGroup`` (sources one after the other), and
* fuses all simple projections into one ``Synapses`` object per (source group, target
  group, what a spike does, Brian2 delay): an excitatory or inhibitory current step of
  the synapse's weight (with the receptor's scaling, :func:`.synapses.syn_scale`; at a
  delta cell a jump of its membrane), or a plasticity gate opening for ``window_ms``.
  Groups are the whole Brian2 groups (populations of equal cells share one), so e.g. the
  CUBA network's four projections become two objects, one per sign.

A projection is simple when its synapse is ``Static`` or ``Gate``, it has no device
model and no weight probe, and it is not a large rule-based connection (those stay rules,
generated on the device in standalone mode, instead of index arrays, or become
spike-counting pools, :mod:`.pools`). Each fused synapse
keeps its own weight, delay and indices, so the spikes are those of one object per
projection; only the order in which same-step inputs are summed can differ, by rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikemem.network import Network, Population, Projection
from spikemem.synapses import Gate, Static

from .synapses import by_rule, deliver

#: above this many synapses a rule-based projection keeps its own object and its rule.
MAX_FUSED = 200_000


@dataclass
class Fused:
    """Synapses of several projections sharing a target group, an action and a delay."""

    action: str  # Brian2 on_pre code
    delay_ms: float
    source: Any
    target: Any
    i: list[np.ndarray] = field(default_factory=list)
    j: list[np.ndarray] = field(default_factory=list)
    w: list[np.ndarray] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def simple(network: Network, proj: Projection, probed: set[str], seed: int) -> bool:
    """Whether a projection can join a fused object (module docstring)."""
    pre, post = network.population(proj.pre).size, network.population(proj.post).size
    return (
        isinstance(proj.synapse, (Static, Gate))
        and proj.device is None
        and proj.name not in probed
        and (not by_rule(proj.connector) or proj.connector.count(pre, post, seed) <= MAX_FUSED)
    )


def mergeable_sources(network: Network, probed: set[str], seed: int) -> list[Population]:
    """Unrecorded sources all of whose projections are simple (worth merging when there
    are two or more)."""
    recorded = {probe.target for probe in network.probes}
    out = []
    for pop in network.populations:
        if (
            pop.is_source
            and pop.name not in recorded
            and all(simple(network, p, probed, seed) for p in network.projections if p.pre == pop.name)
        ):
            out.append(pop)
    return out if len(out) > 1 else []


def action(network: Network, proj: Projection, dt: float) -> str:
    """The on_pre code of a simple projection, in terms of its synapse's ``w``."""
    if isinstance(proj.synapse, Gate):
        return f"gate_until_post = t + {proj.synapse.window_ms!r}*ms"
    return deliver(network.population(proj.post).cell, proj.receptor, dt)


def add(
    fused: dict[tuple[Any, ...], Fused],
    source: Any,
    target: Any,
    code: str,
    conns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    name: str,
) -> None:
    """File a projection's synapses ``(i, j, w, Brian2 delay)``, indices already offset
    into the whole groups, under (source group, target group, action, delay)."""
    i, j, w, delays = conns
    for d in np.unique(delays):
        sel = delays == d
        key = (id(source), id(target), code, round(float(d), 9))
        entry = fused.setdefault(key, Fused(code, float(d), source, target))
        entry.i.append(i[sel])
        entry.j.append(j[sel])
        entry.w.append(w[sel])
        entry.names.append(name)
