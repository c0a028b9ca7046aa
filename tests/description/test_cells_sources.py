"""Cells (IF_curr_exp, IF_cond_exp, IF_curr_delta) and spike sources (SpikeTimes, Poisson): construction,
PyNN names and defaults, serialisation, and one bad-input test per validation rule."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from spikemem import IF_cond_exp, IF_curr_delta, IF_curr_exp, Poisson, SpikeTimes, ValidationError
from spikemem._node import node_from_dict

PYNN_CURR_DEFAULTS = {
    "cm": 1.0,
    "tau_m": 20.0,
    "tau_refrac": 0.1,
    "tau_syn_E": 5.0,
    "tau_syn_I": 5.0,
    "v_rest": -65.0,
    "v_reset": -65.0,
    "v_thresh": -50.0,
    "i_offset": 0.0,
}


def expect_error(call, field: str, *allowed: str) -> ValidationError:
    """``call()`` raises a ValidationError on ``field`` whose message names what is allowed."""
    with pytest.raises(ValidationError) as info:
        call()
    err = info.value
    assert err.field == field, str(err)
    message = str(err)
    assert message.startswith(field), message
    for words in allowed:
        assert words in err.allowed and words in message, message
    return err


# --- cells: constructs -----------------------------------------------------------------------


def test_if_curr_exp_has_the_pynn_defaults() -> None:
    cell = IF_curr_exp()
    for key, value in PYNN_CURR_DEFAULTS.items():
        assert getattr(cell, key) == value, key
    assert cell.integration == "exact"
    assert cell.initial_v == cell.v_rest == -65.0


def test_if_cond_exp_adds_reversal_potentials_with_pynn_defaults() -> None:
    cell = IF_cond_exp()
    assert (cell.e_rev_E, cell.e_rev_I) == (0.0, -70.0)
    for key, value in PYNN_CURR_DEFAULTS.items():
        assert getattr(cell, key) == value, key


def test_if_curr_delta_has_the_pynn_defaults_and_no_synaptic_time_constants() -> None:
    cell = IF_curr_delta()
    for key, value in PYNN_CURR_DEFAULTS.items():
        if key.startswith("tau_syn"):
            assert not hasattr(cell, key)
        else:
            assert getattr(cell, key) == value, key
    assert cell.integration == "exact" and cell.initial_v == -65.0
    assert IF_curr_delta(1.0, 10.0, 0.0, 0.0, 0.0, 5.0) == IF_curr_delta(
        tau_m=10.0, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=5.0
    )


def test_cells_take_parameters_by_pynn_name_and_position() -> None:
    by_name = IF_curr_exp(cm=0.27, tau_m=3.0, v_thresh=-57.0, v_rest=-60.0, v_reset=-60.0, integration="spinnaker")
    by_position = IF_curr_exp(0.27, 3.0, 0.1, 5.0, 5.0, -60.0, -60.0, -57.0, 0.0, None, "spinnaker")
    assert by_name == by_position
    assert by_name != by_name.replace(tau_m=3.5)
    assert IF_curr_exp(v_init=-70.0).initial_v == -70.0


def test_cells_store_floats_and_are_frozen() -> None:
    cell = IF_cond_exp(cm=1, tau_m=np.float32(10.0))
    assert type(cell.cm) is float and type(cell.tau_m) is float
    with pytest.raises(dataclasses.FrozenInstanceError):
        cell.tau_m = 5.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "cell",
    [
        IF_curr_exp(tau_m=7.5, v_init=-61.0),
        IF_cond_exp(e_rev_I=-80.0, integration="spinnaker"),
        IF_curr_delta(tau_m=9.5, v_rest=0.0, v_reset=0.0, v_thresh=5.3, tau_refrac=0.0),
    ],
)
def test_cells_round_trip_through_dicts(cell) -> None:
    data = cell.to_dict()
    assert data["type"] == type(cell).__name__
    again = node_from_dict(data)
    assert type(again) is type(cell) and again == cell


def test_a_conductance_cell_is_not_equal_to_a_current_cell() -> None:
    assert IF_cond_exp() != IF_curr_exp() and IF_curr_delta() != IF_curr_exp()
    assert IF_curr_exp() == IF_curr_exp() and hash(IF_curr_exp()) == hash(IF_curr_exp())


# --- cells: one bad input per rule -------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "key"),
    [(cls, key) for cls in (IF_curr_exp, IF_cond_exp) for key in ("tau_m", "tau_syn_E", "tau_syn_I", "cm")]
    + [(IF_curr_delta, "tau_m"), (IF_curr_delta, "cm")],
)
@pytest.mark.parametrize("value", [-1.0, 0.0])
def test_time_constants_and_capacitance_must_be_positive(cls, key: str, value: float) -> None:
    err = expect_error(lambda: cls(**{key: value}), f"{cls.__name__}.{key}", "> 0")
    assert err.value == value


@pytest.mark.parametrize("cls", [IF_curr_exp, IF_cond_exp, IF_curr_delta])
def test_negative_refractory_period_is_refused(cls) -> None:
    expect_error(lambda: cls(tau_refrac=-0.5), f"{cls.__name__}.tau_refrac", ">= 0")


@pytest.mark.parametrize("cls", [IF_curr_exp, IF_curr_delta])
@pytest.mark.parametrize("key", ["v_rest", "v_thresh", "i_offset", "v_init", "tau_m"])
@pytest.mark.parametrize("value", [math.nan, math.inf, "fast", None])
def test_cell_parameters_must_be_finite_numbers(cls, key: str, value) -> None:
    if key == "v_init" and value is None:
        return  # None means "v_rest"
    expect_error(lambda: cls(**{key: value}), f"{cls.__name__}.{key}", "finite")


@pytest.mark.parametrize("key", ["e_rev_E", "e_rev_I"])
def test_reversal_potentials_must_be_finite(key: str) -> None:
    expect_error(lambda: IF_cond_exp(**{key: math.nan}), f"IF_cond_exp.{key}", "finite")


@pytest.mark.parametrize("cls", [IF_curr_exp, IF_cond_exp, IF_curr_delta])
@pytest.mark.parametrize("v_reset", [-50.0, -40.0])
def test_v_reset_must_lie_below_v_thresh(cls, v_reset: float) -> None:
    err = expect_error(lambda: cls(v_reset=v_reset, v_thresh=-50.0), f"{cls.__name__}.v_reset", "below v_thresh")
    assert "-50.0" in err.allowed


@pytest.mark.parametrize("cls", [IF_curr_exp, IF_cond_exp])
def test_unknown_integration_scheme_is_refused(cls) -> None:
    expect_error(lambda: cls(integration="euler"), f"{cls.__name__}.integration", "'exact'", "'spinnaker'")


def test_the_delta_cell_integrates_exactly_only() -> None:
    err = expect_error(lambda: IF_curr_delta(integration="spinnaker"), "IF_curr_delta.integration", "'exact'")
    assert "'spinnaker'" not in err.allowed


@pytest.mark.parametrize("cls", [IF_curr_exp, IF_cond_exp, IF_curr_delta])
def test_unknown_parameter_names_are_refused_with_the_known_names(cls) -> None:
    err = expect_error(lambda: cls(tau_mem=10.0), f"{cls.__name__}.tau_mem", "tau_m", "tau_refrac", "v_thresh")
    assert err.value == 10.0


def test_reversal_potentials_are_unknown_to_the_current_based_cell() -> None:
    expect_error(lambda: IF_curr_exp(e_rev_E=0.0), "IF_curr_exp.e_rev_E", "tau_m")
    expect_error(lambda: IF_curr_delta(tau_syn_E=5.0), "IF_curr_delta.tau_syn_E", "tau_m", "v_thresh")


def test_a_parameter_given_twice_is_refused() -> None:
    expect_error(lambda: IF_curr_exp(1.0, cm=2.0), "IF_curr_exp.cm", "once")


def test_too_many_positional_values_are_refused() -> None:
    expect_error(lambda: IF_curr_exp(*range(12)), "IF_curr_exp", "at most 11")


# --- SpikeTimes -----------------------------------------------------------------------------


def test_spike_times_are_sorted_per_neuron_and_counted() -> None:
    src = SpikeTimes([[3.0, 1.0, 2.0], [], np.array([0.5])])
    assert src.spike_times == ((1.0, 2.0, 3.0), (), (0.5,))
    assert src.size == 3
    assert src == SpikeTimes(((1, 2, 3), (), (0.5,)))


def test_spike_times_within_the_run_are_kept() -> None:
    trains = SpikeTimes([[1.0, 5.0, 10.0], [9.99]]).times(2, duration_ms=10.0, seed=0)
    np.testing.assert_array_equal(trains[0], [1.0, 5.0])
    np.testing.assert_array_equal(trains[1], [9.99])


def test_spike_times_round_trip_through_dicts() -> None:
    src = SpikeTimes([[0.1, 0.2 + 0.1], [1 / 3]])
    assert node_from_dict(src.to_dict()) == src


@pytest.mark.parametrize(
    ("times", "field", "allowed"),
    [
        ([[1.0, -2.0]], "SpikeTimes.spike_times[0]", ">= 0"),
        ([[1.0], [math.nan]], "SpikeTimes.spike_times[1]", "finite"),
        ([[math.inf]], "SpikeTimes.spike_times[0]", "finite"),
        ([["soon"]], "SpikeTimes.spike_times[0]", "times in ms"),
        ([], "SpikeTimes.spike_times", "at least one neuron"),
        (np.array([1.0, 2.0]), "SpikeTimes.spike_times", "one sequence of times per neuron"),
    ],
)
def test_bad_spike_times_are_refused(times, field: str, allowed: str) -> None:
    expect_error(lambda: SpikeTimes(times), field, allowed)


def test_spike_times_refuse_unknown_parameters() -> None:
    expect_error(lambda: SpikeTimes(times=[[1.0]]), "SpikeTimes.times", "spike_times")


# --- Poisson ----------------------------------------------------------------------------------


def test_poisson_rate_window_and_independence() -> None:
    """Counts per neuron have the Poisson mean rate * window; all times in [start, stop)."""
    src = Poisson(rate_hz=40.0, start_ms=100.0, stop_ms=600.0)
    trains = src.times(400, duration_ms=1000.0, seed=1)
    counts = np.array([len(t) for t in trains])
    expected = 40.0 * 0.5
    # mean of 400 Poisson(20) counts: standard error 0.22; variance equals the mean
    assert abs(counts.mean() - expected) < 1.0
    assert 0.7 * expected < counts.var() < 1.3 * expected
    every = np.concatenate(trains)
    assert every.min() >= 100.0 and every.max() < 600.0
    assert all(np.all(np.diff(t) >= 0) for t in trains)
    assert len({tuple(t) for t in trains[:20]}) == 20  # neurons are independent


def test_poisson_window_is_cut_at_the_end_of_the_run() -> None:
    trains = Poisson(rate_hz=100.0, start_ms=50.0).times(50, duration_ms=80.0, seed=2)
    every = np.concatenate(trains)
    assert len(every) > 50 and every.min() >= 50.0 and every.max() < 80.0


def test_poisson_seed_fixes_the_trains_and_none_follows_the_run_seed() -> None:
    def draw(src, seed):
        return [tuple(t) for t in src.times(10, 500.0, seed)]

    own = Poisson(rate_hz=20.0, seed=7)
    assert draw(own, 1) == draw(own, 2)
    free = Poisson(rate_hz=20.0)
    assert draw(free, 1) == draw(free, 1)
    assert draw(free, 1) != draw(free, 2)


def test_poisson_at_zero_rate_is_silent() -> None:
    assert all(len(t) == 0 for t in Poisson(rate_hz=0.0).times(5, 1000.0, 0))


def test_poisson_round_trips_through_dicts() -> None:
    src = Poisson(rate_hz=12.5, start_ms=3.0, stop_ms=None, seed=11)
    assert node_from_dict(src.to_dict()) == src


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"rate_hz": -1.0}, "Poisson.rate_hz", ">= 0"),
        ({"rate_hz": math.inf}, "Poisson.rate_hz", "finite"),
        ({"start_ms": -5.0}, "Poisson.start_ms", ">= 0"),
        ({"start_ms": 10.0, "stop_ms": 5.0}, "Poisson.stop_ms", ">= start_ms"),
        ({"seed": -1}, "Poisson.seed", "integer >= 0"),
        ({"seed": 1.5}, "Poisson.seed", "integer >= 0"),
        ({"rate": 10.0}, "Poisson.rate", "rate_hz"),
    ],
)
def test_bad_poisson_parameters_are_refused(kwargs: dict, field: str, allowed: str) -> None:
    expect_error(lambda: Poisson(**kwargs), field, allowed)
