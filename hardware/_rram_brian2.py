r"""Lowering of a projection's resistive-memory device (hardware/rram.py) into Brian2.

Used by ``_brian2_build._projection``; every function is a no-op for a projection
without a device, so the device-free code is unchanged.

* **Programming once** (numpy, at build time): the projection's weights go through
  :func:`spikemem.hardware.rram.program` with a generator seeded from the run seed and
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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spikemem.network import Projection

from . import rram

_INF = "1e300"


@dataclass(frozen=True)
class Lowered:
    """A projection's programmed devices and the constants of its Brian2 code."""

    device: rram.RRAM
    w_scale: float
    plus: rram.Devices
    minus: rram.Devices
    plastic: bool

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


def lower(proj: Projection, weights: np.ndarray, seed: int) -> Lowered | None:
    """Program ``proj``'s initial weights through its device (None without a device)."""
    device = getattr(proj, "device", None)
    if device is None:
        return None
    w_scale = rram.weight_scale(device, proj.synapse, weights)
    plus, minus = rram.program(device, weights, w_scale, rram.device_rng(seed, proj.name))
    return Lowered(device, w_scale, plus, minus, proj.synapse.plastic)


def weights(low: Lowered | None, weights: np.ndarray) -> np.ndarray:
    """The initial ``w`` of the synapses: the device's effective weight, or unchanged."""
    return weights if low is None else low.weights


def model(low: Lowered | None) -> str:
    """Extra synaptic variables: the pair's conductances (µS) and, when plastic, the
    G⁺ device's window and whether it can be programmed."""
    if low is None or not (low.plastic or low.read_sigma > 0):
        return ""
    lines = ["gp : 1", "gm : 1"]
    if low.plastic:
        lines += ["gp_lo : 1", "gp_hi : 1", "gp_free : 1"]
    return "\n" + "\n".join(lines) + "\n"


def initialise(syn: Any, low: Lowered | None) -> None:
    """Set the extra variables of :func:`model` on the connected synapses."""
    if low is None or not model(low):
        return
    syn.gp = low.plus.g
    syn.gm = low.minus.g
    if low.plastic:
        syn.gp_lo = low.plus.lo
        syn.gp_hi = low.plus.hi
        syn.gp_free = (low.plus.stuck == 0).astype(float)


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
    return "\n".join(lines)


def _sigma_expr(dev: rram.RRAM, g: str) -> str:
    """σ_prog(g) of :func:`spikemem.hardware.rram.prog_sigma` as a Brian2 expression."""
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
