r"""Resistive-memory (RRAM / PCM) device model under synapses (spec/rram.md).

A device model is data: :class:`RRAM` holds the parameters of one kind of device
(a named preset plus overrides); a :class:`~spikemem.network.Projection` carries one
in its ``device`` field, and the target programs that projection's weights through
it. The physics is a set of pure numpy functions over arrays, each drawing from an
explicit :class:`numpy.random.Generator`. Conductances are in µS, times in seconds.

Pipeline (spec §0.3), per synapse, for a differential pair of devices (G⁺, G⁻):

1. map the signed weight onto target fractions of the device window (§1.1);
2. draw each device's own window once (device-to-device variability, §7) and its
   stuck-at fault (§9);
3. quantise the target onto that device's levels (§2);
4. add programming noise, conductance dependent (§3), clipped to the window;
5. age to the time since programming ``t_inf``: PCM drift plus accumulated 1/f
   noise (§5.1, §4) or RRAM relaxation (§6);
6. on every read (each transmitted spike), add read noise (§4);
7. read out the weight :math:`w = (G^+ - G^-)/s`.

Stuck devices sit at their window's bound whatever is programmed (no noise, no
drift). Plastic synapses are reprogrammed at every STDP update (steps 3-4 again, plus
cycle-to-cycle noise, §8); the Brian2 lowering lives in ``hardware/brian2/rram.py``.

When step 5 happens: by default at programming (the run reads devices ``t_inf``
seconds old from its start). With ``t_age_ms`` set, the devices are programmed fresh
and every device of the projection ages by ``t_inf`` at once at simulation time
``t_age_ms`` (a learn phase, then ``t_inf`` seconds of retention, then recall): the
learned weights then age too, each from the target of its own last programming event.

Read noise per read: in the event-driven Brian2 lowering a read is one transmitted
spike (two fresh normals per synaptic event). A time-stepped target that multiplies a
weight matrix every step (matrix-vector product per step) would draw it once per step
per device instead; no such target exists here yet.

Every effect draws from its own child generator (spawned from the one passed in), so
changing one parameter leaves the draws of the other effects unchanged (a sweep over,
say, ``stuck_off`` with one seed gives nested fault sets).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from spikemem import _checks as chk
from spikemem._node import Node
from spikemem.connectors import projection_seed
from spikemem.errors import ValidationError

PROG_MODELS = ("constant", "cmo", "pcm", "wan2022")
DRIFT_MODELS = ("none", "pcm", "relaxation")

#: σ_prog polynomials in x = g/g_max (µS) and the g_max (µS) they were fitted at.
PROG_POLY: dict[str, tuple[tuple[float, ...], float]] = {
    "pcm": ((0.26348, 1.9650, -1.1731), 25.0),  # §3.1 aihwkit PCMLikeNoiseModel
    "wan2022": ((0.348, 16.030, -43.853, 45.393, -16.815), 40.0),  # §3.2 ReRamWan2022, t = 1 s
}
#: σ_prog = a + b·g (µS), CMO/HfOx at 2 % programming acceptance (§3.3).
CMO_PROG = (0.011219, 0.011290)
#: Relaxation (§6): mean shift a·ln t; spread b·ln t + c (µS).
RELAX_MEAN, RELAX_STD, RELAX_STD0 = -0.089, 0.0420, 0.4118
#: PCM 1/f read-noise fit (§4): read time (s) and Q_s constants.
PCM_T_READ = 250e-9
#: PCM drift exponent statistics (§5.1): clip(slope·ln(g_T/g_max) + offset, lo, hi) for μ_ν and σ_ν
PCM_NU_MU = (-0.0155, 0.0244, 0.049, 0.1)
PCM_NU_SD = (-0.0125, -0.0059, 0.008, 0.045)
#: PCM 1/f noise amplitude (§4): Q_s = min(a / max((|g|/g_max)^b, floor), cap) as (a, b, floor, cap)
PCM_QS = (0.0088, 0.65, 1e-3, 0.2)

_DEVICE_STREAM = 0x52A4  # mixes the device draws apart from the connector's

PRESETS: dict[str, dict[str, Any]] = {
    # No effect at all: continuous, noiseless, no faults, no ageing (§1.6: G_min 0 for an ideal pair).
    "ideal": dict(
        g_min=0.0,
        g_max=40.0,
        levels=0,
        prog_model="constant",
        prog_noise=0.0,
        read_noise=0.0,
        d2d=0.0,
        c2c=0.0,
        dw_min=0.0,
        drift_model="none",
        t_inf=0.0,
        t0=20.0,
        drift_scale=1.0,
        stuck_on=0.0,
        stuck_off=0.0,
        forming=False,
        formed_mean=60.0,
        formed_std=4.676,
        w_scale=None,
        t_age_ms=None,
    ),
    # IBM CMO/HfOx (aihwkit ReRamCMONoiseModel): window 9-88.2 µS (§3.3), σ = a + b·g at 2 %
    # acceptance, relaxation (§6); 4 bit/cell (§2, §12 "2-4 bit"); read noise 1 % of the range
    # per read (§4 aihwkit docs); D2D window spread 30 % (§7 recommended); C2C 0.035 of the
    # window per update (§8.1 MLP+NeuroSim).
    "hfox": dict(
        g_min=9.0,
        g_max=88.2,
        levels=16,
        prog_model="cmo",
        prog_noise=1.0,
        read_noise=0.01,
        d2d=0.3,
        c2c=0.035,
        dw_min=0.0,
        drift_model="relaxation",
    ),
    # PCM (aihwkit PCMLikeNoiseModel + SinglePairConductanceConverter): g_max 25 µS, g_min 0,
    # Nandakumar programming noise (§3.1), drift with t0 = 20 s and accumulated 1/f noise
    # (§5.1, §4); analogue; PCMPresetDevice (§8.3): dw_min 0.01 of a range of 2 -> 0.005,
    # C2C 0.6·dw_min -> 0.003, w_max_dtod 0.1.
    "pcm": dict(
        g_min=0.0,
        g_max=25.0,
        levels=0,
        prog_model="pcm",
        prog_noise=1.0,
        read_noise=0.01,
        d2d=0.1,
        c2c=0.003,
        dw_min=0.005,
        drift_model="pcm",
    ),
    # One-shot electroforming as a random-weight source (§13): pristine cells ≈ 0.1 µS stay
    # OFF (the unformed fraction is `stuck_off`, the sparsity set by the forming voltage);
    # formed cells draw N(formed_mean, formed_std) so that G⁺ − G⁻ of two formed cells has
    # σ = √2·4.676 ≈ 6.61 µS (§13.2, related-repository statistics). formed_mean and g_max
    # are placeholders [uncertain]: breakdown is defined as > 50 µS (§13.1).
    "forming": dict(
        g_min=0.1,
        g_max=100.0,
        levels=0,
        prog_model="constant",
        prog_noise=0.0,
        read_noise=0.01,
        forming=True,
    ),
}
for _name in ("hfox", "pcm", "forming"):
    PRESETS[_name] = {**PRESETS["ideal"], **PRESETS[_name]}


@dataclass(frozen=True, init=False, eq=False)
class RRAM(Node):
    r"""A resistive-memory device model: a preset plus overrides, validated.

    ``RRAM("hfox", levels=8)`` starts from the preset and replaces the named parameters;
    unknown names raise a :class:`ValidationError` that lists the parameters.

    Parameters
    ----------
    preset
        ``ideal``, ``hfox`` (CMO/HfOx RRAM), ``pcm`` or ``forming`` (:data:`PRESETS`).
    g_min, g_max
        Device window (µS), ``0 <= g_min < g_max``. A weight ``w`` maps to
        :math:`G^\pm = \mathrm{clip}(\pm s w, 0, g_{max} - g_{min}) + g_{min}` with
        :math:`s = (g_{max} - g_{min})/w_{scale}` (§1.1).
    levels
        Conductance levels per device (§2): 0 = continuous, else ``>= 2``.
    prog_model, prog_noise
        Shape and scale of the programming noise :math:`\sigma_{prog}(g)` (§3):
        ``constant`` :math:`\sigma = \mathrm{prog\_noise}\cdot g_{max}` (§12 generic),
        ``cmo`` :math:`(a + b g)`, ``pcm`` and ``wan2022`` polynomials in
        :math:`g/g_{max}` (µS, rescaled by :math:`g_{max}/g_{ref}`), each times
        ``prog_noise``.
    read_noise
        σ of the additive read noise of each device per read, as a fraction of
        :math:`g_{max} - g_{min}` (§4: about 1 % of the range).
    d2d
        Relative spread of each device's own ``g_min``/``g_max`` (§7), drawn once.
    c2c
        σ of the extra cycle-to-cycle noise of an on-line (STDP) update, as a fraction
        of the window (§8.1).
    dw_min
        Smallest programmable update of a continuous device, as a fraction of the
        weight scale; an STDP update smaller than half a step (``dw_min`` or one level)
        programs nothing.
    drift_model, t_inf, t0, drift_scale
        Ageing to ``t_inf`` seconds after programming: ``none``, ``pcm`` (§5.1 drift,
        reference ``t0`` s, exponent times ``drift_scale``, plus §4 accumulated 1/f
        noise) or ``relaxation`` (§6).
    t_age_ms
        ``None``: devices are aged by ``t_inf`` when first programmed. A time (ms,
        > 0): devices start fresh and all age by ``t_inf`` once, at that simulation
        time, learned weights included (a retention interval between a learn and a
        recall phase; the ms of simulated time themselves do not age a device).
    stuck_on, stuck_off
        Probabilities that a device is stuck at its ``g_max`` (ON) or ``g_min`` (OFF,
        also every unformed device), drawn independently per device (§9).
    forming, formed_mean, formed_std
        One-shot forming (§13): targets are ignored and every formed device draws
        :math:`N(\mathrm{formed\_mean}, \mathrm{formed\_std}^2)` µS.
    w_scale
        The weight mapped onto the full window; ``None``: a plastic projection's
        ``w_max``, else the largest weight of the projection (1 if all are 0).
    """

    kind: ClassVar[str] = "device"

    preset: str = "ideal"
    g_min: float = 0.0
    g_max: float = 40.0
    levels: int = 0
    prog_model: str = "constant"
    prog_noise: float = 0.0
    read_noise: float = 0.0
    d2d: float = 0.0
    c2c: float = 0.0
    dw_min: float = 0.0
    drift_model: str = "none"
    t_inf: float = 0.0
    t0: float = 20.0
    drift_scale: float = 1.0
    stuck_on: float = 0.0
    stuck_off: float = 0.0
    forming: bool = False
    formed_mean: float = 60.0
    formed_std: float = 4.676
    w_scale: float | None = None
    t_age_ms: float | None = None

    def __init__(self, preset: str = "ideal", **overrides: Any) -> None:
        if preset not in PRESETS:
            raise ValidationError("RRAM.preset", preset, "one of " + ", ".join(PRESETS))
        super().__init__(**{**PRESETS[preset], **overrides, "preset": preset})

    def _validate(self) -> None:
        g_min = chk.non_negative("RRAM.g_min", self.g_min)
        g_max = chk.positive("RRAM.g_max", self.g_max)
        if g_max <= g_min:
            raise ValidationError("RRAM.g_max", self.g_max, f"a conductance (µS) > g_min = {g_min}")
        self._set("g_min", g_min)
        self._set("g_max", g_max)
        levels = chk.count("RRAM.levels", self.levels, minimum=0)
        if levels == 1:
            raise ValidationError("RRAM.levels", levels, "0 (continuous) or an integer >= 2")
        self._set("levels", levels)
        chk.one_of("RRAM.prog_model", self.prog_model, PROG_MODELS)
        chk.one_of("RRAM.drift_model", self.drift_model, DRIFT_MODELS)
        for key in ("prog_noise", "read_noise", "d2d", "c2c", "t_inf", "drift_scale", "formed_std"):
            self._set(key, chk.non_negative(f"RRAM.{key}", getattr(self, key)))
        self._set("formed_mean", chk.non_negative("RRAM.formed_mean", self.formed_mean))
        self._set("t0", chk.positive("RRAM.t0", self.t0))
        for key in ("dw_min", "stuck_on", "stuck_off"):
            value = chk.finite(f"RRAM.{key}", getattr(self, key))
            if not 0.0 <= value <= 1.0:
                raise ValidationError(f"RRAM.{key}", getattr(self, key), "a fraction in [0, 1]")
            self._set(key, value)
        if self.stuck_on + self.stuck_off > 1.0:
            raise ValidationError(
                "RRAM.stuck_off", self.stuck_off, f"a rate with stuck_on + stuck_off <= 1 (stuck_on = {self.stuck_on})"
            )
        if not isinstance(self.forming, (bool, np.bool_)):
            raise ValidationError("RRAM.forming", self.forming, "True or False")
        self._set("forming", bool(self.forming))
        if self.w_scale is not None:
            self._set("w_scale", chk.positive("RRAM.w_scale", self.w_scale))
        if self.t_age_ms is not None:
            self._set("t_age_ms", chk.positive("RRAM.t_age_ms", self.t_age_ms))

    @property
    def window(self) -> float:
        """g_max − g_min (µS)."""
        return self.g_max - self.g_min

    def half_step(self, w_scale: float) -> float:
        """Half the smallest programmable weight step (0: every change is programmed)."""
        step = self.dw_min * w_scale
        if self.levels:
            step = max(step, w_scale / (self.levels - 1))
        return 0.5 * step


# --- parsing the CLI form -------------------------------------------------------------


def parse_device(text: str) -> RRAM:
    """A device from ``PRESET[:key=value,...]``, e.g. ``hfox:levels=16,read_noise=0.02``.

    Keys are :class:`RRAM` parameter names; values are numbers, ``true``/``false``
    (``forming``), model names (``prog_model``, ``drift_model``) or ``none``
    (``w_scale``, ``t_age_ms``).

    Raises
    ------
    ValidationError
        Unknown preset or key, malformed text, or a value out of range; the message
        names the parameter and what is allowed.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("--rram", text, "PRESET[:key=value,...] with PRESET one of " + ", ".join(PRESETS))
    preset, _, rest = text.strip().partition(":")
    if preset not in PRESETS:
        raise ValidationError("RRAM.preset", preset, "one of " + ", ".join(PRESETS))
    names = [f.name for f in dataclasses.fields(RRAM) if f.name != "preset"]
    overrides: dict[str, Any] = {}
    items = [part.strip() for part in rest.split(",")] if rest.strip() else []
    for item in items:
        key, eq, value = (s.strip() for s in item.partition("="))
        if not eq or not key:
            raise ValidationError("--rram", text, "key=value pairs separated by single commas (e.g. hfox:levels=16)")
        if key not in names:
            raise ValidationError(f"RRAM.{key}", value, "one of the parameters " + ", ".join(names))
        if key in overrides:
            raise ValidationError(f"RRAM.{key}", value, f"given once (it was already {overrides[key]!r})")
        overrides[key] = _parse_value(key, value, PRESETS[preset][key])
    return RRAM(preset, **overrides)


