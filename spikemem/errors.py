"""Errors raised by spikemem.

Every error names the field, the value it got and what is allowed, so a user can fix
the input without reading the source.
"""

from __future__ import annotations

from typing import Any


class SpikememError(Exception):
    """Base class of every error spikemem raises on purpose."""


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
