"""Small validators shared by the description classes. Each raises ValidationError."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .errors import ValidationError


def finite(field: str, value: Any) -> float:
    """A finite real number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValidationError(field, value, "a finite real number") from None
    if isinstance(value, bool) or not math.isfinite(x):
        raise ValidationError(field, value, "a finite real number")
    return x


def positive(field: str, value: Any) -> float:
    """A finite number > 0."""
    x = finite(field, value)
    if x <= 0:
        raise ValidationError(field, value, "a finite number > 0")
    return x


def non_negative(field: str, value: Any) -> float:
    """A finite number >= 0."""
    x = finite(field, value)
    if x < 0:
        raise ValidationError(field, value, "a finite number >= 0")
    return x


def count(field: str, value: Any, minimum: int = 1) -> int:
    """An integer >= minimum (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int,)) and not _is_integral(value):
        raise ValidationError(field, value, f"an integer >= {minimum}")
    n = int(value)
    if n < minimum:
        raise ValidationError(field, value, f"an integer >= {minimum}")
    return n


#: Seeds are 32-bit (Brian2's, NEST's and numpy's generators take 0..2**32 - 1).
MAX_SEED = 2**32 - 1


def seed(field: str, value: Any) -> int:
    """A random seed: an integer in 0..2**32 - 1."""
    n = count(field, value, minimum=0)
    if n > MAX_SEED:
        raise ValidationError(field, value, f"an integer in 0..{MAX_SEED} (a 32-bit seed)")
    return n


def _is_integral(value: Any) -> bool:
    try:
        return float(value).is_integer() and not isinstance(value, (str, bool))
    except (TypeError, ValueError):
        return False


def one_of(field: str, value: Any, choices: Iterable[str]) -> str:
    """One of a fixed set of strings."""
    choices = tuple(choices)
    if value not in choices:
        raise ValidationError(field, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def name(field: str, value: Any) -> str:
    """An identifier-like name: letters, digits and '_', not starting with a digit."""
    if not isinstance(value, str) or not value.isidentifier():
        raise ValidationError(field, value, "a non-empty name of letters, digits and '_' not starting with a digit")
    return value
