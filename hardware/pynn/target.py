"""The ``pynn`` target: a spikemem Network lowered to a PyNN simulator module.

``pynn:nest`` runs on NEST (``pyNN.nest``), ``pynn:brian2`` on Brian2 through PyNN
(``pyNN.brian2``). The lowering is a set of translation tables, in PyNN's own style:

============================  =================================================
spikemem                      PyNN
============================  =================================================
``IF_curr_exp``/``IF_cond_exp``  ``sim.IF_curr_exp``/``sim.IF_cond_exp`` (same
                              parameter names and units)
``IF_curr_delta``             ``sim.IF_curr_delta`` (NEST's ``iaf_psc_delta`` on
                              grid), weights in mV; ``pynn:nest`` only
``SpikeTimes``, ``Poisson``   ``sim.SpikeSourceArray`` with the spike times that
                              spikemem draws itself (``Network.source_times``), so
                              every target receives the same input
``OneToOne``, ``AllToAll``    ``OneToOneConnector``, ``AllToAllConnector``
``FixedProbability``,         ``FromListConnector`` with the synapses resolved by
``FromList``, ``AllToAll``    spikemem (PyNN's random draws differ per backend;
without self-connections      PyNN skips i == j only within one population)
between two populations
``Static``                    ``StaticSynapse``
``TsodyksMarkram``            ``TsodyksMarkramSynapse`` (NEST's ``tsodyks_synapse``,
                              ``tau_psc`` from the post cell; pynn:nest only)
``STDP``                      ``STDPMechanism(SpikePairRule, Additive|Multiplicative-
                              WeightDependence, dendritic_delay_fraction)``
``receptor``                  ``receptor_type``; current-based inhibitory weights
                              are negative in PyNN
``GatedWrite`` and ``Gate``   a ``StaticSynapse`` projection whose weights the host
                              rewrites between time steps (:mod:`.writes`);
                              the gates are not sent to the simulator
============================  =================================================

What the model means is kept across backends by a few per-backend corrections, each
verified against the ``brian2`` target (tests/targets/test_pynn.py):

* Time stamps. spikemem (like Brian2) stamps a spike with the start of the step in
  which the membrane crossed threshold; NEST stamps it with the end of that step and
  feeds spike-source spikes one step earlier. On NEST spike-source times are given
  ``+dt`` and every recorded spike time is read back ``-dt``; NEST's on-grid neuron
  models (``spike_precision="on_grid"``: ``iaf_psc_exp``, ``iaf_cond_exp``) are used.
  NEST's spike generators cannot fire in the first step: when a source spikes at
  ``t = 0`` the whole NEST run starts one step early, which is exact (and allowed) only
  when every cell starts at rest without offset current. pyNN.nest hands generators precise
  times, so each source time is given 10⁻⁴ of a step before its grid point: one a rounding
  error past it would fire a whole step late.
* Refractoriness. spikemem holds the membrane for ``round(tau_refrac/dt)`` steps after
  the spike step; pyNN.brian2 counts the spike step itself, so it gets
  ``tau_refrac + dt``.
* ``IF_curr_delta`` on pyNN.nest (PyNN 0.13). Its cell type has no variable map, so
  ``initialize(v=...)`` is ignored and ``record("v")`` fails: the lowering gives it
  ``{"v": "V_m"}``. The cell's ``receptor_scale`` (1e-3) is applied when connecting only,
  so ``Projection.get`` returns weights 1000 times too small and ``Projection.set`` writes
  them 1000 times too large: weight probes and host writes are scaled back.
* STDP delays (stack.md P11). ``timing="online"`` counts the pre spike when it reaches
  the synapse, after the whole delay (axonal: ``dendritic_delay_fraction=0``), which is
  what pyNN.brian2 does. NEST's ``stdp_synapse`` treats the whole delay as dendritic
  (``dendritic_delay_fraction=1``): a pair (pre at ``t``, post at ``s``) is evaluated
  at lag ``s + d - t`` instead of ``s - t - d``, pairs at zero lag are ignored and
  weights change only at pre spikes. That is a different rule, so ``pynn:nest``
  refuses STDP unless the caller accepts it with ``dendritic_stdp=True``.

Current-based cells then give the ``brian2`` target's spikes exactly, on both backends
(``IF_curr_delta``: on NEST).
Conductance-based cells are integrated numerically by each simulator (exponential Euler
in spikemem's Brian2 lowering, Euler in pyNN.brian2, an adaptive Runge–Kutta in NEST), so
their spikes agree only approximately.

Gated writes. PyNN's plasticity rules have no third factor, so a ``GatedWrite`` runs as
host-in-the-loop learning: the run pauses after each step in which a trigger neuron's
gate is open, reads which trigger neurons spiked, and sets their synapses with
``Projection.set`` before the spike is delivered. The gates must be driven by spike
sources (their open times are then known before the run). On both backends this gives
the ``brian2`` target's spikes exactly (the CA3 functional circuit: tests/scenarios/test_ca3_on_every_target.py).

Refused before running (:class:`~spikemem.errors.UnsupportedFeature`): gates driven by
cells, gated STDP and device models (no PyNN standard model), the
``spinnaker`` integration and ``deferred`` STDP (both SpiNNaker semantics; use the
``brian2`` or ``spinnaker`` targets), STDP onto current-based inhibitory receptors
(PyNN's negative-weight convention breaks the rule), on pyNN.brian2 ``IF_curr_delta``
(it adds a delta spike to ``v`` after the step's threshold check and fires at
``v > v_thresh``: :data:`.backends.PYNN_BRIAN2_DELTA`), multiplicative STDP and repeated
(pre, post) pairs (PyNN 0.13 applies the additive rule whatever the
weight dependence, and sets synapse parameters per neuron pair), and
on NEST: STDP onto ``IF_curr_delta`` (pyNN.nest scales its weight but not its ``w_max``),
``w_min != 0``, ``A_plus = 0`` with ``A_minus > 0``, and one post population
with two different ``tau_minus`` (NEST keeps ``tau_minus`` in the neuron).

Options: ``threads`` (NEST's ``local_num_threads``), ``codegen`` (pyNN.brian2's code
generation target, ``"numpy"`` by default or ``"cython"`` with the spikemem cache,
stack.md P16), ``dendritic_stdp`` (see above). Weight probes are read with
``Projection.get`` between chunks of the run, every ``every_ms``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import time
import warnings
from typing import Any

from spikemem._checks import count, one_of
from spikemem.budget import check_cores
from spikemem.cache import cache_dir
from spikemem.errors import TargetNotInstalled, ValidationError
from spikemem.network import Network
from spikemem.provenance import provenance
from spikemem.results import Results
from spikemem.targets import TargetInfo, check_options

from .backends import backend_for
from .checks import check_semantics
from .lowering import clock_for, lower
from .running import plan_host_writes, run_and_collect

TARGET = TargetInfo(
    name="pynn",
    description="PyNN simulator modules: NEST (pynn:nest) and Brian2 via PyNN (pynn:brian2)",
    requires=("pyNN",),
    install_hint="pip install 'spikemem[pynn]'",
    features=frozenset(
        {"IF_curr_exp", "IF_cond_exp", "IF_curr_delta", "integration=exact", "STDP online", "Poisson", "FromList"}
        | {"record v", "current sources"}
        | {"gated learning", "TsodyksMarkram", "record weight", "run"}
    ),
    variants=("nest", "brian2"),
    options=("threads", "codegen", "dendritic_stdp"),
)

CODEGEN = ("numpy", "cython")


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
    check_options(TARGET, options)
    if options.get("threads") is not None:
        check_cores("option threads", count("option threads", options["threads"]))
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
            host = plan_host_writes(network, duration_ms, seed)
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
