"""Decoding a CA3 run in one pass (issue 24, kind 2): the window search agrees with the
definition (every spike in [start, stop)), long schedules show progress, and the answers
of a long synthetic run are the ideal memory's (benchmarks/decode.py times it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from spikemem.models.ca3 import circuit, expected
from spikemem.models.ca3.circuit import LONG_SCHEDULE, spiked
from spikemem.results import Results, SpikeTrains

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "decode.py"


def test_window_search_equals_scanning_every_spike():
    rng = np.random.default_rng(3)
    times = np.round(rng.uniform(0, 100, 4000) * 2) / 2  # many ties on the 0.5 ms grid
    st = SpikeTrains(50, times, rng.integers(0, 50, 4000))
    results = Results(spikes={"P": st})
    for start, stop in [(0, 100), (10, 10.5), (10.5, 10.5), (33.25, 80), (99.5, 200), (-5, 0), (50, 40)]:
        mask = (st.times >= start - 1e-9) & (st.times < stop - 1e-9)
        assert spiked(results, "P", start, stop) == sorted(set(st.indices[mask].tolist()))


def _benchmark():
    spec = importlib.util.spec_from_file_location("decode_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_long_run_decodes_to_the_ideal_memory_with_progress(capsys):
    stream, results = _benchmark().synthetic_results(LONG_SCHEDULE)
    answers = circuit("functional").decode(results, stream, progress=True)
    assert "decoding" in capsys.readouterr().err
    want = expected(stream, circuit("functional"))
    assert [(a["cues"], a["content"]) for a in answers] == [(w["cues"], w["content"]) for w in want]
