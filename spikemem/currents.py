"""Current sources injected into cells: PyNN's ``DCSource`` and ``StepCurrentSource``.

A source is a piecewise-constant current :math:`a(t)` in nA. An :class:`Injection` adds it
to the membrane equation of chosen neurons of one cell population, beside the cell's own
``i_offset``:

.. math:: c_m \\frac{dv}{dt} = \\dots + i_{offset} + \\sum_{\\text{injections}} a(t)

On a time-stepped target the amplitude in force at the start of a step, :math:`a(k\\,dt)`,
drives the whole step from :math:`k\\,dt` to :math:`(k+1)\\,dt`; a change of amplitude at
time ``T`` takes effect in step ``round(T / dt)`` (the nearest step, as for spike times),
so the potential first moves at ``T + dt``. That is what pyNN.nest does (it starts NEST's
generators one step early for that reason), measured on the pinned NEST.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from . import _checks as chk
from ._node import Node
from .errors import ValidationError


class CurrentSource(Node):
    """Base class of current sources (data; :meth:`steps` gives the amplitude per step)."""

    kind: ClassVar[str] = "current"

    def changes(self) -> tuple[np.ndarray, np.ndarray]:
        """The times (ms) at which the amplitude changes and the amplitudes (nA) from then on;
        zero before the first time."""
        raise NotImplementedError

    def steps(self, n_steps: int, dt: float) -> np.ndarray:
        """The amplitude (nA) driving each of ``n_steps`` steps of ``dt`` ms (module docstring)."""
        times, amplitudes = self.changes()
        out = np.zeros(n_steps)
        for t, a in zip(times, amplitudes):
            k = int(math.floor(t / dt + 0.5))
            if k < n_steps:
                out[max(k, 0) :] = a
        return out


@dataclass(frozen=True, init=False, eq=False)
class DCSource(CurrentSource):
    """A constant current of ``amplitude`` nA from ``start`` to ``stop`` ms (``None``: to the
    end of the run), as PyNN's ``DCSource``."""

    amplitude: float = 1.0
    start: float = 0.0
    stop: float | None = None

    def _validate(self) -> None:
        self._set("amplitude", chk.finite("DCSource.amplitude", self.amplitude))
        self._set("start", chk.non_negative("DCSource.start", self.start))
        if self.stop is not None:
            stop = chk.non_negative("DCSource.stop", self.stop)
            if stop < self.start:
                raise ValidationError("DCSource.stop", stop, f"None or a time >= start ({self.start} ms)")
            self._set("stop", stop)

    def changes(self) -> tuple[np.ndarray, np.ndarray]:
        if self.stop is None:
            return np.array([self.start]), np.array([self.amplitude])
        return np.array([self.start, self.stop]), np.array([self.amplitude, 0.0])


@dataclass(frozen=True, init=False, eq=False)
class StepCurrentSource(CurrentSource):
    """A current that is 0 until ``times[0]`` and ``amplitudes[k]`` nA from ``times[k]`` ms on,
    as PyNN's ``StepCurrentSource`` (the last amplitude lasts to the end of the run)."""

    times: tuple = ()
    amplitudes: tuple = ()

    def _validate(self) -> None:
        times = _floats("StepCurrentSource.times", self.times)
        amplitudes = _floats("StepCurrentSource.amplitudes", self.amplitudes)
        if len(amplitudes) != len(times):
            raise ValidationError(
                "StepCurrentSource.amplitudes", f"{len(amplitudes)} values", f"one per time ({len(times)})"
            )
        if any(t < 0 for t in times) or any(b <= a for a, b in zip(times, times[1:])):
            raise ValidationError("StepCurrentSource.times", self.times, "increasing times >= 0 ms")
        self._set("times", times)
        self._set("amplitudes", amplitudes)

    def changes(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.times, dtype=float), np.array(self.amplitudes, dtype=float)


def _floats(field: str, values: Any) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in np.asarray(values, dtype=float).reshape(-1))
    except (TypeError, ValueError):
        raise ValidationError(field, values, "a sequence of numbers") from None
    if not all(math.isfinite(v) for v in out):
        raise ValidationError(field, values, "finite numbers")
    return out


@dataclass(frozen=True, init=False, eq=False)
class Injection(Node):
    """``source`` injected into the neurons ``neurons`` (indices; ``None``: all) of the cell
    population ``target`` (PyNN's ``source.inject_into(population[neurons])``)."""

    name: str = None  # type: ignore[assignment]
    source: CurrentSource = None  # type: ignore[assignment]
    target: str = None  # type: ignore[assignment]
    neurons: np.ndarray | None = None

    def _validate(self) -> None:
        chk.name("Injection.name", self.name)
        field = f"Injection {self.name!r}"
        if not isinstance(self.source, CurrentSource):
            raise ValidationError(f"{field}.source", self.source, "a current source (DCSource, StepCurrentSource)")
        if hasattr(self.target, "name") and not isinstance(self.target, str):
            self._set("target", self.target.name)
        chk.name(f"{field}.target", self.target)
        if self.neurons is not None:
            try:
                idx = np.asarray(self.neurons, dtype=np.int64).reshape(-1)
            except (TypeError, ValueError):
                raise ValidationError(f"{field}.neurons", self.neurons, "None or neuron indices") from None
            if idx.size == 0 or np.any(idx < 0) or len(np.unique(idx)) != idx.size:
                raise ValidationError(f"{field}.neurons", self.neurons, "None or distinct neuron indices >= 0")
            idx = np.sort(idx)
            idx.setflags(write=False)
            self._set("neurons", idx)

    def indices(self, size: int) -> np.ndarray:
        """The neurons injected, for a target population of ``size`` neurons."""
        return np.arange(size, dtype=np.int64) if self.neurons is None else self.neurons