def _parse_value(key: str, text: str, default: Any) -> Any:
    lower = text.lower()
    if isinstance(default, bool):
        if lower in ("true", "1", "yes"):
            return True
        if lower in ("false", "0", "no"):
            return False
        raise ValidationError(f"RRAM.{key}", text, "true or false")
    if isinstance(default, str):
        return text
    if default is None and lower == "none":  # w_scale, t_age_ms
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValidationError(f"RRAM.{key}", text, "a number") from None
    if isinstance(default, int) and number.is_integer():
        return int(number)
    return number


# --- applying a device to a network ---------------------------------------------------


def apply_device(network: Any, device: RRAM | None, projections: Any = "plastic") -> Any:
    """A copy of ``network`` with ``device`` under the chosen projections.

    ``projections``: ``"plastic"`` (every STDP projection: the learned memory),
    ``"all"``, or an iterable of projection names. ``device=None`` removes devices.
    """
    names = {p.name for p in network.projections}
    if projections == "plastic":
        chosen = {p.name for p in network.projections if p.synapse.plastic}
    elif projections == "all":
        chosen = names
    else:
        chosen = set(projections) if not isinstance(projections, str) else {projections}
        unknown = sorted(chosen - names)
        if unknown:
            raise ValidationError(
                "projections", unknown[0], "'plastic', 'all' or names of projections: " + ", ".join(sorted(names))
            )
    new = tuple(p.replace(device=device) if p.name in chosen else p for p in network.projections)
    return network.replace(projections=new)


