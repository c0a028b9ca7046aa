"""The spikemem command: targets, info, run, export, and one-line errors."""

from __future__ import annotations

import json

import pytest

from spikemem.cli import main
from spikemem.io import load_network


def test_targets_prints_the_capability_matrix(capsys):
    assert main(["targets"]) == 0
    out = capsys.readouterr().out
    assert "brian2" in out and "STDP deferred" in out and "installed" in out


def test_run_ca3_schedule_writes_answers_results_and_plot(tmp_path, capsys):
    schedule = {
        "n_cues": 3,
        "n_bits": 4,
        "ops": [
            {"t": 0, "op": "learn", "cue": 2, "content": [0, 3]},
            {"t": 10, "op": "recall_cue", "cue": 2},
            {"t": 20, "op": "recall_content", "content": [3]},
        ],
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(schedule))
    answers, out, plot = tmp_path / "a.json", tmp_path / "r.h5", tmp_path / "r.png"
    code = main(
        [
            "run",
            "ca3",
            "--schedule",
            str(path),
            "--target",
            "brian2:numpy",
            "--answers",
            str(answers),
            "--out",
            str(out),
            "--plot",
            str(plot),
            "--no-progress",
        ]
    )
    assert code == 0
    got = json.loads(answers.read_text())
    assert [a["op"] for a in got] == ["learn", "recall_cue", "recall_content"]
    assert got[1]["cues"] == [2] and got[1]["content"] == [0, 3]
    assert got[2]["cues"] == [2] and got[2]["query"] == [3]
    assert plot.stat().st_size > 1000
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    assert "CueIn" in capsys.readouterr().out


def test_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "s.json"
    bad.write_text(json.dumps({"n_cues": 2, "n_bits": 2, "ops": [{"t": 0, "op": "recall_cue", "cue": 7}]}))
    assert main(["run", "ca3", "--schedule", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ops[0].cue = 7") and "\n" not in err
    with pytest.raises(Exception, match="ops"):
        main(["run", "ca3", "--schedule", str(bad), "--debug"])


def test_bad_output_folder_is_refused_before_running(tmp_path, capsys):
    assert main(["run", "ca3-functional", "--answers", str(tmp_path / "no" / "a.json")]) == 2
    assert "--answers" in capsys.readouterr().err


def test_export_hdf5_round_trips(tmp_path):
    out = tmp_path / "net.h5"
    assert main(["export", "ca3", "--n-cues", "3", "--n-bits", "4", "--target", "hdf5", "--out", str(out)]) == 0
    net = load_network(out)
    assert net.population("CueIn").size == 3 and net.population("ContOut").size == 4


def test_rram_option_degrades_and_is_validated(capsys):
    """All devices stuck OFF: nothing can be recalled; a bad device is refused before running."""
    assert main(["run", "ca3-functional", "--rram", "ideal:stuck_off=1", "--no-progress"]) == 1
    assert "0/5 recalls" in capsys.readouterr().out
    assert main(["run", "ca3-functional", "--rram", "ideal:g_min=5,g_max=1"]) == 2
    assert "RRAM.g_max" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["nir", "spinnaker"])
def test_a_refusal_naming_many_populations_says_each_reason_once(target, tmp_path, capsys):
    """The published circuit's ten cell populations all have SpiNNaker's update (refused by
    NIR) or, in spikemem's circuit, the continuous one (refused by SpiNNaker): each reason is
    said once, with every population it applies to, on one line."""
    pytest.importorskip({"nir": "nir", "spinnaker": "spynnaker"}[target])
    mode, reason = {"nir": ("fidelity", "integration 'spinnaker'"), "spinnaker": ("functional", "integration 'exact'")}[
        target
    ]
    assert main(["export", "ca3", "--mode", mode, "--target", target, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.count(reason) == 1
    populations = (
        ["CA3cueCueRecall", "CA3contCueRecall", "CA3contCond", "CA3contCondInt", "CA3cueContRecall"]
        + ["CA3contContRecall", "CA3MergeCue", "CA3MergeCont", "OUTcue", "OUTcont"]
        if mode == "fidelity"
        else ["CueIn", "ContOut", "ContIn", "CueOut", "LevelRelay"]
    )
    listed = err[err.index("populations ") : err.index(reason)]
    assert all(f"'{pop}'" in listed for pop in populations)
    assert len(err) < 1000
