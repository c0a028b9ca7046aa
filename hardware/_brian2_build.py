"""Translation of a spikemem Network into Brian2 objects.

Shared by the ``brian2`` target (runtime and C++ standalone) and the ``cuda`` target
(brian2cuda's ``cuda_standalone``): the same equations, whatever the device. Brian2 is
imported by the caller; this module imports it lazily too.

Time conventions (Brian2's default schedule: groups, thresholds, synapses, resets):

* ``exact`` cells integrate in continuous time; a spike with delay ``d`` is delivered
  in the ``synapses`` slot ``d`` after it was emitted (as pyNN.brian2 and NEST do).
* ``spinnaker`` cells follow spec/ca3.md §7.1: input arriving at step ``t`` is added
  to the currents before the update of step ``t``. A delivery in the ``synapses`` slot
  of step ``t - 1`` does exactly that, so the Brian2 delay is ``d - dt``.
* ``online`` STDP counts a pre spike when its input is applied (``t + d``), also on
  ``spinnaker`` cells whose Brian2 delivery runs a step earlier; a post spike in the
  step of the arrival counts as following it (potentiation at zero lag).
* Refractoriness: the membrane is held at ``v_reset`` for ``round(tau_refrac/dt)``
  steps after the spike step (NEST and sPyNNaker semantics); Brian2 counts the spike
  step itself, hence ``refractory = tau_refrac + dt`` for exact cells.

Every Brian2 object costs time at every step, so populations of equal cells share one
NeuronGroup (each a slice of it), unrecorded spike sources whose projections are all
static or gates share one SpikeGeneratorGroup, and static and gate projections are fused
into one Synapses object per (source group, target group, action, delay)
(:mod:`._brian2_fuse`). The CUBA network becomes one NeuronGroup and two Synapses, as in
the hand-written Brian2 example; the CA3 functional circuit has 12 Brian2 objects.
Large uniform all-to-all static projections (the CA3's inhibitions) go through
spike-counting pools instead of ``|pre|·|post|`` synapses (:mod:`._brian2_pool`).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikemem.cells import IF_cond_exp, IF_curr_exp
from spikemem.connectors import AllToAll, Blocks, Connections, Connector, OneToOne
from spikemem.network import Network, Population, Projection
from spikemem.results import Results, SpikeTrains, Trace
from spikemem.synapses import STDP, Gate, GatedWrite

from . import _brian2_fuse as fuse
from . import _brian2_pool as pool
from . import _rram_brian2 as rram_b2

# Continuous-time conductance-based cell (exponential Euler; the current-based cell is
# advanced by its exact propagator, see _propagator). Parameters come from the namespace.
EXACT_COND = """
dv/dt = (v_rest - v)/tau_m + (g_e*(e_rev_e - v) + g_i*(e_rev_i - v) + i_offset)/c_m : volt (unless refractory)
dg_e/dt = -g_e/tau_syn_e : siemens
dg_i/dt = -g_i/tau_syn_i : siemens
"""
# The discrete sPyNNaker update (spec/ca3.md §7.1) runs as one run_regularly per step.
STEP_CURR = """
v : volt
i_e : amp
i_i : amp
refr : 1
"""
# A neuron that receives a plasticity Gate keeps the time until which its gate is open.
GATE_STATE = """
gate_until : second
"""
STEP_COND = """
v : volt
g_e : siemens
g_i : siemens
refr : 1
"""


def syn_scale(cell: IF_curr_exp, receptor: str, dt_ms: float) -> float:
    """Factor applied to a weight on arrival: 1 for exact cells, ``f`` for spinnaker cells.

    ``f = tau_syn * (1 - exp(-dt / tau_syn))`` with times in ms taken as numbers.
    """
    if cell.integration != "spinnaker":
        return 1.0
    tau = cell.tau_syn_E if receptor == "excitatory" else cell.tau_syn_I
    return tau * (1.0 - math.exp(-dt_ms / tau))


def brian2_delay_ms(cell: IF_curr_exp, delay_ms: np.ndarray | float, dt_ms: float) -> np.ndarray:
    """The Brian2 delivery delay that realises a spikemem delay onto ``cell`` (never negative)."""
    return np.maximum(delay_ms - dt_ms if cell.integration == "spinnaker" else delay_ms, 0.0)


@dataclass
class Built:
    """The Brian2 objects of one network and what is needed to read them back."""

    objects: list[Any] = field(default_factory=list)
    groups: dict[str, Any] = field(default_factory=dict)
    synapses: dict[str, Any] = field(default_factory=dict)
    connections: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    spike_monitors: dict[str, Any] = field(default_factory=dict)
    v_monitors: dict[str, Any] = field(default_factory=dict)
    w_monitors: dict[str, Any] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # taken Brian2 names

    def unique(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``, ... if a population, projection or earlier
        Brian2 object has it (Brian2 needs unique names: populations ``exc`` and ``inh``
        in one group must not be called like the projection ``exc_inh``)."""
        name, k = base, 1
        while name in self.names:
            k += 1
            name = f"{base}_{k}"
        self.names.add(name)
        return name