def device_rng(seed: int, projection: str) -> np.random.Generator:
    """The generator of a projection's device draws: run seed + projection name."""
    return np.random.default_rng((projection_seed(seed, projection), _DEVICE_STREAM))


def weight_scale(device: RRAM, synapse: Any, weights: np.ndarray) -> float:
    """The weight mapped onto the full window (:attr:`RRAM.w_scale`, resolved)."""
    if device.w_scale is not None:
        return float(device.w_scale)
    if synapse.plastic and synapse.w_max > 0:
        return float(synapse.w_max)
    top = float(np.max(np.abs(weights), initial=0.0))
    return top if top > 0 else 1.0


# --- physics: pure functions over arrays ----------------------------------------------


@dataclass(frozen=True)
class Devices:
    """One array of devices: conductance ``g`` (µS), own window ``[lo, hi]``, fault
    code ``stuck`` (+1 stuck ON, −1 stuck OFF, 0 working); ``target``: the conductance
    each was last programmed to (before noise; PCM drift exponents depend on it)."""

    g: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    stuck: np.ndarray
    target: np.ndarray | None = None


def to_pair(w: np.ndarray, g_min: float, g_max: float, w_scale: float) -> tuple[np.ndarray, np.ndarray]:
    r"""G⁺ = clip(s·W, 0, g_max − g_min) + g_min; G⁻ = clip(−s·W, 0, g_max − g_min) + g_min (§1.1).

    With :math:`s = (g_{max} - g_{min})/w_{scale}`; weights beyond ``±w_scale``
    saturate at the window's top.
    """
    s = (g_max - g_min) / w_scale
    w = np.asarray(w, dtype=float)
    return np.clip(s * w, 0.0, g_max - g_min) + g_min, np.clip(-s * w, 0.0, g_max - g_min) + g_min


