"""Many independent copies of one network in a single run, and their results apart again.

``stack(networks)`` lays structurally identical networks side by side. Population ``P``
of size ``n`` becomes one population of size ``B·n`` (copy ``c`` owns neurons
``c·n … c·n + n - 1``), and every projection connects block-diagonally through
:class:`~spikemem.connectors.Blocks`, so copies never exchange a spike:

.. math::

    W_{\\text{stacked}} = \\operatorname{diag}(W, W, \\dots, W) \\quad (B \\text{ blocks})

Spike-time sources may differ between copies (one stimulus per trial), which turns a
stress test of ``B`` random streams into one launch. ``split(results, copies)`` cuts the
Results back into one per copy, with the copy's own neuron and synapse numbering.

A Poisson source is one population of ``B·n`` neurons in the stacked network, so its
copies draw different trains (not the trains each network would draw alone).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .connectors import Blocks
from .currents import Injection
from .errors import ValidationError
from .network import Network, Population, Probe, Projection
from .results import Results, SpikeTrains, Trace
from .sources import SpikeTimes


def stack(networks: Sequence[Network], name: str | None = None) -> Network:
    """One network holding every network of ``networks`` as an independent block.

    The networks must have the same populations (names, sizes, cells), projections,
    probes and current sources, and the same ``dt``; spike-time sources and initial potentials may differ.
    """
    nets = list(networks)
    if not nets or not all(isinstance(n, Network) for n in nets):
        raise ValidationError("networks", networks, "a non-empty sequence of Networks")
    first, copies = nets[0], len(nets)
    for k, net in enumerate(nets[1:], start=1):
        _same_structure(first, net, k)
    pops = [_stack_population([n.populations[p] for n in nets]) for p in range(len(first.populations))]
    projs = [_stack_projection(proj, copies) for proj in first.projections]
    probes = [Probe(p.target, p.variable, p.every_ms) for p in first.probes]
    sizes = {p.name: p.size for p in first.populations}
    currents = [_stack_injection(inj, sizes[inj.target], copies) for inj in first.currents]
    return Network(pops, projs, probes, dt=first.dt, name=name or f"{first.name}_x{copies}", currents=currents)


def replicate(network: Network, copies: int) -> Network:
    """``copies`` identical copies of ``network`` side by side (see :func:`stack`)."""
    if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or copies < 1:
        raise ValidationError("copies", copies, "an integer >= 1")
    return stack([network] * int(copies))


def split(results: Results, copies: int | Sequence[Network]) -> list[Results]:
    """The Results of a stacked run, one per copy, numbered as in the copy itself.

    ``copies`` is the number of copies, or the networks that were stacked (then each
    Results carries its own network).
    """
    nets = None if isinstance(copies, (int, np.integer)) else list(copies)
    count = len(nets) if nets is not None else int(copies)
    network = results.network
    if network is None:
        raise ValidationError("results.network", None, "the Results of a stacked network (network attached)")
    if count < 1 or any(p.size % count for p in network.populations):
        raise ValidationError("copies", copies, "the number of copies the network was stacked from")
    sizes = {p.name: p.size // count for p in network.populations}
    out = []
    for c in range(count):
        part = Results(
            spikes={},
            provenance={**results.provenance, "copy": c, "copies": count},
            network=nets[c] if nets is not None else None,
        )
        for pop, st in results.spikes.items():
            n = sizes[pop]
            keep = st.indices // n == c
            part.spikes[pop] = SpikeTrains(n, st.times[keep], st.indices[keep] - c * n)
        for key, tr in results.traces.items():
            n = sizes[key.rsplit(".", 1)[0]]
            part.traces[key] = Trace(tr.times, tr.values[:, c * n : (c + 1) * n].copy(), tr.unit)
        for proj_name, tr in results.weights.items():
            proj = network.projection(proj_name)
            a, b = sizes[proj.pre], sizes[proj.post]
            i, j = results.synapses[proj_name]
            keep = i // a == c
            part.weights[proj_name] = Trace(tr.times, tr.values[:, keep].copy(), tr.unit)
            part.synapses[proj_name] = (i[keep] - c * a, j[keep] - c * b)
        out.append(part)
    return out


def _same_structure(first: Network, other: Network, k: int) -> None:
    field = f"networks[{k}]"
    if other.dt != first.dt:
        raise ValidationError(f"{field}.dt", other.dt, f"the same time step as networks[0] ({first.dt} ms)")
    shape = [(p.name, p.size, type(p.cell).__name__) for p in first.populations]
    if [(p.name, p.size, type(p.cell).__name__) for p in other.populations] != shape:
        raise ValidationError(f"{field}.populations", [p.name for p in other.populations], "the same as networks[0]")
    for a, b in zip(first.populations, other.populations):
        if not isinstance(a.cell, SpikeTimes) and a.cell != b.cell:
            raise ValidationError(f"{field}.population {b.name!r}.cell", b.cell, "the cell of networks[0]")
    if other.projections != first.projections:
        raise ValidationError(f"{field}.projections", [p.name for p in other.projections], "those of networks[0]")
    if other.probes != first.probes:
        raise ValidationError(f"{field}.probes", [p.target for p in other.probes], "those of networks[0]")
    if other.currents != first.currents:
        raise ValidationError(f"{field}.currents", [c.name for c in other.currents], "those of networks[0]")


def _stack_population(pops: list[Population]) -> Population:
    first = pops[0]
    if isinstance(first.cell, SpikeTimes):
        cell = SpikeTimes([train for pop in pops for train in pop.cell.spike_times])
    else:
        cell = first.cell
    initial = None
    if any(p.initial_v is not None for p in pops):
        initial = np.concatenate(
            [p.initial_v if p.initial_v is not None else np.full(p.size, p.cell.initial_v) for p in pops]
        )
    return Population(first.name, first.size * len(pops), cell, initial_v=initial)


def _stack_injection(injection: Injection, size: int, copies: int) -> Injection:
    """The injection reaching the same neurons of every copy (a population of ``size`` per copy)."""
    idx = injection.indices(size)
    return injection.replace(neurons=np.concatenate([idx + c * size for c in range(copies)]))


def _stack_projection(proj: Projection, copies: int) -> Projection:
    conn = proj.connector
    blocks = Blocks(conn.inner, conn.copies * copies) if isinstance(conn, Blocks) else Blocks(conn, copies)
    return proj.replace(connector=blocks)  # synapse, receptor and device model kept
