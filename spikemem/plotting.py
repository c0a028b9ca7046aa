"""Plots people look at: spike rasters with the operations marked."""

from __future__ import annotations

import os
from typing import Any

OP_COLOURS = {"learn": "tab:green", "recall_cue": "tab:blue", "recall_content": "tab:orange"}


def raster(results: Any, path: str | os.PathLike[str], title: str = "", marks: list[tuple[float, str]] = ()) -> None:
    """One row block per population, spikes as dots; ``marks`` are (time, op) lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pops = [p for p, st in results.spikes.items() if st.size]
    fig, ax = plt.subplots(figsize=(max(8, len(marks) * 0.25 + 6), 1.0 + 0.35 * len(pops) + 2))
    offset, ticks = 0, []
    for pop in pops:
        st = results.spikes[pop]
        ax.scatter(st.times, st.indices + offset, s=6, marker="|", color="black", linewidths=1)
        ticks.append((offset + st.size / 2, pop))
        offset += st.size + 1
        ax.axhline(offset - 0.5, color="0.85", lw=0.5)
    for t, op in marks:
        ax.axvline(t, color=OP_COLOURS.get(op, "0.5"), lw=0.8, alpha=0.6)
    ax.set_yticks([y for y, _ in ticks], [name for _, name in ticks], fontsize=7)
    ax.set_xlabel("time (ms)")
    ax.set_title(title)
    handles = [plt.Line2D([], [], color=c, label=op) for op, c in OP_COLOURS.items()]
    ax.legend(handles=handles, loc="upper right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def ca3_raster(run: Any, path: str | os.PathLike[str]) -> None:
    """Raster of a CA3 run with each operation's start marked by its type."""
    marks = [(op.t, op.op) for op in run.schedule.ops]
    raster(run.results, path, f"CA3 {run.mode} mode", marks)