def from_pair(gp: np.ndarray, gm: np.ndarray, g_min: float, g_max: float, w_scale: float) -> np.ndarray:
    r"""W = ((G⁺ − g_min) − (G⁻ − g_min))/s, s = (g_max − g_min)/w_scale (§1.1 read-out)."""
    return (np.asarray(gp, dtype=float) - np.asarray(gm, dtype=float)) * (w_scale / (g_max - g_min))


def quantise(g: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float, levels: int) -> np.ndarray:
    r"""G_q = G_min + round((clip(G, G_min, G_max) − G_min)/Δ)·Δ, Δ = (G_max − G_min)/(n − 1) (§2, §10.4).

    Per device: ``lo``/``hi`` are that device's window (MemTorch: levels between the
    device's own bounds). ``round`` is half-up, ``floor(x + 1/2)``, as in the Brian2
    code. ``levels = 0`` leaves ``g`` unchanged.
    """
    g = np.asarray(g, dtype=float)
    if not levels:
        return g
    lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))
    width = hi - lo
    u = np.divide(np.clip(g, lo, hi) - lo, width, out=np.zeros(np.broadcast(g, width).shape), where=width > 0)
    return lo + np.floor(u * (levels - 1) + 0.5) / (levels - 1) * width


def prog_sigma(g: np.ndarray, model: str, g_max: float) -> np.ndarray:
    r"""σ_prog(g) = max(0, Σ_i c_i·(g/g_max)^i·g_max/g_ref) µS, or a + b·g, or g_max (§3), before ``prog_noise``.

    * ``constant``: :math:`g_{max}` (so that ``prog_noise`` is a fraction of
      :math:`G_{max}`, §12 "σ = 2-10 % of G_max");
    * ``cmo``: :math:`a + b g`, a = 0.011219, b = 0.011290 (§3.3, 2 % acceptance);
    * ``pcm``: :math:`[c_0 + c_1 x + c_2 x^2] g_{max}/25`, x = g/g_max (§3.1);
    * ``wan2022``: :math:`\sum_{i=0}^4 c_i x^i \cdot g_{max}/40` (§3.2, t = 1 s fit).
    """
    g = np.asarray(g, dtype=float)
    if model == "constant":
        sigma = np.full(g.shape, float(g_max))
    elif model == "cmo":
        sigma = CMO_PROG[0] + CMO_PROG[1] * g
    else:
        coeffs, g_ref = PROG_POLY[model]
        x = g / g_max
        sigma = np.zeros_like(g)
        for c in reversed(coeffs):
            sigma = sigma * x + c
        sigma = sigma * (g_max / g_ref)
    return np.maximum(sigma, 0.0)


