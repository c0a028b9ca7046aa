"""Cell types: the PyNN standard leaky integrate-and-fire models.

Parameter names and units follow PyNN: nF, ms, mV, nA (current-based), µS
(conductance-based) and mV (delta synapses). ``v_init`` (mV) is the initial membrane potential (default
``v_rest``). ``integration`` chooses how the membrane is advanced in time:

``"exact"``
    continuous time, as NEST and pyNN.brian2 integrate it.
``"spinnaker"``
    the discrete update sPyNNaker performs once per time step (spec/ca3.md §7.1):
    arriving weights are scaled by ``f = tau_syn * (1 - exp(-dt / tau_syn))`` (ms
    taken as numbers), the membrane moves to ``alpha - exp(-dt/tau_m)(alpha - v)``
    with the currents held over the step, and refractoriness lasts
    ``round(tau_refrac / dt)`` steps after the spike step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from . import _checks as chk
from ._node import Node
from .errors import ValidationError

INTEGRATIONS = ("exact", "spinnaker")
#: NEST's time grid, in tics per ms (its default: 1 µs), on which it rounds a refractory period.
TICS_PER_MS = 1000.0


@dataclass(frozen=True, init=False, eq=False)
class IF_curr_exp(Node):  # noqa: N801 - PyNN's name
    r"""Current-based leaky integrate-and-fire neuron with exponential synaptic currents.

    .. math::

        c_m \frac{dv}{dt} = c_m \frac{v_{rest} - v}{\tau_m} + i_E - i_I + i_{offset},
        \qquad \frac{di_X}{dt} = -\frac{i_X}{\tau_{syn,X}}

    A spike of weight ``w`` (nA) on receptor X adds ``w`` to ``i_X``. When
    ``v >= v_thresh`` the cell spikes, ``v`` is set to ``v_reset`` and held there for
    ``tau_refrac``.
    """

    kind: ClassVar[str] = "current"
    #: The unit of a weight onto this cell.
    weight_unit: ClassVar[str] = "nA"

    cm: float = 1.0
    tau_m: float = 20.0
    tau_refrac: float = 0.1
    tau_syn_E: float = 5.0
    tau_syn_I: float = 5.0
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_thresh: float = -50.0
    i_offset: float = 0.0
    v_init: float | None = None
    integration: str = "exact"

    def _validate(self) -> None:
        _validate_lif(self, ("cm", "tau_m", "tau_syn_E", "tau_syn_I"))
        chk.one_of(f"{type(self).__name__}.integration", self.integration, INTEGRATIONS)

    @property
    def initial_v(self) -> float:
        """Initial membrane potential in mV (``v_init``, else ``v_rest``)."""
        return self.v_rest if self.v_init is None else self.v_init


@dataclass(frozen=True, init=False, eq=False)
class IF_cond_exp(IF_curr_exp):  # noqa: N801 - PyNN's name
    r"""Conductance-based leaky integrate-and-fire neuron with exponential conductances.

    .. math::

        c_m \frac{dv}{dt} = c_m \frac{v_{rest} - v}{\tau_m}
            + g_E (e_{rev,E} - v) + g_I (e_{rev,I} - v) + i_{offset},
        \qquad \frac{dg_X}{dt} = -\frac{g_X}{\tau_{syn,X}}

    A spike of weight ``w`` (µS) on receptor X adds ``w`` to ``g_X``.
    """

    kind: ClassVar[str] = "conductance"
    weight_unit: ClassVar[str] = "uS"

    e_rev_E: float = 0.0
    e_rev_I: float = -70.0

    def _validate(self) -> None:
        super()._validate()
        for key in ("e_rev_E", "e_rev_I"):
            self._set(key, chk.finite(f"IF_cond_exp.{key}", getattr(self, key)))


@dataclass(frozen=True, init=False, eq=False)
class IF_curr_delta(Node):  # noqa: N801 - PyNN's name
    r"""Current-based leaky integrate-and-fire neuron with delta synapses.

    .. math::

        c_m \frac{dv}{dt} = c_m \frac{v_{rest} - v}{\tau_m} + i_{offset}
            + c_m \sum_k \pm w_k \, \delta(t - t_k)

    A spike of weight ``w`` (mV) moves ``v`` by ``w`` at once: up on the excitatory
    receptor, down on the inhibitory one (PyNN's ``IF_curr_delta``, NEST's
    ``iaf_psc_delta``). In time steps of ``dt``, with :math:`\lambda = e^{-dt/\tau_m}`:

    .. math::

        v_k = v_{rest} + \lambda (v_{k-1} - v_{rest}) + (1 - \lambda) \frac{\tau_m}{c_m} i_{offset}
              + \sum_{\text{arriving at } k} \pm w

    the leak being exact; a spike emitted in step ``s`` with delay ``d`` arrives in step
    ``s + round(d / dt)``, after that step's leak and before its threshold. When
    ``v >= v_thresh`` the cell spikes and ``v`` is set to ``v_reset``, held there for
    ``ceil(tau_refrac / dt)`` steps (NEST rounds the refractory period up to whole steps,
    once rounded to its 1 µs tic), during which arriving spikes are lost (NEST's
    default). With ``v_rest = v_reset = 0``, no offset and no refractory period this is the
    reservoir neuron of a liquid state machine, :math:`v_k = \lambda v_{k-1} (1 - s_{k-1})
    + \sum w s` (spikes at ``v >= v_thresh``). ``integration`` is ``"exact"`` only.
    """

    kind: ClassVar[str] = "delta"
    weight_unit: ClassVar[str] = "mV"

    cm: float = 1.0
    tau_m: float = 20.0
    tau_refrac: float = 0.1
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_thresh: float = -50.0
    i_offset: float = 0.0
    v_init: float | None = None
    integration: str = "exact"

    def _validate(self) -> None:
        _validate_lif(self, ("cm", "tau_m"))
        chk.one_of("IF_curr_delta.integration", self.integration, ("exact",))

    @property
    def initial_v(self) -> float:
        """Initial membrane potential in mV (``v_init``, else ``v_rest``)."""
        return self.v_rest if self.v_init is None else self.v_init

    def refractory_steps(self, dt: float) -> int:
        """Steps the cell is held after its spike step at time step ``dt`` (ms): ``tau_refrac``
        rounded to NEST's 1 µs tic, then up to whole steps (NEST's
        ``Time(Time::ms(t_ref)).get_steps()``)."""
        tics = math.floor(self.tau_refrac * TICS_PER_MS + 0.5)
        per_step = math.floor(dt * TICS_PER_MS + 0.5)
        return -(-tics // per_step)


def _validate_lif(cell: Node, positive: tuple[str, ...]) -> None:
    """The checks every LIF cell shares: positive constants, finite potentials, reset below threshold."""
    cls = type(cell).__name__
    for key in positive:
        cell._set(key, chk.positive(f"{cls}.{key}", getattr(cell, key)))
    cell._set("tau_refrac", chk.non_negative(f"{cls}.tau_refrac", cell.tau_refrac))
    for key in ("v_rest", "v_reset", "v_thresh", "i_offset"):
        cell._set(key, chk.finite(f"{cls}.{key}", getattr(cell, key)))
    if cell.v_init is not None:
        cell._set("v_init", chk.finite(f"{cls}.v_init", cell.v_init))
    if cell.v_reset >= cell.v_thresh:
        raise ValidationError(f"{cls}.v_reset", cell.v_reset, f"a value below v_thresh ({cell.v_thresh} mV)")


#: The cells of the description (every one a leaky integrate-and-fire neuron).
CELLS = (IF_curr_exp, IF_cond_exp, IF_curr_delta)
#: A cell of the description (``IF_cond_exp`` is an ``IF_curr_exp``).
Cell = IF_curr_exp | IF_curr_delta
CELL_TYPES = {cls.__name__: cls for cls in CELLS}
