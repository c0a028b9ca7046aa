"""Overhead of spikemem over hand-written Brian2 on the Vogels–Abbott CUBA network.

The same network (``models/cuba.py``: 4000 current-based LIF neurons, 2 % connectivity,
1 s, dt 0.1 ms) is built through spikemem and written by hand in Brian2 the way the
Brian2 CUBA example writes it (one NeuronGroup, one Synapses object per sign), with the
same connectivity, initial potentials, delays and refractory period. Both run in this
process, alternating, ``--reps`` times per engine.

Run time is what the simulation loop costs: for C++ standalone the binary's own run time
(``device._last_run_time``); for the runtime engines ``net.run`` after a zero-length
warm-up run that generates the code. Build time (objects, code generation, compilation)
is reported separately. Synaptic events per second = delivered spikes x out-degree / run
time. The last line is ``overhead_ratio=<spikemem run time / brian2 run time>``, the
median over repetitions and the worst engine (goal <= 1.05).

    python benchmarks/overhead.py --reps 3 --engines cpp_standalone,numpy [--cython]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

import brian2 as b2  # noqa: E402

from spikemem.cache import cache_dir  # noqa: E402
from spikemem.hardware.brian2 import (
    lowering,  # noqa: E402
    target,  # noqa: E402
)
from spikemem.models.cuba import cuba_network  # noqa: E402
from spikemem.network import Network  # noqa: E402


@dataclass
class Timing:
    path: str
    engine: str
    build_s: float
    run_s: float
    spike_i: np.ndarray  # neuron index in 0..N-1 (exc first, then inh)
    spike_t: np.ndarray  # ms


# --- the network written by hand in Brian2 ---------------------------------------------------------

HAND_EQUATIONS = """
dv/dt = (El - v)/taum + (ie - ii)/C : volt (unless refractory)
die/dt = -ie/taue : amp
dii/dt = -ii/taui : amp
"""


def hand_objects(network: Network) -> tuple[list[Any], Any]:
    """CUBA as in Brian2's example, with spikemem's connectivity and initial potentials."""
    exc, inh = network.population("exc"), network.population("inh")
    cell = exc.cell
    n_exc, n = exc.size, exc.size + inh.size
    ns = {
        "El": cell.v_rest * b2.mV,
        "taum": cell.tau_m * b2.ms,
        "taue": cell.tau_syn_E * b2.ms,
        "taui": cell.tau_syn_I * b2.ms,
        "C": cell.cm * b2.nF,
        "Vt": cell.v_thresh * b2.mV,
        "Vr": cell.v_reset * b2.mV,
    }
    # spikemem's refractoriness: held for round(tau_refrac/dt) steps after the spike step
    P = b2.NeuronGroup(
        n,
        HAND_EQUATIONS,
        threshold="v > Vt",
        reset="v = Vr",
        refractory=(cell.tau_refrac + network.dt) * b2.ms,
        method="exact",
        namespace=ns,
        name="hand_P",
    )
    P.v = np.concatenate([exc.initial_v, inh.initial_v]) * b2.mV
    offsets = {"exc": 0, "inh": n_exc}
    objects = [P]
    for sign, var in (("exc", "ie"), ("inh", "ii")):
        i, j, w, d = [], [], None, None
        for proj in network.projections:
            if proj.pre != sign:
                continue
            c = network.connections(proj)
            i.append(c.i + offsets[proj.pre])
            j.append(c.j + offsets[proj.post])
            w, d = float(c.weight[0]), float(c.delay[0])
        syn = b2.Synapses(P, P, on_pre=f"{var} += {w!r}*nA", delay=d * b2.ms, name=f"hand_C{sign[0]}")
        syn.connect(i=np.concatenate(i), j=np.concatenate(j))
        objects.append(syn)
    mon = b2.SpikeMonitor(P, name="hand_spikes")
    objects.append(mon)
    return objects, mon


def split_hand_objects(network: Network) -> tuple[list[Any], Any]:
    """The same, written with spikemem's structure: one group per population, one
    Synapses per projection (isolates the cost of the lowering's code from its structure)."""
    cell = network.population("exc").cell
    ns = {
        "El": cell.v_rest * b2.mV,
        "taum": cell.tau_m * b2.ms,
        "taue": cell.tau_syn_E * b2.ms,
        "taui": cell.tau_syn_I * b2.ms,
        "C": cell.cm * b2.nF,
        "Vt": cell.v_thresh * b2.mV,
        "Vr": cell.v_reset * b2.mV,
    }
    groups, objects, mons = {}, [], []
    for pop in network.populations:
        g = b2.NeuronGroup(
            pop.size,
            HAND_EQUATIONS,
            threshold="v > Vt",
            reset="v = Vr",
            refractory=(cell.tau_refrac + network.dt) * b2.ms,
            method="exact",
            namespace=ns,
            name=f"split_{pop.name}",
        )
        g.v = pop.initial_v * b2.mV
        groups[pop.name] = g
        mons.append(b2.SpikeMonitor(g, name=f"split_spikes_{pop.name}"))
    objects += list(groups.values()) + mons
    for proj in network.projections:
        c = network.connections(proj)
        var = "ie" if proj.receptor == "excitatory" else "ii"
        syn = b2.Synapses(
            groups[proj.pre],
            groups[proj.post],
            on_pre=f"{var} += {float(c.weight[0])!r}*nA",
            delay=float(c.delay[0]) * b2.ms,
            name=f"split_{proj.name}",
        )
        syn.connect(i=c.i, j=c.j)
        objects.append(syn)
    return objects, mons


# --- one timed run per path and engine ---------------------------------------------------------------


def runtime_spikemem(network: Network, duration_ms: float, engine: str) -> Timing:
    t0 = time.perf_counter()
    built = lowering.build(network, duration_ms, seed=0)
    net = b2.Network(*built.objects)
    net.run(0 * b2.ms)  # code generation
    t1 = time.perf_counter()
    net.run(duration_ms * b2.ms)
    t2 = time.perf_counter()
    i, t = merged_spikes(
        network, {k: (np.asarray(m.i), np.asarray(m.t / b2.ms)) for k, m in built.spike_monitors.items()}
    )
    return Timing("spikemem", engine, t1 - t0, t2 - t1, i, t)


def runtime_hand(network: Network, duration_ms: float, engine: str, split: bool = False) -> Timing:
    t0 = time.perf_counter()
    objects, mon = (split_hand_objects if split else hand_objects)(network)
    net = b2.Network(*objects)
    net.run(0 * b2.ms)
    t1 = time.perf_counter()
    net.run(duration_ms * b2.ms)
    t2 = time.perf_counter()
    i, t = hand_spikes(network, mon)
    return Timing("split" if split else "brian2", engine, t1 - t0, t2 - t1, i, t)


def hand_spikes(network: Network, mon: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(mon, list):
        return np.asarray(mon.i), np.asarray(mon.t / b2.ms)
    return merged_spikes(
        network, {m.source.name[len("split_") :]: (np.asarray(m.i), np.asarray(m.t / b2.ms)) for m in mon}
    )


def standalone_spikemem(network: Network, duration_ms: float) -> Timing:
    gc.collect()  # a live code object of the last build would rename this build's files and force a recompile
    t0 = time.perf_counter()
    target.check(network)
    res = target.run(network, duration_ms, seed=0, variant="cpp_standalone")  # what simulate() runs
    total = time.perf_counter() - t0
    run_s = res.provenance["run_s"]
    spikes = {k: (st.indices, st.times) for k, st in res.spikes.items()}
    i, t = merged_spikes(network, spikes)
    return Timing("spikemem", "cpp_standalone", total - run_s, run_s, i, t)


def standalone_hand(network: Network, duration_ms: float, split: bool = False) -> Timing:
    directory = str(cache_dir("benchmarks", "overhead_split_cuba" if split else "overhead_hand_cuba"))
    gc.collect()
    b2.set_device("cpp_standalone", build_on_run=False, directory=directory)
    try:
        b2.device.reinit()
        b2.device.activate(build_on_run=False, directory=directory)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
        b2.defaultclock.dt = network.dt * b2.ms
        t0 = time.perf_counter()
        objects, mon = (split_hand_objects if split else hand_objects)(network)
        net = b2.Network(*objects)
        net.run(duration_ms * b2.ms)
        b2.device.build(directory=directory, compile=True, run=True, with_output=False)
        total = time.perf_counter() - t0
        run_s = float(b2.device._last_run_time)
        i, t = hand_spikes(network, mon)
    finally:
        b2.device.reinit()
        b2.set_device("runtime")
    return Timing("split" if split else "brian2", "cpp_standalone", total - run_s, run_s, i, t)


def merged_spikes(network: Network, spikes: dict[str, tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    n_exc = network.population("exc").size
    i = np.concatenate([spikes["exc"][0], spikes["inh"][0] + n_exc]).astype(np.int64)
    t = np.concatenate([spikes["exc"][1], spikes["inh"][1]])
    return i, t


def out_degree(network: Network) -> np.ndarray:
    """Synapses leaving each neuron (exc first, then inh)."""
    n_exc = network.population("exc").size
    deg = np.zeros(n_exc + network.population("inh").size, dtype=np.int64)
    for proj in network.projections:
        c = network.connections(proj)
        deg += np.bincount(c.i + (0 if proj.pre == "exc" else n_exc), minlength=len(deg))
    return deg


# --- main ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions per engine and path (alternating)")
    parser.add_argument(
        "--engines", default="cpp_standalone,numpy", help="comma-separated: cpp_standalone,numpy,cython"
    )
    parser.add_argument("--cython", action="store_true", help="add the cython runtime engine")
    parser.add_argument(
        "--split",
        action="store_true",
        help="also time hand-written Brian2 with spikemem's structure (2 groups, 4 Synapses)",
    )
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--p-connect", type=float, default=0.02)
    parser.add_argument("--duration-ms", type=float, default=1000.0)
    args = parser.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e] + (["cython"] if args.cython else [])
    known = ("cpp_standalone", "numpy", "cython")
    if any(e not in known for e in engines) or args.reps < 1:
        parser.error(f"--engines must name {', '.join(known)}; --reps >= 1")

    b2.BrianLogger.log_level_warn()
    b2.BrianLogger.suppress_name("base.method_choice")
    network = cuba_network(args.neurons, args.p_connect)
    degree = out_degree(network)
    print(
        f"CUBA: {args.neurons} neurons, {int(degree.sum())} synapses, {args.duration_ms:g} ms, "
        f"dt {network.dt} ms, brian2 {b2.__version__}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    )
    ratios = {}
    for engine in engines:
        if engine != "cpp_standalone":
            b2.prefs.codegen.target = engine
            if engine == "cython":
                b2.prefs.codegen.runtime.cython.cache_dir = str(cache_dir("brian2_cython"))
            b2.defaultclock.dt = network.dt * b2.ms
        paths = ["spikemem", "brian2"] + (["split"] if args.split else [])
        timings: dict[str, list[Timing]] = {p: [] for p in paths}
        for rep in range(args.reps):
            order = paths if rep % 2 == 0 else paths[::-1]
            for path in order:
                if engine == "cpp_standalone":
                    tm = (
                        standalone_spikemem(network, args.duration_ms)
                        if path == "spikemem"
                        else standalone_hand(network, args.duration_ms, split=path == "split")
                    )
                elif path == "spikemem":
                    tm = runtime_spikemem(network, args.duration_ms, engine)
                else:
                    tm = runtime_hand(network, args.duration_ms, engine, split=path == "split")
                timings[path].append(tm)
                events = int(degree[tm.spike_i].sum())
                print(
                    f"{engine:>14} rep {rep} {path:>8}: build {tm.build_s:8.3f} s  run {tm.run_s:8.4f} s  "
                    f"spikes {len(tm.spike_i):6d}  events/s {events / tm.run_s:10.4g}"
                )
        ratios[engine] = summarise(engine, timings, degree, network.dt)
    for engine, ratio in ratios.items():
        print(f"overhead_ratio_{engine}={ratio:.3f}")
    print(f"overhead_ratio={max(ratios.values()):.3f}")


def summarise(engine: str, timings: dict[str, list[Timing]], degree: np.ndarray, dt: float) -> float:
    med = {p: statistics.median(t.run_s for t in ts) for p, ts in timings.items()}
    build = {p: statistics.median(t.build_s for t in ts) for p, ts in timings.items()}
    first_build = {p: ts[0].build_s for p, ts in timings.items()}
    for path, ts in timings.items():
        events = statistics.median(int(degree[t.spike_i].sum()) for t in ts)
        print(
            f"{engine:>14} {path:>8}: run median {med[path]:.4f} s, {events / med[path]:.4g} synaptic events/s; "
            f"build median {build[path]:.3f} s (first {first_build[path]:.3f} s)"
        )
    a = timings["spikemem"][-1]
    for other in [p for p in timings if p != "spikemem"]:
        b = timings[other][-1]
        same = {(i, round(t / dt)) for i, t in zip(a.spike_i.tolist(), a.spike_t.tolist())} == {
            (i, round(t / dt)) for i, t in zip(b.spike_i.tolist(), b.spike_t.tolist())
        }
        print(f"{engine:>14} identical spike trains (spikemem vs {other}): {'yes' if same else 'no'}")
    if "split" in timings:
        print(f"{engine:>14} run time spikemem / split = {med['spikemem'] / med['split']:.3f}")
    return med["spikemem"] / med["brian2"]


if __name__ == "__main__":
    main()
