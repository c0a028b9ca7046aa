"""A spikemem Network as PyNN populations, projections and recorders (the translation tables).

See the ``pynn`` target's docstring for the table of what becomes what and the
per-backend corrections (time stamps, refractoriness, STDP delays); :class:`Clock`
holds the time-stamp shift, the backend table (:mod:`.backends`) the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikemem.cells import Cell, IF_cond_exp, IF_curr_delta
from spikemem.connectors import AllToAll, OneToOne
from spikemem.currents import CurrentSource, DCSource
from spikemem.errors import UnsupportedFeature
from spikemem.network import Network, Population, Projection
from spikemem.synapses import STDP, Gate, GatedWrite, TsodyksMarkram

from . import writes as host_side
from .backends import Backend

CELL_PARAMETERS = ("cm", "tau_m", "tau_refrac", "tau_syn_E", "tau_syn_I", "v_rest", "v_reset", "v_thresh", "i_offset")
COND_PARAMETERS = ("e_rev_E", "e_rev_I")
DELTA_PARAMETERS = ("cm", "tau_m", "tau_refrac", "v_rest", "v_reset", "v_thresh", "i_offset")


@dataclass
class Lowered:
    """The PyNN objects of one network and what is needed to read them back."""

    populations: dict[str, Any] = field(default_factory=dict)
    projections: dict[str, Any] = field(default_factory=dict)
    connections: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    get_set_scales: dict[str, float] = field(default_factory=dict)  # Backend.delta_get_set_scale


def parameter_names(cell: Cell) -> tuple[str, ...]:
    """The PyNN parameters of ``cell``'s type (spikemem uses PyNN's names and units)."""
    if isinstance(cell, IF_curr_delta):
        return DELTA_PARAMETERS
    return CELL_PARAMETERS + (COND_PARAMETERS if isinstance(cell, IF_cond_exp) else ())


def cell_parameters(cell: Cell, dt: float, backend: Backend) -> dict[str, float]:
    """PyNN parameters of a spikemem cell (names and units are PyNN's)."""
    params = {key: float(getattr(cell, key)) for key in parameter_names(cell)}
    if backend.refractory_includes_spike_step:
        params["tau_refrac"] += dt
    return params


def cell_type(sim: Any, cell: Cell, backend: Backend) -> Any:
    """The PyNN cell type of ``cell`` in module ``sim``; ``IF_curr_delta`` with the variable map
    of ``v`` added where the backend's lacks it (:attr:`.Backend.delta_needs_v_map`)."""
    if isinstance(cell, IF_cond_exp):
        return sim.IF_cond_exp
    if not isinstance(cell, IF_curr_delta):
        return sim.IF_curr_exp
    if backend.delta_needs_v_map and not hasattr(sim.IF_curr_delta, "variable_map"):
        return type("IF_curr_delta", (sim.IF_curr_delta,), {"variable_map": {"v": "V_m"}, "scale_factors": {"v": 1}})
    return sim.IF_curr_delta


def get_set_scale(network: Network, proj: Projection, backend: Backend) -> float:
    """What ``Projection.get`` and ``Projection.set`` multiply ``proj``'s weights by on ``backend``."""
    delta = isinstance(network.population(proj.post).cell, IF_curr_delta)
    return backend.delta_get_set_scale if delta else 1.0


def grid_times(times: np.ndarray, dt: float) -> np.ndarray:
    """Spike times placed on the time grid, one spike per step (as every time-stepped target sees them)."""
    steps = np.unique(np.rint(np.asarray(times, dtype=float) / dt).astype(np.int64))
    return steps * dt


def source_trains(network: Network, pop: Population, duration_ms: float, seed: int) -> list[np.ndarray]:
    """Grid-placed spike times (ms) of a source population, one array per neuron."""
    return [grid_times(t, network.dt) for t in network.source_times(pop, duration_ms, seed)]


def signed_weights(network: Network, proj: Projection, weights: np.ndarray, backend: Backend) -> np.ndarray:
    """Weights as the backend wants them: negative for current-based inhibitory synapses."""
    post = network.population(proj.post).cell
    flip = backend.negative_inhibitory_currents and proj.receptor == "inhibitory" and not isinstance(post, IF_cond_exp)
    return -weights if flip else weights


def stdp_amplitudes(syn: STDP, backend: Backend) -> tuple[float, float]:
    """``(A_plus, A_minus)`` in the backend's convention.

    PyNN: additive steps are ``A * w_max``. sPyNNaker 7 writes A± to the chip unscaled
    and adds them as they are, so it gets ``A * w_max``.
    """
    if backend.absolute_additive_amplitudes and syn.weight_dependence == "additive":
        return syn.A_plus * syn.w_max, syn.A_minus * syn.w_max
    return syn.A_plus, syn.A_minus


def synapse_type(sim: Any, network: Network, proj: Projection, backend: Backend) -> Any:
    """The PyNN synapse type of a projection (weights/delays of FromList come from the connector)."""
    syn = proj.synapse
    weight = float(signed_weights(network, proj, np.array([syn.weight]), backend)[0])
    if isinstance(syn, TsodyksMarkram):  # NEST's tsodyks_synapse; PyNN sets its tau_psc from the post cell
        return sim.TsodyksMarkramSynapse(
            U=syn.U, tau_rec=syn.tau_rec, tau_facil=syn.tau_facil, weight=weight, delay=syn.delay
        )
    if not isinstance(syn, STDP):
        return sim.StaticSynapse(weight=weight, delay=syn.delay)
    dependence = (
        sim.AdditiveWeightDependence if syn.weight_dependence == "additive" else sim.MultiplicativeWeightDependence
    )
    kwargs: dict[str, Any] = {}
    if backend.dendritic_delay_fraction is not None:
        kwargs["dendritic_delay_fraction"] = backend.dendritic_delay_fraction
    a_plus, a_minus = stdp_amplitudes(syn, backend)
    return sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(
            tau_plus=syn.tau_plus, tau_minus=syn.tau_minus, A_plus=a_plus, A_minus=a_minus
        ),
        weight_dependence=dependence(w_min=syn.w_min, w_max=syn.w_max),
        weight=weight,
        delay=syn.delay,
        **kwargs,
    )


