"""Shared test set-up: project-owned caches, one OpenMP thread, reference-data paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "data" / "ca3_reference"

os.environ.setdefault("SPIKEMEM_CACHE", str(ROOT / ".cache" / "spikemem"))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The CA3 spike tables recorded on SpiNNaker (../shared/data/ca3_reference)."""
    if not REFERENCE.exists():
        pytest.fail(f"reference data missing: {REFERENCE} (tests read it from ../shared)")
    return REFERENCE
