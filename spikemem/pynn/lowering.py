"""What a PyNN script built, lowered to a spikemem :class:`~spikemem.network.Network`.

One spikemem population per PyNN ``Population`` (views and assemblies are index sets of
those); one :class:`~spikemem.currents.Injection` per current source and population it reaches;
one spikemem projection per PyNN ``Projection``: the description's ``OneToOne`` or
``AllToAll`` where the PyNN projection joins whole populations with one weight and delay,
else a ``FromList`` of its synapses. The translations that differ between PyNN and
spikemem happen here, and refusals are raised here, before anything runs:

* cells take the state's semantics as their ``integration`` (``"exact"`` or ``"spinnaker"``);
* PyNN's dialect stamps a spike at the end of the step it falls in, as NEST does (spikemem's
  targets stamp its start): ``SpikeSourceArray`` times become the start of their step
  (:func:`end_of_step_times`) and recorded spikes come back one step later (:mod:`.recording`),
  so spikes *and* ``v`` equal pyNN.nest's;
* weights become magnitudes, the receptor giving the sign (PyNN's negative inhibitory
  current weights are checked where the script connects, :mod:`.projections`);
* ``STDPMechanism``: exact semantics is ``timing="online"`` (the whole delay axonal, so it
  needs ``dendritic_delay_fraction=0``, as pyNN.brian2 does); spinnaker semantics is
  ``timing="deferred"`` (the whole delay dendritic, sPyNNaker's rule). In sPyNNaker's dialect
  ``AdditiveWeightDependence``'s amplitudes are absolute weight changes, so spikemem's
  ``A_plus`` (a fraction of ``w_max``, PyNN's meaning) is ``A_plus / w_max``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyNN.connectors import AllToAllConnector, OneToOneConnector

from ..cells import IF_cond_exp, IF_curr_delta, IF_curr_exp
from ..connectors import AllToAll, FromList, OneToOne
from ..currents import Injection
from ..errors import UnsupportedFeature, ValidationError
from ..network import Network, Population, Probe, Projection
from ..sources import Poisson, SpikeTimes
from ..synapses import STDP, Static, TsodyksMarkram
from . import standardmodels as sm

FRONT_END = "spikemem.pynn"
_CELLS = {sm.IF_curr_exp: IF_curr_exp, sm.IF_cond_exp: IF_cond_exp, sm.IF_curr_delta: IF_curr_delta}


@dataclass
class Lowered:
    """The network and the spikemem name of each PyNN population."""

    network: Network
    names: dict[Any, str]
    projections: dict[Any, str]


def _unique(label: str | None, fallback: str, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", label or "") or fallback
    if not base.isidentifier():
        base = f"p_{base}"
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name


def _uniform(pop: Any, key: str) -> Any:
    values = np.asarray(pop._parameters[key])
    first = values.reshape(-1)[0]
    if values.dtype != object and not np.all(values == first):
        raise UnsupportedFeature(
            FRONT_END,
            f"different values of {key} within Population {pop.label!r}",
            "a spikemem population has one cell type; make one Population per value",
        )
    return first


def _times(row: np.ndarray) -> np.ndarray:
    """One neuron's spike times: a PyNN ``Sequence``, or plain numbers where PyNN evaluated them so."""
    if len(row) == 1 and hasattr(row[0], "value"):
        return np.asarray(row[0].value, dtype=float)
    return np.asarray([float(t) for t in row], dtype=float)


def end_of_step_times(times: np.ndarray, dt: float, label: str) -> np.ndarray:
    """PyNN's spike times (NEST's stamps: the end of the step a spike falls in) as spikemem's
    (the start of that step); a spike before the end of the first step is refused."""
    steps = np.ceil(np.asarray(times, dtype=float) / dt - 1e-9) - 1
    if np.any(steps < 0):
        raise ValidationError(
            f"Population {label!r}.spike_times",
            float(np.min(times)),
            f"times >= the time step ({dt:g} ms): PyNN stamps a spike at the end of its step, as NEST does "
            "(spikemem.pynn.spinnaker takes spikes at 0 ms)",
        )
    return steps * dt


def _cell(pop: Any, state: Any) -> Any:
    semantics = state.semantics
    celltype = type(pop.celltype)
    if celltype is sm.SpikeSourceArray:
        trains = np.asarray(pop._parameters["spike_times"], dtype=object).reshape(pop.size, -1)
        times = [_times(row) for row in trains]
        if state.dialect == "pynn":
            times = [end_of_step_times(t, state.dt, pop.label) for t in times]
        return SpikeTimes(times)
    if celltype is sm.SpikeSourcePoisson:
        rate, start, duration = (float(_uniform(pop, k)) for k in ("rate", "start", "duration"))
        return Poisson(rate_hz=rate, start_ms=start, stop_ms=start + duration if np.isfinite(duration) else None)
    cls = _CELLS.get(celltype)
    if cls is None:
        raise UnsupportedFeature(FRONT_END, f"PyNN's {celltype.__name__}", "not a cell type of spikemem's description")
    if semantics == "spinnaker" and cls is IF_curr_delta:
        raise UnsupportedFeature(
            FRONT_END, "IF_curr_delta with spinnaker semantics", "the description's delta cell integrates exactly only"
        )
    params = {key: float(_uniform(pop, key)) for key in pop._parameters}
    return cls(**params, integration=semantics)


