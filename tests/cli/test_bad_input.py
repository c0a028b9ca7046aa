"""Bad input is refused before any work: exit status 2, one line naming the field, no
traceback, nothing simulated and nothing written (issue 24, kinds 1, 3, 4, 5 and 8).

Every case runs the real command in-process with each target's ``run`` replaced by one
that fails the test: a refusal that came after the simulation had started would show.
"""

from __future__ import annotations

import json
import os

import pytest

from spikemem import targets
from spikemem.cli import EXIT_REFUSED, main


@pytest.fixture
def nothing_runs(monkeypatch):
    """Every target's ``run`` and ``export`` fail the test if called."""

    def must_not_run(*args, **kwargs):
        raise AssertionError("simulated or exported although the input should have been refused")

    for _, (_, module) in targets.all_targets().items():
        for name in ("run", "export"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, must_not_run)


def refused(argv: list[str], field: str, capsys, folder) -> str:
    """Run ``argv``; assert exit 2, one line on stderr naming ``field``, no new file."""
    before = set(os.listdir(folder))
    code = main(argv)
    err = capsys.readouterr().err
    assert code == EXIT_REFUSED, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    assert field in lines[0], lines[0]
    assert set(os.listdir(folder)) == before, "a refused command left a file behind"
    return lines[0]


def schedule_file(folder, **changes) -> str:
    raw = {"n_cues": 3, "n_bits": 4, "ops": [{"t": 0, "op": "learn", "cue": 0, "content": [1]}]}
    raw.update(changes)
    path = folder / "s.json"
    path.write_text(json.dumps(raw))
    return str(path)


# --- 1. bounds against this machine, before any work ---------------------------------------


@pytest.mark.parametrize(
    "argv, field",
    [
        (["run", "ca3-exp1", "--target", "brian2:cpp_standalone", "--option", "threads=1000000000"], "option threads"),
        (["run", "cuba", "--neurons", "10000000"], "--neurons"),
        (["export", "cuba", "--neurons", "10000000", "--target", "hdf5", "--out", "n.h5"], "--neurons"),
        (["stress", "ca3", "--sizes", "100000x100000"], "--sizes"),
        (["stress", "ca3", "--seeds", "1000000000"], "--seeds"),
        (["stress", "ca3", "--ops", "100000000"], "--ops"),
        (["stress", "ca3", "--workers", "100000"], "--workers"),
        (["stress", "rram", "--seeds", "1000000000"], "--seeds"),
    ],
)
def test_sizes_beyond_the_machine_are_refused_with_the_estimate(
    argv, field, tmp_path, monkeypatch, capsys, nothing_runs
):
    monkeypatch.chdir(tmp_path)
    line = refused(argv, field, capsys, tmp_path)
    assert "this machine" in line and "--no-limits" in line


def test_no_limits_lifts_the_machine_checks_but_not_the_step_bound(tmp_path, monkeypatch, capsys):
    from spikemem import budget

    monkeypatch.setenv("SPIKEMEM_NO_LIMITS", "1")
    budget.check_cores("option threads", 10**9)
    budget.check_bytes("--sizes", "x", 1e18, "a lot")
    monkeypatch.delenv("SPIKEMEM_NO_LIMITS")
    with pytest.raises(ValueError, match="at most"):
        budget.check_steps("--duration", 1e300, 0.1)


def test_the_no_limits_flag_sets_the_switch(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SPIKEMEM_NO_LIMITS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["--no-limits", "run", "cuba", "--neurons", "1"]) == EXIT_REFUSED
    assert os.environ.get("SPIKEMEM_NO_LIMITS") == "1"
    monkeypatch.delenv("SPIKEMEM_NO_LIMITS")


# --- 3. output paths, checked before any work ----------------------------------------------


def output_cases(folder):
    (folder / "a_folder").mkdir()
    os.symlink(folder / "elsewhere.h5", folder / "link.h5")
    return [
        (["run", "ca3-exp1", "--out", str(folder / "a_folder")], "--out"),
        (["run", "ca3-exp1", "--out", "/proc/r.h5"], "--out"),
        (["run", "ca3-exp1", "--answers", str(folder / "a_folder")], "--answers"),
        (["run", "ca3-exp1", "--plot", str(folder / "a_folder" / "x" / "r.png")], "--plot"),
        (["run", "ca3-exp1", "--out", "/dev/null"], "--out"),
        (["run", "ca3-exp1", "--out", str(folder / "link.h5")], "--out"),
        (["run", "ca3-exp1", "--out", "same", "--answers", "same"], "--answers"),
        (["run", "ca3-exp1", "--out", "x.h5", "--answers", "./x.h5"], "--answers"),
        (["run", "cuba", "--out", "/proc/c.h5"], "--out"),
        (["stress", "ca3", "--out", str(folder / "a_folder")], "--out"),
        (["stress", "ca3", "--plot", "/proc/p.png"], "--plot"),
        (["stress", "rram", "--out", "/dev/null"], "--out"),
        (["export", "ca3", "--target", "hdf5", "--out", str(folder / "a_folder")], "--out"),
        (["export", "ca3", "--target", "nir", "--out", "/dev/null"], "--out"),
        (["export", "ca3", "--target", "pynn-script", "--out", "/proc/net.py"], "--out"),
        (["run", "ca3-exp1", "--target", "brian2:cpp_standalone", "--option", "build_dir=/proc/x"], "build_dir"),
    ]


