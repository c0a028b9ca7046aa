"""The ``pynn`` target: a spikemem Network lowered to a PyNN simulator module.

``pynn:nest`` runs on NEST (``pyNN.nest``), ``pynn:brian2`` on Brian2 through PyNN
(``pyNN.brian2``). The lowering is a set of translation tables, in PyNN's own style:

============================  =================================================
spikemem                      PyNN
============================  =================================================
``IF_curr_exp``/``IF_cond_exp``  ``sim.IF_curr_exp``/``sim.IF_cond_exp`` (same
                              parameter names and units)
``SpikeTimes``, ``Poisson``   ``sim.SpikeSourceArray`` with the spike times that
                              spikemem draws itself (``Network.source_times``), so
                              every target receives the same input
``OneToOne``, ``AllToAll``    ``OneToOneConnector``, ``AllToAllConnector``
``FixedProbability``,         ``FromListConnector`` with the synapses resolved by
``FromList``, ``AllToAll``    spikemem (PyNN's random draws differ per backend;
without self-connections      PyNN skips i == j only within one population)
between two populations
``Static``                    ``StaticSynapse``
``STDP``                      ``STDPMechanism(SpikePairRule, Additive|Multiplicative-
                              WeightDependence, dendritic_delay_fraction)``
``receptor``                  ``receptor_type``; current-based inhibitory weights
                              are negative in PyNN
``GatedWrite`` and ``Gate``   a ``StaticSynapse`` projection whose weights the host
                              rewrites between time steps (:mod:`._pynn_writes`);
                              the gates are not sent to the simulator
============================  =================================================

What the model means is kept across backends by a few per-backend corrections, each
verified against the ``brian2`` target (tests/test_pynn.py):

* Time stamps. spikemem (like Brian2) stamps a spike with the start of the step in
  which the membrane crossed threshold; NEST stamps it with the end of that step and
  feeds spike-source spikes one step earlier. On NEST spike-source times are given
  ``+dt`` and every recorded spike time is read back ``-dt``; NEST's on-grid neuron
  models (``spike_precision="on_grid"``: ``iaf_psc_exp``, ``iaf_cond_exp``) are used.
  NEST's spike generators cannot fire in the first step: when a source spikes at
  ``t = 0`` the whole NEST run starts one step early, which is exact (and allowed) only
  when every cell starts at rest without offset current.
* Refractoriness. spikemem holds the membrane for ``round(tau_refrac/dt)`` steps after
  the spike step; pyNN.brian2 counts the spike step itself, so it gets
  ``tau_refrac + dt``.
* STDP delays (stack.md P11). ``timing="online"`` counts the pre spike when it reaches
  the synapse, after the whole delay (axonal: ``dendritic_delay_fraction=0``), which is
  what pyNN.brian2 does. NEST's ``stdp_synapse`` treats the whole delay as dendritic
  (``dendritic_delay_fraction=1``): a pair (pre at ``t``, post at ``s``) is evaluated
  at lag ``s + d - t`` instead of ``s - t - d``, pairs at zero lag are ignored and
  weights change only at pre spikes. That is a different rule, so ``pynn:nest``
  refuses STDP unless the caller accepts it with ``dendritic_stdp=True``.

Current-based cells then give the ``brian2`` target's spikes exactly, on both backends.
Conductance-based cells are integrated numerically by each simulator (exponential Euler
in spikemem's Brian2 lowering, Euler in pyNN.brian2, an adaptive Runge–Kutta in NEST), so
their spikes agree only approximately.

Gated writes. PyNN's plasticity rules have no third factor, so a ``GatedWrite`` runs as
host-in-the-loop learning: the run pauses after each step in which a trigger neuron's
gate is open, reads which trigger neurons spiked, and sets their synapses with
``Projection.set`` before the spike is delivered. The gates must be driven by spike
sources (their open times are then known before the run). On both backends this gives
the ``brian2`` target's spikes exactly (the CA3 functional circuit: tests/test_backends_ca3.py).

Refused before running (:class:`~spikemem.errors.UnsupportedFeature`): gates driven by
cells, gated STDP and device models (no PyNN standard model), the
``spinnaker`` integration and ``deferred`` STDP (both SpiNNaker semantics; use the
``brian2`` or ``spinnaker`` targets), STDP onto current-based inhibitory receptors
(PyNN's negative-weight convention breaks the rule), multiplicative STDP and repeated
(pre, post) pairs on pyNN.brian2 (PyNN 0.13 applies the additive rule whatever the
weight dependence, and sets synapse parameters per neuron pair), and
on NEST: ``w_min != 0``, ``A_plus = 0`` with ``A_minus > 0``, and one post population
with two different ``tau_minus`` (NEST keeps ``tau_minus`` in the neuron).

Options: ``threads`` (NEST's ``local_num_threads``), ``codegen`` (pyNN.brian2's code
generation target, ``"numpy"`` by default or ``"cython"`` with the spikemem cache,
stack.md P16), ``dendritic_stdp`` (see above). Weight probes are read with
``Projection.get`` between chunks of the run, every ``every_ms``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import math
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spikemem._checks import count, one_of
from spikemem.cache import cache_dir
from spikemem.cells import IF_cond_exp, IF_curr_exp
from spikemem.connectors import AllToAll, OneToOne
from spikemem.errors import TargetNotInstalled, UnsupportedFeature, ValidationError
from spikemem.network import Network, Population, Projection
from spikemem.provenance import provenance
from spikemem.results import Results, SpikeTrains, Trace
from spikemem.synapses import STDP, Gate, GatedWrite
from spikemem.targets import TargetInfo

from . import _pynn_writes as host_side

TARGET = TargetInfo(
    name="pynn",
    description="PyNN simulator modules: NEST (pynn:nest) and Brian2 via PyNN (pynn:brian2)",
    requires=("pyNN",),
    install_hint="pip install 'spikemem[pynn]'",
    features=frozenset(
        {"IF_curr_exp", "IF_cond_exp", "integration=exact", "STDP online", "Poisson", "FromList", "record v"}
        | {"gated learning", "record weight", "run"}
    ),
    variants=("nest", "brian2"),
)

OPTIONS = ("threads", "codegen", "dendritic_stdp")
CODEGEN = ("numpy", "cython")


@dataclass(frozen=True)
class Backend:
    """How one PyNN simulator module is driven (the per-backend translation table)."""

    name: str
    module: str
    requires: str
    install_hint: str
    dendritic_delay_fraction: float | None
    #: spike-source times are given +dt and recorded spike times read back -dt (NEST).
    shift_one_step: bool = False
    #: tau_refrac is given +dt (the backend counts the spike step as refractory).
    refractory_includes_spike_step: bool = False
    #: current-based inhibitory weights are given as negative numbers.
    negative_inhibitory_currents: bool = True
    #: additive STDP amplitudes are absolute weight steps (A * w_max), not fractions of w_max.
    absolute_additive_amplitudes: bool = False
    #: SpikeSourceArray takes plain lists of times, not PyNN Sequences.
    plain_spike_lists: bool = False
    #: AllToAllConnector(allow_self_connections=False) works (sPyNNaker's fails on split populations).
    native_all_but_self: bool = True
    #: steps to run past a spike's step before the host sees it (PyNN's NEST runs a step further).
    spike_seen_after_steps: int = 1
    setup: dict[str, Any] = field(default_factory=dict)


BACKENDS = {
    "nest": Backend(
        "nest",
        "pyNN.nest",
        "nest",
        "pip install 'spikemem[pynn]' (nest-simulator)",
        dendritic_delay_fraction=1.0,
        shift_one_step=True,
        spike_seen_after_steps=0,
        setup={"spike_precision": "on_grid", "verbosity": "error"},
    ),
    "brian2": Backend(
        "brian2",
        "pyNN.brian2",
        "brian2",
        "pip install 'spikemem[pynn]'",
        dendritic_delay_fraction=0.0,
        refractory_includes_spike_step=True,
    ),
}
DEFAULT_VARIANT = "nest"

CELL_PARAMETERS = ("cm", "tau_m", "tau_refrac", "tau_syn_E", "tau_syn_I", "v_rest", "v_reset", "v_thresh", "i_offset")
COND_PARAMETERS = ("e_rev_E", "e_rev_I")


def backend_for(variant: str | None) -> Backend:
    """The backend of ``pynn:<variant>`` (``nest`` when no variant is given)."""
    name = variant or DEFAULT_VARIANT
    if name not in BACKENDS:
        raise ValidationError("target", f"pynn:{name}", "pynn:nest or pynn:brian2")
    return BACKENDS[name]


# --- checks -------------------------------------------------------------------------


def check(network: Network, variant: str | None = None, **options: Any) -> None:
    """Refuse what this backend cannot run as described, before anything is built.

    Raises
    ------
    ValidationError
        An unknown or malformed option.
    TargetNotInstalled
        The simulator behind the variant is missing.
    UnsupportedFeature
        A semantics of the network the backend does not honour (see the module docstring).
    """
    backend = backend_for(variant)
    target = f"pynn:{backend.name}"
    for key, value in options.items():
        if key not in OPTIONS:
            raise ValidationError(f"option {key}", value, "one of " + ", ".join(OPTIONS) + " for target pynn")
    if options.get("threads") is not None:
        count("option threads", options["threads"])
        if backend.name != "nest":
            raise ValidationError("option threads", options["threads"], "only with pynn:nest (NEST's thread count)")
    if options.get("codegen") is not None:
        one_of("option codegen", options["codegen"], CODEGEN)
        if backend.name != "brian2":
            raise ValidationError("option codegen", options["codegen"], "only with pynn:brian2")
    if options.get("dendritic_stdp") and backend.name != "nest":
        raise ValidationError("option dendritic_stdp", options["dendritic_stdp"], "only with pynn:nest")
    if importlib.util.find_spec(backend.requires) is None:
        raise TargetNotInstalled(target, backend.requires, backend.install_hint)
    check_semantics(network, backend, dendritic_stdp=bool(options.get("dendritic_stdp", False)))


def brian2_only_features(network: Network, host_writes: bool = False) -> list[tuple[str, str]]:
    """spikemem features with no PyNN standard model (plasticity gates, gated STDP, gated
    writes, device models under synapses), as (feature, reason) pairs. ``host_writes``:
    leave out gates and gated writes, which the PyNN targets carry out on the host
    (:mod:`._pynn_writes`)."""
    found = []
    for proj in network.projections:
        syn = proj.synapse
        if isinstance(syn, Gate) and not host_writes:
            found.append((f"the plasticity gate {proj.name!r}", "PyNN has no modulatory gate synapse"))
        elif isinstance(syn, STDP) and syn.gated:
            found.append((f"gated STDP on {proj.name!r}", "PyNN's STDP rules have no third factor"))
        elif isinstance(syn, GatedWrite) and not host_writes:
            found.append((f"the gated write on {proj.name!r}", "PyNN's plasticity rules have no third factor"))
        if getattr(proj, "device", None) is not None:
            found.append(
                (f"the device model under {proj.name!r}", "device physics under synapses runs on Brian2 targets")
            )
    return found


def check_semantics(network: Network, backend: Backend, dendritic_stdp: bool = False) -> None:
    """Raise UnsupportedFeature for the first semantics ``backend`` cannot honour."""
    target = f"pynn:{backend.name}"
    for feature, reason in brian2_only_features(network, host_writes=True):
        raise UnsupportedFeature(target, feature, reason + "; run it on 'brian2' or 'cuda'")
    problem = host_side.unsupported(network)
    if problem is not None:
        raise UnsupportedFeature(target, problem[0], problem[1] + "; run it on 'brian2' or 'cuda'")
    for pop in network.populations:
        cell = pop.cell
        if isinstance(cell, IF_curr_exp) and cell.integration != "exact":
            raise UnsupportedFeature(
                target,
                f"integration={cell.integration!r} (population {pop.name!r})",
                "PyNN simulators integrate in continuous time; the SpiNNaker update runs on the "
                "'brian2' target or on SpiNNaker itself",
            )
    if backend.name == "brian2":
        for proj in network.projections:
            conns = network.connections(proj)
            pairs = conns.i.astype(np.int64) * network.population(proj.post).size + conns.j
            if len(np.unique(pairs)) < len(pairs):
                raise UnsupportedFeature(
                    target,
                    f"repeated (pre, post) pairs in {proj.name!r}",
                    "pyNN.brian2 sets weights and delays per neuron pair, so multapses would share one value",
                )
    tau_minus: dict[str, float] = {}
    for proj in network.projections:
        syn = proj.synapse
        if not isinstance(syn, STDP):
            continue
        post_cell = network.population(proj.post).cell
        where = f"STDP on {proj.name!r}"
        if syn.timing != "online":
            raise UnsupportedFeature(
                target,
                f"{where} with timing={syn.timing!r}",
                "deferred STDP is sPyNNaker's rule; run it on 'brian2' or 'spinnaker'",
            )
        if proj.receptor == "inhibitory" and not isinstance(post_cell, IF_cond_exp):
            raise UnsupportedFeature(
                target,
                f"{where} onto an inhibitory current-based receptor",
                "PyNN gives these synapses negative weights, which its STDP rules do not treat as magnitudes",
            )
        if backend.name == "brian2" and syn.weight_dependence != "additive":
            raise UnsupportedFeature(
                target,
                f"{where} with weight_dependence={syn.weight_dependence!r}",
                "pyNN.brian2 (PyNN 0.13) applies the additive rule whatever the weight dependence",
            )
        if backend.name == "nest":
            if not dendritic_stdp:
                raise UnsupportedFeature(
                    target,
                    f"{where} with timing='online'",
                    "NEST's stdp_synapse counts the whole delay as dendritic: a pair (pre at t, post at s) is "
                    f"evaluated at lag s + d - t instead of s - t - d (d = {syn.delay:g} ms), zero-lag pairs are "
                    "ignored and weights change only at pre spikes. Pass dendritic_stdp=True to run with NEST's rule",
                )
            if syn.w_min != 0.0:
                raise UnsupportedFeature(target, f"{where} with w_min={syn.w_min:g}", "NEST's stdp_synapse has w_min 0")
            if syn.A_plus == 0.0 and syn.A_minus > 0.0:
                raise UnsupportedFeature(
                    target, f"{where} with A_plus=0", "NEST expresses A_minus as a multiple of A_plus (alpha)"
                )
            previous = tau_minus.setdefault(proj.post, syn.tau_minus)
            if previous != syn.tau_minus:
                raise UnsupportedFeature(
                    target,
                    f"{where} with tau_minus={syn.tau_minus:g} ms",
                    f"NEST keeps tau_minus in the post neuron; population {proj.post!r} already has "
                    f"{previous:g} ms from another STDP projection",
                )


# --- lowering -----------------------------------------------------------------------


@dataclass
class Lowered:
    """The PyNN objects of one network and what is needed to read them back."""

    populations: dict[str, Any] = field(default_factory=dict)
    projections: dict[str, Any] = field(default_factory=dict)
    connections: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)


def cell_parameters(cell: IF_curr_exp, dt: float, backend: Backend) -> dict[str, float]:
    """PyNN parameters of a spikemem cell (names and units are PyNN's)."""
    keys = CELL_PARAMETERS + (COND_PARAMETERS if isinstance(cell, IF_cond_exp) else ())
    params = {key: float(getattr(cell, key)) for key in keys}
    if backend.refractory_includes_spike_step:
        params["tau_refrac"] += dt
    return params


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


def clock_for(network: Network, duration_ms: float, seed: int, backend: Backend) -> Clock:
    """NEST: spikes are stamped one step later; a source spike in the first step (which
    NEST's spike generators cannot emit) moves the whole run one step later, which is
    exact only when every cell starts at rest. Other backends: no shift."""
    if not backend.shift_one_step:
        return Clock()
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
        if pop.cell.i_offset != 0.0 or np.any(v0 != pop.cell.v_rest):
            raise UnsupportedFeature(
                f"pynn:{backend.name}",
                f"a spike of source {early[0]!r} at t = 0 ms",
                "NEST's spike generators cannot fire in the first step; spikemem then runs NEST one step "
                f"ahead, which is exact only when every cell starts at rest ({pop.name!r} does not)",
            )
    return Clock(dt, dt)


def lower(
    sim: Any, network: Network, duration_ms: float, seed: int, backend: Backend, clock: Clock = Clock()
) -> Lowered:
    """Create the populations, projections and recorders of ``network`` in PyNN module ``sim``."""
    lowered = Lowered()
    dt = network.dt
    for pop in network.populations:
        if pop.is_source:
            trains = [t + clock.spike_shift_ms for t in source_trains(network, pop, duration_ms, seed)]
            # PyNN wants one Sequence per neuron, sPyNNaker plain lists
            spikes = [[float(x) for x in t] if backend.plain_spike_lists else _sequence(t) for t in trains]
            celltype = sim.SpikeSourceArray(spike_times=spikes)
            ppop = sim.Population(pop.size, celltype, label=pop.name)
        else:
            cell = pop.cell
            ctype = sim.IF_cond_exp if isinstance(cell, IF_cond_exp) else sim.IF_curr_exp
            ppop = sim.Population(pop.size, ctype(**cell_parameters(cell, dt, backend)), label=pop.name)
            v0 = pop.initial_v if pop.initial_v is not None else cell.initial_v
            ppop.initialize(v=v0 if np.isscalar(v0) else np.asarray(v0, dtype=float))
        lowered.populations[pop.name] = ppop
    for proj in network.projections:
        if isinstance(proj.synapse, Gate):  # carried out by the host (_pynn_writes)
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
        lowered.units[proj.name] = "uS" if isinstance(post, IF_cond_exp) else "nA"
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


def read_weights(proj: Any, order: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Current weight magnitudes of a PyNN projection, in spikemem's synapse order."""
    rows = np.asarray(proj.get("weight", format="list", with_address=True), dtype=float).reshape(-1, 3)
    i, j = order
    mine = np.lexsort((j, i))
    theirs = np.lexsort((rows[:, 1], rows[:, 0]))
    if len(rows) != len(i) or not (
        np.array_equal(rows[theirs, 0], i[mine]) and np.array_equal(rows[theirs, 1], j[mine])
    ):
        raise RuntimeError(f"projection {proj.label!r}: the simulator holds other synapses than spikemem built")
    out = np.empty(len(i))
    out[mine] = np.abs(rows[theirs, 2])
    return out


def sample_times(network: Network, duration_ms: float) -> dict[str, np.ndarray]:
    """Weight-probe sampling times (ms) per projection: 0, every, 2 every, ... < duration."""
    out = {}
    for probe in network.probes:
        if probe.variable == "weight":
            every = probe.every_ms or network.dt
            n = int(math.ceil(duration_ms / every - 1e-9))
            out[probe.target] = np.arange(n) * every
    return out


def run_and_collect(
    sim: Any,
    network: Network,
    lowered: Lowered,
    duration_ms: float,
    clock: Clock = Clock(),
    progress: bool = False,
    host: host_side.HostWrites | None = None,
    backend: Backend | None = None,
) -> Results:
    """Run ``duration_ms`` (in chunks where weights are sampled or the host writes) and
    read the recorders."""
    dt = network.dt
    samples = sample_times(network, duration_ms)
    stops = {float(t) for ts in samples.values() for t in ts if t > 0} | {float(duration_ms)}
    if progress:  # every 5 %, on the time grid (NEST runs whole steps; each pause costs time on pyNN.brian2)
        stops |= {round(round(duration_ms * k / 20 / dt) * dt, 9) for k in range(1, 20)} - {0.0}
    seen = backend.spike_seen_after_steps if backend is not None else 1
    pauses: dict[float, int] = {}  # pause time -> the step whose spikes the host reads there
    if host is not None:
        for k in host.steps:
            pauses[round((int(k) + seen) * dt, 9)] = int(k)
        stops |= {t for t in pauses if t > 0} | {round(t - dt, 9) for t in pauses if t - dt > 0}
    weights: dict[str, list[np.ndarray]] = {name: [] for name in samples}
    counts: dict[str, np.ndarray] = {}
    counted_at = -1.0
    t_now = 0.0
    with _progress(progress, duration_ms) as bar:
        for stop in sorted(stops):
            for name, ts in samples.items():
                if np.any(np.isclose(ts, t_now)):
                    _forget_connection_cache(sim)
                    weights[name].append(read_weights(lowered.projections[name], lowered.connections[name]))
            sim.run_until(stop + clock.offset_ms)
            t_now = stop
            if host is not None:
                state = _host_writes(sim, network, lowered, host, backend, pauses, stop, counts, counted_at)
                counts, counted_at = state
            if bar is not None:
                bar.n = round(stop)
                bar.refresh()
    results = Results(spikes={}, network=network)
    for probe in network.probes:
        pop = network.population(probe.target) if probe.variable != "weight" else None
        if probe.variable == "spikes":
            seg = lowered.populations[probe.target].get_data("spikes", clear=False).segments[-1]
            times, idx = [], []
            for st in seg.spiketrains:
                t = np.asarray(st.rescale("ms").magnitude, dtype=float) - clock.spike_shift_ms
                steps = np.rint(t / dt).astype(np.int64)
                steps = steps[(steps >= 0) & (steps * dt < duration_ms - 1e-9)]
                times.append(steps * dt)
                idx.append(np.full(len(steps), int(st.annotations["source_index"]), dtype=np.int64))
            assert pop is not None
            results.spikes[probe.target] = SpikeTrains(
                pop.size, np.concatenate(times) if times else np.empty(0), np.concatenate(idx) if idx else np.empty(0)
            )
        elif probe.variable == "v":
            seg = lowered.populations[probe.target].get_data("v", clear=False).segments[-1]
            sig = seg.filter(name="v")[0]
            t = np.asarray(sig.times.rescale("ms").magnitude, dtype=float) - clock.offset_ms
            values = np.asarray(sig.rescale("mV").magnitude, dtype=float)
            order = np.argsort(np.asarray(sig.array_annotations["channel_index"]))
            keep = (t > -1e-9) & (t < duration_ms - 1e-9)
            results.traces[f"{probe.target}.v"] = Trace(t[keep], values[keep][:, order], "mV")
        else:
            ts = samples[probe.target]
            values = np.array(weights[probe.target]) if weights[probe.target] else np.empty((0, 0))
            results.weights[probe.target] = Trace(ts, values, lowered.units[probe.target])
            results.synapses[probe.target] = lowered.connections[probe.target]
    return results


def _host_writes(
    sim: Any,
    network: Network,
    lowered: Lowered,
    host: host_side.HostWrites,
    backend: Backend | None,
    pauses: dict[float, int],
    stop: float,
    counts: dict[str, np.ndarray],
    counted_at: float,
) -> tuple[dict[str, np.ndarray], float]:
    """At a pause: read the trigger populations' spike counts; where the previous count
    was taken one step earlier, apply the writes of the step in between."""
    dt = network.dt
    now = {name: _spike_counts(lowered.populations[name]) for name in sorted(host.trigger_populations)}
    step = pauses.get(round(stop, 9))
    if step is not None:
        before = counts if np.isclose(counted_at, stop - dt) else None
        if before is None and stop - dt <= 1e-9:  # the run starts at rest: nothing had spiked
            before = {name: np.zeros_like(c) for name, c in now.items()}
        if before is None:
            raise RuntimeError(f"host writes: no spike count one step before {stop} ms")
        for write in host.writes:
            spiked = now[write.trigger_pop] > before[write.trigger_pop]
            if write.write(spiked, step * dt, host.gates):
                matrix = write.weights.copy()
                known = ~np.isnan(matrix)
                assert backend is not None
                matrix[known] = signed_weights(network, write.projection, matrix[known], backend)
                _forget_connection_cache(sim)
                lowered.projections[write.projection.name].set(weight=matrix)
    return now, stop


def _spike_counts(pop: Any) -> np.ndarray:
    """Spikes recorded so far per neuron of a PyNN population."""
    by_id = pop.get_spike_counts()
    return np.array([by_id[cell] for cell in pop.all_cells], dtype=np.int64)


def _forget_connection_cache(sim: Any) -> None:
    """NEST re-sorts its connections when a simulation starts, so PyNN's cached
    connection handles point at other synapses afterwards; make PyNN fetch them anew."""
    state = getattr(getattr(sim, "simulator", None), "state", None)
    if hasattr(state, "stale_connection_cache"):
        state.stale_connection_cache = True


@contextlib.contextmanager
def _progress(enabled: bool, duration_ms: float) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=round(duration_ms), unit="ms", desc="simulating", leave=False)
    try:
        yield bar
    finally:
        bar.close()


# --- run ----------------------------------------------------------------------------


def run(
    network: Network,
    duration_ms: float,
    seed: int = 0,
    variant: str | None = None,
    progress: bool = False,
    threads: int | None = None,
    codegen: str | None = None,
    dendritic_stdp: bool = False,
) -> Results:
    """Simulate on a PyNN backend and return Results (spikes, v, weights, provenance)."""
    backend = backend_for(variant)
    check_semantics(network, backend, dendritic_stdp=dendritic_stdp)
    logging.getLogger("PyNN").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyNN.nest tries to build optional extensions (stack.md P13)
        sim = importlib.import_module(backend.module)
    dt = network.dt
    setup: dict[str, Any] = dict(backend.setup)
    max_delay = max(
        (float(network.connections(p, seed).delay.max(initial=dt)) for p in network.projections), default=dt
    )
    if backend.name == "nest":
        setup.update(threads=int(threads or 1), rng_seed=int(seed) + 1, max_delay=max_delay + dt)
    clock = clock_for(network, duration_ms, seed, backend)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(deprecated|backward compatibility).*", category=UserWarning)
        sim.setup(timestep=dt, min_delay=dt, **setup)
        if backend.name == "brian2":
            _brian2_prefs(dt, codegen or "numpy")
        try:
            lowered = lower(sim, network, duration_ms, seed, backend, clock)
            host = _plan_host_writes(network, duration_ms, seed)
            t1 = time.perf_counter()
            results = run_and_collect(sim, network, lowered, duration_ms, clock, progress, host, backend)
            t2 = time.perf_counter()
        finally:
            sim.end()
    results.provenance = provenance(
        network,
        f"pynn:{backend.name}",
        seed,
        duration_ms,
        build_s=t1 - t0,
        run_s=t2 - t1,
        pynn_module=backend.module,
        dendritic_delay_fraction=backend.dendritic_delay_fraction,
        threads=int(threads or 1),
        clock_offset_ms=clock.offset_ms,
        codegen=(codegen or "numpy") if backend.name == "brian2" else None,
    )
    return results


def _plan_host_writes(network: Network, duration_ms: float, seed: int) -> host_side.HostWrites | None:
    """The host's part of the network's GatedWrite projections (None without any)."""
    if not any(isinstance(p.synapse, GatedWrite) for p in network.projections):
        return None
    return host_side.plan(network, duration_ms, lambda pop: source_trains(network, pop, duration_ms, seed))


def _brian2_prefs(dt: float, codegen: str) -> None:
    import brian2 as b2

    b2.prefs.codegen.target = codegen
    if codegen == "cython":
        b2.prefs.codegen.runtime.cython.cache_dir = str(cache_dir("brian2_cython"))
    # pyNN.brian2 creates SpikeGeneratorGroups on Brian2's default clock
    b2.defaultclock.dt = dt * b2.ms
    b2.BrianLogger.log_level_warn()
    b2.BrianLogger.suppress_name("base.method_choice")
    b2.BrianLogger.suppress_name("codegen.generators")
