"""CA3 decoding at scale: answers read from synthetic output spikes for 10^5 and 10^6 ops.

No simulation: a seeded random stream of ops (functional circuit, 100 cues x 100 bits) and,
for each op, output spikes in the windows the circuit's decoder reads (the ideal memory's
answer, so every window holds spikes). Decoding then walks every op once and finds each
window's spikes by binary search in the population's time-sorted spikes.

Prints ops per second at each length and, last, ``decode_scaling=<time(10^6) / time(10^5)>``
(goal <= 12: close to linear, a decoder that scanned every spike per op would give ~100).

    python benchmarks/decode.py [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from spikemem.models.ca3 import circuit, expected, random_schedule
from spikemem.models.ca3.functional import PULSE_MS, pulses
from spikemem.results import Results, SpikeTrains

N = M = 100


def synthetic_results(n_ops: int) -> tuple[object, Results]:
    """A schedule of ``n_ops`` ops and output spikes that answer it as the ideal memory does."""
    circ = circuit("functional")
    stream = random_schedule(N, M, n_ops, spacing_ms=(5.0, 5.0), seed=1, matches=("or", "and"), overwrite=0.3)
    want = expected(stream, circ)
    spikes: dict[str, tuple[list[float], list[int]]] = {p: ([], []) for p in ("CueIn", "ContOut", "CueOut")}

    def put(pop: str, t: float, neurons: list[int]) -> None:
        spikes[pop][0].extend([t] * len(neurons))
        spikes[pop][1].extend(neurons)

    for op, answer in zip(stream.ops, want):
        if op.op == "learn":
            put("CueIn", op.t + 2.0, answer["cues"])
            put("ContOut", op.t + 3.0, answer["content"])
        elif op.op == "recall_cue":
            put("CueIn", op.t + 1.0, answer["cues"])
            put("ContOut", op.t + 2.0, answer["content"])
        else:
            last = op.t + PULSE_MS * (pulses(op) - 1)
            put("CueOut", last + 2.0, answer["cues"])
            put("ContOut", last + 4.0, answer["content"])
    sizes = {"CueIn": N, "ContOut": M, "CueOut": N}
    trains = {p: SpikeTrains(sizes[p], np.array(t), np.array(i, dtype=np.int64)) for p, (t, i) in spikes.items()}
    return stream, Results(spikes=trains)


def time_decode(n_ops: int) -> tuple[float, int]:
    stream, results = synthetic_results(n_ops)
    t0 = time.perf_counter()
    answers = circuit("functional").decode(results, stream)
    wall = time.perf_counter() - t0
    want = expected(stream, circuit("functional"))
    right = sum(a["cues"] == w["cues"] and a["content"] == w["content"] for a, w in zip(answers, want))
    return wall, right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", default="100000,1000000", help="op counts, comma-separated (first and last compared)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    times = {}
    for n in sizes:
        wall, right = time_decode(n)
        times[n] = wall
        print(f"{n:>9} ops: decoded in {wall:.2f} s, {n / wall:,.0f} ops/s ({right}/{n} answers as written)")
    print(f"decode_scaling={times[sizes[-1]] / times[sizes[0]]:.2f}")


if __name__ == "__main__":
    main()
