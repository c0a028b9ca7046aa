"""The resistive-memory device model (hardware/devices/rram.py) against spec/rram.md.

Statistical tests draw large samples and compare sample moments with the spec's
formulas; tolerances are 5 standard errors of the estimate (mean: σ/√n; variance:
sqrt((m4 − s⁴)/n) from the sample's own fourth moment), so a correct model fails
with probability well below 1e-5 per check. Sanity values quoted in the spec are
checked to the precision the spec prints them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from spikemem.errors import ValidationError
from spikemem.hardware.devices import rram
from spikemem.hardware.devices.rram import RRAM, parse_device

N = 200_000
Z = 5.0


def assert_moments(x: np.ndarray, mean: float, sd: float) -> None:
    """Sample mean and variance of ``x`` equal ``mean`` and ``sd**2`` within 5 standard errors."""
    x = np.asarray(x, dtype=float).ravel()
    n = x.size
    m, v = x.mean(), x.var(ddof=1)
    assert abs(m - mean) <= Z * math.sqrt(v / n) + 1e-12, f"mean {m} vs {mean}"
    m4 = np.mean((x - m) ** 4)
    se_var = math.sqrt(max(m4 - v * v, 0.0) / n)
    assert abs(v - sd * sd) <= Z * se_var + 1e-12, f"sd {math.sqrt(v)} vs {sd}"


def rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- presets and parameters -------------------------------------------------------------


def test_presets_carry_the_spec_values() -> None:
    hfox, pcm, form, ideal = RRAM("hfox"), RRAM("pcm"), RRAM("forming"), RRAM("ideal")
    assert (hfox.g_min, hfox.g_max, hfox.prog_model, hfox.drift_model) == (9.0, 88.2, "cmo", "relaxation")
    assert (pcm.g_min, pcm.g_max, pcm.prog_model, pcm.drift_model, pcm.t0) == (0.0, 25.0, "pcm", "pcm", 20.0)
    assert form.forming and form.g_min == 0.1
    assert math.sqrt(2) * form.formed_std == pytest.approx(6.61329, abs=0.005)  # §13.2 std of G⁺ − G⁻
    assert ideal.prog_noise == ideal.read_noise == ideal.d2d == ideal.stuck_on == ideal.stuck_off == 0.0
    assert RRAM("hfox", levels=8).levels == 8 and RRAM("hfox", levels=8).g_max == 88.2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ideal", RRAM("ideal")),
        ("ideal:stuck_off=0.5", RRAM("ideal", stuck_off=0.5)),
        ("hfox:levels=16,read_noise=0.02", RRAM("hfox", levels=16, read_noise=0.02)),
        ("pcm: t_inf = 86400 , drift_scale=2", RRAM("pcm", t_inf=86400.0, drift_scale=2.0)),
        ("forming:forming=false,w_scale=0.5", RRAM("forming", forming=False, w_scale=0.5)),
        ("hfox:prog_model=pcm,w_scale=none", RRAM("hfox", prog_model="pcm")),
    ],
)
def test_parse_device(text: str, expected: RRAM) -> None:
    assert parse_device(text) == expected


@pytest.mark.parametrize(
    ("text", "field", "allowed"),
    [
        ("reram", "RRAM.preset", "ideal, hfox, pcm, forming"),
        ("hfox:colour=3", "RRAM.colour", "stuck_off"),
        ("ideal:g_min=50", "RRAM.g_max", "> g_min"),
        ("ideal:g_min=40,g_max=40", "RRAM.g_max", "> g_min"),
        ("ideal:g_min=-1", "RRAM.g_min", ">= 0"),
        ("ideal:read_noise=-0.1", "RRAM.read_noise", ">= 0"),
        ("ideal:prog_noise=-1", "RRAM.prog_noise", ">= 0"),
        ("ideal:d2d=-0.3", "RRAM.d2d", ">= 0"),
        ("ideal:stuck_on=1.5", "RRAM.stuck_on", "[0, 1]"),
        ("ideal:stuck_off=-0.01", "RRAM.stuck_off", "[0, 1]"),
        ("ideal:stuck_on=0.6,stuck_off=0.6", "RRAM.stuck_off", "stuck_on + stuck_off <= 1"),
        ("ideal:levels=1", "RRAM.levels", "0 (continuous) or an integer >= 2"),
        ("ideal:levels=2.5", "RRAM.levels", "an integer"),
        ("ideal:prog_model=gauss", "RRAM.prog_model", "'cmo'"),
        ("ideal:drift_model=fast", "RRAM.drift_model", "'relaxation'"),
        ("ideal:t0=0", "RRAM.t0", "> 0"),
        ("ideal:levels", "--rram", "key=value"),
        ("ideal:read_noise=lots", "RRAM.read_noise", "a number"),
        ("forming:forming=maybe", "RRAM.forming", "true or false"),
        ("", "--rram", "PRESET"),
    ],
)
def test_bad_parameters_are_rejected_with_their_name(text: str, field: str, allowed: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_device(text)
    assert err.value.field == field
    assert allowed in err.value.allowed


def test_constructor_rejects_unknown_preset_and_key() -> None:
    with pytest.raises(ValidationError, match="RRAM.preset"):
        RRAM("memristor")
    with pytest.raises(ValidationError, match="RRAM.noise"):
        RRAM("ideal", noise=0.1)
    with pytest.raises(ValidationError, match="RRAM.w_scale"):
        RRAM("ideal", w_scale=0.0)


def test_half_step() -> None:
    assert RRAM("ideal").half_step(6.0) == 0.0
    assert RRAM("ideal", levels=16).half_step(6.0) == pytest.approx(0.5 * 6.0 / 15)
    assert RRAM("pcm").half_step(2.0) == pytest.approx(0.5 * 0.005 * 2.0)


# --- §1 mapping, §2 levels ----------------------------------------------------------------


def test_differential_pair_mapping() -> None:
    w = np.linspace(-3.0, 3.0, 61)
    gp, gm = rram.to_pair(w, 4.0, 40.0, 3.0)
    s = 36.0 / 3.0
    np.testing.assert_allclose(gp, np.clip(s * w, 0, 36.0) + 4.0)  # §1.1
    np.testing.assert_allclose(gm, np.clip(-s * w, 0, 36.0) + 4.0)
    assert np.all(np.minimum(gp, gm) == 4.0)  # one device of each pair sits at g_min
    np.testing.assert_allclose(rram.from_pair(gp, gm, 4.0, 40.0, 3.0), w, atol=1e-12)
    gp, gm = rram.to_pair(np.array([5.0, -7.0]), 4.0, 40.0, 3.0)  # beyond ±w_scale: the window's top
    assert gp.tolist() == [40.0, 4.0] and gm.tolist() == [4.0, 40.0]


def test_quantisation_lands_on_the_level_grid() -> None:
    r = rng()
    lo = r.uniform(1.0, 10.0, N)
    hi = lo + r.uniform(20.0, 80.0, N)  # per-device windows
    g = r.uniform(-5.0, 100.0, N)
    for levels in (2, 4, 16, 97):
        q = rram.quantise(g, lo, hi, levels)
        delta = (hi - lo) / (levels - 1)
        k = (q - lo) / delta
        np.testing.assert_allclose(k, np.round(k), atol=1e-9)
        assert k.min() >= -1e-9 and k.max() <= levels - 1 + 1e-9
        # the nearest level of the clipped value
        assert np.all(np.abs(q - np.clip(g, lo, hi)) <= delta / 2 + 1e-9)
    np.testing.assert_array_equal(rram.quantise(g, lo, hi, 0), g)


# --- §3 programming noise -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "g_max", "points"),
    [
        ("pcm", 25.0, [(0.0, 0.263), (2.5, 0.448), (12.5, 0.953), (25.0, 1.055)]),  # §3.1
        ("cmo", 88.2, [(9.0, 0.11), (50.0, 0.58), (88.2, 1.01)]),  # §3.3 (2 %)
        ("wan2022", 40.0, [(0.0, 0.35), (10.0, 2.26), (20.0, 2.02), (30.0, 1.53), (40.0, 1.10)]),  # §3.2, 1 s
        ("constant", 25.0, [(0.0, 25.0), (25.0, 25.0)]),
    ],
)
def test_programming_sigma_matches_the_spec_sanity_values(
    model: str, g_max: float, points: list[tuple[float, float]]
) -> None:
    g, expected = np.array(points).T
    np.testing.assert_allclose(rram.prog_sigma(g, model, g_max), expected, atol=0.006)


def test_pcm_programming_sigma_scales_with_g_max() -> None:
    """σ_prog × g_max/25 µS (§3.1): doubling g_max at the same g/g_max doubles σ."""
    x = np.linspace(0, 1, 11)
    np.testing.assert_allclose(rram.prog_sigma(x * 50.0, "pcm", 50.0), 2 * rram.prog_sigma(x * 25.0, "pcm", 25.0))


@pytest.mark.parametrize("preset", ["hfox", "pcm"])
@pytest.mark.parametrize("u", [0.3, 0.5, 0.7])
def test_programmed_conductance_mean_and_spread(preset: str, u: float) -> None:
    """g_prog = g_T + σ_prog(g_T)·ξ (§3): mean g_T, spread σ_prog(g_T), D2D, levels and ageing off."""
    dev = RRAM(preset, d2d=0.0, levels=0, drift_model="none", prog_noise=1.5)
    w_scale = 2.0
    plus, minus = rram.program(dev, np.full(N, u * w_scale), w_scale, rng())
    g_t = dev.g_min + u * dev.window
    assert_moments(plus.g, g_t, 1.5 * rram.prog_sigma(np.array(g_t), dev.prog_model, dev.g_max))
    # the G⁻ device is programmed to g_min (clipped at the window's bottom: all >= g_min)
    assert minus.g.min() >= dev.g_min and np.median(minus.g) < dev.g_min + rram.prog_sigma(dev.g_min, "pcm", 25)


def test_programming_on_a_quantised_device() -> None:
    """Target → nearest level of the device's own grid, then noise around that level."""
    dev = RRAM("hfox", d2d=0.0, levels=4, drift_model="none", prog_noise=0.0)
    w = np.linspace(0, 1, 1001)
    plus, _ = rram.program(dev, w, 1.0, rng())
    levels = dev.g_min + np.arange(4) / 3 * dev.window
    np.testing.assert_allclose(plus.g, levels[np.floor(w * 3 + 0.5).astype(int)])
    noisy = RRAM("hfox", d2d=0.0, levels=4, drift_model="none", prog_noise=1.0)
    plus, _ = rram.program(noisy, np.full(N, 0.45), 1.0, rng())  # nearest level: 1/3
    assert_moments(plus.g, levels[1], rram.prog_sigma(levels[1], "cmo", 88.2))


