"""``spikemem stress rram`` and ``spikemem stress ca3 --rram``: options, structure, real effects.

The tiny sweeps here run on ``brian2:numpy`` at sizes of a few cues; the full default
sweep is marked ``slow``.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest

from spikemem.cli import main
from spikemem.errors import ValidationError
from spikemem.experiment import all_experiments
from spikemem.experiments import _rram_sweep as rs
from spikemem.experiments import _sweep, ca3_stress
from spikemem.experiments import ca3_rram_stress as cli
from spikemem.hardware.devices.rram import RRAM
from spikemem.models.ca3 import circuit, random_schedule

pytest.importorskip("brian2")

TARGET = "brian2:numpy"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args([*argv, "--no-progress"])


def test_registered_as_stress_command() -> None:
    assert {"ca3", "rram"} <= set(all_experiments("stress"))


# --- options: parsed and refused before anything runs ---------------------------------------


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (("--prog-noise", "0.1,-0.1"), "--prog-noise (RRAM.prog_noise)"),
        (("--read-noise", "x"), "--read-noise"),
        (("--levels", "4,1"), "--levels (RRAM.levels)"),
        (("--levels", "2.5"), "--levels"),
        (("--stuck-off", "0.5,1.5"), "--stuck-off (RRAM.stuck_off)"),
        (("--stuck-on", "-0.01"), "--stuck-on (RRAM.stuck_on)"),
        (("--t-inf", "1h,1 fortnight"), "--t-inf"),
        (("--params", "prog_noise,g_max"), "--params"),
        (("--rram", "nope"), "RRAM.preset"),
        (("--rram", "pcm:g_min=30"), "RRAM.g_max"),
        (("--rram", "ideal:colour=red"), "RRAM.colour"),
        (("--drift-model", "none"), "--drift-model"),
        (("--modes", "fast"), "--modes"),
        (("--pause", "0"), "--pause"),
        (("--seed", "-1"), "--seed"),
        (("--threshold", "1.5"), "--threshold"),
    ],
)
def test_bad_options_name_the_parameter(argv: tuple[str, ...], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        cli.config_from_args(parse(*argv))
    assert err.value.field == field


def test_cli_refuses_a_bad_device_before_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stress", "rram", "--stuck-on", "0.6", "--rram", "ideal:stuck_off=0.5", "--no-progress"]) == 2
    assert "RRAM.stuck_on" in capsys.readouterr().err  # stuck_on + stuck_off > 1
    assert main(["stress", "ca3", "--rram", "hfox:levels=1", "--no-progress"]) == 2
    assert "RRAM.levels = 1 is not allowed" in capsys.readouterr().err
    assert main(["stress", "ca3", "--rram", "hfox:noise=1", "--no-progress"]) == 2
    assert "RRAM.noise" in capsys.readouterr().err


def test_values_parse_with_units_and_sort_mildest_first() -> None:
    assert cli.parse_seconds("--t-inf", "1h") == 3600.0
    assert cli.parse_seconds("--t-inf", "10min") == 600.0
    assert cli.parse_seconds("--t-inf", "1y") == 365.25 * 86400
    assert cli.parse_seconds("--t-inf", "2.5") == 2.5
    assert cli.parse_values("levels", "2,256,0,16") == (0.0, 256.0, 16.0, 2.0)
    assert cli.parse_values("stuck_off", "0.1,0,0.02") == (0.0, 0.02, 0.1)
    config = cli.config_from_args(parse("--params", "levels,t_inf", "--t-inf", "1d,1s"))
    assert config.params == (("levels", (256.0, 128.0, 64.0, 32.0, 16.0, 8.0, 4.0, 2.0)), ("t_inf", (1.0, 86400.0)))
    assert [p.param for p in config.points()][:3] == [rs.REFERENCE, "levels", "levels"]  # ideal base: no base row
    hfox = cli.config_from_args(parse("--rram", "hfox", "--params", "t_inf"))
    assert [p.param for p in hfox.points()][:2] == [rs.REFERENCE, rs.BASE]


def test_devices_of_a_sweep() -> None:
    config = cli.config_from_args(parse("--params", "levels,t_inf", "--t-inf", "1y"))
    assert rs.device_for(config, rs.REFERENCE, None, 50.0) is None
    dev = rs.device_for(config, "levels", 4.0, 50.0)
    assert dev == RRAM("ideal", levels=4, t_age_ms=50.0) and isinstance(dev.levels, int)
    # a t_inf sweep on a base without drift uses --drift-model; a base with one keeps it
    assert rs.device_for(config, "t_inf", 3.15e7, 50.0) == RRAM("ideal", drift_model="pcm", t_inf=3.15e7, t_age_ms=50.0)
    hfox = cli.config_from_args(parse("--rram", "hfox:d2d=0", "--params", "t_inf"))
    assert rs.device_for(hfox, "t_inf", 3600.0, 9.0).drift_model == "relaxation"


def test_phased_schedules_learn_first_and_align_the_recall_phase() -> None:
    config = cli.config_from_args(parse("--ops", "30", "--seeds", "3", "--sizes", "6x8"))
    for mode in ("fidelity", "functional"):
        schedules, t_age = rs.phased_schedules(config, mode, 6, 8)
        starts = set()
        for seed, schedule in enumerate(schedules):
            matches = ("or", "and", "best") if mode == "functional" else ("or",)
            stream = random_schedule(6, 8, 30, seed=seed, overlap=0.5, overwrite=0.5, matches=matches)
            kinds = [op.op for op in schedule.ops]
            n_learn = kinds.count("learn")
            assert kinds == ["learn"] * n_learn + [k for k in kinds if k != "learn"]  # learn phase, then recalls
            assert n_learn == [op.op for op in stream.ops].count("learn")
            assert [op.cue for op in schedule.ops[:n_learn]] == [op.cue for op in stream.ops if op.op == "learn"]
            last_learn, first_recall = schedule.ops[n_learn - 1].t, schedule.ops[n_learn].t
            assert last_learn + circuit(mode).min_gap["learn"] <= t_age - 10 and first_recall == t_age + 10
            starts.add(first_recall)
        assert len(starts) == 1 and float(t_age).is_integer()


# --- tiny sweeps: structure and real effects ---------------------------------------------------

SMALL = ("--sizes", "5x8", "--ops", "24", "--seeds", "2", "--target", TARGET)


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, object, float]:
    """A tiny sweep (both modes): the ideal value (no noise), total stuck-OFF, a year of PCM drift.

    Its reference points were finished by a "killed" earlier run: they are in the resume
    file with a marker wall time, and must be reused, not rerun."""
    folder = tmp_path_factory.mktemp("rram")
    out, png = folder / "rram.h5", folder / "rram.png"
    argv = SMALL + ("--params", "prog_noise,stuck_off,t_inf", "--prog-noise", "0", "--stuck-off", "1")
    args = parse(*argv, "--t-inf", "1y", "--out", str(out), "--plot", str(png), "--resume")
    config = cli.config_from_args(args)
    resume = _sweep.resume_path(config, str(out))
    with open(resume, "w") as fh:
        for point in config.points():
            if point.param == rs.REFERENCE:
                done = rs.run_point(point, config)
                done["wall_s"] = 12345.0
                fh.write(json.dumps({"config": config.digest(), "result": done}) + "\n")
    report = cli.run(args)
    assert not resume.exists() and png.stat().st_size > 0
    return cli.load_sweep(out), report, config


def test_sweep_writes_its_structure(swept: tuple[dict, object, rs.SweepConfig]) -> None:
    data, report, config = swept
    points = data["points"]
    assert list(points["param"]) == ["none", "prog_noise", "stuck_off", "t_inf"] * 2
    assert list(points["mode"]) == ["fidelity"] * 4 + ["functional"] * 4
    assert points["missed_bits"].shape == (8, 2)  # per point, per stream
    reused = points["wall_s"][np.array(points["param"]) == "none"]
    assert list(reused) == [12345.0, 12345.0]  # the references came from the resume file
    devices = [json.loads(d) for d in points["device"]]
    assert devices[0] is None
    assert devices[2]["stuck_off"] == 1.0 and devices[2]["t_age_ms"] == points["t_age_ms"][2]
    assert devices[3]["t_inf"] == 3.15576e7 and devices[3]["drift_model"] == "pcm"
    assert data["base_device"]["preset"] == "ideal" and data["config"]["digest"] == config.digest()
    assert data["breaking_points"]["param"] == ["prog_noise", "stuck_off", "t_inf"] * 2
    assert len(report.rows) == 8 and report.columns[0] == "mode"
    assert "breaks: functional 5x8 stuck_off" in report.metrics


def test_ideal_keeps_every_recall_and_extremes_break(swept: tuple[dict, object, rs.SweepConfig]) -> None:
    data, report, _ = swept
    s = data["summary"]
    params = np.array(s["param"])
    modes = np.array(s["mode"])
    for mode in ("fidelity", "functional"):
        row = {p: k for k, p in enumerate(params) if modes[k] == mode}
        ref, ideal, stuck = row["none"], row["prog_noise"], row["stuck_off"]
        assert s["recalls"][ref] > 20 and s["kept_of"][ref] == s["recalls_correct"][ref]
        # no programming noise on an ideal device: exactly the device-free answers
        assert s["kept"][ideal] == s["kept_of"][ideal] and not s["broken"][ideal]
        for name in ("missed_bits", "false_bits", "missed_cues", "false_cues", "recalls_correct"):
            assert s[name][ideal] == s[name][ref]
        # every device stuck OFF: nothing is learned, recalled content and cues go missing
        assert s["broken"][stuck] and s["kept_fraction"][stuck] < 0.5
        assert s["missed_bits"][stuck] + s["missed_cues"][stuck] > 5
        assert s["missed_bits"][stuck] + s["missed_cues"][stuck] > s["missed_bits"][ref] + s["missed_cues"][ref]
    # a year of PCM drift (learned weights x ~0.5) drops the functional circuit's one-unit margins
    func = {p: k for k, p in enumerate(params) if modes[k] == "functional"}
    assert s["broken"][func["t_inf"]] and s["missed_bits"][func["t_inf"]] > s["missed_bits"][func["none"]]
    values = dict(zip(data["breaking_points"]["param"][3:], data["breaking_points"]["value"][3:]))
    assert math.isnan(values["prog_noise"]) and values["stuck_off"] == 1.0 and values["t_inf"] == 3.15576e7


def test_stress_ca3_runs_points_on_the_device(tmp_path) -> None:
    """``stress ca3 --rram``: the device reaches the simulation and the HDF5 file."""
    out = tmp_path / "s.h5"
    argv = ("--sizes", "4x6", "--modes", "functional", "--spacings", "min", "--ops", "16", "--target", TARGET)
    parser = argparse.ArgumentParser()
    ca3_stress.add_arguments(parser)
    config = ca3_stress.config_from_args(parser.parse_args(argv))
    plain = ca3_stress.run_point(config.points()[0], config)
    args = parser.parse_args([*argv, "--rram", "ideal:stuck_off=1", "--out", str(out), "--no-progress"])
    report = ca3_stress.run(args)
    data = ca3_stress.load_stress(out)
    assert data["device"]["stuck_off"] == 1.0 and data["config"]["rram"] == "ideal:stuck_off=1"
    assert report.metrics["device"] == "ideal:stuck_off=1"
    assert plain["counts"]["recalls_correct"] == plain["counts"]["recalls"]
    assert data["points"]["missed_bits"][0] > plain["counts"]["missed_bits"]
    assert data["points"]["recalls_correct"][0] < plain["counts"]["recalls"]


def test_a_target_that_cannot_run_the_sweep_is_refused_before_any_file_is_touched(tmp_path) -> None:
    """As for ``stress ca3``: pyNN.brian2 carries no device model under a synapse, so the
    target's own check refuses the memory before the sweep opens (and would truncate) an
    earlier run's resume file."""
    pytest.importorskip("pyNN")
    from spikemem.errors import UnsupportedFeature

    out = tmp_path / "rram.h5"
    args = parse(
        "--modes", "functional", "--sizes", "4x6", "--ops", "8", "--rram", "hfox", "--target", "pynn:brian2",
        "--out", str(out),
    )  # fmt: skip
    resume = _sweep.resume_path(cli.config_from_args(args), str(out), "rram")
    resume.write_text("points of an earlier run\n")
    with pytest.raises(UnsupportedFeature) as err:
        cli.run(args)
    assert err.value.target == "pynn:brian2" and "device model" in err.value.feature
    assert resume.read_text() == "points of an earlier run\n" and not out.exists()


