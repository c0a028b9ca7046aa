"""Results: HDF5 round trip (spikes, traces, weights, synapses, provenance, embedded network),
atomic writes that survive an interrupted writer, and conversion to neo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import spikemem.results as results_module
from spikemem import (
    STDP,
    AllToAll,
    FixedProbability,
    IF_curr_exp,
    Network,
    Poisson,
    Population,
    Probe,
    Projection,
    Results,
    SpikeSource,
    SpikeTrains,
    Static,
    Trace,
    ValidationError,
    load_results,
    simulate,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_network() -> Network:
    stim = SpikeSource("stim", [[2.0, 10.0, 20.0, 30.0], [5.0, 25.0], [12.0]])
    noise = Population("noise", 10, Poisson(rate_hz=80.0))
    cells = Population("cells", 5, IF_curr_exp(tau_refrac=2.0, i_offset=0.5))
    projections = [
        Projection("noise_cells", noise, cells, FixedProbability(0.5), Static(2.0, 1.0)),
        Projection("stim_cells", stim, cells, AllToAll(), STDP(weight=0.5, delay=1.0, A_plus=0.05, A_minus=0.05)),
    ]
    probes = [Probe("stim"), Probe("cells"), Probe("cells", "v", every_ms=0.5), Probe("stim_cells", "weight")]
    return Network([stim, noise, cells], projections, probes, dt=0.1, name="small")


@pytest.fixture(scope="module")
def results() -> Results:
    return simulate(small_network(), 40.0, target="brian2:numpy", seed=5)


def assert_same_results(a: Results, b: Results) -> None:
    assert a.spikes.keys() == b.spikes.keys()
    for name in a.spikes:
        assert a.spikes[name] == b.spikes[name], name
        assert b.spikes[name].times.dtype == np.float64 and b.spikes[name].indices.dtype == np.int64
    for group in ("traces", "weights"):
        ta, tb = getattr(a, group), getattr(b, group)
        assert ta.keys() == tb.keys()
        for key in ta:
            assert ta[key].unit == tb[key].unit
            for field in ("times", "values"):
                x, y = getattr(ta[key], field), getattr(tb[key], field)
                assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), (key, field)
    assert a.synapses.keys() == b.synapses.keys()
    for key in a.synapses:
        for x, y in zip(a.synapses[key], b.synapses[key]):
            np.testing.assert_array_equal(x, y)
    assert a.provenance == b.provenance
    assert (a.network is None) == (b.network is None)
    if a.network is not None:
        assert a.network == b.network and a.network.digest() == b.network.digest()


# --- round trip ---------------------------------------------------------------------------------


def test_simulated_results_hold_what_the_probes_asked_for(results) -> None:
    assert set(results.spikes) == {"stim", "cells"}
    assert results.spikes["stim"].size == 3 and len(results.spikes["stim"]) == 7
    assert len(results.spikes["cells"]) > 5
    v = results.traces["cells.v"]
    assert v.unit == "mV" and v.values.shape == (80, 5)
    np.testing.assert_allclose(v.times, np.arange(80) * 0.5)
    w = results.weights["stim_cells"]
    assert w.unit == "nA" and w.values.shape == (400, 15)
    i, j = results.synapses["stim_cells"]
    assert sorted(zip(i.tolist(), j.tolist())) == [(a, b) for a in range(3) for b in range(5)]
    assert not np.allclose(w.values[-1], 0.5)  # the weights learned


def test_results_round_trip_through_hdf5(tmp_path, results) -> None:
    path = tmp_path / "run.h5"
    results.save(path)
    again = load_results(path)
    assert_same_results(results, again)
    assert again.network == small_network()
    assert again.provenance["network_digest"] == small_network().digest()


def test_results_without_network_and_with_empty_trains_round_trip(tmp_path) -> None:
    res = Results(
        spikes={
            "silent": SpikeTrains(3, np.empty(0), np.empty(0, dtype=np.int64)),
            "busy": SpikeTrains(2, [0.1 + 0.2, 1.0 / 3.0, 0.1], [1, 0, 1]),
        },
        traces={"busy.v": Trace(np.array([0.0, 0.1]), np.array([[-65.0, -64.9], [-64.8, 1e-300]]), "mV")},
        provenance={"target": "none", "nested": {"list": [1, 2.5, "x"], "flag": True}, "empty": {}},
    )
    res.save(tmp_path / "r.h5")
    again = load_results(tmp_path / "r.h5")
    assert_same_results(res, again)
    np.testing.assert_array_equal(again.spikes["busy"].times, [0.1, 0.1 + 0.2, 1.0 / 3.0])  # sorted by time
    np.testing.assert_array_equal(again.spikes["busy"].indices, [1, 1, 0])


def test_loading_a_file_that_is_not_a_results_file_is_refused(tmp_path) -> None:
    with pytest.raises(ValidationError) as info:
        load_results(tmp_path / "missing.h5")
    assert info.value.field == "path" and "existing" in info.value.allowed
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(ValidationError) as info:
        load_results(junk)
    assert "HDF5 file written by spikemem" in info.value.allowed


# --- atomic writes -------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_an_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch, results, error) -> None:
    path = tmp_path / "run.h5"
    old = Results(spikes={"a": SpikeTrains(1, [1.0, 2.0], [0, 0])}, provenance={"version": "old"})
    old.save(path)
    before = path.read_bytes()
    real_write_tree = results_module.write_tree
    calls = []

    def write_then_fail(group, attr, tree):
        real_write_tree(group, attr, tree)  # the results group is complete ...
        calls.append(attr)
        raise error  # ... and the writer dies before the embedded network

    monkeypatch.setattr(results_module, "write_tree", write_then_fail)
    with pytest.raises(type(error)):
        results.save(path)
    assert calls == ["data"]
    assert path.read_bytes() == before
    assert_same_results(load_results(path), old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.h5"]  # no temporary file left


def test_an_interrupted_first_save_creates_no_file(tmp_path, monkeypatch, results) -> None:
    def fail(group, attr, tree):
        raise OSError("no space left on device")

    monkeypatch.setattr(results_module, "write_tree", fail)
    with pytest.raises(OSError):
        results.save(tmp_path / "run.h5")
    assert list(tmp_path.iterdir()) == []


def test_a_killed_writer_process_leaves_the_previous_file_intact(tmp_path) -> None:
    """SIGKILL in the middle of writing a large file: the old file is untouched and readable."""
    path = tmp_path / "run.h5"
    old = Results(spikes={"a": SpikeTrains(1, [1.0], [0])}, provenance={"version": "old"})
    old.save(path)
    before = path.read_bytes()
    child = textwrap.dedent(
        f"""
        import sys, time
        import numpy as np
        import spikemem.results as r
        real = r.write_tree
        def slow(group, attr, tree):
            real(group, attr, tree)
            group.file.flush()
            print("midway", flush=True)
            time.sleep(600)
        r.write_tree = slow
        big = r.Results(spikes={{"a": r.SpikeTrains(1000, np.arange(5e5) * 0.1, np.arange(5e5) % 1000)}})
        big.save({str(path)!r})
        """
    )
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, env=env, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert line.strip() == b"midway"
        leftovers = [p for p in tmp_path.iterdir() if p.name != "run.h5"]
        assert leftovers and leftovers[0].stat().st_size > 1_000_000  # the big file was being written
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert path.read_bytes() == before
    assert_same_results(load_results(path), old)
    # a killed process cannot clean up: its partial file is hidden and never has the target name
    assert all(p.name.startswith(".run.h5.") and p.name.endswith(".part") for p in tmp_path.iterdir() if p != path)


# --- neo ----------------------------------------------------------------------------------------------


def test_to_neo_gives_one_spiketrain_per_neuron_with_the_spike_counts(results) -> None:
    neo = pytest.importorskip("neo")
    block = results.to_neo()
    assert isinstance(block, neo.Block) and len(block.segments) == 1
    trains = block.segments[0].spiketrains
    assert len(trains) == sum(st.size for st in results.spikes.values()) == 8
    for pop, st in results.spikes.items():
        for k, want in enumerate(st.trains()):
            (train,) = [t for t in trains if t.annotations["population"] == pop and t.annotations["neuron"] == k]
            assert len(train) == len(want)
            np.testing.assert_allclose(train.rescale("ms").magnitude, want)
            assert float(train.t_stop.rescale("ms")) >= 40.0 - 1e-9
    assert sum(len(t) for t in trains) == sum(len(st) for st in results.spikes.values())
    signals = {s.name: s for s in block.segments[0].analogsignals}
    assert set(signals) == {"cells.v", "stim_cells.weight"}
    assert signals["cells.v"].shape == (80, 5) and str(signals["cells.v"].units.dimensionality) == "mV"
    assert float(signals["cells.v"].sampling_period.rescale("ms")) == pytest.approx(0.5)
    assert block.annotations["network_digest"] == small_network().digest()
