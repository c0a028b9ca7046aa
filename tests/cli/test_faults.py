"""Faults: nothing left behind after a kill, the file modes a user expects, exit statuses
that tell what happened (issue 24, kinds 6 and 8)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spikemem import outputs
from spikemem.cli import EXIT_FAILED, EXIT_OK, EXIT_REFUSED, EXIT_TERMINATED, main
from spikemem.hardware.brian2 import target as brian2_target

#: Runs ``spikemem export cuba ... --target hdf5`` with the HDF5 writer held open (it
#: touches ``ready`` and sleeps inside the write), so the test can signal it mid-write.
HELD_WRITE = """
import sys, time
import spikemem.h5store as store
write_tree = store.write_tree
def held(*args, **kwargs):
    write_tree(*args, **kwargs)
    open("ready", "w").close()
    time.sleep(60)
store.write_tree = held
import spikemem.io
spikemem.io.write_tree = held
from spikemem.cli import main
raise SystemExit(main(["export", "cuba", "--neurons", "10", "--target", "hdf5", "--out", "net.h5"]))
"""


def held_export(folder: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HELD_WRITE], cwd=folder, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (folder / "ready").exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the export never reached its write"
        time.sleep(0.05)
    return proc


def parts(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, EXIT_TERMINATED), (signal.SIGINT, 130)])
def test_a_signal_mid_write_removes_the_temporary_file(sig, code, tmp_path):
    proc = held_export(tmp_path)
    assert parts(tmp_path), "the write had no temporary file to clean up"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert parts(tmp_path) == [] and not (tmp_path / "net.h5").exists()


def test_a_later_write_removes_what_a_killed_one_left(tmp_path):
    proc = held_export(tmp_path)
    proc.kill()
    proc.wait(timeout=60)
    left = parts(tmp_path)
    assert len(left) == 1, "SIGKILL cannot be caught: its temporary file stays until the next write"
    mine = tmp_path / f".net.h5.{os.getpid()}.live.part"  # a writer that is still running
    mine.write_text("")
    (tmp_path / "ready").unlink()
    assert main(["export", "cuba", "--neurons", "10", "--target", "hdf5", "--out", str(tmp_path / "net.h5")]) == 0
    assert parts(tmp_path) == [mine.name]
    assert (tmp_path / "net.h5").stat().st_size > 0


def test_outputs_respect_the_umask_and_keep_a_replaced_files_mode(tmp_path, capsys):
    out = tmp_path / "net.h5"
    argv = ["export", "cuba", "--neurons", "10", "--target", "hdf5", "--out", str(out)]
    old = os.umask(0o022)
    try:
        assert main(argv) == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        out.chmod(0o640)
        assert main(argv) == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o640
        os.umask(0o077)
        out.unlink()
        assert main(argv) == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_a_failure_inside_a_run_is_exit_3_in_one_line(tmp_path, monkeypatch, capsys):
    def crash(*args, **kwargs):
        raise RuntimeError("the simulator fell over")

    monkeypatch.setattr(brian2_target, "run", crash)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "ca3-exp1", "--out", "r.h5", "--no-progress"]) == EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert err.startswith("internal error: RuntimeError: the simulator fell over") and "\n" not in err
    assert os.listdir(tmp_path) == []


def test_exit_statuses_are_distinct(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["models"]) == EXIT_OK
    assert main(["run", "ca3-exp1", "--mode", "nope"]) == EXIT_REFUSED
    assert main([]) == EXIT_REFUSED
    assert len({EXIT_OK, 1, EXIT_REFUSED, EXIT_FAILED, 130, EXIT_TERMINATED}) == 6


def test_stale_parts_of_live_writers_and_other_files_are_kept(tmp_path):
    target = tmp_path / "r.h5"
    dead = _dead_pid()
    keep = [f".r.h5.{os.getpid()}.a.part", ".r.h5.abcdefgh.part", ".other.h5.1.x.part", "r.h5"]
    for name in [*keep, f".r.h5.{dead}.b.part"]:
        (tmp_path / name).write_text("")
    removed = outputs.remove_stale_parts(target)
    assert [p.name for p in removed] == [f".r.h5.{dead}.b.part"]
    assert sorted(os.listdir(tmp_path)) == sorted(keep)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
