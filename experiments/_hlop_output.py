"""What ``spikemem run hlop`` writes: one HDF5 file with every accuracy matrix and hyperparameter, and a figure."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from spikemem.h5store import write_atomically
from spikemem.provenance import now_utc, versions


def save(
    path: str | os.PathLike[str],
    outcomes: dict[str, list[Any]],
    config: Any,
    opts: dict[str, Any],
    deployed: dict[str, dict[str, Any]],
) -> None:
    """Per method and seed: the accuracy matrix, ACC, BWT, wall time, the lateral neurons or
    GPM bases asked for and kept per layer, and the final weights of seed 0 (``w1``..``w3``,
    ``[n_pre, n_post]``) with its lateral neurons' rows (``H_w1``..``H_w3``, ``[k, n]``); at the root the
    run's options, the training hyperparameters, what each ``--deploy`` target gave and the
    provenance."""

    def fill(fh: Any) -> None:
        fh.attrs["options"] = json.dumps(opts)
        fh.attrs["config"] = json.dumps({k: v for k, v in config.__dict__.items()}, default=list)
        fh.attrs["provenance"] = json.dumps({"versions": versions(), "created": now_utc(), "target": "norse"})
        fh.attrs["deployed"] = json.dumps(deployed)
        for name, outs in outcomes.items():
            group = fh.create_group(name)
            for seed, out in enumerate(outs):
                g = group.create_group(f"seed{seed}")
                g.create_dataset("accuracy", data=out.accuracy)
                g.attrs.update({"acc": out.acc, "bwt": out.bwt, "wall_s": out.wall_s, "seed": seed})
                g.attrs["kept"] = json.dumps(out.kept)
                g.attrs["asked"] = json.dumps(out.asked)
                if seed == 0:
                    for k, w in enumerate(out.weights):
                        g.create_dataset(f"w{k + 1}", data=w, compression="gzip")
                    for layer, h in out.lateral.items():
                        g.create_dataset(f"H_{layer}", data=h, compression="gzip")

    write_atomically(path, fill)


def plot(outcomes: dict[str, list[Any]], path: str | os.PathLike[str]) -> None:
    """Top: seed 0's accuracy matrix per sequential method (rows: after task t; columns: task
    i). Bottom: each method's accuracy on task 0 and its mean over the tasks seen so far,
    after each task, mean over seeds."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from spikemem.plotting import save_figure

    sequential = {name: outs for name, outs in outcomes.items() if len(outs[0].accuracy) > 1}
    cols = max(len(sequential), 1)
    fig, axes = plt.subplots(2, cols, figsize=(3.8 * cols, 6.4), squeeze=False)
    fig.subplots_adjust(wspace=0.5, hspace=0.4)
    for ax, (name, outs) in zip(axes[0], sequential.items()):
        im = ax.imshow(outs[0].accuracy, vmin=0, vmax=100, cmap="viridis")
        ax.set_title(f"{name} (seed 0)")
        ax.set_xlabel("evaluated on task")
        ax.set_ylabel("after training task")
        ax.set_xticks(range(len(outs[0].accuracy)))
        ax.set_yticks(range(len(outs[0].accuracy)))
    if sequential:
        fig.colorbar(im, ax=axes[0].tolist(), label="accuracy (%)", shrink=0.8)
    curves = axes[1][0]
    for name, outs in sequential.items():
        mats = np.stack([o.accuracy for o in outs])
        first = mats[:, :, 0].mean(axis=0)
        seen = np.nanmean(mats, axis=2).mean(axis=0)
        (line,) = curves.plot(first, "--", label=f"{name}: task 0")
        curves.plot(seen, "-", color=line.get_color(), label=f"{name}: tasks seen")
    for name, outs in outcomes.items():
        if len(outs[0].accuracy) == 1:
            curves.axhline(np.mean([o.acc for o in outs]), color="k", lw=0.8, label=f"{name} (joint)")
    curves.xaxis.set_major_locator(MaxNLocator(integer=True))
    curves.set_xlabel("after training task")
    curves.set_ylabel("accuracy (%)")
    curves.legend(fontsize=7)
    for ax in axes[1][1:]:
        ax.axis("off")
    if cols > 1:
        _lateral_steps(axes[1][1], outcomes)
    save_figure(fig, path)


def _lateral_steps(ax: Any, outcomes: dict[str, list[Any]]) -> None:
    """ACC against T_h for the spiking and the quantised lateral neurons (mean and spread over
    seeds), the linear ones' ACC as a line."""
    drawn = False
    for kind, marker in (("spiking", "o"), ("quantised", "s")):
        runs = sorted((int(n.rsplit("-", 1)[1]), outs) for n, outs in outcomes.items() if n.startswith(f"hlop-{kind}-"))
        if runs:
            steps = [t for t, _ in runs]
            accs = [[o.acc for o in outs] for _, outs in runs]
            ax.errorbar(steps, [np.mean(a) for a in accs], yerr=[np.std(a) for a in accs], marker=marker, label=kind)
            drawn = True
    if not drawn:
        return
    ax.axis("on")
    if "hlop" in outcomes:
        ax.axhline(np.mean([o.acc for o in outcomes["hlop"]]), color="k", lw=0.8, label="linear")
    ax.set_xlabel("lateral steps T_h")
    ax.set_ylabel("ACC (%)")
    ax.set_title("lateral neurons that spike")
    ax.legend(fontsize=7)
