"""Functional mode answers random streams at the documented minimum spacing 100% correctly, up to (200, 200).

Each stream mixes learns (half of them overwrite a stored cue), cue recalls and content
recalls of 1-3 bits with OR / AND / best matching; memories share bits (overlap 0.5).
Ops follow each other as fast as the circuit's ``min_gap`` allows (a best-match query
also waits for its extra threshold pulses). Answers are compared with the ideal memory
of spec/ca3.md §3.8 (``expected_answers``).
"""

from __future__ import annotations

import pytest

from spikemem.models.ca3 import expected_answers, random_schedule, respace, run_ca3
from spikemem.models.ca3 import functional as ca3_functional
from spikemem.models.ca3.functional import FUNCTIONAL, pulses

SIZES = [(5, 10), (20, 20), (50, 50), (100, 100), (200, 200)]
N_OPS = 80


def min_spaced_stream(n_cues: int, n_bits: int, seed: int):
    stream = random_schedule(
        n_cues,
        n_bits,
        N_OPS,
        seed=seed,
        overlap=0.5,
        query_bits=(1, 3),
        matches=("or", "and", "best"),
        overwrite=0.5,
    )
    gaps = FUNCTIONAL.min_gap
    return respace(stream, gaps, gaps, lambda op: ca3_functional.PULSE_MS * (pulses(op) - 1))


@pytest.mark.parametrize(("n_cues", "n_bits"), SIZES, ids=[f"{n}x{m}" for n, m in SIZES])
def test_random_stream_at_minimum_spacing_all_correct(n_cues, n_bits):
    schedule = min_spaced_stream(n_cues, n_bits, seed=n_cues)
    kinds = {op.op for op in schedule.ops} | {op.match for op in schedule.ops if op.op == "recall_content"}
    assert kinds >= {"learn", "recall_cue", "recall_content", "or", "and", "best"}
    stored: set[int] = set()
    overwrites = 0
    for op in schedule.ops:
        if op.op == "learn":
            overwrites += op.cue in stored
            stored.add(op.cue)
    assert overwrites >= 5
    # back to back: every gap is the minimum the mode documents
    for prev, cur in zip(schedule.ops, schedule.ops[1:]):
        extra = ca3_functional.PULSE_MS * (pulses(prev) - 1)
        assert cur.t - prev.t == FUNCTIONAL.min_gap[prev.op] + extra

    run = run_ca3(schedule, mode="functional", target="brian2:numpy")
    expected = expected_answers(schedule)
    wrong = [
        f"op {k} at {op.t:g} ms: {op.to_dict()} expected cues {want['cues']} content {want['content']}, "
        f"got cues {got['cues']} content {got['content']}"
        for k, (op, want, got) in enumerate(zip(schedule.ops, expected, run.answers))
        if set(got["cues"]) != set(want["cues"]) or set(got["content"]) != set(want["content"])
    ]
    assert not wrong, "\n".join(wrong)
    score = run.score()
    assert score["correct"] == score["ops"] == N_OPS
