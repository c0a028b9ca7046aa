"""spikemem's improved CA3 content-addressable memory (``functional`` mode).

Same operations as the published circuit (learn, recall by cue, recall by content),
rebuilt for robustness and scale (spec/ca3.md §8.3):

* **Gated set/reset writes.** Both memory copies (cue→content ``W_fwd``, content→cue
  ``W_bwd``) are :class:`~spikemem.synapses.GatedWrite` synapses, a three-factor
  rule: a learn opens the write gate of the cue being written and tags its content
  bits (modulatory :class:`~spikemem.synapses.Gate` synapses, open 3 ms); when the
  cue's neuron spikes with its gate open, its whole row of ``W_fwd`` (column of
  ``W_bwd``) is set to the tags: ``W[i, :] ← content``. A write takes O(M) synapse
  updates, an overwrite forgets the old content completely, and reads — every gate
  closed — never change memory.
* **One write path.** The learn cue fires ``CueOut[i]`` (writes ``W_bwd``), which
  drives ``CueIn[i]`` through the chain (writes ``W_fwd``), whose spike delivers the
  row it just wrote: the learned content comes back out of ``ContOut`` as the echo.
  Content neurons never fire during a write, so no other cue is disturbed and no
  inhibition is needed to protect them.
* **Integer margins.** Every neuron is a relay that fires when its net input is at
  least one unit ``U`` (a unit raises the membrane 2 mV above rest against a 1 mV
  threshold) and stays silent at zero units or less. A stored bit is one unit.
* **Content queries** ``or`` / ``and`` / ``best``: cue neurons receive one unit per
  matching queried bit minus ``L - 1`` units of inhibition from binary-weighted level
  lines (``L = 1`` for OR, ``|Q|`` for AND), through the same relay latency so the two
  arrive in the same step. ``best`` scans ``L = |Q| … 1`` in pulses 1.5 ms apart;
  the first pulse that answers holds the best matches.
* **Full content from a fragment.** Matched cues drive the cue layer again
  (``CueOut → CueIn``), which recalls their content through ``W_fwd`` in the same op.
* **O(N + M) inhibition.** The level lines add ``N·⌈log2 M⌉`` inhibitory synapses;
  there is no N×N lateral inhibition and no write-time blocking.

Cells: continuous-time ``IF_curr_exp`` (``exact``), dt = 0.5 ms, delays 0.5 ms;
one relay hop takes 1 ms. The gated write has no PyNN standard equivalent (PyNN's
plasticity rules have no third factor): the Brian2-based targets (``brian2``, ``cuda``)
run it in the synapses, the PyNN targets (``pynn:brian2``, ``pynn:nest``) on the host
between time steps, with identical spikes; SpiNNaker and NIR refuse it.

:data:`FUNCTIONAL` is this circuit as the code that runs it sees it (:class:`FunctionalCircuit`):
times on its 0.5 ms grid; the next op may start 5 ms after a learn, 4 ms after a recall by
cue, 5 ms after a content recall (plus 1.5 ms per extra ``best`` pulse).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from spikemem.cells import IF_curr_exp
from spikemem.connectors import AllToAll, FromList, OneToOne
from spikemem.network import Network, Population, Probe, Projection, SpikeSource
from spikemem.results import Results
from spikemem.synapses import Gate, GatedWrite, Static

from .circuit import Circuit, spiked
from .schedule import Op, Schedule

DT_MS = 0.5
HOP_DELAY_MS = 0.5
GATE_WINDOW_MS = 3.0  # the write lands 2 ms after the gates open: 1 ms of margin
PULSE_MS = 1.5  # spacing of best-match pulses
V_REST, V_THRESH = -60.0, -59.0
TAU_M, TAU_SYN = 0.5, 0.25


def psp_first_step(tau_m: float = TAU_M, tau_syn: float = TAU_SYN, dt: float = DT_MS, cm: float = 1.0) -> float:
    r"""Membrane rise (mV) one step after a 1 nA current jump, exact integration.

    .. math:: \Delta V = \frac{1}{c_m}\frac{\tau_s \tau_m}{\tau_m - \tau_s}
              \left(e^{-dt/\tau_m} - e^{-dt/\tau_s}\right)
    """
    return tau_syn * tau_m / (tau_m - tau_syn) * (math.exp(-dt / tau_m) - math.exp(-dt / tau_syn)) / cm


#: One unit of synaptic weight (nA): lifts the membrane 2 mV, twice the 1 mV threshold gap.
UNIT = 2.0 * (V_THRESH - V_REST) / psp_first_step()


def relay() -> IF_curr_exp:
    """The one cell type of this circuit: fires at >= 1 unit of net input."""
    return IF_curr_exp(
        cm=1.0,
        tau_m=TAU_M,
        tau_refrac=DT_MS,
        tau_syn_E=TAU_SYN,
        tau_syn_I=TAU_SYN,
        v_rest=V_REST,
        v_reset=V_REST,
        v_thresh=V_THRESH,
        integration="exact",
    )


def memory_synapse(trigger: str) -> GatedWrite:
    """Set/reset memory synapse (weights 0 or one unit), written when ``trigger`` spikes."""
    return GatedWrite(weight=0.0, delay=HOP_DELAY_MS, w_min=0.0, w_max=UNIT, trigger=trigger)


def level_lines(n_bits: int) -> int:
    """Binary level lines needed to subtract up to ``n_bits - 1`` units."""
    return max(1, (n_bits - 1).bit_length())


def build_functional(
    n_cues: int, n_bits: int, inputs: dict[str, Sequence[Sequence[float]]], record_weights: bool = False
) -> Network:
    """The functional circuit driven by ``inputs`` (source name → spike times per neuron).

    Sources: ``cue_in`` (N, read by cue), ``content_in`` (M, query bits),
    ``learn_cue`` (N, the cue to write), ``learn_content`` (M, the content to write)
    and ``level_in`` (binary level lines of content queries).
    :meth:`FunctionalCircuit.encode` builds the inputs from a schedule.
    """
    n, m, b = n_cues, n_bits, level_lines(n_bits)
    cell = relay()
    pops = [
        SpikeSource("cue_in", inputs["cue_in"]),
        SpikeSource("content_in", inputs["content_in"]),
        SpikeSource("learn_cue", inputs["learn_cue"]),
        SpikeSource("learn_content", inputs["learn_content"]),
        SpikeSource("level_in", inputs["level_in"]),
        Population("CueIn", n, cell),
        Population("ContOut", m, cell),
        Population("ContIn", m, cell),
        Population("CueOut", n, cell),
        Population("LevelRelay", b, cell),
    ]
    one, every = OneToOne(), AllToAll()
    d, u = HOP_DELAY_MS, UNIT
    drive = Static(weight=2.0 * u, delay=d)
    gate = Gate(delay=d, window_ms=GATE_WINDOW_MS)
    level_weights = np.array([[k, j, (2**k) * u, d] for k in range(b) for j in range(n)], dtype=float)
    rows = [
        # reads
        ("read_cue", "cue_in", "CueIn", one, drive, "excitatory"),
        ("query", "content_in", "ContIn", one, drive, "excitatory"),
        ("level", "level_in", "LevelRelay", one, drive, "excitatory"),
        ("level_inh", "LevelRelay", "CueOut", FromList(level_weights), Static(weight=u, delay=d), "inhibitory"),
        ("chain", "CueOut", "CueIn", one, drive, "excitatory"),
        # memory: W_fwd row i is written by CueIn[i]'s spike, W_bwd column i by CueOut[i]'s
        ("W_fwd", "CueIn", "ContOut", every, memory_synapse("pre"), "excitatory"),
        ("W_bwd", "ContIn", "CueOut", every, memory_synapse("post"), "excitatory"),
        # writes: open the written cue's gates, tag its content bits, fire the cue
        ("enable_cue_out", "learn_cue", "CueOut", one, gate, "modulatory"),
        ("enable_cue_in", "learn_cue", "CueIn", one, gate, "modulatory"),
        ("tag_cont_out", "learn_content", "ContOut", one, gate, "modulatory"),
        ("tag_cont_in", "learn_content", "ContIn", one, gate, "modulatory"),
        ("write_cue", "learn_cue", "CueOut", one, drive, "excitatory"),
    ]
    projections = [Projection(*row) for row in rows]
    probes = [Probe(name) for name in ("CueIn", "ContOut", "ContIn", "CueOut")]
    if record_weights:
        probes += [Probe("W_fwd", "weight", every_ms=1.0), Probe("W_bwd", "weight", every_ms=1.0)]
    return Network(pops, projections, probes, dt=DT_MS, name=f"ca3_functional_{n}x{m}")


def pulses(op: Op) -> int:
    """Number of query pulses of a content recall (``best``: one per level)."""
    return len(op.content) if op.op == "recall_content" and op.match == "best" else 1


class FunctionalCircuit(Circuit):
    """spikemem's improved circuit (module docstring)."""

    name: ClassVar[str] = "functional"
    description: ClassVar[str] = "spikemem's circuit: gated set/reset writes, OR/AND/best queries, full content"
    dt_ms: ClassVar[float] = DT_MS
    min_gap: ClassVar[dict[str, float]] = {"learn": 5.0, "recall_cue": 4.0, "recall_content": 5.0}
    tail_ms: ClassVar[float] = 6.0
    marker: ClassVar[str] = "s-"
    colour: ClassVar[str] = "tab:orange"

    def extra_ms(self, op: Op) -> float:
        """A best-match scan waits for its extra threshold pulses."""
        return PULSE_MS * (pulses(op) - 1)

    def encode(self, schedule: Schedule) -> dict[str, list[list[float]]]:
        """A learn fires ``learn_cue`` and ``learn_content`` at ``t``; a recall by cue
        ``cue_in``; a content query ``content_in`` with the binary level lines of its
        threshold, once per pulse."""
        n, m = schedule.n_cues, schedule.n_bits
        lines = level_lines(m)
        src: dict[str, list[list[float]]] = {
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
                    tp = op.t + PULSE_MS * p
                    level = {"or": 1, "and": len(op.content), "best": len(op.content) - p}[op.match]
                    for bit in op.content:
                        src["content_in"][bit].append(tp)
                    for k in range(lines):
                        if (level - 1) >> k & 1:
                            src["level_in"][k].append(tp)
        return src

    def build(
        self,
        n_cues: int,
        n_bits: int,
        inputs: dict[str, list[list[float]]],
        record: str = "outputs",
        record_weights: bool = False,
    ) -> Network:
        return build_functional(n_cues, n_bits, inputs, record_weights=record_weights)

    def answer(self, results: Results, op: Op) -> tuple[list[int], list[int]]:
        """learn → the written cue (CueIn, +2) and the content read back from the row just
        written (ContOut, +3); recall_cue → CueIn at +1, its content (ContOut) at +2;
        recall_content → matching cues (CueOut, +2 after the answering pulse) and the full
        content of the matches (ContOut, +4 after it). For ``best`` the first pulse that
        answers is the answer."""
        t = op.t
        if op.op == "learn":
            return spiked(results, "CueIn", t + 2.0, t + 2.5), spiked(results, "ContOut", t + 3.0, t + 3.5)
        if op.op == "recall_cue":
            return spiked(results, "CueIn", t + 1.0, t + 1.5), spiked(results, "ContOut", t + 2.0, t + 2.5)
        cues: list[int] = []
        for p in range(pulses(op)):
            tp = t + PULSE_MS * p
            cues = spiked(results, "CueOut", tp + 2.0, tp + 2.5)
            if cues:
                return cues, spiked(results, "ContOut", tp + 4.0, tp + 4.5)
        return cues, []


FUNCTIONAL = FunctionalCircuit()
