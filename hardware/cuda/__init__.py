"""The ``cuda`` target's room: brian2cuda's ``cuda_standalone`` device on NVIDIA GPUs.

===========  ====================================================================
``target``   the target: generate, compile and run stages, export, content keys
``pairs``    a linear pass before brian2cuda's check for repeated (pre, post) pairs
``project``  a project on disk: manifest, running its ``main``, reading its results
``machine``  what the machine has: nvcc, cuRAND, NVIDIA GPUs
===========  ====================================================================

The network is lowered by the ``brian2`` room's lowering, unchanged.
"""

from .machine import DEFAULT_COMPUTE_CAPABILITY, curand_dirs, default_compute_capability, gpus, nvcc_path
from .project import LOG, MANIFEST, compiled_for, compiled_key, read_results, run_project
from .target import STAGES, TARGET, build, check, check_stage, content_key, default_dir, export, run

TARGETS = ("target",)

__all__ = [
    "DEFAULT_COMPUTE_CAPABILITY",
    "LOG",
    "MANIFEST",
    "STAGES",
    "TARGET",
    "TARGETS",
    "build",
    "check",
    "check_stage",
    "compiled_for",
    "compiled_key",
    "content_key",
    "curand_dirs",
    "default_compute_capability",
    "default_dir",
    "export",
    "gpus",
    "nvcc_path",
    "read_results",
    "run",
    "run_project",
]
