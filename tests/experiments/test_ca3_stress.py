"""``spikemem stress ca3``: scoring against an independent replay, resume, HDF5 output, option checks."""

from __future__ import annotations

import argparse
import json

import h5py
import numpy as np
import pytest

from spikemem.errors import UnsupportedFeature, ValidationError
from spikemem.experiment import all_experiments
from spikemem.experiments import _resume, _sweep
from spikemem.experiments import ca3_stress as stress
from spikemem.models.ca3 import Op, Schedule, circuit, expected_answers, respace


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    stress.add_arguments(parser)
    return parser.parse_args([*argv, "--no-progress"])


def test_registered_as_stress_command():
    assert "ca3" in all_experiments("stress")


def test_respace_keeps_ops_and_honours_minimum():
    ops = (
        Op(3.0, "learn", 0, (1, 2)),
        Op(9.0, "recall_content", None, (1, 2, 3), "best"),
        Op(20.0, "recall_cue", 0),
        Op(50.0, "learn", 1, (0,)),
    )
    out = respace(Schedule(2, 4, ops), {"learn": 10.0, "recall_cue": 6.0, "recall_content": 6.0})
    assert [op.t for op in out.ops] == [0.0, 10.0, 16.0, 22.0]
    assert [(op.op, op.cue, op.content, op.match) for op in out.ops] == [
        (op.op, op.cue, op.content, op.match) for op in ops
    ]
    # a 3-level best-match scan needs its base gap (5 ms) plus two 1.5 ms pulses
    gaps = circuit("functional").min_gap
    scan = respace(Schedule(2, 4, ops), gaps, gaps, circuit("functional").extra_ms)
    assert [op.t for op in scan.ops] == [0.0, 5.0, 13.0, 17.0]


def replay(schedule: Schedule, answers: list[dict], mode: str) -> dict[str, int]:
    """The metrics recomputed from scratch: expected_answers, plus a brute-force overwrite scan."""
    want = expected_answers(schedule)
    c = dict.fromkeys(stress.COUNTS, 0)
    for k, (op, got, exp) in enumerate(zip(schedule.ops, answers, want)):
        exp_bits = set(op.content) if (mode == "fidelity" and op.op == "recall_content") else set(exp["content"])
        ok = set(got["cues"]) == set(exp["cues"]) and set(got["content"]) == exp_bits
        c["ops"] += 1
        c["correct"] += ok
        if op.op != "learn":
            c["recalls"] += 1
            c["recalls_correct"] += ok
            kind = "cue_recalls" if op.op == "recall_cue" else "content_recalls"
            c[kind] += 1
            c[kind + "_correct"] += ok
        c["missed_cues"] += len(set(exp["cues"]) - set(got["cues"]))
        c["false_cues"] += len(set(got["cues"]) - set(exp["cues"]))
        c["missed_bits"] += len(exp_bits - set(got["content"]))
        c["false_bits"] += len(set(got["content"]) - exp_bits)
        earlier = schedule.ops[:k]
        if op.op == "learn":
            c["overwrites"] += any(p.op == "learn" and p.cue == op.cue for p in earlier)
            continue
        # each cue's last two learns before this op: bits the last one dropped must stay gone
        for cue in range(schedule.n_cues):
            learns = [p for p in earlier if p.op == "learn" and p.cue == cue]
            if len(learns) < 2:
                continue
            gone = set(learns[-2].content) - set(learns[-1].content)
            if op.op == "recall_cue" and op.cue == cue and gone:
                c["forget_probes"] += 1
                c["forget_ok"] += not gone & set(got["content"])
            elif op.op == "recall_content" and gone & set(op.content):
                c["forget_probes"] += 1
                c["forget_ok"] += not (cue in got["cues"] and cue not in exp["cues"])
    return c


@pytest.mark.parametrize(
    ("mode", "spacing"), [("fidelity", "10"), ("functional", "min")], ids=["fidelity-10ms", "functional-min"]
)
def test_point_metrics_match_an_independent_replay(mode, spacing):
    config = stress.StressConfig(
        sizes=((5, 10),), spacings=(spacing,), modes=(mode,), ops=30, overlap=0.5, target="brian2:numpy"
    )
    point = config.points()[0]
    res = stress.run_point(point, config, keep_answers=True)
    schedule = res["schedule"]
    assert len(schedule.ops) == 30
    assert res["counts"] == replay(schedule, res["answers"], mode)
    assert res["counts"]["overwrites"] > 0 and res["counts"]["forget_probes"] > 0
    wrong = [k for k, (a, e) in enumerate(zip(res["answers"], expected_answers(schedule))) if a["cues"] != e["cues"]]
    assert set(wrong) <= set(res["failed_ops"])
    if mode == "fidelity":
        # the published circuit forgets marginally at 10 ms learns (spec/ca3.md §7.3): errors show up and are split
        assert res["counts"]["false_cues"] + res["counts"]["missed_cues"] > 0
        assert res["counts"]["forget_ok"] < res["counts"]["forget_probes"]
    else:
        assert res["counts"]["correct"] == 30 and res["failed_ops"] == []
    last = schedule.ops[-1]
    assert res["duration_ms"] == last.t + circuit(mode).tail_ms + circuit(mode).extra_ms(last)


