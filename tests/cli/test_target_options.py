"""``--option KEY=VALUE``: target options on ``spikemem run`` and ``spikemem stress``."""

from __future__ import annotations

import argparse
from dataclasses import replace

import pytest

from spikemem.cli import main
from spikemem.errors import SpikememError, ValidationError
from spikemem.experiments import _rram_sweep as rs
from spikemem.experiments import _sweep, ca3_rram_stress, ca3_stress
from spikemem.models.ca3 import ca3_network, paper_schedule, run_ca3
from spikemem.results import load_results
from spikemem.target_options import parse_options


def test_values_are_read_as_numbers_booleans_or_text():
    options = parse_options(["threads=2", "compute_capability=8.0", "virtual=TRUE", "board=10.11.194.1", "x= on "])
    assert options == {"threads": 2, "compute_capability": 8.0, "virtual": True, "board": "10.11.194.1", "x": "on"}
    assert type(options["threads"]) is int and type(options["compute_capability"]) is float


@pytest.mark.parametrize(
    ("texts", "message"),
    [(["threads"], "KEY=VALUE"), (["=2"], "KEY=VALUE"), (["two words=1"], "KEY=VALUE"), (["a=1", "a=2"], "once")],
)
def test_malformed_or_repeated_options_are_refused(texts, message):
    with pytest.raises(ValidationError) as err:
        parse_options(texts)
    assert err.value.field == "--option" and message in err.value.allowed


@pytest.mark.parametrize("experiment", [["ca3-functional"], ["cuba", "--neurons", "100", "--duration", "20"]])
def test_a_bad_option_is_refused_before_anything_is_written(tmp_path, capsys, experiment):
    out = tmp_path / "r.h5"
    code = main(["run", *experiment, "--target", "brian2:numpy", "--option", "threads=0", "--out", str(out)])
    assert code == 2 and "option threads = 0" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.nest
def test_run_hands_the_options_to_the_target(tmp_path, capsys):
    """NEST's thread count reaches NEST (its provenance) and the memory still answers the paper's test."""
    pytest.importorskip("pyNN.nest")
    out = tmp_path / "r.h5"
    argv = ["run", "ca3-functional", "--target", "pynn:nest", "--option", "threads=2", "--out", str(out)]
    assert main([*argv, "--no-progress"]) == 0
    assert "correct: 9/9 ops" in capsys.readouterr().out
    assert load_results(out).provenance["threads"] == 2


@pytest.mark.spinnaker
def test_a_virtual_board_run_reports_its_mapping_and_has_no_answers(tmp_path, capsys):
    """``virtual=true`` maps the published circuit without simulating it: the command prints
    one core per population (every population of exp. 1 is far below 256 neurons) instead of
    a score, keeps the mapping in --out, and refuses --answers/--plot before mapping."""
    pytest.importorskip("spynnaker")
    workdir, out = tmp_path / "work", tmp_path / "mapped.h5"
    base = ["run", "ca3-functional", "--mode", "fidelity", "--target", "spinnaker", "--no-progress"]
    base += ["--option", "virtual=true", "--option", f"workdir={workdir}"]
    assert main([*base, "--answers", str(tmp_path / "a.json")]) == 2
    assert "--answers" in capsys.readouterr().err and not workdir.exists()
    assert main([*base, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    populations = ca3_network(paper_schedule("exp1"), "fidelity").populations
    assert all(pop.size <= 256 for pop in populations)
    assert "mapping only" in text and f"{len(populations)} application cores" in text and "correct" not in text
    prov = load_results(out).provenance
    assert prov["target"] == "spinnaker:virtual" and prov["simulated"] is False
    run = run_ca3(paper_schedule("exp1"), mode="fidelity", target="spinnaker", virtual=True, workdir=str(workdir))
    assert run.answers is None and not run.simulated
    with pytest.raises(SpikememError, match="without simulating"):
        run.score()


def stress_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    ca3_stress.add_arguments(parser)
    return parser.parse_args([*argv, "--no-progress"])


@pytest.mark.parametrize(
    ("option", "field"),
    [
        ("virtual=true", "--option virtual"),
        ("build_dir=/tmp/x", "--option build_dir"),
        ("workdir=/tmp/x", "--option workdir"),
        ("threads=0", "option threads"),  # brian2's own check, still before any file
        ("colour=red", "option colour"),
    ],
)
def test_stress_refuses_options_a_sweep_cannot_use_before_touching_any_file(tmp_path, option, field):
    out = tmp_path / "stress.h5"
    args = stress_args("--sizes", "4x6", "--modes", "functional", "--ops", "8", "--out", str(out), "--option", option)
    with pytest.raises(ValidationError) as err:
        ca3_stress.run(args)
    assert err.value.field == field and not out.exists()
    assert not _sweep.resume_path(None, str(out)).exists()


def test_stress_checks_the_target_with_its_options():
    """SpiNNaker needs a machine: refused without one, accepted with ``spalloc=URL`` (only checked)."""
    pytest.importorskip("spynnaker")
    config = ca3_stress.config_from_args(stress_args("--sizes", "4x6", "--modes", "fidelity", "--target", "spinnaker"))
    network_of = lambda p: ca3_network(ca3_stress.point_schedule(p, config), p.mode)  # noqa: E731
    with pytest.raises(ValidationError, match="exactly one"):
        _sweep.check_target(config, network_of)
    with_machine = replace(config, target_options=("spalloc=http://spalloc.example:22244",))
    _sweep.check_target(with_machine, network_of)


def test_every_launch_and_every_rram_run_gets_the_options():
    """A point, a stacked launch and a device-sweep run each hand the options to the target:
    brian2's own check refuses ``threads=0`` in each of them."""
    config = ca3_stress.StressConfig(
        sizes=((4, 6),), spacings=("min",), modes=("functional",), ops=8, seeds=2, target="brian2:numpy"
    )
    config = replace(config, target_options=("threads=0",))
    points = tuple(config.points())
    for run in (lambda: ca3_stress.run_point(points[0], config), lambda: ca3_stress.run_launch(points, config)):
        with pytest.raises(ValidationError) as err:
            run()
        assert err.value.field == "option threads"
    parser = argparse.ArgumentParser()
    ca3_rram_stress.add_arguments(parser)
    argv = ["--modes", "functional", "--sizes", "4x6", "--ops", "8", "--seeds", "1", "--params", "levels"]
    sweep = ca3_rram_stress.config_from_args(parser.parse_args([*argv, "--levels", "2", "--option", "threads=0"]))
    assert sweep.target_options == ("threads=0",)
    with pytest.raises(ValidationError) as err:
        rs.run_point(sweep.points()[0], sweep)
    assert err.value.field == "option threads"
