"""CA3 stress experiment: accuracy, forgetting and throughput on seeded random operation streams.

``spikemem stress ca3 [--sizes 5x10,100x100] [--spacings min,10,14,20] [--modes fidelity,functional]
[--ops N] [--seeds K] [--overlap F] [--query-bits 1-3] [--target brian2] [--out stress.h5]
[--plot stress.png] [--workers P] [--resume] [--scheduler ADDRESS] [--rram PRESET[:key=value,...]]
[--batch auto|all|B] [--option KEY=VALUE ...]``

A *point* is one (mode, size, spacing, seed). Its stream is
:func:`~spikemem.models.ca3.schedule.random_schedule` (learns with overwrites, cue
recalls, content recalls of 1-3 bits; memories sharing bits with probability
``--overlap``), retimed to the spacing by :func:`~spikemem.models.ca3.schedule.respace`:
the same ops at every spacing, so accuracy vs spacing compares like with like. ``min`` is
the mode's documented minimum (its circuit's ``min_gap``: 7/6 ms in fidelity mode, 5/4/5 ms
in functional mode); a best-match query also waits for its extra threshold pulses.
Functional streams mix OR/AND/best queries (``--matches``); fidelity has OR only.

Per mode x size x spacing (summed over seeds) the table gives: recalls fully correct
(split by cue and content recalls), missed and false-positive cues and bits against
the ideal memory (:mod:`spikemem.models.ca3.memory`), forgetting (a recall probing a cue whose old
bits were overwritten returns none of the old-only bits, nor that cue for a query of
them), and throughput in ops per simulated second and per wall-clock second.

``--rram`` puts a resistive-memory device model (hardware/devices/rram.py) under both memory
projections of every point (parsed, and refused with the parameter's name, before
anything runs); its parameters go to the HDF5 file. Sweeping device parameters is
``spikemem stress rram`` (experiments/ca3_rram_stress.py).

``--batch`` runs several points as one launch: the streams of one mode and size (any
spacing and seed: one network shape) are stacked side by side as independent memories
(:func:`~spikemem.models.ca3.run_ca3_batch`), simulated once and scored one by one. Each
point then gets an equal share of the launch's times. Without a device model every point
answers exactly as it does alone; with ``--rram`` the launch draws its points' device noise
from the first point's seed (same distribution, other samples than alone). ``auto`` (the
default) is ``all`` on ``cuda`` — each CUDA launch costs minutes of nvcc, so a thousand
seeds become one launch per mode and size — and 1 (a launch per point) elsewhere.

``--option KEY=VALUE`` goes to the target in every launch (``threads=2``,
``compute_capability=8.0``, ``board=IP``); folders (``build_dir``, ``workdir``) and
SpiNNaker's ``virtual`` board (no spikes to score) are refused.

Every option is checked, and the target's own checks run on each mode's network (no GPU,
a feature the target lacks, an option it does not take), before any file is opened and
anything simulated.

This module is what a CA3 point is and how it is scored; the sweep around it (launches,
the resume file, worker processes, Dask, the HDF5 file) is shared with ``spikemem stress
rram`` in ``experiments/_sweep.py``.

Costs on 2 cores (``brian2`` picks numpy for these runs): about 3 s per point of 60 ops,
mostly Brian2's per-run code generation, so the default sweep (2 modes x 2 sizes x
4 spacings) takes about a minute on an idle machine and 2-3 minutes under load; 120 ops
at (1000, 1000) take about 20 s per point on numpy. Long runs make ``brian2`` compile
C++ standalone instead: 2-9 minutes cold per network structure and duration on 2 cores,
then 1000 ops run in 0.02 s at (5, 10), 0.3 s at (100, 100) and 35-80 s at (1000, 1000)
(2·10⁶ plastic synapses; see benchmarks/ca3_speed.py). Use ``--workers`` on bigger
machines, or ``--scheduler`` with a Dask cluster where spikemem is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from spikemem.errors import ValidationError
from spikemem.experiment import Experiment, Report, check_output_paths
from spikemem.models.ca3 import (
    COUNTS,
    MATCHES,
    MODES,
    Schedule,
    ca3_network,
    circuit,
    duration_ms,
    evaluate,
    random_schedule,
    respace,
    run_ca3,
    run_ca3_batch,
)
from spikemem.plotting import save_figure
from spikemem.target_options import add_argument as add_option_argument
from spikemem.target_options import parse_options

from . import _budget, _sweep

FORMAT = "spikemem-stress-ca3/1"
DEFAULTS = {
    "sizes": "5x10,100x100",
    "spacings": "min,10,14,20",
    "modes": "fidelity,functional",
    "ops": 60,
    "seeds": 1,
    "overlap": 0.5,
    "query_bits": "1-3",
    "density": 0.3,
    "overwrite": 0.5,
    "matches": "or,and,best",
    "target": "brian2",
    "batch": "auto",
}
TIMES = ("duration_ms", "wall_s", "build_s", "run_s")


@dataclass(frozen=True)
class StressConfig:
    """What a sweep runs: the grid and the random-stream parameters (see the module docstring)."""

    sizes: tuple[tuple[int, int], ...]
    spacings: tuple[str, ...]
    modes: tuple[str, ...]
    ops: int = 60
    seeds: int = 1
    overlap: float = 0.5
    query_bits: tuple[int, int] = (1, 3)
    density: float = 0.3
    overwrite: float = 0.5
    matches: tuple[str, ...] = ("or", "and", "best")
    target: str = "brian2"
    rram: str | None = None
    batch: int = 1  # points per launch (0: every point of a mode and size)
    target_options: tuple[str, ...] = ()  # KEY=VALUE texts (--option), see _sweep.sweep_target_options

    def device(self) -> Any:
        """The device model of ``rram`` (None without one)."""
        if not self.rram:
            return None
        from spikemem.hardware.devices.rram import parse_device

        return parse_device(self.rram)

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]

    def points(self) -> list[Point]:
        return [
            Point(mode, n, m, spacing, seed)
            for n, m in self.sizes
            for mode in self.modes
            for spacing in self.spacings
            for seed in range(self.seeds)
        ]


@dataclass(frozen=True)
class Point:
    """One stream run: ``mode``, size ``n_cues x n_bits``, spacing label, seed."""

    mode: str
    n_cues: int
    n_bits: int
    spacing: str
    seed: int

    @property
    def key(self) -> str:
        return f"{self.mode}/{self.n_cues}x{self.n_bits}/{self.spacing}/seed{self.seed}"

    @property
    def shape(self) -> str:
        """Points of one shape (mode and size: one network structure) can share a launch."""
        return f"{self.mode} {self.n_cues}x{self.n_bits}"


#: What a point's result holds (the resume file's entries are checked against it).
RESULT_SCHEMA = {
    "key": str,
    "point": {"mode": str, "n_cues": int, "n_bits": int, "spacing": str, "seed": int},
    "counts": dict.fromkeys(COUNTS, int),
    "failed_ops": [int],
    "duration_ms": float,
    "wall_s": float,
    "build_s": float,
    "run_s": float,
    "engine": str,
    "launch_points": int,
}


# --- option parsing (every check runs before anything is simulated) ------------------


def parse_gaps(label: str) -> tuple[float, float] | None:
    """A spacing label → (gap after a learn, gap after a recall) in ms; ``None`` for ``min``."""
    if label == "min":
        return None
    parts = label.split("/")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or not all(np.isfinite(v) and v > 0 for v in values):
        raise ValidationError("--spacings", label, "'min', a gap in ms (10) or learn/recall gaps (7/6)")
    return (values[0], values[-1])


def mode_gaps(mode: str, label: str) -> dict[str, float]:
    """Gap (ms) from each op type's start to the next op, in ``mode``, for a spacing label."""
    gaps = parse_gaps(label)
    if gaps is None:
        return dict(circuit(mode).min_gap)
    return {"learn": gaps[0], "recall_cue": gaps[1], "recall_content": gaps[1]}


