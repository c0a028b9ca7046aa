"""Plots people look at: spike rasters, with the moments that matter marked."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from .outputs import replacing


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
    offset, blocks = 0, []
    for pop in pops:
        st = results.spikes[pop]
        ax.scatter(st.times, st.indices + offset, s=6, marker="|", color="black", linewidths=1)
        blocks.append((offset, st.size, pop))
        offset += st.size + 1
        ax.axhline(offset - 0.5, color="0.85", lw=0.5)
    for t, label in marks:
        ax.axvline(t, color=colours.get(label, "0.5"), lw=0.8, alpha=0.6)
    index_ticks = [(start + i, str(i)) for start, size, _ in blocks for i in sorted({0, size - 1})]
    ax.set_yticks([y for y, _ in index_ticks], [label for _, label in index_ticks], fontsize=6)
    ax.set_ylabel("neuron index (within its population)")
    ax.set_ylim(-1, max(offset - 1, 1))
    names = ax.secondary_yaxis("right")
    names.set_yticks([start + (size - 1) / 2 for start, size, _ in blocks], [pop for _, _, pop in blocks], fontsize=7)
    ax.set_xlabel("time (ms)")
    ax.set_title(title)
    if colours:
        handles = [plt.Line2D([], [], color=c, label=label) for label, c in colours.items()]
        ax.legend(handles=handles, loc="upper right", fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 130) -> None:
    """Write ``fig`` to ``path`` (format from its suffix) atomically, then close it."""
    import matplotlib.pyplot as plt

    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or None
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format=fmt)
    finally:
        plt.close(fig)
