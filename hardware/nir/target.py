"""The ``nir`` target: export to, and import from, the Neuromorphic Intermediate Representation.

NIR (nir 1.0.8) describes a network as a graph of continuous-time nodes; time is in
seconds and a spike train ``S`` is a sum of Dirac impulses. spikemem maps:

=====================  ========================================================
spikemem               NIR
=====================  ========================================================
``IF_curr_exp`` cells  ``CubaLIF``:
                       :math:`\\tau_{syn}\\dot I = -I + w_{in} S`,
                       :math:`\\tau_{mem}\\dot v = (v_{leak} - v) + R I`;
                       ``tau_mem = tau_m/1000``, ``R = tau_m/cm`` (MΩ: R·nA = mV),
                       ``v_leak = v_rest + R i_offset``, ``tau_syn = tau_syn_E/1000``
                       (= ``tau_syn_I`` when both receptors are used), ``w_in = 1``,
                       ``v_threshold``, ``v_reset`` as they are (an unused
                       receptor's time constant goes to metadata)
``IF_curr_delta``      ``LIF``: :math:`\\tau\\dot v = (v_{leak} - v) + R I`;
cells                  ``tau = tau_m/1000``, ``R = tau_m/cm``,
                       ``v_leak = v_rest + R i_offset``, ``v_threshold``, ``v_reset``
a projection           ``Linear`` with ``weight[j, i] = ±w · tau_syn`` (a Dirac impulse of
                       area ``W`` moves ``I`` by ``W / tau_syn`` = ``w`` nA; inhibitory
                       weights negative) onto a CubaLIF, ``±w · tau / R`` onto a LIF (it
                       moves ``v`` by ``R W / tau`` = ``w`` mV), followed by ``Delay``
                       (seconds, one value per post neuron); one Linear + Delay pair per
                       distinct delay
a source population    ``Input``; its spike times (or Poisson parameters) in metadata
a spike probe          ``Output``
=====================  ========================================================

Time constants are ``tau_ms / 1000`` seconds — not ``dt / tau`` (the factor-dt error of
one library's NIR export, stack.md P10). Files are written with ``compression=None``
(NIR cannot gzip 0-d values) and read with ``type_check=False`` (P10).

What NIR cannot express is refused with the reason (:class:`UnsupportedFeature`):
conductance-based cells, current sources (NIR has no such node), the ``spinnaker``
integration (NIR is continuous-time), two different synaptic time constants on one cell, Tsodyks-Markram synapses (no
short-term plasticity node), plastic projections (NIR has no
plasticity: pass ``freeze_plasticity=True`` to export them as static synapses with
their current weights — the network's, or ``weights`` you give, e.g. the last sample of
a weight probe), a refractory period and initial potentials other than ``v_rest`` (NIR's
LIF and CubaLIF have neither: ``strict=False`` exports them anyway, recorded in node metadata that
spikemem reads back and other NIR tools ignore). Zero-weight synapses vanish in NIR's
dense matrices; synapses of one (pre, post, delay) are summed. NIR's neurons fire at
``v > v_threshold``, spikemem's at ``v >= v_thresh``: the two differ only when ``v``
lands exactly on the threshold, which delta synapses of whole-mV weights can make it do.

:func:`from_nir` imports a graph of ``Input``/``CubaLIF``/``LIF``/``Linear``/``Affine``
(zero bias)/``Delay``/``Output`` nodes into a Network (a ``LIF`` becomes ``IF_curr_delta``
cells); a NIR connection without a Delay node gets the minimal delay of one time step.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from spikemem.cells import IF_cond_exp, IF_curr_delta, IF_curr_exp
from spikemem.connectors import FromList
from spikemem.errors import UnsupportedFeature, ValidationError, grouped
from spikemem.network import Network, Population, Probe, Projection
from spikemem.outputs import replacing
from spikemem.sources import Poisson, SpikeTimes
from spikemem.synapses import Static
from spikemem.targets import TargetInfo

from ..pynn.checks import brian2_only_features, tsodyks_markram_features

TARGET = TargetInfo(
    name="nir",
    description="Neuromorphic Intermediate Representation: export to / import from NIR HDF5 graphs",
    requires=("nir",),
    install_hint="pip install 'spikemem[nir]'",
    features=frozenset({"IF_curr_exp", "IF_curr_delta", "integration=exact", "Poisson", "FromList", "export"}),
    export_options=("freeze_plasticity", "weights", "strict", "seed"),
)

MS = 1e-3  # NIR time is in seconds


# --- export ---------------------------------------------------------------------------------


def _refuse(feature: str, reason: str) -> UnsupportedFeature:
    return UnsupportedFeature("nir", feature, reason)


def inexpressible(network: Network, freeze_plasticity: bool = False, strict: bool = True) -> list[str]:
    """What NIR cannot express in ``network``: one sentence per set of populations or
    projections, each reason said once (empty: NIR can express all of it)."""
    found: list[tuple[str, str]] = []  # (population or projection, reason)

    def add(subject: str, reason: str) -> None:
        found.append((subject, reason))

    for feature, _ in brian2_only_features(network):
        add(feature, "NIR has no such node")
    for feature, _ in tsodyks_markram_features(network):
        add(feature, "NIR has no short-term plasticity (Tsodyks-Markram) node")
    for injection in network.currents:
        add(f"current source {injection.name!r}", "NIR has no current-source node (a bias is constant in time)")
    receptors: dict[str, set[str]] = defaultdict(set)
    for proj in network.projections:
        receptors[proj.post].add(proj.receptor)
        if proj.synapse.plastic and not freeze_plasticity:
            add(
                f"projection {proj.name!r} ({type(proj.synapse).__name__})",
                "plastic, and NIR has no plasticity: pass freeze_plasticity=True to export the current weights "
                "as static synapses",
            )
    for pop in network.populations:
        cell = pop.cell
        if pop.is_source:
            continue
        subject = f"population {pop.name!r}"
        if isinstance(cell, IF_cond_exp):
            add(subject, "NIR has no conductance-based neuron (IF_cond_exp)")
            continue
        node = "LIF" if isinstance(cell, IF_curr_delta) else "CubaLIF"
        if isinstance(cell, IF_curr_exp):
            if cell.integration != "exact":
                add(subject, f"NIR nodes are continuous-time, integration {cell.integration!r} is not")
            if receptors[pop.name] == {"excitatory", "inhibitory"} and cell.tau_syn_E != cell.tau_syn_I:
                add(
                    subject,
                    f"NIR's CubaLIF has one synaptic current, the cell two (tau_syn_E {cell.tau_syn_E:g} ms, "
                    f"tau_syn_I {cell.tau_syn_I:g} ms)",
                )
        if strict and cell.tau_refrac > 0:
            add(
                subject,
                f"NIR's {node} has no refractory period (tau_refrac {cell.tau_refrac:g} ms; strict=False keeps it "
                "in node metadata, which only spikemem reads)",
            )
        v0 = pop.initial_v if pop.initial_v is not None else np.array([cell.initial_v])
        if strict and np.any(v0 != cell.v_rest):
            add(
                subject,
                "NIR has no initial state, and the initial v differs from v_rest (strict=False keeps it in node "
                "metadata)",
            )
    return grouped(found)


def _tau_syn(network: Network, pop: Population) -> tuple[float, dict[str, float]]:
    """The synaptic time constant NIR carries (ms) and, in metadata, the unused receptor's."""
    cell = pop.cell
    used = {p.receptor for p in network.projections if p.post == pop.name}
    if used == {"inhibitory"}:
        return cell.tau_syn_I, ({"spikemem.tau_syn_E_ms": cell.tau_syn_E} if cell.tau_syn_E != cell.tau_syn_I else {})
    return cell.tau_syn_E, ({"spikemem.tau_syn_I_ms": cell.tau_syn_I} if cell.tau_syn_E != cell.tau_syn_I else {})


