"""Fidelity mode against the SpiNNaker recordings: every population, every millisecond."""

from __future__ import annotations

import json

import pytest
from _spikes import recorded_spikes

from spikemem.models.ca3 import EXP1_DURATION_MS, EXP2_DURATION_MS, encode, paper_schedule, run_ca3

RECORDED = [
    "INcue",
    "INcont",
    "CA3cueCueRecall",
    "CA3contCueRecall",
    "CA3contCond",
    "CA3contCondInt",
    "CA3cueContRecall",
    "CA3contContRecall",
    "CA3MergeCue",
    "CA3MergeCont",
    "OUTcue",
    "OUTcont",
]


def simulated(results, pop: str) -> set[tuple[int, int]]:
    st = results.spikes[pop]
    return {(int(round(t)), int(i)) for t, i in zip(st.times, st.indices, strict=True)}


@pytest.mark.parametrize(
    ("name", "csv_name", "duration", "n_spikes"),
    [
        ("exp1", "exp1_functional_spikes.csv", EXP1_DURATION_MS, 322),
        ("exp2", "exp2_pyramidal_spikes.csv", EXP2_DURATION_MS, 1828),
    ],
)
def test_every_recorded_spike_reproduced(reference_dir, name, csv_name, duration, n_spikes):
    table = recorded_spikes(reference_dir / csv_name)
    assert sum(len(v) for v in table.values()) == n_spikes
    schedule = paper_schedule(name)
    run = run_ca3(schedule, mode="fidelity", target="brian2:numpy", record="all")
    assert run.results.provenance["duration_ms"] >= max(t for v in table.values() for t, _ in v)
    mismatches = {pop: simulated(run.results, pop) ^ table[pop] for pop in RECORDED}
    assert {pop: sorted(diff)[:5] for pop, diff in mismatches.items() if diff} == {}
    assert sum(len(d) for d in mismatches.values()) == 0


def test_encoding_reproduces_the_recorded_inputs(reference_dir):
    """The schedule codec gives exactly the test-bench spikes of both experiments."""
    exp2 = json.loads((reference_dir / "exp2_pyramidal_input_spikes.json").read_text())
    inputs = encode(paper_schedule("exp2"), "fidelity")
    assert [sorted(x) for x in inputs["INcue"]] == [sorted(x) for x in exp2["cue"]]
    assert [sorted(x) for x in inputs["INcont"]] == [sorted(x) for x in exp2["cont"]]
    table = recorded_spikes(reference_dir / "exp1_functional_spikes.csv")
    inputs = encode(paper_schedule("exp1"), "fidelity")
    got_cue = {(int(t), i) for i, times in enumerate(inputs["INcue"]) for t in times}
    got_cont = {(int(t), i) for i, times in enumerate(inputs["INcont"]) for t in times}
    assert got_cue == table["INcue"] and got_cont == table["INcont"]


def test_fidelity_answers_match_the_paper():
    """Spec §4.1: the recorded recalls of exp. 1."""
    run = run_ca3(paper_schedule("exp1"), mode="fidelity", target="brian2:numpy")
    recalls = [(a["op"], a["cues"], a["content"]) for a in run.answers if a["op"] != "learn"]
    assert recalls == [
        ("recall_cue", [0], [0, 1, 8, 9]),
        ("recall_content", [3, 4], [6]),
        ("recall_content", [0, 3], [0, 4]),
        ("recall_cue", [3], [1, 3, 4, 8]),
        ("recall_content", [4], [6]),
    ]


@pytest.mark.standalone
def test_cpp_standalone_reproduces_the_recordings_too(reference_dir):
    """The same circuit through Brian2's C++ standalone device (a cold build takes about a minute)."""
    table = recorded_spikes(reference_dir / "exp2_pyramidal_spikes.csv")
    run = run_ca3(paper_schedule("exp2"), mode="fidelity", target="brian2:cpp_standalone", record="all")
    assert run.results.provenance["target"] == "brian2:cpp_standalone"
    assert sum(len(simulated(run.results, pop) ^ table[pop]) for pop in RECORDED) == 0
