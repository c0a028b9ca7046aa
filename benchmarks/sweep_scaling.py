"""One CA3 stress sweep run here with one worker and on a Dask cluster of two worker processes.

The sweep (default 16 points: 2 sizes x 2 modes x 4 seeds, 60 ops each, numpy) runs through
``spikemem.experiments._sweep.sweep`` twice in one process: here, one launch after the
other, then on a ``dask.distributed.LocalCluster`` of two worker processes (one thread
each) on loopback, through the same ``--scheduler`` path a user takes. Each process first
runs one point of each shape (mode and size), so Brian2's import and first-run costs stay
outside both timings. It checks that every point's counts, failed ops and duration agree,
and prints both wall times and, last, ``dask_speedup=<1 worker / 2 worker processes>``.

    python benchmarks/sweep_scaling.py                       # 16 points
    python benchmarks/sweep_scaling.py --sizes 5x10 --seeds 8 --ops 120
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from spikemem.experiments import ca3_stress as stress
from spikemem.experiments._sweep import sweep

#: What must not depend on where a point ran (its times do).
SAME = ("counts", "failed_ops", "duration_ms", "engine", "launch_points")


def config_of(args: argparse.Namespace) -> stress.StressConfig:
    options = argparse.ArgumentParser()
    stress.add_arguments(options)
    return stress.config_from_args(options.parse_args([f"--{name}={value}" for name, value in vars(args).items()]))


def warm(config: stress.StressConfig) -> None:
    """Run the first point of each shape (mode and size) once in this process."""
    firsts: dict[str, stress.Point] = {}
    for point in config.points():
        firsts.setdefault(point.shape, point)
    for point in firsts.values():
        stress.run_point(point, config)


def timed(config: stress.StressConfig, resume: Path, **where: Any) -> tuple[list[dict[str, Any]], float]:
    t0 = time.perf_counter()
    results, _ = sweep(config, resume, stress.run_launch, progress=False, schema=stress.RESULT_SCHEMA, **where)
    return results, time.perf_counter() - t0


def on_cluster(config: stress.StressConfig, resume: Path) -> tuple[list[dict[str, Any]], float]:
    """The sweep on a LocalCluster of two worker processes, each warmed first (:func:`warm`)."""
    from distributed import Client, LocalCluster

    from spikemem.experiments._dask import WorkerSetup

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
        ) as cluster,
        Client(cluster.scheduler_address, set_as_default=False) as client,
    ):
        client.wait_for_workers(2, timeout=120)
        client.register_plugin(WorkerSetup())
        client.run(warm, config)
        return timed(config, resume, scheduler=cluster.scheduler_address)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5x10,20x20")
    parser.add_argument("--modes", default="fidelity,functional")
    parser.add_argument("--spacings", default="min")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--ops", type=int, default=60)
    parser.add_argument("--target", default="brian2:numpy")
    config = config_of(parser.parse_args(argv))
    warm(config)  # this process's first-run costs, outside the timing
    with tempfile.TemporaryDirectory(prefix="sweep-scaling-") as tmp:
        here, t_here = timed(config, Path(tmp) / "here.jsonl")
        dask, t_dask = on_cluster(config, Path(tmp) / "dask.jsonl")
    same = all(all(a[name] == b[name] for name in SAME) for a, b in zip(here, dask, strict=True))
    correct = sum(r["counts"]["recalls_correct"] for r in here)
    recalls = sum(r["counts"]["recalls"] for r in here)
    print(f"{len(here)} points ({config.ops} ops each) on {here[0]['engine']}, {os.cpu_count()} CPUs")
    print(f"here, 1 worker:                    {t_here:8.2f} s")
    print(f"LocalCluster, 2 worker processes:  {t_dask:8.2f} s")
    print(f"every point's counts, failed ops and duration agree: {same} ({correct}/{recalls} recalls correct)")
    print(f"dask_speedup={t_here / t_dask:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
