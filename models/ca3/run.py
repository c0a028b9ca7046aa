"""Running the CA3 memory: schedules in, answers out, on any target.

Two circuits share one interface (:class:`~.circuit.Circuit`), chosen by ``mode``:

``fidelity``
    the published circuit with SpiNNaker semantics (:mod:`.fidelity`); it
    reproduces the recorded SpiNNaker spike tables millisecond by millisecond.
``functional``
    spikemem's improved circuit (:mod:`.functional`): gated set/reset learning,
    OR/AND/best content queries, full content from a fragment, O(N+M) inhibition.

``run_ca3(schedule, mode, target, seed)`` encodes the schedule into input spikes,
builds the network, simulates it and decodes one answer per op::

    {"t": 40, "op": "recall_content", "query": [6], "match": "or", "cues": [3, 4], "content": [1, 4, 5, 6]}

(the op's own fields plus ``cues`` and ``content``, sorted lists of what the memory
answered, which replace the op's ``content``; a content recall keeps its query bits as
``query``; see :meth:`~.circuit.Circuit.decode`).

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

from .memory import evaluate, expected
from .modes import circuit
from .schedule import Schedule


def validate(schedule: Schedule, mode: str) -> None:
    """Refuse a schedule the circuit of ``mode`` cannot run (its spacing, time grid, queries)."""
    circuit(mode).validate(schedule)


def duration_ms(schedule: Schedule, mode: str) -> float:
    """Simulated time ``schedule`` needs in ``mode``."""
    return circuit(mode).duration_ms(schedule)


def encode(schedule: Schedule, mode: str) -> dict[str, list[list[float]]]:
    """Input spike times per source population of the circuit of ``mode``."""
    return circuit(mode).encode(schedule)


def decode(results: Results, schedule: Schedule, mode: str, progress: bool = False) -> list[dict[str, Any]]:
    """One answer per op (see :meth:`~.circuit.Circuit.decode`)."""
    return circuit(mode).decode(results, schedule, progress)


def ca3_network(
    schedule: Schedule,
    mode: str = "functional",
    record: str = "outputs",
    record_weights: bool = False,
    device: Any = None,
) -> Network:
    """The network that runs ``schedule`` in ``mode`` (inputs included); ``device`` (e.g. a
    ``spikemem.hardware.devices.rram.RRAM``) goes under both memory projections."""
    network = circuit(mode).network(schedule, record, record_weights)
    if device is None:
        return network
    return network.replace(
        projections=tuple(p.replace(device=device) if p.synapse.plastic else p for p in network.projections)
    )


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
        """What the circuit should answer to every op (:func:`~.memory.expected`)."""
        return expected(self.schedule, circuit(self.mode))

    def score(self) -> dict[str, int]:
        """Counts of correct answers, of missed / false-positive cues and bits, and of
        forgetting probes passed, against the ideal memory (:func:`~.memory.evaluate`)."""
        if self.answers is None:
            target = self.results.provenance.get("target")
            raise SpikememError(f"target {target!r} mapped the network without simulating it: no answers to score")
        return evaluate(self.answers, self.schedule, circuit(self.mode))[0]


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

    ``device`` (e.g. a ``spikemem.hardware.devices.rram.RRAM``) is put under both memory
    projections, so the learned weights live on the device.
    """
    network = ca3_network(schedule, mode, record, record_weights, device)
    results = simulate(network, duration_ms(schedule, mode), target=target, seed=seed, progress=progress, **options)
    _label(results, schedule, mode, device)
    return CA3Run(schedule, mode, _answers(results, schedule, mode, progress), results)


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


def _answers(results: Results, schedule: Schedule, mode: str, progress: bool = False) -> list[dict[str, Any]] | None:
    """The decoded answers; None where the target only mapped the network (no spikes)."""
    if results.provenance.get("simulated") is False:
        return None
    return decode(results, schedule, mode, progress)


def _label(results: Results, schedule: Schedule, mode: str, device: Any) -> None:
    results.provenance["ca3_mode"] = mode
    if device is not None:
        results.provenance["device"] = json.dumps(device.to_dict())
    results.provenance["ca3_schedule"] = json.dumps(schedule.to_dict())
