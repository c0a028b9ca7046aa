"""Populations, views and assemblies: PyNN's ``common`` classes over spikemem's state.

Parameters live as native arrays on the :class:`Population` (one value per neuron), initial
membrane potentials in ``_initial_v``; views write into their grandparent's arrays. Nothing is
sent anywhere until the script's time advances (:mod:`.running`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyNN import common, errors
from pyNN.parameters import ParameterSpace, simplify
from pyNN.standardmodels import StandardCellType

from . import simulator
from .recording import Recorder


def _spinnaker_set(target: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    """sPyNNaker's dialect: ``set(v=...)`` sets the initial membrane potential (sPyNNaker 6 did;
    PyNN and sPyNNaker 7 refuse it). Returns the remaining parameters."""
    if simulator.state.dialect == "spinnaker" and "v" in parameters:
        parameters = dict(parameters)
        target.initialize(v=parameters.pop("v"))
    return parameters


class _Parameters:
    """What populations and views share: reading, writing and lowering native parameters."""

    def _get_parameters(self, *names: str) -> ParameterSpace:
        if isinstance(self.celltype, StandardCellType):
            if any(name in self.celltype.computed_parameters() for name in names):
                native_names = self.celltype.get_native_names()
            else:
                native_names = self.celltype.get_native_names(*names)
            return self.celltype.reverse_translate(self._get_native_parameters(*native_names))
        raise errors.NonExistentParameterError(names, self.celltype)  # pragma: no cover - standard types only

    def set(self, **parameters: Any) -> None:
        """Set parameters (PyNN's ``set``); in sPyNNaker's dialect ``v`` sets the initial potential."""
        parameters = _spinnaker_set(self, parameters)
        if parameters:
            super().set(**parameters)  # type: ignore[misc]


class Assembly(common.Assembly):
    """A group of populations (PyNN's ``Assembly``): records, reads and writes its members."""

    _simulator = simulator


class PopulationView(_Parameters, common.PopulationView):
    """A subset of a population's neurons (PyNN's ``PopulationView``)."""

    _assembly_class = Assembly
    _simulator = simulator

    def __init__(self, parent: Any, selector: Any, label: str | None = None) -> None:
        # PyNN 0.13 documents lists as selectors but reads ``selector.dtype``; sPyNNaker
        # scripts pass ``range``s
        if isinstance(selector, (range, list, tuple)):
            selector = np.asarray(selector) if len(selector) else np.empty(0, dtype=np.int64)
        super().__init__(parent, selector, label)

    def _get_native_parameters(self, *names: str) -> ParameterSpace:
        values = {}
        for name in names:
            value = self.grandparent._parameters[name]
            if isinstance(value, np.ndarray):
                value = value[self.index_in_grandparent(np.arange(self.size))]
            values[name] = simplify(value)
        return ParameterSpace(values, shape=(self.size,))

    def _set_parameters(self, parameter_space: ParameterSpace) -> None:
        index = self.index_in_grandparent(np.arange(self.size))
        for name, value in parameter_space.items():
            self.grandparent._parameters[name][index] = value.evaluate(simplify=False)

    def _set_initial_value_array(self, variable: str, initial_values: Any) -> None:
        index = self.index_in_grandparent(np.arange(self.size))
        self.grandparent._store_initial(variable, index, initial_values)

    def _get_view(self, selector: Any, label: str | None = None) -> PopulationView:
        return PopulationView(self, selector, label)


class Population(_Parameters, common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self) -> None:
        state = simulator.state
        ids = np.arange(state.id_counter, state.id_counter + self.size)
        self.all_cells = np.array([simulator.ID(i) for i in ids], dtype=simulator.ID)
        self._mask_local = np.ones(self.size, dtype=bool)
        space = self.celltype.native_parameters
        space.shape = (self.size,)
        space.evaluate(simplify=False)
        self._parameters = space.as_dict()
        self._initial_v = np.full(self.size, np.nan)
        for cell in self.all_cells:
            cell.parent = self
        state.id_counter += self.size
        state.populations.append(self)

    def _store_initial(self, variable: str, index: np.ndarray, values: Any) -> None:
        """Keep initial ``v`` (the only state variable spikemem's cells take) for ``index``."""
        if variable != "v":
            return  # PyNN's other initial values (isyn_exc, ...) start at 0 in spikemem as in PyNN
        if hasattr(values, "evaluate"):
            values.shape = (len(index),)
            values = values.evaluate(simplify=False)
        self._initial_v[index] = np.broadcast_to(np.asarray(values, dtype=float), (len(index),))

    def _set_initial_value_array(self, variable: str, initial_values: Any) -> None:
        self._store_initial(variable, np.arange(self.size), initial_values)

    def _get_view(self, selector: Any, label: str | None = None) -> PopulationView:
        return PopulationView(self, selector, label)

    def _get_native_parameters(self, *names: str) -> ParameterSpace:
        return ParameterSpace({name: simplify(self._parameters[name]) for name in names}, shape=(self.size,))

    def _set_parameters(self, parameter_space: ParameterSpace) -> None:
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            self._parameters[name] = value