def program_noise(
    g_target: np.ndarray, sigma: np.ndarray | float, lo: np.ndarray | float, hi: np.ndarray | float, rng: Any
) -> np.ndarray:
    r"""g_prog = clip(g_T + σ_prog(g_T)·ξ, G_min, G_max), ξ ~ N(0, 1) per device (§3).

    Clipped to the device's own window (§3.3, §8.1); ``sigma`` already includes the
    scale ``prog_noise``.
    """
    g_target = np.asarray(g_target, dtype=float)
    return np.clip(g_target + sigma * rng.standard_normal(g_target.shape), lo, hi)


def sample_d2d(
    shape: tuple[int, ...], g_min: float, g_max: float, d2d: float, rng: Any
) -> tuple[np.ndarray, np.ndarray]:
    r"""G_min,d = G_min·(1 + d2d·ξ₁), G_max,d = G_max·(1 + d2d·ξ₂), once per device (§7).

    Normal relative spread of the window bounds; ``lo`` is clipped at 0 and ``hi`` at
    ``lo`` (a collapsed window is a device that cannot be programmed).
    """
    xi = rng.standard_normal((2, *shape))
    lo = np.maximum(g_min * (1.0 + d2d * xi[0]), 0.0)
    hi = np.maximum(g_max * (1.0 + d2d * xi[1]), lo)
    return lo, hi