@pytest.mark.parametrize("mode", ["fidelity", "functional"])
def test_a_batched_launch_scores_each_stream_as_if_alone(mode):
    """Four streams (two spacings x two seeds) stacked into one launch: every point's answers,
    counts and failed ops equal its own run's; functional mode answers the ideal memory."""
    config = stress.StressConfig(
        sizes=((5, 10),), spacings=("min", "10"), modes=(mode,), ops=24, seeds=2, target="brian2:numpy"
    )
    points = tuple(config.points())
    batched = stress.run_launch(points, config, keep_answers=True)
    assert [r["key"] for r in batched] == [p.key for p in points]
    for point, got in zip(points, batched):
        alone = stress.run_point(point, config, keep_answers=True)
        assert got["answers"] == alone["answers"], point.key
        assert got["counts"] == alone["counts"] and got["failed_ops"] == alone["failed_ops"]
        assert got["duration_ms"] == alone["duration_ms"] and got["launch_points"] == 4
        assert got["counts"] == replay(got["schedule"], got["answers"], mode)
        if mode == "functional":
            assert got["failed_ops"] == []
    assert len({r["duration_ms"] for r in batched}) > 1  # streams of different lengths shared the launch


def test_launches_group_one_network_shape_each():
    config = stress.StressConfig(
        sizes=((4, 6), (5, 10)), spacings=("min", "14"), modes=("fidelity", "functional"), seeds=3
    )
    points = config.points()
    assert _sweep.launches(points, 1) == [(p,) for p in points]
    every = _sweep.launches(points, 0)
    assert len(every) == 4 and sorted(len(g) for g in every) == [6, 6, 6, 6]
    for group in every:
        assert len({(p.mode, p.n_cues, p.n_bits) for p in group}) == 1
    fours = _sweep.launches(points, 4)
    assert sorted(len(g) for g in fours) == [2, 2, 2, 2, 4, 4, 4, 4]
    assert sorted(p.key for g in fours for p in g) == sorted(p.key for p in points)


def test_batch_option():
    assert stress.parse_batch("auto", "cuda") == 0 and stress.parse_batch("auto", "brian2:numpy") == 1
    assert stress.parse_batch("all", "brian2") == 0 and stress.parse_batch("8", "brian2") == 8


def test_batched_sweep_writes_launch_sizes(tmp_path):
    out = tmp_path / "batched.h5"
    argv = ("--sizes", "4x6", "--modes", "functional", "--spacings", "min", "--seeds", "3", "--ops", "12")
    report = stress.run(parse(*argv, "--target", "brian2:numpy", "--batch", "2", "--out", str(out)))
    data = stress.load_stress(out)
    assert list(data["points"]["launch_points"]) == [2, 2, 1]
    assert list(data["points"]["correct"]) == [12, 12, 12]
    assert data["config"]["batch"] == 2 and report.metrics["points per launch"] == "up to 2"


def test_the_progress_bar_says_when_many_points_run_as_one_launch(tmp_path, capsys):
    """A stacked launch finishes all its points at once: meanwhile the bar names what runs."""
    config = stress.StressConfig(
        sizes=((4, 6),), spacings=("min",), modes=("functional",), ops=8, seeds=2, target="brian2:numpy", batch=0
    )
    results, _ = _sweep.sweep(config, tmp_path / "resume.jsonl", stress.run_launch, progress=True)
    assert len(results) == 2 and "2 x functional 4x6 in one launch" in capsys.readouterr().err


@pytest.fixture(scope="module")
def resumed_sweep(tmp_path_factory):
    """A two-point sweep killed after its first point: the first is pre-written to the resume file."""
    folder = tmp_path_factory.mktemp("stress")
    out, png = folder / "stress.h5", folder / "stress.png"
    argv = ("--sizes", "4x6", "--modes", "fidelity", "--spacings", "min,14", "--ops", "16", "--target", "brian2:numpy")
    args = parse(*argv, "--out", str(out), "--plot", str(png), "--resume")
    config = stress.config_from_args(args)
    first, second = config.points()
    done = stress.run_point(first, config)
    done["wall_s"] = 12345.0  # a marker: the sweep must reuse this entry, not rerun it
    resume = _sweep.resume_path(config, str(out))
    with open(resume, "w") as fh:
        fh.write(json.dumps(_resume.header(config)) + "\n")
        fh.write(json.dumps({"config": config.digest(), "result": done}) + "\n")
        fh.write('{"config": "' + config.digest() + '", "result": {"key": "fidel')  # torn by the kill
    report = stress.run(args)
    return report, config, out, png, resume, (first, second)


