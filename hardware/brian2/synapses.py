"""Brian2 Synapses objects of the description's synapse types, one function per type.

A spike of weight ``w`` arriving at a cell adds ``s·w`` to the receptor's current (nA) or
conductance (µS), where ``s`` is 1 for ``exact`` cells and
``s = τ_syn (1 - e^{-dt/τ_syn})`` for ``spinnaker`` cells (:func:`syn_scale`); at an
``IF_curr_delta`` cell it adds ``±w`` (mV) to the input its next step applies (``v_in``,
:func:`deliver`).

* :class:`~spikemem.synapses.Static` — delivery only (:func:`static`);
* :class:`~spikemem.synapses.TsodyksMarkram` — per-synapse ``u``, ``x``, ``y`` brought from
  the synapse's previous spike to this one in closed form, then ``u += U (1 - u)`` and the
  delivery of ``w·u·x`` (:func:`tsodyks_markram`; no device model);
* :class:`~spikemem.synapses.STDP`, ``online`` timing — pair-based traces
  ``τ_+ ȧ_pre = -a_pre``, ``τ_- ȧ_post = -a_post``; a pre spike depresses
  (``w -= A_- w_max a_post`` additive, ``A_- (w - w_min) a_post`` multiplicative), a post
  spike potentiates (``w += A_+ w_max a_pre``, resp. ``A_+ (w_max - w) a_pre``), both
  clipped to [w_min, w_max] (:func:`online_stdp`);
* ``deferred`` timing — the same rule as sPyNNaker computes it: updates happen at the pre
  spike, before delivery; potentiation from post spikes waits in ``w_pend`` until then
  (:func:`deferred_stdp`);
* :class:`~spikemem.synapses.GatedWrite` — the three-factor set/reset write
  ``w ← w_min + (w_max - w_min)·[other end's gate open]`` when the trigger end spikes with
  its gate open (:func:`gated_write`);
* :class:`~spikemem.synapses.Gate` — opens the target cell's gate for ``window_ms`` from
  the spike's arrival (Brian2 delay ``d`` whatever the cell, :func:`pathway_delay_ms`).

A resistive-memory device model under a projection adds its state and noise to each of
these (:mod:`.rram`); without one, every device hook is a no-op.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spikemem.cells import Cell, IF_cond_exp, IF_curr_delta
from spikemem.connectors import AllToAll, Blocks, Connections, Connector, OneToOne
from spikemem.network import Network, Projection
from spikemem.synapses import STDP, Gate, GatedWrite, TsodyksMarkram

from . import rram as rram_b2


def syn_scale(cell: Cell, receptor: str, dt_ms: float) -> float:
    """Factor applied to a weight on arrival: 1 for exact cells, ``f`` for spinnaker cells.

    ``f = tau_syn * (1 - exp(-dt / tau_syn))`` with times in ms taken as numbers.
    """
    if cell.integration != "spinnaker":
        return 1.0
    tau = cell.tau_syn_E if receptor == "excitatory" else cell.tau_syn_I
    return tau * (1.0 - math.exp(-dt_ms / tau))


def joins_before_update(cell: Cell) -> bool:
    """Whether input arriving at ``cell`` in step ``t`` takes part in the update of step ``t``
    (the ``spinnaker`` integration; an ``IF_curr_delta`` cell's jump, after that step's leak
    and before its threshold): Brian2 then delivers it in the ``synapses`` slot of step ``t - 1``."""
    return isinstance(cell, IF_curr_delta) or cell.integration == "spinnaker"


def brian2_delay_ms(cell: Cell, delay_ms: np.ndarray | float, dt_ms: float) -> np.ndarray:
    """The Brian2 delivery delay that realises a spikemem delay onto ``cell`` (never negative)."""
    return np.maximum(delay_ms - dt_ms if joins_before_update(cell) else delay_ms, 0.0)


def pathway_delay_ms(proj: Projection, cell: Cell, delay_ms: np.ndarray | float, dt_ms: float) -> np.ndarray:
    """The Brian2 delay of ``proj`` onto ``cell``: a plasticity gate opens at the spike's arrival
    whatever the cell, the other synapses deliver as :func:`brian2_delay_ms` says."""
    if isinstance(proj.synapse, Gate):
        return np.maximum(delay_ms, 0.0)
    return brian2_delay_ms(cell, delay_ms, dt_ms)


def deliver(cell: Cell, receptor: str, dt: float, weight: str = "w") -> str:
    """The ``on_pre`` statement that delivers ``weight`` to the receptor of ``cell``."""
    if isinstance(cell, IF_curr_delta):  # a jump of v, in mV: up on the excitatory receptor, down on the other
        return f"v_in_post {'+=' if receptor == 'excitatory' else '-='} {weight}"
    cond = isinstance(cell, IF_cond_exp)
    var = ("g_e" if receptor == "excitatory" else "g_i") if cond else ("i_e" if receptor == "excitatory" else "i_i")
    return f"{var}_post += {syn_scale(cell, receptor, dt)!r}*{weight}*{cell.weight_unit}"


def _gate(syn: STDP, now: str = "t") -> str:
    """Factor 1 where the update may happen: always, or (gated STDP) while both gates are open
    at ``now``, the time the update is counted at."""
    return f"int({now} < gate_until_pre)*int({now} < gate_until_post)*" if syn.gated else ""


def _potentiation(syn: STDP, w: str) -> str:
    if syn.weight_dependence == "additive":
        return f"{w} = clip({w} + {_gate(syn)}{syn.A_plus * syn.w_max!r}*apre, w_min, w_max)"
    return f"{w} = clip({w} + {_gate(syn)}{syn.A_plus!r}*(w_max - {w})*apre, w_min, w_max)"


def _depression(syn: STDP, w: str, factor: str = "1", now: str = "t") -> str:
    gate = _gate(syn, now)
    if syn.weight_dependence == "additive":
        return f"w = clip({w} - {gate}{syn.A_minus * syn.w_max!r}*apost*{factor}, w_min, w_max)"
    return f"w = clip({w} - {gate}{syn.A_minus!r}*({w} - w_min)*apost*{factor}, w_min, w_max)"


class _Pathway:
    """What every synapse type's Synapses object is made of: the resolved synapses, the
    device model, the delivery statement, the Brian2 delays and the two groups."""

    def __init__(self, network: Network, proj: Projection, seed: int, groups: dict[str, Any]) -> None:
        dt = network.dt
        self.proj = proj
        self.post_cell = network.population(proj.post).cell
        self.conns = resolved(network, proj, seed) if proj.device is None else network.connections(proj, seed)
        self.dev = rram_b2.lower(proj, self.conns.weight, seed)  # None without a device (.rram)
        self.deliver = deliver(self.post_cell, proj.receptor, dt, rram_b2.weight_expr(self.dev))
        self.b2_delay = pathway_delay_ms(proj, self.post_cell, self.conns.delay, dt)
        self.uniform = bool(len(self.b2_delay) == 0 or np.all(self.b2_delay == self.b2_delay[0]))
        self.d0 = float(self.b2_delay[0]) if len(self.b2_delay) else 0.0
        self.src, self.tgt = groups[proj.pre], groups[proj.post]
        self.dt = dt

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        return self.conns.i, self.conns.j

    def finish(self, syn: Any) -> None:
        """Set the initial weights and the device state of the connected ``syn``."""
        syn.w = values(rram_b2.weights(self.dev, self.conns.weight))
        rram_b2.initialise(syn, self.dev)


def projection(b2: Any, network: Network, proj: Projection, seed: int, groups: dict[str, Any]) -> tuple[Any, Any]:
    """The Synapses object of ``proj`` and its (pre, post) index arrays (empty for a rule
    connector Brian2 connects itself)."""
    path = _Pathway(network, proj, seed, groups)
    syn_type = proj.synapse
    if isinstance(syn_type, Gate):
        path.deliver = f"gate_until_post = t + {syn_type.window_ms!r}*ms"
    if isinstance(syn_type, GatedWrite):
        return gated_write(b2, path), path.pairs()
    if isinstance(syn_type, TsodyksMarkram):
        return tsodyks_markram(b2, path), path.pairs()
    if not isinstance(syn_type, STDP):
        return static(b2, path), path.pairs()
    if syn_type.timing == "online":
        return online_stdp(b2, path, syn_type), path.pairs()
    return deferred_stdp(b2, path, syn_type), path.pairs()


def static(b2: Any, path: _Pathway) -> Any:
    """A static projection (or a plasticity gate): delivery only."""
    syn = b2.Synapses(
        path.src,
        path.tgt,
        "w : 1" + rram_b2.model(path.dev),
        on_pre=path.deliver,
        delay=path.d0 * b2.ms if path.uniform else None,
        name=path.proj.name,
    )
    _connect(syn, path.proj, path.conns)
    if not path.uniform:
        syn.delay = path.b2_delay * b2.ms
    path.finish(syn)
    return syn


def tau_psc_ms(cell: Cell, receptor: str) -> float:
    """The time constant (ms) with which a Tsodyks-Markram synapse's active resource
    inactivates: the receiving receptor's ``tau_syn``, as PyNN sets NEST's ``tau_psc``."""
    return float(cell.tau_syn_E if receptor == "excitatory" else cell.tau_syn_I)


def tsodyks_markram(b2: Any, path: _Pathway) -> Any:
    """A :class:`~spikemem.synapses.TsodyksMarkram` projection, as NEST's ``tsodyks_synapse``.

    At each spike (the step it reaches the synapse: each synapse has one delay, so the
    interval ``h`` since its previous spike is that of the emissions) ``u``, ``x``, ``y``
    are propagated over ``h`` exactly, ``u`` is facilitated, ``w·u·x`` is delivered and
    ``u·x`` moves from ``x`` to ``y``. Every synapse starts at ``u = 0, x = 1, y = 0``,
    which makes ``t_last = 0`` harmless for the first spike, as in NEST."""
    syn_type = path.proj.synapse
    assert isinstance(syn_type, TsodyksMarkram) and path.dev is None  # refused by the target's check
    tau_psc = tau_psc_ms(path.post_cell, path.proj.receptor)
    ns = {"U": syn_type.U, "tau_rec": syn_type.tau_rec * b2.ms, "tau_psc": tau_psc * b2.ms}
    if tau_psc == syn_type.tau_rec:  # the limit of the general P_xy
        p_xy = "(1.0 - exp(-h_tm/tau_rec) - (h_tm/tau_rec)*exp(-h_tm/tau_rec))"
    else:  # NEST's expression (with exp(a) - 1 for its expm1(a): every code generator has exp)
        p_xy = "(((exp(-h_tm/tau_rec) - 1.0)*tau_rec - (exp(-h_tm/tau_psc) - 1.0)*tau_psc)/(tau_psc - tau_rec))"
    if syn_type.tau_facil > 0:
        ns["tau_facil"] = syn_type.tau_facil * b2.ms
        facilitate = ["u = u*exp(-h_tm/tau_facil)", "u = u + U*(1 - u)"]
    else:  # no facilitation: u = 0 before the increment, U after it
        facilitate = ["u = U"]
    on_pre = "\n".join(
        [
            "h_tm = t - t_last",
            "z_tm = 1.0 - x - y",
            *facilitate[:-1],
            f"x = x + {p_xy}*y - (exp(-h_tm/tau_rec) - 1.0)*z_tm",
            "y = y*exp(-h_tm/tau_psc)",
            facilitate[-1],
            "used_tm = u*x",
            "x = x - used_tm",
            "y = y + used_tm",
            "t_last = t",
            deliver(path.post_cell, path.proj.receptor, path.dt, "w*used_tm"),
        ]
    )
    syn = b2.Synapses(
        path.src,
        path.tgt,
        "w : 1\nu : 1\nx : 1\ny : 1\nt_last : second",
        on_pre=on_pre,
        namespace=ns,
        delay=path.d0 * b2.ms if path.uniform else None,
        name=path.proj.name,
    )
    _connect(syn, path.proj, path.conns)
    if not path.uniform:
        syn.delay = path.b2_delay * b2.ms
    path.finish(syn)
    syn.x = 1.0
    return syn


def _stdp_model(b2: Any, path: _Pathway, syn_type: STDP) -> tuple[str, dict[str, Any]]:
    """The pair-based traces of an STDP projection, and their namespace."""
    ns = {
        "tau_plus": syn_type.tau_plus * b2.ms,
        "tau_minus": syn_type.tau_minus * b2.ms,
        "w_min": syn_type.w_min,
        "w_max": syn_type.w_max,
    }
    traces = """
    w : 1
    dapre/dt = -apre/tau_plus : 1 (event-driven)
    dapost/dt = -apost/tau_minus : 1 (event-driven)
    """ + rram_b2.model(path.dev)
    return traces, ns


def online_stdp(b2: Any, path: _Pathway, syn_type: STDP) -> Any:
    """STDP counted when the pre spike's input is applied and at each post spike."""
    traces, ns = _stdp_model(b2, path, syn_type)
    # On a spinnaker or delta cell the pre event runs one step before its input is applied
    # (lowering docstring); count it then: the pre trace jumps by exp(dt/tau_plus), the
    # post trace is read exp(-dt/tau_minus) later and the gates a step later.
    early = joins_before_update(path.post_cell)
    jump = repr(math.exp(path.dt / syn_type.tau_plus)) if early else "1"
    later = repr(math.exp(-path.dt / syn_type.tau_minus)) if early else "1"
    now = f"(t + {path.dt!r}*ms)" if early else "t"
    depress = rram_b2.write(path.dev, _depression(syn_type, "w", later, now))
    on_pre = "\n".join([f"apre += {jump}", depress, path.deliver])
    on_post = "\n".join(["apost += 1", rram_b2.write(path.dev, _potentiation(syn_type, "w"))])
    syn = b2.Synapses(
        path.src,
        path.tgt,
        traces,
        on_pre=on_pre,
        on_post=on_post,
        namespace=ns,
        delay={"pre": path.d0 * b2.ms} if path.uniform else {},
        name=path.proj.name,
    )
    _connect(syn, path.proj, path.conns)
    if not path.uniform:
        syn.pre.delay = path.b2_delay * b2.ms
    if early:
        syn.post.order = -2  # a post spike of this step precedes a pre spike counted at the next
    path.finish(syn)
    return syn


