"""PyNN's standard cell and synapse types, with spikemem's translation tables.

As in every PyNN backend, each supported standard type is a subclass of PyNN's own
(``pyNN.standardmodels``) with a ``translations`` table from PyNN names to the simulator's
native names. spikemem's description uses PyNN's names and units (:mod:`spikemem.cells`,
:mod:`spikemem.synapses`), so every table is the identity; what differs between PyNN and
spikemem is done where the script is lowered (:mod:`.lowering`).

Supported: ``IF_curr_exp``, ``IF_cond_exp``, ``IF_curr_delta``, ``SpikeSourceArray``,
``SpikeSourcePoisson``, ``StaticSynapse``, ``TsodyksMarkramSynapse`` (NEST's semantics,
:class:`spikemem.synapses.TsodyksMarkram`; refused in sPyNNaker's dialect, which has none),
``STDPMechanism`` with ``SpikePairRule`` and
``AdditiveWeightDependence`` or ``MultiplicativeWeightDependence``, and the current sources
``DCSource`` and ``StepCurrentSource`` (:mod:`.electrodes`). Every other standard
type of PyNN 0.13 exists under its own name and raises
:class:`~spikemem.errors.UnsupportedFeature` naming it when a script creates one
(:data:`REFUSED` gives the reason for each).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyNN.standardmodels import build_translations, cells, check_weights, synapses

from ..errors import UnsupportedFeature, ValidationError
from .electrodes import DCSource, StepCurrentSource  # noqa: F401 - PyNN's current sources
from .simulator import state

FRONT_END = "spikemem.pynn"


def _identity(cls: type) -> dict[str, Any]:
    """A translation table that keeps every PyNN name of ``cls`` (spikemem's names are PyNN's)."""
    return build_translations(*((key, key) for key in cls.default_parameters))


def _minimum_delay() -> float:
    d = state.min_delay
    return state.dt if d == "auto" else float(d)


def _positive_weights(weights: Any, projection: Any) -> None:
    """sPyNNaker's dialect: weights are magnitudes on either receptor."""
    if np.any(np.asarray(weights) < 0):
        raise ValidationError(
            f"Projection {projection.label!r}.weight",
            float(np.min(weights)),
            "weights >= 0 (sPyNNaker's dialect: the receptor gives the sign)",
        )


class _Checked:
    """PyNN checks weight signs as it connects (``parameter_checks``); the dialect chooses the check."""

    @property
    def parameter_checks(self) -> dict[str, Any]:
        if state.dialect == "spinnaker":
            return {"weight": _positive_weights}
        return {"weight": check_weights}


class IF_curr_exp(cells.IF_curr_exp):  # noqa: N801 - PyNN's name
    __doc__ = cells.IF_curr_exp.__doc__
    translations = _identity(cells.IF_curr_exp)
    recordable = ["spikes", "v"]


class IF_cond_exp(cells.IF_cond_exp):  # noqa: N801 - PyNN's name
    __doc__ = cells.IF_cond_exp.__doc__
    translations = _identity(cells.IF_cond_exp)
    recordable = ["spikes", "v"]


class IF_curr_delta(cells.IF_curr_delta):  # noqa: N801 - PyNN's name
    __doc__ = cells.IF_curr_delta.__doc__
    translations = _identity(cells.IF_curr_delta)
    recordable = ["spikes", "v"]


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = _identity(cells.SpikeSourceArray)


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = _identity(cells.SpikeSourcePoisson)


class StaticSynapse(_Checked, synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = _identity(synapses.StaticSynapse)

    def _get_minimum_delay(self) -> float:
        return _minimum_delay()


class TsodyksMarkramSynapse(_Checked, synapses.TsodyksMarkramSynapse):
    __doc__ = synapses.TsodyksMarkramSynapse.__doc__
    translations = _identity(synapses.TsodyksMarkramSynapse)

    def __init__(self, **parameters: Any) -> None:
        if state.dialect == "spinnaker":
            raise UnsupportedFeature(
                FRONT_END, "PyNN's TsodyksMarkramSynapse in sPyNNaker's dialect", "sPyNNaker 7 has no such synapse"
            )
        super().__init__(**parameters)

    def _get_minimum_delay(self) -> float:
        return _minimum_delay()


class STDPMechanism(_Checked, synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = build_translations(
        ("weight", "weight"), ("delay", "delay"), ("dendritic_delay_fraction", "dendritic_delay_fraction")
    )

    def _build_translations(self) -> None:
        # a copy: PyNN's pattern updates the class's table in place, which would mix the
        # parameters of every STDP mechanism a script creates
        self.translations = dict(self.base_translations)
        for component in (self.timing_dependence, self.weight_dependence, self.voltage_dependence):
            if component:
                self.translations.update(component.translations)

    def _get_minimum_delay(self) -> float:
        return _minimum_delay()


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = _identity(synapses.SpikePairRule)


class AdditiveWeightDependence(synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = _identity(synapses.AdditiveWeightDependence)


class MultiplicativeWeightDependence(synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = _identity(synapses.MultiplicativeWeightDependence)


_NO_CELL = "spikemem's description has leaky integrate-and-fire cells with exponential or delta synapses only"
_NO_SYNAPSE = "spikemem's description has static and Tsodyks-Markram synapses and pair-based STDP only"
_NO_CURRENT = "spikemem's description has step-wise current sources only (DCSource, StepCurrentSource)"

#: Every other standard type of PyNN 0.13 and why spikemem refuses it.
REFUSED: dict[str, str] = {
    **{
        n: _NO_CELL
        for n in (
            "IF_curr_alpha",
            "IF_cond_alpha",
            "IF_cond_exp_gsfa_grr",
            "IF_facets_hardware1",
            "HH_cond_exp",
            "EIF_cond_alpha_isfa_ista",
            "EIF_cond_exp_isfa_ista",
            "Izhikevich",
            "GIF_cond_exp",
            "PointNeuron",
            "LIF",
            "AdExp",
            "MultiCompartmentNeuron",
        )
    },
    **{
        n: "spikemem's sources are given spike times and Poisson processes only"
        for n in ("SpikeSourcePoissonRefractory", "SpikeSourceGamma", "SpikeSourceInhGamma")
    },
    **{
        n: _NO_SYNAPSE
        for n in (
            "ElectricalSynapse",
            "SimpleStochasticSynapse",
            "StochasticTsodyksMarkramSynapse",
            "MultiQuantalSynapse",
            "Vogels2011Rule",
            "AdditivePotentiationMultiplicativeDepression",
            "GutigWeightDependence",
        )
    },
    **{n: _NO_CURRENT for n in ("ACSource", "NoisyCurrentSource")},
}


def _refused(type_name: str, reason: str) -> type:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - a constructor
        raise UnsupportedFeature(FRONT_END, f"PyNN's {type_name}", reason)

    return type(type_name, (), {"__init__": __init__, "__doc__": f"Refused by spikemem.pynn: {reason}."})


for _name, _reason in REFUSED.items():
    globals()[_name] = _refused(_name, _reason)

SUPPORTED = (
    "IF_curr_exp",
    "IF_cond_exp",
    "IF_curr_delta",
    "SpikeSourceArray",
    "SpikeSourcePoisson",
    "StaticSynapse",
    "TsodyksMarkramSynapse",
    "STDPMechanism",
    "SpikePairRule",
    "AdditiveWeightDependence",
    "MultiplicativeWeightDependence",
    "DCSource",
    "StepCurrentSource",
)
__all__ = [*SUPPORTED, *REFUSED]
