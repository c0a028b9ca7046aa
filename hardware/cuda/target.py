"""The ``cuda`` target: brian2cuda's ``cuda_standalone`` device on NVIDIA GPUs.

The network is lowered exactly as for the ``brian2`` target (``hardware/brian2/lowering.py``: same
equations, same time conventions); brian2cuda turns the Brian2 objects into a CUDA C++
project. Three stages, each of which a user can stop after:

1. **generate** — write the project (``main.cu``, ``network.cu``, ``objects.cu``,
   ``rand.cu``, one ``code_objects/*.cu`` per group, synapse pathway and monitor, and a
   ``makefile``). Needs brian2cuda only: no GPU, no nvcc. The synapse-creation files
   get a linear check for repeated (pre, post) pairs (:mod:`.pairs`: brian2cuda's own
   builds a ``std::map`` of every synapse on the host).
2. **compile** — ``make`` with nvcc for one compute capability (``compute_capability``,
   default the GPU that ``nvidia-smi`` reports, else 9.0). Needs the CUDA toolkit and
   cuRAND's headers and library (the ``nvidia-curand`` wheel of the ``cuda`` extra, or
   the toolkit's own); C++17 is forced (CUDA 13's Thrust needs it, stack.md P7).
3. **run** — execute the binary on a GPU and read the monitors back into ``Results``.

``run`` (and ``simulate(..., target="cuda")``) does all three; ``export`` stops after
generate or compile and writes a ``README.md`` on building and running the project on a
GPU machine, plus a manifest that :func:`read_results` uses to load its output.
:func:`run_project` runs a compiled project on a GPU machine that needs neither
brian2cuda nor nvcc. A project compiled earlier for exactly the same run (its
:func:`content_key`: network digest, duration, seed, compute capability, lowering source)
is run again as it is, wherever it was compiled: ``benchmarks/gpu_prebuild.py`` uses this
to do the nvcc work on a machine without a GPU.

Options: ``build_dir`` (project folder; default a per-structure folder in the spikemem
cache, so a second run of the same structure skips nvcc), ``compute_capability`` (a
number such as 9.0), ``jobs`` (parallel nvcc processes; default the CPU count).
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

from spikemem._checks import count, finite
from spikemem.budget import check_cores
from spikemem.cache import cache_dir, locked
from spikemem.errors import UnsupportedFeature, ValidationError
from spikemem.network import Network
from spikemem.outputs import check_output
from spikemem.provenance import provenance
from spikemem.results import Results
from spikemem.sources import SpikeTimes
from spikemem.targets import FEATURES, TargetInfo, check_options

from ..brian2 import lowering
from ..brian2.target import check_deferred, check_short_term, quiet, structure_key
from .machine import (
    curand_dirs,
    default_compute_capability,
    gpus,
    link_dir,
    nvcc_path,
)
from .pairs import linearise
from .project import compiled_for, run_project, write_manifest

TARGET = TargetInfo(
    name="cuda",
    description="brian2cuda cuda_standalone: generate a CUDA project, compile it with nvcc, run it on an NVIDIA GPU",
    requires=("brian2cuda",),
    install_hint='pip install "spikemem[cuda]"; compiling needs the CUDA toolkit (nvcc), running an NVIDIA GPU',
    features=frozenset(FEATURES),
    options=("build_dir", "compute_capability", "jobs"),
    export_options=("duration_ms", "compile", "compute_capability", "seed", "jobs"),
    export_kind="folder",
)

STAGES = ("generate", "compile", "run")


# --- checks -----------------------------------------------------------------------------


def check(network: Network, variant: str | None = None, **options: Any) -> None:
    """Refuse, before anything is generated, what a run on this machine cannot do."""
    check_stage(network, "run", **options)


def check_stage(network: Network, stage: str, **options: Any) -> None:
    """Refuse what this target or this machine cannot do up to ``stage``.

    ``"generate"`` needs brian2cuda only, ``"compile"`` also nvcc and cuRAND, ``"run"``
    an NVIDIA GPU, and nvcc and cuRAND too unless the project was compiled earlier
    (:func:`build` checks those once it knows).
    """
    if stage not in STAGES:
        raise ValidationError("stage", stage, "one of " + ", ".join(STAGES))
    check_options(TARGET, options)
    _options(**options)
    check_deferred(network, "cuda")
    check_short_term(network, "cuda")
    if stage == "run" and not gpus():
        raise UnsupportedFeature(
            "cuda",
            "stage 'run'",
            "no NVIDIA GPU found (nvidia-smi lists none); use export(..., compile=True) and run it on a GPU machine",
        )
    if stage == "compile":
        check_toolchain(stage)


def check_toolchain(stage: str) -> None:
    """Refuse ``stage`` (compile, or run with compiling first) without nvcc and cuRAND."""
    if nvcc_path() is None:
        raise UnsupportedFeature("cuda", f"stage {stage!r}", "nvcc (the CUDA toolkit) is not on PATH")
    if curand_dirs() is None:
        raise UnsupportedFeature(
            "cuda", f"stage {stage!r}", "cuRAND headers and library not found: pip install nvidia-curand"
        )


def _options(
    build_dir: str | os.PathLike[str] | None = None, compute_capability: float | None = None, jobs: int | None = None
) -> tuple[Path | None, float | None, int]:
    cc = None
    if compute_capability is not None:
        cc = finite("option compute_capability", compute_capability)
        if not 5.0 <= cc < 20.0:
            raise ValidationError("option compute_capability", compute_capability, "a compute capability such as 9.0")
    if jobs is not None:
        check_cores("option jobs", count("option jobs", jobs), "compiler jobs")
    n_jobs = count("option jobs", jobs) if jobs is not None else max(os.cpu_count() or 1, 1)
    if build_dir is not None:
        check_output("option build_dir", build_dir, "folder")
    return (Path(build_dir) if build_dir is not None else None), cc, n_jobs


# --- preferences --------------------------------------------------------------------------


@contextlib.contextmanager
def _cuda_prefs(b2: Any, compute_capability: float, jobs: int) -> Iterator[None]:
    """Preferences for generating and compiling without GPU detection (stack.md P5-P7),
    restored afterwards so the ``brian2`` target's C++ standalone builds are unaffected."""
    prefs = b2.prefs
    names = [
        "devices.cuda_standalone.cuda_backend.detect_gpus",
        "devices.cuda_standalone.cuda_backend.gpu_id",
        "devices.cuda_standalone.cuda_backend.compute_capability",
        "devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc",
        "codegen.cpp.extra_compile_args_gcc",
        "codegen.cpp.include_dirs",
        "codegen.cpp.library_dirs",
        "codegen.cpp.runtime_library_dirs",
        "devices.cpp_standalone.extra_make_args_unix",
    ]
    saved = {name: prefs[name] for name in names}
    try:
        prefs["devices.cuda_standalone.cuda_backend.detect_gpus"] = False
        prefs["devices.cuda_standalone.cuda_backend.gpu_id"] = 0
        prefs["devices.cuda_standalone.cuda_backend.compute_capability"] = float(compute_capability)
        nvcc_args = [a for a in saved["devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc"]]
        prefs["devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc"] = nvcc_args + ["-std=c++17"]
        gcc_args = [a.replace("c++11", "c++17") for a in saved["codegen.cpp.extra_compile_args_gcc"]]
        # host code for any x86-64: a project compiled here may run on a GPU machine with another CPU
        prefs["codegen.cpp.extra_compile_args_gcc"] = [a for a in gcc_args if not a.startswith("-march=")]
        prefs["devices.cpp_standalone.extra_make_args_unix"] = [f"-j{jobs}"]
        dirs = curand_dirs()
        if dirs is not None:
            include, lib = dirs
            prefs["codegen.cpp.include_dirs"] = list(saved["codegen.cpp.include_dirs"]) + [str(include)]
            prefs["codegen.cpp.library_dirs"] = list(saved["codegen.cpp.library_dirs"]) + [str(link_dir(lib))]
            prefs["codegen.cpp.runtime_library_dirs"] = list(saved["codegen.cpp.runtime_library_dirs"]) + [str(lib)]
        yield
    finally:
        for name, value in saved.items():
            prefs[name] = value


