"""Spike comparisons shared by the tests that hold two runs to each other."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from spikemem import Results


def recorded_spikes(path: Path) -> dict[str, set[tuple[int, int]]]:
    """A SpiNNaker spike table (``tests/data/ca3_reference/*.csv``): population → {(ms, neuron)}."""
    table: dict[str, set[tuple[int, int]]] = defaultdict(set)
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            table[row["population"]].add((int(row["t_ms"]), int(row["neuron"])))
    return table


def assert_same_spikes(a: Results, b: Results) -> None:
    """Both runs recorded the same populations, each with exactly the same spikes."""
    assert set(a.spikes) == set(b.spikes)
    for pop in a.spikes:
        assert a.spikes[pop] == b.spikes[pop], pop