def test_ideal_device_stores_weights_exactly() -> None:
    w = rng().uniform(0, 6, 1000)
    plus, minus = rram.program(RRAM("ideal"), w, 6.0, rng())
    np.testing.assert_allclose(rram.effective_weight(RRAM("ideal"), plus, minus, 6.0), w, rtol=1e-14, atol=1e-14)


# --- §7 device-to-device variability ----------------------------------------------------------


def test_d2d_window_spread_and_its_effect_on_programmed_values() -> None:
    d2d, u = 0.1, 0.6
    lo, hi = rram.sample_d2d((N,), 9.0, 88.2, d2d, rng())
    assert_moments(lo, 9.0, d2d * 9.0)
    assert_moments(hi, 88.2, d2d * 88.2)
    dev = RRAM("hfox", d2d=d2d, levels=0, prog_noise=0.0, drift_model="none")
    plus, _ = rram.program(dev, np.full(N, u), 1.0, rng(2))
    # G = lo_d + u·(hi_d − lo_d): mean G_min + u·window; var d2d²((1 − u)²G_min² + u²G_max²)
    sd = d2d * math.hypot((1 - u) * 9.0, u * 88.2)
    assert_moments(plus.g, 9.0 + u * 79.2, sd)
    # drawn once per device: the same devices give the same windows
    again, _ = rram.program(dev, np.full(N, u), 1.0, rng(2))
    np.testing.assert_array_equal(plus.lo, again.lo)


