"""The authors' CA3 memory (sPyMem) driven by the recorded exp. 1 inputs, through any PyNN module.

Shared by the tests of ``spikemem.pynn``: :func:`reference` reads the SpiNNaker table,
:func:`run_memory` builds ``CA3_content_addressable.Memory`` with ``sim`` exactly as the
authors' test bench does (input layer of cue + content spike sources, output layer of
``IF_curr_exp`` cells with threshold -57.5 mV) and returns the spikes of every population
under the table's names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

N_CUES, N_BITS = 5, 10
DURATION_MS = 90.0  # exp. 1 (tests/data/ca3_reference/README.md)
#: The authors' population attributes, under the reference table's names.
INTERNAL = {
    "CA3cueCueRecall": "CA3cueCueRecallLayer",
    "CA3contCueRecall": "CA3contCueRecallLayer",
    "CA3contCond": "CA3contCondLayer",
    "CA3contCondInt": "CA3contCondIntLayer",
    "CA3cueContRecall": "CA3cueContRecallLayer",
    "CA3contContRecall": "CA3contContRecallLayer",
    "CA3MergeCue": "CA3mergeCueLayer",
    "CA3MergeCont": "CA3mergeContLayer",
}
OUTPUT_CELL = dict(
    cm=0.27, tau_m=3.0, v_thresh=-57.5, v_rest=-60.0, v_reset=-60.0, tau_refrac=1.0, tau_syn_E=0.3, tau_syn_I=0.3
)

Spikes = dict[str, set[tuple[int, int]]]


def reference(reference_dir: Path) -> Spikes:
    """Every recorded spike of exp. 1: population → {(ms, neuron)}."""
    from _spikes import recorded_spikes  # tests/ is on the path (pytest's rootdir, or __main__ below)

    return recorded_spikes(reference_dir / "exp1_functional_spikes.csv")


def _spikes(pop: Any, start: int = 0, size: int | None = None) -> set[tuple[int, int]]:
    out = set()
    for k, train in enumerate(pop.get_data("spikes").segments[-1].spiketrains):
        if size is None or start <= k < start + size:
            out |= {(int(round(float(t))), k - start) for t in train.magnitude}
    return out


def build_memory(sim: Any, table: Spikes, **setup: Any) -> tuple[Any, Any, dict[str, Any]]:
    """Build the authors' memory with ``sim`` fed the recorded inputs: input layer, output layer and
    the internal populations (under the table's names), every one recorded."""
    from sPyMem.CA3_content_addressable.CA3_content_addressable import Memory

    times: list[list[float]] = [[] for _ in range(N_CUES + N_BITS)]
    for t, i in table["INcue"]:
        times[i].append(float(t))
    for t, i in table["INcont"]:
        times[N_CUES + i].append(float(t))
    sim.setup(timestep=1.0, **setup)
    il = sim.Population(N_CUES + N_BITS, sim.SpikeSourceArray(spike_times=[sorted(t) for t in times]), label="ILayer")
    ol = sim.Population(N_CUES + N_BITS, sim.IF_curr_exp(**OUTPUT_CELL), label="OLayer")
    ol.set(v=-60.0)
    memory = Memory(N_CUES, N_BITS, sim)
    memory.connect_in(il)
    memory.connect_out(ol)
    pops = {name: getattr(memory, attr) for name, attr in INTERNAL.items()}
    for pop in [il, ol, *pops.values()]:
        pop.record("spikes")
    return il, ol, pops


def run_memory(sim: Any, table: Spikes, **setup: Any) -> Spikes:
    """Build the authors' memory with ``sim``, feed it the recorded inputs, run exp. 1; its spikes."""
    il, ol, pops = build_memory(sim, table, **setup)
    sim.run(DURATION_MS)
    got = {name: _spikes(pop) for name, pop in pops.items()}
    got["INcue"], got["INcont"] = _spikes(il, 0, N_CUES), _spikes(il, N_CUES, N_BITS)
    got["OUTcue"], got["OUTcont"] = _spikes(ol, 0, N_CUES), _spikes(ol, N_CUES, N_BITS)
    sim.end()
    return got


def mismatch(table: Spikes, got: Spikes) -> tuple[int, int]:
    """(missing, extra): recorded spikes not reproduced, and spikes the recording lacks."""
    missing = sum(len(table[p] - got.get(p, set())) for p in table)
    extra = sum(len(got.get(p, set()) - table[p]) for p in table)
    return missing, extra


if __name__ == "__main__":  # python tests/pynn/_pynn_ca3.py [spinnaker|exact] [target]
    import sys

    import spikemem.pynn.spinnaker as spinnaker

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    here = Path(__file__).resolve().parents[1] / "data" / "ca3_reference"
    semantics = sys.argv[1] if len(sys.argv) > 1 else "spinnaker"
    target = sys.argv[2] if len(sys.argv) > 2 else "brian2:numpy"
    table = reference(here)
    missing, extra = mismatch(table, run_memory(spinnaker, table, semantics=semantics, target=target))
    print(
        f"semantics={semantics} target={target} recorded={sum(map(len, table.values()))} "
        f"missing={missing} extra={extra} mismatching={missing + extra}"
    )