def build(network: Network, duration_ms: float, seed: int) -> Built:
    """Create every Brian2 object of ``network`` (on the current Brian2 device)."""
    import brian2 as b2

    built = Built(names={p.name for p in network.populations} | {p.name for p in network.projections})
    dt = network.dt
    gated_pops = {p.post for p in network.projections if isinstance(p.synapse, Gate)}
    weighed = {probe.target for probe in network.probes if probe.variable == "weight"}
    inputs = fuse.mergeable_sources(network, weighed, seed)
    offsets: dict[str, tuple[Any, int]] = {}  # population -> (whole Brian2 group, first index in it)
    if inputs:  # a SpikeGeneratorGroup cannot be sliced: only the fused synapses address these
        group = _source(b2, network, inputs, _merged_name(built, inputs), duration_ms, seed, dt)
        _place(built, offsets, group, inputs, sliceable=False)
    for pop in network.populations:
        if pop.is_source and pop.name not in offsets:
            _place(built, offsets, _source(b2, network, [pop], pop.name, duration_ms, seed, dt), [pop])
    for members in _cell_classes(network):
        merged = Population(_merged_name(built, members), sum(p.size for p in members), members[0].cell)
        gated = any(p.name in gated_pops for p in members)
        _place(built, offsets, _cells(b2, merged, built.unique(f"{merged.name}_step"), dt, gated), members)
        for pop in members:
            built.groups[pop.name].v = (pop.initial_v if pop.initial_v is not None else pop.cell.initial_v) * b2.mV
    pools = _pools(b2, network, built, weighed, seed)
    fused: dict[tuple[Any, ...], fuse.Fused] = {}
    for proj in network.projections:
        if proj.name in pools:
            cell = network.population(proj.post).cell
            pool_slice, how = pools[proj.name]
            syn, made = pool.connect(
                b2,
                how,
                proj.name,
                pool_slice,
                built.groups[proj.pre],
                built.groups[proj.post],
                lambda weight, cell=cell, proj=proj: _deliver(cell, proj.receptor, dt, weight),
                built.unique,
            )
            built.synapses[proj.name] = syn
            built.objects += made
            continue
        if fuse.simple(network, proj, weighed, seed):  # as is every projection of a merged input
            conns = network.connections(proj, seed)
            (src, i0), (tgt, j0) = offsets[proj.pre], offsets[proj.post]
            delays = brian2_delay_ms(network.population(proj.post).cell, conns.delay, dt)
            code = fuse.action(network, proj, dt)
            fuse.add(fused, src, tgt, code, (conns.i + i0, conns.j + j0, conns.weight, delays), proj.name)
            continue
        syn, conns = _projection(b2, network, proj, seed, built.groups)
        built.synapses[proj.name] = syn
        if proj.name in weighed:
            built.connections[proj.name] = conns if len(conns[0]) else _indices(network, proj, seed)
        built.units[proj.name] = "uS" if isinstance(network.population(proj.post).cell, IF_cond_exp) else "nA"
        built.objects.append(syn)
    objects_of = Counter(name for entry in fused.values() for name in entry.names)
    for entry in fused.values():
        alone = len(entry.names) == 1 and objects_of[entry.names[0]] == 1
        syn = b2.Synapses(
            entry.source,
            entry.target,
            "w : 1",
            on_pre=entry.action,
            delay=entry.delay_ms * b2.ms,
            name=entry.names[0] if alone else built.unique("fused"),
        )
        syn.connect(i=np.concatenate(entry.i), j=np.concatenate(entry.j))
        syn.w = _values(np.concatenate(entry.w))
        built.objects.append(syn)
        for name in entry.names:
            built.synapses.setdefault(name, syn)
    for probe in network.probes:
        every = (probe.every_ms or dt) * b2.ms
        if probe.variable == "spikes":
            mon = b2.SpikeMonitor(built.groups[probe.target], name=built.unique(f"spikes_{probe.target}"))
            built.spike_monitors[probe.target] = mon
        elif probe.variable == "v":
            mon = b2.StateMonitor(
                built.groups[probe.target], "v", record=True, dt=every, name=built.unique(f"v_{probe.target}")
            )
            built.v_monitors[probe.target] = mon
        else:
            mon = b2.StateMonitor(
                built.synapses[probe.target], "w", record=True, dt=every, name=built.unique(f"w_{probe.target}")
            )
            built.w_monitors[probe.target] = mon
        built.objects.append(mon)
    return built


