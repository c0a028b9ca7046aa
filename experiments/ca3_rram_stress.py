"""CA3 memory on resistive devices: accuracy vs one device parameter at a time, and breaking points.

``spikemem stress rram [--rram BASE] [--params prog_noise,read_noise,levels,stuck_off,stuck_on,t_inf]
[--prog-noise 0.01,...] [--read-noise ...] [--levels 256,...,2] [--stuck-off ...] [--stuck-on ...]
[--t-inf 1s,1h,1d,1mo,1y] [--modes fidelity,functional] [--sizes 20x20] [--ops 120] [--seeds 4]
[--threshold 0.99] [--target brian2] [--option KEY=VALUE ...] [--out rram.h5] [--plot rram.png]
[--resume] [--workers P] [--scheduler ADDRESS]``

Both CA3 modes run learn-then-recall streams with the device under both memory
projections; each swept parameter replaces one field of the base device (``--rram``,
default ``ideal``, so each sweep isolates one effect); the devices age by ``t_inf``
between the phases, learned weights included. Protocol, scores and the breaking-point
rule: :mod:`spikemem.experiments._rram_sweep`.

Parameters (``RRAM`` fields, spec/rram.md): ``prog_noise`` (programming noise; with
``ideal``'s constant model, σ = prog_noise·G_max, i.e. in units of one stored weight),
``read_noise`` (σ per device per read, fraction of the window), ``levels`` (conductance
levels per device, 2-256 = 1-8 bits; 0 = continuous), ``stuck_off``/``stuck_on``
(fault rates), ``t_inf`` (seconds since programming, or with a unit: s, min, h, d, mo,
y; a base without a drift model uses ``--drift-model``, default ``pcm``).

Costs on 2 cores (numpy): one stacked simulation per point, about 3-4 s at 20x20 with
4 streams of 120 ops; the default sweep (39 values x 2 modes + 2 references = 80 points)
took 4 min 8 s on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from dataclasses import asdict
from typing import Any

import numpy as np

from spikemem.errors import ValidationError
from spikemem.experiment import Experiment, Report, check_output_paths
from spikemem.hardware.devices.rram import DRIFT_MODELS, parse_device
from spikemem.models.ca3 import MATCHES, MODES, ca3_network, circuit, duration_ms
from spikemem.network import Network
from spikemem.plotting import save_figure
from spikemem.target_options import add_argument as add_option_argument

from . import _budget, _sweep
from . import _rram_sweep as rs
from .ca3_stress import check_query_bits

FORMAT = "spikemem-stress-rram/1"
#: CLI option and default values of each swept parameter (mildest first).
SWEEPS = {
    "prog_noise": ("--prog-noise", "0.002,0.005,0.01,0.02,0.05,0.1,0.2"),
    "read_noise": ("--read-noise", "0.01,0.02,0.05,0.1,0.2"),
    "levels": ("--levels", "256,128,64,32,16,8,4,2"),
    "stuck_off": ("--stuck-off", "0.001,0.002,0.005,0.01,0.02,0.05,0.1"),
    "stuck_on": ("--stuck-on", "0.001,0.002,0.005,0.01,0.02,0.05,0.1"),
    "t_inf": ("--t-inf", "1s,1h,1d,1mo,1y"),
}
UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "mo": 30.4375 * 86400.0, "y": 365.25 * 86400.0}
DEFAULTS = {
    "modes": "fidelity,functional",
    "sizes": "20x20",
    "ops": 120,
    "seeds": 4,
    "spacing": 10.0,
    "pause": 20.0,
    "threshold": 0.99,
}


# --- option parsing (every check runs before anything is simulated) ------------------


def parse_seconds(option: str, text: str) -> float:
    """``"1h"`` → 3600.0; a bare number is seconds."""
    item = text.strip().lower()
    for unit in sorted(UNITS, key=len, reverse=True):
        if item.endswith(unit) and item[: -len(unit)].strip():
            number, scale = item[: -len(unit)], UNITS[unit]
            break
    else:
        number, scale = item, 1.0
    try:
        value = float(number) * scale
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise ValidationError(option, text, "times since programming >= 0: seconds or 1s, 10min, 1h, 1d, 1mo, 1y")
    return value


def parse_values(param: str, text: str) -> tuple[float, ...]:
    """The values of one swept parameter, sorted mildest first (``levels``: most levels first, 0 = continuous)."""
    option = SWEEPS[param][0]
    values = []
    for item in _sweep.parse_items(option, text):
        if param == "t_inf":
            values.append(parse_seconds(option, item))
            continue
        try:
            values.append(float(item))
        except ValueError:
            raise ValidationError(option, item, f"numbers (values of RRAM.{param})") from None
    if param == "levels":
        if any(not v.is_integer() for v in values):
            raise ValidationError(option, text, "whole numbers of levels: 0 (continuous) or 2..")
        return tuple(sorted(set(values), key=lambda v: -math.inf if v == 0 else -v))
    return tuple(sorted(set(values)))


def check_budget(config: rs.SweepConfig, workers: int) -> int:
    """Refuse a sweep too big for this machine, counting its streams without listing them
    (:mod:`._budget`); return how many streams it holds at once (a point stacks its seeds)."""
    runs = 1 + sum(len(values) for _, values in config.params)
    n_points = len(config.modes) * len(config.sizes) * runs
    grid = ((len(config.modes), "mode"), (len(config.sizes), "size"), (runs, "device setting"), (config.seeds, "seed"))
    at_once = config.seeds * min(workers, n_points)
    _budget.check_sweep(grid, "--seeds", config.seeds, config.ops, at_once, workers)
    return at_once


def config_from_args(args: argparse.Namespace) -> rs.SweepConfig:
    """Validate the options into a :class:`~spikemem.experiments._rram_sweep.SweepConfig`.

    Every swept value is checked by building its device, so a bad value is refused with
    the option and the parameter's name before anything runs.
    """
    parse_device(args.rram)  # the base device: a bad preset or key names the parameter
    if args.drift_model not in DRIFT_MODELS or args.drift_model == "none":
        raise ValidationError("--drift-model", args.drift_model, "pcm or relaxation (used by the t_inf sweep)")
    names = _sweep.parse_choices("--params", args.params, SWEEPS)
    params = tuple((name, parse_values(name, getattr(args, name))) for name in names)
    modes = _sweep.parse_choices("--modes", args.modes, MODES, "fidelity and/or functional")
    matches = _sweep.parse_choices("--matches", args.matches, MATCHES)
    for option, value in (("--spacing", args.spacing), ("--pause", args.pause)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0 and float(value).is_integer()):
            raise ValidationError(option, value, "a whole number of ms > 0")
    if isinstance(args.seed, bool) or not isinstance(args.seed, int) or args.seed < 0:
        raise ValidationError("--seed", args.seed, "an integer >= 0")
    threshold = _sweep.parse_fraction("--threshold", args.threshold, low_open=True)
    target = _sweep.parse_target(args.target)
    sizes = _sweep.parse_sizes(args.sizes)
    check_query_bits(_sweep.parse_query_bits(args.query_bits), sizes)
    config = rs.SweepConfig(
        params=params,
        modes=modes,
        sizes=sizes,
        base=args.rram,
        drift_model=args.drift_model,
        ops=_sweep.parse_count("--ops", args.ops),
        seeds=_sweep.parse_count("--seeds", args.seeds),
        seed=args.seed,
        spacing_ms=float(args.spacing),
        pause_ms=float(args.pause),
        density=_sweep.parse_fraction("--density", args.density, low_open=True),
        overlap=_sweep.parse_fraction("--overlap", args.overlap),
        overwrite=_sweep.parse_fraction("--overwrite", args.overwrite),
        query_bits=_sweep.parse_query_bits(args.query_bits),
        matches=matches,
        target=target,
        target_options=_sweep.sweep_target_options(args.option),
        threshold=threshold,
    )
    for name, values in params:
        for value in values:
            try:
                rs.device_for(config, name, value, t_age_ms=1.0)
            except ValidationError as exc:
                raise ValidationError(f"{SWEEPS[name][0]} (RRAM.{name})", value, exc.allowed) from None
    return config


# --- table, HDF5, plot ------------------------------------------------------------------------

COLUMNS = [
    "mode",
    "size",
    "parameter",
    "value",
    "recalls ok",
    "kept",
    "missed cues",
    "false cues",
    "missed bits",
    "false bits",
    "overwrites ok",
    "verdict",
]


def format_value(param: str, value: float | None) -> str:
    """A value as the table prints it (``t_inf`` with a unit, ``levels`` with its bits)."""
    if value is None:
        return "-"
    if param == "t_inf":
        for unit in ("y", "mo", "d", "h", "min"):
            if value >= UNITS[unit]:
                return f"{value / UNITS[unit]:.3g} {unit}"
        return f"{value:.3g} s"
    if param == "levels":
        return "continuous" if value == 0 else f"{int(value)} ({math.log2(value):.3g} bit)"
    return f"{value:g}"


def table_rows(rows: list[dict[str, Any]], breaks: list[dict[str, Any]]) -> list[list[Any]]:
    first = {(b["mode"], b["n_cues"], b["n_bits"], b["param"]): b["value"] for b in breaks}
    out = []
    for r in rows:
        name = {rs.REFERENCE: "no device", rs.BASE: "base device"}.get(r["param"], r["param"])
        mark = ""
        if r["param"] not in (rs.REFERENCE, rs.BASE) and r["broken"]:
            mark = "BREAKS" if first[(r["mode"], r["n_cues"], r["n_bits"], r["param"])] == r["value"] else "broken"
        out.append(
            [
                r["mode"],
                f"{r['n_cues']}x{r['n_bits']}",
                name,
                format_value(r["param"], r["value"]),
                _sweep.pct(r["recalls_correct"], r["recalls"], 1),
                _sweep.pct(r["kept"], r["kept_of"], 1),
                r["missed_cues"],
                r["false_cues"],
                r["missed_bits"],
                r["false_bits"],
                _sweep.pct(r["forget_ok"], r["forget_probes"], 1),
                mark,
            ]
        )
    return out


def breaking_lines(config: rs.SweepConfig, breaks: list[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for b in breaks:
        label = f"breaks: {b['mode']} {b['n_cues']}x{b['n_bits']} {b['param']}"
        kept = f"kept {100 * b['kept_fraction']:.1f}%" if b["value"] is not None else ""
        if b["value"] is None:
            out[label] = f"none up to {format_value(b['param'], b['last_value'])}"
        elif b["value"] == b["first_value"]:
            value = format_value(b["param"], b["value"])
            out[label] = f"{value}, the mildest value swept ({kept}): the breaking point is there or below"
        else:
            out[label] = f"{format_value(b['param'], b['value'])} ({kept})"
    return out


def write_hdf5(
    path: str,
    config: rs.SweepConfig,
    results: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    breaks: list[dict[str, Any]],
    started: str,
) -> None:
    """One HDF5 file, written atomically: config, base and per-point device parameters,
    per-stream counts, the table, breaking points, provenance."""
    points: dict[str, Any] = {
        "key": [r["key"] for r in results],
        "mode": [r["point"]["mode"] for r in results],
        "param": [r["point"]["param"] for r in results],
        "value": np.array([np.nan if r["point"]["value"] is None else r["point"]["value"] for r in results]),
        "device": [json.dumps(r["device"]) for r in results],
        "engine": [r["engine"] for r in results],
    }
    for name in ("n_cues", "n_bits"):
        points[name] = np.array([r["point"][name] for r in results], dtype=np.int64)
    for name in ("t_age_ms", "duration_ms", "wall_s"):
        points[name] = np.array([r[name] for r in results], dtype=np.float64)
    for name in rs.COUNTS:
        points[name] = np.array([[s["counts"][name] for s in r["streams"]] for r in results], dtype=np.int64)
    summary = {
        name: [r[name] for r in rows]
        if isinstance(rows[0][name], str)
        else np.array([np.nan if r[name] is None else r[name] for r in rows])
        for name in rows[0]
    }
    tree = {
        "config": {**asdict(config), "digest": config.digest()},
        "base_device": config.base_device().to_dict(),
        "points": points,
        "failed_ops": [[np.asarray(s["failed_ops"], dtype=np.int64) for s in r["streams"]] for r in results],
        "summary": summary,
        "breaking_points": {
            "mode": [b["mode"] for b in breaks],
            "n_cues": np.array([b["n_cues"] for b in breaks], dtype=np.int64),
            "n_bits": np.array([b["n_bits"] for b in breaks], dtype=np.int64),
            "param": [b["param"] for b in breaks],
            "value": np.array([np.nan if b["value"] is None else b["value"] for b in breaks]),
            "threshold": config.threshold,
        },
        "table": {"columns": COLUMNS, "rows": [[str(v) for v in row] for row in table_rows(rows, breaks)]},
        "provenance": _sweep.run_provenance(config.base, started),
    }
    _sweep.write_stress_file(path, FORMAT, tree)


def load_sweep(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a file written by ``spikemem stress rram --out``."""
    return _sweep.read_stress_file(path, FORMAT, "spikemem stress rram")