def to_nir(
    network: Network,
    freeze_plasticity: bool = False,
    weights: dict[str, np.ndarray] | None = None,
    strict: bool = True,
    seed: int = 0,
) -> Any:
    """The ``nir.NIRGraph`` of ``network`` (see the module docstring for the mapping).

    Raises
    ------
    UnsupportedFeature
        Listing everything NIR cannot express.
    """
    import nir

    problems = inexpressible(network, freeze_plasticity, strict)
    if problems:
        raise _refuse(f"network {network.name!r}", ". ".join(problems))
    weights = dict(weights or {})
    for name, values in weights.items():
        proj = network.projection(name)
        n = len(network.connections(proj, seed))
        if np.shape(values) != (n,):
            raise ValidationError(f"weights[{name!r}]", f"shape {np.shape(values)}", f"one weight per synapse ({n})")
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    area: dict[str, float] = {}  # post population -> NIR weight per unit of spikemem weight
    for pop in network.populations:
        if pop.is_source:
            nodes[pop.name] = nir.Input(np.array([pop.size]), metadata=_source_metadata(pop))
        elif isinstance(pop.cell, IF_curr_delta):
            nodes[pop.name] = _lif(pop)
            area[pop.name] = pop.cell.tau_m * MS / (pop.cell.tau_m / pop.cell.cm)
        else:
            tau_ms, unused = _tau_syn(network, pop)
            area[pop.name] = tau_ms * MS
            nodes[pop.name] = _cuba_lif(pop, area[pop.name], unused)
    for proj in network.projections:
        conns = network.connections(proj, seed)
        w = np.asarray(weights.get(proj.name, conns.weight), dtype=float)
        sign = -1.0 if proj.receptor == "inhibitory" else 1.0
        n_pre, n_post = network.population(proj.pre).size, network.population(proj.post).size
        delays = np.unique(conns.delay)
        for k, d in enumerate(delays):
            sel = conns.delay == d
            matrix = np.zeros((n_post, n_pre))
            np.add.at(matrix, (conns.j[sel], conns.i[sel]), sign * w[sel] * area[proj.post])
            base = proj.name if len(delays) == 1 else f"{proj.name}__d{k}"
            meta = {"spikemem.projection": proj.name, "spikemem.receptor": proj.receptor}
            nodes[base] = nir.Linear(weight=matrix, metadata=meta)
            nodes[f"{base}__delay"] = nir.Delay(delay=np.full(n_post, d * MS))
            edges += [(proj.pre, base), (base, f"{base}__delay"), (f"{base}__delay", proj.post)]
    for probe in network.probes:
        if probe.variable == "spikes":
            out = f"{probe.target}__output"
            nodes[out] = nir.Output(np.array([network.population(probe.target).size]))
            edges.append((probe.target, out))
    probes = [[p.target, p.variable, p.every_ms] for p in network.probes]
    meta = {"spikemem.name": network.name, "spikemem.dt_ms": float(network.dt), "spikemem.probes": json.dumps(probes)}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta, type_check=False)


