"""Recording: PyNN's ``Recorder`` reading spikes and membrane traces from spikemem's Results.

What a script records becomes probes of the lowered network (:mod:`.lowering`); after a run,
:class:`Recorder` reads the current segment's :class:`~spikemem.results.Results` and PyNN's
own machinery turns them into neo segments and blocks (``get_data``, ``write_data``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyNN import recording

from . import simulator


class Recorder(recording.Recorder):
    """Reads one population's recorded spikes and ``v`` from the last run of the segment."""

    _simulator = simulator

    def __init__(self, population: Any, file: Any = None) -> None:
        super().__init__(population, file)
        self._cleared_at = 0.0
        self._cleared_segment = -1

    def _record(self, variable: Any, new_ids: Any, sampling_interval: float | None = None) -> None:
        if sampling_interval is not None:
            self.sampling_interval = float(sampling_interval)

    def _results(self) -> Any:
        return self._simulator.state.results

    def _window(self) -> tuple[float, float, bool]:
        """(start, stop, stop included) of what the segment's recording holds (:mod:`.running`)."""
        state = self._simulator.state
        start = self._cleared_at if self._cleared_segment == state.segment_counter else 0.0
        return start, float(state.t), state.dialect == "pynn"

    def _within(self, times: np.ndarray) -> np.ndarray:
        start, stop, closed = self._window()
        eps = 1e-6 * self._simulator.state.dt
        return (times >= start - eps) & ((times <= stop + eps) if closed else (times < stop - eps))

    def _name(self) -> str:
        return self._simulator.state.lowered.names[self.population]

    def _get_spiketimes(self, ids: Any, clear: bool = False) -> dict[int, np.ndarray]:
        results = self._results()
        out: dict[int, np.ndarray] = {int(i): np.empty(0) for i in ids}
        if results is None or not out:
            return out
        st = results.spikes[self._name()]
        state = self._simulator.state
        lag = state.dt if state.dialect == "pynn" else 0.0  # PyNN's stamp: the end of the step (.lowering)
        index = self.population.id_to_index(np.array(sorted(out), dtype=int))
        for cell, k in zip(sorted(out), np.atleast_1d(index), strict=True):
            times = st.times[st.indices == k]
            times = np.round(times + lag, 10) if lag else times  # 2.9 + 0.1 is 3.0 in a neo file
            out[cell] = times[self._within(times)]
        return out

    def _get_all_signals(self, variable: Any, ids: Any, clear: bool = False) -> tuple[np.ndarray, None]:
        results = self._results()
        if results is None or not len(ids):
            return np.zeros((0, len(ids))), None
        trace = results.traces[f"{self._name()}.{variable.name}"]
        index = np.atleast_1d(self.population.id_to_index(np.array(list(ids), dtype=int)))
        keep = self._within(trace.times)
        step = max(1, int(round(self.sampling_interval / self._simulator.state.dt)))
        return trace.values[keep][::step][:, index], None

    def _local_count(self, variable: Any, filter_ids: Any = None) -> dict[int, int]:
        ids = self.filter_recorded(variable, filter_ids)
        return {cell: len(times) for cell, times in self._get_spiketimes(ids).items()}

    def _clear_simulator(self) -> None:
        self._cleared_at = float(self._simulator.state.t)
        self._cleared_segment = self._simulator.state.segment_counter

    def _reset(self) -> None:
        self._cleared_segment = -1
