"""What a sweep does when things go wrong on this machine: a damaged resume file, a launch that
raises, the parent of worker processes killed or stopped, two runs on one output.

Each sweep is a real ``spikemem stress ca3`` run (tiny sizes on Brian2's numpy runtime), the
signals are real, and the numbers kept are compared with an uninterrupted local run.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from functools import partial
from pathlib import Path

import pytest
from _sweeps import (
    alive,
    argv,
    descendants,
    kill,
    launch_that_raises,
    on_sigterm,
    parse,
    result_numbers,
    results_in,
    start,
    wait_for,
)

from spikemem import cli
from spikemem.experiments import _launch, _resume, _sweep
from spikemem.experiments import ca3_stress as stress

SEEDS = 2  # 4 points: 2 modes x 2 seeds


@pytest.fixture(scope="module")
def config() -> stress.StressConfig:
    return stress.config_from_args(parse(*argv(SEEDS)[2:]))


@pytest.fixture(scope="module")
def reference(config, tmp_path_factory) -> dict[str, dict]:
    """The tiny sweep run here, uninterrupted: its numbers per point."""
    folder = tmp_path_factory.mktemp("reference")
    results, _ = _sweep.sweep(config, folder / "resume.jsonl", stress.run_launch, progress=False)
    return {r["key"]: result_numbers(r) for r in results}


@pytest.fixture(scope="module")
def finished(config) -> dict:
    """One finished point, as a resume file holds it."""
    return stress.run_point(config.points()[0], config)


def _line(entry: object) -> bytes:
    return json.dumps(entry).encode() + b"\n"


# --- the resume file's contract -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (b'{"config": "x", "result": {"key": "caf\xe9"}}\n', "byte 0xe9 at column 39 is not UTF-8"),
        (b"[1, 2]\n", "a JSON list, not an object"),
        (b'{"config": "x", "result": \n', "not JSON"),
        ("counts.ops", 'result.counts.ops = "many" is not an integer'),
        ("wall_s", 'result.wall_s = "fast" is not a number'),
        ("key", "is not a point of this sweep"),
        ("header", "a header after line 1"),
    ],
    ids=["non-utf8", "json-list", "not-json", "counts-wrong-type", "time-wrong-type", "unknown-point", "header-twice"],
)
def test_a_damaged_resume_file_is_refused_in_one_line_naming_file_and_line_before_any_work(
    tmp_path, capsys, config, finished, bad, problem
):
    """Line 3 of the file is bad; lines 1-2 (header, a finished point) are fine. The refusal
    comes before the file is rewritten (so before any launch): its bytes are unchanged."""
    if bad == "counts.ops":
        bad = _line(
            {"config": config.digest(), "result": {**finished, "counts": {**finished["counts"], "ops": "many"}}}
        )
    elif bad == "wall_s":
        bad = _line({"config": config.digest(), "result": {**finished, "wall_s": "fast"}})
    elif bad == "key":
        bad = _line({"config": config.digest(), "result": {**finished, "key": "functional/9x9/min/seed0"}})
    elif bad == "header":
        bad = _line(_resume.header(config))
    out = tmp_path / "stress.h5"
    resume = _sweep.resume_path(config, str(out))
    content = _line(_resume.header(config)) + _line({"config": config.digest(), "result": finished}) + bad
    resume.write_bytes(content)
    rc = cli.main([*argv(SEEDS), "--resume", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith(f"error: resume file {resume} line 3: ") and problem in err[0], err[0]
    assert resume.read_bytes() == content and not out.exists()  # a run rewrites the file before its first launch


def test_a_resume_file_of_another_config_is_refused_naming_what_differs(tmp_path, capsys, config, finished):
    out = tmp_path / "stress.h5"
    resume = _sweep.resume_path(config, str(out))
    content = _line(_resume.header(config)) + _line({"config": config.digest(), "result": finished})
    resume.write_bytes(content)
    rc = cli.main([*argv(SEEDS, "--ops", "24"), "--resume", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert f"resume file {resume} line 1: written by another config: ops = 30 there, 24 now" in err[0]
    assert resume.read_bytes() == content


def test_a_torn_last_line_is_dropped_and_the_next_point_is_not_glued_to_it(tmp_path, monkeypatch, config, reference):
    """A kill in the middle of a write leaves a last line without its newline. Resuming drops
    it and rewrites the file, so the points recorded next stay readable: a second resume
    finds every point."""
    monkeypatch.setenv("SPIKEMEM_CACHE", str(tmp_path))  # the resume file of a run without --out
    resume = _sweep.resume_path(config, None, "ca3")
    first = config.points()[0]
    done = stress.run_point(first, config)
    torn = json.dumps({"config": config.digest(), "result": done})[:-20].encode()
    resume.write_bytes(_line(_resume.header(config)) + _line({"config": config.digest(), "result": done}) + torn)
    report = stress.run(parse(*argv(SEEDS)[2:], "--resume"))
    assert report.metrics["points"].startswith(f"{len(reference)} (1 from")
    again = _resume.load(resume, config, stress.RESULT_SCHEMA)
    assert {key: result_numbers(r) for key, r in again.items()} == reference
    report = stress.run(parse(*argv(SEEDS)[2:], "--resume"))  # nothing left to run
    assert report.metrics["points"].startswith(f"{len(reference)} ({len(reference)} from")


# --- a launch that raises ------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_a_launch_that_raises_stops_the_sweep_in_one_line_naming_its_point(tmp_path, config, reference, workers):
    bad = config.points()[-1].key
    resume = tmp_path / "resume.jsonl"
    run_launch = partial(launch_that_raises, bad_key=bad)
    with pytest.raises(_launch.SweepStopped) as err:
        _sweep.sweep(config, resume, run_launch, workers=workers, progress=False, schema=stress.RESULT_SCHEMA)
    message = str(err.value)
    assert "\n" not in message
    assert f"the launch of point {bad} failed" in message
    assert "RuntimeError: the engine crashed on" in message and "second line" not in message
    kept = results_in(resume)
    assert f"{len(kept)} finished points are kept in {resume}" in message
    assert bad not in {r["key"] for r in kept}
    assert len(kept) >= (len(reference) - 1 if workers == 1 else 1)
    for result in kept:
        assert result_numbers(result) == reference[result["key"]]


# --- worker processes and their parent -----------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["SIGKILL", "SIGTERM", "SIGINT"])
def test_worker_processes_die_with_their_parent(tmp_path, config, sig):
    """``stress --workers 2`` killed (or stopped) in the middle of its sweep: within seconds
    no process it started is left, and the points it finished are in its resume file.
    Stopped by SIGTERM or SIGINT, it says so in one line."""
    out = tmp_path / "stress.h5"
    resume = _sweep.resume_path(config, str(out))
    proc = start([*argv(20), "--workers", "2", "--out", str(out)])
    try:
        wait_for(lambda: results_in(resume), 120, "a first point finished", proc)
        family = descendants(proc.pid)
        assert len(family) >= 2  # the two workers (and multiprocessing's resource tracker)
        kill(proc, sig)
        _, err = proc.communicate(timeout=20)
        wait_for(lambda: not alive(family), 10, f"the processes {sorted(alive(family))} ended")
    finally:
        kill(proc)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        rc, said = on_sigterm() if sig == signal.SIGTERM else (130, "interrupted")
        assert proc.returncode == rc and err.strip().splitlines() == [said], err
    swept = stress.config_from_args(parse(*argv(20)[2:]))
    assert _resume.load(resume, swept, stress.RESULT_SCHEMA) and not out.exists()


def test_ctrl_c_during_a_launch_here_stops_the_sweep_and_records_no_cut_short_point(tmp_path, config, reference):
    """Without worker processes the launch runs in the command's own process, where Brian2's
    SIGINT handler would end the running simulation early and let the sweep score (and
    record) the cut-short run, then go on. Ctrl-C stops the sweep instead; every point
    recorded has the numbers of an uninterrupted run."""
    out = tmp_path / "stress.h5"
    resume = _sweep.resume_path(config, str(out))
    proc = start([*argv(SEEDS), "--out", str(out)])
    try:
        wait_for(lambda: results_in(resume), 120, "a first point finished", proc)
        time.sleep(0.3)  # into the next launch's simulation
        kill(proc, signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        kill(proc)
    # (Brian2 may then warn about the objects of the launch it never ran: its own log lines)
    assert proc.returncode == 130 and err.strip().splitlines()[0] == "interrupted" and "Traceback" not in err, err
    recorded = results_in(resume)
    assert 1 <= len(recorded) < len(reference) and not out.exists()
    assert all(result_numbers(r) == reference[r["key"]] for r in recorded)


class _InterruptedWhileCollected:
    """An object whose finalizer is where Ctrl-C lands: Python prints such an exception and
    goes on, so a sweep that trusted KeyboardInterrupt alone would finish and exit 0."""

    def __del__(self) -> None:
        raise KeyboardInterrupt("SIGINT")


def launch_interrupted_in_a_finalizer(points, config, stop_key):
    results = stress.run_launch(points, config)
    if points[0].key == stop_key:
        _InterruptedWhileCollected()  # collected at once: its __del__ raises inside Python's finalizer call
    return results


def test_ctrl_c_that_lands_in_a_finalizer_still_stops_the_sweep(tmp_path, config, reference):
    stop = config.points()[1].key
    resume = tmp_path / "resume.jsonl"
    run_launch = partial(launch_interrupted_in_a_finalizer, stop_key=stop)
    with pytest.raises(KeyboardInterrupt):
        _sweep.sweep(config, resume, run_launch, progress=False, schema=stress.RESULT_SCHEMA)
    kept = results_in(resume)
    assert [r["key"] for r in kept] == [config.points()[0].key]  # the interrupted launch is not recorded
    assert result_numbers(kept[0]) == reference[kept[0]["key"]]


# --- two runs on one output ---------------------------------------------------------------------


def test_a_second_run_on_the_same_output_is_refused_naming_who_holds_it(tmp_path, config):
    """Two ``spikemem stress`` runs with one ``--out``: the second, started while the first
    runs (without ``--resume``, which used to truncate the first's resume file), stops at once
    naming the first's pid and host; the first finishes with every point."""
    out = tmp_path / "stress.h5"
    resume = _sweep.resume_path(config, str(out))
    first = start([*argv(6), "--out", str(out)])
    try:
        wait_for(lambda: results_in(resume), 120, "the first run finished a point", first)
        before = results_in(resume)
        second = start([*argv(6), "--out", str(out)])
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and f"--out {out} is in use by another run" in lines[0]
        assert f"pid {first.pid} on host {socket.gethostname()}" in lines[0]
        assert results_in(resume)[: len(before)] == before  # the first's resume file is untouched
        out_text, err_text = first.communicate(timeout=300)
    finally:
        kill(first)
    assert first.returncode == 0, err_text
    assert out_text.count(f"wrote {out}") == 1
    data = stress.load_stress(out)
    assert sorted(data["points"]["key"]) == sorted(p.key for p in stress.config_from_args(parse(*argv(6)[2:])).points())
    assert not _resume.lock_path(resume).exists()


def test_the_lock_is_free_again_after_its_holder_is_killed(tmp_path, config):
    out = tmp_path / "stress.h5"
    resume = _sweep.resume_path(config, str(out))
    proc = start([*argv(20), "--out", str(out)])
    wait_for(lambda: results_in(resume), 120, "a first point finished", proc)
    kill(proc)
    proc.communicate()
    assert _resume.lock_path(resume).exists()  # left behind by the kill, but no longer held
    with _sweep.claimed(resume, str(out)):
        assert json.loads(Path(_resume.lock_path(resume)).read_text())["pid"] > 0
