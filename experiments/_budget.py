"""What a sweep will hold, checked before it builds a stream or opens a file.

A sweep's size is known from its options alone: the number of points is a product of the
grid's lengths, and the streams in memory at once are the worker processes times the
streams each launch stacks. Both are checked by arithmetic (enumerating ``--seeds
1000000000`` points to count them would itself fill the memory), then each network shape
against the memory once it is built (:func:`check_shape`), all before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from spikemem import budget

#: Bytes a finished point keeps until the end: its table row, its resume-file line, its
#: HDF5 arrays (about 1 kB each, rounded up).
BYTES_PER_POINT = 4096
#: Bytes one op of a stream needs while it runs: the op, its input spikes, the recorded
#: output spikes and its answer (about 1 kB per op measured at 2·10⁴ ops on 5x10; doubled).
BYTES_PER_OP = 2048


def check_sweep(
    grid: Sequence[tuple[int, str]], points_field: str, points_value: Any, ops: int, streams_at_once: int, workers: int
) -> None:
    """Refuse a sweep whose points, streams or workers would not fit this machine.

    ``grid`` is the sweep's axes as ``(length, noun)`` pairs (``(2, "mode"), (4, "spacing")``);
    its points are their product. ``points_field`` is the option to name (the one that grows
    it the most).
    """
    n_points = math.prod(n for n, _ in grid)
    axes = " x ".join(counted(n, noun) for n, noun in grid)
    budget.check_cores("--workers", workers, "worker processes")
    budget.check_bytes(points_field, points_value, n_points * BYTES_PER_POINT, f"{n_points:.3g} points: {axes}")
    budget.check_bytes(
        "--ops", ops, ops * streams_at_once * BYTES_PER_OP, f"{counted(streams_at_once, 'stream')} of {ops} ops at once"
    )


def counted(n: int, noun: str) -> str:
    """``1 stream``, ``2 streams``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def check_shape(network: Any, duration_ms: float, n_cues: int, n_bits: int, copies: int) -> None:
    """Refuse a memory size whose network (``copies`` of it at once: workers times the
    streams of a launch) would not fit, naming ``--sizes``."""
    budget.check_network(network, duration_ms, "--sizes", f"{n_cues}x{n_bits}", copies)
