"""PyNN's ``DCSource`` and ``StepCurrentSource``: current sources a script injects into cells.

Each is PyNN's standard type with an identity translation table, its parameters kept in a
``ParameterSpace`` as every backend keeps them. ``inject_into`` (or ``Population.inject``)
notes which cells it reaches; :mod:`.lowering` turns each (source, population) pair into a
:class:`spikemem.currents.Injection`, so the target runs it (the description's timing: a change
at ``T`` drives the step from ``T``, as on pyNN.nest). ``record()`` and ``get_data()`` give the
injected current, which is known in advance, at every step up to the current time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyNN.parameters import ParameterSpace
from pyNN.standardmodels import build_translations, electrodes

from .. import currents
from ..errors import ValidationError
from .simulator import state


class _CurrentSource:
    """What both current sources share (module docstring)."""

    def __init__(self, **parameters: Any) -> None:
        self.parameter_space = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        if parameters:
            self.parameter_space.update(**parameters)
        self.cell_list: list[Any] = []
        self.targets: list[tuple[Any, np.ndarray]] = []  # (Population, indices in it)
        self._recorded = False
        state.current_sources.append(self)

    def inject_into(self, cells: Any) -> None:
        """Inject this current into ``cells``: a Population, PopulationView, Assembly or a list of IDs."""
        groups: dict[Any, list[int]] = {}
        for cell in cells:
            parent = cell.parent
            if not parent.celltype.injectable:
                raise ValidationError(
                    f"{type(self).__name__}.inject_into", parent.label, "cells (a spike source takes no current)"
                )
            groups.setdefault(parent, []).append(int(parent.id_to_index(cell)))
        for parent, index in groups.items():
            self.targets.append((parent, np.asarray(index, dtype=np.int64)))
            self.cell_list += [parent[i] for i in index]

    def set_native_parameters(self, parameters: ParameterSpace) -> None:
        parameters.evaluate(simplify=True)
        self.parameter_space.update(**parameters.as_dict())

    def get_native_parameters(self) -> ParameterSpace:
        return self.parameter_space

    def _values(self) -> dict[str, Any]:
        space = ParameterSpace(dict(self.parameter_space.items()), self.get_schema(), shape=(1,))
        space.evaluate(simplify=True)
        return space.as_dict()

    def description(self) -> currents.CurrentSource:
        """The spikemem current source of this PyNN source."""
        raise NotImplementedError

    def record(self) -> None:
        """Record the injected current (``get_data``)."""
        self._recorded = True

    def _get_data(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._recorded:
            raise ValidationError(f"{type(self).__name__}.get_data", "not recorded", "record() called before the run")
        n = int(round(state.t / state.dt)) + 1
        return np.arange(n) * state.dt, self.description().steps(n, state.dt)


def _numbers(value: Any) -> np.ndarray:
    return np.asarray(value.value if hasattr(value, "value") else value, dtype=float).reshape(-1)


class DCSource(_CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"), ("stop", "stop"))

    def description(self) -> currents.DCSource:
        v = self._values()
        stop = float(v["stop"])
        return currents.DCSource(float(v["amplitude"]), float(v["start"]), None if stop >= 1e12 else stop)


class StepCurrentSource(_CurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = build_translations(("amplitudes", "amplitudes"), ("times", "times"))

    def description(self) -> currents.StepCurrentSource:
        v = self._values()
        return currents.StepCurrentSource(_numbers(v["times"]), _numbers(v["amplitudes"]))