def deferred_stdp(b2: Any, path: _Pathway, syn_type: STDP) -> Any:
    """STDP as sPyNNaker computes it.

    Updates happen at the pre spike, before delivery; post spikes count after the whole
    (dendritic) delay; ``w_pend`` collects the pending potentiation so that ``w`` changes
    only at pre spikes, as on the chip.
    """
    traces, ns = _stdp_model(b2, path, syn_type)
    model = (
        traces
        + """
    w_pend : 1
    post_seen : 1
    raw_factor : 1
    """
    )
    update = [
        rram_b2.write(path.dev, _depression(syn_type, "w_pend", "(post_seen + (1 - post_seen)*raw_factor)")),
        "w_pend = w",
        "post_seen = 0",
        "apre += 1",
    ]
    on_post = "\n".join(["apost += 1", _potentiation(syn_type, "w_pend"), "post_seen = 1"])
    immediate = path.uniform and path.d0 == 0.0
    on_pre: dict[str, str] = {"pre": "\n".join(update + ([path.deliver] if immediate else []))}
    delays: dict[str, Any] = {"pre": 0 * b2.ms}
    if not immediate:
        on_pre["deliver"] = path.deliver
        if path.uniform:
            delays["deliver"] = path.d0 * b2.ms
    post_delay = path.conns.delay
    post_uniform = bool(len(post_delay) == 0 or np.all(post_delay == post_delay[0]))
    if post_uniform:
        delays["post"] = (float(post_delay[0]) if len(post_delay) else 0.0) * b2.ms
    syn = b2.Synapses(
        path.src, path.tgt, model, on_pre=on_pre, on_post=on_post, namespace=ns, delay=delays, name=path.proj.name
    )
    _connect(syn, path.proj, path.conns)
    if not immediate and not path.uniform:
        syn.deliver.delay = path.b2_delay * b2.ms
    if not post_uniform:
        syn.post.delay = post_delay * b2.ms
    syn.post.order = -2  # delayed post events of a step are counted before that step's pre spikes
    if not immediate:
        syn.deliver.order = 0  # a zero delivery delay delivers after the update (Brian2 sorts ties by name)
    syn.w = syn.w_pend = values(rram_b2.weights(path.dev, path.conns.weight))
    rram_b2.initialise(syn, path.dev)
    syn.raw_factor = values(np.exp(-path.conns.delay / syn_type.tau_minus))
    return syn


