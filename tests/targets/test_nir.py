"""NIR export and import: conventions, round trips (parameters and spikes), refusals."""

from __future__ import annotations

import numpy as np
import pytest

from spikemem import (
    STDP,
    AllToAll,
    FromList,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Network,
    OneToOne,
    Poisson,
    Population,
    Probe,
    Projection,
    SpikeSource,
    Static,
    UnsupportedFeature,
    ValidationError,
    simulate,
)
from spikemem.hardware import nir as nir_target

nir = pytest.importorskip("nir")

DT = 0.1


def network(tau_refrac: float = 0.0, initial_v=None) -> Network:
    """Everything NIR expresses: current-based cells with an offset current, both
    receptors (one synaptic time constant), per-synapse delays, a recurrent projection,
    spike times and a Poisson source."""
    rng = np.random.default_rng(0)
    trains = [np.sort(rng.uniform(0.0, 100.0, 15)) for _ in range(8)]
    cell = IF_curr_exp(
        cm=0.5, tau_m=10.0, tau_refrac=tau_refrac, tau_syn_E=2.0, tau_syn_I=2.0, v_reset=-70.0, v_thresh=-55.0
    )
    drive = cell.replace(i_offset=0.3, tau_syn_I=7.0)  # receives excitation only: its tau_syn_I is unused
    pairs = rng.permutation(48)[:30]
    rows = np.column_stack([pairs // 6, pairs % 6, rng.uniform(0.5, 1.5, 30), rng.choice([1.0, 2.0, 3.5], 30)])
    return Network(
        [
            SpikeSource("src", trains),
            Population("noise", 3, Poisson(rate_hz=50.0, seed=4)),
            Population("a", 6, cell, initial_v=initial_v),
            Population("b", 4, drive),
        ],
        [
            Projection("src_a", "src", "a", FromList(rows), Static(1.0, 1.0)),
            Projection("noise_b", "noise", "b", AllToAll(), Static(0.7, 0.5)),
            Projection("a_b", "a", "b", AllToAll(), Static(0.8, 1.5)),
            Projection("b_a", "b", "a", AllToAll(), Static(0.4, 2.0), "inhibitory"),
            Projection("a_a", "a", "a", AllToAll(allow_self_connections=False), Static(0.2, 1.0), "inhibitory"),
        ],
        [Probe("a"), Probe("b"), Probe("a", "v")],
        dt=DT,
        name="nir_roundtrip",
    )


def synapse_set(net: Network, proj: Projection) -> list[tuple]:
    c = net.connections(proj)
    return sorted(zip(c.i.tolist(), c.j.tolist(), np.round(c.weight, 12).tolist(), np.round(c.delay, 12).tolist()))


def assert_same_spikes(a, b) -> None:
    for name in a.spikes:
        assert len(a.spikes[name]) > 0
        assert np.array_equal(a.spikes[name].steps(DT), b.spikes[name].steps(DT)), name
        assert np.array_equal(a.spikes[name].indices, b.spikes[name].indices), name


def test_conventions_in_the_file(tmp_path):
    """Seconds, R = tau_m/cm, v_leak = v_rest + R i_offset, weights w * tau_syn (signed),
    one Linear + Delay per distinct delay; readable by nir.read with type_check=False."""
    net = network()
    path = nir_target.export(net, tmp_path / "net.nir")
    assert nir.serialization.read_version(path) == "1.0.8"
    graph = nir.read(path, type_check=False)
    b = graph.nodes["b"]
    assert isinstance(b, nir.CubaLIF)
    np.testing.assert_allclose(b.tau_mem, 0.010)
    np.testing.assert_allclose(b.tau_syn, 0.002)
    np.testing.assert_allclose(b.r, 20.0)
    np.testing.assert_allclose(b.v_leak, -65.0 + 20.0 * 0.3)
    inhibitory = graph.nodes["b_a"].weight
    assert inhibitory.shape == (6, 4)
    np.testing.assert_allclose(inhibitory, -0.4 * 0.002)
    np.testing.assert_allclose(graph.nodes["b_a__delay"].delay, 0.002)
    delays = sorted(float(graph.nodes[k].delay[0]) for k in graph.nodes if k.startswith("src_a__d") and "delay" in k)
    assert delays == pytest.approx([0.001, 0.002, 0.0035])
    assert ("a", "a_a") in graph.edges and ("a_a__delay", "a") in graph.edges  # recurrent
    assert isinstance(graph.nodes["a__output"], nir.Output)


def test_round_trip_preserves_parameters_and_spikes(tmp_path):
    net = network()
    back = nir_target.read_network(nir_target.export(net, tmp_path / "net.nir"))
    assert back.dt == net.dt and back.name == net.name
    for pop in net.populations:
        assert back.population(pop.name).cell == pop.cell, pop.name if pop.is_source else pop.cell
    for proj in net.projections:
        got = back.projection(proj.name)
        assert got.receptor == proj.receptor
        assert synapse_set(back, got) == synapse_set(net, proj)
    assert [(p.target, p.variable) for p in back.probes] == [(p.target, p.variable) for p in net.probes]
    ref, res = simulate(net, 100.0, target="brian2:numpy", seed=2), simulate(back, 100.0, target="brian2:numpy", seed=2)
    assert_same_spikes(ref, res)
    np.testing.assert_allclose(res.traces["a.v"].values, ref.traces["a.v"].values, atol=1e-9)


def test_refractory_period_and_initial_state_need_strict_false(tmp_path):
    net = network(tau_refrac=2.0, initial_v=np.linspace(-65.0, -56.0, 6))
    with pytest.raises(UnsupportedFeature, match="no refractory period.*no initial state"):
        nir_target.export(net, tmp_path / "x.nir")
    back = nir_target.read_network(nir_target.export(net, tmp_path / "x.nir", strict=False))
    assert back.population("a").cell.tau_refrac == 2.0
    np.testing.assert_array_equal(back.population("a").initial_v, np.linspace(-65.0, -56.0, 6))
    assert_same_spikes(simulate(net, 100.0, target="brian2:numpy"), simulate(back, 100.0, target="brian2:numpy"))


def plastic() -> Network:
    stdp = STDP(weight=0.5, delay=1.0, w_max=1.0, A_plus=0.05, A_minus=0.05)
    return Network(
        [SpikeSource("s", [[1.0, 4.0], [2.0]]), Population("c", 3, IF_curr_exp(tau_refrac=0.0))],
        [Projection("learn", "s", "c", AllToAll(), stdp)],
        [Probe("c")],
        dt=DT,
    )


def test_plasticity_is_refused_unless_frozen(tmp_path):
    with pytest.raises(UnsupportedFeature, match="plastic, and NIR has no plasticity: pass freeze_plasticity=True"):
        nir_target.export(plastic(), tmp_path / "p.nir")
    graph = nir_target.to_nir(plastic(), freeze_plasticity=True)
    np.testing.assert_allclose(graph.nodes["learn"].weight, 0.5 * 0.005)  # current weights, static
    learned = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])  # in Network.connections order: (i, j) row-major
    graph = nir_target.to_nir(plastic(), freeze_plasticity=True, weights={"learn": learned})
    np.testing.assert_allclose(graph.nodes["learn"].weight, learned.reshape(2, 3).T * 0.005)
    back = nir_target.from_nir(graph)
    assert isinstance(back.projection("learn").synapse, Static)
    with pytest.raises(ValidationError, match="one weight per synapse"):
        nir_target.to_nir(plastic(), freeze_plasticity=True, weights={"learn": learned[:3]})


