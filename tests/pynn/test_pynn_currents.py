"""PyNN's DCSource and StepCurrentSource through spikemem.pynn, against pyNN.nest."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyNN", reason="needs PyNN (pip install 'spikemem[pynn]')")
pytest.importorskip("brian2", reason="needs brian2")

import spikemem.pynn as sm  # noqa: E402
from spikemem.errors import UnsupportedFeature, ValidationError  # noqa: E402
from spikemem.pynn import simulator  # noqa: E402

DT = 0.1


def scenario(sim):
    """Current-based and conductance-based cells driven by current sources alone (no synapses)."""
    if sim is sm:
        sim.setup(timestep=DT, min_delay=DT, target="brian2:numpy")
    else:
        sim.setup(timestep=DT, min_delay=DT, spike_precision="on_grid")
    cells = sim.Population(3, sim.IF_curr_exp(tau_refrac=2.0, v_thresh=-60.0), label="cells")
    cond = sim.Population(2, sim.IF_cond_exp(tau_refrac=2.0, v_thresh=-60.0), label="cond")
    sim.DCSource(amplitude=0.6, start=5.0, stop=30.0).inject_into(cells[0:2])
    steps = sim.StepCurrentSource(times=[2.0, 10.0, 20.0], amplitudes=[0.3, 1.5, 0.2])
    steps.inject_into(cells[[2]])
    cond.inject(steps)
    cells.record(["spikes", "v"])
    cond.record(["spikes", "v"])
    sim.run(40.0)
    out = {}
    for pop in (cells, cond):
        seg = pop.get_data().segments[0]
        out[pop.label] = (
            [np.asarray(st.magnitude) for st in seg.spiketrains],
            np.asarray(seg.analogsignals[0].magnitude),
        )
    sim.end()
    return out


@pytest.fixture(scope="module")
def runs():
    nest = pytest.importorskip("pyNN.nest", reason="needs NEST (pip install 'spikemem[pynn]')")
    return scenario(sm), scenario(nest)


@pytest.mark.nest
def test_currents_move_v_and_fire_cells_as_on_nest(runs):
    """v and spikes equal NEST's (PyNN's dialect stamps a spike at the end of its step, as NEST)."""
    ours, nest = runs
    trains, v = ours["cells"]
    nest_trains, nest_v = nest["cells"]
    np.testing.assert_allclose(v, nest_v, atol=1e-9)
    assert sum(map(len, trains)) >= 3
    for a, b in zip(trains, nest_trains, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)
    trains_c, vc = ours["cond"]
    assert [t.tolist() for t in trains_c] == [t.tolist() for t in nest["cond"][0]]
    np.testing.assert_allclose(vc, nest["cond"][1], atol=2e-3)  # NEST's adaptive solver vs exponential Euler


def test_a_current_from_0_ms_drives_the_first_step():
    """pyNN.nest cannot: it starts NEST's generators one step early, and at 0 ms there is none."""
    sm.setup(timestep=DT, min_delay=DT, target="brian2:numpy")
    cells = sm.Population(1, sm.IF_curr_exp(tau_m=20.0, cm=1.0, v_thresh=0.0))
    source = sm.StepCurrentSource(times=[0.0], amplitudes=[1.0])
    source.inject_into(cells)
    source.record()
    cells.record("v")
    sm.run(1.0)
    v = np.asarray(cells.get_data().segments[0].analogsignals[0].magnitude)[:, 0]
    np.testing.assert_allclose(v, -65.0 + 20.0 * (1 - np.exp(-np.arange(11) * DT / 20.0)), atol=1e-9)
    current = source.get_data()
    assert np.asarray(current.magnitude).reshape(-1).tolist() == [1.0] * 11
    sm.end()


def test_changing_a_source_between_runs_needs_a_reset():
    sm.setup(timestep=DT, min_delay=DT, target="brian2:numpy")
    cells = sm.Population(2, sm.IF_curr_exp(v_thresh=-60.0))
    source = sm.DCSource(amplitude=1.0, start=1.0)
    source.inject_into(cells)
    cells.record("spikes")
    sm.run(20.0)
    first = [np.asarray(st.magnitude) for st in cells.get_data().segments[0].spiketrains]
    assert all(len(t) > 0 for t in first)
    source.amplitude = 2.0
    with pytest.raises(UnsupportedFeature, match="reset"):
        sm.run(10.0)
    sm.reset()
    sm.run(20.0)
    second = [np.asarray(st.magnitude) for st in cells.get_data().segments[-1].spiketrains]
    assert len(second[0]) > len(first[0])  # twice the current, more spikes
    assert simulator.state.lowered.network.currents[0].source.amplitude == 2.0
    sm.end()


def test_bad_sources_are_refused_naming_the_field():
    sm.setup(timestep=DT, target="brian2:numpy")
    cells = sm.Population(2, sm.IF_curr_exp())
    src = sm.Population(1, sm.SpikeSourceArray(spike_times=[1.0]))
    with pytest.raises(ValidationError, match="DCSource.inject_into"):
        sm.DCSource(amplitude=1.0).inject_into(src)
    sm.StepCurrentSource(times=[3.0, 1.0], amplitudes=[1.0, 2.0]).inject_into(cells)
    with pytest.raises(ValidationError, match="StepCurrentSource.times"):
        sm.run(5.0)
    sm.end()


def test_other_current_sources_are_refused_by_name():
    sm.setup(timestep=DT)
    for name in ("ACSource", "NoisyCurrentSource"):
        with pytest.raises(UnsupportedFeature, match=name):
            getattr(sm, name)(amplitude=1.0) if name == "ACSource" else getattr(sm, name)(mean=1.0)
    sm.end()