def _pools(b2: Any, network: Network, built: Built, weighed: set[str], seed: int) -> dict[str, tuple[Any, pool.Pooled]]:
    """Projection name → its slice of the pool group and how it is pooled, for the
    projections realised by spike-counting pools (:mod:`._brian2_pool`); the group joins ``built``."""

    def delay_ms(proj: Projection) -> float:
        return float(brian2_delay_ms(network.population(proj.post).cell, proj.synapse.delay, network.dt))

    plans = {}
    for p in network.projections:
        how = pool.plan(network, p, weighed, seed, delay_ms)
        if how is not None:
            plans[p.name] = how
    if not plans:
        return {}
    sizes = [h.copies for h in plans.values()]
    group = pool.pool_group(b2, sum(sizes), built.unique("pools"), built.unique("pools_step"))
    built.objects.append(group)
    starts = np.cumsum([0, *sizes])
    return {name: (group[int(s) : int(s) + h.copies], h) for (name, h), s in zip(plans.items(), starts)}


# One Brian2 NeuronGroup per class of cell populations with equal parameters, each
# population a contiguous slice of it: every Brian2 object costs time at every step,
# whatever it holds, so fewer and larger groups run faster.


def _cell_classes(network: Network) -> list[list[Population]]:
    """Cell populations grouped by equal cell parameters (initial potential aside), in order."""
    classes: dict[str, list[Population]] = {}
    for pop in network.populations:
        if not pop.is_source:
            params = {k: v for k, v in pop.cell.to_dict().items() if k != "v_init"}
            classes.setdefault(repr(sorted(params.items())), []).append(pop)
    return list(classes.values())


def _merged_name(built: Built, members: list[Population]) -> str:
    """A Brian2 name for a group holding ``members``: a lone population's own name, else a
    new unique one made of the members' names."""
    if len(members) == 1:
        return members[0].name
    name = "_".join(p.name for p in members)
    return built.unique(name if len(name) <= 60 else f"{members[0].name}_and_{len(members) - 1}_more")


def _place(
    built: Built, offsets: dict[str, tuple[Any, int]], group: Any, members: list[Population], sliceable: bool = True
) -> None:
    """Add ``group``, which holds ``members`` one after the other: each member's start in it,
    and (where Brian2 can slice the group) the member's own slice as its group."""
    built.objects.append(group)
    start = 0
    for pop in members:
        offsets[pop.name] = (group, start)
        if sliceable:
            built.groups[pop.name] = group if len(members) == 1 else group[start : start + pop.size]
        start += pop.size


