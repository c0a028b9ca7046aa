"""Shared test set-up: project-owned caches, one OpenMP thread, reference-data paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(__file__).resolve().parent / "data" / "ca3_reference"

os.environ.setdefault("SPIKEMEM_CACHE", str(ROOT / ".cache" / "spikemem"))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The CA3 spike tables recorded on SpiNNaker (tests/data/ca3_reference, README there)."""
    if not REFERENCE.exists():
        pytest.fail(f"reference data missing: {REFERENCE} (it is part of the repository)")
    return REFERENCE