@pytest.mark.parametrize(
    ("cell", "receptors", "match"),
    [
        (IF_cond_exp(), ("excitatory",), "no conductance-based neuron"),
        (IF_curr_exp(tau_refrac=0.0, integration="spinnaker"), ("excitatory",), "continuous-time"),
        (IF_curr_exp(tau_refrac=0.0, tau_syn_E=2.0, tau_syn_I=5.0), ("excitatory", "inhibitory"), "one synaptic"),
    ],
)
def test_what_nir_cannot_express_is_refused(cell, receptors, match, tmp_path):
    net = Network(
        [SpikeSource("s", [[1.0]]), Population("c", 1, cell)],
        [Projection(f"p_{r}", "s", "c", OneToOne(), Static(1.0, 1.0), r) for r in receptors],
        [],
        dt=DT,
    )
    with pytest.raises(UnsupportedFeature, match=match):
        nir_target.export(net, tmp_path / "x.nir")


def test_nir_is_not_a_simulator():
    with pytest.raises(UnsupportedFeature, match="interchange format"):
        simulate(network(), 1.0, target="nir")


def test_import_of_a_hand_written_graph():
    """A graph written with nir alone (no Delay node: the minimal one-step delay), checked
    against the same network written in spikemem."""
    n = 3
    graph = nir.NIRGraph(
        nodes={
            "inp": nir.Input(np.array([2])),
            "w": nir.Linear(weight=np.array([[3.0, 0.0], [0.0, -1.0], [2.0, 2.0]]) * 0.005),
            "lif": nir.CubaLIF(
                tau_syn=np.full(n, 0.005),
                tau_mem=np.full(n, 0.02),
                r=np.full(n, 20.0),
                v_leak=np.full(n, -65.0),
                v_threshold=np.full(n, -50.0),
                v_reset=np.full(n, -65.0),
            ),
            "out": nir.Output(np.array([n])),
        },
        edges=[("inp", "w"), ("w", "lif"), ("lif", "out")],
        type_check=False,
    )
    net = nir_target.from_nir(graph, dt=DT)
    lif = net.population("lif").cell
    assert (lif.cm, lif.tau_m, lif.tau_syn_E, lif.tau_refrac) == pytest.approx((1.0, 20.0, 5.0, 0.0))
    exc, inh = net.projection("w_excitatory"), net.projection("w_inhibitory")
    assert synapse_set(net, exc) == [(0, 0, 3.0, DT), (0, 2, 2.0, DT), (1, 2, 2.0, DT)]
    assert synapse_set(net, inh) == [(1, 1, 1.0, DT)]
    assert [(p.target, p.variable) for p in net.probes] == [("lif", "spikes")]
    with pytest.raises(UnsupportedFeature, match="of type IF.*imports Input, CubaLIF, LIF"):
        nir_target.from_nir(
            nir.NIRGraph(nodes={"x": nir.IF(np.ones(1), np.ones(1), np.zeros(1))}, edges=[], type_check=False)
        )