def check_spacing_label(mode: str, label: str) -> None:
    """Refuse a spacing below the mode's documented minimum or off its time grid."""
    gaps = mode_gaps(mode, label)
    floor = circuit(mode).min_gap
    low = [op for op in gaps if gaps[op] < floor[op] - 1e-9]
    if low:
        minimum = f"{floor['learn']:g}/{max(floor['recall_cue'], floor['recall_content']):g}"
        raise ValidationError(
            "--spacings", label, f"at least {minimum} ms (learn/recall) in {mode} mode, or 'min' for that minimum"
        )
    for value in gaps.values():
        if not circuit(mode).on_grid(value):
            raise ValidationError("--spacings", label, f"multiples of {circuit(mode).dt_ms:g} ms in {mode} mode")


def parse_batch(text: str, target: str) -> int:
    """``--batch``: points per launch; ``all`` → 0 (no limit), ``auto`` → 0 on cuda, else 1."""
    value = str(text).strip().lower()
    if value == "auto":
        return 0 if target.partition(":")[0] == "cuda" else 1
    if value == "all":
        return 0
    if not value.isdigit() or int(value) < 1:
        raise ValidationError("--batch", text, "'auto', 'all' or an integer >= 1 (streams stacked into one launch)")
    return int(value)


def check_budget(config: StressConfig, workers: int) -> int:
    """Refuse a sweep too big for this machine, counting its points without listing them
    (:mod:`._budget`); return how many streams it holds at once (workers x per launch)."""
    per_shape = len(config.spacings) * config.seeds
    per_launch = per_shape if config.batch == 0 else min(config.batch, per_shape)
    n_points = len(config.modes) * len(config.sizes) * per_shape
    grid = ((len(config.modes), "mode"), (len(config.sizes), "size"), (len(config.spacings), "spacing"))
    at_once = per_launch * min(workers, -(-n_points // per_launch))
    _budget.check_sweep((*grid, (config.seeds, "seed")), "--seeds", config.seeds, config.ops, at_once, workers)
    return at_once


def check_query_bits(query_bits: tuple[int, int], sizes: tuple[tuple[int, int], ...]) -> None:
    """A content query cannot ask for more bits than the smallest memory has."""
    fewest = min(m for _, m in sizes)
    if query_bits[1] > fewest:
        raise ValidationError(
            "--query-bits", f"{query_bits[0]}-{query_bits[1]}", f"at most {fewest} bits (the bits of the smallest size)"
        )


def config_from_args(args: argparse.Namespace) -> StressConfig:
    """Validate the command-line options into a :class:`StressConfig`."""
    modes = _sweep.parse_choices("--modes", args.modes, MODES, "fidelity and/or functional")
    spacings = tuple(dict.fromkeys(_sweep.parse_items("--spacings", args.spacings)))
    for label in spacings:
        for mode in modes:
            check_spacing_label(mode, label)
    matches = _sweep.parse_choices("--matches", args.matches, MATCHES)
    target = _sweep.parse_target(args.target)
    sizes = _sweep.parse_sizes(args.sizes)
    check_query_bits(_sweep.parse_query_bits(args.query_bits), sizes)
    return StressConfig(
        sizes=sizes,
        spacings=spacings,
        modes=modes,
        ops=_sweep.parse_count("--ops", args.ops),
        seeds=_sweep.parse_count("--seeds", args.seeds),
        overlap=_sweep.parse_fraction("--overlap", args.overlap),
        query_bits=_sweep.parse_query_bits(args.query_bits),
        density=_sweep.parse_fraction("--density", args.density, low_open=True),
        overwrite=_sweep.parse_fraction("--overwrite", args.overwrite),
        matches=matches,
        target=target,
        rram=_rram(getattr(args, "rram", None)),
        batch=parse_batch(getattr(args, "batch", DEFAULTS["batch"]), args.target),
        target_options=_sweep.sweep_target_options(getattr(args, "option", [])),
    )


def _rram(text: str | None) -> str | None:
    """``--rram`` checked now (a bad preset or key names the parameter); kept as text."""
    if not text:
        return None
    from spikemem.hardware.devices.rram import parse_device

    parse_device(text)
    return text


# --- one point ------------------------------------------------------------------------


def point_schedule(point: Point, config: StressConfig) -> Schedule:
    """The seeded stream of ``point``, at its spacing (the same ops at every spacing)."""
    circ = circuit(point.mode)
    stream = random_schedule(
        point.n_cues,
        point.n_bits,
        config.ops,
        seed=point.seed,
        density=config.density,
        overlap=config.overlap,
        query_bits=config.query_bits,
        matches=circ.query_matches(config.matches),
        overwrite=config.overwrite,
    )
    return respace(stream, mode_gaps(point.mode, point.spacing), circ.min_gap, circ.extra_ms)


def run_point(point: Point, config: StressConfig, keep_answers: bool = False) -> dict[str, Any]:
    """Simulate one point and score it (a top-level function, so worker processes can run it)."""
    start = time.perf_counter()
    schedule = point_schedule(point, config)
    options = parse_options(config.target_options)
    run = run_ca3(schedule, mode=point.mode, target=config.target, seed=point.seed, device=config.device(), **options)
    return _scored(point, run, time.perf_counter() - start, 1, keep_answers)


def run_launch(points: tuple[Point, ...], config: StressConfig, keep_answers: bool = False) -> list[dict[str, Any]]:
    """Simulate ``points`` (one mode and size) as one stacked launch and score each
    (:func:`~spikemem.models.ca3.run_ca3_batch`); each gets an equal share of the times."""
    if len(points) == 1:
        return [run_point(points[0], config, keep_answers)]
    start = time.perf_counter()
    schedules = [point_schedule(p, config) for p in points]
    mode = points[0].mode
    runs = run_ca3_batch(
        schedules,
        mode=mode,
        target=config.target,
        seed=points[0].seed,
        device=config.device(),
        **parse_options(config.target_options),
    )
    wall = time.perf_counter() - start
    return [_scored(p, run, wall, len(points), keep_answers) for p, run in zip(points, runs, strict=True)]


def _scored(point: Point, run: Any, wall_s: float, launch_points: int, keep_answers: bool) -> dict[str, Any]:
    counts, failed = evaluate(run.answers, run.schedule, circuit(point.mode))
    prov = run.results.provenance
    result: dict[str, Any] = {
        "key": point.key,
        "point": asdict(point),
        "counts": counts,
        "failed_ops": failed,
        "duration_ms": duration_ms(run.schedule, point.mode),
        "wall_s": wall_s / launch_points,
        "build_s": float(prov.get("build_s", float("nan"))) / launch_points,
        "run_s": float(prov.get("run_s", float("nan"))) / launch_points,
        "engine": str(prov["target"]),
        "launch_points": launch_points,
    }
    if keep_answers:
        result["answers"] = run.answers
        result["schedule"] = run.schedule
    return result


# --- summary, HDF5, plot -----------------------------------------------------------------


def summarise(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per mode x size x spacing: counts summed over seeds, rates derived."""
    rows: dict[tuple[str, int, int, str], dict[str, Any]] = {}
    for res in results:
        p = res["point"]
        key = (p["mode"], p["n_cues"], p["n_bits"], p["spacing"])
        row = rows.setdefault(
            key,
            {
                "mode": p["mode"],
                "n_cues": p["n_cues"],
                "n_bits": p["n_bits"],
                "spacing": p["spacing"],
                "gaps": mode_gaps(p["mode"], p["spacing"]),
                "seeds": 0,
                **dict.fromkeys(COUNTS, 0),
                **dict.fromkeys(TIMES, 0.0),
            },
        )
        row["seeds"] += 1
        for name in COUNTS:
            row[name] += res["counts"][name]
        for name in TIMES:
            row[name] += res[name]
    out = []
    for row in rows.values():
        row["recall_accuracy"] = _sweep.ratio(row["recalls_correct"], row["recalls"])
        row["cue_recall_accuracy"] = _sweep.ratio(row["cue_recalls_correct"], row["cue_recalls"])
        row["content_recall_accuracy"] = _sweep.ratio(row["content_recalls_correct"], row["content_recalls"])
        row["forget_success"] = _sweep.ratio(row["forget_ok"], row["forget_probes"])
        row["ops_per_sim_s"] = _sweep.ratio(row["ops"], row["duration_ms"] / 1000.0)
        row["ops_per_wall_s"] = _sweep.ratio(row["ops"], row["wall_s"])
        out.append(row)
    return out


COLUMNS = [
    "mode",
    "size",
    "spacing (ms)",
    "ops",
    "recalls ok",
    "cue recalls",
    "content recalls",
    "missed cues",
    "false cues",
    "missed bits",
    "false bits",
    "forgetting ok",
    "ops/sim s",
    "ops/wall s",
]


def table_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    out = []
    for r in rows:
        g = r["gaps"]
        gaps = f"{g['learn']:g}/{g['recall_cue']:g}" + (
            f"/{g['recall_content']:g}" if g["recall_content"] != g["recall_cue"] else ""
        )
        out.append(
            [
                r["mode"],
                f"{r['n_cues']}x{r['n_bits']}",
                f"{r['spacing']} ({gaps})" if r["spacing"] == "min" else gaps,
                r["ops"],
                _sweep.pct(r["recalls_correct"], r["recalls"]),
                _sweep.pct(r["cue_recalls_correct"], r["cue_recalls"]),
                _sweep.pct(r["content_recalls_correct"], r["content_recalls"]),
                r["missed_cues"],
                r["false_cues"],
                r["missed_bits"],
                r["false_bits"],
                _sweep.pct(r["forget_ok"], r["forget_probes"]),
                f"{r['ops_per_sim_s']:.0f}",
                f"{r['ops_per_wall_s']:.2f}",
            ]
        )
    return out


def write_hdf5(
    path: str, config: StressConfig, results: list[dict[str, Any]], rows: list[dict[str, Any]], started: str
) -> None:
    """One HDF5 file, written atomically: config, per-point metrics, the table, provenance."""
    points: dict[str, Any] = {
        "key": [r["key"] for r in results],
        "mode": [r["point"]["mode"] for r in results],
        "spacing": [r["point"]["spacing"] for r in results],
        "engine": [r["engine"] for r in results],
    }
    for name in ("n_cues", "n_bits", "seed"):
        points[name] = np.array([r["point"][name] for r in results], dtype=np.int64)
    points["launch_points"] = np.array([r.get("launch_points", 1) for r in results], dtype=np.int64)
    for name in COUNTS:
        points[name] = np.array([r["counts"][name] for r in results], dtype=np.int64)
    for name in TIMES:
        points[name] = np.array([r[name] for r in results], dtype=np.float64)
    summary = {
        name: [r[name] for r in rows] if isinstance(rows[0][name], str) else np.array([r[name] for r in rows])
        for name in rows[0]
        if name != "gaps"
    }
    for op in ("learn", "recall_cue", "recall_content"):
        summary[f"gap_{op}_ms"] = np.array([r["gaps"][op] for r in rows], dtype=np.float64)
    device = config.device()
    tree = {
        "config": {**asdict(config), "digest": config.digest()},
        "device": device.to_dict() if device is not None else None,
        "points": points,
        "failed_ops": [np.asarray(r["failed_ops"], dtype=np.int64) for r in results],
        "summary": summary,
        "table": {"columns": COLUMNS, "rows": [[str(v) for v in row] for row in table_rows(rows)]},
        "provenance": _sweep.run_provenance(config.rram or "none", started),
    }
    _sweep.write_stress_file(path, FORMAT, tree)


def load_stress(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a file written by ``spikemem stress ca3 --out``."""
    return _sweep.read_stress_file(path, FORMAT, "spikemem stress ca3")


def _stacked(k: int, n: int) -> dict[str, Any]:
    """Line and marker sizes for series ``k`` of ``n``: each drawn thinner than the one
    before, so series that coincide (often, at 100 %) stay visible as rings."""
    return {"markersize": 3 + 2.5 * (n - k), "linewidth": 0.8 + 0.9 * (n - 1 - k), "alpha": 0.85, "zorder": 2 + k}


def plot(rows: list[dict[str, Any]], path: str) -> None:
    """Recall accuracy vs spacing (one line per mode x size) and vs size (one per mode x spacing)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    by_size = _groups(rows, ("mode", "n_cues", "n_bits"))
    for k, ((mode, n, m), group) in enumerate(by_size.items()):
        group.sort(key=lambda r: r["gaps"]["learn"])
        x = [r["gaps"]["learn"] for r in group]
        y = [100 * r["recall_accuracy"] for r in group]
        left.plot(x, y, circuit(mode).marker, label=f"{mode} {n}x{m}", **_stacked(k, len(by_size)))
    by_spacing = _groups(rows, ("mode", "spacing"))
    for k, ((mode, spacing), group) in enumerate(by_spacing.items()):
        group.sort(key=lambda r: r["n_cues"] * r["n_bits"])
        x = [r["n_cues"] * r["n_bits"] for r in group]
        y = [100 * r["recall_accuracy"] for r in group]
        right.plot(x, y, circuit(mode).marker, label=f"{mode} {spacing}", **_stacked(k, len(by_spacing)))
    left.set_xlabel("gap after a learn (ms)")
    right.set_xlabel("memory size N x M (synapses per direction)")
    right.set_xscale("log")
    for ax in (left, right):
        ax.set_ylabel("recalls fully correct (%)")
        ax.set_ylim(-3, 103)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    left.set_title("accuracy vs operation spacing")
    right.set_title("accuracy vs size")
    fig.tight_layout()
    save_figure(fig, path)


def _groups(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    out: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


# --- the command ---------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = DEFAULTS
    p.add_argument("--sizes", default=d["sizes"], help=f"N x M sizes, comma-separated (default {d['sizes']})")
    p.add_argument(
        "--spacings",
        default=d["spacings"],
        help="gaps between op starts: 'min' (the mode's minimum), ms (10) or learn/recall ms (7/6) "
        f"(default {d['spacings']})",
    )
    p.add_argument("--modes", default=d["modes"], help=f"circuits (default {d['modes']})")
    p.add_argument("--ops", type=int, default=d["ops"], help=f"operations per stream (default {d['ops']})")
    p.add_argument("--seeds", type=int, default=d["seeds"], help="streams per point, seeds 0..K-1 (default 1)")
    p.add_argument("--overlap", type=float, default=d["overlap"], help="bit sharing between memories (default 0.5)")
    p.add_argument("--query-bits", default=d["query_bits"], help="bits per content query, LOW-HIGH (default 1-3)")
    p.add_argument("--density", type=float, default=d["density"], help="fraction of bits set (default 0.3)")
    p.add_argument("--overwrite", type=float, default=d["overwrite"], help="learns that rewrite a cue (default 0.5)")
    p.add_argument("--matches", default=d["matches"], help="functional query modes (default or,and,best)")
    p.add_argument("--target", default=d["target"], help="where to run (default brian2)")
    p.add_argument(
        "--rram", help="device model under the memory synapses: PRESET[:key=value,...] (README: resistive memory)"
    )
    add_option_argument(p, "target option for every launch", "threads=2, board=IP")
    p.add_argument(
        "--batch",
        default=d["batch"],
        help="streams stacked into one launch: 'all' (every stream of a mode and size), a number, or 'auto' "
        "(default: all on cuda, else 1)",
    )
    p.add_argument("--out", help="write config, per-point metrics and provenance to this HDF5 file")
    p.add_argument("--plot", help="draw accuracy vs spacing and vs size to this image file")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes (default 1)")
    p.add_argument("--resume", action="store_true", help="skip points a killed run already finished")
    p.add_argument("--scheduler", help=_sweep.SCHEDULER_HELP)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> Report:
    """``spikemem stress ca3``: validate, sweep, tabulate, write."""
    from spikemem.provenance import now_utc

    config = config_from_args(args)
    workers = _sweep.parse_count("--workers", args.workers)
    at_once = check_budget(config, workers)
    check_output_paths(args)
    scheduler = _sweep.check_scheduler(args.scheduler)
    device = config.device()

    def network_of(point: Point) -> Any:  # a point's network, refused if that many would not fit
        schedule = point_schedule(point, config)
        network = ca3_network(schedule, point.mode, device=device)
        _budget.check_shape(network, duration_ms(schedule, point.mode), point.n_cues, point.n_bits, at_once)
        return network

    _sweep.check_target(config, network_of)
    started = now_utc()
    resume_file = _sweep.resume_path(config, args.out, "ca3")
    files = []
    with _sweep.claimed(resume_file, args.out):
        results, resumed = _sweep.sweep(
            config,
            resume_file,
            run_launch,
            args.resume,
            workers,
            scheduler,
            not args.no_progress,
            "stress ca3",
            RESULT_SCHEMA,
        )
        rows = summarise(results)
        if args.out:
            write_hdf5(args.out, config, results, rows, started)
            resume_file.unlink(missing_ok=True)
            files.append(args.out)
    if args.plot:
        plot(rows, args.plot)
        files.append(args.plot)
    wall = sum(r["wall_s"] for r in results)
    metrics = {
        "points": f"{len(results)} ({resumed} from {resume_file})" if resumed else len(results),
        "streams": f"{config.ops} ops, overlap {config.overlap:g}, {config.query_bits[0]}-{config.query_bits[1]} "
        f"query bits, overwrite {config.overwrite:g}, functional matches {','.join(config.matches)}",
        "engines": ", ".join(sorted({r["engine"] for r in results})),
        "device": config.rram or "none",
        "points per launch": {0: "all of a mode and size", 1: "1"}.get(config.batch, f"up to {config.batch}"),
        "simulation wall time": f"{wall:.1f} s",
    }
    title = f"CA3 stress: {len(config.modes)} modes x {len(config.sizes)} sizes x {len(config.spacings)} spacings"
    return Report(title, COLUMNS, table_rows(rows), metrics, files)


EXPERIMENTS = [
    Experiment(
        "ca3",
        "random operation streams: accuracy (missed/false cues and bits), forgetting, throughput",
        add_arguments,
        run,
        command="stress",
    )
]