def native_connector(network: Network, proj: Projection, backend: Backend) -> str | None:
    """``"one_to_one"``/``"all_to_all"`` where the backend's own connector builds exactly
    spikemem's synapses, else None (an explicit list is passed)."""
    conn = proj.connector
    if isinstance(conn, OneToOne) and network.population(proj.pre).size > 1:  # PyNN 0.13 fails on size 1
        return "one_to_one"
    if isinstance(conn, AllToAll):
        if conn.allow_self_connections:
            return "all_to_all"
        # PyNN drops i == j only within one population; spikemem drops it by index
        if proj.pre == proj.post and backend.native_all_but_self:
            return "all_to_all"
    return None


def connector(sim: Any, network: Network, proj: Projection, seed: int, backend: Backend) -> tuple[Any, Any]:
    """The PyNN connector of a projection and the spikemem synapses it creates (i, j order)."""
    conns = network.connections(proj, seed)
    native = native_connector(network, proj, backend)
    if native == "one_to_one":
        return sim.OneToOneConnector(), conns
    if native == "all_to_all":
        return sim.AllToAllConnector(allow_self_connections=proj.connector.allow_self_connections), conns
    weights = signed_weights(network, proj, conns.weight, backend)
    rows = np.column_stack([conns.i, conns.j, weights, conns.delay])
    return sim.FromListConnector(rows, column_names=["weight", "delay"]), conns


def current_source(sim: Any, source: CurrentSource, shift_ms: float = 0.0) -> Any:
    """PyNN's ``DCSource`` or ``StepCurrentSource`` of a spikemem current source, its times
    ``shift_ms`` later (the :class:`Clock`'s offset). PyNN's sources change at the same step
    as spikemem's (pyNN.nest starts NEST's generators one step early to that end)."""
    if isinstance(source, DCSource):
        stop = {} if source.stop is None else {"stop": source.stop + shift_ms}
        return sim.DCSource(amplitude=source.amplitude, start=source.start + shift_ms, **stop)
    times, amplitudes = source.changes()
    # plain lists: sPyNNaker takes nothing else
    return sim.StepCurrentSource(times=[float(t) for t in times + shift_ms], amplitudes=[float(a) for a in amplitudes])


@dataclass(frozen=True)
class Clock:
    """How the simulator's time stamps relate to spikemem's.

    The simulator's state at its time ``t + offset_ms`` is spikemem's state at ``t``;
    its spike stamps are a further ``spike_lag_ms`` later (NEST stamps the end of a step).
    """

    offset_ms: float = 0.0
    spike_lag_ms: float = 0.0

    @property
    def spike_shift_ms(self) -> float:
        return self.offset_ms + self.spike_lag_ms


