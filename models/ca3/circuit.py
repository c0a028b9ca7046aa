"""What a CA3 circuit is to the code that runs it: one object per circuit.

A :class:`Circuit` owns everything that differs between the published circuit
(``fidelity``) and spikemem's (``functional``): its time grid, the spacing it needs
between operations, the queries it answers, how a schedule becomes input spikes, the
network, how the answers are read back from the spikes, and what it is expected to answer
where that differs from an ideal memory. Callers ask the circuit; none branches on its name.
"""

from __future__ import annotations

from typing import Any, ClassVar

from spikemem.errors import ValidationError
from spikemem.network import Network
from spikemem.results import Results

from .schedule import MATCHES, Op, Schedule, check_spacing


class Circuit:
    """The interface of a CA3 circuit (subclassed by :mod:`.fidelity` and :mod:`.functional`).

    Class attributes: ``name`` (the mode, as ``--mode`` takes it), ``dt_ms`` (its time
    grid: op times and spacings are multiples of it), ``min_gap`` (ms from an op's start to
    the next op's, per op kind), ``tail_ms`` (from the last op's start until its answer is
    complete), ``matches`` (the content queries it answers), ``marker`` and ``colour`` (its
    line in the stress plots).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    dt_ms: ClassVar[float]
    min_gap: ClassVar[dict[str, float]]
    tail_ms: ClassVar[float]
    matches: ClassVar[tuple[str, ...]] = MATCHES
    marker: ClassVar[str] = "o-"
    colour: ClassVar[str] = "tab:blue"

    # --- timing -------------------------------------------------------------------------

    def extra_ms(self, op: Op) -> float:
        """Time an op needs beyond its ``min_gap`` (none, unless the circuit says otherwise)."""
        return 0.0

    def duration_ms(self, schedule: Schedule) -> float:
        """Simulated time a schedule needs: its last op's start plus the time to answer it."""
        last = schedule.ops[-1] if schedule.ops else None
        return schedule.last_time() + self.tail_ms + (self.extra_ms(last) if last else 0.0)

    def query_matches(self, requested: tuple[str, ...]) -> tuple[str, ...]:
        """The content queries a random stream for this circuit draws from: ``requested``
        where the circuit answers them all, else every kind it answers."""
        return requested if set(requested) <= set(self.matches) else self.matches

    # --- a schedule's rules, inputs and network ---------------------------------------

    def validate(self, schedule: Schedule) -> None:
        """Refuse a schedule the circuit cannot run: op times off its grid, queries it does
        not answer, ops closer than it needs."""
        for k, op in enumerate(schedule.ops):
            self.check_time(f"ops[{k}].t", op.t)
            if op.op == "recall_content" and op.match not in self.matches:
                raise ValidationError(f"ops[{k}].match", op.match, self.unanswered_match)
        check_spacing(schedule, self.min_gap, self.extra_ms)

    #: What :meth:`validate` says of a content query the circuit does not answer.
    unanswered_match: ClassVar[str] = "a match the circuit answers"

    def check_time(self, where: str, t: float) -> None:
        """Refuse a time off the circuit's grid (``where`` names the field)."""
        steps = t / self.dt_ms
        if abs(steps - round(steps)) > 1e-9:
            raise ValidationError(where, t, f"a multiple of {self.dt_ms} ms")

    def on_grid(self, ms: float) -> bool:
        """Whether a spacing of ``ms`` keeps ops on the circuit's time grid."""
        return abs(ms / self.dt_ms - round(ms / self.dt_ms)) <= 1e-9

    def encode(self, schedule: Schedule) -> dict[str, list[list[float]]]:
        """Input spike times per source population."""
        raise NotImplementedError

    def build(
        self,
        n_cues: int,
        n_bits: int,
        inputs: dict[str, list[list[float]]],
        record: str = "outputs",
        record_weights: bool = False,
    ) -> Network:
        """The circuit's network driven by ``inputs`` (as :meth:`encode` makes them)."""
        raise NotImplementedError

    def network(self, schedule: Schedule, record: str = "outputs", record_weights: bool = False) -> Network:
        """The network that runs ``schedule`` (validated first; inputs included)."""
        self.validate(schedule)
        return self.build(schedule.n_cues, schedule.n_bits, self.encode(schedule), record, record_weights)

    # --- answers ------------------------------------------------------------------------

    def decode(self, results: Results, schedule: Schedule, progress: bool = False) -> list[dict[str, Any]]:
        """One answer per op: the op's fields plus ``cues`` and ``content`` (sorted index
        lists); a content recall keeps its query bits as ``query``. ``progress`` shows a bar
        for long schedules."""
        answers = []
        for op in _ops(schedule, progress, "decoding"):
            cues, content = self.answer(results, op)
            answer = {**op.to_dict(), "cues": cues, "content": content}
            if op.op == "recall_content":
                answer["query"] = list(op.content)
            answers.append(answer)
        return answers

    def answer(self, results: Results, op: Op) -> tuple[list[int], list[int]]:
        """The cues and the content bits the circuit answered to ``op``."""
        raise NotImplementedError

    def expected_content(self, op: Op, ideal: list[int]) -> list[int]:
        """The ``content`` the circuit should answer to ``op``, given the ideal memory's."""
        return ideal


def spiked(results: Results, pop: str, start: float, stop: float) -> list[int]:
    """Sorted indices of the neurons of ``pop`` that spiked in [``start``, ``stop``) ms.

    A binary search in the population's spikes (sorted by time), so decoding a schedule of
    ``n`` ops costs ``O(n log S)`` for ``S`` spikes, not ``O(n S)``.
    """
    st = results.spikes[pop]
    lo, hi = st.times.searchsorted((start - 1e-9, stop - 1e-9))
    return sorted(set(st.indices[lo:hi].tolist()))


#: Schedules at least this long get a progress bar in the phases that walk their ops.
LONG_SCHEDULE = 20_000


def _ops(schedule: Schedule, progress: bool, what: str) -> Any:
    """The schedule's ops, behind a progress bar when asked and the schedule is long."""
    if not progress or len(schedule.ops) < LONG_SCHEDULE:
        return schedule.ops
    from tqdm import tqdm

    return tqdm(schedule.ops, desc=what, unit="op", leave=False)
