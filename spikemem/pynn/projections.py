"""Projections: PyNN's connectors build explicit synapse lists that spikemem lowers.

Every PyNN connector calls ``_convergent_connect`` once per post-synaptic neuron (PyNN's
backend protocol), so each projection holds arrays of pre index, post index, weight and
delay, in PyNN's units and signs. :mod:`.lowering` turns them into spikemem projections.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyNN import common
from pyNN.space import Space

from ..errors import UnsupportedFeature, ValidationError
from . import simulator
from .standardmodels import StaticSynapse, STDPMechanism, TsodyksMarkramSynapse

FRONT_END = "spikemem.pynn"


class Connection(common.Connection):
    """One synapse of a projection, read from (and written to) the projection's arrays."""

    def __init__(self, projection: Projection, index: int) -> None:
        self.projection = projection
        self.index = index

    @property
    def presynaptic_index(self) -> int:
        return int(self.projection._i[self.index])

    @property
    def postsynaptic_index(self) -> int:
        return int(self.projection._j[self.index])

    @property
    def weight(self) -> float:
        return float(self.projection._current_weights()[self.index])

    @property
    def delay(self) -> float:
        return float(self.projection._d[self.index])

    def __getattr__(self, name: str) -> Any:
        # a plasticity parameter, one value for the whole projection
        if name.startswith("_") or name in ("projection", "index"):
            raise AttributeError(name)
        space = self.projection.synapse_type.parameter_space
        if name not in space.keys():
            raise AttributeError(name)
        value = space[name]
        return value.base_value if hasattr(value, "base_value") else value

    def as_tuple(self, *attribute_names: str) -> tuple:
        return tuple(getattr(self, name) for name in attribute_names)


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(
        self,
        presynaptic_population: Any,
        postsynaptic_population: Any,
        connector: Any,
        synapse_type: Any = None,
        source: str | None = None,
        receptor_type: str | None = None,
        space: Space = Space(),  # noqa: B008 - PyNN's signature
        label: str | None = None,
    ) -> None:
        for end, pop in (("presynaptic", presynaptic_population), ("postsynaptic", postsynaptic_population)):
            if isinstance(pop, common.Assembly):
                raise UnsupportedFeature(
                    FRONT_END, f"a Projection from or to an Assembly ({end})", "connect its populations one by one"
                )
        if synapse_type is not None and not isinstance(
            synapse_type, (StaticSynapse, TsodyksMarkramSynapse, STDPMechanism)
        ):
            raise UnsupportedFeature(
                FRONT_END,
                f"PyNN's {type(synapse_type).__name__}",
                "use StaticSynapse, TsodyksMarkramSynapse or STDPMechanism",
            )
        if source is not None:
            raise UnsupportedFeature(FRONT_END, f"Projection(source={source!r})", "cells have one spike output")
        super().__init__(
            presynaptic_population,
            postsynaptic_population,
            connector,
            synapse_type,
            source,
            receptor_type,
            space,
            label,
        )
        if isinstance(self.synapse_type, STDPMechanism):
            for part in ("timing_dependence", "weight_dependence"):
                if getattr(self.synapse_type, part) is None:
                    raise ValidationError(f"STDPMechanism.{part}", None, "a SpikePairRule / weight dependence")
        self._parts: list[tuple[np.ndarray, ...]] = []
        connector.connect(self)
        parts = self._parts or [(np.empty(0, dtype=np.int64),) * 2 + (np.empty(0),) * 2]
        self._i, self._j, self._w, self._d = (np.concatenate(col) for col in zip(*parts, strict=True))
        del self._parts
        self._check_weights(self._w)
        if self.plastic and len(set(zip(self._i.tolist(), self._j.tolist(), strict=True))) != len(self):
            raise UnsupportedFeature(
                FRONT_END, "two STDP synapses between one pair of neurons", "one plastic synapse per pair"
            )
        self._cache: tuple | None = None
        simulator.state.projections.append(self)

    # --- PyNN's backend protocol -------------------------------------------------------

    def __len__(self) -> int:
        return len(self._i)

    @property
    def connections(self) -> list[Connection]:
        return [Connection(self, k) for k in range(len(self))]

    def __getitem__(self, k: int) -> Connection:
        return Connection(self, k)

    def _convergent_connect(
        self, presynaptic_indices: Any, postsynaptic_index: int, location_selector: Any = None, **parameters: Any
    ) -> None:
        if location_selector is not None:
            raise UnsupportedFeature(FRONT_END, "location_selector", "spikemem's cells are point neurons")
        pre = np.asarray(presynaptic_indices)
        if pre.dtype == bool:
            pre = np.nonzero(pre)[0]
        pre = pre.astype(np.int64).reshape(-1)
        n = len(pre)
        weight = np.broadcast_to(np.asarray(parameters["weight"], dtype=float), (n,)).copy()
        delay = np.broadcast_to(np.asarray(parameters["delay"], dtype=float), (n,)).copy()
        self._parts.append((pre, np.full(n, int(postsynaptic_index), dtype=np.int64), weight, delay))

    def _set_attributes(self, parameter_space: Any) -> None:
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            if name not in ("weight", "delay"):
                raise UnsupportedFeature(
                    FRONT_END, f"Projection.set({name}=...)", "plasticity parameters are one value per projection"
                )
            values = np.broadcast_to(np.asarray(value, dtype=float), self.shape)[self._i, self._j]
            if name == "weight":
                self._check_weights(values)
                self._w = values.copy()
                self._cache = None
            else:
                self._d = values.copy()

    def _set_initial_value_array(self, variable: str, value: Any) -> None:
        raise UnsupportedFeature(FRONT_END, f"Projection.initialize({variable}=...)", "STDP traces start at 0")

    # --- spikemem's checks ------------------------------------------------------------

    @property
    def plastic(self) -> bool:
        return isinstance(self.synapse_type, STDPMechanism)

    def _current_weights(self) -> np.ndarray:
        """The weights now: as set, or for STDP after a run the learned ones (PyNN's sign kept)."""
        state = simulator.state
        if not self.plastic or state.t <= 0 or not len(self):
            return self._w
        if self not in state.weighed or self._cache is None or self._cache[0] != (state.segment_counter, state.t):
            from .lowering import _ends
            from .running import learned_weights

            learned = learned_weights(state, self)
            (_, pre_index, _), (_, post_index, _) = _ends(self.pre), _ends(self.post)
            keys = zip(pre_index[self._i].tolist(), post_index[self._j].tolist(), strict=True)
            values = np.array([learned[key] for key in keys]) * np.where(self._w < 0, -1.0, 1.0)
            self._cache = ((state.segment_counter, state.t), values)
        return self._cache[1]

    def _check_weights(self, weights: np.ndarray) -> None:
        """PyNN's sign convention (``pynn`` dialect): inhibitory weights onto current-based cells
        are negative, every other weight positive; sPyNNaker's dialect takes positive weights on
        both receptors. Refused here, when the script connects, before anything runs."""
        if not len(weights):
            return
        where = f"Projection {self.label!r}.weight"
        current = not self.post.conductance_based
        negative = simulator.state.dialect == "pynn" and current and self.receptor_type == "inhibitory"
        if negative and np.any(weights > 0):
            raise ValidationError(
                where, float(weights.max()), "weights <= 0 (PyNN: inhibitory weights onto current-based cells)"
            )
        if not negative and np.any(weights < 0):
            allowed = "weights >= 0" + (" (sPyNNaker's dialect: the receptor gives the sign)" if current else "")
            raise ValidationError(where, float(weights.min()), allowed)
