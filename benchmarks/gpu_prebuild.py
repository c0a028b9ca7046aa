"""Compile ahead, on any machine with nvcc, the CUDA projects a GPU session will run.

nvcc takes minutes per CA3 project, on a GPU machine as anywhere else; GPU time is scarce.
This script generates and compiles (stages 1-2 of the ``cuda`` target) every project that
the ``gpu`` tests (``tests/test_cuda.py::gpu_runs``) and ``benchmarks/gpu.py``'s GPU side
run, for one compute capability, and copies what running needs (``main``,
``static_arrays/``, the manifest and ``network.h5``) to ``--out`` in the layout of the
spikemem cache. On the GPU machine, with ``SPIKEMEM_CACHE`` pointing at a writable copy of
it, the ``cuda`` target finds each compiled project by its content key (network digest,
duration, seed, compute capability, lowering source) and only runs it; a project that
does not match is generated and compiled there as usual.

    SPIKEMEM_CACHE=/tmp/prebuild .venv-cuda/bin/python benchmarks/gpu_prebuild.py --out .gpu_prebuilt
    python benchmarks/gpu_prebuild.py --out .gpu_prebuilt --pack   # one .tar.xz to carry
    # on the GPU machine: tar -xJf .gpu_prebuilt/cuda_standalone.tar.xz -C $SPIKEMEM_CACHE
    python benchmarks/gpu_prebuild.py --keys        # only list folders and keys (no build)

The host code is compiled for any x86-64 CPU; cuRAND's library is found on the GPU machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

RUNTIME_FILES = ("main", "spikemem.json", "network.h5")


def projects(which: list[str], cases: list[str], seed: int = 0) -> dict[str, tuple[Any, float]]:
    """(network, duration in ms) of each project to compile, by label."""
    import gpu  # benchmarks/gpu.py

    found: dict[str, tuple[Any, float]] = {}
    if "tests" in which:
        from test_cuda import gpu_runs

        found.update({f"test:{k}": v for k, v in gpu_runs().items()})
    if "bench" in which:
        for case in cases:
            network, duration, _ = gpu.case_network(case, gpu.DEFAULT_OPS[case], seed)
            found[f"bench:{case}"] = (network, duration)
    return found


def copy_runtime(project: Path, out: Path) -> Path:
    """Copy what running ``project`` needs to ``out/cuda_standalone/<name>``; return it."""
    dest = out / "cuda_standalone" / project.name
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "results").mkdir(parents=True)
    for name in RUNTIME_FILES:
        shutil.copy2(project / name, tmp / name)
    shutil.copytree(project / "static_arrays", tmp / "static_arrays")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def pack(out: Path) -> Path:
    """``out/cuda_standalone`` as one xz archive next to it, for carrying to the GPU machine
    (binaries and index arrays shrink several-fold); the folder itself is removed."""
    import tarfile

    archive = out / "cuda_standalone.tar.xz"
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w:xz") as tar:
        tar.add(out / "cuda_standalone", arcname="cuda_standalone")
    partial.rename(archive)
    shutil.rmtree(out / "cuda_standalone")
    return archive


def main(argv: list[str] | None = None) -> int:
    import gpu

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(".gpu_prebuilt"), help="where the runnable copies go")
    parser.add_argument("--which", nargs="+", default=["tests", "bench"], choices=["tests", "bench"])
    parser.add_argument("--cases", nargs="+", default=list(gpu.CASES), choices=list(gpu.CASES))
    parser.add_argument("--compute-capability", type=float, default=9.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keys", action="store_true", help="only print each project's folder and content key")
    parser.add_argument("--pack", action="store_true", help="only pack --out into OUT/cuda_standalone.tar.xz")
    args = parser.parse_args(argv)
    if args.pack:
        archive = pack(args.out)
        print(f"{archive}: {archive.stat().st_size / 1e6:.1f} MB")
        return 0

    from spikemem.hardware import cuda

    cc = args.compute_capability
    for label, (network, duration) in projects(args.which, args.cases).items():
        if args.keys:
            key = cuda.content_key(network, duration, 0, cc)
            print(f"{label:<24} {cuda._default_dir(network, duration, cc).name}  {key[:16]}", flush=True)
            continue
        t0 = time.perf_counter()
        folder, _ = cuda.build(network, duration, stage="compile", compute_capability=cc, jobs=args.jobs)
        dest = copy_runtime(folder, args.out)
        size = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())
        print(f"{label:<24} compiled in {time.perf_counter() - t0:6.0f} s  {size / 1e6:6.1f} MB  -> {dest}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
