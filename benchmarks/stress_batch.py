"""A CA3 stress sweep point by point vs stacked into one launch per mode and size, side by side.

``spikemem stress ca3 --batch`` stacks the random streams of one network shape (mode and
size) as independent memories into one simulation (``models/ca3.py::run_ca3_batch``). This
script runs the same sweep both ways in one process, checks that every point's counts and
failed ops agree, and prints the wall times and, last, ``batch_speedup=<point by point /
stacked>``. On ``cuda`` the stacked run is the only practical one (each launch is an nvcc
build); on CPU targets it saves Brian2's per-run set-up.

    python benchmarks/stress_batch.py                          # 5x10 and 100x100, both modes, 4 seeds
    python benchmarks/stress_batch.py --sizes 100x100 --modes fidelity --seeds 20 --ops 60
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from spikemem.experiments import ca3_stress as stress
from spikemem.experiments._sweep import launches, sweep


def timed_sweep(config: stress.StressConfig, batch: int, folder: Path) -> tuple[list[dict], float]:
    t0 = time.perf_counter()
    results, _ = sweep(replace(config, batch=batch), folder / f"batch{batch}.jsonl", stress.run_launch, progress=False)
    return results, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5x10,100x100")
    parser.add_argument("--modes", default="fidelity,functional")
    parser.add_argument("--spacings", default="min")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--ops", type=int, default=60)
    parser.add_argument("--target", default="brian2:numpy")
    args = parser.parse_args(argv)
    options = argparse.ArgumentParser()
    stress.add_arguments(options)
    picked = [f"--{name}={value}" for name, value in vars(args).items()]
    config = stress.config_from_args(options.parse_args(picked))
    stress.run_point(config.points()[0], config)  # Brian2's import and first-run costs, outside both timings
    with tempfile.TemporaryDirectory(prefix="stress-batch-") as tmp:
        alone, t_alone = timed_sweep(config, 1, Path(tmp))
        stacked, t_stacked = timed_sweep(config, 0, Path(tmp))
    same = all(
        a["counts"] == b["counts"] and a["failed_ops"] == b["failed_ops"] for a, b in zip(alone, stacked, strict=True)
    )
    n_launches = len(launches(config.points(), 0))
    correct = sum(r["counts"]["recalls_correct"] for r in alone)
    recalls = sum(r["counts"]["recalls"] for r in alone)
    print(f"{len(alone)} points ({config.ops} ops each) on {alone[0]['engine']}, {os.cpu_count()} CPUs")
    print(f"point by point: {len(alone)} launches {t_alone:8.2f} s")
    print(f"stacked:        {n_launches} launches {t_stacked:8.2f} s")
    print(f"every point's counts and failed ops agree: {same} ({correct}/{recalls} recalls correct)")
    print(f"batch_speedup={t_alone / t_stacked:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
