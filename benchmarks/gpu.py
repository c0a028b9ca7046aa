"""The CA3 memory on a GPU (brian2cuda) vs Brian2's C++ standalone, on the same machine.

Cases (fidelity circuit, spec/ca3.md §2.4; random streams of learns, cue and content
recalls at the maximum rate, 7 ms after a learn and 6 ms after a recall):

``ca3-1000``    N = M = 1 000 (2e6 plastic synapses, 5e6 in all)
``ca3-10000``   N = M = 10 000 (2e8 plastic synapses, 5e8 in all)
``batch-1000``  1 000 independent (100, 100) memories, each with its own stream, stacked
                into one run (``spikemem.batch``); answers decoded per memory

(Synapse counts are the model's; its three all-to-all inhibitions, 3e8 of ca3-10000's
synapses, run as spike-counting pools with a few thousand Brian2 synapses each,
``hardware/brian2/pools.py``.)

Each (case, side) runs in its own process with a time limit. For each it prints the
simulated time, the time of the simulation loop (``run_s``, as the simulator reports it),
everything else (``build_s``: code generation, compilation, synapse creation), the rate
in simulated seconds per wall-clock second of the loop, and how many recalls the memory
answered correctly. Per case it says whether GPU and C++ gave the same answers and the
same output spikes. The last line is ``gpu_speedup=<GPU rate / C++ rate>`` at the
largest CA3 size where both sides finished.

Building dominates the wall time: on a 16-core H200 machine nvcc needs ~2-2.5 min for a
CA3 CUDA project (-j16), g++ ~20 s for the C++ one. Compile the GPU side ahead with
``benchmarks/gpu_prebuild.py`` (then its rows say ``setup``: everything the program does
outside the simulation loop, synapse creation above all) and run the cases one at a time
where time is short (``--cases``). brian2cuda creates and sorts synapses on the host, one
thread: on an H100 machine that took 64 s for the batch's 5.1e7 synapses, and ca3-10000's
5.0e8 did not finish within 521 s, before the inhibitions were pooled (2.0e8 are left) and
before brian2cuda's map of (pre, post) pairs gave way to a linear pass
(``hardware/cuda/pairs.py``); now, on an H200 machine, ca3-10000 sets up in 25-31 s and
the batch in 18.5 s (figures in the README's GPU section).
A GPU run that is stopped prints the end of its program's ``main.log`` (how far the
set-up got). Where a case's two sides do not fit one command, run them one after the
other on the same machine: ``--previous`` takes the rows an earlier run wrote with
``--json`` (refused if they come from another host) and prints the ratio with them.

    python benchmarks/gpu.py                     # all cases, GPU and C++
    python benchmarks/gpu.py --small --sides cpp --ops 6   # a dry run of the script without a GPU
    python benchmarks/gpu.py --cases ca3-10000 --sides gpu --json rows.json
    python benchmarks/gpu.py --cases ca3-10000 --sides cpp --previous rows.json --json rows.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

CASES = {"ca3-1000": (1000, 1), "ca3-10000": (10000, 1), "batch-1000": (100, 1000)}
#: ``--small``: the same cases shrunk, to check the script on a machine without a GPU.
SMALL = {"ca3-1000": (20, 1), "ca3-10000": (40, 1), "batch-1000": (10, 4)}
DEFAULT_OPS = {"ca3-1000": 40, "batch-1000": 12, "ca3-10000": 12}
SIDES = ("gpu", "cpp")


def synapse_count(network: Any) -> int:
    """Synapses of a network, counted from its connectors (nothing materialised)."""
    from spikemem.connectors import AllToAll, Blocks, OneToOne

    total = 0
    for proj in network.projections:
        conn, copies = proj.connector, 1
        a, b = network.population(proj.pre).size, network.population(proj.post).size
        if isinstance(conn, Blocks):
            conn, copies = conn.inner, conn.copies
            a, b = a // copies, b // copies
        if isinstance(conn, OneToOne):
            total += copies * a
        elif isinstance(conn, AllToAll):
            total += copies * (a * b - (0 if conn.allow_self_connections else min(a, b)))
        else:
            total += len(network.connections(proj))
    return total


def spikes_digest(results: Any, pops: tuple[str, ...]) -> str:
    """A short digest of the spikes of ``pops`` (equal digests: identical spikes)."""
    h = hashlib.sha256()
    for pop in pops:
        st = results.spikes[pop]
        h.update(st.times.tobytes() + st.indices.tobytes())
    return h.hexdigest()[:16]


def case_network(case: str, ops: int, seed: int, small: bool = False) -> tuple[Any, float, list[Any]]:
    """The network of one case, its duration in ms and its schedules (one per memory)."""
    from spikemem.batch import stack
    from spikemem.models import ca3

    size, copies = (SMALL if small else CASES)[case]
    schedules = [
        ca3.random_schedule(size, size, ops, spacing_ms=(7.0, 6.0), seed=seed + k, density=0.3) for k in range(copies)
    ]
    nets = [ca3.ca3_network(s, "fidelity") for s in schedules]
    network = nets[0] if copies == 1 else stack(nets)
    return network, max(ca3.duration_ms(s, "fidelity") for s in schedules), schedules


def worker(case: str, side: str, ops: int, seed: int, threads: int, small: bool = False) -> dict[str, Any]:
    """Build, run and decode one case on one side; return the measurements."""
    from spikemem.batch import split
    from spikemem.models import ca3
    from spikemem.simulate import simulate

    t0 = time.perf_counter()
    network, duration, schedules = case_network(case, ops, seed, small)
    copies = len(schedules)
    t1 = time.perf_counter()
    if side == "gpu":
        results = simulate(network, duration, target="cuda")
    else:
        results = simulate(network, duration, target="brian2:cpp_standalone", threads=threads)
    t2 = time.perf_counter()
    parts = [results] if copies == 1 else split(results, copies)
    answers = [ca3.decode(part, s, "fidelity") for part, s in zip(parts, schedules)]
    scores = [ca3.evaluate(a, s, ca3.circuit("fidelity"))[0] for a, s in zip(answers, schedules)]
    prov = results.provenance
    return {
        "case": case,
        "side": side,
        "ops_per_memory": ops,
        "memories": copies,
        "neurons": sum(p.size for p in network.populations),
        "synapses": synapse_count(network),
        "sim_s": duration / 1000.0,
        "run_s": float(prov["run_s"]),
        "build_s": float(prov["build_s"]),
        "total_s": t2 - t1,
        "describe_s": t1 - t0,
        "rate": duration / 1000.0 / max(float(prov["run_s"]), 1e-9),
        "recalls": sum(s["recalls"] for s in scores),
        "recalls_correct": sum(s["recalls_correct"] for s in scores),
        "answers_sha": hashlib.sha256(json.dumps(answers).encode()).hexdigest()[:16],
        "spikes_sha": spikes_digest(results, ("OUTcue", "OUTcont")),
        "output_spikes": len(results.spikes["OUTcue"]) + len(results.spikes["OUTcont"]),
        "device": prov.get("gpu", f"CPU, {threads} thread(s)"),
        "compiled_earlier": bool(prov.get("compiled_earlier", False)),
    }


def _launch(case: str, side: str, ops: int, seed: int, threads: int, timeout: float, small: bool) -> dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", case, side, str(ops), str(seed), str(threads)]
    cmd += ["--small"] if small else []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        error = f"stopped after {timeout:.0f} s"
        log = _newest_main_log() if side == "gpu" else None
        if log is not None:
            error += f"; {log} ends: " + " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
        return {"case": case, "side": side, "error": error}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        tail = (err or out).strip().splitlines()[-3:]
        return {"case": case, "side": side, "error": f"exit {proc.returncode}: " + " | ".join(tail)}
    return json.loads(lines[-1])


def _newest_main_log() -> Any:
    """The ``main.log`` most recently written by a CUDA project in the spikemem cache, or None."""
    from spikemem.cache import cache_dir

    logs = list(cache_dir("cuda_standalone").glob("*/main.log"))
    return max(logs, key=lambda p: p.stat().st_mtime) if logs else None


def _previous_rows(path: str) -> list[dict[str, Any]]:
    """The finished rows of an earlier run on this machine, marked ``previous``."""
    with open(path) as fh:
        rows = [r for r in json.load(fh) if "error" not in r]
    host = socket.gethostname()
    others = sorted({r.get("host", "unknown") for r in rows} - {host})
    if others:
        raise SystemExit(f"--previous {path}: rows measured on {', '.join(others)}, not on this machine ({host})")
    for r in rows:
        print("previous:", _line(r))
    return [r | {"previous": True} for r in rows]


def _finished(rows: list[dict[str, Any]], case: str) -> dict[str, dict[str, Any]]:
    """The finished rows of ``case`` by side; a row measured later replaces an earlier one."""
    return {r["side"]: r for r in rows if r["case"] == case and "error" not in r}


def _merge(previous: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` after the ``previous`` rows of the (case, side) pairs that ``rows`` did not finish."""
    measured = {(r["case"], r["side"]) for r in rows if "error" not in r}
    return [r for r in previous if (r["case"], r["side"]) not in measured] + rows