# --- the three stages ---------------------------------------------------------------------


def build(
    network: Network,
    duration_ms: float,
    directory: str | os.PathLike[str] | None = None,
    stage: str = "compile",
    seed: int = 0,
    compute_capability: float | None = None,
    jobs: int | None = None,
) -> tuple[Path, Results | None]:
    """Generate, and up to ``stage`` compile and run, the CUDA project of ``network``.

    Returns the project folder and, when ``stage == "run"``, the Results. The folder
    holds ``network.h5`` and the manifest ``spikemem.json`` read by :func:`read_results`.
    If the folder already holds this run compiled (same :func:`content_key`), the compile
    stage does nothing and the run stage only runs it (:func:`run_project`: no brian2cuda
    code generation, no nvcc); otherwise every source is compiled afresh.
    """
    check_stage(network, stage, build_dir=directory, compute_capability=compute_capability, jobs=jobs)
    cc = compute_capability if compute_capability is not None else default_compute_capability()
    _, _, n_jobs = _options(jobs=jobs)
    folder = Path(directory) if directory is not None else default_dir(network, duration_ms, cc)
    key = content_key(network, duration_ms, seed, cc) if stage != "generate" else None
    if key is not None and compiled_for(folder, key):
        if stage == "compile":
            return folder, None
        with locked(folder):
            return folder, run_project(folder)
    if stage == "run":
        check_toolchain(stage)
    import brian2 as b2
    import brian2cuda  # noqa: F401 - registers the cuda_standalone device and its preferences
    from brian2.codegen.cpp_prefs import get_compiler_and_args
    from brian2cuda.utils.gputools import reset_gpu_selection

    folder.mkdir(parents=True, exist_ok=True)
    quiet(b2)
    results = None
    with locked(folder), _cuda_prefs(b2, cc, n_jobs):
        reset_gpu_selection()
        b2.set_device("cuda_standalone", build_on_run=False, directory=str(folder))
        try:
            b2.device.reinit()
            b2.device.activate(build_on_run=False, directory=str(folder))
            b2.defaultclock.dt = network.dt * b2.ms
            b2.seed(seed)
            t0 = time.perf_counter()
            built = lowering.build(network, duration_ms, seed)
            net = b2.Network(*built.objects)
            net.run(duration_ms * b2.ms)
            b2.device.build(directory=str(folder), compile=False, run=False, with_output=False)
            linearise(folder)
            if stage in ("compile", "run"):
                # clean: brian2cuda's makefile knows no header dependencies, so objects left
                # from another version of the project could be linked stale
                b2.device.compile_source(str(folder), get_compiler_and_args()[0], False, True)
            if stage == "run":
                b2.device.run(directory=str(folder), with_output=False)
            elapsed = time.perf_counter() - t0
            write_manifest(b2, folder, network, built, duration_ms, seed, cc, key)
            if stage == "run":
                results = lowering.collect(network, built, duration_ms)
                run_s = float(getattr(b2.device, "_last_run_time", None) or b2.device.timers.get("run_binary", 0.0))
                results.provenance = provenance(
                    network,
                    "cuda",
                    seed,
                    duration_ms,
                    build_s=elapsed - run_s,
                    run_s=run_s,
                    build_dir=str(folder),
                    compute_capability=cc,
                    gpu=gpus()[0][0],
                )
        finally:
            b2.device.reinit()
            b2.set_device("runtime")
    return folder, results


