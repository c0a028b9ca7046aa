"""The device sweep behind ``spikemem stress rram``: protocol, runs, breaking points.

Protocol (one *stream* per seed): a seeded random CA3 operation stream
(:func:`~spikemem.models.ca3.schedule.random_schedule`: learns with overwrites, cue
recalls, content recalls of a few bits) is split in two phases, **learn** (its learns, in
order, ``spacing`` ms apart) then **recall** (its recalls, in order); the recall phase of
every stream starts at the same time, ``pause`` ms after the latest learn phase ends.
The devices age once by ``t_inf`` in the middle of the pause (``RRAM.t_age_ms``), so a
"time since programming" sweep ages the *learned* memories before they are recalled.

A *point* is (mode, size, parameter, value): the base device (``--rram``) with one
parameter replaced, under both memory projections, running all streams stacked side
by side in one simulation (:func:`spikemem.batch.stack`; one network build per point,
each copy with its own devices). Each mode and size also runs without a device (the
reference). Scores come from :func:`~spikemem.models.ca3.memory.evaluate` against
the ideal memory: recalls fully correct, missed and false-positive cues and bits, and
overwrite success (after a cue is rewritten, its old-only bits are gone).

Breaking point: the first value, from the mildest, at which the recalls **kept** (of
the recalls the device-free circuit answers correctly, the fraction still correct on
the device) fall below ``threshold`` (default 0.99). Measuring against the device-free
run separates the device's damage from the circuit's own errors (the published
circuit's content→cue copy does not forget overwritten bits, spec/ca3.md §7.3).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from spikemem.batch import split, stack
from spikemem.hardware.devices.rram import RRAM, apply_device, parse_device
from spikemem.models.ca3 import COUNTS, Op, Schedule, circuit, evaluate, random_schedule, respace
from spikemem.simulate import simulate
from spikemem.target_options import parse_options

from ._sweep import ratio

#: Swept parameters, in the order they run: harsher values further along each list.
PARAMS = ("prog_noise", "read_noise", "levels", "stuck_off", "stuck_on", "t_inf")
#: Labels of the two runs that are not a swept value.
REFERENCE, BASE = "none", "base"


@dataclass(frozen=True)
class SweepConfig:
    """What a device sweep runs (see the module docstring)."""

    params: tuple[tuple[str, tuple[float, ...]], ...]
    modes: tuple[str, ...] = ("fidelity", "functional")
    sizes: tuple[tuple[int, int], ...] = ((20, 20),)
    base: str = "ideal"
    drift_model: str = "pcm"
    ops: int = 120
    seeds: int = 4
    seed: int = 0
    spacing_ms: float = 10.0
    pause_ms: float = 20.0
    density: float = 0.3
    overlap: float = 0.5
    overwrite: float = 0.5
    query_bits: tuple[int, int] = (1, 3)
    matches: tuple[str, ...] = ("or", "and", "best")
    target: str = "brian2"
    target_options: tuple[str, ...] = ()  # KEY=VALUE texts (--option)
    threshold: float = field(default=0.99, compare=False)

    def digest(self) -> str:
        """Identifies the runs (the threshold only changes the verdicts)."""
        data = {k: v for k, v in asdict(self).items() if k != "threshold"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def base_device(self) -> RRAM:
        return parse_device(self.base)

    def points(self) -> list[SweepPoint]:
        """Per size and mode: the reference, the base device (unless ``ideal``), then each value."""
        runs: list[tuple[str, float | None]] = [(REFERENCE, None)]
        if self.base_device() != RRAM("ideal"):
            runs.append((BASE, None))
        runs += [(name, value) for name, values in self.params for value in values]
        grid = [(mode, n, m) for n, m in self.sizes for mode in self.modes]
        return [SweepPoint(mode, n, m, name, value) for mode, n, m in grid for name, value in runs]


@dataclass(frozen=True)
class SweepPoint:
    """One simulation: ``mode``, size, and the device (``param`` = ``value`` on the base)."""

    mode: str
    n_cues: int
    n_bits: int
    param: str
    value: float | None = None

    @property
    def key(self) -> str:
        return f"{self.mode}/{self.n_cues}x{self.n_bits}/{self.param}={self.value!r}"

    @property
    def shape(self) -> str:
        """The network structure (mode and size); each point is a launch of its own."""
        return f"{self.mode} {self.n_cues}x{self.n_bits}"


#: What a point's result holds (the resume file's entries are checked against it).
RESULT_SCHEMA = {
    "key": str,
    "point": {"mode": str, "n_cues": int, "n_bits": int, "param": str, "value": (float, None)},
    "device": (dict, None),
    "t_age_ms": float,
    "counts": dict.fromkeys(COUNTS, int),
    "streams": [{"counts": dict.fromkeys(COUNTS, int), "failed_ops": [int], "recall_ops": [int]}],
    "duration_ms": float,
    "wall_s": float,
    "engine": str,
}


def device_for(config: SweepConfig, param: str, value: float | None, t_age_ms: float) -> RRAM | None:
    """The device of a point: None (reference), the base, or the base with ``param = value``.

    Every device ages at ``t_age_ms`` (learned weights included). A ``t_inf`` sweep on a
    base without a drift model uses ``config.drift_model``.
    """
    if param == REFERENCE:
        return None
    base = config.base_device().replace(t_age_ms=t_age_ms)
    if param == BASE:
        return base
    changes: dict[str, Any] = {param: int(value) if param == "levels" else value}  # type: ignore[arg-type]
    if param == "t_inf" and base.drift_model == "none":
        changes["drift_model"] = config.drift_model
    return base.replace(**changes)


# --- the protocol ----------------------------------------------------------------------


def phased_schedules(config: SweepConfig, mode: str, n_cues: int, n_bits: int) -> tuple[list[Schedule], float]:
    """One learn-then-recall schedule per seed, recall phases aligned; and the ageing time (ms).

    The ageing time lies on a whole ms (on both modes' time grids), ``pause/2`` or more
    after the last learn of any stream starts.
    """
    gaps = dict.fromkeys(("learn", "recall_cue", "recall_content"), config.spacing_ms)
    circ = circuit(mode)
    learn_phases, recall_phases = [], []
    for seed in range(config.seeds):
        stream = random_schedule(
            n_cues,
            n_bits,
            config.ops,
            seed=seed,
            density=config.density,
            overlap=config.overlap,
            query_bits=config.query_bits,
            matches=circ.query_matches(config.matches),
            overwrite=config.overwrite,
        )
        learns = tuple(op for op in stream.ops if op.op == "learn")
        recalls = tuple(op for op in stream.ops if op.op != "learn")
        learn_phases.append(respace(Schedule(n_cues, n_bits, learns), gaps, circ.min_gap, circ.extra_ms))
        recall_phases.append(respace(Schedule(n_cues, n_bits, recalls), gaps, circ.min_gap, circ.extra_ms))
    last = max(s.ops[-1].t for s in learn_phases)
    t_age = float(math.ceil(last + max(circ.min_gap["learn"], config.spacing_ms) + config.pause_ms / 2))
    start = t_age + math.ceil(config.pause_ms / 2)
    schedules = [
        Schedule(n_cues, n_bits, learn.ops + tuple(_shift(op, start) for op in recall.ops))
        for learn, recall in zip(learn_phases, recall_phases, strict=True)
    ]
    return schedules, t_age


def _shift(op: Op, dt: float) -> Op:
    return replace(op, t=op.t + dt)


# --- one point -------------------------------------------------------------------------


def run_point(point: SweepPoint, config: SweepConfig) -> dict[str, Any]:
    """Simulate every stream of ``point`` in one stacked run and score each (top-level: picklable)."""
    start = time.perf_counter()
    schedules, t_age = phased_schedules(config, point.mode, point.n_cues, point.n_bits)
    device = device_for(config, point.param, point.value, t_age)
    circ = circuit(point.mode)
    nets = [circ.network(s) for s in schedules]
    network = stack(nets)
    if device is not None:
        network = apply_device(network, device, "plastic")
    duration = max(circ.duration_ms(s) for s in schedules)
    options = parse_options(config.target_options)
    results = simulate(network, duration, target=config.target, seed=config.seed, **options)
    streams = []
    totals = dict.fromkeys(COUNTS, 0)
    for schedule, part in zip(schedules, split(results, nets), strict=True):
        counts, failed = evaluate(circ.decode(part, schedule), schedule, circ)
        recalls = [k for k, op in enumerate(schedule.ops) if op.op != "learn"]
        streams.append({"counts": counts, "failed_ops": failed, "recall_ops": recalls})
        for name in COUNTS:
            totals[name] += counts[name]
    prov = results.provenance
    return {
        "key": point.key,
        "point": asdict(point),
        "device": device.to_dict() if device is not None else None,
        "t_age_ms": t_age,
        "counts": totals,
        "streams": streams,
        "duration_ms": float(duration),
        "wall_s": time.perf_counter() - start,
        "engine": str(prov.get("target", config.target)),
    }


def run_launch(points: tuple[SweepPoint, ...], config: SweepConfig) -> list[dict[str, Any]]:
    """:func:`run_point` for each point (a point already stacks its streams into one run)."""
    return [run_point(point, config) for point in points]


# --- scores and breaking points -----------------------------------------------------------


def kept(result: dict[str, Any], reference: dict[str, Any]) -> tuple[int, int]:
    """(recalls correct both without and with the device, recalls correct without it)."""
    both = total = 0
    for dev, ref in zip(result["streams"], reference["streams"], strict=True):
        good_ref = set(ref["recall_ops"]) - set(ref["failed_ops"])
        total += len(good_ref)
        both += len(good_ref - set(dev["failed_ops"]))
    return both, total


def summarise(config: SweepConfig, results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows (one per point, in sweep order) and breaking points (one per size x mode x parameter)."""
    refs = {(r["point"]["mode"], r["point"]["n_cues"], r["point"]["n_bits"]): r for r in results if _is(r, REFERENCE)}
    rows = []
    for res in results:
        p = res["point"]
        c = res["counts"]
        ok, total = kept(res, refs[(p["mode"], p["n_cues"], p["n_bits"])])
        rows.append(
            {
                **p,
                **c,
                "recall_accuracy": ratio(c["recalls_correct"], c["recalls"]),
                "kept": ok,
                "kept_of": total,
                "kept_fraction": ratio(ok, total),
                "forget_success": ratio(c["forget_ok"], c["forget_probes"]),
                "broken": total > 0 and ok < config.threshold * total,
                "t_age_ms": res["t_age_ms"],
                "wall_s": res["wall_s"],
            }
        )
    breaks = []
    for n, m in config.sizes:
        for mode in config.modes:
            for name, values in config.params:
                sweep = [r for r in rows if (r["mode"], r["n_cues"], r["n_bits"], r["param"]) == (mode, n, m, name)]
                first = next((r for r in sweep if r["broken"]), None)
                breaks.append(
                    {
                        "mode": mode,
                        "n_cues": n,
                        "n_bits": m,
                        "param": name,
                        "value": first["value"] if first else None,
                        "kept_fraction": first["kept_fraction"] if first else None,
                        "first_value": values[0],
                        "last_value": values[-1],
                    }
                )
    return rows, breaks


def _is(result: dict[str, Any], param: str) -> bool:
    return result["point"]["param"] == param