def _write_json(path: str, rows: list[dict[str, Any]]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump(rows, fh, indent=1)
    os.replace(tmp, path)


def _line(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"{r['case']:<11} {r['side']:<4} FAILED: {r['error']}"
    return (
        f"{r['case']:<11} {r['side']:<4} {r['memories']:>5} x {r['ops_per_memory']:>3} ops  "
        f"{r['neurons']:>9,d} neurons {r['synapses']:>13,d} synapses  sim {r['sim_s']:.3f} s  "
        f"loop {r['run_s']:8.3f} s  {'setup' if r.get('compiled_earlier') else 'build'} {r['build_s']:7.1f} s  "
        f"rate {r['rate']:9.4f} sim-s/wall-s  recalls {r['recalls_correct']}/{r['recalls']}  [{r['device']}]"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    parser.add_argument("--ops", type=int, default=None, help="ops per memory (default per case)")
    parser.add_argument("--cpp-ops-10k", type=int, default=None, help="fewer ops for C++ at N = 10 000")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="OpenMP threads of C++ standalone")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per (case, side)")
    parser.add_argument("--budget", type=float, default=None, help="seconds for the whole benchmark")
    parser.add_argument("--json", default=None, help="also write all measurements to this file")
    parser.add_argument(
        "--previous",
        default=None,
        help="a --json file written earlier on this machine: its rows count as measured in this run "
        "(for a case whose two sides need a command each); rows this run measures replace them",
    )
    parser.add_argument("--small", action="store_true", help="shrunk sizes, to check the script (no GPU needed)")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        case, side, ops, seed, threads = args.worker
        print(json.dumps(worker(case, side, int(ops), int(seed), int(threads), args.small)), flush=True)
        return 0

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; C++ standalone with {args.threads} thread(s)")
    previous = _previous_rows(args.previous) if args.previous else []
    rows: list[dict[str, Any]] = []
    deadline = time.monotonic() + args.budget if args.budget else float("inf")
    for case in args.cases:
        ops = args.ops or DEFAULT_OPS[case]
        for side in args.sides:
            n_ops = args.cpp_ops_10k if (side == "cpp" and case == "ca3-10000" and args.cpp_ops_10k) else ops
            if n_ops != ops:
                print(f"note: C++ standalone runs {case} on {n_ops} ops instead of {ops} (time limit)")
            limit = min(args.timeout, deadline - time.monotonic())
            if limit < 10:
                r = {"case": case, "side": side, "error": "skipped: benchmark time budget spent"}
            else:
                r = _launch(case, side, n_ops, args.seed, args.threads, limit, args.small)
            rows.append(r | {"host": socket.gethostname()})
            print(_line(r), flush=True)
            if args.json:  # after every row: a run stopped from outside keeps what it measured
                _write_json(args.json, _merge(previous, rows))
        done = _finished(_merge(previous, rows), case)
        if len(done) == 2:
            g, c = done["gpu"], done["cpp"]
            same_ops = g["ops_per_memory"] == c["ops_per_memory"]
            agree = f"answers agree: {g['answers_sha'] == c['answers_sha']}, output spikes identical: "
            agree += str(g["spikes_sha"] == c["spikes_sha"]) if same_ops else "n/a (different op counts)"
            earlier = " (one side from --previous)" if g.get("previous") or c.get("previous") else ""
            print(f"{case:<11} GPU/C++ rate ratio {g['rate'] / c['rate']:.2f}{earlier}; {agree}", flush=True)
    for case in ("ca3-10000", "ca3-1000"):
        done = _finished(_merge(previous, rows), case)
        if len(done) == 2:
            print(f"gpu_speedup={done['gpu']['rate'] / done['cpp']['rate']:.2f}  (at {case})")
            return 0
    print("gpu_speedup=n/a  (no CA3 size finished on both sides)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
