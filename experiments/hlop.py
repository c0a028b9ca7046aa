r"""``spikemem run hlop``: continual learning on Permuted-Digits-784 with HLOP, GPM, fine-tuning, multitask.

HLOP (Xiao et al., ICLR 2024) protects each layer by learning the old tasks' principal
subspace with lateral neurons (Oja's rule, :math:`\Delta H = \eta(yx^\top - yy^\top H)`) and
training with the projected traces :math:`(I - H^\top H)x` (spec hlop.md §1–§4). The network
is spikemem's spiking MLP (:mod:`spikemem.models.hlop`), trained by BPTT through the
``norse`` target (:mod:`._hlop_learning`); the authors' DSR-trained network is not
reproduced. After the last task the continual learner is a plain ``Network`` and
``--deploy`` runs it on other targets for every task's test samples.

Metrics (GPM's definitions): ACC, the mean final accuracy over the tasks; BWT, the mean
change of each earlier task's accuracy from just after it was learned to the end.
"""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any

import numpy as np

from spikemem import _checks as chk
from spikemem.errors import TargetNotInstalled, ValidationError
from spikemem.experiment import Experiment, Report, check_output_paths

METHODS = ("hlop", "finetune", "multitask", "gpm")
DEPLOY_TARGETS = ("brian2", "brian2:numpy", "brian2:cython", "pynn:nest", "norse", "spinnaker")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tasks", type=int, default=10, help="permuted tasks, at least 2 (default 10)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per method, seeds 0..N-1 (default 3)")
    p.add_argument(
        "--methods", default=",".join(METHODS), help="comma-separated, of " + ", ".join(METHODS) + " (default: all)"
    )
    p.add_argument("--hidden", type=int, default=256, help="hidden layer width H of 784-H-H-10 (default 256)")
    p.add_argument("--epochs", type=int, default=10, help="epochs per task (default 10)")
    p.add_argument("--steps", type=int, default=8, help="input time steps per sample (default 8)")
    p.add_argument(
        "--spiking-steps",
        default="",
        help="comma-separated T_h: also run HLOP with the code's quantised lateral neurons (s = 20) at each",
    )
    p.add_argument(
        "--deploy",
        default="",
        help="comma-separated targets that run the final HLOP network (seed 0) on every task: "
        + ", ".join(DEPLOY_TARGETS)
        + " (spinnaker: the constraint report and the accuracy with the chip's 16-bit weights, no board needed)",
    )
    p.add_argument("--deploy-samples", type=int, default=20, help="test samples per task for --deploy (default 20)")
    p.add_argument("--out", help="results HDF5 file (accuracy matrices, every hyperparameter, provenance)")
    p.add_argument("--plot", help="accuracy-matrix heatmaps and per-task curves to this image file")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _names(field: str, text: str, allowed: tuple[str, ...]) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in allowed:
            raise ValidationError(field, name, "comma-separated names of " + ", ".join(allowed))
    return list(dict.fromkeys(names))


def _steps_list(text: str) -> list[int]:
    out = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        try:
            out.append(chk.count("--spiking-steps", int(item), minimum=1))
        except ValueError:
            raise ValidationError("--spiking-steps", item, "comma-separated whole numbers of steps ≥ 1") from None
    return out


def parse(args: argparse.Namespace) -> dict[str, Any]:
    """Every option checked before anything is trained (the optional packages included)."""
    check_output_paths(args)
    opts = {
        "tasks": chk.count("--tasks", args.tasks, minimum=2),
        "seeds": chk.count("--seeds", args.seeds, minimum=1),
        "methods": _names("--methods", args.methods, METHODS),
        "hidden": chk.count("--hidden", args.hidden, minimum=2),
        "epochs": chk.count("--epochs", args.epochs, minimum=1),
        "steps": chk.count("--steps", args.steps, minimum=1),
        "spiking": _steps_list(args.spiking_steps),
        "deploy": _names("--deploy", args.deploy, DEPLOY_TARGETS),
        "deploy_samples": chk.count("--deploy-samples", args.deploy_samples, minimum=1),
    }
    if not opts["methods"] and not opts["spiking"]:
        raise ValidationError("--methods", args.methods, "at least one of " + ", ".join(METHODS))
    if opts["deploy"] and "hlop" not in opts["methods"]:
        raise ValidationError("--deploy", args.deploy, "a run that trains hlop (add it to --methods)")
    from spikemem.targets import resolve

    for target in ["norse", *opts["deploy"]]:  # training runs through the norse target
        if target != "spinnaker":  # its constraint report needs no sPyNNaker
            resolve(target)
    if importlib.util.find_spec("sklearn") is None:
        raise TargetNotInstalled("norse", "scikit-learn", "pip install 'spikemem[learn]': its digits are the tasks")
    return opts


