r"""Lowering of a projection's resistive-memory device (:mod:`spikemem.hardware.devices.rram`) into Brian2.

Used by :mod:`.synapses`; every function is a no-op for a projection
without a device, so the device-free code is unchanged.

* **Programming once** (numpy, at build time): the projection's weights go through
  :func:`spikemem.hardware.devices.rram.program` with a generator seeded from the run seed and
  the projection name; the synapses start with the effective weight
  :math:`w = (G^+ - G^-)/s`.
* **Read noise per read** (event-driven): each transmitted spike delivers
  :math:`(\max(0, G^+ + \sigma\xi_1) - \max(0, G^- + \sigma\xi_2))/s` with two fresh
  ``randn()`` in the ``on_pre`` delivery code. The stored ``w`` stays noiseless.
* **On-line programming** (plastic synapses): each STDP update ``w = EXPR`` becomes a
  programming event of the G⁺ device (weights are >= 0, so G⁻ keeps its OFF state):
  the target weight is quantised on the device's own levels, written with
  programming noise :math:`\sigma_{prog}(g)` and cycle-to-cycle noise, clipped to the
  device window, and read back into ``w``. Updates smaller than half a programmable
  step (:meth:`RRAM.half_step`), measured from the current weight clipped to
  ``[w_min, w_max]``, leave the device alone; stuck devices never change.
  The STDP rule reads ``w`` without read noise (a verify read).
* **One-shot ageing** (``t_age_ms`` set, a device that ages): the devices are
  programmed fresh at build; at simulation time ``t_age_ms`` a ``run_regularly``
  operation (its own clock, period ``t_age_ms``, effective only at that time) ages
  every device by ``t_inf`` (spec §0.3 step 5) and reads the weight back. A plastic
  G⁺ device ages in Brian2 code from its current conductance and the target of its
  last programming event (kept in ``gp_t`` for PCM):
  PCM :math:`g \leftarrow \max(0, g_d + |g_d|\,\sigma_r(g)\,\xi_2)`,
  :math:`g_d = g\,(t/t_0)^{-\nu}`, :math:`\nu = |\mu_\nu(g_T) + \sigma_\nu(g_T)\,\xi_1|`
  (§5.1, §4), or relaxation :math:`g \leftarrow \mathrm{clip}(g + a\ln t + (b\ln t + c)\xi, lo, hi)`
  (§6). Devices nothing reprograms (G⁻, and both devices of a static synapse) are
  aged in numpy at build (the values :func:`spikemem.hardware.devices.rram.program` gives
  without ``t_age_ms``) and switched to them then. Stuck devices never age.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from spikemem.network import Projection

from ..devices import rram

_INF = "1e300"


@dataclass(frozen=True)
class Lowered:
    """A projection's programmed devices and the constants of its Brian2 code."""

    device: rram.RRAM
    w_scale: float
    plus: rram.Devices
    minus: rram.Devices
    plastic: bool
    plus_aged: rram.Devices | None = None
    minus_aged: rram.Devices | None = None

    @property
    def inv_s(self) -> float:
        """1/s = w_scale/(g_max − g_min): weight per µS."""
        return self.w_scale / self.device.window

    @property
    def weights(self) -> np.ndarray:
        return rram.effective_weight(self.device, self.plus, self.minus, self.w_scale)

    @property
    def read_sigma(self) -> float:
        return self.device.read_noise * self.device.window

    @property
    def ages_in_run(self) -> bool:
        """Whether the devices age once during the run (at ``t_age_ms``)."""
        return self.plus_aged is not None

    @property
    def tracks_target(self) -> bool:
        """Whether writes keep the G⁺ target (PCM drift exponents depend on it)."""
        return self.ages_in_run and self.plastic and self.device.drift_model == "pcm"

    @property
    def has_pair(self) -> bool:
        """Whether the synapses carry the pair's conductances ``gp``, ``gm``."""
        return self.plastic or self.read_sigma > 0


def lower(proj: Projection, weights: np.ndarray, seed: int) -> Lowered | None:
    """Program ``proj``'s initial weights through its device (None without a device)."""
    device = getattr(proj, "device", None)
    if device is None:
        return None
    w_scale = rram.weight_scale(device, proj.synapse, weights)
    plus, minus = rram.program(device, weights, w_scale, rram.device_rng(seed, proj.name))
    if device.t_age_ms is None or not rram.ages(device):
        return Lowered(device, w_scale, plus, minus, proj.synapse.plastic)
    # the same draws, unaged: the run starts from these and switches to the aged ones at t_age_ms
    fresh_plus, fresh_minus = rram.program(device, weights, w_scale, rram.device_rng(seed, proj.name), aged=False)
    return Lowered(device, w_scale, fresh_plus, fresh_minus, proj.synapse.plastic, plus, minus)


