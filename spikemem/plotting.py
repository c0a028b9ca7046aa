"""Plots people look at: spike rasters, with the moments that matter marked."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any


def raster(
    results: Any,
    path: str | os.PathLike[str],
    title: str = "",
    marks: Sequence[tuple[float, str]] = (),
    colours: dict[str, str] | None = None,
) -> None:
    """One row block per population, spikes as ticks; ``marks`` are (time, label) lines,
    coloured by ``colours[label]`` and named in a legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = colours or {}
    pops = [p for p, st in results.spikes.items() if st.size]
    fig, ax = plt.subplots(figsize=(max(8, len(marks) * 0.25 + 6), 1.0 + 0.35 * len(pops) + 2))
    offset, ticks = 0, []
    for pop in pops:
        st = results.spikes[pop]
        ax.scatter(st.times, st.indices + offset, s=6, marker="|", color="black", linewidths=1)
        ticks.append((offset + st.size / 2, pop))
        offset += st.size + 1
        ax.axhline(offset - 0.5, color="0.85", lw=0.5)
    for t, label in marks:
        ax.axvline(t, color=colours.get(label, "0.5"), lw=0.8, alpha=0.6)
    ax.set_yticks([y for y, _ in ticks], [name for _, name in ticks], fontsize=7)
    ax.set_xlabel("time (ms)")
    ax.set_title(title)
    if colours:
        handles = [plt.Line2D([], [], color=c, label=label) for label, c in colours.items()]
        ax.legend(handles=handles, loc="upper right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
