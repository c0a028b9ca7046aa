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
* ``IF_curr_delta`` cells (NEST's ``iaf_psc_delta``): a spike arriving in step ``t``
  moves ``v`` after that step's leak and before its threshold. The synapses add it to
  the cell's ``v_in`` in the ``synapses`` slot of step ``t - 1`` (Brian2 delay ``d - dt``)
  and the cell's step applies it; a refractory step discards it.
* ``online`` STDP counts a pre spike when its input is applied (``t + d``), also on
  ``spinnaker`` and delta cells whose Brian2 delivery runs a step earlier; a post spike in
  the step of the arrival counts as following it (potentiation at zero lag). On those
  cells a weight probe's sample at ``t + d`` already holds that pre spike's depression.
  A pre-triggered ``GatedWrite`` reads the gates at ``t + d`` likewise, and a plasticity
  ``Gate`` opens at ``t + d`` on every cell (its Brian2 delay is ``d``).
* Refractoriness: the membrane is held at ``v_reset`` for ``round(tau_refrac/dt)``
  steps after the spike step (NEST and sPyNNaker semantics; ``IF_curr_delta``: rounded
  up, as NEST does); Brian2 counts the spike step itself, hence
  ``refractory = tau_refrac + dt`` for exact conductance-based cells.

Cells become NeuronGroups (:mod:`.cells`), current sources ``TimedArray`` objects read by
those groups, projections Synapses (:mod:`.synapses`), a device model under a projection its
Brian2 state and noise (:mod:`.rram`).

Every Brian2 object costs time at every step, so populations of equal cells share one
NeuronGroup (each a slice of it), unrecorded spike sources whose projections are all
static or gates share one SpikeGeneratorGroup, and static and gate projections are fused
into one Synapses object per (source group, target group, action, delay)
(:mod:`.fuse`). The CUBA network becomes one NeuronGroup and two Synapses, as in
the hand-written Brian2 example; the CA3 functional circuit has 12 Brian2 objects.
Large uniform all-to-all static projections (the CA3's inhibitions) go through
spike-counting pools instead of ``|pre|·|post|`` synapses (:mod:`.pools`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikemem.currents import Injection
from spikemem.network import Network, Population, Projection
from spikemem.results import Results, SpikeTrains, Trace
from spikemem.synapses import Gate

from . import fuse, pools
from .cells import cell_group, set_initial_v
from .synapses import brian2_delay_ms, deliver, indices, pathway_delay_ms, projection, values


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
        injections = [inj for pop in members for inj in network.currents if inj.target == pop.name]
        currents = [_timed_array(b2, built, inj, duration_ms, dt) for inj in injections]
        group = cell_group(b2, merged, built.unique(f"{merged.name}_step"), dt, gated, currents)
        _place(built, offsets, group, members)
        for k, inj in enumerate(injections):
            reached = np.zeros(merged.size)
            start = offsets[inj.target][1]
            reached[start + inj.indices(network.population(inj.target).size)] = 1.0
            setattr(group, f"m_{k}", reached)
        for pop in members:
            v0 = pop.initial_v if pop.initial_v is not None else pop.cell.initial_v
            set_initial_v(b2, built.groups[pop.name], pop.cell, v0)
    pooled = _pools(b2, network, built, weighed, seed)
    fused: dict[tuple[Any, ...], fuse.Fused] = {}
    for proj in network.projections:
        if proj.name in pooled:
            cell = network.population(proj.post).cell
            pool_slice, how = pooled[proj.name]
            syn, made = pools.connect(
                b2,
                how,
                proj.name,
                pool_slice,
                built.groups[proj.pre],
                built.groups[proj.post],
                lambda weight, cell=cell, proj=proj: deliver(cell, proj.receptor, dt, weight),
                built.unique,
            )
            built.synapses[proj.name] = syn
            built.objects += made
            continue
        if fuse.simple(network, proj, weighed, seed):  # as is every projection of a merged input
            conns = network.connections(proj, seed)
            (src, i0), (tgt, j0) = offsets[proj.pre], offsets[proj.post]
            delays = pathway_delay_ms(proj, network.population(proj.post).cell, conns.delay, dt)
            code = fuse.action(network, proj, dt)
            fuse.add(fused, src, tgt, code, (conns.i + i0, conns.j + j0, conns.weight, delays), proj.name)
            continue
        syn, conns = projection(b2, network, proj, seed, built.groups)
        built.synapses[proj.name] = syn
        if proj.name in weighed:
            built.connections[proj.name] = conns if len(conns[0]) else indices(network, proj, seed)
        built.units[proj.name] = network.population(proj.post).cell.weight_unit
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
        syn.w = values(np.concatenate(entry.w))
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


def _pools(
    b2: Any, network: Network, built: Built, weighed: set[str], seed: int
) -> dict[str, tuple[Any, pools.Pooled]]:
    """Projection name → its slice of the pool group and how it is pooled, for the
    projections realised by spike-counting pools (:mod:`.pools`); the group joins ``built``."""

    def delay_ms(proj: Projection) -> float:
        return float(brian2_delay_ms(network.population(proj.post).cell, proj.synapse.delay, network.dt))

    plans = {}
    for p in network.projections:
        how = pools.plan(network, p, weighed, seed, delay_ms)
        if how is not None:
            plans[p.name] = how
    if not plans:
        return {}
    sizes = [h.copies for h in plans.values()]
    group = pools.pool_group(b2, sum(sizes), built.unique("pools"), built.unique("pools_step"))
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


def _timed_array(b2: Any, built: Built, injection: Injection, duration_ms: float, dt: float) -> Any:
    """The amplitudes (nA, as numbers) of an injected source, one per step of the run."""
    n_steps = int(np.ceil(duration_ms / dt - 1e-9)) + 1
    values = injection.source.steps(n_steps, dt)
    return b2.TimedArray(values, dt=dt * b2.ms, name=built.unique(f"{injection.name}_current"))


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