#: The clock of a backend that stamps spikes as spikemem does.
SAME_CLOCK = Clock()


def clock_for(network: Network, duration_ms: float, seed: int, backend: Backend) -> Clock:
    """NEST: spikes are stamped one step later; a source spike in the first step (which
    NEST's spike generators cannot emit) moves the whole run one step later, which is
    exact only when every cell starts at rest. Other backends: no shift."""
    if not backend.shift_one_step:
        return SAME_CLOCK
    dt = network.dt
    early = [
        pop.name
        for pop in network.populations
        if pop.is_source and any(len(t) and t[0] < dt / 2 for t in source_trains(network, pop, duration_ms, seed))
    ]
    if not early:
        return Clock(0.0, dt)
    for pop in network.populations:
        if pop.is_source:
            continue
        v0 = np.asarray(pop.initial_v if pop.initial_v is not None else pop.cell.initial_v)
        driven = any(inj.target == pop.name and inj.source.steps(1, dt)[0] != 0.0 for inj in network.currents)
        if pop.cell.i_offset != 0.0 or driven or np.any(v0 != pop.cell.v_rest):
            raise UnsupportedFeature(
                f"pynn:{backend.name}",
                f"a spike of source {early[0]!r} at t = 0 ms",
                "NEST's spike generators cannot fire in the first step; spikemem then runs NEST one step "
                f"ahead, which is exact only when every cell starts at rest ({pop.name!r} does not)",
            )
    return Clock(dt, dt)


def lower(
    sim: Any, network: Network, duration_ms: float, seed: int, backend: Backend, clock: Clock = SAME_CLOCK
) -> Lowered:
    """Create the populations, projections and recorders of ``network`` in PyNN module ``sim``."""
    lowered = Lowered()
    dt = network.dt
    for pop in network.populations:
        if pop.is_source:
            shift = clock.spike_shift_ms - backend.source_lead_steps * dt
            trains = [t + shift for t in source_trains(network, pop, duration_ms, seed)]
            # PyNN wants one Sequence per neuron, sPyNNaker plain lists
            spikes = [[float(x) for x in t] if backend.plain_spike_lists else _sequence(t) for t in trains]
            celltype = sim.SpikeSourceArray(spike_times=spikes)
            ppop = sim.Population(pop.size, celltype, label=pop.name)
        else:
            cell = pop.cell
            ctype = cell_type(sim, cell, backend)
            ppop = sim.Population(pop.size, ctype(**cell_parameters(cell, dt, backend)), label=pop.name)
            v0 = pop.initial_v if pop.initial_v is not None else cell.initial_v
            ppop.initialize(v=v0 if np.isscalar(v0) else np.asarray(v0, dtype=float))
        lowered.populations[pop.name] = ppop
    for injection in network.currents:
        ppop = lowered.populations[injection.target]
        current_source(sim, injection.source, clock.offset_ms).inject_into(ppop[injection.indices(ppop.size).copy()])
    for proj in network.projections:
        if isinstance(proj.synapse, Gate):  # carried out by the host (.writes)
            continue
        conn, conns = connector(sim, network, proj, seed, backend)
        post = network.population(proj.post).cell
        lowered.projections[proj.name] = sim.Projection(
            lowered.populations[proj.pre],
            lowered.populations[proj.post],
            conn,
            synapse_type(sim, network, proj, backend),
            receptor_type=proj.receptor,
            label=proj.name,
        )
        lowered.connections[proj.name] = (conns.i, conns.j)
        lowered.units[proj.name] = post.weight_unit
        lowered.get_set_scales[proj.name] = get_set_scale(network, proj, backend)
    recorded = {p.target for p in network.probes if p.variable == "spikes"}
    triggers = {host_side.ends(p)[0] for p in network.projections if isinstance(p.synapse, GatedWrite)}
    for name in sorted(recorded | triggers):
        lowered.populations[name].record("spikes")
    for probe in network.probes:
        if probe.variable == "v":
            lowered.populations[probe.target].record("v", sampling_interval=probe.every_ms or dt)
    return lowered


def _sequence(times: np.ndarray) -> Any:
    from pyNN.parameters import Sequence

    return Sequence(np.asarray(times, dtype=float))
