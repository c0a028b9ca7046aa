"""Sweeps on a real Dask cluster on this machine (loopback addresses, bounded times), and what
the cluster's faults do to them.

The cluster is a ``LocalCluster`` of two worker *processes* (one thread each), or a
``dask scheduler`` with ``dask worker`` processes started as a user starts them; workers
import spikemem as installed. Every fault is real (``SIGKILL`` of a worker, of the client,
of the scheduler), and every surviving number is compared with an uninterrupted local run
of the same config.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason='needs dask.distributed (pip install "spikemem[dask]")')

from _sweeps import (  # noqa: E402
    argv,
    kill,
    launch_that_raises,
    numbers,
    parse,
    result_numbers,
    results_in,
    start,
    status,
    wait_for,
)
from distributed import Client, LocalCluster  # noqa: E402

from spikemem import cli  # noqa: E402
from spikemem.errors import ValidationError  # noqa: E402
from spikemem.experiments import _dask, _launch, _resume, _sweep  # noqa: E402
from spikemem.experiments import ca3_rram_stress as rram  # noqa: E402
from spikemem.experiments import ca3_stress as stress  # noqa: E402

SEEDS = 4  # 8 points: 2 modes x 4 seeds, about a second each


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes (not threads) on loopback."""
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
        ) as local,
        Client(local.scheduler_address, set_as_default=False) as client,
    ):
        client.wait_for_workers(2, timeout=60)
        yield local.scheduler_address, client


@pytest.fixture(scope="module")
def config() -> stress.StressConfig:
    return stress.config_from_args(parse(*argv(SEEDS)[2:]))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, dict]:
    """The sweep run here, uninterrupted (``spikemem stress ca3 --out``): its numbers per point."""
    out = tmp_path_factory.mktemp("reference") / "local.h5"
    stress.run(parse(*argv(SEEDS)[2:], "--out", str(out)))
    return numbers(stress.load_stress(out)["points"])


def _workers_ready(client: Client, n: int = 2) -> None:
    client.wait_for_workers(n, timeout=60)


def _executing(client: Client) -> tuple[str, str] | None:
    """(worker address, task key) of a task some worker is executing now, if any."""
    running = client.run(lambda dask_worker: [ts.key for ts in dask_worker.state.executing])
    return next(((addr, keys[0]) for addr, keys in running.items() if keys), None)


def _kill_a_busy_worker(client: Client, killed: dict) -> None:
    """SIGKILL a worker in the middle of a launch; ``killed["rerun"]`` once the scheduler has
    given that launch to a worker again (a launch that finished just before its worker died
    is not rerun: then another busy worker is killed)."""
    found = _executing(client)
    if not found:
        return
    worker, key = found
    pid = client.run(os.getpid, workers=[worker])[worker]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        story = client.story(key, on_error="ignore")
        if sum(1 for t in story if t[2] == "processing") >= 2:
            killed.update(worker=worker, key=key, pid=pid, rerun=True)
            return
        if any(t[2] == "memory" for t in story):
            return  # it had finished: try again
        time.sleep(0.05)


# --- a worker dies in the middle of a launch ----------------------------------------------------


def test_a_worker_killed_mid_launch_is_rerun_elsewhere_and_every_point_lands_once(tmp_path, cluster, config, reference):
    address, client = cluster
    _workers_ready(client)
    out = tmp_path / "stress.h5"
    resume = _sweep.resume_path(config, str(out))
    seen, killed, stop = bytearray(), {}, threading.Event()

    def watch() -> None:  # tails the resume file (readable after its removal) and kills a busy worker
        wait_for(resume.exists, 120, "the resume file")
        with open(resume, "rb") as fh:
            while not stop.is_set():
                seen.extend(fh.read())
                if "rerun" not in killed and seen.count(b"\n") >= 2:  # the header and a first point
                    _kill_a_busy_worker(client, killed)
                time.sleep(0.02)
            seen.extend(fh.read())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        report = stress.run(parse(*argv(SEEDS)[2:], "--scheduler", address, "--out", str(out)))
    finally:
        stop.set()
        watcher.join()
    assert killed.get("rerun"), "no worker was killed in the middle of a launch"
    lines = [json.loads(line) for line in bytes(seen).splitlines()]
    recorded = [line["result"] for line in lines[1:]]
    assert sorted(r["key"] for r in recorded) == sorted(reference)  # each point exactly once
    assert {r["key"]: result_numbers(r) for r in recorded} == reference
    data = stress.load_stress(out)
    assert sorted(data["points"]["key"]) == sorted(reference)
    assert numbers(data["points"]) == reference
    assert report.metrics["points"] == len(reference)
    _workers_ready(client)  # the nanny restarted the killed worker