# --- §9 stuck-at faults ------------------------------------------------------------------------


@pytest.mark.parametrize(("p_on", "p_off"), [(0.0175, 0.0904), (0.1, 0.0), (0.0, 0.5), (0.3, 0.7)])
def test_fault_rates_are_binomial(p_on: float, p_off: float) -> None:
    dev = RRAM("hfox", stuck_on=p_on, stuck_off=p_off)
    plus, minus = rram.program(dev, rng().uniform(0, 1, N), 1.0, rng())
    for side in (plus, minus):
        for code, p in ((1, p_on), (-1, p_off)):
            count = int(np.sum(side.stuck == code))
            assert abs(count - N * p) <= Z * math.sqrt(N * p * (1 - p)) + 1e-9
        # stuck devices sit exactly at their own bounds: no programming noise, no relaxation
        np.testing.assert_array_equal(side.g[side.stuck == 1], side.hi[side.stuck == 1])
        np.testing.assert_array_equal(side.g[side.stuck == -1], side.lo[side.stuck == -1])
    # the two devices of a pair fail independently
    both_off = np.mean((plus.stuck == -1) & (minus.stuck == -1))
    assert abs(both_off - p_off**2) <= Z * math.sqrt(p_off**2 * (1 - p_off**2) / N) + 1e-9


