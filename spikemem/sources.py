"""Spike sources: given spike times, or a seeded Poisson process.

Sources are data. A Poisson source is turned into spike times by spikemem itself
(numpy's PCG64 generator, seeded), so every target receives the very same input.
On a time-stepped target a spike at ``t`` ms is emitted in step ``round(t / dt)`` (the
nearest step); two spikes of one neuron in one step are one spike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from . import _checks as chk
from ._node import Node
from .errors import ValidationError


@dataclass(frozen=True, init=False, eq=False)
class SpikeTimes(Node):
    """Each neuron fires at the listed times (ms), like PyNN's ``SpikeSourceArray``.

    ``spike_times[i]`` is the sequence of times of neuron ``i``; sorted on construction.
    """

    kind: ClassVar[str] = "source"

    spike_times: tuple = ()

    def _validate(self) -> None:
        if isinstance(self.spike_times, np.ndarray) and self.spike_times.ndim == 1:
            raise ValidationError("SpikeTimes.spike_times", "1-d array", "one sequence of times per neuron")
        trains = [_train(i, train) for i, train in enumerate(self.spike_times)]
        if not trains:
            raise ValidationError("SpikeTimes.spike_times", self.spike_times, "at least one neuron")
        self._set("spike_times", tuple(trains))

    @property
    def size(self) -> int:
        """Number of neurons the times describe."""
        return len(self.spike_times)

    def times(self, size: int, duration_ms: float, seed: int) -> list[np.ndarray]:
        """Spike times per neuron (ms) that fall in ``[0, duration_ms)``."""
        return [np.array([t for t in train if t < duration_ms]) for train in self.spike_times]


def _train(i: int, train: Any) -> tuple[float, ...]:
    """Neuron ``i``'s times, checked and sorted (plain Python for the short trains that
    most neurons have: numpy's per-call overhead made big networks slow to describe)."""
    try:
        times = sorted(float(t) for t in train)
    except (TypeError, ValueError):
        try:
            times = np.sort(np.asarray(train, dtype=float).reshape(-1)).tolist()
        except (TypeError, ValueError):
            raise ValidationError(f"SpikeTimes.spike_times[{i}]", train, "a sequence of times in ms") from None
    if not all(math.isfinite(t) and t >= 0 for t in times):
        raise ValidationError(f"SpikeTimes.spike_times[{i}]", train, "finite times >= 0 ms")
    return tuple(times)


@dataclass(frozen=True, init=False, eq=False)
class Poisson(Node):
    """Independent Poisson spike trains of ``rate_hz`` between ``start_ms`` and ``stop_ms``.

    ``seed`` fixes the trains; ``None`` derives them from the seed given to ``simulate``.
    """

    kind: ClassVar[str] = "source"

    rate_hz: float = 10.0
    start_ms: float = 0.0
    stop_ms: float | None = None
    seed: int | None = None

    def _validate(self) -> None:
        self._set("rate_hz", chk.non_negative("Poisson.rate_hz", self.rate_hz))
        self._set("start_ms", chk.non_negative("Poisson.start_ms", self.start_ms))
        if self.stop_ms is not None:
            stop = chk.non_negative("Poisson.stop_ms", self.stop_ms)
            if stop < self.start_ms:
                raise ValidationError("Poisson.stop_ms", stop, f"a time >= start_ms ({self.start_ms} ms)")
            self._set("stop_ms", stop)
        if self.seed is not None:
            self._set("seed", chk.count("Poisson.seed", self.seed, minimum=0))

    def times(self, size: int, duration_ms: float, seed: int) -> list[np.ndarray]:
        """Draw the trains on ``[start_ms, min(stop_ms, duration_ms))``, reproducibly."""
        rng = np.random.default_rng(self.seed if self.seed is not None else seed)
        stop = duration_ms if self.stop_ms is None else min(self.stop_ms, duration_ms)
        span_s = max(stop - self.start_ms, 0.0) / 1000.0
        trains = []
        for _ in range(size):
            n = rng.poisson(self.rate_hz * span_s)
            trains.append(np.sort(rng.uniform(self.start_ms, stop, size=n)) if n else np.empty(0))
        return trains
