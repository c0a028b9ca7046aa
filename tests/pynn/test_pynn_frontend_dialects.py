"""sPyNNaker's dialect, and what spikemem.pynn refuses (naming the PyNN type or feature) before running."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyNN", reason="needs PyNN (pip install 'spikemem[pynn]')")
pytest.importorskip("brian2", reason="needs brian2")

from pyNN.errors import ConnectionError as PyNNConnectionError  # noqa: E402
from pyNN.errors import RecordingError  # noqa: E402

import spikemem.pynn as sm  # noqa: E402
import spikemem.pynn.spinnaker as spin  # noqa: E402
from spikemem.errors import UnsupportedFeature, ValidationError  # noqa: E402
from spikemem.pynn import simulator  # noqa: E402

TARGET = "brian2:numpy"
CELL = dict(
    cm=0.27, tau_m=3.0, v_rest=-60.0, v_reset=-60.0, v_thresh=-57.0, tau_refrac=1.0, tau_syn_E=0.3, tau_syn_I=0.3
)


# --- sPyNNaker's dialect ------------------------------------------------------------------


def test_spinnaker_setup_defaults_to_a_1ms_step():
    spin.setup(target=TARGET)
    assert spin.get_time_step() == 1.0
    spin.end()


def test_set_v_sets_the_initial_potential_and_spikes_at_0_are_emitted():
    spin.setup(target=TARGET)
    src = spin.Population(1, spin.SpikeSourceArray(spike_times=[[0.0, 5.0]]), label="src")
    cells = spin.Population(2, spin.IF_curr_exp(**CELL), label="cells")
    cells.set(v=-58.5)
    spin.Projection(src, cells, spin.AllToAllConnector(), spin.StaticSynapse(weight=6.0, delay=1.0))
    src.record("spikes")
    cells.record(["spikes", "v"])
    spin.run(10.0)
    v = cells.get_data("v").segments[0].analogsignals[0].magnitude
    assert v.shape == (10, 2)  # sPyNNaker records steps 0 ... T - dt
    assert v[0] == pytest.approx([-58.5, -58.5])
    assert src.get_data().segments[0].spiketrains[0].magnitude.tolist() == [0.0, 5.0]
    # a weight of 6 onto class-A cells fires them one step after arrival (spec/ca3.md §2.3)
    assert [st.magnitude.tolist() for st in cells.get_data("spikes").segments[0].spiketrains] == [[1.0, 6.0]] * 2
    spin.end()


def _inhibited_spikes(sim, inhibitory_weight: float) -> int:
    sim.setup(timestep=1.0, target=TARGET)
    drive = sim.Population(2, sim.SpikeSourceArray(spike_times=[[1.0, 5.0, 9.0], []]), label="drive")
    cells = sim.Population(2, sim.IF_curr_exp(**CELL), label="cells")
    sim.Projection(drive, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=6.0, delay=1.0))
    if inhibitory_weight:
        sim.Projection(
            drive,
            cells,
            sim.OneToOneConnector(),
            sim.StaticSynapse(weight=inhibitory_weight, delay=1.0),
            receptor_type="inhibitory",
        )
    cells.record("spikes")
    sim.run(12.0)
    n = len(cells.get_data().segments[0].spiketrains[0])
    sim.end()
    return n


def test_positive_inhibitory_weights_inhibit_in_the_spinnaker_dialect():
    assert _inhibited_spikes(spin, 0.0) == 3
    assert _inhibited_spikes(spin, 6.0) == 0  # +6 on the inhibitory receptor cancels +6 excitation


def test_negative_weights_are_refused_in_the_spinnaker_dialect():
    spin.setup(target=TARGET)
    a = spin.Population(2, spin.SpikeSourceArray(spike_times=[[1.0], []]), label="a")
    b = spin.Population(2, spin.IF_curr_exp(**CELL), label="b")
    with pytest.raises(ValidationError, match="weight"):
        spin.Projection(a, b, spin.OneToOneConnector(), spin.StaticSynapse(weight=-6.0), receptor_type="inhibitory")
    spin.end()


def test_pynn_dialect_keeps_pynns_sign_convention():
    """PyNN: inhibitory weights onto current-based cells are negative; the same circuit with -6 inhibits."""
    with pytest.raises(PyNNConnectionError, match="negative"):
        _inhibited_spikes(sm, 6.0)
    sm.end()
    assert _inhibited_spikes(sm, -6.0) < _inhibited_spikes(sm, 0.0)


def test_delta_cells_have_no_spinnaker_semantics():
    spin.setup(target=TARGET)
    cells = spin.Population(1, spin.IF_curr_delta(), label="cells")
    cells.record("spikes")
    with pytest.raises(UnsupportedFeature, match="IF_curr_delta"):
        spin.run(5.0)
    spin.end()


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: sm.IF_curr_alpha(),
        lambda: sm.Izhikevich(),
        lambda: sm.ACSource(amplitude=0.5),
        lambda: sm.StochasticTsodyksMarkramSynapse(U=0.5),
        lambda: sm.GutigWeightDependence(),
    ],
    ids=["IF_curr_alpha", "Izhikevich", "ACSource", "StochasticTsodyksMarkramSynapse", "GutigWeightDependence"],
)
def test_types_the_description_lacks_are_refused_by_name(make, request):
    sm.setup(target=TARGET)
    with pytest.raises(UnsupportedFeature, match=request.node.callspec.id):
        make()
    sm.end()


def test_every_standard_type_of_pynn_is_supported_or_refused():
    import pyNN.standardmodels.cells as cells
    import pyNN.standardmodels.electrodes as electrodes
    import pyNN.standardmodels.synapses as synapses
    from pyNN.standardmodels import StandardModelType

    names = {
        name
        for module in (cells, synapses, electrodes)
        for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, StandardModelType) and obj.__module__ == module.__name__
    }
    assert names - {"StandardModelType"} <= set(sm.SUPPORTED) | set(sm.REFUSED)
    assert all(hasattr(sm, name) for name in names)


def _stdp_projection(sim, **kw):
    pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[[1.0], [2.0]]), label="pre")
    post = sim.Population(2, sim.IF_curr_exp(), label="post")
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0),
        weight=0.5,
        delay=1.0,
        **kw,
    )
    post.record("spikes")
    return sim.Projection(pre, post, sim.AllToAllConnector(), stdp)


def test_dendritic_stdp_is_refused_with_exact_semantics_before_running():
    sm.setup(timestep=0.1, target=TARGET)
    _stdp_projection(sm)  # PyNN's default: dendritic_delay_fraction=1
    with pytest.raises(UnsupportedFeature, match="dendritic_delay_fraction"):
        sm.run(10.0)
    assert simulator.state.results is None
    sm.end()


def test_learned_weights_follow_pynns_pair_rule_with_axonal_delay():
    """One pre spike (10 ms, delay 1: it reaches the synapse at 11) then one post spike at s: PyNN's
    additive SpikePairRule gives w = w0 + A_plus * w_max * exp(-(s - 11) / tau_plus)."""
    sm.setup(timestep=0.1, target=TARGET)
    pre = sm.Population(2, sm.SpikeSourceArray(spike_times=[[10.0], []]), label="pre")
    drive = sm.Population(1, sm.SpikeSourceArray(spike_times=[[14.0]]), label="drive")
    post = sm.Population(1, sm.IF_curr_exp(tau_syn_E=1.0), label="post")
    sm.Projection(drive, post, sm.AllToAllConnector(), sm.StaticSynapse(weight=20.0, delay=1.0))
    stdp = sm.STDPMechanism(
        timing_dependence=sm.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
        weight_dependence=sm.AdditiveWeightDependence(w_min=0.0, w_max=1.0),
        weight=0.5,
        delay=1.0,
        dendritic_delay_fraction=0.0,
    )
    prj = sm.Projection(pre, post, sm.AllToAllConnector(), stdp)
    post.record("spikes")
    assert prj.get("weight", format="array")[:, 0] == pytest.approx([0.5, 0.5])
    sm.run(30.0)
    (s,) = post.get_data().segments[0].spiketrains[0].magnitude
    w = prj.get("weight", format="array")[:, 0]
    assert w[0] == pytest.approx(0.5 + 0.01 * np.exp(-(s - 11.0) / 20.0), abs=1e-12)
    assert w[1] == pytest.approx(0.5)  # no pre spike: unchanged
    sm.end()


def test_learned_weights_follow_spinnakers_deferred_rule():
    """spec/ca3.md §7.1, worked example: pre and post at 1 and 3 ms leave w = 0; the next pre spike at 8 ms
    gives w = 6 - 6 (1 + e^(-2/3)) e^(-4/3) = 3.61 (amplitudes 6 absolute, tau 3 ms, w_max 6)."""
    spin.setup(target=TARGET)
    pre = spin.Population(2, spin.SpikeSourceArray(spike_times=[[1.0, 3.0, 8.0], []]), label="pre")
    drive = spin.Population(2, spin.SpikeSourceArray(spike_times=[[0.0, 2.0], []]), label="drive")
    post = spin.Population(2, spin.IF_curr_exp(**CELL), label="post")
    post.set(v=-60.0)
    spin.Projection(drive, post, spin.OneToOneConnector(), spin.StaticSynapse(weight=6.0, delay=1.0))
    stdp = spin.STDPMechanism(
        timing_dependence=spin.SpikePairRule(tau_plus=3.0, tau_minus=3.0, A_plus=6.0, A_minus=6.0),
        weight_dependence=spin.AdditiveWeightDependence(w_min=0.0, w_max=6.0),
        weight=0.0,
        delay=1.0,
    )
    prj = spin.Projection(pre, post, spin.OneToOneConnector(), stdp)
    post.record("spikes")
    spin.run(6.0)
    assert post.get_data().segments[0].spiketrains[0].magnitude.tolist() == [1.0, 3.0]
    assert prj.get("weight", format="list", with_address=False) == pytest.approx([0.0, 0.0], abs=1e-9)
    spin.run(6.0)
    expected = 6.0 - 6.0 * (1.0 + np.exp(-2.0 / 3.0)) * np.exp(-4.0 / 3.0)
    assert prj.get("weight", format="list", with_address=False) == pytest.approx([expected, 0.0], abs=1e-9)
    assert expected == pytest.approx(3.61, abs=0.005)
    spin.end()


def test_changing_the_network_between_runs_is_refused_but_reset_allows_it():
    sm.setup(timestep=0.1, target=TARGET)
    cells = sm.Population(2, sm.IF_curr_exp(i_offset=2.0), label="cells")
    cells.record("spikes")
    sm.run(20.0)
    cells.set(i_offset=4.0)
    with pytest.raises(UnsupportedFeature, match="reset"):
        sm.run(20.0)
    sm.reset()
    sm.run(20.0)
    segments = cells.get_data().segments
    assert len(segments[1].spiketrains[0]) > len(segments[0].spiketrains[0]) > 0
    sm.end()


def test_assembly_projections_and_conductance_recording_are_refused():
    sm.setup(target=TARGET)
    a = sm.Population(2, sm.IF_cond_exp(), label="a")
    b = sm.Population(2, sm.IF_cond_exp(), label="b")
    with pytest.raises(UnsupportedFeature, match="Assembly"):
        sm.Projection(a + b, b, sm.AllToAllConnector())
    with pytest.raises(RecordingError):
        a.record("gsyn_exc")
    sm.end()


def test_an_unknown_target_is_refused_at_setup():
    with pytest.raises(ValidationError):
        sm.setup(target="no_such_target")