def _source(
    b2: Any, network: Network, pops: list[Population], name: str, duration_ms: float, seed: int, dt: float
) -> Any:
    """One SpikeGeneratorGroup holding the source populations ``pops``, one after the other."""
    idx, times = [], []
    offset = 0
    for pop in pops:
        for k, train in enumerate(network.source_times(pop, duration_ms, seed)):
            # Brian2 places spikes on the time grid; two spikes of one neuron in one step
            # would be one spike on any time-stepped simulator, so keep one.
            steps = np.unique(np.rint(np.asarray(train) / dt).astype(np.int64))
            idx.append(np.full(len(steps), offset + k, dtype=np.int64))
            times.append(steps * dt)
        offset += pop.size
    indices = np.concatenate(idx) if idx else np.empty(0, dtype=np.int64)
    t = np.concatenate(times) if times else np.empty(0)
    return b2.SpikeGeneratorGroup(offset, indices, t * b2.ms, name=name)


def _namespace(b2: Any, cell: IF_curr_exp, dt: float) -> dict[str, Any]:
    ns = {
        "c_m": cell.cm * b2.nF,
        "tau_m": cell.tau_m * b2.ms,
        "tau_syn_e": cell.tau_syn_E * b2.ms,
        "tau_syn_i": cell.tau_syn_I * b2.ms,
        "v_rest": cell.v_rest * b2.mV,
        "v_reset": cell.v_reset * b2.mV,
        "v_thresh": cell.v_thresh * b2.mV,
        "i_offset": cell.i_offset * b2.nA,
    }
    if isinstance(cell, IF_cond_exp):
        ns["e_rev_e"] = cell.e_rev_E * b2.mV
        ns["e_rev_i"] = cell.e_rev_I * b2.mV
    if cell.integration == "spinnaker":
        ns["decay_m"] = math.exp(-dt / cell.tau_m)
        ns["decay_e"] = math.exp(-dt / cell.tau_syn_E)
        ns["decay_i"] = math.exp(-dt / cell.tau_syn_I)
        ns["n_refrac"] = float(round(cell.tau_refrac / dt))
    return ns


def _propagator(b2: Any, cell: IF_curr_exp, dt: float) -> dict[str, Any]:
    r"""Exact one-step propagator of the current-based cell (times in ms).

    .. math::

        u(t+h) = u\,e^{-h/\tau_m} + i_X \frac{\tau_s \tau_m}{c_m(\tau_m - \tau_s)}
                 (e^{-h/\tau_m} - e^{-h/\tau_s}) + i_{offset}\frac{\tau_m}{c_m}(1 - e^{-h/\tau_m}),
        \qquad i_X(t+h) = i_X e^{-h/\tau_s}

    with ``u = v - v_rest``; the limit ``h e^{-h/\tau}/c_m`` where ``tau_s == tau_m``.
    """
    p22 = math.exp(-dt / cell.tau_m)
    out = {
        "p22": p22,
        "n_refrac": float(round(cell.tau_refrac / dt)),
        "r_offset": cell.tau_m / cell.cm * (1.0 - p22) * b2.mV / b2.nA,
    }
    for name, tau in (("e", cell.tau_syn_E), ("i", cell.tau_syn_I)):
        p11 = math.exp(-dt / tau)
        if math.isclose(tau, cell.tau_m, rel_tol=1e-9):
            p21 = dt / cell.cm * p22
        else:
            p21 = tau * cell.tau_m / (cell.cm * (cell.tau_m - tau)) * (p22 - p11)
        out[f"p11_{name}"] = p11
        out[f"p21_{name}"] = p21 * b2.mV / b2.nA
    return out