def sample_faults(shape: tuple[int, ...], stuck_on: float, stuck_off: float, rng: Any) -> np.ndarray:
    r"""Fraction p_ON → G_max, p_OFF → G_min, drawn independently per device (§9).

    One uniform u per device: ``u < stuck_on`` is stuck ON (+1), ``u >= 1 − stuck_off``
    stuck OFF (−1); a larger rate with the same draws adds devices to the set.
    """
    u = rng.random(shape)
    stuck = np.zeros(shape, dtype=np.int8)
    stuck[u < stuck_on] = 1
    stuck[u >= 1.0 - stuck_off] = -1
    return stuck


def form(shape: tuple[int, ...], mean: float, std: float, lo: np.ndarray, hi: np.ndarray, rng: Any) -> np.ndarray:
    r"""G = clip(N(formed_mean, formed_std²), G_min, G_max) for each formed device (§13.3).

    The unformed (pristine) devices are the stuck-OFF ones, set by :func:`program`.
    """
    return np.clip(mean + std * rng.standard_normal(shape), lo, hi)


def pcm_drift_nu(g_target: np.ndarray, g_max: float, drift_scale: float, rng: Any) -> np.ndarray:
    r"""ν = |μ_ν + σ_ν·ξ|·drift_scale, once per device (§5.1).

    :math:`\mu_\nu = \mathrm{clip}(-0.0155 \ln(g_T/g_{max}) + 0.0244, 0.049, 0.1)`,
    :math:`\sigma_\nu = \mathrm{clip}(-0.0125 \ln(g_T/g_{max}) - 0.0059, 0.008, 0.045)`
    (g_T/g_max floored at 1e-7 as in aihwkit).
    """
    rel = np.maximum(np.abs(np.asarray(g_target, dtype=float)) / g_max, 1e-7)
    (a_mu, b_mu, lo_mu, hi_mu), (a_sd, b_sd, lo_sd, hi_sd) = PCM_NU_MU, PCM_NU_SD
    mu = np.clip(a_mu * np.log(rel) + b_mu, lo_mu, hi_mu)
    sd = np.clip(a_sd * np.log(rel) + b_sd, lo_sd, hi_sd)
    return np.abs(mu + sd * rng.standard_normal(rel.shape)) * drift_scale