def test_stuck_off_weights_read_zero_and_stuck_on_full_scale() -> None:
    dev = RRAM("ideal", stuck_off=1.0)
    plus, minus = rram.program(dev, np.full(100, 6.0), 6.0, rng())
    assert np.all(rram.effective_weight(dev, plus, minus, 6.0) == 0.0)
    dev = RRAM("ideal", stuck_on=1.0)
    plus, minus = rram.program(dev, np.full(100, 3.0), 6.0, rng())
    assert np.all(rram.effective_weight(dev, plus, minus, 6.0) == 0.0)  # both ON: G⁺ − G⁻ = 0


def test_fault_sets_grow_with_the_rate_for_one_seed() -> None:
    """Each effect has its own stream: raising stuck_off adds faults, keeps the old ones and
    leaves the programming noise of working devices unchanged."""
    w = np.full(10_000, 0.5)
    a, _ = rram.program(RRAM("hfox", stuck_off=0.02), w, 1.0, rng())
    b, _ = rram.program(RRAM("hfox", stuck_off=0.08), w, 1.0, rng())
    assert np.all(b.stuck[a.stuck == -1] == -1) and np.sum(b.stuck == -1) > np.sum(a.stuck == -1)
    working = b.stuck == 0
    np.testing.assert_array_equal(a.g[working], b.g[working])


# --- §5 drift, §6 relaxation, §4 accumulated noise ---------------------------------------------