def _cells(b2: Any, pop: Population, step_name: str, dt: float, gated: bool = False) -> Any:
    """The NeuronGroup of ``pop`` (``step_name``: its per-step update, where it has one)."""
    cell = pop.cell
    assert isinstance(cell, IF_curr_exp)
    cond = isinstance(cell, IF_cond_exp)
    ns = _namespace(b2, cell, dt)
    gate = GATE_STATE if gated else ""
    if cell.integration == "exact" and not cond:
        group = b2.NeuronGroup(
            pop.size,
            STEP_CURR + gate,
            threshold="v >= v_thresh",
            reset="v = v_reset\nrefr = n_refrac",
            namespace={**ns, **_propagator(b2, cell, dt)},
            name=pop.name,
        )
        # The exact solution of the linear current-based cell over one step (the
        # propagator NEST's iaf_psc_exp uses), written out so no symbolic solve is needed.
        group.run_regularly(
            "v = int(refr > 0.5)*v_reset + int(refr <= 0.5)*"
            "(v_rest + (v - v_rest)*p22 + i_e*p21_e - i_i*p21_i + i_offset*r_offset)\n"
            "refr = clip(refr - 1, 0, n_refrac)\n"
            "i_e = i_e*p11_e\n"
            "i_i = i_i*p11_i\n",
            when="groups",
            name=step_name,
        )
        group.refr = 0
    elif cell.integration == "exact":
        group = b2.NeuronGroup(
            pop.size,
            EXACT_COND + gate,
            threshold="v >= v_thresh",
            reset="v = v_reset",
            refractory=(cell.tau_refrac + dt) * b2.ms,
            method="exponential_euler",
            namespace=ns,
            name=pop.name,
        )
    else:
        group = b2.NeuronGroup(
            pop.size,
            (STEP_COND if cond else STEP_CURR) + gate,
            threshold="v >= v_thresh",
            reset="v = v_reset\nrefr = n_refrac",
            namespace=ns,
            name=pop.name,
        )
        if cond:
            drive = "(g_e*(e_rev_e - v) + g_i*(e_rev_i - v) + i_offset)*tau_m/c_m"
        else:
            drive = "(i_e - i_i + i_offset)*tau_m/c_m"
        alpha = f"(v_rest + {drive})"
        syn_e, syn_i = ("g_e", "g_i") if cond else ("i_e", "i_i")
        group.run_regularly(
            f"v = int(refr > 0.5)*v_reset + int(refr <= 0.5)*({alpha} - decay_m*({alpha} - v))\n"
            f"refr = clip(refr - 1, 0, n_refrac)\n"
            f"{syn_e} = {syn_e}*decay_e\n"
            f"{syn_i} = {syn_i}*decay_i\n",
            when="groups",
            name=step_name,
        )
        group.refr = 0
    if gated:
        group.gate_until = -1 * b2.second
    return group


def _deliver(cell: IF_curr_exp, receptor: str, dt: float, weight: str = "w") -> str:
    cond = isinstance(cell, IF_cond_exp)
    var = ("g_e" if receptor == "excitatory" else "g_i") if cond else ("i_e" if receptor == "excitatory" else "i_i")
    unit = "uS" if cond else "nA"
    return f"{var}_post += {syn_scale(cell, receptor, dt)!r}*{weight}*{unit}"


def _gate(syn: STDP) -> str:
    """Factor 1 where the update may happen: always, or (gated STDP) while both gates are open."""
    return "int(t < gate_until_pre)*int(t < gate_until_post)*" if syn.gated else ""


def _potentiation(syn: STDP, w: str) -> str:
    if syn.weight_dependence == "additive":
        return f"{w} = clip({w} + {_gate(syn)}{syn.A_plus * syn.w_max!r}*apre, w_min, w_max)"
    return f"{w} = clip({w} + {_gate(syn)}{syn.A_plus!r}*(w_max - {w})*apre, w_min, w_max)"


def _depression(syn: STDP, w: str, factor: str = "1") -> str:
    if syn.weight_dependence == "additive":
        return f"w = clip({w} - {_gate(syn)}{syn.A_minus * syn.w_max!r}*apost*{factor}, w_min, w_max)"
    return f"w = clip({w} - {_gate(syn)}{syn.A_minus!r}*({w} - w_min)*apost*{factor}, w_min, w_max)"