def weights(low: Lowered | None, weights: np.ndarray) -> np.ndarray:
    """The initial ``w`` of the synapses: the device's effective weight, or unchanged."""
    return weights if low is None else low.weights


def model(low: Lowered | None) -> str:
    """Extra synaptic variables: the pair's conductances (µS); when plastic, the G⁺
    device's window and whether it can be programmed; for a one-shot ageing, the aged
    values of what nothing reprograms (and the G⁺ target, for PCM)."""
    if low is None:
        return ""
    lines = ["gp : 1", "gm : 1"] if low.has_pair else []
    if low.plastic:
        lines += ["gp_lo : 1", "gp_hi : 1", "gp_free : 1"]
    if low.ages_in_run:
        lines += ["gm_aged : 1"] if low.plastic else ["w_aged : 1"] + (["gp_aged : 1", "gm_aged : 1"] * low.has_pair)
    if low.tracks_target:
        lines.append("gp_t : 1")
    return "\n" + "\n".join(lines) + "\n" if lines else ""


def initialise(syn: Any, low: Lowered | None) -> None:
    """Set the extra variables of :func:`model` on the connected synapses, and
    schedule the one-shot ageing."""
    if low is None or not model(low):
        return
    if low.has_pair:
        syn.gp = low.plus.g
        syn.gm = low.minus.g
    if low.plastic:
        syn.gp_lo = low.plus.lo
        syn.gp_hi = low.plus.hi
        syn.gp_free = (low.plus.stuck == 0).astype(float)
    if not low.ages_in_run:
        return
    assert low.plus_aged is not None and low.minus_aged is not None
    if low.plastic:
        syn.gm_aged = low.minus_aged.g
    else:
        syn.w_aged = rram.effective_weight(low.device, low.plus_aged, low.minus_aged, low.w_scale)
        if low.has_pair:
            syn.gp_aged = low.plus_aged.g
            syn.gm_aged = low.minus_aged.g
    if low.tracks_target:
        syn.gp_t = low.plus.target
    import brian2 as b2

    t_age = low.device.t_age_ms
    syn.run_regularly(
        ageing_code(low, "w_pend" in syn.variables), dt=t_age * b2.ms, when="start", name=f"{syn.name}_rram_age"
    )


def ageing_code(low: Lowered, pending: bool = False) -> str:
    """The one-shot ageing at ``t_age_ms`` (module docstring). Its clock ticks at 0,
    ``t_age_ms``, 2·``t_age_ms``…; only the tick at ``t_age_ms`` changes anything.
    ``pending``: the deferred rule's ``w_pend`` moves with ``w``."""
    dev = low.device
    t_age = float(dev.t_age_ms)  # type: ignore[arg-type]
    lines = [f"rram_now = int(abs(t - {t_age!r}*ms) < {0.5 * t_age!r}*ms)"]
    if not low.plastic:
        if low.has_pair:
            lines += ["gp = rram_now*gp_aged + (1 - rram_now)*gp", "gm = rram_now*gm_aged + (1 - rram_now)*gm"]
        return "\n".join(lines + ["w = rram_now*w_aged + (1 - rram_now)*w"])
    if dev.drift_model == "pcm":
        t = dev.t_inf + dev.t0
        log_ratio = math.log(t / dev.t0) if dev.t_inf > 0 else 0.0
        sqrt_ln = math.sqrt(math.log((t + rram.PCM_T_READ) / (2 * rram.PCM_T_READ)))
        (a_mu, b_mu, lo_mu, hi_mu), (a_sd, b_sd, lo_sd, hi_sd) = rram.PCM_NU_MU, rram.PCM_NU_SD
        a_q, b_q, floor_q, cap_q = rram.PCM_QS
        lines += [
            f"rram_rel = clip(gp_t*{1.0 / dev.g_max!r}, 1e-7, {_INF})",
            f"rram_nu = abs(clip({a_mu!r}*log(rram_rel) + {b_mu!r}, {lo_mu!r}, {hi_mu!r})"
            f" + clip({a_sd!r}*log(rram_rel) + {b_sd!r}, {lo_sd!r}, {hi_sd!r})*randn())*{dev.drift_scale!r}",
            f"rram_gd = gp*exp(-rram_nu*{log_ratio!r})",
            f"rram_qs = clip({a_q!r}/clip((abs(gp)*{1.0 / dev.g_max!r})**{b_q!r}, {floor_q!r}, {_INF}), 0, {cap_q!r})",
            f"rram_gd = clip(rram_gd + abs(rram_gd)*rram_qs*{sqrt_ln!r}*randn(), 0, {_INF})",
        ]
    else:
        log_t = math.log(max(dev.t_inf, 1.0))
        mean, std = rram.RELAX_MEAN * log_t, rram.RELAX_STD * log_t + rram.RELAX_STD0
        lines.append(f"rram_gd = clip(gp + {mean!r} + {std!r}*randn(), gp_lo, gp_hi)")
    lines += [
        "rram_on = rram_now*gp_free",
        "gp = rram_on*rram_gd + (1 - rram_on)*gp",
        "gm = rram_now*gm_aged + (1 - rram_now)*gm",
        f"rram_dw = rram_now*((gp - gm)*{low.inv_s!r} - w)",
        "w = w + rram_dw",
    ]
    if pending:
        lines.append("w_pend = w_pend + rram_dw")
    return "\n".join(lines)