# --- the full default sweep ----------------------------------------------------------------------


@pytest.mark.slow
def test_default_sweep_finds_breaking_points() -> None:
    """The default sweep (about 4 minutes on 2 cores). The functional circuit stores one unit per
    bit against a half-unit threshold margin: it survives 5 % programming or read noise but not
    20 %, keeps every recall after 1 s of PCM drift but not after a year (weights x ~0.5), loses
    recalls to 1 % of stuck devices, and never breaks on levels (binary set/reset weights sit on
    every level grid)."""
    config = cli.config_from_args(parse("--target", TARGET))
    results, _ = _sweep.sweep(config, _sweep.resume_path(config, None, "rram"), rs.run_launch, progress=False)
    rows, breaks = rs.summarise(config, results)
    functional = {b["param"]: b["value"] for b in breaks if b["mode"] == "functional"}
    assert functional["levels"] is None
    assert 0.05 < functional["prog_noise"] <= 0.2 and 0.05 < functional["read_noise"] <= 0.2
    assert 1.0 < functional["t_inf"] <= 3.2e7
    assert functional["stuck_off"] is not None and functional["stuck_on"] is not None
    harshest = dict(config.params)
    for name in ("prog_noise", "read_noise", "stuck_off", "stuck_on", "t_inf"):
        row = next(r for r in rows if (r["mode"], r["param"], r["value"]) == ("functional", name, harshest[name][-1]))
        assert row["kept_fraction"] < 0.6, name
