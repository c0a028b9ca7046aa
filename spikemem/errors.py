"""Errors raised by spikemem.

Every error names the field, the value it got and what is allowed, so a user can fix
the input without reading the source.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class SpikememError(Exception):
    """Base class of every error spikemem raises on purpose.

    ``exit_code`` is the command line's exit status for it: 2 for input refused before
    any work (the default), 3 for work that started and failed (:class:`RunFailed`).
    """

    exit_code = 2


class RunFailed(SpikememError):
    """Work that had started failed: a simulator, a compiler or a worker (exit status 3)."""

    exit_code = 3


class ValidationError(SpikememError, ValueError):
    """An input (model description, schedule, option) is not valid.

    Parameters
    ----------
    field
        Dotted path of the offending field, e.g. ``"Projection 'a_b'.synapse.delay"``.
    value
        The value that was given.
    allowed
        What would have been accepted, in words.
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field} = {value!r} is not allowed: {allowed}")


class UnsupportedFeature(SpikememError):
    """A target cannot honour a semantics the network asks for; raised before running."""

    def __init__(self, target: str, feature: str, reason: str) -> None:
        self.target = target
        self.feature = feature
        self.reason = reason
        super().__init__(f"target {target!r} does not support {feature}: {reason}")


class TargetNotInstalled(SpikememError):
    """The third-party library a target needs is not importable."""

    def __init__(self, target: str, missing: str, hint: str) -> None:
        self.target = target
        self.missing = missing
        super().__init__(f"target {target!r} needs {missing}, which is not installed ({hint})")


def grouped(problems: Iterable[tuple[str, str]]) -> list[str]:
    """``(what, why)`` pairs as sentences that say each reason once, after everything it
    applies to; reasons that apply to the same things share one sentence.

    ``[("population 'a'", "x"), ("population 'b'", "x")]`` → ``["populations 'a', 'b': x"]``,
    so a refusal naming many populations stays one readable line.
    """
    by_reason: dict[str, list[str]] = {}
    for what, why in problems:
        subjects = by_reason.setdefault(why, [])
        if what not in subjects:
            subjects.append(what)
    by_subjects: dict[tuple[str, ...], list[str]] = {}
    for why, subjects in by_reason.items():
        by_subjects.setdefault(tuple(subjects), []).append(why)
    return [f"{_listed(subjects)}: {'; '.join(reasons)}" for subjects, reasons in by_subjects.items()]


#: Nouns that several subjects of one kind share: ``populations 'a', 'b'``.
_KINDS = ("population", "projection")


def _listed(subjects: tuple[str, ...]) -> str:
    """``population 'a'``, ``populations 'a', 'b'`` (subjects of one kind), or the subjects as they are."""
    kinds = {s.split(" ", 1)[0] for s in subjects}
    if len(subjects) > 1 and len(kinds) == 1 and kinds <= set(_KINDS):
        return f"{kinds.pop()}s " + ", ".join(s.split(" ", 1)[1] for s in subjects)
    return ", ".join(subjects)
