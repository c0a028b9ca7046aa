"""The CA3 content-addressable memory: schedules in, answers out, on any target.

Two circuits share one interface:

``fidelity``
    the published circuit with SpiNNaker semantics (:mod:`.ca3_fidelity`); it
    reproduces the recorded SpiNNaker spike tables millisecond by millisecond.
``functional``
    spikemem's improved circuit (:mod:`.ca3_functional`): gated set/reset learning,
    OR/AND/best content queries, full content from a fragment, O(N+M) inhibition.

``run_ca3(schedule, mode, target, seed)`` encodes the schedule into input spikes,
builds the network, simulates it and decodes one answer per op::

    {"t": 40, "op": "recall_content", "query": [6], "match": "or", "cues": [3, 4], "content": [1, 4, 5, 6]}

(the op's own fields plus ``cues`` and ``content``, sorted lists of what the memory
answered, which replace the op's ``content``; a content recall keeps its query bits as
``query``; see :func:`decode`).

``run_ca3_batch(schedules, mode, target)`` runs many schedules of one size as independent
memories stacked into a single launch (one compile on C++ standalone or a GPU) and
returns one run per schedule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from spikemem.errors import SpikememError, ValidationError
from spikemem.network import Network
from spikemem.results import Results
from spikemem.simulate import simulate

from . import ca3_fidelity, ca3_functional
from .ca3_schedule import MODES, Op, Schedule, check_spacing, expected_answers, parse_schedule, random_schedule

#: Minimum gap (ms) from an op's start to the next op's start, per mode.
MIN_GAP = {
    "fidelity": {"learn": 7.0, "recall_cue": 6.0, "recall_content": 6.0},
    "functional": {"learn": 5.0, "recall_cue": 4.0, "recall_content": 5.0},
}
#: Time after the last op's start until its answer is complete.
TAIL_MS = {"fidelity": 8.0, "functional": 6.0}


def pulses(op: Op) -> int:
    """Number of query pulses of a content recall in functional mode (best: one per level)."""
    return len(op.content) if op.op == "recall_content" and op.match == "best" else 1


def _extra(mode: str):
    return (lambda op: ca3_functional.PULSE_MS * (pulses(op) - 1)) if mode == "functional" else None


def validate(schedule: Schedule, mode: str) -> None:
    """Mode-specific rules (spacing, integer ms in fidelity, OR-only in fidelity)."""
    if mode not in MODES:
        raise ValidationError("mode", mode, "one of " + ", ".join(MODES))
    if mode == "fidelity":
        for k, op in enumerate(schedule.ops):
            if not float(op.t).is_integer():
                raise ValidationError(f"ops[{k}].t", op.t, "a whole number of ms (fidelity mode runs at dt = 1 ms)")
            if op.op == "recall_content" and op.match != "or":
                raise ValidationError(f"ops[{k}].match", op.match, "'or' (the published circuit has OR queries only)")
    else:
        for k, op in enumerate(schedule.ops):
            steps = op.t / ca3_functional.DT_MS
            if abs(steps - round(steps)) > 1e-9:
                raise ValidationError(f"ops[{k}].t", op.t, f"a multiple of {ca3_functional.DT_MS} ms")
    check_spacing(schedule, MIN_GAP[mode], _extra(mode))


def duration_ms(schedule: Schedule, mode: str) -> float:
    last = schedule.ops[-1] if schedule.ops else None
    extra = (_extra(mode) or (lambda op: 0.0))(last) if last else 0.0
    return schedule.last_time() + TAIL_MS[mode] + extra


def encode(schedule: Schedule, mode: str) -> dict[str, list[list[float]]]:
    """Input spike times per source population (spec/ca3.md §3.1 for fidelity)."""
    n, m = schedule.n_cues, schedule.n_bits
    if mode == "fidelity":
        cue: list[list[float]] = [[] for _ in range(n)]
        cont: list[list[float]] = [[] for _ in range(m)]
        for op in schedule.ops:
            times = [op.t, op.t + 1, op.t + 2] if op.op == "learn" else [op.t]
            if op.cue is not None:
                cue[op.cue] += times
            for bit in op.content:
                cont[bit] += times
        return {"INcue": cue, "INcont": cont}
    lines = ca3_functional.level_lines(m)
    src = {
        name: [[] for _ in range(size)]
        for name, size in (
            ("cue_in", n),
            ("content_in", m),
            ("learn_cue", n),
            ("learn_content", m),
            ("level_in", lines),
        )
    }
    for op in schedule.ops:
        if op.op == "learn":
            src["learn_cue"][op.cue].append(op.t)  # type: ignore[index]
            for bit in op.content:
                src["learn_content"][bit].append(op.t)
        elif op.op == "recall_cue":
            src["cue_in"][op.cue].append(op.t)  # type: ignore[index]
        else:
            for p in range(pulses(op)):
                tp = op.t + ca3_functional.PULSE_MS * p
                level = {"or": 1, "and": len(op.content), "best": len(op.content) - p}[op.match]
                for bit in op.content:
                    src["content_in"][bit].append(tp)
                for k in range(lines):
                    if (level - 1) >> k & 1:
                        src["level_in"][k].append(tp)
    return src


def ca3_network(
    schedule: Schedule,
    mode: str = "functional",
    record: str = "outputs",
    record_weights: bool = False,
    device: Any = None,
) -> Network:
    """The network that runs ``schedule`` in ``mode`` (inputs included); ``device`` (e.g. a
    ``spikemem.hardware.rram.RRAM``) goes under both memory projections."""
    network = _circuit(schedule, mode, record, record_weights)
    if device is None:
        return network
    return network.replace(
        projections=tuple(p.replace(device=device) if p.synapse.plastic else p for p in network.projections)
    )


def _circuit(schedule: Schedule, mode: str, record: str, record_weights: bool) -> Network:
    validate(schedule, mode)
    inputs = encode(schedule, mode)
    if mode == "fidelity":
        return ca3_fidelity.build_fidelity(
            schedule.n_cues,
            schedule.n_bits,
            inputs["INcue"],
            inputs["INcont"],
            record_all=record == "all",
            record_weights=record_weights,
        )
    return ca3_functional.build_functional(schedule.n_cues, schedule.n_bits, inputs, record_weights=record_weights)


def _at(results: Results, pop: str, start: float, stop: float) -> list[int]:
    st = results.spikes[pop]
    mask = (st.times >= start - 1e-9) & (st.times < stop - 1e-9)
    return sorted({int(i) for i in st.indices[mask]})


def decode(results: Results, schedule: Schedule, mode: str) -> list[dict[str, Any]]:
    """One answer per op: the op's fields plus ``cues`` and ``content`` (sorted index lists).

    fidelity (spec §5): learn → OUT at +5; recall_cue → cue at +5, content at +6;
    recall_content → query echo at +5 (``content``), matching cues at +6.
    functional: learn → the written cue (CueIn, +2) and the content read back from the
    row just written (ContOut, +3);
    recall_cue → CueIn at +1, its content (ContOut) at +2; recall_content → matching
    cues (CueOut, +2 after the answering pulse) and the full content of the matches
    (ContOut, +4 after it). For ``best`` the first pulse that answers is the answer.
    """
    answers = []
    for op in schedule.ops:
        t = op.t
        if mode == "fidelity":
            if op.op == "learn":
                cues, content = _at(results, "OUTcue", t + 5, t + 6), _at(results, "OUTcont", t + 5, t + 6)
            elif op.op == "recall_cue":
                cues, content = _at(results, "OUTcue", t + 5, t + 6), _at(results, "OUTcont", t + 6, t + 7)
            else:
                cues, content = _at(results, "OUTcue", t + 6, t + 7), _at(results, "OUTcont", t + 5, t + 6)
        else:
            if op.op == "learn":
                cues, content = _at(results, "CueIn", t + 2.0, t + 2.5), _at(results, "ContOut", t + 3.0, t + 3.5)
            elif op.op == "recall_cue":
                cues, content = _at(results, "CueIn", t + 1.0, t + 1.5), _at(results, "ContOut", t + 2.0, t + 2.5)
            else:
                cues, content = [], []
                for p in range(pulses(op)):
                    tp = t + ca3_functional.PULSE_MS * p
                    cues = _at(results, "CueOut", tp + 2.0, tp + 2.5)
                    if cues:
                        content = _at(results, "ContOut", tp + 4.0, tp + 4.5)
                        break
        answer = {**op.to_dict(), "cues": cues, "content": content}
        if op.op == "recall_content":
            answer["query"] = list(op.content)
        answers.append(answer)
    return answers


@dataclass
class CA3Run:
    """Answers of a schedule, and the simulation results they were decoded from.

    ``answers`` is None when the target mapped the network without simulating it
    (SpiNNaker's virtual board): there are no spikes to answer from, and the mapping
    report is in ``results.provenance``.
    """

    schedule: Schedule
    mode: str
    answers: list[dict[str, Any]] | None
    results: Results

    @property
    def simulated(self) -> bool:
        return self.answers is not None

    def expected(self) -> list[dict[str, list[int]]]:
        return expected_answers(self.schedule)

    def score(self) -> dict[str, int]:
        """Counts of correct answers and of missed / false-positive cues and bits vs the ideal memory."""
        if self.answers is None:
            target = self.results.provenance.get("target")
            raise SpikememError(f"target {target!r} mapped the network without simulating it: no answers to score")
        return score_answers(self.answers, self.expected(), self.schedule, self.mode)


def expected_content(op: Op, want: dict[str, list[int]], mode: str) -> list[int]:
    """The ``content`` an op should answer: the ideal memory's, except that the published
    circuit (fidelity mode) answers a content recall with the echo of its query."""
    if mode == "fidelity" and op.op == "recall_content":
        return list(op.content)
    return want["content"]


def score_answers(
    answers: list[dict[str, Any]], expected: list[dict[str, list[int]]], schedule: Schedule, mode: str
) -> dict[str, int]:
    """Compare answers with the ideal memory; split errors into missed and false-positive cues and bits.

    In fidelity mode a content recall answers the query echo as ``content`` (the
    published circuit returns addresses only), so that is what is expected there.
    """
    counts = {
        "ops": 0,
        "correct": 0,
        "recalls": 0,
        "recalls_correct": 0,
        "missed_cues": 0,
        "false_cues": 0,
        "missed_bits": 0,
        "false_bits": 0,
    }
    for got, want, op in zip(answers, expected, schedule.ops, strict=True):
        want_content = expected_content(op, want, mode)
        ok_cues = set(got["cues"]) == set(want["cues"])
        ok_bits = set(got["content"]) == set(want_content)
        counts["ops"] += 1
        counts["correct"] += int(ok_cues and ok_bits)
        if op.op != "learn":
            counts["recalls"] += 1
            counts["recalls_correct"] += int(ok_cues and ok_bits)
        counts["missed_cues"] += len(set(want["cues"]) - set(got["cues"]))
        counts["false_cues"] += len(set(got["cues"]) - set(want["cues"]))
        counts["missed_bits"] += len(set(want_content) - set(got["content"]))
        counts["false_bits"] += len(set(got["content"]) - set(want_content))
    return counts


def run_ca3(
    schedule: Schedule,
    mode: str = "functional",
    target: str = "brian2",
    seed: int = 0,
    progress: bool = False,
    record: str = "outputs",
    record_weights: bool = False,
    device: Any = None,
    **options: Any,
) -> CA3Run:
    """Run ``schedule`` on ``target`` and decode the answers.

    ``device`` (e.g. a ``spikemem.hardware.rram.RRAM``) is put under both memory
    projections, so the learned weights live on the device.
    """
    network = ca3_network(schedule, mode, record, record_weights, device)
    results = simulate(network, duration_ms(schedule, mode), target=target, seed=seed, progress=progress, **options)
    _label(results, schedule, mode, device)
    return CA3Run(schedule, mode, _answers(results, schedule, mode), results)


def run_ca3_batch(
    schedules: list[Schedule], mode: str = "functional", target: str = "brian2", seed: int = 0, **options: Any
) -> list[CA3Run]:
    """Run many schedules of one size as independent memories in a single launch.

    The memories' networks are stacked side by side (:func:`spikemem.batch.stack`: the
    connectivity becomes block-diagonal, ``W = diag(W_1, ..., W_B)``, so no spike crosses
    from one memory to another), simulated once for the longest schedule, and split back;
    each :class:`CA3Run` holds its own schedule's answers and Results. Without a device
    model every memory answers exactly as it does alone. A device model's noise is drawn
    for the whole stack from ``seed`` (the same distribution as alone, other samples).
    On a GPU (``target="cuda"``) this turns thousands of streams into one compiled launch.
    ``options``: those of :func:`run_ca3` (``device``, ``record``, ``progress``, the target's).
    """
    from spikemem.batch import split, stack

    schedules = list(schedules)
    if not schedules:
        raise ValidationError("schedules", schedules, "a non-empty list of schedules")
    first = schedules[0]
    for k, schedule in enumerate(schedules):
        if not isinstance(schedule, Schedule):
            raise ValidationError(f"schedules[{k}]", schedule, "a Schedule")
        if (schedule.n_cues, schedule.n_bits) != (first.n_cues, first.n_bits):
            size = f"{schedule.n_cues}x{schedule.n_bits}"
            raise ValidationError(
                f"schedules[{k}]", size, f"the size of schedules[0] ({first.n_cues}x{first.n_bits}): one network shape"
            )
    record, record_weights = options.pop("record", "outputs"), options.pop("record_weights", False)
    device = options.pop("device", None)
    nets = [ca3_network(s, mode, record, record_weights, device) for s in schedules]
    duration = max(duration_ms(s, mode) for s in schedules)
    results = simulate(stack(nets), duration, target=target, seed=seed, **options)
    runs = []
    for schedule, part in zip(schedules, split(results, nets), strict=True):
        _label(part, schedule, mode, device)
        runs.append(CA3Run(schedule, mode, _answers(part, schedule, mode), part))
    return runs


def _answers(results: Results, schedule: Schedule, mode: str) -> list[dict[str, Any]] | None:
    """The decoded answers; None where the target only mapped the network (no spikes)."""
    if results.provenance.get("simulated") is False:
        return None
    return decode(results, schedule, mode)


def _label(results: Results, schedule: Schedule, mode: str, device: Any) -> None:
    results.provenance["ca3_mode"] = mode
    if device is not None:
        results.provenance["device"] = json.dumps(device.to_dict())
    results.provenance["ca3_schedule"] = json.dumps(schedule.to_dict())


# --- the paper's tests (spec/ca3.md §4) ---------------------------------------------

EXP1_OPS = [
    {"t": 0, "op": "learn", "cue": 0, "content": [0, 1, 8, 9]},
    {"t": 10, "op": "learn", "cue": 4, "content": [1, 5, 6]},
    {"t": 20, "op": "learn", "cue": 3, "content": [4, 5, 6]},
    {"t": 30, "op": "recall_cue", "cue": 0},
    {"t": 40, "op": "recall_content", "content": [6]},
    {"t": 50, "op": "recall_content", "content": [0, 4]},
    {"t": 60, "op": "learn", "cue": 3, "content": [1, 3, 4, 8]},
    {"t": 70, "op": "recall_cue", "cue": 3},
    {"t": 80, "op": "recall_content", "content": [6]},
]
EXP1_DURATION_MS = 90.0
EXP2_DURATION_MS = 851.0


def _exp2_ops() -> list[dict[str, Any]]:
    orig = [{c for c in range(10) if (i + 1) >> c & 1} for i in range(5)]
    comp = [set(range(10)) - p for p in orig]
    ops: list[dict[str, Any]] = []
    for r, patterns in enumerate((orig, comp, orig)):
        start = 1 + 280 * r
        for i in range(5):
            ops.append({"t": start + 14 * i, "op": "learn", "cue": i, "content": sorted(patterns[i])})
        for i in range(5):
            ops.append({"t": start + 70 + 14 * i, "op": "recall_cue", "cue": i})
        for b in range(10):
            ops.append({"t": start + 140 + 14 * b, "op": "recall_content", "content": [b]})
    return ops


def paper_schedule(name: str) -> Schedule:
    """The published functional test (``"exp1"``) or pyramidal stress test (``"exp2"``)."""
    if name == "exp1":
        return parse_schedule({"n_cues": 5, "n_bits": 10, "ops": EXP1_OPS})
    if name == "exp2":
        return parse_schedule({"n_cues": 5, "n_bits": 10, "ops": _exp2_ops()})
    raise ValidationError("experiment", name, "'exp1' (functional test) or 'exp2' (pyramidal stress test)")


__all__ = [
    "CA3Run",
    "MIN_GAP",
    "Schedule",
    "ca3_network",
    "decode",
    "duration_ms",
    "encode",
    "paper_schedule",
    "random_schedule",
    "run_ca3",
    "score_answers",
    "validate",
]
