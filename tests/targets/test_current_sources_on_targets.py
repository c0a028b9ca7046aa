"""Current sources on every target: the closed-form membrane, NEST, Norse, CUDA code, refusals."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from spikemem import (
    AllToAll,
    DCSource,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Injection,
    Network,
    Population,
    Probe,
    Projection,
    SpikeSource,
    Static,
    StepCurrentSource,
    UnsupportedFeature,
    simulate,
)

DT = 0.1
CELL = IF_curr_exp(tau_m=20.0, cm=1.0, tau_refrac=2.0, v_thresh=-60.0)


def driven(extra_cells: bool = True) -> Network:
    """Cells driven by a DC pulse, a step source and synaptic input together; some of them fire."""
    pops = [Population("a", 3, CELL), SpikeSource("s", [[4.0, 9.0, 9.5], [12.0]])]  # 2: pyNN.brian2 fails on 1
    currents = [
        Injection("dc", DCSource(amplitude=0.6, start=5.0, stop=30.0), "a", [0, 1]),
        Injection("steps", StepCurrentSource([2.0, 10.0, 20.0], [0.3, 1.5, -0.2]), "a", [2]),
    ]
    if extra_cells:
        pops += [Population("d", 2, IF_curr_delta(tau_m=10.0, tau_refrac=1.0, v_thresh=-62.0))]
        currents += [Injection("d_dc", DCSource(amplitude=0.8, start=3.0), "d", [1])]
    projections = [Projection("sa", "s", "a", AllToAll(), Static(0.8, 1.0))]
    probes = [Probe("a"), Probe("a", "v")] + ([Probe("d"), Probe("d", "v")] if extra_cells else [])
    return Network(pops, projections, probes, dt=DT, currents=currents)


def test_a_dc_pulse_moves_v_as_the_closed_form_says():
    """v(t) = v_rest + a τ_m/c_m (1 - e^{-(t - T)/τ_m}) from the onset T (then decays after the stop)."""
    cell = IF_curr_exp(tau_m=20.0, cm=0.5, v_thresh=0.0)
    net = Network(
        [Population("a", 1, cell)],
        probes=[Probe("a", "v")],
        dt=DT,
        currents=[Injection("dc", DCSource(amplitude=0.4, start=2.0, stop=6.0), "a")],
    )
    res = simulate(net, 10.0, target="brian2:numpy")
    t, v = res.traces["a.v"].times, res.traces["a.v"].values[:, 0]
    gain = 0.4 * 20.0 / 0.5
    rising = gain * (1 - np.exp(-np.clip(t - 2.0, 0, 4.0) / 20.0))
    expected = -65.0 + rising * np.exp(-np.clip(t - 6.0, 0, None) / 20.0)
    np.testing.assert_allclose(v, expected, atol=1e-9)
    assert v[20] == -65.0 and v[21] > -65.0  # the current drives the step from 2.0 ms: v moves at 2.1 ms


def test_a_step_current_into_a_delta_cell_as_the_closed_form_says():
    cell = IF_curr_delta(tau_m=10.0, cm=1.0, v_thresh=0.0)
    net = Network(
        [Population("d", 1, cell)],
        probes=[Probe("d", "v")],
        dt=DT,
        currents=[Injection("st", StepCurrentSource([1.0, 3.0], [0.5, 1.0]), "d")],
    )
    v = simulate(net, 5.0, target="brian2:numpy").traces["d.v"].values[:, 0] + 65.0
    expected = [5.0 * (1 - math.exp(-max(k * DT - 1.0, 0) / 10.0)) for k in range(31)]
    np.testing.assert_allclose(v[:31], expected, atol=1e-9)
    u3 = expected[30]
    expected2 = [10.0 + (u3 - 10.0) * math.exp(-(k * DT - 3.0) / 10.0) for k in range(30, 50)]
    np.testing.assert_allclose(v[30:50], expected2, atol=1e-9)


@pytest.fixture(scope="module")
def brian2_run():
    return simulate(driven(), 40.0, target="brian2:numpy")


def test_the_cells_fire_from_their_currents(brian2_run):
    counts = np.bincount(brian2_run.spikes["a"].indices, minlength=3)
    assert counts[0] == counts[1] > 0 and counts[2] > 0
    assert len(brian2_run.spikes["d"]) > 0 and set(brian2_run.spikes["d"].indices.tolist()) == {1}


@pytest.mark.nest
def test_nest_gives_the_same_membrane_and_spikes(brian2_run):
    pytest.importorskip("pyNN.nest", reason="needs NEST (pip install 'spikemem[pynn]')")
    nest = simulate(driven(), 40.0, target="pynn:nest")
    for pop in ("a", "d"):
        assert np.array_equal(nest.spikes[pop].steps(DT), brian2_run.spikes[pop].steps(DT)), pop
        assert np.array_equal(nest.spikes[pop].indices, brian2_run.spikes[pop].indices), pop
    np.testing.assert_allclose(nest.traces["a.v"].values, brian2_run.traces["a.v"].values, atol=1e-9)
    np.testing.assert_allclose(nest.traces["d.v"].values, brian2_run.traces["d.v"].values, atol=1e-9)


@pytest.mark.nest
def test_conductance_cells_take_the_current_as_nest_does():
    """NEST integrates IF_cond_exp with an adaptive solver, the brian2 target by exponential Euler."""
    pytest.importorskip("pyNN.nest", reason="needs NEST (pip install 'spikemem[pynn]')")
    net = Network(
        [Population("c", 2, IF_cond_exp(tau_refrac=2.0, v_thresh=-60.0))],
        probes=[Probe("c"), Probe("c", "v")],
        dt=DT,
        currents=[Injection("st", StepCurrentSource([1.0, 6.0], [0.4, 1.2]), "c", [1])],
    )
    ours, nest = simulate(net, 30.0, target="brian2:numpy"), simulate(net, 30.0, target="pynn:nest")
    np.testing.assert_allclose(nest.traces["c.v"].values[:, 0], -65.0)
    assert len(ours.spikes["c"]) > 0
    assert np.array_equal(nest.spikes["c"].steps(DT), ours.spikes["c"].steps(DT))
    np.testing.assert_allclose(nest.traces["c.v"].values, ours.traces["c.v"].values, atol=2e-3)


def test_norse_gives_brian2s_spikes_and_membrane(brian2_run):
    pytest.importorskip("norse", reason="needs norse (pip install 'spikemem[torch]')")
    res = simulate(driven(), 40.0, target="norse")
    for pop in ("a", "d"):
        assert np.array_equal(res.spikes[pop].steps(DT), brian2_run.spikes[pop].steps(DT)), pop
    np.testing.assert_allclose(res.traces["a.v"].values, brian2_run.traces["a.v"].values, atol=1e-9)
    np.testing.assert_allclose(res.traces["d.v"].values, brian2_run.traces["d.v"].values, atol=1e-9)


def test_the_spinnaker_update_takes_the_current_over_the_step():
    """sPyNNaker's discrete update with the current held over the step: the closed form
    v_k = α - e^{-dt/τ_m}(α - v_{k-1}), α = v_rest + τ_m a / c_m, from the onset step on."""
    cell = IF_curr_exp(tau_m=20.0, cm=1.0, v_thresh=0.0, integration="spinnaker")
    net = Network(
        [Population("a", 1, cell)],
        probes=[Probe("a", "v")],
        dt=1.0,
        currents=[Injection("dc", DCSource(amplitude=0.5, start=3.0), "a")],
    )
    v = simulate(net, 10.0, target="brian2:numpy").traces["a.v"].values[:, 0]
    alpha, decay = -65.0 + 20.0 * 0.5, math.exp(-1.0 / 20.0)
    expected = [-65.0] * 4
    for _ in range(6):
        expected.append(alpha - decay * (alpha - expected[-1]))
    np.testing.assert_allclose(v, expected, atol=1e-9)


def test_targets_without_current_sources_refuse_them():
    from spikemem.hardware.nir.target import inexpressible
    from spikemem.hardware.norse.nir import chain

    net = driven(extra_cells=False)
    assert any("current source 'dc'" in line for line in inexpressible(net))
    with pytest.raises(UnsupportedFeature, match="current source 'dc'"):
        chain(net)


@pytest.mark.skipif(importlib.util.find_spec("brian2cuda") is None, reason="brian2cuda is not installed")
def test_cuda_project_reads_the_currents(tmp_path):
    from spikemem.hardware import cuda

    folder = cuda.export(driven(), tmp_path / "proj", duration_ms=20.0)
    step = {p.stem: p.read_text() for p in (folder / "code_objects").glob("*_step_codeobject.cu")}
    assert "dc_current(t)" in step["a_step_codeobject"] and "steps_current(t)" in step["a_step_codeobject"]
    assert "d_dc_current(t)" in step["d_step_codeobject"]


@pytest.mark.spinnaker
def test_spinnaker_maps_the_current_sources(tmp_path):
    pytest.importorskip("spynnaker", reason="needs sPyNNaker (pip install 'spikemem[spinnaker]')")
    cell = IF_curr_exp(integration="spinnaker")
    net = Network(
        [SpikeSource("s", [[1.0, 5.0]]), Population("a", 4, cell)],
        [Projection("p", "s", "a", AllToAll(), Static(1.0, 1.0))],
        [Probe("a")],
        dt=1.0,
        currents=[
            Injection("dc", DCSource(0.5, 2.0, 10.0), "a", [1, 2]),
            Injection("st", StepCurrentSource([3.0, 6.0], [0.2, 0.4]), "a"),
        ],
    )
    res = simulate(net, 20.0, target="spinnaker", virtual=True, workdir=str(tmp_path))
    assert res.provenance["spinnaker_mapping"]["cores_per_population"] == {"s": 1, "a": 1}


@pytest.mark.parametrize(
    "simulator", [pytest.param("brian2"), pytest.param("nest", marks=pytest.mark.nest)], ids=["brian2", "nest"]
)
def test_exported_script_injects_the_currents(simulator, tmp_path, brian2_run):
    """``python net.py --simulator X`` (plain PyNN) gives the brian2 target's spikes."""
    from _scenarios import run_script

    from spikemem.hardware.pynn.backends import BACKENDS
    from spikemem.hardware.pynn.script import write_script

    pytest.importorskip(BACKENDS[simulator].requires)
    net = driven(extra_cells=False)
    script, _ = write_script(net, tmp_path / "net.py", duration_ms=40.0)
    assert "sim.DCSource(amplitude=0.6, start=5.0 + OFFSET, stop=30.0 + OFFSET)" in script.read_text()
    got = run_script(script, simulator)
    expected = brian2_run.spikes["a"]
    assert np.array_equal(np.rint(got["a_times"] / DT), expected.steps(DT))
    assert np.array_equal(got["a_indices"], expected.indices)
