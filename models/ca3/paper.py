"""The paper's two tests (Casanueva-Morato et al. 2024, spec/ca3.md §4), as schedules.

``exp1``, the *functional test*: learn three memories, recall by cue and by content,
overwrite one, check that it is forgotten (N = 5 cues, M = 10 bits, 9 ops in 90 ms).
``exp2``, the *pyramidal stress test-bench*: 60 ops every 14 ms — five memories learned,
recalled by cue and by each content bit, overwritten by their complements, then by the
originals again (851 ms). Either runs on either circuit.
"""

from __future__ import annotations

from typing import Any

from spikemem.errors import ValidationError

from .schedule import Schedule, parse_schedule

EXP1_OPS = [
    {"t": 0, "op": "learn", "cue": 0, "content": [0, 1, 8, 9]},
    {"t": 10, "op": "learn", "cue": 4, "content": [1, 5, 6]},
    {"t": 20, "op": "learn", "cue": 3, "content": [4, 5, 6]},
    {"t": 30, "op": "recall_cue", "cue": 0},
    {"t": 40, "op": "recall_content", "content": [6]},
    {"t": 50, "op": "recall_content", "content": [0, 4]},
    {"t": 60, "op": "learn", "cue": 3, "content": [1, 3, 4, 8]},
    {"t": 70, "op": "recall_cue", "cue": 3},
    {"t": 80, "op": "recall_content", "content": [6]},
]
EXP1_DURATION_MS = 90.0
EXP2_DURATION_MS = 851.0


def _exp2_ops() -> list[dict[str, Any]]:
    orig = [{c for c in range(10) if (i + 1) >> c & 1} for i in range(5)]
    comp = [set(range(10)) - p for p in orig]
    ops: list[dict[str, Any]] = []
    for r, patterns in enumerate((orig, comp, orig)):
        start = 1 + 280 * r
        for i in range(5):
            ops.append({"t": start + 14 * i, "op": "learn", "cue": i, "content": sorted(patterns[i])})
        for i in range(5):
            ops.append({"t": start + 70 + 14 * i, "op": "recall_cue", "cue": i})
        for b in range(10):
            ops.append({"t": start + 140 + 14 * b, "op": "recall_content", "content": [b]})
    return ops


def paper_schedule(name: str) -> Schedule:
    """The published functional test (``"exp1"``) or pyramidal stress test (``"exp2"``)."""
    if name == "exp1":
        return parse_schedule({"n_cues": 5, "n_bits": 10, "ops": EXP1_OPS})
    if name == "exp2":
        return parse_schedule({"n_cues": 5, "n_bits": 10, "ops": _exp2_ops()})
    raise ValidationError("experiment", name, "'exp1' (functional test) or 'exp2' (pyramidal stress test)")
