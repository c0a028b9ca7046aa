"""Operation schedules for the CA3 memory: the JSON contract users script against.

A schedule is ``{"n_cues": N, "n_bits": M, "ops": [...]}`` with ops such as
``{"t": 0, "op": "learn", "cue": 0, "content": [0, 1, 8, 9]}``,
``{"t": 30, "op": "recall_cue", "cue": 0}`` and
``{"t": 40, "op": "recall_content", "content": [6], "match": "or"}`` (``t`` in ms;
``match`` is ``"or"`` (default), ``"and"`` or ``"best"``).

Validation names the op index and the problem, and runs before anything is built.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from spikemem.errors import ValidationError

OPS = ("learn", "recall_cue", "recall_content")
MATCHES = ("or", "and", "best")
#: The latest op time (ms): 10⁹ ms is 11.6 days of simulated time, far past any schedule a
#: simulator could run step by step, and still exact on every target's time grid.
MAX_TIME_MS = 1e9
#: The most cues, and the most bits: each is a population of the circuit, and 10⁶ x 10⁶
#: memory synapses are already far beyond any machine (the memory check refuses sooner).
MAX_UNITS = 1_000_000


@dataclass(frozen=True)
class Op:
    """One operation: ``learn`` (cue ← content), ``recall_cue`` or ``recall_content``."""

    t: float
    op: str
    cue: int | None = None
    content: tuple[int, ...] = ()
    match: str = "or"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": self.t, "op": self.op}
        if self.op in ("learn", "recall_cue"):
            out["cue"] = self.cue
        if self.op in ("learn", "recall_content"):
            out["content"] = list(self.content)
        if self.op == "recall_content":
            out["match"] = self.match
        return out


@dataclass(frozen=True)
class Schedule:
    """``n_cues`` memories of ``n_bits`` bits, and the operations to run on them."""

    n_cues: int
    n_bits: int
    ops: tuple[Op, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"n_cues": self.n_cues, "n_bits": self.n_bits, "ops": [op.to_dict() for op in self.ops]}

    def save(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w") as fh:
            json.dump(self.to_dict(), fh, indent=1)

    def last_time(self) -> float:
        return max((op.t for op in self.ops), default=0.0)


def _int(where: str, value: Any, upper: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if not (isinstance(value, float) and value.is_integer()):
            raise ValidationError(where, value, f"an integer {what} in 0..{upper - 1}")
    v = int(value)
    if not 0 <= v < upper:
        raise ValidationError(where, value, f"a {what} in 0..{upper - 1}")
    return v


def parse_op(k: int, raw: Any, n_cues: int, n_bits: int) -> Op:
    """Validate one op dict (``k`` is its index, used in messages)."""
    where = f"ops[{k}]"
    if not isinstance(raw, dict):
        raise ValidationError(where, raw, 'an object such as {"t": 0, "op": "learn", "cue": 0, "content": [1, 2]}')
    unknown = set(raw) - {"t", "op", "cue", "content", "match"}
    if unknown:
        raise ValidationError(
            f"{where}.{sorted(unknown)[0]}", raw[sorted(unknown)[0]], "fields t, op, cue, content, match"
        )
    kind = raw.get("op")
    if kind not in OPS:
        raise ValidationError(f"{where}.op", kind, "one of " + ", ".join(OPS))
    t = raw.get("t")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= MAX_TIME_MS:
        raise ValidationError(f"{where}.t", t, f"a time in ms in 0..{MAX_TIME_MS:g}")
    cue = None
    if kind in ("learn", "recall_cue"):
        if "cue" not in raw:
            raise ValidationError(f"{where}.cue", None, f"a cue index in 0..{n_cues - 1} (required for {kind})")
        cue = _int(f"{where}.cue", raw["cue"], n_cues, "cue index")
    elif "cue" in raw:
        raise ValidationError(f"{where}.cue", raw["cue"], "absent for recall_content (query by content bits)")
    content: tuple[int, ...] = ()
    if kind in ("learn", "recall_content"):
        bits = raw.get("content")
        if not isinstance(bits, (list, tuple)):
            raise ValidationError(f"{where}.content", bits, f"a list of bit indices in 0..{n_bits - 1}")
        content = tuple(sorted({_int(f"{where}.content", b, n_bits, "bit index") for b in bits}))
        if kind == "recall_content" and not content:
            raise ValidationError(f"{where}.content", bits, "at least one bit to query")
    elif "content" in raw:
        raise ValidationError(f"{where}.content", raw["content"], "absent for recall_cue")
    match = raw.get("match", "or")
    if kind != "recall_content" and "match" in raw:
        raise ValidationError(f"{where}.match", match, "absent except for recall_content")
    if match not in MATCHES:
        raise ValidationError(f"{where}.match", match, "one of " + ", ".join(MATCHES))
    return Op(float(t), kind, cue, content, match)


def parse_schedule(raw: Any, fields: tuple[str, str] = ("schedule.n_cues", "schedule.n_bits")) -> Schedule:
    """Validate a schedule dict (as read from JSON) into a :class:`Schedule`; ``fields``
    name ``n_cues`` and ``n_bits`` in messages (the options that gave them, if not a file).

    Spacing rules depend on the circuit, which checks them (``Circuit.validate``, with
    :func:`check_spacing`).
    """
    if not isinstance(raw, dict):
        raise ValidationError("schedule", type(raw).__name__, 'an object {"n_cues": N, "n_bits": M, "ops": [...]}')
    for key, name in zip(("n_cues", "n_bits"), fields, strict=True):
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_UNITS:
            raise ValidationError(name, value, f"an integer in 1..{MAX_UNITS}")
    unknown = set(raw) - {"n_cues", "n_bits", "ops"}
    if unknown:
        raise ValidationError(f"schedule.{sorted(unknown)[0]}", raw[sorted(unknown)[0]], "keys n_cues, n_bits, ops")
    ops = raw.get("ops")
    if not isinstance(ops, list):
        raise ValidationError("schedule.ops", ops, "a list of operations")
    parsed = tuple(parse_op(k, op, raw["n_cues"], raw["n_bits"]) for k, op in enumerate(ops))
    return Schedule(raw["n_cues"], raw["n_bits"], parsed)


def load_schedule(path: str | os.PathLike[str]) -> Schedule:
    """Read and validate a schedule JSON file (UTF-8)."""
    if os.path.isdir(path):
        raise ValidationError("schedule", str(path), "a JSON file (this is a folder)")
    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except FileNotFoundError:
        raise ValidationError("schedule", str(path), "an existing JSON file") from None
    except UnicodeDecodeError as exc:
        line = _line_of(path, exc.start)
        raise ValidationError(
            "schedule", str(path), f"UTF-8 text (byte {exc.object[exc.start]:#04x} at line {line})"
        ) from None
    except json.JSONDecodeError as exc:
        raise ValidationError("schedule", str(path), f"valid JSON ({exc.msg} at line {exc.lineno})") from None
    except OSError as exc:
        raise ValidationError("schedule", str(path), f"a readable JSON file ({exc.strerror})") from None
    return parse_schedule(raw)


def _line_of(path: str | os.PathLike[str], offset: int) -> int:
    """The line (from 1) of byte ``offset`` in the file at ``path``."""
    with open(path, "rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def check_spacing(schedule: Schedule, min_gap: dict[str, float], op_length: Any = None) -> None:
    """Each op must start at least ``min_gap[previous op]`` ms after the previous one.

    ``op_length(op)``, if given, is the extra time an op needs beyond its base gap
    (e.g. a best-match scan over several thresholds).
    """
    ops = schedule.ops
    for k in range(1, len(ops)):
        prev, cur = ops[k - 1], ops[k]
        need = min_gap[prev.op] + (op_length(prev) if op_length else 0.0)
        if cur.t < prev.t:
            raise ValidationError(f"ops[{k}].t", cur.t, f"a time >= the previous op's ({prev.t} ms): ops run in order")
        if cur.t - prev.t < need - 1e-9:
            raise ValidationError(
                f"ops[{k}].t",
                cur.t,
                f"at least {need:g} ms after ops[{k - 1}] ({prev.op} at {prev.t:g} ms); got {cur.t - prev.t:g} ms",
            )


def random_schedule(
    n_cues: int,
    n_bits: int,
    n_ops: int,
    spacing_ms: float | tuple[float, float] = (7.0, 6.0),
    seed: int = 0,
    density: float = 0.3,
    overlap: float = 0.0,
    query_bits: tuple[int, int] = (1, 3),
    mix: tuple[float, float, float] = (0.4, 0.3, 0.3),
    matches: tuple[str, ...] = ("or",),
    overwrite: float = 0.0,
) -> Schedule:
    """A seeded random stream of learns (overwrites included), cue recalls and content recalls.

    Parameters
    ----------
    spacing_ms
        Gap after a learn and after a recall (one number: both).
    density
        Fraction of bits set in a stored pattern (at least one bit).
    overlap
        Probability that a new pattern's bit is copied from a shared prototype, so
        memories share bits (0: independent patterns).
    query_bits
        Inclusive range of bits in a content query; queried bits are drawn from a stored
        memory so most queries have an answer.
    mix
        Probabilities of learn, recall_cue, recall_content.
    matches
        Match modes drawn for content queries.
    overwrite
        Probability that a learn rewrites an already stored cue (otherwise the cue is
        drawn uniformly, which rarely hits a stored one when ``n_cues`` is large).
    """
    rng = np.random.default_rng(seed)
    gap_learn, gap_recall = (spacing_ms, spacing_ms) if np.isscalar(spacing_ms) else spacing_ms  # type: ignore[misc]
    prototype = rng.random(n_bits) < density
    stored: dict[int, tuple[int, ...]] = {}
    ops: list[Op] = []
    t = 0.0
    for _ in range(n_ops):
        kind = "learn" if not stored else str(rng.choice(OPS, p=np.asarray(mix) / np.sum(mix)))
        if kind == "learn":
            cue = int(rng.integers(n_cues))
            if overwrite > 0 and stored and rng.random() < overwrite:
                cue = int(rng.choice(sorted(stored)))
            fresh = rng.random(n_bits) < density
            shared = rng.random(n_bits) < overlap
            bits = np.where(shared, prototype, fresh)
            if not bits.any():
                bits[rng.integers(n_bits)] = True
            content = tuple(int(b) for b in np.flatnonzero(bits))
            stored[cue] = content
            ops.append(Op(t, "learn", cue, content))
            t += gap_learn
        elif kind == "recall_cue":
            cue = int(rng.choice(sorted(stored)))
            ops.append(Op(t, "recall_cue", cue))
            t += gap_recall
        else:
            source = stored[int(rng.choice(sorted(stored)))]
            k = int(rng.integers(query_bits[0], query_bits[1] + 1))
            pool = np.array(source) if rng.random() < 0.8 else np.arange(n_bits)
            q = rng.choice(pool, size=min(k, len(pool)), replace=False)
            ops.append(Op(t, "recall_content", None, tuple(sorted(int(b) for b in q)), str(rng.choice(matches))))
            t += gap_recall
    return Schedule(n_cues, n_bits, tuple(ops))


def respace(
    schedule: Schedule,
    gaps: dict[str, float],
    min_gap: dict[str, float] | None = None,
    op_length: Callable[[Op], float] | None = None,
) -> Schedule:
    """The same ops, retimed: the first at 0 ms, each next one ``gaps[previous op]`` ms later.

    With ``min_gap`` (and ``op_length``, the extra time an op needs, as in
    :func:`check_spacing`), an op is never followed sooner than
    ``min_gap[op] + op_length(op)``: a gap wider than the requested one is used where
    an op needs it (e.g. a best-match scan over several thresholds).
    """
    ops, t = [], 0.0
    for op in schedule.ops:
        ops.append(replace(op, t=t))
        gap = gaps[op.op]
        if min_gap is not None:
            gap = max(gap, min_gap[op.op] + (op_length(op) if op_length else 0.0))
        t += gap
    return Schedule(schedule.n_cues, schedule.n_bits, tuple(ops))
