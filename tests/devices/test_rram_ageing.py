"""One-shot ageing of learned weights (``RRAM.t_age_ms``), run on Brian2 (numpy).

N independent synapses each learn once (one STDP potentiation) early in the run; at
``t_age_ms`` every device ages by ``t_inf`` (spec/rram.md §0.3 step 5). The recorded
weights before and after are compared with the spec's formulas, computed here
independently of hardware/devices/rram.py:

* PCM (§5.1, §4): g(t) = max(0, g_d + |g_d|·σ_r·ξ₂), g_d = g·(t/t0)^(−ν),
  ν = |μ_ν + σ_ν·ξ₁|, t = t_inf + t0. With G⁻ = 0 the weight ratio is
  r = (t/t0)^(−ν)·(1 + σ_r·ξ₂), so E[r] = E[exp(−νL)] = exp(−μL + σ²L²/2) (L = ln(t/t0);
  ν is never negative here: μ/σ > 6) and E[r²] = exp(−2μL + 2σ²L²)·(1 + σ_r²).
* RRAM relaxation (§6): g(t) = clip(g + a·ln t + (b·ln t + c)·ξ, G_min, G_max) on both
  devices; the OFF device sits at G_min, so its change is max(0, X), X ~ N(a ln t, σ²).

Tolerances: 5 standard errors of the sample mean and variance.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from _pairing import pairing_network

from spikemem import IF_curr_exp, Network, Population, Probe, Projection, SpikeSource, Static, simulate
from spikemem.errors import ValidationError
from spikemem.hardware.devices import rram
from spikemem.hardware.devices.rram import RRAM, parse_device

pytest.importorskip("brian2")

TARGET = "brian2:numpy"
N = 3000
Z = 5.0
T_AGE = 10.0
#: Pre spikes: the pairing at 1 ms; deferred timing applies it at the next pre spike (8 ms)
PRE = {"online": [1.0, 20.0], "deferred": [1.0, 8.0, 20.0]}


def phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2)))


def assert_mean_var(x: np.ndarray, mean: float, var: float) -> None:
    n = x.size
    m, v = x.mean(), x.var(ddof=1)
    assert abs(m - mean) <= Z * math.sqrt(var / n), f"mean {m} vs {mean}"
    m4 = np.mean((x - m) ** 4)
    assert abs(v - var) <= Z * math.sqrt(max(m4 - v * v, 0.0) / n), f"var {v} vs {var}"


def learn_network(timing: str, device: RRAM | None) -> Network:
    """N pairs, one potentiation each, then nothing changes the weights until a pre spike at
    20 ms (a verify of the deferred rule)."""
    return pairing_network(N, timing, PRE[timing], device, [Probe("plastic", "weight", every_ms=1.0)])


@functools.lru_cache
def weights(timing: str, device: RRAM, seed: int = 3, target: str = TARGET) -> tuple[np.ndarray, np.ndarray]:
    tr = simulate(learn_network(timing, device), 30.0, target=target, seed=seed).weights["plastic"]
    return tr.times, tr.values


def around(times: np.ndarray, values: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    before, after = np.searchsorted(times, [t - 1.0, t + 1.0])
    return values[before], values[after]


PCM = RRAM("pcm", prog_noise=0.0, read_noise=0.0, d2d=0.0, c2c=0.0, dw_min=0.0, t_inf=86400.0, t_age_ms=T_AGE)


@pytest.mark.parametrize(
    ("timing", "target"),
    [
        ("online", TARGET),
        ("deferred", TARGET),
        pytest.param("deferred", "brian2:cpp_standalone", marks=pytest.mark.standalone),
    ],
)
def test_learned_pcm_weights_drift_once_by_the_spec(timing: str, target: str) -> None:
    times, values = weights(timing, PCM, target=target)
    before, after = around(times, values, T_AGE)
    w0 = before[0]
    assert 0.3 < w0 < 0.6 and np.all(before == w0)  # every synapse learned the same weight, fresh
    # g_T = w0·g_max with g_T/g_max = w0 >= 0.3: μ_ν, σ_ν at their lower clips 0.049, 0.008 (§5.1)
    mu = min(max(-0.0155 * math.log(w0) + 0.0244, 0.049), 0.1)
    sd = min(max(-0.0125 * math.log(w0) - 0.0059, 0.008), 0.045)
    t = 86400.0 + 20.0
    L = math.log(t / 20.0)
    q_s = min(0.0088 / max(w0**0.65, 1e-3), 0.2)
    sigma_r = q_s * math.sqrt(math.log((t + 250e-9) / (2 * 250e-9)))
    mean = math.exp(-mu * L + sd**2 * L**2 / 2)
    second = math.exp(-2 * mu * L + 2 * sd**2 * L**2) * (1 + sigma_r**2)
    ratio = after / before
    assert_mean_var(ratio, mean, second - mean**2)
    assert abs(ratio.mean() - (t / 20.0) ** -mu) < 0.01  # (t/t0)^-μ: a year-scale drift is a 1/3 loss here
    # the weights change at the learning steps and at t_age_ms only, then the pre spike at 20 ms
    # (a depression of e^-17, or the deferred update from the pending weight) keeps the aged value
    changed = set(times[1:][np.any(np.diff(values, axis=0) != 0, axis=1)])
    assert changed - {T_AGE, T_AGE + 1.0} <= {2.0, 3.0, 4.0, 5.0, 6.0, 9.0, 21.0, 22.0}
    assert changed & {T_AGE, T_AGE + 1.0}
    np.testing.assert_allclose(values[-1], after, rtol=0, atol=1e-6)


def test_learned_rram_weights_relax_by_the_spec() -> None:
    dev = RRAM("hfox", prog_noise=0.0, read_noise=0.0, d2d=0.0, c2c=0.0, levels=0, t_inf=86400.0, t_age_ms=T_AGE)
    before, after = around(*weights("online", dev), T_AGE)
    s = dev.window  # µS per unit weight (w_scale = w_max = 1)
    assert np.all(before == before[0]) and 0.3 < before[0] < 0.6
    log_t = math.log(86400.0)
    a, b = -0.089 * log_t, 0.0420 * log_t + 0.4118
    # Δw·s = ΔG⁺ − ΔG⁻ with ΔG⁺ ~ N(a, b²) (G⁺ mid-window) and ΔG⁻ = max(0, N(a, b²)) (G⁻ at G_min)
    k = a / b
    m1 = a * cdf(k) + b * phi(k)
    m2 = (a * a + b * b) * cdf(k) + a * b * phi(k)
    assert_mean_var((after - before) * s, a - m1, b * b + m2 - m1 * m1)


def test_stuck_devices_do_not_age_and_without_t_age_nothing_changes_later() -> None:
    dev = PCM.replace(stuck_on=0.2)
    times, values = weights("online", dev)
    before, after = around(times, values, T_AGE)
    plus, minus = rram.program(dev, np.zeros(N), 1.0, rram.device_rng(3, "plastic"))
    on = (plus.stuck == 1) & (minus.stuck == 0)
    assert 0.15 * N < on.sum() < 0.25 * N
    np.testing.assert_array_equal(after[on], 1.0)
    np.testing.assert_array_equal(before[on], 1.0)
    assert np.all(after[~on & (minus.stuck == 0)] < before[~on & (minus.stuck == 0)])
    # the same device without t_age_ms: aged at programming, nothing changes after the learn
    times, values = weights("online", PCM.replace(t_age_ms=None))
    late = times >= 6.0
    np.testing.assert_allclose(values[late], np.broadcast_to(values[late][0], values[late].shape), atol=1e-6)


def test_static_weights_switch_to_their_aged_values() -> None:
    """A static projection with ageing at t_age_ms: before, the fresh devices; after, exactly
    the devices programming without t_age_ms would give (same draws), read through the membrane."""
    cell = IF_curr_exp(cm=1.0, tau_m=1.0, tau_syn_E=0.5, tau_refrac=0.1, v_rest=-65.0, v_reset=-65.0, v_thresh=0.0)
    dev = RRAM("pcm", read_noise=0.0, d2d=0.0, t_inf=3.15e7, t_age_ms=20.0)
    w = np.linspace(0.1, 1.0, N)

    def net(device: RRAM | None) -> Network:
        pops = [SpikeSource("src", [[1.0, 31.0]] * N), Population("cells", N, cell)]
        conn = np.column_stack([np.arange(N), np.arange(N), w, np.ones(N)])
        from spikemem import FromList

        proj = Projection("p", "src", "cells", FromList(conn), Static(weight=0.0, delay=1.0), device=device)
        return Network(pops, [proj], [Probe("cells", "v", every_ms=2.0)], dt=0.1)

    tr = simulate(net(dev), 36.0, target=TARGET, seed=1).traces["cells.v"]
    ref = simulate(net(None), 36.0, target=TARGET, seed=1).traces["cells.v"]
    k1, k2 = np.searchsorted(tr.times, [4.0, 34.0])
    w1 = w * (tr.values[k1] + 65.0) / (ref.values[k1] + 65.0)
    w2 = w * (tr.values[k2] + 65.0) / (ref.values[k2] + 65.0)
    fresh = rram.program(dev, w, 1.0, rram.device_rng(1, "p"), aged=False)
    aged = rram.program(dev, w, 1.0, rram.device_rng(1, "p"))
    np.testing.assert_allclose(w1, rram.effective_weight(dev, *fresh, 1.0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(w2, rram.effective_weight(dev, *aged, 1.0), rtol=1e-6, atol=1e-9)
    assert np.mean(w2 / w1) < 0.6  # a year of PCM drift


def test_t_age_ms_is_validated_and_parsed() -> None:
    for bad in (0.0, -5.0, float("nan")):
        with pytest.raises(ValidationError) as err:
            RRAM("pcm", t_age_ms=bad)
        assert err.value.field == "RRAM.t_age_ms"
    assert parse_device("pcm:t_inf=3600,t_age_ms=150").t_age_ms == 150.0
    assert parse_device("pcm:t_age_ms=none").t_age_ms is None
    with pytest.raises(ValidationError, match="RRAM.t_age_ms"):
        parse_device("pcm:t_age_ms=soon")