def _cell_metadata(pop: Population) -> dict[str, Any]:
    """What NIR's neurons lack and spikemem reads back: offset current, refractory period, initial v."""
    cell = pop.cell
    meta: dict[str, Any] = {"spikemem.i_offset": float(cell.i_offset), "spikemem.tau_refrac_ms": float(cell.tau_refrac)}
    if pop.initial_v is not None:
        meta["spikemem.initial_v"] = np.asarray(pop.initial_v, dtype=float)
    elif cell.v_init is not None:
        meta["spikemem.v_init"] = float(cell.v_init)
    return meta


def _cuba_lif(pop: Population, tau_syn_s: float, unused_tau: dict[str, float]) -> Any:
    import nir

    cell = pop.cell
    n = pop.size
    r = cell.tau_m / cell.cm

    def full(x: float) -> np.ndarray:
        return np.full(n, float(x))

    return nir.CubaLIF(
        tau_syn=full(tau_syn_s),
        tau_mem=full(cell.tau_m * MS),
        r=full(r),
        v_leak=full(cell.v_rest + r * cell.i_offset),
        v_threshold=full(cell.v_thresh),
        v_reset=full(cell.v_reset),
        w_in=full(1.0),
        metadata={**_cell_metadata(pop), **unused_tau},
    )


