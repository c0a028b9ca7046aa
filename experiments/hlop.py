r"""``spikemem run hlop``: continual learning with HLOP, GPM, fine-tuning and multitask.

Tasks: Permuted-Digits-784, generated offline, or permuted MNIST read from disk (``--mnist``).

HLOP (Xiao et al., ICLR 2024) protects each layer by learning the old tasks' principal
subspace with lateral neurons (Oja's rule, :math:`\Delta H = \eta(yx^\top - yy^\top H)`) and
training with the projected traces :math:`(I - H^\top H)x` (spec hlop.md §1–§4). The network
is spikemem's spiking MLP (:mod:`spikemem.models.hlop`), trained by BPTT through the
``norse`` target (:mod:`._hlop_learning`); the authors' DSR-trained network is not
reproduced. ``--spiking-steps`` runs HLOP with lateral neurons that spike (two
integrate-and-fire populations per layer, :func:`spikemem.models.hlop.lateral_network`),
``--quantised-steps`` with the authors' code's quantised emulation of them (spec §6).
After the last task the continual learner is a plain ``Network`` and
``--deploy`` runs it on other targets for every task's test samples.

Metrics (GPM's definitions): ACC, the mean final accuracy over the tasks; BWT, the mean
change of each earlier task's accuracy from just after it was learned to the end.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

from spikemem import _checks as chk
from spikemem.errors import TargetNotInstalled, ValidationError
from spikemem.experiment import Experiment, Report, check_output_paths

METHODS = ("hlop", "finetune", "multitask", "gpm")
#: Defaults of the network and training on each dataset (spec §10.4-10.5 and §10.8).
DIGITS_SETUP = {"hidden": 256, "epochs": 10, "steps": 8, "batch": 32}
MNIST_SETUP = {"hidden": 800, "epochs": 1, "steps": 20, "batch": 64}
DEPLOY_TARGETS = ("brian2", "brian2:numpy", "brian2:cython", "pynn:nest", "norse", "nir", "spinnaker")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tasks", type=int, default=10, help="permuted tasks, at least 2 (default 10)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per method, seeds 0..N-1 (default 3)")
    p.add_argument(
        "--methods", default=",".join(METHODS), help="comma-separated, of " + ", ".join(METHODS) + " (default: all)"
    )
    p.add_argument(
        "--mnist",
        metavar="DIR",
        help="permuted MNIST from MNIST's four IDX files in DIR (or DIR/MNIST/raw), with the authors' setup "
        "unless overridden: 784-800-800-10, 20 steps, 1 epoch per task, batch 64, their lateral counts "
        "(default: Permuted-Digits-784, generated offline)",
    )
    p.add_argument("--hidden", type=int, help="hidden layer width H of 784-H-H-10 (default 256; 800 with --mnist)")
    p.add_argument("--epochs", type=int, help="epochs per task (default 10; 1 with --mnist)")
    p.add_argument("--steps", type=int, help="input time steps per sample (default 8; 20 with --mnist)")
    p.add_argument("--batch", type=int, help="minibatch size (default 32; 64 with --mnist)")
    p.add_argument(
        "--spiking-steps",
        default="",
        help="comma-separated T_h: also run HLOP with spiking lateral neurons (two integrate-and-fire "
        "populations, threshold s = 20) counting over T_h steps, at each",
    )
    p.add_argument(
        "--quantised-steps",
        default="",
        help="comma-separated T_h: also run HLOP with the authors' code's quantised lateral rate (s = 20) at each",
    )
    p.add_argument(
        "--deploy",
        default="",
        help="comma-separated targets that run the final HLOP network (seed 0) on every task: "
        + ", ".join(DEPLOY_TARGETS)
        + " (nir: a NIR file run by Norse; spinnaker: the constraint report and the accuracy with the chip's "
        "16-bit weights, no board needed)",
    )
    p.add_argument(
        "--rram",
        action="append",
        default=[],
        metavar="PRESET[:key=value,...]",
        help="also deploy the final HLOP network (seed 0) on a resistive-memory chip of this device "
        "(e.g. hfox, pcm, 'hfox:prog_noise=2,read_noise=0.02'; repeat for several): accuracy on every "
        "task's whole test set (norse) and, on the brian2 targets of --deploy, with per-spike read noise",
    )
    p.add_argument("--deploy-samples", default="20", help="test samples per task for --deploy, or 'all' (default 20)")
    p.add_argument(
        "--rram-samples", type=int, default=10, help="test samples per task on brian2 for --rram (default 10)"
    )
    p.add_argument(
        "--trained",
        metavar="FILE",
        help="deploy the HLOP network that an earlier run wrote to FILE (--out) instead of training one",
    )
    p.add_argument("--out", help="results HDF5 file (accuracy matrices, every hyperparameter, provenance)")
    p.add_argument("--plot", help="accuracy-matrix heatmaps and per-task curves to this image file")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _names(field: str, text: str, allowed: tuple[str, ...]) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in allowed:
            raise ValidationError(field, name, "comma-separated names of " + ", ".join(allowed))
    return list(dict.fromkeys(names))


def _steps_list(field: str, text: str) -> list[int]:
    out = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        try:
            out.append(chk.count(field, int(item), minimum=1))
        except ValueError:
            raise ValidationError(field, item, "comma-separated whole numbers of steps ≥ 1") from None
    return out


def _samples(text: str) -> int | None:
    if str(text).strip().lower() == "all":
        return None
    try:
        return chk.count("--deploy-samples", int(text), minimum=1)
    except ValueError:
        raise ValidationError("--deploy-samples", text, "a whole number of samples >= 1, or 'all'") from None


def parse(args: argparse.Namespace) -> dict[str, Any]:
    """Every option checked before anything is trained (the optional packages included)."""
    check_output_paths(args)
    defaults = MNIST_SETUP if args.mnist else DIGITS_SETUP
    given = {k: getattr(args, k) for k in defaults}
    setup = {k: defaults[k] if v is None else v for k, v in given.items()}
    opts = {
        "dataset": "permuted-mnist" if args.mnist else "permuted-digits-784",
        "mnist": str(args.mnist) if args.mnist else None,
        "tasks": chk.count("--tasks", args.tasks, minimum=2),
        "seeds": chk.count("--seeds", args.seeds, minimum=1),
        "methods": _names("--methods", args.methods, METHODS),
        "hidden": chk.count("--hidden", setup["hidden"], minimum=2),
        "epochs": chk.count("--epochs", setup["epochs"], minimum=1),
        "steps": chk.count("--steps", setup["steps"], minimum=1),
        "batch": chk.count("--batch", setup["batch"], minimum=1),
        "spiking": _steps_list("--spiking-steps", args.spiking_steps),
        "quantised": _steps_list("--quantised-steps", args.quantised_steps),
        "deploy": _names("--deploy", args.deploy, DEPLOY_TARGETS),
        "deploy_samples": _samples(args.deploy_samples),
        "rram_samples": chk.count("--rram-samples", args.rram_samples, minimum=1),
        "trained": args.trained,
    }
    if args.trained:
        from spikemem.models.hlop import trained

        run = trained(args.trained, "hlop", "--trained")  # refused here if it holds no HLOP run
        if not opts["deploy"] and not args.rram:
            raise ValidationError("--trained", args.trained, "a run that deploys it (--deploy or --rram)")
        if args.plot:
            raise ValidationError("--plot", args.plot, "a run that trains (nothing to plot with --trained)")
        for key in ("dataset", "mnist", "tasks", "steps", "hidden"):
            opts[key] = run["options"].get(key, opts[key])
        opts["methods"], opts["spiking"], opts["quantised"] = ["hlop"], [], []
    if not opts["methods"] and not opts["spiking"] and not opts["quantised"]:
        raise ValidationError("--methods", args.methods, "at least one of " + ", ".join(METHODS))
    if opts["deploy"] and "hlop" not in opts["methods"]:
        raise ValidationError("--deploy", args.deploy, "a run that trains hlop (add it to --methods)")
    if args.rram:
        from spikemem.hardware.devices.rram import parse_device

        for text in args.rram:
            parse_device(text)  # refused here, naming the parameter, if it is not a device
        if "hlop" not in opts["methods"]:
            raise ValidationError("--rram", args.rram[0], "a run that trains hlop (add it to --methods)")
    opts["rram"] = list(args.rram)
    from spikemem.targets import resolve

    for target in ["norse", *opts["deploy"]]:  # training runs through the norse target
        if target != "spinnaker":  # its constraint report needs no sPyNNaker
            resolve(target)
    if args.mnist:
        from spikemem import mnist

        mnist.find(args.mnist, "--mnist")  # the files' contents are checked as they load, before training
    elif importlib.util.find_spec("sklearn") is None:
        raise TargetNotInstalled("norse", "scikit-learn", "pip install 'spikemem[learn]': its digits are the tasks")
    return opts


def _tasks(opts: dict[str, Any]) -> Callable[[int], Any]:
    """The tasks of each seed (MNIST read from disk once)."""
    from spikemem.models import hlop

    if opts["mnist"] is None:
        return lambda seed: hlop.permuted_digits(opts["tasks"], seed)
    from spikemem import mnist

    splits = mnist.load(opts["mnist"], "--mnist")
    return lambda seed: hlop.permuted_mnist(splits, opts["tasks"], seed)


def run(args: argparse.Namespace) -> Report:
    opts = parse(args)
    from spikemem.models import hlop

    from . import _hlop_learning as learning

    tasks_of = _tasks(opts)
    runs: list[tuple[str, learning.Config]] = []
    base = learning.Config(hidden=opts["hidden"], epochs=opts["epochs"], n_steps=opts["steps"], batch=opts["batch"])
    if opts["mnist"]:
        base.k_per_task = learning.pmnist_counts(opts["tasks"])  # spec §8.3
    elif opts["hidden"] <= 128:
        base.k0, base.k_inc = (24, 40, 24), (20, 20, 16)  # spec §10.6, width 128
    for method in opts["methods"]:
        runs.append((method, base))
    for scheme, name in (("neurons", "spiking"), ("quantised", "quantised")):
        for steps in opts[name]:
            cfg = learning.Config(**{**base.__dict__, "spiking": (hlop.LATERAL_SCALE, steps), "lateral": scheme})
            runs.append((f"hlop-{name}-{steps}", cfg))
    outcomes: dict[str, list[learning.Outcome]] = {}
    progress = None if args.no_progress else _bar()
    if opts["trained"]:
        runs = []
        outcomes["hlop"] = [learning.Outcome("hlop", np.full((1, 1), np.nan), hlop.trained(opts["trained"])["weights"])]
    for name, cfg in runs:
        method = "hlop" if name.startswith("hlop") else name
        for seed in range(opts["seeds"]):
            tasks = tasks_of(seed)
            out = learning.continual(tasks, method, cfg, seed, progress and progress(f"{name} seed {seed}"))
            out.method = name
            outcomes.setdefault(name, []).append(out)
    deployed = _deploy(outcomes["hlop"][0], tasks_of(0), base, opts) if opts["deploy"] else {}
    if opts["rram"]:
        deployed["rram"] = _deploy_rram(outcomes["hlop"][0], tasks_of(0), base, opts)
    rows = [] if opts["trained"] else [_row(name, outs) for name, outs in outcomes.items()]
    files = []
    if args.out:
        from ._hlop_output import save

        save(args.out, {} if opts["trained"] else outcomes, base, opts, deployed)
        files.append(args.out)
    if args.plot:
        from ._hlop_output import plot

        plot(outcomes, args.plot)
        files.append(args.plot)
    metrics: dict[str, Any] = {"network": f"784-{opts['hidden']}-{opts['hidden']}-10, {opts['steps']} input steps"}
    if "hlop" in outcomes and not opts["trained"]:
        kept = outcomes["hlop"][0].kept
        metrics["lateral neurons (seed 0)"] = ", ".join(f"{w}: {sum(k)}" for w, k in kept.items())
    for target, result in deployed.items():
        if target == "rram":
            metrics.update(_rram_metrics(result))
        elif target == "spinnaker":
            errors = ", ".join(f"{w} {e:.2g}" for w, e in result["max_weight_error"].items())
            metrics["SpiNNaker (16-bit weights, whole test sets)"] = (
                f"ACC {np.mean(result['fixed_accuracy']):.2f} % vs {np.mean(result['float_accuracy']):.2f} % with "
                f"float weights; {result['cores']} cores; largest weight error {errors}; "
                f"{len(result['violations'])} violation(s): " + " | ".join(result["violations"])
            )
        else:
            where = "via a NIR file in Norse" if target == "nir" else f"on {target}"
            metrics[f"deployed {where}"] = (
                f"ACC {result['acc']:.2f} %, {result['agree']:.2f} % of predictions equal to PyTorch's, "
                f"at most {result['max_gap']:.2f} points from PyTorch's accuracy on one task "
                f"({result['samples_per_task']} samples per task)"
            )
    columns = ["method", "ACC (%)", "BWT (%)", "ACC per seed", "BWT per seed", "wall (s)"]
    title = "Permuted MNIST" if opts["mnist"] else "Permuted-Digits-784"
    return Report(f"{title}, {opts['tasks']} tasks, {opts['seeds']} seeds", columns, rows, metrics, files)


def _row(name: str, outs: list[Any]) -> list[Any]:
    acc = np.array([o.acc for o in outs])
    bwt = np.array([o.bwt for o in outs])
    bwt_text = "–" if np.all(np.isnan(bwt)) else f"{np.mean(bwt):.2f} ± {np.std(bwt):.2f}"
    return [
        name,
        f"{acc.mean():.2f} ± {acc.std():.2f}",
        bwt_text,
        " ".join(f"{a:.2f}" for a in acc),
        " ".join("–" if np.isnan(b) else f"{b:.2f}" for b in bwt),
        f"{sum(o.wall_s for o in outs):.0f}",
    ]


def _bar() -> Any:
    """A factory of per-run progress callbacks, each driving its own tqdm bar over minibatches."""
    from tqdm import tqdm

    def factory(desc: str) -> Any:
        bar = tqdm(desc=desc, unit="batch", leave=False)

        def update(_method: str, done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)
            if done == total:
                bar.close()

        return update

    return factory


def _deploy(outcome: Any, tasks: Any, config: Any, opts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The final HLOP network on each ``--deploy`` target: accuracy over the first
    ``--deploy-samples`` test samples of every task (all: ``None``), and how many predictions equal PyTorch's;
    for ``spinnaker`` the constraint report and the accuracy with 16-bit weights
    (:func:`._hlop_deploy.spinnaker_fit`)."""
    from ._hlop_deploy import evaluate_tasks, spinnaker_fit

    out: dict[str, dict[str, Any]] = {}
    for target in opts["deploy"]:
        if target == "spinnaker":
            out[target] = spinnaker_fit(outcome.weights, tasks, config.n_steps)
        else:
            out[target] = evaluate_tasks(outcome.weights, tasks, config.n_steps, target, opts["deploy_samples"])
    return out


