"""The liquid-state-machine workload on the norse target (batched) against the brian2 target.

A reservoir of 200 ``IF_curr_delta`` neurons (λ = 0.9, threshold 5 mV, hard reset to 0;
the LSM neuron of ``IF_curr_delta``'s docstring) with random signed recurrent weights
(20 % of pairs) and random signed input weights (10 % of pairs) from a 34 × 34 input layer,
driven by ``--samples`` different Poisson rasters of 100 steps (dt = 1 ms, 40 Hz per input).

* norse: ``run_batch``-style forward passes of ``--batch`` samples at once (float32 by
  default), rasters as tensors ``[T, B, 1156]``;
* brian2: the same samples stacked side by side (``spikemem.batch.stack``, ``--batch`` per
  launch) on each engine of ``--brian2-engines`` (default: the brian2 target's own choice,
  and C++ standalone, timed with and without its build), and numpy one sample at a time
  (``--brian2-single`` samples).

Both sides are timed from the description to the spikes: the norse side builds its module
once (new inputs are new tensors), the brian2 side builds every launch (new inputs are a new
network: numpy creates the synapses again, C++ standalone generates and compiles again).
``norse_batch_speedup`` is against the fastest brian2 way of doing the whole work; the line
before it gives, for comparison, the ratio to Brian2's fastest simulation loop alone (C++
standalone, build excluded: what Brian2 would cost if it could swap the inputs of a compiled
network).

Both simulate the same spikes: the first sample's reservoir spikes are compared (float64
norse equals brian2 exactly; float32 is reported, not asserted). Printed: samples per
second of each, then, last, ``norse_batch_speedup=<norse samples/s / best brian2 samples/s>``.
Goal >= 20 on 2 cores. ``--device cuda`` runs the norse side on a GPU where torch sees one.
(The file is not called ``norse.py``: run from this folder, that name would shadow the norse
package itself.)

    python benchmarks/norse_batch.py [--samples 1000] [--batch 250] [--dtype float32] [--brian2-samples 250]
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

from spikemem import FromList, IF_curr_delta, Network, Population, Probe, Projection, SpikeSource, Static  # noqa: E402
from spikemem.batch import split, stack  # noqa: E402
from spikemem.simulate import simulate  # noqa: E402

SIDE, N, STEPS, DT = 34, 200, 100, 1.0
RATE_HZ = 40.0


def reservoir(trains: list[list[float]], seed: int = 7) -> Network:
    """The reservoir driven by one sample's input spike trains (34 x 34 of them)."""
    cell = IF_curr_delta(tau_m=-DT / math.log(0.9), v_rest=0.0, v_reset=0.0, v_thresh=5.0, tau_refrac=0.0)
    rng = np.random.default_rng(seed)
    projections = []
    for name, pre, n_pre, p, scale in (("in", "x", SIDE * SIDE, 0.1, 2.5), ("rec", "res", N, 0.2, 1.5)):
        mask = rng.random((n_pre, N)) < p
        i, j = np.nonzero(mask)
        w = rng.normal(0.0, scale, len(i))
        for receptor, keep in (("excitatory", w > 0), ("inhibitory", w < 0)):
            rows = np.column_stack([i[keep], j[keep], np.abs(w[keep]), np.full(keep.sum(), DT)])
            projections.append(Projection(f"{name}_{receptor}", pre, "res", FromList(rows), Static(0.0, DT), receptor))
    pops = [SpikeSource("x", trains), Population("res", N, cell)]
    return Network(pops, projections, [Probe("res")], dt=DT, name="lsm_reservoir")


def samples(n: int) -> np.ndarray:
    """``n`` Poisson rasters ``[n, T, 34*34]`` (bool), one seed per sample."""
    p = RATE_HZ * DT / 1000.0
    return np.stack([np.random.default_rng(1000 + s).random((STEPS, SIDE * SIDE)) < p for s in range(n)])


def trains_of(raster: np.ndarray) -> list[list[float]]:
    return [list(np.flatnonzero(raster[:, k]) * DT) for k in range(raster.shape[1])]


