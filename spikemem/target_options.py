"""Target options on the command line: ``--option KEY=VALUE``, repeatable.

Every command that runs or exports a network passes these to the target as keyword
options (``threads=2`` for Brian2's C++ standalone or NEST, ``virtual=True`` or
``board=IP`` for SpiNNaker, ``compute_capability=8.0`` for CUDA; each target lists its
own and refuses any other, before anything runs). A value is read as an integer, a
float, ``true``/``false``, or else kept as text.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from .errors import ValidationError

FIELD = "--option"


def add_argument(
    parser: argparse.ArgumentParser, what: str = "target option", examples: str = "threads=2, virtual=true"
) -> None:
    """Add the repeatable ``--option KEY=VALUE`` to ``parser``."""
    parser.add_argument(
        FIELD,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"{what}, repeatable (e.g. {examples}; see the README's targets table)",
    )


def parse_option(text: str) -> tuple[str, Any]:
    """``"threads=2"`` → ``("threads", 2)``; ``"virtual=true"`` → ``("virtual", True)``."""
    key, sep, value = str(text).partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ValidationError(FIELD, text, "KEY=VALUE with KEY an option name, e.g. threads=2")
    value = value.strip()
    for cast in (int, float):
        try:
            return key, cast(value)
        except ValueError:
            pass
    if value.lower() in ("true", "false"):
        return key, value.lower() == "true"
    return key, value


def maps_only(options: dict[str, Any]) -> bool:
    """Whether ``options`` make the target map the network without simulating it: SpiNNaker's
    ``virtual=True`` places and routes on a virtual board, and no spike comes back."""
    return bool(options.get("virtual"))


def parse_options(texts: Iterable[str]) -> dict[str, Any]:
    """Every ``KEY=VALUE`` of ``texts`` as a dict; a key given twice is refused."""
    options: dict[str, Any] = {}
    for text in texts:
        key, value = parse_option(text)
        if key in options:
            raise ValidationError(FIELD, text, f"each option once ({key} is already {options[key]!r})")
        options[key] = value
    return options