# --- the client dies ----------------------------------------------------------------------------


def test_a_killed_client_resumes_only_the_missing_points(tmp_path, capsys, cluster, config, reference):
    """``spikemem stress --scheduler`` killed mid-sweep: ``--resume`` of another config is
    refused naming the difference; of the same config it runs only the missing points (the
    finished ones keep the very numbers, times included, that the killed run recorded) and ends
    with the uninterrupted run's numbers."""
    address, client = cluster
    _workers_ready(client)
    out = tmp_path / "stress.h5"
    resume = _sweep.resume_path(config, str(out))
    proc = start([*argv(SEEDS), "--scheduler", address, "--out", str(out)])
    try:
        wait_for(lambda: len(results_in(resume)) >= 2, 120, "two points finished", proc)
    finally:
        kill(proc)
        proc.communicate()
    before = {r["key"]: r for r in results_in(resume)}
    assert 2 <= len(before) < len(reference)

    content = resume.read_bytes()
    rc = cli.main([*argv(SEEDS, "--ops", "24"), "--scheduler", address, "--resume", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "written by another config: ops = 30 there, 24 now" in err[0]
    assert resume.read_bytes() == content

    report = stress.run(parse(*argv(SEEDS)[2:], "--scheduler", address, "--resume", "--out", str(out)))
    assert report.metrics["points"].startswith(f"{len(reference)} ({len(before)} from")
    data = stress.load_stress(out)
    walls = dict(zip(data["points"]["key"], data["points"]["wall_s"], strict=True))
    assert all(walls[key] == result["wall_s"] for key, result in before.items())  # reused, not rerun
    assert numbers(data["points"]) == reference


# --- the scheduler cannot be reached, or goes away ----------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_naming_its_address_and_the_resume_file_is_kept(tmp_path, capsys, config):
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "stress.h5"
    resume = _sweep.resume_path(config, str(out))
    done = stress.run_point(config.points()[0], config)
    resume.write_text(
        json.dumps(_resume.header(config)) + "\n" + json.dumps({"config": config.digest(), "result": done}) + "\n"
    )
    started = time.monotonic()
    rc = cli.main([*argv(SEEDS), "--scheduler", address, "--resume", "--out", str(out)])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert f"no Dask scheduler answers at {address} (connection refused)" in err[0]
    assert elapsed < _launch.CONNECT_TIMEOUT_S
    assert list(_resume.load(resume, config, stress.RESULT_SCHEMA)) == [done["key"]]


@pytest.mark.parametrize("address", ["nonsense", "tcp://127.0.0.1", "tcp://127.0.0.1:port"])
def test_a_malformed_scheduler_address_is_refused_before_anything_runs(tmp_path, address):
    out = tmp_path / "stress.h5"
    with pytest.raises(ValidationError) as err:
        stress.run(parse(*argv(SEEDS)[2:], "--scheduler", address, "--out", str(out)))
    assert err.value.field == "--scheduler" and "tcp://" in err.value.allowed
    assert not out.exists() and not _sweep.resume_path(None, str(out)).exists()


def _dask_process(*args: str, log: Path) -> subprocess.Popen:
    """``dask ARGS`` run in the log's folder, away from the checkout: it imports spikemem as installed."""
    with open(log, "w") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *args], stdout=fh, stderr=subprocess.STDOUT, cwd=log.parent
        )