def norse_side(rasters: np.ndarray, batch: int, dtype: str, device: str) -> tuple[float, np.ndarray]:
    """Wall time for every sample on the norse target, and the first sample's spikes [T, N]."""
    import torch

    from spikemem.hardware.norse import lower

    t0 = time.perf_counter()
    module = lower(reservoir(trains_of(rasters[0])), STEPS * DT, dtype=dtype, device=device)
    first = None
    with torch.no_grad():
        for start in range(0, len(rasters), batch):
            x = torch.as_tensor(rasters[start : start + batch]).permute(1, 0, 2)
            rec = module({"x": x.to(device)})
            if first is None:
                first = rec.spikes["res"][:, 0].cpu().numpy()
    return time.perf_counter() - t0, first


def brian2_stacked(rasters: np.ndarray, batch: int, target: str) -> tuple[float, float, str, np.ndarray]:
    """Wall time (build included) and simulation-loop time on ``target``, ``batch`` samples
    stacked per launch; the engine; the first sample's spikes."""
    first, engine, loop = None, "?", 0.0
    t0 = time.perf_counter()
    for start in range(0, len(rasters), batch):
        nets = [reservoir(trains_of(r)) for r in rasters[start : start + batch]]
        res = simulate(stack(nets), STEPS * DT, target=target)
        engine, loop = res.provenance["target"], loop + float(res.provenance["run_s"])
        if first is None:
            part = split(res, nets)[0]
            first = np.zeros((STEPS, N), dtype=bool)
            first[part.spikes["res"].steps(DT), part.spikes["res"].indices] = True
    return time.perf_counter() - t0, loop, engine, first


def brian2_single(rasters: np.ndarray) -> float:
    """Wall time of numpy runs, one sample at a time."""
    t0 = time.perf_counter()
    for r in rasters:
        simulate(reservoir(trains_of(r)), STEPS * DT, target="brian2:numpy")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--brian2-samples", type=int, default=250, help="samples the stacked brian2 side runs")
    parser.add_argument("--brian2-engines", default="brian2,brian2:cpp_standalone", help="stacked brian2 targets")
    parser.add_argument("--brian2-single", type=int, default=10, help="samples brian2:numpy runs one by one")
    args = parser.parse_args()
    rasters = samples(args.samples)
    print(f"{args.samples} samples of {STEPS} steps, {SIDE}x{SIDE} Poisson inputs at {RATE_HZ:g} Hz, {N} neurons")
    wall, first = norse_side(rasters, args.batch, args.dtype, args.device)
    norse_rate = args.samples / wall
    print(f"norse ({args.dtype}, {args.device}, B = {args.batch}): {wall:.2f} s, {norse_rate:.1f} samples/s")
    if args.dtype == "float64":
        _, exact = norse_side(rasters[:1], 1, "float64", args.device)
    else:
        _, exact = norse_side(rasters[:1], 1, "float64", "cpu")
    n_b2 = min(args.brian2_samples, args.samples)
    rates, loops, first_b2 = [], [], None
    for target in args.brian2_engines.split(","):
        wall_b2, loop, engine, first_b2 = brian2_stacked(rasters[:n_b2], args.batch, target)
        rates.append(n_b2 / wall_b2)
        loops.append(n_b2 / loop)
        print(
            f"brian2 stacked ({engine}, {min(args.batch, n_b2)} per launch): {wall_b2:.2f} s for {n_b2}, "
            f"{n_b2 / wall_b2:.2f} samples/s (simulation loop alone {loop:.2f} s: {n_b2 / loop:.2f} samples/s)"
        )
    stacked_rate = max(rates)
    wall_single = brian2_single(rasters[: args.brian2_single])
    single_rate = args.brian2_single / wall_single
    print(f"brian2:numpy one by one: {wall_single:.2f} s for {args.brian2_single}, {single_rate:.2f} samples/s")
    print(
        f"first sample's reservoir spikes: brian2 {int(first_b2.sum())}, norse float64 {int(exact.sum())} "
        f"(identical: {'yes' if np.array_equal(first_b2, exact) else 'NO'}), norse {args.dtype} {int(first.sum())} "
        f"(identical: {'yes' if np.array_equal(first_b2, first.astype(bool)) else 'no'})"
    )
    print(f"loop-only ratio (norse / Brian2's fastest simulation loop, build excluded): {norse_rate / max(loops):.2f}")
    print(f"norse_batch_speedup={norse_rate / max(stacked_rate, single_rate):.1f}")


if __name__ == "__main__":
    main()
