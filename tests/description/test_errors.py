"""Errors: one line each, naming the field and what is allowed; grouped refusals."""

from __future__ import annotations

from spikemem.errors import UnsupportedFeature, ValidationError, grouped


def test_validation_error_names_field_value_and_what_is_allowed():
    err = ValidationError("Population 'a'.size", 0, "an integer >= 1")
    assert str(err) == "Population 'a'.size = 0 is not allowed: an integer >= 1"
    assert (err.field, err.value, err.allowed) == ("Population 'a'.size", 0, "an integer >= 1")


def test_grouped_says_each_reason_once_with_what_it_applies_to():
    problems = [
        ("population 'a'", "no refractory period"),
        ("population 'b'", "no refractory period"),
        ("population 'a'", "no initial state"),
        ("population 'b'", "no initial state"),
        ("projection 'p'", "plastic"),
        ("the gate 'g'", "no such node"),
        ("the gate 'h'", "no such node"),
    ]
    assert grouped(problems) == [
        "populations 'a', 'b': no refractory period; no initial state",
        "projection 'p': plastic",
        "the gate 'g', the gate 'h': no such node",
    ]
    assert grouped([("population 'a'", "x"), ("projection 'p'", "x")]) == ["population 'a', projection 'p': x"]
    assert grouped([]) == []


def test_unsupported_feature_is_one_line():
    err = UnsupportedFeature(
        "nir", "network 'n'", "; ".join(grouped([("population 'a'", "x"), ("population 'b'", "x")]))
    )
    assert "\n" not in str(err) and str(err) == "target 'nir' does not support network 'n': populations 'a', 'b': x"
