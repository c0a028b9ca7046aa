"""The authors' own CA3 memory (sPyMem, a sPyNNaker script) on spikemem, against the SpiNNaker recording."""

from __future__ import annotations

import pytest

pytest.importorskip("pyNN", reason="needs PyNN (pip install 'spikemem[pynn]')")
pytest.importorskip("sPyMem", reason="needs sPyMem (pip install 'spikemem[test]')")
pytest.importorskip("brian2", reason="needs brian2")

from _pynn_ca3 import DURATION_MS, N_BITS, N_CUES, build_memory, mismatch, reference, run_memory  # noqa: E402
from pyNN.errors import NonExistentParameterError  # noqa: E402

import spikemem.pynn as pynn  # noqa: E402
import spikemem.pynn.spinnaker as spinnaker  # noqa: E402


@pytest.fixture(scope="module")
def table(reference_dir):
    spikes = reference(reference_dir)
    assert sum(len(v) for v in spikes.values()) == 322  # README of the reference data
    return spikes


def test_authors_memory_reproduces_every_recorded_spike(table):
    """The authors' CA3_content_addressable.Memory through spikemem.pynn.spinnaker: 0 missing, 0 extra."""
    got = run_memory(spinnaker, table, target="brian2:numpy")
    per_population = {p: (sorted(table[p] - got[p])[:3], sorted(got[p] - table[p])[:3]) for p in table}
    assert {p: d for p, d in per_population.items() if d != ([], [])} == {}
    assert mismatch(table, got) == (0, 0)
    assert sum(len(v) for v in got.values()) == 322


def _description_run(table, integration, timing):
    """spikemem's own fidelity circuit (models/ca3) on the same inputs, with the one connection the
    authors' code makes differently: PyNN's (and sPyNNaker's) ``AllToAllConnector(allow_self_connections=False)``
    drops i == j only when pre and post are the same population, so CueCue → CueCont inhibition has all
    N*N synapses, where the description's circuit leaves out i == j."""
    from spikemem import AllToAll, Network, Projection, simulate
    from spikemem.models.ca3.fidelity import build_fidelity

    cue = [sorted(float(t) for t, i in table["INcue"] if i == k) for k in range(N_CUES)]
    cont = [sorted(float(t) for t, i in table["INcont"] if i == k) for k in range(N_BITS)]
    net = build_fidelity(N_CUES, N_BITS, cue, cont, integration=integration, timing=timing)
    rows = [
        Projection(p.name, p.pre, p.post, AllToAll(), p.synapse, p.receptor) if p.name == "cuecue_inh_cuecont" else p
        for p in net.projections
    ]
    net = Network(net.populations, rows, net.probes, dt=net.dt, name=net.name)
    results = simulate(net, 90.0, target="brian2:numpy")
    return {
        p: {(int(round(t)), int(i)) for t, i in zip(st.times, st.indices, strict=True)}
        for p, st in results.spikes.items()
    }


def test_same_script_with_exact_semantics_runs_and_its_mismatch_is_measured(table):
    """sPyNNaker's dialect with exact integration and online STDP (what a continuous-time simulator
    honours): the authors' script gives, spike for spike, what spikemem's own description of the
    same circuit gives on brian2, and misses the recording by 424 (README)."""
    got = run_memory(spinnaker, table, target="brian2:numpy", semantics="exact")
    assert got == _description_run(table, "exact", "online")
    missing, extra = mismatch(table, got)
    assert (missing, extra) == (222, 202)
    assert got["INcue"] == table["INcue"] and got["INcont"] == table["INcont"]


def test_spinnaker_semantics_equals_the_description_with_pynns_connections(table):
    got = run_memory(spinnaker, table, target="brian2:numpy")
    assert got == _description_run(table, "spinnaker", "deferred")


@pytest.mark.parametrize("semantics", ["spinnaker", "exact"])
def test_same_script_generates_brian2cudas_project(table, tmp_path, semantics):
    """The authors' script lowered to the ``cuda`` target's code generation (no GPU needed)."""
    pytest.importorskip("brian2cuda", reason="needs brian2cuda (pip install 'spikemem[cuda]')")
    build_memory(spinnaker, table, target="brian2:numpy", semantics=semantics)
    folder = spinnaker.export(tmp_path / "proj", DURATION_MS, target="cuda", compute_capability=9.0)
    assert (folder / "main.cu").is_file() and (folder / "network.cu").is_file()
    assert any((folder / "code_objects").iterdir())
    spinnaker.end()


def test_plain_pynn_refuses_the_sPyNNaker_dialect_as_pynn_nest_does(table):  # noqa: N802 - sPyNNaker's name
    """PyNN's API has no ``set(v=...)``: spikemem.pynn refuses the authors' script at its first line that
    uses it, with PyNN's own error, as pyNN.nest does (issue 25)."""
    with pytest.raises(NonExistentParameterError, match="v"):
        run_memory(pynn, table, target="brian2:numpy")
    pynn.end()


def test_pynn_nest_refuses_the_script_too(table):
    """On pyNN.nest the script does not run either: NEST refuses the recorded input spikes at 0 ms
    (which sPyNNaker's dialect accepts) before it reaches ``set(v=...)``."""
    nest = pytest.importorskip("pyNN.nest", reason="needs NEST (pip install 'spikemem[pynn]')")
    with pytest.raises(Exception, match="spike time cannot be set to 0"):
        run_memory(nest, table)
    nest.end()