def test_a_scheduler_gone_mid_sweep_is_one_line_naming_its_address_and_every_finished_point_is_kept(
    tmp_path, config, reference
):
    """``dask scheduler`` and two ``dask worker`` processes, started as a user starts them;
    the scheduler is killed once the sweep has finished points."""
    file = tmp_path / "scheduler.json"
    scheduler = _dask_process(
        "scheduler",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-dashboard",
        "--scheduler-file",
        str(file),
        log=tmp_path / "scheduler.log",
    )
    workers = []
    try:
        address = wait_for(
            lambda: file.exists() and json.loads(file.read_text() or "{}").get("address"), 60, "the scheduler"
        )
        for k in range(2):
            workers.append(
                _dask_process(
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--death-timeout",
                    "10",
                    log=tmp_path / f"worker{k}.log",
                )
            )
        with Client(address, set_as_default=False, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        out = tmp_path / "stress.h5"
        resume = _sweep.resume_path(config, str(out))
        proc = start([*argv(SEEDS), "--scheduler", address, "--out", str(out)])
        try:
            wait_for(lambda: len(results_in(resume)) >= 2, 120, "two points finished", proc)
            kill(scheduler)
            before = results_in(resume)
            started = time.monotonic()
            _, err = proc.communicate(timeout=60)
            elapsed = time.monotonic() - started
        finally:
            kill(proc)
    finally:
        for p in (scheduler, *workers):
            kill(p)
            p.wait()
    lines = err.strip().splitlines()
    assert proc.returncode == status(3) and len(lines) == 1, err
    assert f"the Dask scheduler at {address} went away" in lines[0]
    assert f"finished points are kept in {resume}" in lines[0]
    assert elapsed < 30
    after = results_in(resume)
    assert after[: len(before)] == before and not out.exists()
    kept = _resume.load(resume, config, stress.RESULT_SCHEMA)
    assert {key: result_numbers(r) for key, r in kept.items()} == {key: reference[key] for key in kept}


# --- a launch raises on a worker ----------------------------------------------------------------


@pytest.mark.parametrize("error", [RuntimeError, FileNotFoundError])  # an OSError is the launch's, not the network's
def test_a_launch_that_raises_on_a_worker_names_its_point_and_the_finished_points_are_kept(
    tmp_path, cluster, config, reference, error
):
    address, client = cluster
    _workers_ready(client)
    bad = config.points()[4].key  # after the first few points
    resume = tmp_path / "resume.jsonl"
    with pytest.raises(_launch.SweepStopped) as err:
        _sweep.sweep(
            config,
            resume,
            partial(launch_that_raises, bad_key=bad, error=error),
            scheduler=address,
            progress=False,
            schema=stress.RESULT_SCHEMA,
        )
    message = str(err.value)
    assert "\n" not in message
    assert (
        f"the launch of point {bad} failed on a Dask worker: {error.__name__}: the engine crashed on {bad}" in message
    )
    kept = results_in(resume)
    assert kept and f"{len(kept)} finished points are kept in {resume}" in message
    assert all(result_numbers(r) == reference[r["key"]] for r in kept)


# --- the other sweep, and what a worker is given ------------------------------------------------


def test_the_device_sweep_on_the_cluster_gives_the_local_numbers(tmp_path, cluster):
    address, client = cluster
    _workers_ready(client)
    small = ("--sizes", "5x8", "--ops", "24", "--seeds", "2", "--target", "brian2:numpy", "--params", "stuck_off")
    small += ("--stuck-off", "0.2", "--no-progress")

    def swept(*more: str) -> dict:
        import argparse

        parser = argparse.ArgumentParser()
        rram.add_arguments(parser)
        out = tmp_path / f"rram{len(more)}.h5"
        rram.run(parser.parse_args([*small, "--out", str(out), *more]))
        points = rram.load_sweep(out)["points"]
        return {
            name: [str(v) for v in points[name]] for name in ("key", "recalls_correct", "missed_bits", "false_bits")
        }

    assert swept("--scheduler", address) == swept()


def test_a_worker_without_a_usable_home_gets_a_cache_of_its_own(tmp_path):
    """A worker whose HOME cannot hold the compiled-code cache (and no $SPIKEMEM_CACHE):
    the set-up every worker runs gives it one under its own local directory."""
    env = {"HOME": "/proc/self/no-home", "SPIKEMEM_CACHE": ""}
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0", env=env
        ) as local,
        Client(local.scheduler_address, set_as_default=False) as client,
    ):

        def cache() -> str:
            from spikemem.cache import cache_dir

            return str(cache_dir("probe"))

        with pytest.raises(OSError):
            client.run(cache)  # as the worker starts: no cache can be made
        client.register_plugin(_dask.WorkerSetup())
        folder = next(iter(client.run(cache).values()))
        local_dir = next(iter(client.run(lambda dask_worker: dask_worker.local_directory).values()))
        assert folder.startswith(local_dir) and Path(folder).is_dir()