def gated_write(b2: Any, path: _Pathway) -> Any:
    """A :class:`~spikemem.synapses.GatedWrite` projection: the write runs in the
    trigger's pathway only, so reads cost one delivery per synapse and nothing else."""
    syn_type = path.proj.synapse
    assert isinstance(syn_type, GatedWrite)
    me, other = ("pre", "post") if syn_type.trigger == "pre" else ("post", "pre")
    tag = f"int(t < gate_until_{other})"
    target = f"(w_min + (w_max - w_min)*{tag})"
    write = rram_b2.write(path.dev, f"w = w + int(t < gate_until_{me})*({target} - w)")
    on_pre = "\n".join([write, path.deliver]) if me == "pre" else path.deliver
    on_post = write if me == "post" else None
    syn = b2.Synapses(
        path.src,
        path.tgt,
        "w : 1" + rram_b2.model(path.dev),
        on_pre=on_pre,
        on_post=on_post,
        namespace={"w_min": syn_type.w_min, "w_max": syn_type.w_max},
        delay={"pre": path.d0 * b2.ms} if path.uniform else {},
        name=path.proj.name,
    )
    _connect(syn, path.proj, path.conns)
    if not path.uniform:
        syn.pre.delay = path.b2_delay * b2.ms
    if joins_before_update(path.post_cell):
        # The input must join the cell before the update of the arrival step: run the pre
        # events at the start of that step (the Brian2 delay d - dt makes up for a spike
        # being seen one step after its threshold there), after the probes, so that a
        # pre-triggered write happens at the arrival and is seen from the next step, as on
        # exact cells.
        syn.pre.when = "start"
        syn.pre.order = 1
    path.finish(syn)
    return syn