def _lif(pop: Population) -> Any:
    r"""The ``LIF`` node of ``IF_curr_delta`` cells: :math:`\tau \dot v = (v_{leak} - v) + R I`."""
    import nir

    cell = pop.cell
    r = cell.tau_m / cell.cm

    def full(x: float) -> np.ndarray:
        return np.full(pop.size, float(x))

    return nir.LIF(
        tau=full(cell.tau_m * MS),
        r=full(r),
        v_leak=full(cell.v_rest + r * cell.i_offset),
        v_threshold=full(cell.v_thresh),
        v_reset=full(cell.v_reset),
        metadata=_cell_metadata(pop),
    )


def _source_metadata(pop: Population) -> dict[str, Any]:
    cell = pop.cell
    if isinstance(cell, SpikeTimes):
        lengths = [len(t) for t in cell.spike_times]
        times = np.concatenate([np.asarray(t, dtype=float) for t in cell.spike_times]) if sum(lengths) else np.empty(0)
        return {"spikemem.spike_times_ms": times, "spikemem.spike_counts": np.asarray(lengths, dtype=np.int64)}
    assert isinstance(cell, Poisson)
    meta = {"spikemem.poisson_rate_hz": float(cell.rate_hz), "spikemem.poisson_start_ms": float(cell.start_ms)}
    if cell.stop_ms is not None:
        meta["spikemem.poisson_stop_ms"] = float(cell.stop_ms)
    if cell.seed is not None:
        meta["spikemem.poisson_seed"] = int(cell.seed)
    return meta


def export(
    network: Network,
    out: str | os.PathLike[str],
    freeze_plasticity: bool = False,
    weights: dict[str, np.ndarray] | None = None,
    strict: bool = True,
    seed: int = 0,
) -> Path:
    """Write ``network`` to a NIR HDF5 file (``spikemem export ... --target nir``); return its path."""
    import nir

    graph = to_nir(network, freeze_plasticity=freeze_plasticity, weights=weights, strict=strict, seed=seed)
    with replacing(out) as tmp:
        nir.write(tmp, graph, compression=None)
    return Path(out)


# --- import ---------------------------------------------------------------------------------


def read_network(path: str | os.PathLike[str], dt: float | None = None, name: str | None = None) -> Network:
    """Read a NIR HDF5 file into a Network (see :func:`from_nir`)."""
    import nir

    if not Path(path).is_file():
        raise ValidationError("path", str(path), "an existing NIR file")
    return from_nir(nir.read(path, type_check=False), dt=dt, name=name)


def _meta(node: Any, key: str, default: Any = None) -> Any:
    value = getattr(node, "metadata", {}).get(key, default)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _uniform(node_id: str, field_name: str, values: Any) -> float:
    arr = np.asarray(values, dtype=float).reshape(-1)
    if arr.size and np.any(arr != arr[0]):
        raise _refuse(
            f"node {node_id!r} with per-neuron {field_name}", "a spikemem population shares one cell parameter set"
        )
    return float(arr[0])


def _lif_fields(node_id: str, node: Any, tau_field: str) -> dict[str, Any]:
    """The parameters a NIR ``CubaLIF`` or ``LIF`` node and its spikemem metadata give every
    LIF cell; ``tau_field`` names the node's membrane time constant (seconds)."""
    tau_m = _uniform(node_id, tau_field, getattr(node, tau_field)) / MS
    r = _uniform(node_id, "r", node.r)
    i_offset = float(_meta(node, "spikemem.i_offset", 0.0))
    v_init = _meta(node, "spikemem.v_init")
    return {
        "cm": tau_m / r,
        "tau_m": tau_m,
        "tau_refrac": float(_meta(node, "spikemem.tau_refrac_ms", 0.0)),
        "v_rest": _uniform(node_id, "v_leak", node.v_leak) - r * i_offset,
        "v_reset": _uniform(node_id, "v_reset", node.v_reset),
        "v_thresh": _uniform(node_id, "v_threshold", node.v_threshold),
        "i_offset": i_offset,
        "v_init": None if v_init is None else float(v_init),
    }


