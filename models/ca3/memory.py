"""The ideal content-addressable memory: what every op should answer, and the score of a run.

An ideal memory of ``N`` cues and ``M`` bits (spec/ca3.md §3.8, plus AND and best-match
queries) holds one content set per cue:

* ``learn(c, X)``: memory[c] ← X; answers the echoed cue and content;
* ``recall_cue(c)``: answers cue c and memory[c] (empty if never learned);
* ``recall_content(Q, match)``: answers the cues whose content overlaps the query by at
  least the match's threshold — ``or``: 1 bit, ``and``: all ``|Q|`` bits, ``best``: the
  largest overlap (none if nothing overlaps) — and, as content, the union of their
  contents.

Forgetting: after a learn rewrites cue ``i``, its old-only bits ``G`` must be gone: a later
``recall_cue(i)`` returns none of ``G``, and a content query touching ``G`` returns ``i``
only if the new memory matches it (a *forgetting probe* each).

This module is the one place these answers are computed: the answers table of ``spikemem
run``, :meth:`~spikemem.models.ca3.CA3Run.score`, both stress sweeps and the benchmarks
score through :func:`evaluate`. What a circuit answers differently by design (the published
circuit echoes a content query) is the circuit's :meth:`~.circuit.Circuit.expected_content`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .circuit import Circuit
from .schedule import Op, Schedule

#: The counts :func:`evaluate` returns, summed over a run's ops.
COUNTS = (
    "ops",
    "correct",
    "recalls",
    "recalls_correct",
    "cue_recalls",
    "cue_recalls_correct",
    "content_recalls",
    "content_recalls_correct",
    "missed_cues",
    "false_cues",
    "missed_bits",
    "false_bits",
    "overwrites",
    "forget_probes",
    "forget_ok",
)


@dataclass(frozen=True)
class Ideal:
    """What the ideal memory answers to one op, and what the op probes of forgetting.

    ``overwrite``: a learn that rewrites a stored cue. ``probes``: (cue, its forgotten
    bits) pairs the op tests — for a recall by cue, the cue itself if it forgot bits; for a
    content recall, every cue whose forgotten bits the query touches.
    """

    cues: list[int]
    content: list[int]
    overwrite: bool = False
    probes: tuple[tuple[int, frozenset[int]], ...] = ()


def replay(schedule: Schedule) -> Iterator[tuple[Op, Ideal]]:
    """Each op of ``schedule`` with the ideal memory's answer (module docstring)."""
    memory: dict[int, set[int]] = {}
    forgotten: dict[int, frozenset[int]] = {}
    for op in schedule.ops:
        if op.op == "learn":
            cue = int(op.cue)  # type: ignore[arg-type]
            new = set(op.content)
            old = memory.get(cue)
            gone = frozenset((old or set()) - new)
            if gone:
                forgotten[cue] = gone
            else:
                forgotten.pop(cue, None)
            memory[cue] = new
            yield op, Ideal([cue], list(op.content), overwrite=old is not None)
        elif op.op == "recall_cue":
            cue = int(op.cue)  # type: ignore[arg-type]
            probes = ((cue, forgotten[cue]),) if cue in forgotten else ()
            yield op, Ideal([cue], sorted(memory.get(cue, set())), probes=probes)
        else:
            query = set(op.content)
            overlap = {c: len(bits & query) for c, bits in memory.items()}
            best = max(overlap.values(), default=0)
            need = {"or": 1, "and": len(query), "best": max(best, 1)}[op.match]
            cues = sorted(c for c, n in overlap.items() if n >= need)
            content = sorted(set().union(*(memory[c] for c in cues))) if cues else []
            probes = tuple((c, gone) for c, gone in forgotten.items() if query & gone)
            yield op, Ideal(cues, content, probes=probes)


def expected_answers(schedule: Schedule) -> list[dict[str, list[int]]]:
    """The ideal memory's answer to every op: ``{"cues": [...], "content": [...]}``."""
    return [{"cues": ideal.cues, "content": ideal.content} for _, ideal in replay(schedule)]


def expected(schedule: Schedule, circuit: Circuit) -> list[dict[str, list[int]]]:
    """What ``circuit`` should answer to every op: the ideal memory's cues, and its content
    as the circuit answers it (:meth:`~.circuit.Circuit.expected_content`)."""
    return [
        {"cues": ideal.cues, "content": circuit.expected_content(op, ideal.content)} for op, ideal in replay(schedule)
    ]


def evaluate(answers: list[dict[str, Any]], schedule: Schedule, circuit: Circuit) -> tuple[dict[str, int], list[int]]:
    """Counts of :data:`COUNTS` for one run of ``schedule``, and the indices of the ops
    answered wrongly (cues or content differing from what ``circuit`` should answer)."""
    counts = dict.fromkeys(COUNTS, 0)
    failed: list[int] = []
    for k, ((op, ideal), got) in enumerate(zip(replay(schedule), answers, strict=True)):
        cues, bits = set(got["cues"]), set(got["content"])
        want_cues, want_bits = set(ideal.cues), set(circuit.expected_content(op, ideal.content))
        counts["overwrites"] += int(ideal.overwrite)
        for cue, gone in ideal.probes:
            counts["forget_probes"] += 1
            if op.op == "recall_cue":
                counts["forget_ok"] += int(not bits & gone)
            else:
                counts["forget_ok"] += int(not (cue in cues and cue not in want_cues))
        ok = cues == want_cues and bits == want_bits
        counts["ops"] += 1
        counts["correct"] += int(ok)
        if op.op != "learn":
            kind = "cue_recalls" if op.op == "recall_cue" else "content_recalls"
            counts["recalls"] += 1
            counts["recalls_correct"] += int(ok)
            counts[kind] += 1
            counts[f"{kind}_correct"] += int(ok)
        counts["missed_cues"] += len(want_cues - cues)
        counts["false_cues"] += len(cues - want_cues)
        counts["missed_bits"] += len(want_bits - bits)
        counts["false_bits"] += len(bits - want_bits)
        if not ok:
            failed.append(k)
    return counts, failed
