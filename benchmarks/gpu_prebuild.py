"""Compile ahead, on any machine with nvcc, the CUDA projects a GPU session will run.

nvcc takes minutes per CA3 project, on a GPU machine as anywhere else; GPU time is scarce.
This script generates and compiles (stages 1-2 of the ``cuda`` target) every project that
the ``gpu`` tests (``tests/targets/test_cuda.py::gpu_runs``) and ``benchmarks/gpu.py``'s GPU side
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
    SPIKEMEM_CACHE=/tmp/prebuild .venv-cuda/bin/python benchmarks/gpu_prebuild.py --out .gpu_prebuilt --rekey
    # compile only some projects (labels as --keys prints them) to .gpu_prebuilt; --pack keeps the others:
    SPIKEMEM_CACHE=/tmp/prebuild .venv-cuda/bin/python benchmarks/gpu_prebuild.py --only bench:ca3-10000

The host code is compiled for any x86-64 CPU; cuRAND's library is found on the GPU machine.

A content key hashes the lowering's source, so any edit of it (a docstring, a reordering)
makes every archived project look stale, and compiling them all again takes hours on 2
cores. ``--rekey`` (:func:`rekey`) regenerates each project instead (brian2cuda, no nvcc,
seconds) and, only where that gives byte for byte what was compiled, gives the archived
project the current key. Run it with the ``SPIKEMEM_CACHE`` the projects were compiled in:
the full projects there (sources, makefile) are what the regenerated ones are compared with.

What brian2cuda writes depends on Python's string-hash order (the order of a monitor's
variables) and on Brian2 objects still alive in the process (names get suffixes), so every
project is generated, for compiling and for ``--rekey`` alike, by a fresh interpreter with
``PYTHONHASHSEED=0`` (:func:`build_apart`): the same code then writes the same bytes.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from spikemem.hardware import cuda
from spikemem.hardware.cuda import LOG, MANIFEST
from spikemem.hardware.cuda.project import compiled_key
from spikemem.io import load_network, save_network
from spikemem.network import Network

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests"), str(HERE.parent / "tests" / "targets")]

RUNTIME_FILES = ("main", MANIFEST, "network.h5")
ARCHIVE = "cuda_standalone.tar.xz"
BUILD_PRODUCTS = ("main", LOG, "README.md")  # and *.o, results/: what compiling, running, export add


def projects(which: list[str], cases: list[str], seed: int = 0) -> dict[str, tuple[Network, float]]:
    """(network, duration in ms) of each project to compile, by label."""
    import gpu  # benchmarks/gpu.py

    found: dict[str, tuple[Network, float]] = {}
    if "tests" in which:
        from test_cuda import gpu_runs

        found.update({f"test:{k}": v for k, v in gpu_runs().items()})
    if "bench" in which:
        for case in cases:
            network, duration, _ = gpu.case_network(case, gpu.DEFAULT_OPS[case], seed)
            found[f"bench:{case}"] = (network, duration)
    return found


def build_apart(
    network: Network, duration_ms: float, stage: str, cc: float, jobs: int, folder: Path | None = None
) -> Path:
    """``cuda.build`` of one project up to ``stage`` in a fresh Python process with
    ``PYTHONHASHSEED=0`` (module docstring); the network travels as a spikemem HDF5 file.
    Returns the project folder (``folder``, else the cuda target's folder in the cache)."""
    with tempfile.TemporaryDirectory(prefix="spikemem-prebuild-") as tmp:
        saved = Path(tmp) / "network.h5"
        save_network(network, saved)
        command = [sys.executable, str(Path(__file__).resolve()), "--build-one", str(saved), repr(float(duration_ms))]
        command += ["--stage", stage, "--compute-capability", repr(cc), "--jobs", str(jobs)]
        command += ["--into", str(folder)] if folder is not None else []
        subprocess.run(command, env={**os.environ, "PYTHONHASHSEED": "0"}, check=True)
    return folder if folder is not None else cuda.default_dir(network, duration_ms, cc)


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
    (binaries and index arrays shrink several-fold); the folder itself is removed. Projects
    of an archive already there that ``out/cuda_standalone`` lacks are kept."""
    archive = out / ARCHIVE
    partial = archive.with_name(archive.name + ".partial")
    with tempfile.TemporaryDirectory(dir=out, prefix="pack-") as tmp, tarfile.open(partial, "w:xz") as tar:
        if archive.is_file():
            kept = _extract(archive, Path(tmp))
            for project in sorted(kept.iterdir()):
                if not (out / "cuda_standalone" / project.name).exists():
                    tar.add(project, arcname=f"cuda_standalone/{project.name}")
        tar.add(out / "cuda_standalone", arcname="cuda_standalone")
    partial.replace(archive)
    shutil.rmtree(out / "cuda_standalone")
    return archive


def _extract(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "cuda_standalone"


def rekey(out: Path, found: dict[str, tuple[Network, float]], cc: float) -> int:
    """Give the compiled projects in ``out/cuda_standalone.tar.xz`` the current code's content
    keys where the current code generates exactly what was compiled; return an exit status
    (1 if some project was refused).

    Each project of ``found`` (label → network, duration) is generated again (stage 1,
    :func:`build_apart`) and compared, file by file, with the full project it was compiled
    from, which the build left in ``$SPIKEMEM_CACHE/cuda_standalone/<name>`` (its manifest key
    and ``main`` must be the archived ones): every source, the makefile, the static arrays,
    the network and the manifest (its key aside) must be equal; objects, ``main`` and results
    are not compared. Projects that pass get the new key (archive repacked, then the build
    folders' manifests); the others keep theirs and are named, with what differs.
    """
    archive = out / ARCHIVE
    if not archive.is_file():
        print(f"--rekey: no {archive} (compile the projects and --pack them first)", file=sys.stderr)
        return 2
    rekeyed, refused = [], {}
    with tempfile.TemporaryDirectory(dir=out, prefix="rekey-") as tmp:
        scratch = Path(tmp)
        packed_root = _extract(archive, scratch)
        for label, (network, duration) in found.items():
            built = cuda.default_dir(network, duration, cc)
            packed = packed_root / built.name
            key = cuda.content_key(network, duration, 0, cc)
            old = compiled_key(packed)
            if old == key:
                print(f"{label:<24} already has this code's key {key[:16]}", flush=True)
                continue
            if old is None:
                refused[label] = f"{built.name} is not in {archive}"
                continue
            if not (cuda.compiled_for(built, old) and filecmp.cmp(built / "main", packed / "main", shallow=False)):
                refused[label] = f"{built} is not what was archived (compiled_key or main differ)"
                continue
            fresh = build_apart(network, duration, "generate", cc, 1, scratch / "generated" / built.name)
            differ = _differences(fresh, built)
            if differ:
                listed = ", ".join(differ[:5]) + (f" and {len(differ) - 5} more" if len(differ) > 5 else "")
                refused[label] = f"the current code generates other files than were compiled: {listed}"
                continue
            _set_compiled_key(packed, key)
            rekeyed.append((built, key))
            print(f"{label:<24} generates what was compiled: key {old[:16]} -> {key[:16]}", flush=True)
        if rekeyed:
            os.replace(pack(scratch), archive)
    for built, key in rekeyed:
        _set_compiled_key(built, key)
    for label, why in refused.items():
        print(f"refused: {label}: {why}", file=sys.stderr)
    if refused:
        print(f"compile them again: --only {' '.join(refused)}, then --pack", file=sys.stderr)
    return 1 if refused else 0


def _set_compiled_key(project: Path, key: str) -> None:
    manifest = json.loads((project / MANIFEST).read_text())
    manifest["compiled_key"] = key
    partial = project / (MANIFEST + ".partial")
    partial.write_text(json.dumps(manifest, indent=1))
    partial.replace(project / MANIFEST)


def _differences(generated: Path, compiled: Path) -> list[str]:
    """Files (relative paths) in which the ``generated`` project differs from the ``compiled``
    one, build products aside."""

    def files(root: Path) -> set[str]:
        found = (f.relative_to(root) for f in root.rglob("*") if f.is_file())
        return {str(f) for f in found if f.suffix != ".o" and f.name not in BUILD_PRODUCTS and f.parts[0] != "results"}

    ours, theirs = files(generated), files(compiled)
    differ = sorted(ours ^ theirs)
    for rel in sorted(ours & theirs):
        if rel == MANIFEST:
            a, b = (json.loads((root / rel).read_text()) for root in (generated, compiled))
            if {**a, "compiled_key": None} != {**b, "compiled_key": None}:
                differ.append(rel)
        elif not filecmp.cmp(generated / rel, compiled / rel, shallow=False):
            differ.append(rel)
    return differ


def main(argv: list[str] | None = None) -> int:
    import gpu

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(".gpu_prebuilt"), help="where the runnable copies go")
    parser.add_argument("--which", nargs="+", default=["tests", "bench"], choices=["tests", "bench"])
    parser.add_argument("--cases", nargs="+", default=list(gpu.CASES), choices=list(gpu.CASES))
    parser.add_argument("--compute-capability", type=float, default=9.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", nargs="+", metavar="LABEL", help="only these projects (labels as printed)")
    parser.add_argument("--keys", action="store_true", help="only print each project's folder and content key")
    parser.add_argument("--pack", action="store_true", help="only pack --out into OUT/cuda_standalone.tar.xz")
    parser.add_argument(
        "--rekey",
        action="store_true",
        help="give OUT/cuda_standalone.tar.xz's projects this code's keys where it generates what was compiled",
    )
    # build_apart's child process: one project from a network file
    parser.add_argument("--build-one", nargs=2, metavar=("NETWORK_H5", "DURATION_MS"), help=argparse.SUPPRESS)
    parser.add_argument("--stage", default="compile", choices=["generate", "compile"], help=argparse.SUPPRESS)
    parser.add_argument("--into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_one:
        network, duration = load_network(args.build_one[0]), float(args.build_one[1])
        cuda.build(network, duration, args.into, args.stage, 0, args.compute_capability, args.jobs)
        return 0
    if args.pack:
        archive = pack(args.out)
        print(f"{archive}: {archive.stat().st_size / 1e6:.1f} MB")
        return 0

    cc = args.compute_capability
    found = projects(args.which, args.cases)
    unknown = sorted(set(args.only or ()) - set(found))
    if unknown:
        parser.error(f"--only: {', '.join(unknown)} not among the selected projects ({', '.join(found)})")
    found = {label: v for label, v in found.items() if not args.only or label in args.only}
    if args.rekey:
        return rekey(args.out, found, cc)
    for label, (network, duration) in found.items():
        if args.keys:
            key = cuda.content_key(network, duration, 0, cc)
            print(f"{label:<24} {cuda.default_dir(network, duration, cc).name}  {key[:16]}", flush=True)
            continue
        t0 = time.perf_counter()
        dest = copy_runtime(build_apart(network, duration, "compile", cc, args.jobs), args.out)
        size = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())
        print(f"{label:<24} compiled in {time.perf_counter() - t0:6.0f} s  {size / 1e6:6.1f} MB  -> {dest}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