def _initial(node: Any) -> np.ndarray | None:
    initial = _meta(node, "spikemem.initial_v")
    return None if initial is None else np.asarray(initial, dtype=float)


def _cell_from(node_id: str, node: Any) -> tuple[IF_curr_exp, np.ndarray | None]:
    """The ``IF_curr_exp`` cells of a NIR ``CubaLIF`` node (the inverse of :func:`_cuba_lif`)."""
    tau_syn = _uniform(node_id, "tau_syn", node.tau_syn) / MS
    cell = IF_curr_exp(
        **_lif_fields(node_id, node, "tau_mem"),
        tau_syn_E=float(_meta(node, "spikemem.tau_syn_E_ms", tau_syn)),
        tau_syn_I=float(_meta(node, "spikemem.tau_syn_I_ms", tau_syn)),
    )
    return cell, _initial(node)


def _delta_from(node_id: str, node: Any) -> tuple[IF_curr_delta, np.ndarray | None]:
    """The ``IF_curr_delta`` cells of a NIR ``LIF`` node (the inverse of :func:`_lif`)."""
    return IF_curr_delta(**_lif_fields(node_id, node, "tau")), _initial(node)


def _source_from(node_id: str, node: Any) -> Population:
    size = int(np.prod(node.input_type["input"]))
    rate = _meta(node, "spikemem.poisson_rate_hz")
    if rate is not None:
        stop, seed = _meta(node, "spikemem.poisson_stop_ms"), _meta(node, "spikemem.poisson_seed")
        cell = Poisson(rate, float(_meta(node, "spikemem.poisson_start_ms", 0.0)), stop, seed)
        return Population(node_id, size, cell)
    times = np.asarray(_meta(node, "spikemem.spike_times_ms", np.empty(0)), dtype=float)
    counts = np.asarray(_meta(node, "spikemem.spike_counts", np.zeros(size, dtype=np.int64)), dtype=np.int64)
    trains = np.split(times, np.cumsum(counts)[:-1]) if len(counts) else [np.empty(0)] * size
    return Population(node_id, size, SpikeTimes([list(t) for t in trains]))


