"""Functional mode: the paper's tests, the richer queries, forgetting, and read-only recalls."""

from __future__ import annotations

import numpy as np
import pytest

from spikemem.models.ca3 import paper_schedule, parse_schedule, run_ca3
from spikemem.models.ca3.functional import UNIT


def test_exp1_answers_as_in_the_paper():
    """Spec §4.1 (cues) plus the full content of the matches, which the published circuit cannot return."""
    run = run_ca3(paper_schedule("exp1"), mode="functional", target="brian2:numpy")
    got = [(a["cues"], a["content"]) for a in run.answers]
    assert got == [
        ([0], [0, 1, 8, 9]),
        ([4], [1, 5, 6]),
        ([3], [4, 5, 6]),
        ([0], [0, 1, 8, 9]),
        ([3, 4], [1, 4, 5, 6]),
        ([0, 3], [0, 1, 4, 5, 6, 8, 9]),
        ([3], [1, 3, 4, 8]),
        ([3], [1, 3, 4, 8]),
        ([4], [1, 5, 6]),
    ]


def test_exp2_all_45_recalls_correct():
    """Spec §4.2: complement overwrites, queries returning 0-5 cues."""
    run = run_ca3(paper_schedule("exp2"), mode="functional", target="brian2:numpy")
    score = run.score()
    assert score["recalls"] == 45
    assert score["correct"] == score["ops"] == 60


@pytest.fixture(scope="module")
def query_run():
    ops = [
        {"t": 0, "op": "learn", "cue": 0, "content": [0, 1, 2]},
        {"t": 5, "op": "learn", "cue": 1, "content": [0, 1]},
        {"t": 10, "op": "learn", "cue": 2, "content": [0, 5]},
        {"t": 15, "op": "recall_content", "content": [0, 1, 2], "match": "or"},
        {"t": 20, "op": "recall_content", "content": [0, 1], "match": "and"},
        {"t": 25, "op": "recall_content", "content": [1, 2, 5], "match": "best"},
        {"t": 33, "op": "recall_content", "content": [3, 4], "match": "best"},
        {"t": 40, "op": "recall_content", "content": [2, 5], "match": "and"},
        {"t": 45, "op": "recall_cue", "cue": 0},
    ]
    schedule = parse_schedule({"n_cues": 3, "n_bits": 6, "ops": ops})
    return run_ca3(schedule, mode="functional", target="brian2:numpy", record_weights=True)


def test_or_and_best_queries(query_run):
    answers = query_run.answers
    assert answers[3]["cues"] == [0, 1, 2]  # OR: any of {0, 1, 2}
    assert answers[4]["cues"] == [0, 1]  # AND: memories holding both 0 and 1
    assert answers[5]["cues"] == [0]  # best: cue 0 shares 2 of {1, 2, 5}, the others 1
    assert answers[5]["content"] == [0, 1, 2]  # ... with its full content
    assert answers[6]["cues"] == [] and answers[6]["content"] == []  # nothing overlaps {3, 4}
    assert answers[7]["cues"] == []  # no memory holds both 2 and 5


def test_reads_never_change_memory(query_run):
    """Gated learning: weights after the last learn stay fixed through every read."""
    res = query_run.results
    for proj in ("W_fwd", "W_bwd"):
        trace = res.weights[proj]
        after_learns = trace.values[trace.times >= 14.0]
        assert np.all(after_learns == after_learns[0])
        assert set(np.unique(after_learns)) <= {0.0, float(after_learns.max())}


def test_learns_store_exactly_the_written_memories(query_run):
    """W_fwd[i, :] is cue i's content in units, W_bwd its transpose (spec §8.3 set/reset writes)."""
    memories = {0: [0, 1, 2], 1: [0, 1], 2: [0, 5]}
    stored = np.zeros((3, 6))
    for cue, bits in memories.items():
        stored[cue, bits] = UNIT
    res = query_run.results
    fwd = res.weights["W_fwd"].values[-1].reshape(3, 6)  # all-to-all: pre-major order
    bwd = res.weights["W_bwd"].values[-1].reshape(6, 3)
    np.testing.assert_allclose(fwd, stored)
    np.testing.assert_allclose(bwd, stored.T)


def test_overwrite_forgets_in_both_directions():
    ops = [
        {"t": 0, "op": "learn", "cue": 1, "content": [0, 1, 2]},
        {"t": 5, "op": "learn", "cue": 1, "content": [3, 4]},
        {"t": 10, "op": "recall_cue", "cue": 1},
        {"t": 14, "op": "recall_content", "content": [0]},
        {"t": 19, "op": "recall_content", "content": [4]},
    ]
    run = run_ca3(parse_schedule({"n_cues": 2, "n_bits": 5, "ops": ops}), target="brian2:numpy")
    assert run.answers[2]["content"] == [3, 4]
    assert run.answers[3]["cues"] == []
    assert run.answers[4]["cues"] == [1]
