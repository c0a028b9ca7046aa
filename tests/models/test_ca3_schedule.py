"""Schedules: the JSON contract, and one test per malformed-schedule rule."""

from __future__ import annotations

import json

import pytest

from spikemem.errors import ValidationError
from spikemem.models.ca3 import circuit, expected_answers, load_schedule, parse_schedule, random_schedule, validate


def sched(*ops, n=5, m=10):
    return {"n_cues": n, "n_bits": m, "ops": list(ops)}


LEARN = {"t": 0, "op": "learn", "cue": 0, "content": [0, 1]}


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (sched({"t": 0, "op": "store", "cue": 0}), "ops[0].op", "one of learn, recall_cue, recall_content"),
        (sched({"t": 0, "op": "recall_cue", "cue": 5}), "ops[0].cue", "0..4"),
        (sched({"t": 0, "op": "learn", "cue": 0, "content": [3, 10]}), "ops[0].content", "0..9"),
        (sched({"t": -1, "op": "recall_cue", "cue": 0}), "ops[0].t", "in 0..1e+09"),
        (sched({"t": 1e300, "op": "recall_cue", "cue": 0}), "ops[0].t", "in 0..1e+09"),
        (sched(LEARN, {"t": 10, "op": "recall_cue"}), "ops[1].cue", "required"),
        (sched(LEARN, {"t": 10, "op": "recall_content", "content": []}), "ops[1].content", "at least one bit"),
        (sched(LEARN, {"t": 10, "op": "recall_content", "content": [1], "match": "xor"}), "ops[1].match", "and"),
        (sched({"t": 0, "op": "learn", "cue": 0, "content": [1], "colour": 1}), "ops[0].colour", "fields"),
        ({"n_cues": 0, "n_bits": 3, "ops": []}, "schedule.n_cues", "in 1..1000000"),
        ({"n_cues": 3, "n_bits": 10**7, "ops": []}, "schedule.n_bits", "in 1..1000000"),
        ({"n_cues": 2, "n_bits": 3}, "schedule.ops", "list"),
    ],
)
def test_malformed_schedules_name_the_op_and_the_problem(raw, field, words):
    with pytest.raises(ValidationError) as err:
        parse_schedule(raw)
    assert err.value.field == field
    assert words in str(err.value)


@pytest.mark.parametrize("mode", ["fidelity", "functional"])
def test_ops_closer_than_the_minimum_spacing_are_rejected(mode):
    gap = circuit(mode).min_gap["learn"]
    too_close = parse_schedule(sched(LEARN, {"t": gap - 1, "op": "recall_cue", "cue": 0}))
    with pytest.raises(ValidationError) as err:
        validate(too_close, mode)
    assert err.value.field == "ops[1].t"
    assert f"at least {gap:g} ms after ops[0]" in str(err.value)
    validate(parse_schedule(sched(LEARN, {"t": gap, "op": "recall_cue", "cue": 0})), mode)


def test_ops_out_of_order_are_rejected():
    s = parse_schedule(sched({"t": 20, "op": "recall_cue", "cue": 0}, {"t": 5, "op": "recall_cue", "cue": 1}))
    with pytest.raises(ValidationError, match=r"ops\[1\]\.t"):
        validate(s, "functional")


def test_fidelity_mode_needs_whole_ms_and_or_queries():
    with pytest.raises(ValidationError, match="whole number of ms"):
        validate(parse_schedule(sched({"t": 0.5, "op": "recall_cue", "cue": 0})), "fidelity")
    with pytest.raises(ValidationError, match="OR queries only"):
        validate(parse_schedule(sched({"t": 0, "op": "recall_content", "content": [1], "match": "and"})), "fidelity")


def test_best_match_needs_time_for_its_scan():
    best = {"t": 0, "op": "recall_content", "content": [1, 2, 3], "match": "best"}
    s = parse_schedule(
        sched(best, {"t": circuit("functional").min_gap["recall_content"], "op": "recall_cue", "cue": 0})
    )
    with pytest.raises(ValidationError, match=r"ops\[1\]\.t"):
        validate(s, "functional")


def test_schedule_file_round_trip_and_bad_json(tmp_path):
    s = random_schedule(4, 6, 30, seed=3, matches=("or", "and", "best"))
    path = tmp_path / "s.json"
    s.save(path)
    assert load_schedule(path) == s
    bad = tmp_path / "bad.json"
    bad.write_text('{"n_cues": 2,')
    with pytest.raises(ValidationError, match="valid JSON"):
        load_schedule(bad)
    with pytest.raises(ValidationError, match="existing JSON file"):
        load_schedule(tmp_path / "missing.json")
    assert json.loads(path.read_text())["n_cues"] == 4


def test_ideal_memory_semantics():
    """Spec §3.8 (OR), extended with AND and best match."""
    s = parse_schedule(
        sched(
            {"t": 0, "op": "learn", "cue": 0, "content": [0, 1, 8, 9]},
            {"t": 10, "op": "learn", "cue": 3, "content": [4, 5, 6]},
            {"t": 20, "op": "recall_content", "content": [0, 4]},
            {"t": 30, "op": "recall_content", "content": [0, 1], "match": "and"},
            {"t": 40, "op": "recall_content", "content": [4, 5, 0], "match": "best"},
            {"t": 50, "op": "learn", "cue": 3, "content": [1]},
            {"t": 60, "op": "recall_cue", "cue": 3},
        )
    )
    exp = expected_answers(s)
    assert exp[2]["cues"] == [0, 3]
    assert exp[3]["cues"] == [0]
    assert exp[4]["cues"] == [3]
    assert exp[6]["content"] == [1]
