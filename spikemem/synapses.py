"""Synapse types: static, Tsodyks-Markram short-term plasticity and pair-based STDP as PyNN defines them.

Weights are nA for current-based cells and µS for conductance-based cells; delays are
ms and must be at least one time step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks as chk
from ._node import Node
from .errors import ValidationError

WEIGHT_DEPENDENCES = ("additive", "multiplicative")
TIMINGS = ("online", "deferred")
TRIGGERS = ("pre", "post")


class Synapse(Node):
    """Base class of synapse types."""

    weight: float
    delay: float

    @property
    def plastic(self) -> bool:
        return False


@dataclass(frozen=True, init=False, eq=False)
class Static(Synapse):
    """Fixed weight (>= 0; the projection's receptor gives the sign) and delay (ms)."""

    weight: float = 0.0
    delay: float = 1.0

    def _validate(self) -> None:
        self._set("weight", chk.non_negative("Static.weight", self.weight))
        self._set("delay", chk.positive("Static.delay", self.delay))


@dataclass(frozen=True, init=False, eq=False)
class TsodyksMarkram(Synapse):
    r"""Short-term depression and facilitation (Tsodyks-Markram), as NEST's ``tsodyks_synapse``.

    .. math::

        \dot u = -u/\tau_{facil}, \quad \dot x = z/\tau_{rec}, \quad
        \dot y = -y/\tau_{psc}, \quad z = 1 - x - y

    between the spikes of a synapse, solved exactly over the interval :math:`h` since its
    previous spike; at a spike, in this order,

    .. math::

        u \leftarrow u + U (1 - u), \quad \Delta = u x, \quad
        x \leftarrow x - \Delta, \quad y \leftarrow y + \Delta,

    and the spike delivers the weight :math:`w \Delta` (so :math:`w u x` with ``u``
    already facilitated and ``x`` recovered but not yet used). Every synapse starts with
    :math:`u = 0`, :math:`x = 1`, :math:`y = 0`: the first spike delivers :math:`w U`
    whenever it comes. ``tau_facil = 0`` means no facilitation: :math:`u = U` at every
    spike. :math:`x` is the recovered resource, :math:`y` the active one, which
    inactivates with the time constant :math:`\tau_{psc}` of the receiving receptor
    (the post cell's ``tau_syn_E`` or ``tau_syn_I``, as PyNN sets NEST's ``tau_psc``),
    and :math:`z` the inactive one, which recovers with :math:`\tau_{rec}`. Over
    :math:`h`,

    .. math::

        u \leftarrow u e^{-h/\tau_{facil}}, \quad
        x \leftarrow x + P_{xy} y + (1 - e^{-h/\tau_{rec}}) z, \quad
        y \leftarrow y e^{-h/\tau_{psc}},

    .. math::

        P_{xy} = \frac{\tau_{psc}(e^{-h/\tau_{psc}} - 1) - \tau_{rec}(e^{-h/\tau_{rec}} - 1)}
        {\tau_{rec} - \tau_{psc}}

    (its limit :math:`1 - (1 + h/\tau) e^{-h/\tau}` where :math:`\tau_{psc} = \tau_{rec} = \tau`).
    :math:`h` is the time between the two spikes' emissions (each synapse has one delay,
    so between their arrivals too). The weight itself never changes (``plastic`` is False);
    ``u``, ``x`` and ``y`` are per-synapse state. The receiving cell needs a synaptic time
    constant, so an ``IF_curr_delta`` cell cannot receive it.

    Parameters
    ----------
    weight : float
        Maximal weight (>= 0; the receptor gives the sign), delivered as :math:`w u x`.
    delay : float
        ms, > 0.
    U : float
        Utilisation increment, in (0, 1].
    tau_rec : float
        Recovery time constant of the resource (ms, > 0).
    tau_facil : float
        Facilitation time constant (ms, >= 0; 0: no facilitation).
    """

    weight: float = 0.0
    delay: float = 1.0
    U: float = 0.5
    tau_rec: float = 100.0
    tau_facil: float = 0.0

    def _validate(self) -> None:
        self._set("weight", chk.non_negative("TsodyksMarkram.weight", self.weight))
        self._set("delay", chk.positive("TsodyksMarkram.delay", self.delay))
        u = chk.finite("TsodyksMarkram.U", self.U)
        if not 0.0 < u <= 1.0:
            raise ValidationError("TsodyksMarkram.U", self.U, "a number in (0, 1]")
        self._set("U", u)
        self._set("tau_rec", chk.positive("TsodyksMarkram.tau_rec", self.tau_rec))
        self._set("tau_facil", chk.non_negative("TsodyksMarkram.tau_facil", self.tau_facil))


@dataclass(frozen=True, init=False, eq=False)
class STDP(Synapse):
    r"""Pair-based spike-timing-dependent plasticity with all-to-all spike pairing.

    Traces :math:`x` (pre) and :math:`y` (post) jump by 1 at each spike and decay as
    :math:`\dot x = -x/\tau_+`, :math:`\dot y = -y/\tau_-`. At a post spike the weight
    is potentiated, at a pre spike depressed, then clipped to ``[w_min, w_max]``:

    * additive: :math:`\Delta w_+ = A_+ w_{max} x`, :math:`\Delta w_- = A_- w_{max} y`
    * multiplicative: :math:`\Delta w_+ = A_+ (w_{max} - w) x`,
      :math:`\Delta w_- = A_- (w - w_{min}) y`

    (PyNN's ``SpikePairRule`` with ``Additive``/``MultiplicativeWeightDependence``.)
    The pre spike's weight is delivered after its update.

    ``timing`` says *when* pairs are counted:

    ``"online"``
        the pre spike counts when it reaches the synapse (after the delay, as axonal
        delay: PyNN ``dendritic_delay_fraction=0``), i.e. in the step its input is
        applied, for either ``integration``; post spikes count at once. A post spike in
        the step the pre spike arrives counts as following it (potentiation at zero lag).
    ``"deferred"``
        as sPyNNaker computes it (spec/ca3.md §7.1): the whole delay is dendritic, so
        a post spike at ``s`` counts at ``s + delay``; updates are applied when the pre
        neuron spikes (before delivery), depression applies at zero lag, and when no
        post spike fell in the window since the previous pre spike the depression uses
        the raw post time (an extra factor :math:`e^{-delay/\tau_-}`).

    ``gated=True`` makes it a three-factor rule: a weight changes only while the
    plasticity gates of both its pre and its post neuron are open (see :class:`Gate`);
    otherwise spikes pass and the weight stays. Gated STDP has no PyNN standard
    model, so only the Brian2-based targets run it.
    """

    weight: float = 0.0
    delay: float = 1.0
    tau_plus: float = 20.0
    tau_minus: float = 20.0
    A_plus: float = 0.01
    A_minus: float = 0.01
    w_min: float = 0.0
    w_max: float = 1.0
    weight_dependence: str = "additive"
    timing: str = "online"
    gated: bool = False

    def _validate(self) -> None:
        for key in ("delay", "tau_plus", "tau_minus"):
            self._set(key, chk.positive(f"STDP.{key}", getattr(self, key)))
        for key in ("A_plus", "A_minus", "w_min", "w_max"):
            self._set(key, chk.non_negative(f"STDP.{key}", getattr(self, key)))
        if self.w_max < self.w_min:
            raise ValidationError("STDP.w_max", self.w_max, f"a value >= w_min ({self.w_min})")
        w = chk.non_negative("STDP.weight", self.weight)
        if not self.w_min <= w <= self.w_max:
            raise ValidationError("STDP.weight", w, f"a weight within [w_min, w_max] = [{self.w_min}, {self.w_max}]")
        self._set("weight", w)
        chk.one_of("STDP.weight_dependence", self.weight_dependence, WEIGHT_DEPENDENCES)
        chk.one_of("STDP.timing", self.timing, TIMINGS)
        if not isinstance(self.gated, (bool, np.bool_)):
            raise ValidationError("STDP.gated", self.gated, "True or False")
        self._set("gated", bool(self.gated))

    @property
    def plastic(self) -> bool:
        return True


@dataclass(frozen=True, init=False, eq=False)
class Gate(Synapse):
    """A plasticity gate: a spike opens the post neuron's gate for ``window_ms``.

    Used on a projection with ``receptor="modulatory"``; it does not change the
    membrane. While a neuron's gate is open, gated STDP synapses touching it may learn,
    and :class:`GatedWrite` synapses read it as the neuron's write enable or tag.
    """

    delay: float = 1.0
    window_ms: float = 1.0
    weight: float = 0.0

    def _validate(self) -> None:
        self._set("delay", chk.positive("Gate.delay", self.delay))
        self._set("window_ms", chk.positive("Gate.window_ms", self.window_ms))
        self._set("weight", chk.non_negative("Gate.weight", self.weight))


@dataclass(frozen=True, init=False, eq=False)
class GatedWrite(Synapse):
    r"""A three-factor set/reset write (spec/ca3.md §8.3: "set/reset writes W[i, :] ← content").

    When the neuron on the ``trigger`` side spikes while its plasticity gate is open
    (see :class:`Gate`), every synapse of that neuron in the projection is written

    .. math:: w_{ij} \leftarrow w_{min} + (w_{max} - w_{min})\,[g_k(t)],

    where :math:`[g_k(t)]` is 1 while the gate of the neuron at the synapse's other end
    is open (its *tag*) and 0 otherwise. With the trigger's gate closed nothing changes:
    spikes pass with the stored weight, so reads never alter memory. A ``"pre"`` trigger
    counts when the spike reaches the synapse (after the delay), and that spike delivers
    the weight just written; a ``"post"`` trigger counts at the post spike.

    No PyNN standard model has a third factor, so only the Brian2-based targets run it.
    """

    weight: float = 0.0
    delay: float = 1.0
    w_min: float = 0.0
    w_max: float = 1.0
    trigger: str = "pre"

    def _validate(self) -> None:
        self._set("delay", chk.positive("GatedWrite.delay", self.delay))
        for key in ("w_min", "w_max"):
            self._set(key, chk.non_negative(f"GatedWrite.{key}", getattr(self, key)))
        if self.w_max < self.w_min:
            raise ValidationError("GatedWrite.w_max", self.w_max, f"a value >= w_min ({self.w_min})")
        w = chk.non_negative("GatedWrite.weight", self.weight)
        if not self.w_min <= w <= self.w_max:
            raise ValidationError(
                "GatedWrite.weight", w, f"a weight within [w_min, w_max] = [{self.w_min}, {self.w_max}]"
            )
        self._set("weight", w)
        chk.one_of("GatedWrite.trigger", self.trigger, TRIGGERS)

    @property
    def plastic(self) -> bool:
        return True