def pcm_read_sigma(g_prog: np.ndarray, g_max: float, t: float) -> np.ndarray:
    r"""σ_r = Q_s·sqrt(ln((t + t_read)/(2·t_read))), Q_s = min(0.0088/max((|g|/g_max)^0.65, 1e−3), 0.2) (§4).

    Relative σ of the 1/f noise accumulated up to ``t = t_inf + t0`` seconds after
    programming; t_read = 250 ns.
    """
    a, b, floor, cap = PCM_QS
    q_s = np.minimum(a / np.maximum((np.abs(np.asarray(g_prog, dtype=float)) / g_max) ** b, floor), cap)
    return q_s * math.sqrt(math.log((t + PCM_T_READ) / (2 * PCM_T_READ)))


def drift_pcm(
    g_prog: np.ndarray, g_target: np.ndarray, g_max: float, t_inf: float, t0: float, drift_scale: float, rng: Any
) -> np.ndarray:
    r"""g(t) = max(0, g_drift + |g_drift|·σ_r·ξ), g_drift = g_prog·(t/t0)^(−ν), t = t_inf + t0 (§5.1, §4).

    ν from :func:`pcm_drift_nu` (per device, from the target), σ_r from
    :func:`pcm_read_sigma` (from the programmed value); one draw per evaluation time.
    """
    g_prog = np.asarray(g_prog, dtype=float)
    nu = pcm_drift_nu(g_target, g_max, drift_scale, rng)
    t = t_inf + t0
    g_drift = g_prog * (t / t0) ** (-nu) if t_inf > 0 else g_prog
    sigma = pcm_read_sigma(g_prog, g_max, t)
    return np.maximum(g_drift + np.abs(g_drift) * sigma * rng.standard_normal(g_prog.shape), 0.0)


def relax(g_prog: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float, t_inf: float, rng: Any) -> np.ndarray:
    r"""g(t) = clip(g_prog + Δg + σ_relax(t)·ξ, G_min, G_max), Δg = −0.089·ln t, σ_relax = 0.0420·ln t + 0.4118 (§6).

    µS and seconds. Nothing happens at ``t_inf = 0``; below 1 s the fit is used at
    t = 1 s (it starts there; its σ would turn negative at small t) [inferred].
    """
    g_prog = np.asarray(g_prog, dtype=float)
    xi = rng.standard_normal(g_prog.shape)
    if t_inf <= 0:
        return g_prog
    log_t = math.log(max(t_inf, 1.0))
    return np.clip(g_prog + RELAX_MEAN * log_t + (RELAX_STD * log_t + RELAX_STD0) * xi, lo, hi)


def read(g: np.ndarray, sigma: float, rng: Any) -> np.ndarray:
    r"""g_read = max(0, g + σ_r·ξ), ξ drawn afresh on every read (§4, clamp ≥ 0 of §0.3 step 7)."""
    g = np.asarray(g, dtype=float)
    return np.maximum(g + sigma * rng.standard_normal(g.shape), 0.0)


# --- composition ----------------------------------------------------------------------


def program(device: RRAM, w: np.ndarray, w_scale: float, rng: Any, aged: bool = True) -> tuple[Devices, Devices]:
    r"""G = age(clip(Q(lo + u·(hi − lo)) + σ_prog·ξ, lo, hi)), u = clip(±w/w_scale, 0, 1); stuck: G = hi or lo.

    Programs weights ``w`` into differential pairs once (§0.3 steps 1-5) and returns
    the (G⁺, G⁻) devices. Per device: target fraction u = clip(±w/w_scale, 0, 1) of its own window
    (:func:`to_pair` when there is no D2D spread), quantised (:func:`quantise`),
    programmed with noise (:func:`program_noise`, σ = prog_noise·σ_prog(g_T)) or formed
    (:func:`form`), aged to ``t_inf`` (:func:`drift_pcm` / :func:`relax`); stuck devices
    then sit at their bound. ``aged=False`` returns the fresh devices (step 5 later,
    :func:`age_devices`); the draws of every other step are the same either way.
    """
    w = np.asarray(w, dtype=float)
    plus_rng, minus_rng = rng.spawn(2)
    return (
        _program_side(device, np.clip(w / w_scale, 0.0, 1.0), plus_rng, aged),
        _program_side(device, np.clip(-w / w_scale, 0.0, 1.0), minus_rng, aged),
    )


