r"""NIR graphs as Norse reads and writes them, to and from the description.

Norse (1.1.0) runs a NIR ``LIF`` node as its ``LIFBoxCell``: forward Euler with box spikes,

.. math:: v_k = v_{k-1} + a\,(v_{leak} - v_{k-1} + W s_k), \qquad a = dt \cdot \tau_{mem}^{-1},

where :math:`s_k` are the input spikes of the same step (0 or 1) and :math:`W` the ``Affine``
weights; the cell fires when :math:`v_k > v_{th}` and resets to 0. A chain of
``IF_curr_delta`` layers (no refractory period, no offset current, every delay one step) is
this model exactly when :math:`a = 1 - \lambda`, :math:`\lambda = e^{-dt/\tau_m}`, and
:math:`W = \pm w / a`, with potentials measured from ``v_reset``:

* :func:`to_norse_graph` writes that graph (``LIF.tau = dt / a``, the time constant whose
  Euler step is the exact one; NIR tools that integrate exactly read another model, so this
  graph is for Norse: :mod:`spikemem.hardware.nir` writes NIR's own);
* :func:`from_norse_graph` reads a graph Norse's ``to_nir`` wrote into a Network of
  ``IF_curr_delta`` layers. Norse 1.1.0 writes ``LIF.tau = dt / tau_mem_inv``, too small by
  the factor ``dt`` (read as NIR means it, a different model: its own ``from_nir`` would
  not give back the spikes it wrote). The reader undoes it, ``tau_mem_inv = dt / tau`` and so
  :math:`a = dt^2 / \tau`, unless told the file holds the true time constant
  (``tau_scaled_by_dt=False``: :math:`a = dt / \tau`).

Timing: within one Norse step a spike crosses every layer (NIR edges carry no delay); in
spikemem every synapse takes one step, so layer :math:`\ell` (1 for the first layer after the
input) spikes :math:`\ell` steps after Norse's. Norse fires above threshold, spikemem at or
above it: they differ only where the membrane lands exactly on the threshold.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spikemem.cells import IF_curr_delta
from spikemem.connectors import FromList
from spikemem.errors import UnsupportedFeature, ValidationError
from spikemem.network import Network, Population, Probe, Projection, SpikeSource
from spikemem.synapses import Static

MS = 1e-3  # NIR time is in seconds


def chain(network: Network) -> list[str]:
    """The populations of ``network`` in layer order, input first; refused unless it is one
    spike source feeding a chain of cell populations, each fed by the one before only."""
    if network.currents:
        raise UnsupportedFeature("norse-nir", f"current source {network.currents[0].name!r}", "a graph without one")
    sources = [p.name for p in network.populations if p.is_source]
    if len(sources) != 1:
        raise UnsupportedFeature("norse-nir", f"network {network.name!r}", "one spike source (Norse's graph input)")
    feeds: dict[str, set[str]] = {}
    for proj in network.projections:
        feeds.setdefault(proj.post, set()).add(proj.pre)
    order, current = [sources[0]], sources[0]
    while True:
        nxt = [post for post, pres in feeds.items() if current in pres]
        if not nxt:
            break
        if len(nxt) > 1 or feeds[nxt[0]] != {current}:
            raise UnsupportedFeature(
                "norse-nir", f"population {nxt[0]!r}", "a chain of layers, each fed by the one before only"
            )
        order.append(nxt[0])
        current = nxt[0]
    if len(order) != len(network.populations):
        raise UnsupportedFeature(
            "norse-nir", f"network {network.name!r}", "every population in one chain from the input"
        )
    return order


def to_norse_graph(network: Network, integrate_last: bool = False) -> Any:
    """The NIR graph whose Norse run (``norse.torch.from_nir(graph, dt=network.dt / 1000)``)
    is this chain of ``IF_curr_delta`` layers, step for step (module docstring).

    ``integrate_last``: the last layer is a readout whose potential is wanted, not its
    spikes (Norse reads no NIR ``LI`` node): the graph ends with that layer's ``Affine``, so
    its output in each step is the readout's input ``W s`` (``±w``, not divided by ``a``), to
    integrate outside (:func:`integrate`)."""
    import nir

    order = chain(network)
    dt = network.dt
    nodes: dict[str, Any] = {"input": nir.Input(np.array([network.population(order[0]).size]))}
    edges, previous = [], "input"
    for pre, post in zip(order, order[1:]):
        pop = network.population(post)
        cell = pop.cell
        _check_layer(network, pop)
        last = integrate_last and post == order[-1]
        a = 1.0 if last else 1.0 - math.exp(-dt / cell.tau_m)
        weight = np.zeros((pop.size, network.population(pre).size))
        for proj in network.projections:
            if proj.post == post:
                conns = network.connections(proj)
                sign = 1.0 if proj.receptor == "excitatory" else -1.0
                np.add.at(weight, (conns.j, conns.i), sign * conns.weight / a)
        n = pop.size
        nodes[f"{post}_in"] = nir.Affine(weight, np.zeros(n))
        if last:
            edges.append((previous, f"{post}_in"))
            previous = f"{post}_in"
            break
        nodes[post] = nir.LIF(
            tau=np.full(n, dt * MS / a),
            r=np.ones(n),
            v_leak=np.full(n, cell.v_rest - cell.v_reset),
            v_threshold=np.full(n, cell.v_thresh - cell.v_reset),
        )
        edges += [(previous, f"{post}_in"), (f"{post}_in", post)]
        previous = post
    nodes["output"] = nir.Output(np.array([network.population(order[-1]).size]))
    edges.append((previous, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def integrate(currents: np.ndarray, network: Network, samples: int) -> np.ndarray:
    r"""The last layer's potential as spikemem samples it, from the per-step outputs
    ``currents`` ``[T, ...]`` of a graph written with ``integrate_last``: the input of Norse
    step ``k`` reaches the readout in spikemem's step ``k + L`` (``L`` layers, one step per
    synapse), :math:`v_k = \lambda v_{k-1} + I_k` from ``v_rest``, and sample ``k`` is the
    potential at the start of step ``k`` (``samples`` of them)."""
    order = chain(network)
    cell = network.population(order[-1]).cell
    lam = math.exp(-network.dt / cell.tau_m)
    depth = len(order) - 1
    v = np.zeros_like(currents[0], dtype=float)
    out = []
    for k in range(samples):
        out.append(v + cell.v_rest)
        if k >= depth and k - depth < len(currents):
            v = lam * v + currents[k - depth]
        else:
            v = lam * v
    return np.stack(out)


def _check_layer(network: Network, pop: Population) -> None:
    cell = pop.cell
    where = f"population {pop.name!r}"
    if not isinstance(cell, IF_curr_delta):
        raise UnsupportedFeature("norse-nir", where, "IF_curr_delta cells (Norse's LIF has no synaptic current)")
    if cell.tau_refrac != 0 or cell.i_offset != 0:
        raise UnsupportedFeature(
            "norse-nir", where, "no refractory period and no offset current (Norse's LIF has neither)"
        )
    v0 = pop.initial_v if pop.initial_v is not None else cell.initial_v
    if np.any(np.asarray(v0) != cell.v_rest):
        raise UnsupportedFeature("norse-nir", where, "starting at v_rest (Norse's LIF starts at its leak potential)")
    for proj in network.projections:
        if proj.post == pop.name:
            if not isinstance(proj.synapse, Static) or np.any(network.connections(proj).delay != network.dt):
                raise UnsupportedFeature(
                    "norse-nir",
                    f"projection {proj.name!r}",
                    "static synapses of one step's delay (NIR edges here carry none)",
                )


def from_norse_graph(graph: Any, dt_ms: float, name: str = "from_norse", tau_scaled_by_dt: bool = True) -> Network:
    """A Network of ``IF_curr_delta`` layers from a chain graph Norse's ``to_nir`` wrote at
    time step ``dt_ms`` (module docstring); the input is an empty spike source to drive
    with inputs (``run_batch``), every layer's spikes are probed. A layer is named as its
    LIF node, ``layer_<id>`` where the id is no identifier (``layer_1`` for Norse's node "1")."""
    import nir

    succ: dict[str, list[str]] = {}
    for a, b in graph.edges:
        succ.setdefault(a, []).append(b)
    inputs = [k for k, node in graph.nodes.items() if isinstance(node, nir.Input)]
    if len(inputs) != 1:
        raise ValidationError("graph", f"{len(inputs)} Input nodes", "one Input node")
    dt_s = dt_ms * MS
    size = int(np.prod(graph.nodes[inputs[0]].input_type["input"]))
    pops: list[Population] = [SpikeSource("input", [[] for _ in range(size)])]
    projections, probes = [], []
    current, pre, weight = inputs[0], "input", None
    while succ.get(current):
        if len(succ[current]) != 1:
            raise ValidationError(f"graph node {current!r}", f"{len(succ[current])} successors", "a chain: one")
        current = succ[current][0]
        node = graph.nodes[current]
        if isinstance(node, (nir.Affine, nir.Linear)):
            if isinstance(node, nir.Affine) and np.any(np.asarray(node.bias) != 0):
                raise UnsupportedFeature("norse-nir", f"node {current!r}", "a bias (a constant input has no synapse)")
            weight = np.asarray(node.weight, dtype=float)
        elif isinstance(node, nir.LIF):
            if weight is None:
                raise ValidationError(
                    f"graph node {current!r}", "a LIF after a LIF", "an Affine or Linear before each LIF"
                )
            tau = np.asarray(node.tau, dtype=float).reshape(-1)
            a = dt_s * (dt_s / tau if tau_scaled_by_dt else 1.0 / tau)
            if not (np.all(a == a[0]) and 0 < a[0] < 1):
                raise ValidationError(f"graph node {current!r}.tau", tau[:3].tolist(), "one time constant, above dt")
            v_leak = float(np.asarray(node.v_leak).reshape(-1)[0])
            cell = IF_curr_delta(
                tau_m=-dt_ms / math.log(1.0 - a[0]),
                tau_refrac=0.0,
                v_rest=v_leak,
                v_reset=0.0,
                v_thresh=float(np.asarray(node.v_threshold).reshape(-1)[0]),
            )
            n, layer = weight.shape[0], _population_name(current)
            pops.append(Population(layer, n, cell))
            w = a[0] * np.asarray(node.r, dtype=float).reshape(-1)[:, None] * weight  # mV per spike, [post, pre]
            for receptor, part in (("excitatory", np.clip(w, 0, None)), ("inhibitory", np.clip(-w, 0, None))):
                j, i = np.nonzero(part)
                if len(i):
                    rows = np.column_stack([i, j, part[j, i], np.full(len(i), dt_ms)])
                    projections.append(
                        Projection(
                            f"{pre}_{layer}_{receptor}", pre, layer, FromList(rows), Static(0.0, dt_ms), receptor
                        )
                    )
            probes.append(Probe(layer))
            pre, weight = layer, None
        elif not isinstance(node, nir.Output):
            raise UnsupportedFeature(
                "norse-nir", f"node {current!r} ({type(node).__name__})", "Affine, Linear, LIF, Output"
            )
    return Network(pops, projections, probes, dt=dt_ms, name=name)


def _population_name(node_id: str) -> str:
    """A NIR node id as a population name (``layer_<id>`` where the id is not an identifier)."""
    return node_id if node_id.isidentifier() else f"layer_{node_id}"
