"""The ``brian2`` target: Brian2's runtime (numpy, cython) and C++ standalone devices.

``brian2`` alone picks the cheapest engine for the job: the numpy runtime for short or
small runs (no compiler, starts in seconds), C++ standalone when the run is long
enough to repay its build (about a minute cold, seconds when cached). Name an engine
to force it: ``brian2:numpy``, ``brian2:cython``, ``brian2:cpp_standalone``.

Options: ``threads`` (OpenMP threads for C++ standalone; default 1 — on small machines
more threads are far slower, see stack.md P17), ``build_dir`` (standalone project
folder; default a per-model folder in the spikemem cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spikemem._checks import count
from spikemem.budget import check_cores
from spikemem.cache import cache_dir, locked
from spikemem.cells import IF_curr_delta
from spikemem.errors import UnsupportedFeature
from spikemem.network import Network
from spikemem.outputs import check_output
from spikemem.provenance import provenance
from spikemem.results import Results
from spikemem.sources import Poisson, SpikeTimes
from spikemem.synapses import STDP, TsodyksMarkram
from spikemem.targets import FEATURES, TargetInfo, check_options

from . import lowering
from .synapses import brian2_delay_ms, resolved

TARGET = TargetInfo(
    name="brian2",
    description="Brian2 on the CPU: numpy runtime for short runs, C++ standalone where a long run repays its build",
    requires=("brian2",),
    install_hint="pip install spikemem (brian2 is a core dependency)",
    features=frozenset(FEATURES) - {"export"},
    variants=("numpy", "cython", "cpp_standalone"),
    options=("threads", "build_dir"),
)

#: Estimated numpy run time (s) above which ``brian2`` compiles C++ standalone instead.
STANDALONE_ABOVE_S = 60.0


def check(network: Network, variant: str | None = None, **options: Any) -> None:
    """Refuse what this target cannot run exactly, before anything is built."""
    check_options(TARGET, options)
    if options.get("threads") is not None:
        check_cores("option threads", count("option threads", options["threads"]))
    if options.get("build_dir") is not None:
        check_output("option build_dir", options["build_dir"], "folder")
    check_deferred(network, "brian2")
    check_short_term(network, "brian2")


def check_deferred(network: Network, target: str) -> None:
    """Deferred STDP delivers the weight set at the pre spike; a second pre spike of the
    same neuron inside the delivery delay would overwrite it. Refuse networks where that
    can happen."""
    for proj in network.projections:
        syn = proj.synapse
        if not (isinstance(syn, STDP) and syn.timing == "deferred"):
            continue
        post = network.population(proj.post).cell
        delays = resolved(network, proj).delay
        gap = float(brian2_delay_ms(post, delays, network.dt).max(initial=0.0))
        if gap <= 0:
            continue
        pre = network.population(proj.pre)
        feature = f"deferred STDP on {proj.name!r} with a {gap:g} ms delivery delay"
        if isinstance(pre.cell, Poisson):
            raise UnsupportedFeature(
                target, feature, "a Poisson source may fire twice within the delay; use timing='online'"
            )
        if isinstance(pre.cell, SpikeTimes):
            isi = min(
                (min(b - a for a, b in zip(tr, tr[1:])) for tr in pre.cell.spike_times if len(tr) > 1),
                default=float("inf"),
            )
            if isi <= gap:
                raise UnsupportedFeature(target, feature, f"source {pre.name!r} fires twice within {isi:g} ms")
        elif pre.cell.tau_refrac + network.dt <= gap:
            raise UnsupportedFeature(
                target, feature, f"{pre.name!r} can fire twice within the delay (tau_refrac too short)"
            )


def check_short_term(network: Network, target: str) -> None:
    """A Tsodyks-Markram synapse needs the receiving receptor's time constant (an
    ``IF_curr_delta`` cell has none) and has no device model under it."""
    for proj in network.projections:
        if not isinstance(proj.synapse, TsodyksMarkram):
            continue
        if isinstance(network.population(proj.post).cell, IF_curr_delta):
            raise UnsupportedFeature(
                target,
                f"the TsodyksMarkram synapse on {proj.name!r} onto IF_curr_delta cells",
                "its active resource inactivates with the receptor's tau_syn, which a delta cell does not have",
            )
        if proj.device is not None:
            raise UnsupportedFeature(
                target,
                f"the device model under the TsodyksMarkram synapse {proj.name!r}",
                "device models are lowered for Static, STDP and GatedWrite synapses only",
            )


def choose_engine(network: Network, duration_ms: float) -> str:
    """numpy unless the estimated numpy run time exceeds :data:`STANDALONE_ABOVE_S`."""
    steps = duration_ms / network.dt
    objects = len(network.populations) + len(network.projections) + len(network.probes)
    summary = network.summary()
    per_step_s = objects * 25e-6 + (summary["neurons"] + summary["synapses"] / 10) * 20e-9
    return "cpp_standalone" if steps * per_step_s > STANDALONE_ABOVE_S else "numpy"


def run(
    network: Network,
    duration_ms: float,
    seed: int = 0,
    variant: str | None = None,
    progress: bool = False,
    threads: int | None = None,
    build_dir: str | None = None,
) -> Results:
    """Simulate on Brian2 and return Results (spikes, traces, weights, provenance)."""
    import brian2 as b2

    engine = variant or choose_engine(network, duration_ms)
    quiet(b2)
    if engine == "cpp_standalone":
        return _run_standalone(b2, network, duration_ms, seed, threads or 1, build_dir)
    b2.prefs.codegen.target = engine
    if engine == "cython":
        b2.prefs.codegen.runtime.cython.cache_dir = str(cache_dir("brian2_cython"))
    b2.defaultclock.dt = network.dt * b2.ms
    b2.seed(seed)
    t0 = time.perf_counter()
    built = lowering.build(network, duration_ms, seed)
    net = b2.Network(*built.objects)
    t1 = time.perf_counter()
    with _progress_bar(progress, duration_ms) as report:
        net.run(duration_ms * b2.ms, report=report, report_period=0.5 * b2.second)
    t2 = time.perf_counter()
    results = lowering.collect(network, built, duration_ms)
    results.provenance = provenance(network, f"brian2:{engine}", seed, duration_ms, build_s=t1 - t0, run_s=t2 - t1)
    return results


def _run_standalone(
    b2: Any, network: Network, duration_ms: float, seed: int, threads: int, build_dir: str | None
) -> Results:
    directory = Path(build_dir) if build_dir else cache_dir("brian2_standalone", structure_key(network, duration_ms))
    directory.mkdir(parents=True, exist_ok=True)
    if threads > 1:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    with locked(directory):
        b2.set_device("cpp_standalone", build_on_run=False, directory=str(directory))
        try:
            b2.device.reinit()
            b2.device.activate(build_on_run=False, directory=str(directory))
            b2.prefs.devices.cpp_standalone.openmp_threads = threads if threads > 1 else 0
            # Brian2's default `make -j` starts one compiler per file at once; bound it by the cores.
            b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
            b2.defaultclock.dt = network.dt * b2.ms
            b2.seed(seed)
            t0 = time.perf_counter()
            built = lowering.build(network, duration_ms, seed)
            net = b2.Network(*built.objects)
            net.run(duration_ms * b2.ms)
            b2.device.build(directory=str(directory), compile=True, run=True, with_output=False)
            t1 = time.perf_counter()
            results = lowering.collect(network, built, duration_ms)
            run_s = float(b2.device._last_run_time)
        finally:
            b2.device.reinit()
            b2.set_device("runtime")
    results.provenance = provenance(
        network,
        "brian2:cpp_standalone",
        seed,
        duration_ms,
        build_s=t1 - t0 - run_s,
        run_s=run_s,
        build_dir=str(directory),
    )
    return results


def structure_key(network: Network, duration_ms: float) -> str:
    """Name of a standalone project folder: same structure, same folder (only data differs)."""
    tree = network.to_dict()
    for pop in tree["populations"]:
        if pop["cell"]["type"] == "SpikeTimes":
            pop["cell"]["spike_times"] = len(pop["cell"]["spike_times"])
    for proj in tree["projections"]:
        if proj["connector"]["type"] == "FromList":
            proj["connector"]["conn_list"] = str(proj["connector"]["conn_list"].shape)
    text = json.dumps([tree, duration_ms], sort_keys=True, default=str)
    return f"{network.name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


@contextlib.contextmanager
def _progress_bar(enabled: bool, duration_ms: float) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=round(duration_ms), unit="ms", desc="simulating", leave=False)

    def report(elapsed: Any, completed: float, start: Any, duration: Any) -> None:
        bar.n = round(completed * duration_ms)
        bar.refresh()

    try:
        yield report
    finally:
        bar.close()


def quiet(b2: Any) -> None:
    """Brian2's log at warnings, without its method-choice and code-generation chatter."""
    b2.BrianLogger.log_level_warn()
    b2.BrianLogger.suppress_name("base.method_choice")
    b2.BrianLogger.suppress_hierarchy("brian2.codegen.generators")
