"""Where spikemem keeps compiled code between runs.

``$SPIKEMEM_CACHE`` if set, else ``~/.cache/spikemem``. Brian2's Cython extensions and
C++ standalone projects live below it, so a second run of the same model skips the
compiler.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """A folder under the spikemem cache, created on first use."""
    root = Path(os.environ.get("SPIKEMEM_CACHE") or Path.home() / ".cache" / "spikemem")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold ``directory`` (a build folder) for this process alone: other processes that
    lock it wait until this one is done (an advisory lock on ``directory/.spikemem.lock``)."""
    with open(directory / ".spikemem.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