@pytest.mark.parametrize(("x", "mu", "sd"), [(0.5, 0.049, 0.008), (1.0, 0.049, 0.008), (0.1, 0.060, 0.023)])
def test_pcm_drift_exponent(x: float, mu: float, sd: float) -> None:
    nu = rram.pcm_drift_nu(np.full(N, x * 25.0), 25.0, 1.0, rng())
    # spec §5.1 sanity values (printed to 3 decimals): compare the formula's own μ, σ to them
    rel = x
    mu_f = min(max(-0.0155 * math.log(rel) + 0.0244, 0.049), 0.1)
    sd_f = min(max(-0.0125 * math.log(rel) - 0.0059, 0.008), 0.045)
    assert mu_f == pytest.approx(mu, abs=6e-4) and sd_f == pytest.approx(sd, abs=6e-4)
    # ν = |μ + σξ| is a folded normal: E = σ√(2/π)·exp(−μ²/2σ²) + μ(1 − 2Φ(−μ/σ)), E[ν²] = μ² + σ²
    phi = 0.5 * math.erfc(mu_f / sd_f / math.sqrt(2))
    mean = sd_f * math.sqrt(2 / math.pi) * math.exp(-(mu_f**2) / (2 * sd_f**2)) + mu_f * (1 - 2 * phi)
    assert_moments(nu, mean, math.sqrt(mu_f**2 + sd_f**2 - mean**2))


@pytest.mark.parametrize(
    ("t_inf", "expected"),
    [(1.0, (0.165, 0.058, 0.037)), (86400.0, (0.200, 0.070, 0.045))],  # §4 sanity values
)
def test_pcm_accumulated_read_sigma(t_inf: float, expected: tuple[float, float, float]) -> None:
    g = np.array([0.1, 0.5, 1.0]) * 25.0
    np.testing.assert_allclose(rram.pcm_read_sigma(g, 25.0, t_inf + 20.0), expected, atol=0.0015)


def test_pcm_drift_mean_and_spread_after_a_day() -> None:
    """g(t) = g_prog·(t/t0)^(−ν)·(1 + σ_r ξ'): with ν ~ N(μ, σ²), E = g·exp(−μL + σ²L²/2),
    E[g²] = g²·exp(−2μL + 2σ²L²)·(1 + σ_r²), L = ln(t/t0)."""
    t_inf, x = 86400.0, 0.5
    dev = RRAM("pcm", d2d=0.0, prog_noise=0.0, t_inf=t_inf)
    plus, _ = rram.program(dev, np.full(N, x), 1.0, rng())
    g0, L = x * 25.0, math.log((t_inf + 20.0) / 20.0)
    mu, sd = 0.049, 0.008
    sigma_r = float(rram.pcm_read_sigma(np.array(g0), 25.0, t_inf + 20.0))
    mean = g0 * math.exp(-mu * L + sd**2 * L**2 / 2)
    second = g0**2 * math.exp(-2 * mu * L + 2 * sd**2 * L**2) * (1 + sigma_r**2)
    assert_moments(plus.g, mean, math.sqrt(second - mean**2))
    assert mean < g0 * 0.7  # a day of drift loses about a third of the conductance


def test_pcm_without_elapsed_time_has_no_drift_but_the_read_noise_up_to_t0() -> None:
    dev = RRAM("pcm", d2d=0.0, prog_noise=0.0, t_inf=0.0)
    plus, _ = rram.program(dev, np.full(N, 0.5), 1.0, rng())
    sigma_r = float(rram.pcm_read_sigma(np.array(12.5), 25.0, 20.0))
    assert_moments(plus.g, 12.5, 12.5 * sigma_r)


@pytest.mark.parametrize(("t_inf", "shift", "spread"), [(3600.0, -0.73, 0.76), (86400.0, -1.01, 0.89)])
def test_relaxation_matches_the_spec(t_inf: float, shift: float, spread: float) -> None:
    g = np.full(N, 50.0)
    out = rram.relax(g, 9.0, 88.2, t_inf, rng())
    log_t = math.log(t_inf)
    assert rram.RELAX_MEAN * log_t == pytest.approx(shift, abs=0.006)  # §6 sanity values
    assert rram.RELAX_STD * log_t + rram.RELAX_STD0 == pytest.approx(spread, abs=0.006)
    assert_moments(out, 50.0 + rram.RELAX_MEAN * log_t, rram.RELAX_STD * log_t + rram.RELAX_STD0)
    np.testing.assert_array_equal(rram.relax(g, 9.0, 88.2, 0.0, rng()), g)