def plot(config: rs.SweepConfig, rows: list[dict[str, Any]], breaks: list[dict[str, Any]], path: str) -> None:
    """Recalls correct vs value, one panel per swept parameter, one line per mode (and size);
    the device-free accuracy dotted, each breaking point marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name, _ in config.params]
    cols = min(3, len(names))
    fig, axes = plt.subplots(
        math.ceil(len(names) / cols), cols, figsize=(4.3 * cols, 3.4 * math.ceil(len(names) / cols)), squeeze=False
    )
    for ax, name in zip(axes.flat, names):
        for (n, m), mode in ((s, mode) for s in config.sizes for mode in config.modes):
            mine = [r for r in rows if (r["mode"], r["n_cues"], r["n_bits"]) == (mode, n, m)]
            line = [r for r in mine if r["param"] == name]
            ref = next(r for r in mine if r["param"] == rs.REFERENCE)
            x = [_x(name, r["value"]) for r in line]
            style, color = circuit(mode).marker, circuit(mode).colour
            label = f"{mode}" + (f" {n}x{m}" if len(config.sizes) > 1 else "")
            ax.plot(x, [100 * r["recall_accuracy"] for r in line], style, color=color, label=label)
            ax.axhline(100 * ref["recall_accuracy"], color=color, linestyle=":", linewidth=1)
            hit = next(b for b in breaks if (b["mode"], b["n_cues"], b["n_bits"], b["param"]) == (mode, n, m, name))
            if hit["value"] is not None:
                ax.axvline(_x(name, hit["value"]), color=color, alpha=0.4, linewidth=3)
        ax.set_title(name)
        ax.set_xlabel(_xlabel(name))
        positive = [v for v in dict(config.params)[name] if v > 0]
        if name != "levels" and positive:
            if len(positive) < len(dict(config.params)[name]):
                ax.set_xscale("symlog", linthresh=min(positive))
            else:
                ax.set_xscale("log")
        if name == "t_inf":
            ticks = [(1.0, "1 s"), (UNITS["h"], "1 h"), (UNITS["d"], "1 d"), (UNITS["mo"], "1 mo"), (UNITS["y"], "1 y")]
            ax.set_xticks([t for t, _ in ticks], [label for _, label in ticks])
        if name == "levels":
            ax.invert_xaxis()
        ax.set_ylabel("recalls correct (%)")
        ax.set_ylim(-3, 103)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, title="dotted: no device; bar: breaks", title_fontsize=7)
    fig.suptitle(f"CA3 on {config.base} devices, {config.seeds} streams x {config.ops} ops", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def _x(name: str, value: float) -> float:
    if name == "levels":
        return 10.0 if value == 0 else math.log2(value)
    return value


def _xlabel(name: str) -> str:
    return {
        "prog_noise": "programming noise (σ / G_max)",
        "read_noise": "read noise (σ / window, per read)",
        "levels": "bits per device (10 = continuous)",
        "stuck_off": "stuck-OFF rate",
        "stuck_on": "stuck-ON rate",
        "t_inf": "time since programming",
    }[name]


# --- the command ------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = DEFAULTS
    p.add_argument("--rram", default="ideal", help="base device PRESET[:key=value,...] (default ideal)")
    p.add_argument("--params", default=",".join(SWEEPS), help="parameters to sweep (default: all six)")
    for name, (option, values) in SWEEPS.items():
        p.add_argument(option, dest=name, default=values, help=f"values of RRAM.{name} (default {values})")
    p.add_argument("--drift-model", default="pcm", help="t_inf sweep on a base without drift: pcm or relaxation")
    p.add_argument("--modes", default=d["modes"], help=f"circuits (default {d['modes']})")
    p.add_argument("--sizes", default=d["sizes"], help=f"N x M sizes (default {d['sizes']})")
    p.add_argument("--ops", type=int, default=d["ops"], help=f"operations per stream (default {d['ops']})")
    p.add_argument("--seeds", type=int, default=d["seeds"], help=f"streams per point (default {d['seeds']})")
    p.add_argument("--seed", type=int, default=0, help="run seed: device draws and read noise (default 0)")
    p.add_argument("--spacing", type=float, default=d["spacing"], help="ms between op starts (default 10)")
    p.add_argument("--pause", type=float, default=d["pause"], help="ms between the phases; ageing midway (default 20)")
    p.add_argument("--density", type=float, default=0.3, help="fraction of bits set (default 0.3)")
    p.add_argument("--overlap", type=float, default=0.5, help="bit sharing between memories (default 0.5)")
    p.add_argument("--overwrite", type=float, default=0.5, help="learns that rewrite a cue (default 0.5)")
    p.add_argument("--query-bits", default="1-3", help="bits per content query, LOW-HIGH (default 1-3)")
    p.add_argument("--matches", default="or,and,best", help="functional query modes (default or,and,best)")
    p.add_argument(
        "--threshold", type=float, default=d["threshold"], help="breaks below this fraction of recalls kept (0.99)"
    )
    p.add_argument("--target", default="brian2", help="where to run (default brian2)")
    add_option_argument(p, "target option for every run", "threads=2, board=IP")
    p.add_argument("--out", help="write config, device parameters, per-point metrics and provenance (HDF5)")
    p.add_argument("--plot", help="draw accuracy vs each parameter to this image file")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes (default 1)")
    p.add_argument("--resume", action="store_true", help="skip points a killed run already finished")
    p.add_argument("--scheduler", help=_sweep.SCHEDULER_HELP)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> Report:
    """``spikemem stress rram``: validate, sweep, tabulate, write."""
    from spikemem.provenance import now_utc

    config = config_from_args(args)
    workers = _sweep.parse_count("--workers", args.workers)
    at_once = check_budget(config, workers)
    check_output_paths(args)
    scheduler = _sweep.check_scheduler(getattr(args, "scheduler", None))
    device = config.base_device()

    def one_stream(point: rs.SweepPoint) -> Network:  # a stream of the point, the base device under it
        schedules, _ = rs.phased_schedules(config, point.mode, point.n_cues, point.n_bits)
        network = ca3_network(schedules[0], point.mode, device=device)
        _budget.check_shape(network, duration_ms(schedules[0], point.mode), point.n_cues, point.n_bits, at_once)
        return network

    _sweep.check_target(config, one_stream)
    started = now_utc()
    resume_file = _sweep.resume_path(config, args.out, "rram")
    files = []
    with _sweep.claimed(resume_file, args.out):
        results, resumed = _sweep.sweep(
            config,
            resume_file,
            rs.run_launch,
            args.resume,
            workers,
            scheduler,
            not args.no_progress,
            "stress rram",
            rs.RESULT_SCHEMA,
        )
        rows, breaks = rs.summarise(config, results)
        if args.out:
            write_hdf5(args.out, config, results, rows, breaks, started)
            resume_file.unlink(missing_ok=True)
            files.append(args.out)
    if args.plot:
        plot(config, rows, breaks, args.plot)
        files.append(args.plot)
    wall = sum(r["wall_s"] for r in results)
    metrics: dict[str, Any] = {
        "points": f"{len(results)} ({resumed} from {resume_file})" if resumed else len(results),
        "base device": config.base,
        "streams": f"{config.seeds} x {config.ops} ops per point, learn then recall, {config.spacing_ms:g} ms apart, "
        f"devices aged {config.pause_ms / 2:g} ms after the learn phase",
        "breaking point": f"first value with < {100 * config.threshold:g}% of the device-free correct recalls kept",
        **breaking_lines(config, breaks),
        "engines": ", ".join(sorted({r["engine"] for r in results})),
        "simulation wall time": f"{wall:.1f} s",
    }
    title = f"CA3 on resistive devices: {len(config.params)} parameters x {len(config.modes)} modes"
    return Report(title, COLUMNS, table_rows(rows, breaks), metrics, files)


EXPERIMENTS = [
    Experiment(
        "rram",
        "CA3 under a resistive-memory device: accuracy vs each device parameter, breaking points, both modes",
        add_arguments,
        run,
        command="stress",
    )
]
