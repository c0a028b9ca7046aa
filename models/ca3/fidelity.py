"""The published CA3 content-addressable memory, as recorded on SpiNNaker (``fidelity`` mode).

Casanueva-Morato et al., Neural Networks 178:106474 (2024); circuit, parameters and
discrete dynamics in spec/ca3.md §2 and §7.1. Eight internal populations of
``IF_curr_exp`` cells with the sPyNNaker discrete update (dt = 1 ms):

======================  ====  =====  ==========================================
population              size  class  role
======================  ====  =====  ==========================================
CA3cueCueRecall          N     A     cue neurons driven by the input cue
CA3contCueRecall         M     A     content driven by input or recalled from a cue
CA3contCond              M     B     gate: passes content only when learning or
                                     recalling by content
CA3contCondInt           1     B     interneuron: +2 to every gate one ms later
CA3contContRecall        M     A     content neurons, pre side of content→cue
CA3cueContRecall         N     B     cues recalled from content
CA3MergeCue, ...Cont     N, M  A     time-aligned OR of direct and recalled paths
======================  ====  =====  ==========================================

Memories live in two all-to-all STDP projections (cue→content and content→cue),
initial weight 0, ``w`` in [0, 6] nA, deferred (sPyNNaker) timing. The recorded data
correspond to an effective amplitude of 6 nA per unit trace (spec §7.1), i.e. PyNN
amplitudes ``A_plus = A_minus = 1.0`` times ``w_max = 6``.

:data:`FIDELITY` is this circuit as the code that runs it sees it (:class:`FidelityCircuit`):
a learn presents cue and content three times 1 ms apart, a recall once; the answer is read
from the output layer 5-6 ms later; the next op may start 7 ms after a learn, 6 ms after
a recall; content queries are OR only, and a content recall answers the echo of its query
as content (the published circuit returns the matching cues only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from spikemem.cells import IF_curr_exp
from spikemem.connectors import AllToAll, OneToOne
from spikemem.errors import ValidationError
from spikemem.network import Network, Population, Probe, Projection, SpikeSource
from spikemem.results import Results
from spikemem.synapses import STDP, Static

from .circuit import Circuit, spiked
from .schedule import Op, Schedule

DT_MS = 1.0
W = 6.0  # the static relay weight (nA) of the published circuit

_COMMON = dict(v_rest=-60.0, v_reset=-60.0, v_thresh=-57.0, tau_refrac=1.0, tau_syn_E=0.3, tau_syn_I=0.3, i_offset=0.0)


def cell_class_a(integration: str = "spinnaker", v_thresh: float = -57.0) -> IF_curr_exp:
    """Slow integrator (cm 0.27 nF, tau_m 3 ms)."""
    return IF_curr_exp(cm=0.27, tau_m=3.0, **{**_COMMON, "v_thresh": v_thresh}, integration=integration)


def cell_class_b(integration: str = "spinnaker") -> IF_curr_exp:
    """Fast coincidence detector (cm 0.14 nF, tau_m 0.5 ms)."""
    return IF_curr_exp(cm=0.14, tau_m=0.5, **_COMMON, integration=integration)


def memory_stdp(timing: str = "deferred") -> STDP:
    """The plastic synapse of both memory projections (spec §2.5)."""
    return STDP(
        weight=0.0,
        delay=1.0,
        tau_plus=3.0,
        tau_minus=3.0,
        A_plus=1.0,
        A_minus=1.0,
        w_min=0.0,
        w_max=W,
        weight_dependence="additive",
        timing=timing,
    )


def build_fidelity(
    n_cues: int,
    n_bits: int,
    cue_times: Sequence[Sequence[float]],
    content_times: Sequence[Sequence[float]],
    integration: str = "spinnaker",
    timing: str = "deferred",
    record_all: bool = True,
    record_weights: bool = False,
) -> Network:
    """The published circuit (spec/ca3.md §2.4) driven by the given input spike times.

    ``integration``/``timing`` default to the SpiNNaker semantics that reproduce the
    recordings; ``"exact"``/``"online"`` give the nearest circuit a continuous-time
    simulator honours.
    """
    n, m = n_cues, n_bits
    a, b = cell_class_a(integration), cell_class_b(integration)
    out = cell_class_a(integration, v_thresh=-57.5)
    pops = [
        SpikeSource("INcue", cue_times),
        SpikeSource("INcont", content_times),
        Population("CA3cueCueRecall", n, a),
        Population("CA3contCueRecall", m, a),
        Population("CA3contCond", m, b),
        Population("CA3contCondInt", 1, b),
        Population("CA3cueContRecall", n, b),
        Population("CA3contContRecall", m, a),
        Population("CA3MergeCue", n, a),
        Population("CA3MergeCont", m, a),
        Population("OUTcue", n, out),
        Population("OUTcont", m, out),
    ]
    one, every, others = OneToOne(), AllToAll(), AllToAll(allow_self_connections=False)
    exc, inh = "excitatory", "inhibitory"

    def static(weight: float, delay: float) -> Static:
        return Static(weight=weight, delay=delay)

    rows = [  # spec §2.4, rows 1-18
        ("in_cue", "INcue", "CA3cueCueRecall", one, static(W, 1), exc),
        ("in_cont", "INcont", "CA3contCueRecall", one, static(W, 1), exc),
        ("cuecue_cuecont", "CA3cueCueRecall", "CA3cueContRecall", one, static(W, 2), exc),
        ("cuecue_inh_cuecont", "CA3cueCueRecall", "CA3cueContRecall", others, static(W * m, 3), inh),
        ("cuecue_inh_cond", "CA3cueCueRecall", "CA3contCond", every, static(W, 2), inh),
        ("contcue_cond", "CA3contCueRecall", "CA3contCond", one, static(9.0, 1), exc),
        ("cond_contcont", "CA3contCond", "CA3contContRecall", one, static(W, 1), exc),
        ("contcue_condint", "CA3contCueRecall", "CA3contCondInt", every, static(W, 1), exc),
        ("condint_cond", "CA3contCondInt", "CA3contCond", every, static(2.0, 1), exc),
        ("memory_cue_to_content", "CA3cueCueRecall", "CA3contCueRecall", every, memory_stdp(timing), exc),
        ("memory_content_to_cue", "CA3contContRecall", "CA3cueContRecall", every, memory_stdp(timing), exc),
        ("cuecont_inh_cuecont", "CA3cueContRecall", "CA3cueContRecall", others, static(W * m, 2), inh),
        ("cuecue_mergecue", "CA3cueCueRecall", "CA3MergeCue", one, static(W, 3), exc),
        ("cuecont_mergecue", "CA3cueContRecall", "CA3MergeCue", one, static(W, 1), exc),
        ("contcue_mergecont", "CA3contCueRecall", "CA3MergeCont", one, static(W, 3), exc),
        ("contcont_mergecont", "CA3contContRecall", "CA3MergeCont", one, static(W, 1), exc),
        ("out_cue", "CA3MergeCue", "OUTcue", one, static(W, 1), exc),
        ("out_cont", "CA3MergeCont", "OUTcont", one, static(W, 1), exc),
    ]
    projections = [Projection(*row) for row in rows]
    recorded = [p.name for p in pops] if record_all else ["OUTcue", "OUTcont"]
    probes = [Probe(name, "spikes") for name in recorded]
    if record_weights:
        probes += [Probe("memory_cue_to_content", "weight"), Probe("memory_content_to_cue", "weight")]
    return Network(pops, projections, probes, dt=DT_MS, name=f"ca3_fidelity_{n}x{m}")


class FidelityCircuit(Circuit):
    """The published circuit with SpiNNaker's semantics (module docstring)."""

    name: ClassVar[str] = "fidelity"
    description: ClassVar[str] = "the published circuit as recorded on SpiNNaker"
    dt_ms: ClassVar[float] = DT_MS
    min_gap: ClassVar[dict[str, float]] = {"learn": 7.0, "recall_cue": 6.0, "recall_content": 6.0}
    tail_ms: ClassVar[float] = 8.0
    matches: ClassVar[tuple[str, ...]] = ("or",)
    unanswered_match: ClassVar[str] = "'or' (the published circuit has OR queries only)"
    marker: ClassVar[str] = "o--"
    colour: ClassVar[str] = "tab:blue"

    def check_time(self, where: str, t: float) -> None:
        if not float(t).is_integer():
            raise ValidationError(where, t, "a whole number of ms (fidelity mode runs at dt = 1 ms)")

    def encode(self, schedule: Schedule) -> dict[str, list[list[float]]]:
        """Input spike times (spec/ca3.md §3.1): a learn presents cue and content at
        ``t, t+1, t+2``, a recall its cue or query bits at ``t``."""
        cue: list[list[float]] = [[] for _ in range(schedule.n_cues)]
        cont: list[list[float]] = [[] for _ in range(schedule.n_bits)]
        for op in schedule.ops:
            times = [op.t, op.t + 1, op.t + 2] if op.op == "learn" else [op.t]
            if op.cue is not None:
                cue[op.cue] += times
            for bit in op.content:
                cont[bit] += times
        return {"INcue": cue, "INcont": cont}

    def build(
        self,
        n_cues: int,
        n_bits: int,
        inputs: dict[str, list[list[float]]],
        record: str = "outputs",
        record_weights: bool = False,
    ) -> Network:
        return build_fidelity(
            n_cues, n_bits, inputs["INcue"], inputs["INcont"], record_all=record == "all", record_weights=record_weights
        )

    def answer(self, results: Results, op: Op) -> tuple[list[int], list[int]]:
        """spec/ca3.md §5: learn → OUT at +5; recall_cue → cue at +5, content at +6;
        recall_content → query echo at +5 (``content``), matching cues at +6."""
        t = op.t
        if op.op == "learn":
            return spiked(results, "OUTcue", t + 5, t + 6), spiked(results, "OUTcont", t + 5, t + 6)
        if op.op == "recall_cue":
            return spiked(results, "OUTcue", t + 5, t + 6), spiked(results, "OUTcont", t + 6, t + 7)
        return spiked(results, "OUTcue", t + 6, t + 7), spiked(results, "OUTcont", t + 5, t + 6)

    def expected_content(self, op: Op, ideal: list[int]) -> list[int]:
        """A content recall answers the echo of its query (the published circuit returns
        addresses only); every other op what the ideal memory holds."""
        return list(op.content) if op.op == "recall_content" else ideal


FIDELITY = FidelityCircuit()