def from_nir(graph: Any, dt: float | None = None, name: str | None = None) -> Network:
    """Build a Network from a ``nir.NIRGraph`` (the inverse of :func:`to_nir`).

    ``dt`` defaults to the graph's ``spikemem.dt_ms`` metadata, else 0.1 ms. Input nodes
    without spikemem metadata become spike sources without spikes (give them times by
    replacing the population).
    """
    import nir

    dt = float(dt if dt is not None else _meta(graph, "spikemem.dt_ms", 0.1))
    nodes = graph.nodes
    succ: dict[str, list[str]] = defaultdict(list)
    pred: dict[str, list[str]] = defaultdict(list)
    for a, b in graph.edges:
        succ[a].append(b)
        pred[b].append(a)
    populations, kinds = [], {}
    for node_id, node in nodes.items():
        if isinstance(node, nir.Input):
            populations.append(_source_from(node_id, node))
        elif isinstance(node, (nir.CubaLIF, nir.LIF)):
            cell, initial = (_cell_from if isinstance(node, nir.CubaLIF) else _delta_from)(node_id, node)
            populations.append(Population(node_id, int(np.size(node.v_threshold)), cell, initial_v=initial))
        elif isinstance(node, (nir.Linear, nir.Affine, nir.Delay, nir.Output)):
            pass
        else:
            raise _refuse(
                f"NIR node {node_id!r} of type {type(node).__name__}",
                "spikemem imports Input, CubaLIF, LIF, Linear, Affine (zero bias), Delay and Output nodes",
            )
        kinds[node_id] = type(node).__name__
    gain = _input_gains(nodes)
    rows: dict[tuple[str, str, str, str], list[np.ndarray]] = defaultdict(list)
    for node_id, node in nodes.items():
        if not isinstance(node, (nir.Linear, nir.Affine)):
            continue
        if isinstance(node, nir.Affine) and np.any(np.asarray(node.bias) != 0):
            raise _refuse(f"NIR node {node_id!r} (Affine with a bias)", "a constant input has no spikemem synapse")
        pre, pre_delay = _walk(node_id, pred, nodes, upstream=True)
        post, post_delay = _walk(node_id, succ, nodes, upstream=False)
        if kinds.get(post) not in ("CubaLIF", "LIF") or kinds.get(pre) not in ("Input", "CubaLIF", "LIF"):
            raise _refuse(
                f"NIR connection {pre!r} -> {node_id!r} -> {post!r}",
                "it must link a neuron or input to a CubaLIF or LIF",
            )
        matrix = np.asarray(node.weight, dtype=float)
        j, i = np.nonzero(matrix)
        delay_ms = (pre_delay[i] if pre_delay is not None else 0.0) + (post_delay[j] if post_delay is not None else 0.0)
        delay_ms = np.maximum(np.asarray(delay_ms, dtype=float) / MS * np.ones(len(i)), dt)
        weight = matrix[j, i] * gain[post][j]
        proj_name = _meta(node, "spikemem.projection") or node_id
        for receptor, mask in (("excitatory", weight > 0), ("inhibitory", weight < 0)):
            if np.any(mask):
                block = np.column_stack([i[mask], j[mask], np.abs(weight[mask]), delay_ms[mask]])
                rows[(proj_name, receptor, pre, post)].append(block)
    projections = []
    receptors_of: dict[str, int] = defaultdict(int)
    for proj_name, _, _, _ in rows:
        receptors_of[proj_name] += 1
    for (proj_name, receptor, pre, post), blocks in rows.items():
        label = proj_name if receptors_of[proj_name] == 1 else f"{proj_name}_{receptor}"
        table = np.concatenate(blocks)
        projections.append(Projection(label, pre, post, FromList(table), Static(0.0, dt), receptor))
    probes = _probes(graph, nodes, pred, populations)
    return Network(populations, projections, probes, dt=dt, name=name or _meta(graph, "spikemem.name", "nir_network"))


def _input_gains(nodes: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per neuron node, spikemem weight per unit of NIR weight: ``w_in / tau_syn`` (nA) onto a
    CubaLIF, ``r / tau`` (mV) onto a LIF."""
    import nir

    gains = {}
    for node_id, node in nodes.items():
        if isinstance(node, nir.CubaLIF):
            gains[node_id] = np.asarray(node.w_in, dtype=float) / _uniform(node_id, "tau_syn", node.tau_syn)
        elif isinstance(node, nir.LIF):
            gain = _uniform(node_id, "r", node.r) / _uniform(node_id, "tau", node.tau)
            gains[node_id] = np.full(np.size(node.v_threshold), gain)
    return gains


def _walk(start: str, links: dict[str, list[str]], nodes: dict[str, Any], upstream: bool) -> tuple[str, Any]:
    """Follow ``start`` through at most one Delay node to a neuron or input; return it and the delay (ms)."""
    import nir

    found = links.get(start, [])
    if len(found) != 1:
        raise _refuse(f"NIR node {start!r} with {len(found)} {'inputs' if upstream else 'outputs'}", "expected one")
    other = found[0]
    if isinstance(nodes.get(other), nir.Delay):
        delay = np.asarray(nodes[other].delay, dtype=float) * 1.0
        nxt = links.get(other, [])
        if len(nxt) != 1:
            raise _refuse(f"NIR Delay node {other!r} with {len(nxt)} links", "expected one")
        return nxt[0], delay
    return other, None


def _probes(
    graph: Any, nodes: dict[str, Any], pred: dict[str, list[str]], populations: list[Population]
) -> list[Probe]:
    import nir

    saved = _meta(graph, "spikemem.probes")
    if saved:
        return [Probe(t, v, e) for t, v, e in json.loads(saved)]
    names = {p.name for p in populations}
    return [
        Probe(src, "spikes")
        for node_id, node in nodes.items()
        if isinstance(node, nir.Output)
        for src in pred.get(node_id, [])
        if src in names
    ]