def _program_side(device: RRAM, u: np.ndarray, rng: Any, aged: bool = True) -> Devices:
    d2d_rng, fault_rng, prog_rng, age_rng = rng.spawn(4)
    lo, hi = sample_d2d(u.shape, device.g_min, device.g_max, device.d2d, d2d_rng)
    stuck = sample_faults(u.shape, device.stuck_on, device.stuck_off, fault_rng)
    if device.forming:
        g_target = g = form(u.shape, device.formed_mean, device.formed_std, lo, hi, prog_rng)
    else:
        g_target = quantise(lo + u * (hi - lo), lo, hi, device.levels)
        sigma = device.prog_noise * prog_sigma(g_target, device.prog_model, device.g_max)
        g = program_noise(g_target, sigma, lo, hi, prog_rng)
    fresh = Devices(np.where(stuck > 0, hi, np.where(stuck < 0, lo, g)), lo, hi, stuck, g_target)
    return age_devices(device, fresh, age_rng) if aged else fresh


def age(device: RRAM, g_prog: np.ndarray, g_target: np.ndarray, lo: Any, hi: Any, rng: Any) -> np.ndarray:
    """Apply the device's drift model up to ``t_inf`` (§0.3 step 5)."""
    if device.drift_model == "pcm":
        return drift_pcm(g_prog, g_target, device.g_max, device.t_inf, device.t0, device.drift_scale, rng)
    if device.drift_model == "relaxation":
        return relax(g_prog, lo, hi, device.t_inf, rng)
    return np.asarray(g_prog, dtype=float)


def age_devices(device: RRAM, dev: Devices, rng: Any) -> Devices:
    r"""Devices ``t_inf`` seconds after their last programming: :func:`age` of every working device.

    PCM drift exponents come from each device's programming target (§5.1); stuck
    devices keep their bound (§9). The numpy twin of the one-shot ageing the Brian2
    lowering runs at ``t_age_ms``.
    """
    target = dev.g if dev.target is None else dev.target
    g = age(device, dev.g, target, dev.lo, dev.hi, rng)
    return dataclasses.replace(dev, g=np.where(dev.stuck != 0, dev.g, g))


def ages(device: RRAM) -> bool:
    """Whether step 5 changes anything (a drift model, and for relaxation ``t_inf > 0``)."""
    if device.drift_model == "relaxation":
        return device.t_inf > 0
    return device.drift_model == "pcm"


def reprogram(device: RRAM, dev: Devices, w_target: np.ndarray, w_scale: float, rng: Any) -> Devices:
    r"""One on-line programming event of the G⁺ devices (§8): g = clip(Q(g_T) + σ_prog·ξ₁ + σ_C2C·ξ₂, lo, hi).

    σ_C2C = c2c·(g_max − g_min); stuck devices keep their value. The numpy twin of the
    code the Brian2 lowering runs at each STDP update (non-negative weights: G⁻ stays).
    """
    u = np.clip(np.asarray(w_target, dtype=float) / w_scale, 0.0, 1.0)
    g_t = quantise(dev.lo + u * (dev.hi - dev.lo), dev.lo, dev.hi, device.levels)
    sigma = np.hypot(device.prog_noise * prog_sigma(g_t, device.prog_model, device.g_max), device.c2c * device.window)
    g = np.clip(g_t + sigma * rng.standard_normal(g_t.shape), dev.lo, dev.hi)
    free = dev.stuck == 0
    target = g_t if dev.target is None else np.where(free, g_t, dev.target)
    return dataclasses.replace(dev, g=np.where(free, g, dev.g), target=target)


def effective_weight(device: RRAM, plus: Devices, minus: Devices, w_scale: float) -> np.ndarray:
    """The weight the pairs hold, W = (G⁺ − G⁻)/s (§1.1)."""
    return from_pair(plus.g, minus.g, device.g_min, device.g_max, w_scale)


def read_weights(device: RRAM, plus: Devices, minus: Devices, w_scale: float, rng: Any) -> np.ndarray:
    r"""One read of every pair: W = (max(0, G⁺ + σξ₁) − max(0, G⁻ + σξ₂))/s, σ = read_noise·(g_max − g_min) (§4)."""
    sigma = device.read_noise * device.window
    return from_pair(read(plus.g, sigma, rng), read(minus.g, sigma, rng), device.g_min, device.g_max, w_scale)
