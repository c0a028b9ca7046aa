"""Spike comparisons shared by the tests that hold two runs to each other."""

from __future__ import annotations

from spikemem import Results


def assert_same_spikes(a: Results, b: Results) -> None:
    """Both runs recorded the same populations, each with exactly the same spikes."""
    assert set(a.spikes) == set(b.spikes)
    for pop in a.spikes:
        assert a.spikes[pop] == b.spikes[pop], pop