def _ends(end: Any) -> tuple[Any, np.ndarray, bool]:
    """The Population under a Population or view, the view's indices in it, and whether it is whole."""
    if hasattr(end, "grandparent"):
        parent = end.grandparent
        index = np.asarray(end.index_in_grandparent(np.arange(end.size)), dtype=np.int64)
        return parent, index, bool(len(index) == parent.size and np.array_equal(index, np.arange(parent.size)))
    return end, np.arange(end.size, dtype=np.int64), True


def _synapse(prj: Any, weight: float, delay: float, dialect: str, semantics: str) -> Any:
    syn = prj.synapse_type
    if isinstance(syn, sm.StaticSynapse):
        return Static(weight=weight, delay=delay)
    if isinstance(syn, sm.TsodyksMarkramSynapse):
        if dialect == "spinnaker":
            raise UnsupportedFeature(FRONT_END, "PyNN's TsodyksMarkramSynapse", "sPyNNaker 7 has no such synapse")
        value = {k: float(syn.parameter_space[k].base_value) for k in ("U", "tau_rec", "tau_facil")}
        return TsodyksMarkram(weight=weight, delay=delay, **value)
    timing, dependence = syn.timing_dependence, syn.weight_dependence
    if not isinstance(timing, sm.SpikePairRule):
        raise UnsupportedFeature(FRONT_END, f"PyNN's {type(timing).__name__}", "spikemem's STDP is pair-based")
    kinds = {sm.AdditiveWeightDependence: "additive", sm.MultiplicativeWeightDependence: "multiplicative"}
    kind = kinds.get(type(dependence))
    if kind is None:
        raise UnsupportedFeature(
            FRONT_END, f"PyNN's {type(dependence).__name__}", "additive or multiplicative weight dependence only"
        )
    t, w = timing.parameter_space, dependence.parameter_space
    value = {k: float(v.base_value) for k, v in (*t.items(), *w.items())}
    fraction = float(syn.dendritic_delay_fraction)
    if semantics == "exact" and dialect == "pynn" and fraction != 0:
        raise UnsupportedFeature(
            FRONT_END,
            f"STDPMechanism(dendritic_delay_fraction={fraction:g})",
            "exact semantics counts the whole delay as axonal; set dendritic_delay_fraction=0 (as pyNN.brian2 needs)",
        )
    a_plus, a_minus = value["A_plus"], value["A_minus"]
    if dialect == "spinnaker" and kind == "additive":  # sPyNNaker: absolute amplitudes
        scale = value["w_max"] if value["w_max"] > 0 else 1.0
        a_plus, a_minus = a_plus / scale, a_minus / scale
    return STDP(
        weight=min(max(weight, value["w_min"]), value["w_max"]),
        delay=delay,
        tau_plus=value["tau_plus"],
        tau_minus=value["tau_minus"],
        A_plus=a_plus,
        A_minus=a_minus,
        w_min=value["w_min"],
        w_max=value["w_max"],
        weight_dependence=kind,
        timing="online" if semantics == "exact" else "deferred",
    )


def _projection(prj: Any, name: str, names: dict[Any, str], state: Any) -> Projection | None:
    if not len(prj):
        return None
    pre, pre_index, pre_whole = _ends(prj.pre)
    post, post_index, post_whole = _ends(prj.post)
    i, j = pre_index[prj._i], post_index[prj._j]
    w, d = np.abs(prj._w), prj._d
    one_w, one_d = bool(np.all(w == w[0])), bool(np.all(d == d[0]))
    connector: Any = None
    if pre_whole and post_whole and one_w and one_d:
        if isinstance(prj._connector, OneToOneConnector) and pre.size == post.size == len(i):
            connector = OneToOne()
        elif isinstance(prj._connector, AllToAllConnector) and len(i) == AllToAll(
            allow_self_connections=bool(prj._connector.allow_self_connections)
        ).count(pre.size, post.size, 0):
            connector = AllToAll(allow_self_connections=bool(prj._connector.allow_self_connections))
    if connector is None:
        connector = FromList(np.column_stack([i, j, w, d]))
    synapse = _synapse(prj, float(w[0]), float(d[0]), state.dialect, state.semantics)
    return Projection(name, names[pre], names[post], connector, synapse, prj.receptor_type)


def lower(state: Any) -> Lowered:
    """The spikemem network of everything the script built (module docstring)."""
    taken: set[str] = set()
    names = {pop: _unique(pop.label, f"population{k}", taken) for k, pop in enumerate(state.populations)}
    populations = []
    for pop in state.populations:
        cell = _cell(pop, state)
        v0 = pop._initial_v
        initial = None if isinstance(cell, (SpikeTimes, Poisson)) or np.all(np.isnan(v0)) else v0
        populations.append(Population(names[pop], pop.size, cell, initial_v=initial))
    projections, projection_names = [], {}
    for k, prj in enumerate(state.projections):
        lowered = _projection(prj, _unique(prj.label, f"projection{k}", taken), names, state)
        if lowered is not None:
            projections.append(lowered)
            projection_names[prj] = lowered.name
    probes = []
    for pop in state.populations:
        for variable in sorted({v.name for v, ids in pop.recorder.recorded.items() if ids}):
            probes.append(Probe(names[pop], variable))
    probes += [Probe(projection_names[prj], "weight") for prj in state.projections if prj in state.weighed]
    injections = []
    for source in state.current_sources:
        for pop, index in source.targets:
            whole = len(index) == pop.size and np.array_equal(np.sort(index), np.arange(pop.size))
            name = _unique(None, f"current{len(injections)}", taken)
            injections.append(Injection(name, source.description(), names[pop], None if whole else index))
    network = Network(populations, projections, probes, dt=state.dt, name="pynn_script", currents=injections)
    return Lowered(network, names, projection_names)
