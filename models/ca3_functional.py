"""spikemem's improved CA3 content-addressable memory (``functional`` mode).

Same operations as the published circuit (learn, recall by cue, recall by content),
rebuilt for robustness and scale (spec/ca3.md §8.3):

* **Gated learning.** Both memory copies (cue→content ``W_fwd``, content→cue
  ``W_bwd``) are gated STDP synapses: a weight can change only while the gates of its
  pre and post neuron are open. A learn opens the gates of the cue being written
  (row ``i`` of ``W_fwd``, column ``i`` of ``W_bwd``) for 2.5 ms; reads open none, so
  reading never changes memory.
* **Set/reset writes.** During a learn the content bits fire *after* the cue on the
  post side and *before* it on the pre side, the complement bits the other way round;
  saturating amplitudes (``A = 10``, ``tau = 1 ms``) turn each pairing into an exact
  set (``w_max``) or reset (0). Every learn rewrites the whole row and column, so
  overwrites forget the old content completely.
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
* **O(N + M) inhibition.** One gate relay silences the cue layers during writes
  (N synapses each); level lines add ``N·⌈log2 M⌉``. No N×N lateral inhibition.

Cells: continuous-time ``IF_curr_exp`` (``exact``), dt = 0.5 ms, delays 0.5 ms;
one relay hop takes 1 ms. Gated STDP has no PyNN standard equivalent, so this mode
runs on the Brian2-based targets (``brian2``, ``cuda``) only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from spikemem.cells import IF_curr_exp
from spikemem.connectors import AllToAll, FromList, OneToOne
from spikemem.network import Network, Population, Probe, Projection, SpikeSource
from spikemem.synapses import STDP, Gate, Static

DT_MS = 0.5
HOP_DELAY_MS = 0.5
GATE_WINDOW_MS = 2.5
PULSE_MS = 1.5  # spacing of best-match pulses
V_REST, V_THRESH = -60.0, -59.0
TAU_M, TAU_SYN, TAU_SYN_BLOCK = 0.5, 0.25, 1.0


def psp_first_step(tau_m: float = TAU_M, tau_syn: float = TAU_SYN, dt: float = DT_MS, cm: float = 1.0) -> float:
    r"""Membrane rise (mV) one step after a 1 nA current jump, exact integration.

    .. math:: \Delta V = \frac{1}{c_m}\frac{\tau_s \tau_m}{\tau_m - \tau_s}
              \left(e^{-dt/\tau_m} - e^{-dt/\tau_s}\right)
    """
    return tau_syn * tau_m / (tau_m - tau_syn) * (math.exp(-dt / tau_m) - math.exp(-dt / tau_syn)) / cm


#: One unit of synaptic weight (nA): lifts the membrane 2 mV, twice the 1 mV threshold gap.
UNIT = 2.0 * (V_THRESH - V_REST) / psp_first_step()


def relay(tau_syn_I: float = TAU_SYN) -> IF_curr_exp:
    """The one cell type of this circuit: fires at >= 1 unit of net input."""
    return IF_curr_exp(
        cm=1.0,
        tau_m=TAU_M,
        tau_refrac=DT_MS,
        tau_syn_E=TAU_SYN,
        tau_syn_I=tau_syn_I,
        v_rest=V_REST,
        v_reset=V_REST,
        v_thresh=V_THRESH,
        integration="exact",
    )


def memory_synapse() -> STDP:
    """Gated set/reset STDP of both memory copies (weights 0 or one unit)."""
    return STDP(
        weight=0.0,
        delay=HOP_DELAY_MS,
        tau_plus=1.0,
        tau_minus=1.0,
        A_plus=10.0,
        A_minus=10.0,
        w_min=0.0,
        w_max=UNIT,
        weight_dependence="additive",
        timing="online",
        gated=True,
    )


def level_lines(n_bits: int) -> int:
    """Binary level lines needed to subtract up to ``n_bits - 1`` units."""
    return max(1, (n_bits - 1).bit_length())


def build_functional(
    n_cues: int, n_bits: int, inputs: dict[str, Sequence[Sequence[float]]], record_weights: bool = False
) -> Network:
    """The functional circuit driven by ``inputs`` (source name → spike times per neuron).

    Sources: ``cue_in`` (N, read by cue), ``content_in`` (M, query bits),
    ``learn_cue`` (N), ``learn_content`` (M), ``learn_erase`` (M, complement bits),
    ``gate_in`` (1, a learn is under way) and ``level_in`` (binary level lines).
    Use :mod:`spikemem.models.ca3` to build the inputs from a schedule.
    """
    n, m, b = n_cues, n_bits, level_lines(n_bits)
    cell, blockable = relay(), relay(TAU_SYN_BLOCK)
    pops = [
        SpikeSource("cue_in", inputs["cue_in"]),
        SpikeSource("content_in", inputs["content_in"]),
        SpikeSource("learn_cue", inputs["learn_cue"]),
        SpikeSource("learn_content", inputs["learn_content"]),
        SpikeSource("learn_erase", inputs["learn_erase"]),
        SpikeSource("gate_in", inputs["gate_in"]),
        SpikeSource("level_in", inputs["level_in"]),
        Population("CueIn", n, blockable),
        Population("ContOut", m, cell),
        Population("ContIn", m, cell),
        Population("CueOut", n, cell),
        Population("GateRelay", 1, cell),
        Population("LevelRelay", b, cell),
    ]
    one, every = OneToOne(), AllToAll()
    d, u = HOP_DELAY_MS, UNIT

    def drive(delay: float, units: float = 2.0) -> Static:
        return Static(weight=units * u, delay=delay)

    def gate(delay: float = d) -> Gate:
        return Gate(delay=delay, window_ms=GATE_WINDOW_MS)

    level_weights = np.array([[k, j, (2**k) * u, d + 0.0] for k in range(b) for j in range(n)], dtype=float)
    rows = [
        # reads
        ("read_cue", "cue_in", "CueIn", one, drive(d), "excitatory"),
        ("query", "content_in", "ContIn", one, drive(d), "excitatory"),
        ("level", "level_in", "LevelRelay", one, drive(d), "excitatory"),
        ("level_inh", "LevelRelay", "CueOut", FromList(level_weights), Static(weight=u, delay=d), "inhibitory"),
        ("chain", "CueOut", "CueIn", one, drive(d), "excitatory"),
        # memory
        ("W_fwd", "CueIn", "ContOut", every, memory_synapse(), "excitatory"),
        ("W_bwd", "ContIn", "CueOut", every, memory_synapse(), "excitatory"),
        # writes: post side of W_fwd (complement first, content after the cue)
        ("teach_erase_out", "learn_erase", "ContOut", one, drive(d), "excitatory"),
        ("teach_cue_in", "learn_cue", "CueIn", one, drive(2 * d), "excitatory"),
        ("teach_content_out", "learn_content", "ContOut", one, drive(3 * d), "excitatory"),
        # writes: W_bwd (content first, the cue, then the complement)
        ("teach_content_in", "learn_content", "ContIn", one, drive(d), "excitatory"),
        ("teach_cue_out", "learn_cue", "CueOut", one, drive(2 * d), "excitatory"),
        ("teach_erase_in", "learn_erase", "ContIn", one, drive(3 * d), "excitatory"),
        # gates: all content neurons, and the written cue's two neurons
        ("gate_cont_out", "gate_in", "ContOut", every, gate(), "modulatory"),
        ("gate_cont_in", "gate_in", "ContIn", every, gate(), "modulatory"),
        ("gate_cue_in", "learn_cue", "CueIn", one, gate(), "modulatory"),
        ("gate_cue_out", "learn_cue", "CueOut", one, gate(), "modulatory"),
        # during a write, silence the other cues (their content→cue input) and the chain
        ("write_relay_1", "gate_in", "GateRelay", every, drive(d), "excitatory"),
        ("write_relay_2", "gate_in", "GateRelay", every, drive(3 * d), "excitatory"),
        ("write_block_cueout", "GateRelay", "CueOut", every, Static(weight=(m + 1) * u, delay=d), "inhibitory"),
        ("write_block_chain", "GateRelay", "CueIn", every, Static(weight=2 * u, delay=2 * d), "inhibitory"),
    ]
    projections = [Projection(*row) for row in rows]
    probes = [Probe(name) for name in ("CueIn", "ContOut", "ContIn", "CueOut")]
    if record_weights:
        probes += [Probe("W_fwd", "weight", every_ms=1.0), Probe("W_bwd", "weight", every_ms=1.0)]
    return Network(pops, projections, probes, dt=DT_MS, name=f"ca3_functional_{n}x{m}")