def weight_expr(low: Lowered | None) -> str:
    """The weight one transmitted spike delivers: ``w``, or one noisy read of the pair."""
    if low is None or low.read_sigma <= 0:
        return "w"
    sigma = repr(low.read_sigma)
    return f"((clip(gp + {sigma}*randn(), 0, {_INF}) - clip(gm + {sigma}*randn(), 0, {_INF}))*{low.inv_s!r})"


def write(low: Lowered | None, statement: str) -> str:
    """Turn an STDP weight update ``w = EXPR`` into a programming event of the device."""
    if low is None:
        return statement
    target, _, expr = statement.partition(" = ")
    assert target == "w", statement
    dev = low.device
    lines = [f"rram_w = {expr}", f"rram_u = clip(rram_w*{1.0 / low.w_scale!r}, 0, 1)"]
    if dev.levels:
        n1 = float(dev.levels - 1)
        lines.append(f"rram_u = floor(rram_u*{n1!r} + 0.5)/{n1!r}")
    lines.append("rram_g = gp_lo + rram_u*(gp_hi - gp_lo)")
    if low.tracks_target:
        lines.append("rram_gt = rram_g")
    c2c = dev.c2c * dev.window
    if dev.prog_noise > 0 or c2c > 0:
        prog = f"{dev.prog_noise!r}*{_sigma_expr(dev, 'rram_g')}"
        lines.append(f"rram_g = clip(rram_g + sqrt(({prog})**2 + {c2c * c2c!r})*randn(), gp_lo, gp_hi)")
    half = dev.half_step(low.w_scale)
    change = "abs(rram_w - clip(w, w_min, w_max))"  # what the rule asks for, not noise beyond its bounds
    changed = f"{change} >= {half!r}" if half > 0 else f"{change} > 0"
    lines += [
        f"rram_on = int({changed})*gp_free",
        "gp = rram_on*rram_g + (1 - rram_on)*gp",
        f"w = (gp - gm)*{low.inv_s!r}",
    ]
    if low.tracks_target:
        lines.append("gp_t = rram_on*rram_gt + (1 - rram_on)*gp_t")
    return "\n".join(lines)


def _sigma_expr(dev: rram.RRAM, g: str) -> str:
    """σ_prog(g) of :func:`spikemem.hardware.devices.rram.prog_sigma` as a Brian2 expression."""
    if dev.prog_model == "constant":
        return repr(dev.g_max)
    if dev.prog_model == "cmo":
        a, b = rram.CMO_PROG
        return f"clip({a!r} + {b!r}*{g}, 0, {_INF})"
    coeffs, g_ref = rram.PROG_POLY[dev.prog_model]
    x = f"({g}*{1.0 / dev.g_max!r})"
    poly = repr(coeffs[-1])
    for c in reversed(coeffs[:-1]):
        poly = f"({c!r} + {x}*{poly})"
    return f"clip({poly}*{dev.g_max / g_ref!r}, 0, {_INF})"