def _deploy_rram(outcome: Any, tasks: Any, config: Any, opts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per ``--rram`` device: one chip programmed with the final HLOP weights
    (:func:`._hlop_deploy.rram_accuracy`, whole test sets on ``norse``) and, on each brian2
    target of ``--deploy``, the first ``--rram-samples`` test samples per task with the
    device under every projection (read noise per transmitted spike)."""
    from functools import partial

    from spikemem.hardware.devices.rram import parse_device

    from ._hlop_deploy import compare, programmed, reference_predictions, rram_accuracy, target_predictions

    steps = config.n_steps
    out: dict[str, dict[str, Any]] = {}
    for text in opts["rram"]:
        device = parse_device(text)
        result: dict[str, Any] = {"norse": rram_accuracy(outcome.weights, tasks, steps, device)}
        held, _ = programmed(outcome.weights, device)
        for target in (t for t in opts["deploy"] if t.startswith("brian2")):
            on_chip = partial(target_predictions, outcome.weights, n_steps=steps, target=target, device=device)
            result[target] = compare(
                tasks, opts["rram_samples"], on_chip, partial(reference_predictions, held, n_steps=steps)
            )
        out[text] = result
    return out


def _rram_metrics(result: dict[str, dict[str, Any]]) -> dict[str, str]:
    lines = {}
    for text, by_target in result.items():
        ref = by_target["norse"]
        parts = [
            f"norse, whole test sets: ACC {np.mean(ref['programmed']):.2f} % programmed, "
            f"{np.mean(ref['read']):.2f} % with read noise (worst task {min(ref['read']):.2f} %)"
        ]
        for target, r in by_target.items():
            if target != "norse":
                parts.append(
                    f"{target}: ACC {r['acc']:.2f} %, {r['agree']:.2f} % of predictions as norse's on the chip"
                )
        lines[f"RRAM {text}"] = "; ".join(parts)
    return lines


EXPERIMENTS = [
    Experiment(
        "hlop", "continual learning: HLOP vs GPM, fine-tuning and multitask on Permuted-Digits-784", add_arguments, run
    )
]