def run(
    network: Network,
    duration_ms: float,
    seed: int = 0,
    variant: str | None = None,
    progress: bool = False,
    build_dir: str | os.PathLike[str] | None = None,
    compute_capability: float | None = None,
    jobs: int | None = None,
) -> Results:
    """Generate, compile and run on the GPU; return Results (spikes, traces, weights, provenance)."""
    _, results = build(network, duration_ms, build_dir, "run", seed, compute_capability, jobs)
    assert results is not None
    return results


def export(
    network: Network,
    out: str | os.PathLike[str],
    duration_ms: float | None = None,
    compile: bool = False,
    compute_capability: float | None = None,
    seed: int = 0,
    jobs: int | None = None,
) -> Path:
    """Write the CUDA project of ``network`` to ``out`` (compiled with nvcc if ``compile``).

    ``duration_ms`` defaults to the last input spike plus 50 ms. ``out`` gets a
    ``README.md`` on building and running the project on a GPU machine; afterwards
    :func:`read_results` loads what the run wrote.
    """
    if duration_ms is None:
        duration_ms = _default_duration(network)
    folder, _ = build(network, duration_ms, out, "compile" if compile else "generate", seed, compute_capability, jobs)
    (folder / "README.md").write_text(_readme(network, duration_ms, folder, compile))
    return folder


