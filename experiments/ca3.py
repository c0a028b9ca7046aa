"""CA3 memory experiments: run a schedule, or the paper's two tests, on either circuit.

``spikemem run ca3 --schedule FILE.json``   any schedule (answers.json, results, raster)
``spikemem run ca3-exp1``                   the paper's functional test (exp. 1; alias ca3-functional)
``spikemem run ca3-exp2``                   the paper's pyramidal stress test (exp. 2; alias ca3-pyramidal)

``--mode`` chooses the circuit that runs it: ``functional`` (spikemem's, the default) or
``fidelity`` (the published circuit with SpiNNaker's semantics).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from spikemem import _checks as chk
from spikemem import target_options
from spikemem.errors import ValidationError
from spikemem.experiment import Experiment, Report, check_output_paths
from spikemem.models.ca3 import (
    CIRCUITS,
    MODES,
    CA3Run,
    Op,
    Schedule,
    ca3_raster,
    load_schedule,
    paper_schedule,
    run_ca3,
)
from spikemem.outputs import write_text


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mode",
        choices=MODES,
        default="functional",
        help="the circuit: " + "; ".join(f"{c.name}: {c.description}" for c in CIRCUITS.values()),
    )
    p.add_argument("--target", default="brian2", help="where to run (default brian2; see `spikemem targets`)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the results (spikes, provenance) to this HDF5 file")
    p.add_argument("--answers", help="write one answer per op to this JSON file")
    p.add_argument("--plot", help="draw a spike raster with the operations to this image file (png, pdf, svg)")
    p.add_argument("--rram", help="device model under the memory synapses: PRESET[:key=value,...]")
    target_options.add_argument(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_schedule(p: argparse.ArgumentParser) -> None:
    p.add_argument("--schedule", required=True, help="schedule JSON file (see README: schedule format)")
    add_common(p)


def execute(schedule: Schedule, args: argparse.Namespace, title: str) -> Report:
    """Run ``schedule`` as the options say; write answers, results and plot; tabulate."""
    check_output_paths(args, ("out", "answers", "plot"))
    seed = chk.seed("--seed", args.seed)
    device = _device(args.rram)  # parsed (and rejected if malformed) before anything runs
    options = target_options.parse_options(args.option)
    if target_options.maps_only(options):
        for option in ("answers", "plot"):
            if getattr(args, option):
                raise ValidationError(
                    f"--{option}",
                    getattr(args, option),
                    "left out with virtual=true: it maps the network without simulating it (no spikes, no answers)",
                )
    run = run_ca3(
        schedule,
        mode=args.mode,
        target=args.target,
        seed=seed,
        progress=not args.no_progress,
        record="all" if args.plot else "outputs",
        device=device,
        **options,
    )
    if not run.simulated:
        return mapping_report(run, title, args)
    files = []
    if args.answers:
        write_text(args.answers, json.dumps(run.answers, indent=1))
        files.append(args.answers)
    if args.out:
        run.results.save(args.out)
        files.append(args.out)
    if args.plot:
        ca3_raster(run.results, args.plot)
        files.append(args.plot)
    return answers_report(run, title, files)


def _device(spec: str | None) -> Any:
    """The RRAM device model named by ``--rram PRESET[:key=value,...]`` (None without it)."""
    if not spec:
        return None
    from spikemem.hardware.devices.rram import parse_device

    return parse_device(spec)


def answers_report(run: CA3Run, title: str, files: list[str]) -> Report:
    expected = run.expected()
    rows = []
    for op, ans, want in zip(run.schedule.ops, run.answers, expected, strict=True):
        ok = set(ans["cues"]) == set(want["cues"]) and set(ans["content"]) == set(want["content"])
        rows.append(
            [
                f"{ans['t']:g}",
                _describe(op),
                _pair(want["cues"], want["content"]),
                _pair(ans["cues"], ans["content"]),
                "ok" if ok else "WRONG",
            ]
        )
    score = run.score()
    prov = run.results.provenance
    metrics = {
        "correct": f"{score['correct']}/{score['ops']} ops ({score['recalls_correct']}/{score['recalls']} recalls)",
        "errors": f"missed cues {score['missed_cues']}, false cues {score['false_cues']}, "
        f"missed bits {score['missed_bits']}, false bits {score['false_bits']}",
        "engine": f"{prov['target']}, build {prov.get('build_s', 0):.2f} s, run {prov.get('run_s', 0):.2f} s",
    }
    return Report(
        title,
        ["t (ms)", "operation", "expected cues | content", "answer cues | content", "result"],
        rows,
        metrics,
        files,
        ok=score["correct"] == score["ops"],
    )


def mapping_report(run: CA3Run, title: str, args: argparse.Namespace) -> Report:
    """What a target that maps without simulating (SpiNNaker's virtual board) found:
    cores, chips, routing entries and memory per population; no answers."""
    prov = run.results.provenance
    mapping = prov.get("spinnaker_mapping", {})
    cores = mapping.get("cores_per_population", {})
    sdram = mapping.get("sdram_bytes_per_population", {})
    rows = [[pop, cores[pop], f"{sdram.get(pop, 0) / 1024:.1f}"] for pop in cores]
    metrics = {
        "mapped": f"{mapping.get('application_cores', '?')} application cores on {mapping.get('n_chips_used', '?')} "
        f"chip(s), {mapping.get('routing_entries', '?')} routing entries; nothing simulated, so no answers",
        "engine": f"{prov['target']}, build {prov.get('build_s', 0):.2f} s, map {prov.get('run_s', 0):.2f} s",
        "log": prov.get("log", "-"),
    }
    files = []
    if args.out:
        run.results.save(args.out)
        files.append(args.out)
    return Report(f"{title}: mapping only", ["population", "cores", "SDRAM (KiB)"], rows, metrics, files)


def _describe(op: Op) -> str:
    if op.op == "learn":
        return f"learn cue {op.cue} <- {_set(list(op.content))}"
    if op.op == "recall_cue":
        return f"recall cue {op.cue}"
    return f"recall content {_set(list(op.content))} ({op.match})"


def _pair(cues: list[int], content: list[int]) -> str:
    return f"{_set(cues)} | {_set(content)}"


def _set(values: list[int]) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


def run_schedule(args: argparse.Namespace) -> Report:
    schedule = load_schedule(args.schedule)
    return execute(schedule, args, f"CA3 {args.mode} circuit: {args.schedule} ({len(schedule.ops)} ops)")


def run_exp1(args: argparse.Namespace) -> Report:
    return execute(paper_schedule("exp1"), args, f"CA3 paper exp. 1 (the functional test) on the {args.mode} circuit")


def run_exp2(args: argparse.Namespace) -> Report:
    title = f"CA3 paper exp. 2 (the pyramidal stress test) on the {args.mode} circuit"
    return execute(paper_schedule("exp2"), args, title)


EXPERIMENTS = [
    Experiment("ca3", "run a CA3 memory schedule (JSON) and answer every operation", add_schedule, run_schedule),
    Experiment(
        "ca3-exp1",
        "the paper's exp. 1, its functional test: learn, recall by cue and content, overwrite, forget",
        add_common,
        run_exp1,
        aliases=("ca3-functional",),
    ),
    Experiment(
        "ca3-exp2",
        "the paper's exp. 2, its pyramidal stress test: 60 ops, overwrites by complements",
        add_common,
        run_exp2,
        aliases=("ca3-pyramidal",),
    ),
]