def run(args: argparse.Namespace) -> Report:
    opts = parse(args)
    from spikemem.models import hlop

    from . import _hlop_learning as learning

    runs: list[tuple[str, learning.Config]] = []
    base = learning.Config(hidden=opts["hidden"], epochs=opts["epochs"], n_steps=opts["steps"])
    if opts["hidden"] <= 128:
        base.k0, base.k_inc = (24, 40, 24), (20, 20, 16)  # spec §10.6, width 128
    for method in opts["methods"]:
        runs.append((method, base))
    for steps in opts["spiking"]:
        cfg = learning.Config(**{**base.__dict__, "spiking": (20.0, steps)})
        runs.append((f"hlop-spiking-{steps}", cfg))
    outcomes: dict[str, list[learning.Outcome]] = {}
    progress = None if args.no_progress else _bar()
    for name, cfg in runs:
        method = "hlop" if name.startswith("hlop") else name
        for seed in range(opts["seeds"]):
            tasks = hlop.permuted_digits(opts["tasks"], seed)
            out = learning.continual(tasks, method, cfg, seed, progress and progress(f"{name} seed {seed}"))
            out.method = name
            outcomes.setdefault(name, []).append(out)
    deployed = _deploy(outcomes["hlop"][0], base, opts) if opts["deploy"] else {}
    rows = [_row(name, outs) for name, outs in outcomes.items()]
    files = []
    if args.out:
        from ._hlop_output import save

        save(args.out, outcomes, base, opts, deployed)
        files.append(args.out)
    if args.plot:
        from ._hlop_output import plot

        plot(outcomes, args.plot)
        files.append(args.plot)
    metrics: dict[str, Any] = {"network": f"784-{opts['hidden']}-{opts['hidden']}-10, {opts['steps']} input steps"}
    if "hlop" in outcomes:
        kept = outcomes["hlop"][0].kept
        metrics["lateral neurons (seed 0)"] = ", ".join(f"{w}: {sum(k)}" for w, k in kept.items())
    for target, result in deployed.items():
        if target == "spinnaker":
            errors = ", ".join(f"{w} {e:.2g}" for w, e in result["max_weight_error"].items())
            metrics["SpiNNaker (16-bit weights, whole test sets)"] = (
                f"ACC {np.mean(result['fixed_accuracy']):.2f} % vs {np.mean(result['float_accuracy']):.2f} % with "
                f"float weights; {result['cores']} cores; largest weight error {errors}; "
                f"{len(result['violations'])} violation(s): " + " | ".join(result["violations"])
            )
        else:
            metrics[f"deployed on {target}"] = (
                f"ACC {result['acc']:.2f} %, {result['agree']:.2f} % of predictions equal to PyTorch's"
            )
    columns = ["method", "ACC (%)", "BWT (%)", "ACC per seed", "BWT per seed", "wall (s)"]
    return Report(f"Permuted-Digits-784, {opts['tasks']} tasks, {opts['seeds']} seeds", columns, rows, metrics, files)


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


def _deploy(outcome: Any, config: Any, opts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The final HLOP network on each ``--deploy`` target: accuracy over the first
    ``--deploy-samples`` test samples of every task, and how many predictions equal PyTorch's;
    for ``spinnaker`` the constraint report and the accuracy with 16-bit weights
    (:func:`._hlop_deploy.spinnaker_fit`)."""
    from spikemem.models.hlop import permuted_digits

    from ._hlop_deploy import evaluate, spinnaker_fit

    tasks = permuted_digits(opts["tasks"], 0)
    out: dict[str, dict[str, Any]] = {}
    for target in opts["deploy"]:
        if target == "spinnaker":
            out[target] = spinnaker_fit(outcome.weights, tasks, config.n_steps)
        else:
            acc, agree = evaluate(outcome.weights, tasks, config.n_steps, target, opts["deploy_samples"])
            out[target] = {"acc": acc, "agree": agree}
    return out


EXPERIMENTS = [
    Experiment(
        "hlop", "continual learning: HLOP vs GPM, fine-tuning and multitask on Permuted-Digits-784", add_arguments, run
    )
]
