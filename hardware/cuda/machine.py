"""The machine the ``cuda`` target runs on: nvcc, cuRAND, NVIDIA GPUs.

Nothing here generates or compiles code, so a compiled project's :func:`~.target.content_key`
does not depend on this module.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from spikemem.cache import cache_dir

DEFAULT_COMPUTE_CAPABILITY = 9.0


def nvcc_path() -> str | None:
    """The nvcc that brian2cuda will use (``$CUDA_PATH/bin/nvcc`` or nvcc on PATH)."""
    env = os.environ.get("CUDA_PATH", "")
    if env and os.path.exists(os.path.join(env, "bin", "nvcc")):
        return os.path.join(env, "bin", "nvcc")
    return shutil.which("nvcc")


def gpus() -> list[tuple[str, float]]:
    """NVIDIA GPUs of this machine as ``(name, compute capability)``; empty without one."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name,compute_cap", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.stdout.splitlines() if out.returncode == 0 else []:
        name, _, cap = line.rpartition(",")
        try:
            found.append((name.strip(), float(cap)))
        except ValueError:
            continue
    return found


def default_compute_capability() -> float:
    """The first GPU's compute capability, else :data:`DEFAULT_COMPUTE_CAPABILITY`."""
    found = gpus()
    return found[0][1] if found else DEFAULT_COMPUTE_CAPABILITY


def curand_dirs() -> tuple[Path, Path] | None:
    """``(include dir with curand.h, lib dir with libcurand.so*)``, or None.

    Looks in the ``nvidia-curand`` wheel (``nvidia/cu13``, ``nvidia/cu12``,
    ``nvidia/curand``) and then in the CUDA toolkit next to nvcc.
    """
    bases: list[Path] = []
    spec = importlib.util.find_spec("nvidia")
    if spec is not None and spec.submodule_search_locations:
        for root in spec.submodule_search_locations:
            bases += [Path(root) / sub for sub in ("cu13", "cu12", "curand")]
    nvcc = nvcc_path()
    if nvcc is not None:
        bases.append(Path(os.path.realpath(nvcc)).parent.parent)
    bases.append(Path("/usr/local/cuda"))
    for base in bases:
        if not (base / "include" / "curand.h").is_file():
            continue
        for lib in ("lib", "lib64", "lib/x64", "targets/x86_64-linux/lib"):
            if any((base / lib).glob("libcurand.so*")):
                return base / "include", base / lib
    return None


def link_dir(lib_dir: Path) -> Path:
    """A folder with ``libcurand.so`` for the linker: ``lib_dir`` itself, or a project-owned
    folder in the spikemem cache with a symlink to the versioned library (the wheel ships
    only ``libcurand.so.10``, stack.md P6)."""
    if (lib_dir / "libcurand.so").exists():
        return lib_dir
    target = sorted(lib_dir.glob("libcurand.so.*"))[0]
    folder = cache_dir("cuda_curand", hashlib.sha256(str(target).encode()).hexdigest()[:12])
    link = folder / "libcurand.so"
    if not link.is_symlink() or os.readlink(link) != str(target):
        tmp = folder / f".libcurand.so.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        os.replace(tmp, link)
    return folder