def test_bad_output_paths_are_refused_before_anything_runs(tmp_path, monkeypatch, capsys, nothing_runs):
    monkeypatch.chdir(tmp_path)
    for argv, field in output_cases(tmp_path):
        refused(argv, field, capsys, tmp_path)
    assert not (tmp_path / "elsewhere.h5").exists()
    assert os.listdir(tmp_path / "a_folder") == []


def test_export_checks_the_files_it_writes_beside_its_output(tmp_path, monkeypatch, capsys, nothing_runs):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.npz").mkdir()
    line = refused(["export", "ca3", "--target", "pynn-script", "--out", "net.py"], "--out", capsys, tmp_path)
    assert ".npz" in line


# --- 4. what used to be a traceback -------------------------------------------------------------


def test_inputs_that_used_to_raise_a_traceback(tmp_path, monkeypatch, capsys, nothing_runs):
    monkeypatch.chdir(tmp_path)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"n_cues": 3,\n "n_bits": 4, "ops": [], "x": "caf\xe9"}')
    (tmp_path / "empty.h5").write_bytes(b"")
    import h5py

    with h5py.File(tmp_path / "tagged.h5", "w") as fh:
        fh.attrs["format"] = "spikemem-results-1"
    cases = [
        (["run", "ca3", "--schedule", str(latin)], "schedule"),
        (["run", "ca3", "--schedule", str(tmp_path)], "schedule"),
        (["run", "ca3-exp1", "--seed", "4294967296"], "--seed"),
        (["run", "cuba", "--neurons=-10"], "--neurons"),
        (["info", str(tmp_path / "tagged.h5")], "results"),
        (["info", str(tmp_path / "empty.h5")], "file"),
        (["info", str(tmp_path)], "file"),
        (["export", "ca3", "--target", "pynn-script", "--option", "foo=1", "--out", "n.py"], "option foo"),
    ]
    for argv, field in cases:
        line = refused(argv, field, capsys, tmp_path)
        if argv[-1] == str(latin):
            assert "UTF-8" in line and "line 2" in line


def test_run_without_an_experiment_is_refused(capsys):
    assert main(["run"]) == EXIT_REFUSED
    assert "EXPERIMENT" in capsys.readouterr().err


# --- 5. what used to give a silent wrong result ----------------------------------------------


def test_inputs_that_used_to_give_a_wrong_result_silently(tmp_path, monkeypatch, capsys, nothing_runs):
    monkeypatch.chdir(tmp_path)
    far = schedule_file(tmp_path, ops=[{"t": 1e300, "op": "learn", "cue": 0, "content": [1]}])
    cases = [
        (["run", "ca3", "--schedule", far], "ops[0].t"),
        (["run", "cuba", "--duration", "1e300"], "--duration"),
        (["export", "ca3", "--n-cues", "0", "--target", "hdf5", "--out", "n.h5"], "--n-cues"),
        (["export", "ca3", "--target", "hdf5", "--option", "foo=1", "--out", "n.h5"], "option foo"),
        (["run", "ca3-exp1", "--rram", "hfox:levels=16,levels=4"], "RRAM.levels"),
        (["run", "ca3-exp1", "--rram", "hfox:levels=16,"], "--rram"),
        (["stress", "ca3", "--sizes", "5x10", "--query-bits", "1-50"], "--query-bits"),
        (["stress", "rram", "--sizes", "5x10", "--query-bits", "1-50"], "--query-bits"),
    ]
    for argv, field in cases:
        refused(argv, field, capsys, tmp_path)


# --- 8. the option the user typed, not the field it became -----------------------------------


@pytest.mark.parametrize(
    "argv, field",
    [
        (["run", "cuba", "--neurons", "1"], "--neurons = 1"),
        (["export", "cuba", "--neurons", "1", "--target", "hdf5", "--out", "n.h5"], "--neurons = 1"),
        (["export", "ca3", "--n-bits=-1", "--target", "hdf5", "--out", "n.h5"], "--n-bits = -1"),
    ],
)
def test_refusals_name_the_option_typed(argv, field, tmp_path, monkeypatch, capsys, nothing_runs):
    monkeypatch.chdir(tmp_path)
    refused(argv, field, capsys, tmp_path)


def test_a_build_folder_may_need_parents_made_but_not_in_a_folder_nobody_can_write(tmp_path):
    from spikemem.errors import ValidationError
    from spikemem.outputs import check_output

    assert (
        check_output("option build_dir", tmp_path / "not" / "yet" / "there", "folder")
        == tmp_path / "not" / "yet" / "there"
    )
    with pytest.raises(ValidationError, match="a folder you can write to \\('/proc' is not\\)"):
        check_output("option build_dir", "/proc/not/yet", "folder")
    with pytest.raises(ValidationError, match="an existing folder"):
        check_output("--out", tmp_path / "not" / "r.h5", "file")