def _projection(b2: Any, network: Network, proj: Projection, seed: int, groups: dict[str, Any]) -> tuple[Any, Any]:
    dt = network.dt
    post_cell = network.population(proj.post).cell
    conns = resolved(network, proj, seed) if proj.device is None else network.connections(proj, seed)
    dev = rram_b2.lower(proj, conns.weight, seed)  # None without a device (hardware/_rram_brian2.py)
    syn_type = proj.synapse
    deliver = _deliver(post_cell, proj.receptor, dt, rram_b2.weight_expr(dev))
    b2_delay = brian2_delay_ms(post_cell, conns.delay, dt)
    uniform = bool(len(b2_delay) == 0 or np.all(b2_delay == b2_delay[0]))
    d0 = float(b2_delay[0]) if len(b2_delay) else 0.0
    name = proj.name
    src, tgt = groups[proj.pre], groups[proj.post]
    if isinstance(syn_type, Gate):
        deliver = f"gate_until_post = t + {syn_type.window_ms!r}*ms"
    if isinstance(syn_type, GatedWrite):
        return _gated_write(b2, proj, conns, dev, deliver, d0 if uniform else b2_delay, src, tgt), (conns.i, conns.j)
    if not isinstance(syn_type, STDP):
        syn = b2.Synapses(
            src, tgt, "w : 1" + rram_b2.model(dev), on_pre=deliver, delay=d0 * b2.ms if uniform else None, name=name
        )
        _connect(syn, proj, conns)
        if not uniform:
            syn.delay = b2_delay * b2.ms
        syn.w = _values(rram_b2.weights(dev, conns.weight))
        rram_b2.initialise(syn, dev)
        return syn, (conns.i, conns.j)
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
    """ + rram_b2.model(dev)
    if syn_type.timing == "online":
        # On a spinnaker cell the pre event runs one step before its input is applied
        # (module docstring); count it then: the pre trace jumps by exp(dt/tau_plus) and
        # the post trace is read exp(-dt/tau_minus) later.
        early = post_cell.integration == "spinnaker"
        jump = repr(math.exp(dt / syn_type.tau_plus)) if early else "1"
        later = repr(math.exp(-dt / syn_type.tau_minus)) if early else "1"
        on_pre = "\n".join([f"apre += {jump}", rram_b2.write(dev, _depression(syn_type, "w", later)), deliver])
        on_post = "\n".join(["apost += 1", rram_b2.write(dev, _potentiation(syn_type, "w"))])
        syn = b2.Synapses(
            src,
            tgt,
            traces,
            on_pre=on_pre,
            on_post=on_post,
            namespace=ns,
            delay={"pre": d0 * b2.ms} if uniform else {},
            name=name,
        )
        _connect(syn, proj, conns)
        if not uniform:
            syn.pre.delay = b2_delay * b2.ms
        if early:
            syn.post.order = -2  # a post spike of this step precedes a pre spike counted at the next
        syn.w = _values(rram_b2.weights(dev, conns.weight))
        rram_b2.initialise(syn, dev)
        return syn, (conns.i, conns.j)
    # Deferred (sPyNNaker): updates happen at the pre spike, before delivery; post spikes
    # count after the whole (dendritic) delay; `w_pend` collects the pending
    # potentiation so that `w` changes only at pre spikes, as on the chip.
    model = (
        traces
        + """
    w_pend : 1
    post_seen : 1
    raw_factor : 1
    """
    )
    update = [
        rram_b2.write(dev, _depression(syn_type, "w_pend", "(post_seen + (1 - post_seen)*raw_factor)")),
        "w_pend = w",
        "post_seen = 0",
        "apre += 1",
    ]
    on_post = "\n".join(["apost += 1", _potentiation(syn_type, "w_pend"), "post_seen = 1"])
    immediate = uniform and d0 == 0.0
    on_pre: dict[str, str] = {"pre": "\n".join(update + ([deliver] if immediate else []))}
    delays: dict[str, Any] = {"pre": 0 * b2.ms}
    if not immediate:
        on_pre["deliver"] = deliver
        if uniform:
            delays["deliver"] = d0 * b2.ms
    post_delay = conns.delay
    post_uniform = bool(len(post_delay) == 0 or np.all(post_delay == post_delay[0]))
    if post_uniform:
        delays["post"] = (float(post_delay[0]) if len(post_delay) else 0.0) * b2.ms
    syn = b2.Synapses(src, tgt, model, on_pre=on_pre, on_post=on_post, namespace=ns, delay=delays, name=name)
    _connect(syn, proj, conns)
    if not immediate and not uniform:
        syn.deliver.delay = b2_delay * b2.ms
    if not post_uniform:
        syn.post.delay = post_delay * b2.ms
    syn.post.order = -2  # delayed post events of a step are counted before that step's pre spikes
    if not immediate:
        syn.deliver.order = 0  # a zero delivery delay delivers after the update (Brian2 sorts ties by name)
    syn.w = syn.w_pend = _values(rram_b2.weights(dev, conns.weight))
    rram_b2.initialise(syn, dev)
    syn.raw_factor = _values(np.exp(-conns.delay / syn_type.tau_minus))
    return syn, (conns.i, conns.j)


def _gated_write(
    b2: Any, proj: Projection, conns: Connections, dev: Any, deliver: str, delay: Any, src: Any, tgt: Any
) -> Any:
    """A :class:`~spikemem.synapses.GatedWrite` projection: the write runs in the
    trigger's pathway only, so reads cost one delivery per synapse and nothing else."""
    syn_type = proj.synapse
    assert isinstance(syn_type, GatedWrite)
    me, other = ("pre", "post") if syn_type.trigger == "pre" else ("post", "pre")
    tag = f"int(t < gate_until_{other})"
    target = f"(w_min + (w_max - w_min)*{tag})"
    write = rram_b2.write(dev, f"w = w + int(t < gate_until_{me})*({target} - w)")
    on_pre = "\n".join([write, deliver]) if me == "pre" else deliver
    on_post = write if me == "post" else None
    uniform = np.isscalar(delay)
    syn = b2.Synapses(
        src,
        tgt,
        "w : 1" + rram_b2.model(dev),
        on_pre=on_pre,
        on_post=on_post,
        namespace={"w_min": syn_type.w_min, "w_max": syn_type.w_max},
        delay={"pre": delay * b2.ms} if uniform else {},
        name=proj.name,
    )
    _connect(syn, proj, conns)
    if not uniform:
        syn.pre.delay = delay * b2.ms
    syn.w = _values(rram_b2.weights(dev, conns.weight))
    rram_b2.initialise(syn, dev)
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


def _indices(network: Network, proj: Projection, seed: int) -> tuple[np.ndarray, np.ndarray]:
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


def _values(values: np.ndarray) -> np.ndarray | float:
    """A scalar when every synapse has the same value (cheaper to set in standalone mode)."""
    if len(values) and np.all(values == values[0]):
        return float(values[0])
    return values


def collect(network: Network, built: Built, duration_ms: float) -> Results:
    """Read the monitors into a :class:`~spikemem.results.Results` (provenance added by the caller)."""
    import brian2 as b2

    results = Results(spikes={}, network=network)
    for name, mon in built.spike_monitors.items():
        size = network.population(name).size
        results.spikes[name] = SpikeTrains(size, np.asarray(mon.t / b2.ms), np.asarray(mon.i))
    for name, mon in built.v_monitors.items():
        results.traces[f"{name}.v"] = Trace(np.asarray(mon.t / b2.ms), np.asarray(mon.v / b2.mV).T.copy(), "mV")
    for name, mon in built.w_monitors.items():
        results.weights[name] = Trace(np.asarray(mon.t / b2.ms), np.asarray(mon.w).T.copy(), built.units[name])
        results.synapses[name] = built.connections[name]
    return results