def test_resume_skips_finished_points(resumed_sweep):
    report, config, out, _, resume, (first, second) = resumed_sweep
    data = stress.load_stress(out)
    keys = list(data["points"]["key"])
    assert keys == [first.key, second.key]
    walls = data["points"]["wall_s"]
    assert walls[0] == 12345.0  # reused
    assert 0 < walls[1] < 1000  # simulated now
    assert report.metrics["points"].startswith("2 (1 from")
    assert not resume.exists()  # removed once the HDF5 file is written


def test_hdf5_holds_config_metrics_and_provenance(resumed_sweep):
    report, config, out, png, _, _ = resumed_sweep
    with h5py.File(out, "r") as fh:
        assert fh.attrs["format"] == stress.FORMAT
    data = stress.load_stress(out)
    assert data["config"]["digest"] == config.digest()
    assert data["config"]["sizes"] == [[4, 6]] and data["config"]["spacings"] == ["min", "14"]
    pts = data["points"]
    assert list(pts["n_cues"]) == [4, 4] and list(pts["n_bits"]) == [6, 6]
    assert list(pts["ops"]) == [16, 16]
    assert np.all(pts["correct"] <= pts["ops"]) and np.all(pts["forget_ok"] <= pts["forget_probes"])
    for k, failed in enumerate(data["failed_ops"]):
        assert len(failed) == pts["ops"][k] - pts["correct"][k]
    assert data["table"]["columns"] == stress.COLUMNS
    assert data["table"]["rows"] == [[str(v) for v in row] for row in report.rows]
    summary = data["summary"]
    assert list(summary["gap_learn_ms"]) == [7.0, 14.0]  # fidelity 'min' is the documented 7/6 ms
    assert summary["recall_accuracy"][1] == pts["recalls_correct"][1] / pts["recalls"][1]
    assert "brian2" in data["provenance"]["versions"]
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (("--sizes", "0x5"), "--sizes"),
        (("--sizes", "5by10"), "--sizes"),
        (("--modes", "fidelity,turbo"), "--modes"),
        (("--modes", "fidelity", "--spacings", "6"), "--spacings"),  # below the published 7/6 ms
        (("--modes", "fidelity", "--spacings", "7/5"), "--spacings"),
        (("--modes", "functional", "--spacings", "4"), "--spacings"),  # functional learns need 5 ms
        (("--modes", "fidelity", "--spacings", "10.5"), "--spacings"),  # fidelity runs on a 1 ms grid
        (("--spacings", "fast"), "--spacings"),
        (("--ops", "0"), "--ops"),
        (("--seeds", "0"), "--seeds"),
        (("--overlap", "1.5"), "--overlap"),
        (("--query-bits", "0-2"), "--query-bits"),
        (("--query-bits", "3-1"), "--query-bits"),
        (("--matches", "or,xor"), "--matches"),
        (("--target", "no-such-simulator"), "--target"),
        (("--workers", "0"), "--workers"),
        (("--batch", "0"), "--batch"),
        (("--batch", "some"), "--batch"),
        (("--out", "/no/such/folder/s.h5"), "--out"),
        (("--plot", "stress.txt"), "--plot"),
    ],
)
def test_bad_options_rejected_before_running(argv, option):
    with pytest.raises(ValidationError) as err:
        stress.run(parse(*argv))
    assert err.value.field == option


@pytest.mark.parametrize(
    ("target", "module", "refusal"),
    [("pynn:brian2", "pyNN", "integration='spinnaker'"), ("nir", "nir", "run")],
    ids=["pynn-refuses-the-circuit", "nir-only-exports"],
)
def test_a_target_that_cannot_run_the_memory_is_refused_before_any_file_is_touched(tmp_path, target, module, refusal):
    """pyNN.brian2 integrates in continuous time, NIR does not simulate at all: the target's
    checks refuse the published circuit before the sweep opens (and would truncate) the
    resume file of an earlier run, and before anything runs."""
    pytest.importorskip(module)
    out = tmp_path / "stress.h5"
    args = parse("--sizes", "4x6", "--modes", "fidelity", "--ops", "8", "--target", target, "--out", str(out))
    resume = _sweep.resume_path(stress.config_from_args(args), str(out))
    resume.write_text("points of an earlier run\n")
    with pytest.raises(UnsupportedFeature) as err:
        stress.run(args)
    assert err.value.target == target
    assert refusal in err.value.feature
    assert resume.read_text() == "points of an earlier run\n" and not out.exists()


def test_scheduler_needs_dask():
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        with pytest.raises(ValidationError) as err:
            stress.run(parse("--scheduler", "tcp://127.0.0.1:8786"))
        assert err.value.field == "--scheduler" and "dask" in err.value.allowed
    else:
        pytest.skip("dask.distributed is installed: --scheduler is accepted")