# --- IF_curr_delta as NIR's LIF --------------------------------------------------------------


def delta_network(tau_refrac: float = 0.0, initial_v=None) -> Network:
    """Delta-synapse cells with an offset current, both receptors onto one population,
    per-synapse delays, a recurrent projection, spike times and a Poisson source."""
    rng = np.random.default_rng(3)
    trains = [np.sort(rng.uniform(0.0, 100.0, 20)) for _ in range(8)]
    cell = IF_curr_delta(cm=0.5, tau_m=10.0, tau_refrac=tau_refrac, v_reset=-70.0, v_thresh=-55.0)
    drive = cell.replace(i_offset=0.4, tau_m=20.0, cm=2.0)
    pairs = rng.permutation(48)[:30]
    rows = np.column_stack([pairs // 6, pairs % 6, rng.uniform(3.0, 7.0, 30), rng.choice([0.5, 1.0, 2.5], 30)])
    return Network(
        [
            SpikeSource("src", trains),
            Population("noise", 3, Poisson(rate_hz=60.0, seed=4)),
            Population("a", 6, cell, initial_v=initial_v),
            Population("b", 4, drive),
        ],
        [
            Projection("src_a", "src", "a", FromList(rows), Static(1.0, 1.0)),
            Projection("noise_b", "noise", "b", AllToAll(), Static(4.0, 0.5)),
            Projection("a_b", "a", "b", AllToAll(), Static(3.0, 1.5)),
            Projection("b_a", "b", "a", AllToAll(), Static(2.5, 2.0), "inhibitory"),
            Projection("a_a", "a", "a", AllToAll(allow_self_connections=False), Static(1.5, 1.0), "inhibitory"),
        ],
        [Probe("a"), Probe("b"), Probe("a", "v")],
        dt=DT,
        name="nir_delta_roundtrip",
    )


def test_delta_cells_become_lif_nodes(tmp_path):
    """tau = tau_m/1000 s, R = tau_m/cm, v_leak = v_rest + R i_offset; a Linear weight W onto a
    LIF moves v by R W / tau: spikemem's w mV (inhibitory ones negative)."""
    net = delta_network()
    graph = nir.read(nir_target.export(net, tmp_path / "delta.nir"), type_check=False)
    b = graph.nodes["b"]
    assert isinstance(b, nir.LIF) and not isinstance(graph.nodes["a"], nir.CubaLIF)
    np.testing.assert_allclose(b.tau, 0.020)
    np.testing.assert_allclose(b.r, 10.0)
    np.testing.assert_allclose(b.v_leak, -65.0 + 10.0 * 0.4)
    np.testing.assert_array_equal(b.v_threshold, -55.0)
    np.testing.assert_array_equal(b.v_reset, -70.0)
    a = graph.nodes["a"]
    jump = a.r[0] * graph.nodes["b_a"].weight / a.tau[0]  # mV per spike of b onto a
    np.testing.assert_allclose(jump, -2.5, rtol=1e-12)
    np.testing.assert_allclose(b.r[0] * graph.nodes["a_b"].weight / b.tau[0], 3.0, rtol=1e-12)


def test_delta_round_trip_preserves_parameters_and_spikes(tmp_path):
    net = delta_network()
    back = nir_target.read_network(nir_target.export(net, tmp_path / "delta.nir"))
    for pop in net.populations:
        assert back.population(pop.name).cell == pop.cell, pop.name
    assert isinstance(back.population("a").cell, IF_curr_delta)
    for proj in net.projections:
        got = back.projection(proj.name)
        assert got.receptor == proj.receptor
        assert synapse_set(back, got) == synapse_set(net, proj)
    ref, res = simulate(net, 100.0, target="brian2:numpy", seed=2), simulate(back, 100.0, target="brian2:numpy", seed=2)
    assert len(ref.spikes["a"]) > 30 and len(ref.spikes["b"]) > 30
    assert_same_spikes(ref, res)
    np.testing.assert_allclose(res.traces["a.v"].values, ref.traces["a.v"].values, atol=1e-9)


def test_delta_refractory_period_and_initial_state_need_strict_false(tmp_path):
    net = delta_network(tau_refrac=1.0, initial_v=np.linspace(-65.0, -57.0, 6))
    with pytest.raises(UnsupportedFeature, match="NIR's LIF has no refractory period.*no initial state"):
        nir_target.export(net, tmp_path / "x.nir")
    back = nir_target.read_network(nir_target.export(net, tmp_path / "x.nir", strict=False))
    assert back.population("a").cell == net.population("a").cell
    np.testing.assert_array_equal(back.population("a").initial_v, np.linspace(-65.0, -57.0, 6))
    ref, res = simulate(net, 100.0, target="brian2:numpy"), simulate(back, 100.0, target="brian2:numpy")
    assert_same_spikes(ref, res)


def test_import_of_a_hand_written_lif_graph():
    """A LIF graph written with nir alone: IF_curr_delta cells, weights W r / tau mV."""
    graph = nir.NIRGraph(
        nodes={
            "inp": nir.Input(np.array([2])),
            "w": nir.Linear(weight=np.array([[4.0, 0.0], [0.0, -2.0]]) * 0.001),
            "lif": nir.LIF(
                tau=np.full(2, 0.02),
                r=np.full(2, 20.0),
                v_leak=np.full(2, -60.0),
                v_threshold=np.full(2, -50.0),
                v_reset=np.full(2, -65.0),
            ),
        },
        edges=[("inp", "w"), ("w", "lif")],
        type_check=False,
    )
    net = nir_target.from_nir(graph, dt=DT)
    cell = net.population("lif").cell
    assert cell == IF_curr_delta(cm=1.0, tau_m=20.0, tau_refrac=0.0, v_rest=-60.0, v_reset=-65.0, v_thresh=-50.0)
    assert synapse_set(net, net.projection("w_excitatory")) == [(0, 0, 4.0, DT)]
    assert synapse_set(net, net.projection("w_inhibitory")) == [(1, 1, 2.0, DT)]
