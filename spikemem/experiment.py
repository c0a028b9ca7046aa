"""Registry of experiments: the questions ``spikemem run`` / ``spikemem stress`` answer.

Each module in ``spikemem.experiments`` may define ``EXPERIMENTS``, a list of
:class:`Experiment`; adding an experiment is adding one file. An experiment adds its
own command-line options and returns a :class:`Report` (a table to print, metrics,
files written).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._registry import public_modules
from .errors import ValidationError
from .outputs import check_outputs

#: The package whose modules are searched for ``EXPERIMENTS`` (imported by name, when asked).
PACKAGE = "spikemem.experiments"


@dataclass
class Report:
    """What an experiment hands back to the CLI."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    metrics: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    ok: bool = True


@dataclass(frozen=True)
class Experiment:
    """A named experiment under ``spikemem <command> <name>`` (or one of its ``aliases``,
    names it had before, which keep working)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], Report]
    command: str = "run"
    aliases: tuple[str, ...] = ()


def all_experiments(command: str | None = None) -> dict[str, Experiment]:
    """Every registered experiment (of one command, if given), by name."""
    found: dict[str, Experiment] = {}
    for module in public_modules(PACKAGE):
        for exp in getattr(module, "EXPERIMENTS", []):
            if command is None or exp.command == command:
                found[exp.name] = exp
    return dict(sorted(found.items()))


def get_experiment(name: str, command: str = "run") -> Experiment:
    """The experiment called ``name`` (or aliased so); an unknown name is refused with the known ones."""
    experiments = all_experiments(command)
    by_alias = {alias: exp for exp in experiments.values() for alias in exp.aliases}
    if name not in experiments and name not in by_alias:
        raise ValidationError("experiment", name, "one of " + ", ".join(experiments))
    return experiments.get(name) or by_alias[name]


def check_output_paths(args: argparse.Namespace, options: tuple[str, ...] = ("out", "plot")) -> None:
    """Refuse, before anything runs, an output that could not be written (each ``--OPTION``
    in ``options``, see :func:`spikemem.outputs.check_outputs`), and a ``--plot`` that is
    not a png, pdf or svg."""
    check_outputs({f"--{option}": getattr(args, option, None) for option in options})
    plot = getattr(args, "plot", None)
    if plot and not plot.lower().endswith((".png", ".pdf", ".svg")):
        raise ValidationError("--plot", plot, "a .png, .pdf or .svg file name")


def format_table(columns: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[str(c) for c in columns]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells[0], widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells[1:]]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(str(v) for v in value) + "}" if value else "{}"
    return str(value)
