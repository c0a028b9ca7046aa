"""Connectors (OneToOne, AllToAll, FixedProbability, FromList) and synapse types (Static,
STDP): what they resolve to, serialisation, and one bad-input test per validation rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spikemem import STDP, AllToAll, FixedProbability, FromList, OneToOne, Static, ValidationError
from spikemem._node import node_from_dict
from spikemem.connectors import projection_seed


def expect_error(call, field: str, *allowed: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call()
    err = info.value
    assert err.field == field, str(err)
    assert str(err).startswith(field)
    for words in allowed:
        assert words in err.allowed and words in str(err), str(err)
    return err


def pairs(conns) -> list[tuple[int, int]]:
    return list(zip(conns.i.tolist(), conns.j.tolist()))


# --- connectors: constructs --------------------------------------------------------------------


def test_one_to_one_connects_k_to_k() -> None:
    conns = OneToOne().connect(4, 4, seed=0)
    assert pairs(conns) == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert conns.weight is None and conns.delay is None
    assert conns.i.dtype == np.int64 and conns.j.dtype == np.int64


def test_all_to_all_with_and_without_self_connections() -> None:
    every = AllToAll().connect(3, 3, seed=0)
    assert pairs(every) == [(i, j) for i in range(3) for j in range(3)]
    no_self = AllToAll(allow_self_connections=False).connect(3, 3, seed=0)
    assert pairs(no_self) == [(i, j) for i in range(3) for j in range(3) if i != j]
    assert len(AllToAll().connect(2, 5, seed=0)) == 10


def test_fixed_probability_draws_the_expected_fraction() -> None:
    conns = FixedProbability(0.1).connect(200, 150, seed=4)
    n = 200 * 150
    # binomial(n, 0.1): standard deviation sqrt(n p (1-p)) = 52
    assert abs(len(conns) - 0.1 * n) < 5 * math.sqrt(n * 0.1 * 0.9)
    assert len(set(pairs(conns))) == len(conns)
    assert conns.i.max() < 200 and conns.j.max() < 150
    # every pre neuron's out-degree is binomial(150, 0.1), not constant
    degrees = np.bincount(conns.i, minlength=200)
    assert degrees.std() > 1.0


def test_fixed_probability_without_self_connections_and_extremes() -> None:
    conns = FixedProbability(1.0, allow_self_connections=False).connect(5, 5, seed=0)
    assert pairs(conns) == [(i, j) for i in range(5) for j in range(5) if i != j]
    assert len(FixedProbability(0.0).connect(50, 50, seed=0)) == 0


def test_fixed_probability_seed_fixes_the_draw_and_none_follows_the_run_seed() -> None:
    own = FixedProbability(0.3, seed=9)
    assert pairs(own.connect(30, 30, seed=1)) == pairs(own.connect(30, 30, seed=2))
    free = FixedProbability(0.3)
    assert pairs(free.connect(30, 30, seed=1)) == pairs(free.connect(30, 30, seed=1))
    assert pairs(free.connect(30, 30, seed=1)) != pairs(free.connect(30, 30, seed=2))


def test_projection_seed_depends_on_run_seed_and_name() -> None:
    seeds = {projection_seed(s, n) for s in (0, 1) for n in ("a", "b")}
    assert len(seeds) == 4
    assert projection_seed(3, "x") == projection_seed(3, "x")
    assert all(0 <= s < 2**32 for s in seeds)


def test_from_list_with_two_columns() -> None:
    conn = FromList([[0, 1], [2, 0]])
    conns = conn.connect(3, 2, seed=0)
    assert pairs(conns) == [(0, 1), (2, 0)]
    assert conns.weight is None and conns.delay is None and not conn.has_weights


def test_from_list_with_weights_and_delays() -> None:
    conn = FromList(np.array([[0, 1, 0.25, 1.5], [1, 0, 0.5, 2.0]]))
    conns = conn.connect(2, 2, seed=0)
    assert conn.has_weights
    assert pairs(conns) == [(0, 1), (1, 0)]
    np.testing.assert_array_equal(conns.weight, [0.25, 0.5])
    np.testing.assert_array_equal(conns.delay, [1.5, 2.0])


def test_from_list_copies_and_freezes_its_array() -> None:
    raw = np.array([[0, 1, 0.25, 1.0]])
    conn = FromList(raw)
    raw[0, 2] = 9.0
    assert conn.conn_list[0, 2] == 0.25
    assert conn.conn_list.dtype == np.float64
    with pytest.raises(ValueError):
        conn.conn_list[0, 2] = 1.0


def test_empty_from_list_is_allowed() -> None:
    assert len(FromList([]).connect(3, 3, seed=0)) == 0


@pytest.mark.parametrize(
    "conn",
    [
        OneToOne(),
        AllToAll(allow_self_connections=False),
        FixedProbability(0.25, allow_self_connections=False, seed=3),
        FromList([[0, 1, 0.1 + 0.2, 1.0]]),
        FromList([[0, 1], [1, 0]]),
    ],
)
def test_connectors_round_trip_through_dicts(conn) -> None:
    again = node_from_dict(conn.to_dict())
    assert type(again) is type(conn) and again == conn


# --- connectors: one bad input per rule ---------------------------------------------------------


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan, "often"])
def test_fixed_probability_must_be_a_probability(p) -> None:
    allowed = "finite" if p is math.nan or isinstance(p, str) else "[0, 1]"
    expect_error(lambda: FixedProbability(p), "FixedProbability.p_connect", allowed)


@pytest.mark.parametrize("cls", [AllToAll, FixedProbability])
def test_allow_self_connections_must_be_a_bool(cls) -> None:
    expect_error(lambda: cls(allow_self_connections="no"), f"{cls.__name__}.allow_self_connections", "True or False")


def test_fixed_probability_seed_must_be_a_non_negative_integer() -> None:
    expect_error(lambda: FixedProbability(0.1, seed=-3), "FixedProbability.seed", "integer >= 0")


@pytest.mark.parametrize(
    ("rows", "field", "allowed"),
    [
        ([[0, 1, 2]], "FromList.conn_list", "(n, 2) or (n, 4)"),
        ([0, 1], "FromList.conn_list", "(n, 2) or (n, 4)"),
        ([[0, "a"]], "FromList.conn_list", "rows of (i, j)"),
        ([[0, 1, math.nan, 1.0]], "FromList.conn_list[0]", "finite"),
        ([[0, 1, 0.5, 1.0], [1, 1, math.inf, 1.0]], "FromList.conn_list[1]", "finite"),
        ([[0, 1, 0.5, math.nan]], "FromList.conn_list[0]", "finite"),
        ([[-1, 0]], "FromList.conn_list[0]", "non-negative integer"),
        ([[0, 0], [0.5, 1]], "FromList.conn_list[1]", "non-negative integer"),
    ],
)
def test_bad_from_lists_are_refused(rows, field: str, allowed: str) -> None:
    expect_error(lambda: FromList(rows), field, allowed)


def test_connectors_refuse_unknown_parameters() -> None:
    expect_error(lambda: OneToOne(p=1), "OneToOne.p", "one of the parameters")
    expect_error(lambda: FixedProbability(p=0.1), "FixedProbability.p", "p_connect")
    expect_error(lambda: FromList(connections=[[0, 0]]), "FromList.connections", "conn_list")


# --- synapses: constructs ------------------------------------------------------------------------


def test_static_synapse_defaults_and_values() -> None:
    syn = Static()
    assert (syn.weight, syn.delay, syn.plastic) == (0.0, 1.0, False)
    assert Static(0.5, 2.0) == Static(weight=0.5, delay=2.0)


def test_stdp_defaults_follow_pynn() -> None:
    syn = STDP()
    assert (syn.tau_plus, syn.tau_minus, syn.A_plus, syn.A_minus) == (20.0, 20.0, 0.01, 0.01)
    assert (syn.w_min, syn.w_max, syn.weight_dependence, syn.timing) == (0.0, 1.0, "additive", "online")
    assert syn.plastic


@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
@pytest.mark.parametrize("timing", ["online", "deferred"])
def test_stdp_variants_round_trip(dependence: str, timing: str) -> None:
    syn = STDP(weight=0.3, delay=2.0, A_plus=0.1, w_max=0.5, weight_dependence=dependence, timing=timing)
    assert node_from_dict(syn.to_dict()) == syn
    assert syn != syn.replace(timing="online" if timing == "deferred" else "deferred")


# --- synapses: one bad input per rule ------------------------------------------------------------


@pytest.mark.parametrize("weight", [math.nan, math.inf, -math.inf])
def test_static_weights_must_be_finite(weight: float) -> None:
    expect_error(lambda: Static(weight=weight), "Static.weight", "finite")


def test_static_weights_are_magnitudes() -> None:
    expect_error(lambda: Static(weight=-0.1), "Static.weight", ">= 0")


@pytest.mark.parametrize("delay", [0.0, -1.0])
def test_delays_must_be_positive(delay: float) -> None:
    expect_error(lambda: Static(delay=delay), "Static.delay", "> 0")
    expect_error(lambda: STDP(delay=delay), "STDP.delay", "> 0")


@pytest.mark.parametrize("weight", [math.nan, math.inf])
def test_stdp_weights_must_be_finite(weight: float) -> None:
    expect_error(lambda: STDP(weight=weight), "STDP.weight", "finite")


@pytest.mark.parametrize(("weight", "w_min", "w_max"), [(2.0, 0.0, 1.0), (0.1, 0.2, 1.0)])
def test_stdp_weight_must_lie_within_its_bounds(weight: float, w_min: float, w_max: float) -> None:
    err = expect_error(lambda: STDP(weight=weight, w_min=w_min, w_max=w_max), "STDP.weight", "[w_min, w_max]")
    assert f"[{w_min}, {w_max}]" in err.allowed


def test_stdp_w_max_must_not_be_below_w_min() -> None:
    expect_error(lambda: STDP(weight=0.5, w_min=0.5, w_max=0.2), "STDP.w_max", ">= w_min")


@pytest.mark.parametrize("key", ["tau_plus", "tau_minus"])
def test_stdp_time_constants_must_be_positive(key: str) -> None:
    expect_error(lambda: STDP(**{key: -20.0}), f"STDP.{key}", "> 0")
    expect_error(lambda: STDP(**{key: 0.0}), f"STDP.{key}", "> 0")


@pytest.mark.parametrize("key", ["A_plus", "A_minus", "w_min"])
def test_stdp_amplitudes_and_bounds_must_be_non_negative(key: str) -> None:
    expect_error(lambda: STDP(**{key: -0.01}), f"STDP.{key}", ">= 0")


def test_unknown_weight_dependence_is_refused() -> None:
    expect_error(lambda: STDP(weight_dependence="gutig"), "STDP.weight_dependence", "'additive'", "'multiplicative'")


def test_unknown_timing_is_refused() -> None:
    expect_error(lambda: STDP(timing="lazy"), "STDP.timing", "'online'", "'deferred'")


def test_synapses_refuse_unknown_parameters() -> None:
    expect_error(lambda: Static(weigth=1.0), "Static.weigth", "weight", "delay")
    expect_error(lambda: STDP(tau_pre=10.0), "STDP.tau_pre", "tau_plus", "tau_minus")