def content_key(network: Network, duration_ms: float, seed: int, compute_capability: float) -> str:
    """What a compiled project must have been built from to be run again as it is:
    the network's digest, the duration, the seed, the compute capability and the source
    of what generates and compiles it (this module, ``pairs.py`` and every module of the
    ``brian2`` room, whose lowering it uses; not the modules that find the toolchain or run
    and read a project)."""
    fields = [network.digest(), float(duration_ms), int(seed), float(compute_capability)]
    h = hashlib.sha256(json.dumps(fields).encode())
    here = Path(__file__).parent
    for source in [Path(__file__), here / "pairs.py", *sorted((here.parent / "brian2").glob("*.py"))]:
        h.update(source.read_bytes())
    return h.hexdigest()


# --- helpers ------------------------------------------------------------------------------


def default_dir(network: Network, duration_ms: float, cc: float) -> Path:
    """The project folder of a run in the spikemem cache: one per network structure,
    duration and compute capability."""
    return cache_dir("cuda_standalone", f"{structure_key(network, duration_ms)}-sm{cc:g}")


def _default_duration(network: Network) -> float:
    trains = [t for p in network.populations if isinstance(p.cell, SpikeTimes) for t in p.cell.spike_times]
    if not trains:
        raise ValidationError("duration_ms", None, "a duration (the network has no spike-time inputs to infer it)")
    return max((t[-1] for t in trains if t), default=0.0) + 50.0


def _readme(network: Network, duration_ms: float, folder: Path, compiled: bool) -> str:
    dirs = curand_dirs()
    inc, lib = (str(d) for d in dirs) if dirs else ("<cuRAND include dir>", "<cuRAND lib dir>")
    step = "It is compiled already (`main`)." if compiled else "It is not compiled yet."
    return f"""# {network.name}: a brian2cuda (cuda_standalone) project written by spikemem

{duration_ms:g} ms of simulated time, dt = {network.dt:g} ms. {step}

## Build (a machine with the CUDA toolkit, nvcc >= 12)

cuRAND is needed: `pip install nvidia-curand` gives `nvidia/cu13/include` and
`nvidia/cu13/lib/libcurand.so.10` in site-packages; add a `libcurand.so` symlink next to it
if there is none. The makefile was written with these paths (edit them where they differ):

    include: {inc}
    library: {lib}

Then, in this folder:

    make -j$(nproc)

The makefile targets one compute capability (`-arch=sm_XX`, from the option
`compute_capability`); re-export with the one of your GPU if it differs
(`nvidia-smi --query-gpu=compute_cap --format=csv`).

## Run (a machine with an NVIDIA GPU and a driver for the CUDA version used)

    ./main

(on another machine than the one that compiled it, put cuRAND's library folder first:
`LD_LIBRARY_PATH=<folder of libcurand.so.10> ./main`). It writes its monitors to
`results/`. Read them back with spikemem:

    from spikemem.hardware.cuda import read_results
    results = read_results("{folder.name}")   # this folder; spikes, traces, weights

or run and read in one step, timed, with cuRAND found on the GPU machine (no brian2cuda
or nvcc needed there): `results = spikemem.hardware.cuda.run_project("{folder.name}")`.

`network.h5` holds the network (`spikemem.load_network`), `spikemem.json` maps monitors
to result files.
"""
