"""Where spikemem keeps compiled code between runs.

``$SPIKEMEM_CACHE`` if set, else ``~/.cache/spikemem``. Brian2's Cython extensions and
C++ standalone projects live below it, so a second run of the same model skips the
compiler.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """A folder under the spikemem cache, created on first use."""
    root = Path(os.environ.get("SPIKEMEM_CACHE") or Path.home() / ".cache" / "spikemem")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
