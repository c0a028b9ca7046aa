"""Backends side by side: the same networks on every installed CPU target.

Networks:

* ``ca3_100x100`` — the published CA3 circuit at N = M = 100 (701 neurons, 51 100
  synapses, 20 000 plastic) running a seeded stream of 1000 random operations at the
  paper's spacing, with the nearest semantics every continuous-time simulator honours
  (``exact`` integration, ``online`` STDP; NEST runs its dendritic-delay STDP rule);
* ``cuba_4000`` — the Vogels–Abbott CUBA network (4000 cells, 3.2e5 synapses,
  dt 0.1 ms), 1 s.

Targets: ``brian2:numpy``, ``brian2:cpp_standalone`` (one thread), ``pynn:brian2``,
``pynn:nest`` (one thread), each installed one in its own process with a time limit.
Per run it prints the build time (network construction, code generation, compilation),
the run time (the simulator's own run call; for C++ standalone Brian2's timing of the
time-step loop) and the total **wall time per simulated second**. The last line is

    nest_vs_brian2=<wall per simulated s of the fastest Brian2 engine / that of pynn:nest>

(geometric mean over the networks; above 1 means NEST is faster), with build included.

Usage: ``python benchmarks/backends.py [--ops 1000] [--cuba-ms 1000] [--targets ...]
[--networks ...] [--timeout 900]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

TARGETS = ("brian2:numpy", "brian2:cpp_standalone", "pynn:brian2", "pynn:nest")
NETWORKS = ("ca3_100x100", "cuba_4000")
NEEDS = {"pynn:brian2": ("pyNN", "brian2"), "pynn:nest": ("pyNN", "nest")}


def build(name: str, ops: int, cuba_ms: float):
    """The network and its duration (ms)."""
    if name == "ca3_100x100":
        from spikemem.models.ca3 import duration_ms, encode, random_schedule
        from spikemem.models.ca3.fidelity import build_fidelity

        schedule = random_schedule(100, 100, ops, seed=0)
        inputs = encode(schedule, "fidelity")
        net = build_fidelity(
            100, 100, inputs["INcue"], inputs["INcont"], integration="exact", timing="online", record_all=False
        )
        return net, duration_ms(schedule, "fidelity")
    from spikemem.models.cuba import cuba_network

    return cuba_network(), cuba_ms


def one(name: str, target: str, ops: int, cuba_ms: float) -> dict:
    """Run one network on one target in this process; return the timings."""
    from spikemem import simulate

    net, duration = build(name, ops, cuba_ms)
    options = {"threads": 1} if target in ("brian2:cpp_standalone", "pynn:nest") else {}
    if target == "pynn:nest" and name.startswith("ca3"):
        options["dendritic_stdp"] = True
    t0 = time.perf_counter()
    res = simulate(net, duration, target=target, seed=1, **options)
    wall = time.perf_counter() - t0
    prov = res.provenance
    return {
        "network": name,
        "target": target,
        "sim_s": duration / 1000.0,
        "build_s": wall - prov["run_s"],
        "run_s": prov["run_s"],
        "wall_s": wall,
        "spikes": int(sum(len(s) for s in res.spikes.values())),
    }


def installed(target: str) -> bool:
    return all(importlib.util.find_spec(mod) is not None for mod in NEEDS.get(target, ("brian2",)))


def child(name: str, target: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--one", name, target, "--ops", str(args.ops), "--cuba-ms", str(args.cuba_ms)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"network": name, "target": target, "status": f"over {args.timeout:g} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        return {"network": name, "target": target, "status": "failed: " + proc.stderr.strip().splitlines()[-1][:80]}
    return {**json.loads(lines[-1]), "status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000, help="random CA3 operations")
    parser.add_argument("--cuba-ms", type=float, default=1000.0, help="simulated time of CUBA (ms)")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--networks", default=",".join(NETWORKS))
    parser.add_argument("--timeout", type=float, default=900.0, help="limit per run (s)")
    parser.add_argument("--one", nargs=2, metavar=("NETWORK", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], args.ops, args.cuba_ms)))
        return
    rows = []
    header = f"{'network':<12} {'target':<22} {'sim s':>6} {'build s':>8} {'run s':>8} {'wall s':>8} {'wall/sim s':>10}"
    print(header + f" {'spikes':>8}  status", flush=True)
    for name in args.networks.split(","):
        for target in args.targets.split(","):
            if not installed(target):
                print(f"{name:<12} {target:<22} {'':>44}  not installed", flush=True)
                continue
            row = child(name, target, args)
            rows.append(row)
            if row["status"] != "ok":
                print(f"{name:<12} {target:<22} {'':>44}  {row['status']}", flush=True)
                continue
            per = row["wall_s"] / row["sim_s"]
            print(
                f"{name:<12} {target:<22} {row['sim_s']:>6.2f} {row['build_s']:>8.2f} {row['run_s']:>8.2f} "
                f"{row['wall_s']:>8.2f} {per:>10.3f} {row['spikes']:>8}  ok",
                flush=True,
            )
    ratios = []
    for name in args.networks.split(","):
        ok = {r["target"]: r["wall_s"] / r["sim_s"] for r in rows if r["network"] == name and r["status"] == "ok"}
        brian2 = [v for k, v in ok.items() if k.startswith("brian2")]
        if brian2 and "pynn:nest" in ok:
            ratios.append(min(brian2) / ok["pynn:nest"])
            print(f"{name}: fastest Brian2 engine / NEST (wall per simulated s) = {ratios[-1]:.3g}")
    ratio = math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else float("nan")
    print(f"nest_vs_brian2={ratio:.4g}")


if __name__ == "__main__":
    main()