def test_hfox_programming_then_relaxation_add_in_variance() -> None:
    t_inf, u = 86400.0, 0.5
    dev = RRAM("hfox", d2d=0.0, levels=0, t_inf=t_inf)
    plus, _ = rram.program(dev, np.full(N, u), 1.0, rng())
    g_t = 9.0 + u * 79.2
    log_t = math.log(t_inf)
    sd = math.hypot(float(rram.prog_sigma(np.array(g_t), "cmo", 88.2)), rram.RELAX_STD * log_t + rram.RELAX_STD0)
    assert_moments(plus.g, g_t + rram.RELAX_MEAN * log_t, sd)


# --- §4 read noise, §8 on-line updates, §13 forming ---------------------------------------------


def test_read_noise_is_fresh_on_every_read() -> None:
    g = np.full(N, 40.0)
    r = rng()
    a, b = rram.read(g, 0.5, r), rram.read(g, 0.5, r)
    assert_moments(a, 40.0, 0.5)
    assert abs(np.corrcoef(a, b)[0, 1]) <= Z / math.sqrt(N)
    dev = RRAM("hfox", d2d=0.0, levels=0, prog_noise=0.0, drift_model="none", read_noise=0.02)
    plus, minus = rram.program(dev, np.full(N, 0.7), 1.0, rng())
    w = rram.read_weights(dev, plus, minus, 1.0, rng(3))
    # two devices read independently: σ_w = √2·read_noise·w_scale
    assert_moments(w, 0.7, math.sqrt(2) * 0.02)


def test_online_update_noise_includes_cycle_to_cycle() -> None:
    dev = RRAM("hfox", d2d=0.0, levels=0, drift_model="none", c2c=0.035)
    plus, _ = rram.program(dev, np.zeros(N), 1.0, rng())
    new = rram.reprogram(dev, plus, np.full(N, 0.4), 1.0, rng(5))
    g_t = 9.0 + 0.4 * 79.2
    sd = math.hypot(float(rram.prog_sigma(np.array(g_t), "cmo", 88.2)), 0.035 * 79.2)
    assert_moments(new.g, g_t, sd)


def test_forming_gives_symmetric_random_weights_with_the_spec_spread() -> None:
    dev = RRAM("forming", read_noise=0.0)
    plus, minus = rram.program(dev, np.zeros(N), 1.0, rng())
    assert_moments(plus.g - minus.g, 0.0, math.sqrt(2) * dev.formed_std)  # σ(G⁺ − G⁻) ≈ 6.61 µS (§13.2)
    sparse = RRAM("forming", stuck_off=0.3)
    plus, minus = rram.program(sparse, np.zeros(N), 1.0, rng())
    pristine = plus.g == sparse.g_min  # unformed devices stay OFF at the pristine conductance
    assert abs(pristine.sum() - 0.3 * N) <= Z * math.sqrt(N * 0.3 * 0.7)
    assert np.all(plus.g[~pristine] > 30.0)
    diff = plus.g - minus.g
    assert abs(np.mean(diff)) <= Z * np.std(diff) / math.sqrt(N)  # still symmetric around 0


def test_seeded_determinism() -> None:
    dev = RRAM("pcm", t_inf=3600.0, stuck_off=0.05)
    w = np.linspace(0, 1, 5000)
    a = rram.program(dev, w, 1.0, rram.device_rng(7, "memory"))
    b = rram.program(dev, w, 1.0, rram.device_rng(7, "memory"))
    c = rram.program(dev, w, 1.0, rram.device_rng(8, "memory"))
    d = rram.program(dev, w, 1.0, rram.device_rng(7, "other"))
    np.testing.assert_array_equal(a[0].g, b[0].g)
    np.testing.assert_array_equal(a[1].g, b[1].g)
    assert not np.array_equal(a[0].g, c[0].g) and not np.array_equal(a[0].g, d[0].g)