def by_rule(conn: Connector) -> bool:
    """Whether Brian2 connects ``conn`` by a rule (no index arrays built in Python).

    Such connectors have the synapse type's uniform weight and delay.
    """
    inner = conn.inner if isinstance(conn, Blocks) else conn
    return isinstance(inner, (OneToOne, AllToAll))


def resolved(network: Network, proj: Projection, seed: int = 0) -> Connections:
    """The projection's synapses; for a rule-based connector only its uniform weight and
    delay (one-element arrays, no indices), so large all-to-all blocks stay unmaterialised."""
    if not by_rule(proj.connector):
        return network.connections(proj, seed)
    none = np.empty(0, dtype=np.int64)
    return Connections(none, none, np.array([float(proj.synapse.weight)]), np.array([float(proj.synapse.delay)]))


def indices(network: Network, proj: Projection, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (pre, post) index arrays of every synapse of ``proj``, materialised."""
    conns = network.connections(proj, seed)
    return conns.i, conns.j


def _connect(syn: Any, proj: Projection, conns: Any) -> None:
    """Connect by rule where Brian2 has one (generated on the device in standalone
    mode), else from the resolved index arrays. Both give the same synapse order."""
    conn = proj.connector
    if proj.device is not None:  # per-synapse device state: connect from the resolved arrays
        syn.connect(i=conns.i, j=conns.j)
    elif isinstance(conn, Blocks) and by_rule(conn):
        a, b = conn.block_sizes(syn.source.N, syn.target.N)
        if isinstance(conn.inner, OneToOne):
            syn.connect(j="i")
        else:
            skip = "" if conn.inner.allow_self_connections else f" if k % {b} != i % {a}"
            syn.connect(j=f"k for k in range((i // {a})*{b}, (i // {a} + 1)*{b}){skip}")
    elif isinstance(conn, OneToOne):
        syn.connect(j="i")
    elif isinstance(conn, AllToAll):
        syn.connect() if conn.allow_self_connections else syn.connect(condition="i != j")
    else:
        syn.connect(i=conns.i, j=conns.j)


def values(values: np.ndarray) -> np.ndarray | float:
    """A scalar when every synapse has the same value (cheaper to set in standalone mode)."""
    if len(values) and np.all(values == values[0]):
        return float(values[0])
    return values
