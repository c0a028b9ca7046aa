"""Spike-counting pools vs direct synapses for the CA3's all-to-all inhibitions.

The fidelity circuit (spec/ca3.md §2.4) has three uniform all-to-all inhibitions (N² - N,
N·M and N² - N synapses). The Brian2 lowering runs such projections through pools
(``hardware/brian2/pools.py``: N + M synapses each; by default only above 200 000
synapses, smaller ones are fused). This script runs the same random stream both ways,
side by side, on Brian2's C++ standalone (one thread), each in its own process and build
folder, and prints the time of the simulation loop, the build, and whether every
population's spikes are identical. The last line is
``pool_speedup=<direct loop time / pooled loop time>`` at the largest size.

    python benchmarks/pools.py --sizes 300 1000 --ops 200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")


def worker(size: int, ops: int, seed: int, pooled: bool, build_dir: str) -> dict:
    """Run one side; return its timings and a digest of every population's spikes."""
    from gpu import spikes_digest  # benchmarks/gpu.py, beside this script

    from spikemem import simulate
    from spikemem.hardware.brian2 import pools as _brian2_pool
    from spikemem.models import ca3

    # pooled: every poolable projection, whatever its size; direct: none
    _brian2_pool.MAX_FUSED = 0 if pooled else sys.maxsize
    schedule = ca3.random_schedule(size, size, ops, spacing_ms=(7.0, 6.0), seed=seed, density=0.3)
    network = ca3.ca3_network(schedule, "fidelity", record="all")
    duration = ca3.duration_ms(schedule, "fidelity")
    t0 = time.perf_counter()
    results = simulate(network, duration, target="brian2:cpp_standalone", threads=1, build_dir=build_dir)
    wall = time.perf_counter() - t0
    answers = ca3.decode(results, schedule, "fidelity")
    score = ca3.evaluate(answers, schedule, ca3.circuit("fidelity"))[0]
    return {
        "sim_s": duration / 1000.0,
        "run_s": float(results.provenance["run_s"]),
        "build_s": wall - float(results.provenance["run_s"]),
        "spikes": sum(len(s) for s in results.spikes.values()),
        "spikes_sha": spikes_digest(results, tuple(sorted(results.spikes))),
        "recalls": f"{score['recalls_correct']}/{score['recalls']}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000], help="N = M of the CA3 memory")
    parser.add_argument("--ops", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        size, pooled, build_dir, seed = args.worker
        print(json.dumps(worker(int(size), args.ops, int(seed), pooled == "pooled", build_dir)), flush=True)
        return 0
    ratio = None
    with tempfile.TemporaryDirectory(prefix="spikemem-pools-") as tmp:
        for size in args.sizes:
            rows = {}
            for side in ("direct", "pooled"):
                cmd = [sys.executable, os.path.abspath(__file__), "--ops", str(args.ops)]
                cmd += ["--worker", str(size), side, os.path.join(tmp, f"{side}-{size}"), str(args.seed)]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                rows[side] = r = json.loads(out.strip().splitlines()[-1])
                print(
                    f"N = M = {size:>5}  {side:<6}  sim {r['sim_s']:.3f} s  loop {r['run_s']:8.3f} s  "
                    f"build {r['build_s']:6.1f} s  spikes {r['spikes']:>7}  recalls {r['recalls']}",
                    flush=True,
                )
            same = rows["direct"]["spikes_sha"] == rows["pooled"]["spikes_sha"]
            ratio = rows["direct"]["run_s"] / rows["pooled"]["run_s"]
            print(f"N = M = {size:>5}  direct/pooled loop time {ratio:.2f}; identical spikes: {same}", flush=True)
    print(f"pool_speedup={ratio:.2f}  (at N = M = {args.sizes[-1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
