"""The plot people look at for a CA3 run: a spike raster with every operation marked."""

from __future__ import annotations

import json
import os
from typing import Any

from spikemem.plotting import raster

#: The colour of each op kind's start line.
OP_COLOURS = {"learn": "tab:green", "recall_cue": "tab:blue", "recall_content": "tab:orange"}


def ca3_raster(results: Any, path: str | os.PathLike[str]) -> None:
    """Raster of a CA3 run's results with each operation's start marked by its type (the
    schedule and the mode are read from the results' provenance)."""
    prov = results.provenance
    ops = json.loads(prov["ca3_schedule"])["ops"] if "ca3_schedule" in prov else []
    marks = [(float(op["t"]), op["op"]) for op in ops]
    raster(results, path, f"CA3 {prov.get('ca3_mode', '')} mode", marks, OP_COLOURS)
