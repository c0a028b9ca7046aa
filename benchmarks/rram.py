"""Cost of the resistive-memory device model: CA3 (100 cues, 100 bits), 1000 random ops.

Runs the same schedule with and without a device under the memory (plastic)
projections, alternating, in one process, and prints each wall time (network build +
simulation, i.e. the whole ``simulate`` call; the process CPU time beside it is less
sensitive to a busy machine) and, last, ``rram_overhead=<with/without>`` from the
fastest wall time of each (goal <= 1.5). The device is ``hfox`` by default: read
noise on every transmitted spike, every STDP update a noisy programming event.

    python benchmarks/rram.py [--mode functional|fidelity] [--repeats 2] [--device hfox]
                              [--on plastic|all] [--target brian2:numpy] [--ops 1000]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from spikemem import simulate  # noqa: E402
from spikemem.hardware.devices.rram import apply_device, parse_device  # noqa: E402
from spikemem.models import ca3  # noqa: E402
from spikemem.models.ca3 import random_schedule  # noqa: E402

#: Gaps (after a learn, after a recall) that every op type of the mode accepts.
SPACING = {"fidelity": (7.0, 6.0), "functional": (5.0, 5.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("functional", "fidelity"), default="functional")
    parser.add_argument("--size", type=int, nargs=2, default=(100, 100), metavar=("CUES", "BITS"))
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="hfox", help="PRESET[:key=value,...] (default: hfox)")
    parser.add_argument("--on", default="plastic", help="projections under the device: plastic or all")
    parser.add_argument("--target", default="brian2:numpy")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    device = parse_device(args.device)
    schedule = random_schedule(*args.size, args.ops, spacing_ms=SPACING[args.mode], seed=args.seed)
    plain = ca3.ca3_network(schedule, args.mode)
    with_device = apply_device(plain, device, args.on)
    duration = ca3.duration_ms(schedule, args.mode)
    print(
        f"CA3 {args.mode} {args.size[0]}x{args.size[1]}, {args.ops} random ops, {duration:g} ms at dt {plain.dt} ms, "
        f"{plain.summary()['synapses']} synapses; device {args.device} on {args.on}; target {args.target}"
    )
    times: dict[str, list[float]] = {"without": [], "with": []}
    for k in range(args.repeats):
        for label, network in (("without", plain), ("with", with_device)):
            t0, c0 = time.perf_counter(), time.process_time()
            results = simulate(network, duration, target=args.target, seed=args.seed)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            times[label].append(wall)
            score, _ = ca3.evaluate(ca3.decode(results, schedule, args.mode), schedule, ca3.circuit(args.mode))
            print(
                f"run {k + 1} {label:>7} device: wall {wall:7.2f} s (simulation {results.provenance['run_s']:.2f} s, "
                f"process CPU {cpu:.2f} s); "
                f"recalls correct {score['recalls_correct']}/{score['recalls']}"
            )
    best = {label: min(values) for label, values in times.items()}
    print(f"without_s={best['without']:.2f} with_s={best['with']:.2f} (fastest of {args.repeats})")
    print(f"rram_overhead={best['with'] / best['without']:.3f}")


if __name__ == "__main__":
    main()
