"""What the sweep fault tests share: a tiny CA3 sweep, running it as a user does (the
``spikemem`` command in a process of its own), watching its resume file, its process tree,
and comparing two sweeps' numbers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from spikemem.experiments import ca3_stress as stress

#: A tiny CA3 sweep (numpy runtime: no compiler): 2 modes x SEEDS seeds at (5, 10), 30 ops.
TINY = ("--sizes", "5x10", "--modes", "functional,fidelity", "--spacings", "min", "--ops", "30")
TARGET = ("--target", "brian2:numpy")
#: The per-point numbers that must not depend on where or how a point ran (times do).
NUMBERS = ("key", "mode", "spacing", "engine", "n_cues", "n_bits", "seed", "launch_points", *stress.COUNTS)


def argv(seeds: int, *more: str) -> list[str]:
    """``stress ca3`` arguments of the tiny sweep with ``seeds`` seeds per mode."""
    return ["stress", "ca3", *TINY, *TARGET, "--seeds", str(seeds), "--no-progress", *more]


def parse(*args: str) -> Any:
    """The ``spikemem stress ca3`` namespace of ``args`` (after ``stress ca3``)."""
    import argparse

    parser = argparse.ArgumentParser()
    stress.add_arguments(parser)
    return parser.parse_args(list(args))


def start(args: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    """``spikemem ARGS`` in a process of its own, as a user runs it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    code = "import sys; from spikemem.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


def results_in(resume: Path) -> list[dict[str, Any]]:
    """The results recorded so far in a resume file (whole lines only, header left out)."""
    if not resume.exists():
        return []
    lines = resume.read_bytes().split(b"\n")[:-1]
    entries = [json.loads(line) for line in lines if line.strip()]
    return [e["result"] for e in entries if "result" in e]


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str, proc: subprocess.Popen | None = None) -> Any:
    """Poll ``condition`` until it is true; fail after ``timeout_s`` (or when ``proc`` ends first)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the run ended (rc {proc.returncode}) before {what}: {err[-2000:]}")
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, their children...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat:
                children.setdefault(stat[1], []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (a zombie waiting for its reaper is not)."""
    return {pid for pid in pids if (stat := _stat(pid)) and stat[0] != "Z"}


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to a process that may have ended already."""
    if proc.poll() is None:
        os.kill(proc.pid, sig)


def numbers(points: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per point key, the numbers of a stress file's ``points`` table that a run must reproduce."""
    keys = list(points["key"])
    table = {name: [v.item() if isinstance(v, np.generic) else v for v in points[name]] for name in NUMBERS}
    return {key: {name: table[name][k] for name in NUMBERS} for k, key in enumerate(keys)}


def result_numbers(result: dict[str, Any]) -> dict[str, Any]:
    """The same numbers from one result (a resume file's entry)."""
    point = result["point"]
    fields = {**point, **result["counts"], "key": result["key"], "engine": result["engine"]}
    fields["launch_points"] = result.get("launch_points", 1)
    return {name: fields[name] for name in NUMBERS}


def status(exit_code: int) -> int:
    """The command's exit status for an error with this ``exit_code``: the code itself where the
    command tells work that failed (3) from input refused (2), else 2 for every error."""
    from spikemem import cli

    return exit_code if hasattr(cli, "EXIT_FAILED") else 2


def on_sigterm() -> tuple[int, str]:
    """(exit status, last line) of the command stopped by SIGTERM."""
    from spikemem import cli

    return (cli.EXIT_TERMINATED, "terminated") if hasattr(cli, "EXIT_TERMINATED") else (130, "interrupted")


def launch_that_raises(
    points: tuple[Any, ...], config: Any, bad_key: str = "", error: type[Exception] = RuntimeError
) -> list[dict[str, Any]]:
    """A CA3 launch that, for the point ``bad_key``, raises ``error`` after its simulation, as a
    crash of the engine or of its scoring would (the other points run as usual)."""
    results = stress.run_launch(points, config)
    if any(p.key == bad_key for p in points):
        raise error(f"the engine crashed on {bad_key}\nsecond line of the message")
    return results
