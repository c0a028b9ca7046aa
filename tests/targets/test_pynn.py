"""The ``pynn`` target (pyNN.brian2, pyNN.nest) and the standalone PyNN script export.

Equality tests compare against the ``brian2`` target, which is tested against a
hand-written Brian2 model (test_brian2_system.py). The NEST STDP test checks NEST's
dendritic pair rule against the formula computed here from the recorded spike times. The
``IF_curr_delta`` tests hold both NEST and the ``brian2`` target to spike steps worked out
here from the cell's docstring, and measure what pyNN.brian2 and pyNN.nest (PyNN 0.13) do
differently, with PyNN alone.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _scenarios import run_script

from spikemem import (
    STDP,
    AllToAll,
    FixedProbability,
    FromList,
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
from spikemem.hardware import pynn as pynn_target
from spikemem.hardware.pynn.script import write_script
from spikemem.synapses import Gate, GatedWrite

pytestmark = pytest.mark.pynn

DT = 0.1


def static_network(first_spike_ms: float = 2.0) -> Network:
    """Current-based cells, both receptors, every connector (PyNN's AllToAll without
    self-connections between two populations included), per-synapse delays, a Poisson
    source, per-neuron initial potentials and an offset current."""
    rng = np.random.default_rng(4)
    trains = [np.sort(rng.uniform(first_spike_ms + 1.0, 60.0, 12)) for _ in range(8)]
    trains[0] = np.concatenate([[first_spike_ms], trains[0]])
    cell = IF_curr_exp(cm=0.5, tau_m=10.0, tau_refrac=2.0, tau_syn_E=2.0, tau_syn_I=4.0, v_thresh=-55.0)
    drive = IF_curr_exp(cm=0.5, tau_m=10.0, tau_refrac=1.0, i_offset=0.2, v_thresh=-55.0)
    pairs = rng.permutation(48)[:30]  # distinct (pre, post) pairs, see test_multapses
    rows = np.column_stack([pairs // 6, pairs % 6, rng.uniform(0.5, 1.5, 30), rng.choice([0.1, 0.7, 1.3, 2.5], 30)])
    pops = [
        SpikeSource("src", trains),
        Population("noise", 4, Poisson(rate_hz=80.0, start_ms=first_spike_ms)),
        Population("a", 6, cell, initial_v=np.linspace(-65.0, -56.0, 6)),
        Population("b", 6, drive),
    ]
    projections = [
        Projection("src_a", "src", "a", FromList(rows), Static(1.0, 1.0)),
        Projection("noise_b", "noise", "b", FixedProbability(0.6, seed=2), Static(0.9, 0.5)),
        Projection("a_b", "a", "b", OneToOne(), Static(1.2, 1.5)),
        Projection("b_a", "b", "a", AllToAll(allow_self_connections=False), Static(0.6, 2.0), "inhibitory"),
        Projection("a_a", "a", "a", AllToAll(allow_self_connections=False), Static(0.3, 1.0), "inhibitory"),
    ]
    probes = [Probe("a"), Probe("b"), Probe("src"), Probe("a", "v")]
    return Network(pops, projections, probes, dt=DT, name="pynn_static")


def plastic_network() -> Network:
    """Online additive STDP with per-synapse delays and a weight probe."""
    rng = np.random.default_rng(7)
    trains = [np.sort(rng.uniform(1.0, 80.0, 15)) for _ in range(10)]
    cell = IF_curr_exp(cm=1.0, tau_m=20.0, tau_refrac=2.0, tau_syn_E=5.0, v_thresh=-55.0)
    rows = [(0, 0, 1.0, 3.0), (1, 0, 1.2, 1.0), (2, 3, 1.3, 2.5), (5, 3, 0.4, 1.0)]
    stdp = STDP(weight=1.0, delay=1.0, w_max=2.0, A_plus=0.05, A_minus=0.06)
    return Network(
        [SpikeSource("src", trains), Population("e", 4, cell, initial_v=np.linspace(-65.0, -56.0, 4))],
        [
            Projection("all", "src", "e", AllToAll(), stdp),
            Projection("listed", "src", "e", FromList(rows), stdp),
        ],
        [Probe("e"), Probe("e", "v"), Probe("all", "weight", every_ms=10.0)],
        dt=DT,
        name="pynn_plastic",
    )


def assert_same_spikes(a, b, dt: float = DT) -> None:
    assert a.spikes.keys() == b.spikes.keys()
    for name in a.spikes:
        x, y = a.spikes[name], b.spikes[name]
        assert len(x) > 0, f"{name} is silent: the comparison would be empty"
        assert np.array_equal(x.steps(dt), y.steps(dt)) and np.array_equal(x.indices, y.indices), name


@pytest.fixture(scope="module")
def brian2_static():
    return simulate(static_network(), 60.0, target="brian2:numpy", seed=5)


@pytest.mark.parametrize(
    "variant", [pytest.param("brian2"), pytest.param("nest", marks=pytest.mark.nest)], ids=["brian2", "nest"]
)
def test_static_network_identical_to_brian2_target(variant, brian2_static):
    pytest.importorskip(pynn_target.BACKENDS[variant].requires)
    res = simulate(static_network(), 60.0, target=f"pynn:{variant}", seed=5)
    assert_same_spikes(brian2_static, res)
    np.testing.assert_allclose(res.traces["a.v"].values, brian2_static.traces["a.v"].values, atol=1e-9)
    assert res.traces["a.v"].times.shape == brian2_static.traces["a.v"].times.shape
    assert res.provenance["target"] == f"pynn:{variant}"


def test_online_stdp_on_pyNN_brian2_identical_to_brian2_target():
    pytest.importorskip("brian2")
    net = plastic_network()
    ref = simulate(net, 80.0, target="brian2:numpy")
    res = simulate(net, 80.0, target="pynn:brian2")
    assert_same_spikes(ref, res)
    assert ref.weights["all"].values.shape == res.weights["all"].values.shape == (8, 40)
    np.testing.assert_allclose(res.weights["all"].values, ref.weights["all"].values, atol=1e-12)
    assert not np.allclose(ref.weights["all"].values[-1], 1.0), "the weights must have learned something"
    assert np.array_equal(res.synapses["all"][0], ref.synapses["all"][0])


@pytest.mark.nest
def test_nest_stdp_follows_the_dendritic_pair_rule():
    """One synapse, pre spikes at 10 and 60 ms, the post neuron driven to fire once near 20 ms.

    NEST (delay d all dendritic) counts the post spike at s + d and applies the update at
    the next pre spike: w = w0 + A+ w_max e^{-(s+d-10)/tau+}, then - A- w_max e^{-(60-s-d)/tau-}.
    The 'online' (axonal) rule would use lags s - 10 - d and 60 + d - s instead.
    """
    pytest.importorskip("nest")
    d, tau, w0, w_max, a_plus, a_minus = 2.0, 15.0, 0.5, 1.0, 0.1, 0.12
    cell = IF_curr_exp(cm=1.0, tau_m=10.0, tau_refrac=30.0, tau_syn_E=1.0)
    net = Network(
        [SpikeSource("pre", [[10.0, 60.0]]), SpikeSource("kick", [[18.0]]), Population("post", 1, cell)],
        [
            Projection("plastic", "pre", "post", OneToOne(), STDP(w0, d, tau, tau, a_plus, a_minus, 0.0, w_max)),
            Projection("drive", "kick", "post", OneToOne(), Static(40.0, 1.0)),
        ],
        [Probe("post"), Probe("plastic", "weight", every_ms=70.0)],
        dt=DT,
    )
    with pytest.raises(UnsupportedFeature, match="dendritic"):
        simulate(net, 80.0, target="pynn:nest")
    res = simulate(net, 80.0, target="pynn:nest", dendritic_stdp=True)
    (s,) = res.spikes["post"].times
    assert 18.0 < s < 25.0
    w = w0 + a_plus * w_max * math.exp(-(s + d - 10.0) / tau) - a_minus * w_max * math.exp(-(60.0 - s - d) / tau)
    online = w0 + a_plus * w_max * math.exp(-(s - d - 10.0) / tau) - a_minus * w_max * math.exp(-(60.0 + d - s) / tau)
    assert abs(w - online) > 0.01  # the two rules are told apart
    assert res.weights["plastic"].times.tolist() == [0.0, 70.0]
    assert res.weights["plastic"].values[0, 0] == pytest.approx(w0)
    assert res.weights["plastic"].values[1, 0] == pytest.approx(w, rel=1e-9)


@pytest.mark.nest
def test_nest_threads_give_the_same_spikes():
    pytest.importorskip("nest")
    one = simulate(static_network(), 60.0, target="pynn:nest", seed=5)
    two = simulate(static_network(), 60.0, target="pynn:nest", seed=5, threads=2)
    assert_same_spikes(one, two)
    assert two.provenance["threads"] == 2


@pytest.mark.nest
def test_nest_source_spike_at_zero():
    """NEST cannot fire a generator in the first step: spikemem runs NEST one step ahead,
    exact when every cell starts at rest, refused otherwise."""
    pytest.importorskip("nest")
    net = static_network(first_spike_ms=0.0)
    with pytest.raises(UnsupportedFeature, match="at rest"):
        simulate(net, 30.0, target="pynn:nest", seed=5)
    cell = IF_curr_exp(tau_refrac=1.0)
    rest = Network(
        [SpikeSource("src", [[0.0, 3.0], [0.0]]), Population("c", 2, cell)],
        [Projection("p", "src", "c", OneToOne(), Static(12.0, 0.1))],
        [Probe("c"), Probe("c", "v")],
        dt=DT,
    )
    ref, res = simulate(rest, 20.0, target="brian2:numpy"), simulate(rest, 20.0, target="pynn:nest")
    assert_same_spikes(ref, res)
    np.testing.assert_allclose(res.traces["c.v"].values, ref.traces["c.v"].values, atol=1e-9)


@pytest.mark.nest
def test_multapses_run_on_nest_and_are_refused_on_pyNN_brian2():
    """Two synapses between one pair with different delays: NEST keeps both, pyNN.brian2
    would give them one weight and delay (PyNN sets parameters per pair)."""
    pytest.importorskip("nest")
    cell = IF_curr_exp(tau_refrac=1.0, tau_syn_E=1.0)
    rows = [(0, 0, 20.0, 1.0), (0, 0, 20.0, 4.0), (1, 0, 2.0, 2.0)]
    net = Network(
        [SpikeSource("s", [[5.0, 30.0], [12.0]]), Population("c", 1, cell)],
        [Projection("p", "s", "c", FromList(rows), Static(1.0, 1.0))],
        [Probe("c")],
        dt=DT,
    )
    ref, res = simulate(net, 40.0, target="brian2:numpy"), simulate(net, 40.0, target="pynn:nest")
    assert len(ref.spikes["c"]) == 4
    assert_same_spikes(ref, res)
    with pytest.raises(UnsupportedFeature, match="multapses"):
        pynn_target.check_semantics(net, pynn_target.BACKENDS["brian2"])


# --- refusals (no simulator needed) ----------------------------------------------------


def small(cell=None, synapse=None, receptor="excitatory", extra=()) -> Network:
    cell = cell or IF_curr_exp()
    synapse = synapse or Static(1.0, 1.0)
    return Network(
        [SpikeSource("s", [[1.0]]), Population("c", 1, cell), *extra],
        [Projection("p", "s", "c", OneToOne(), synapse, receptor)],
        [Probe("c")],
        dt=DT,
    )


@pytest.mark.parametrize(
    ("net", "variant", "match"),
    [
        (small(cell=IF_curr_exp(integration="spinnaker")), "brian2", "integration='spinnaker'"),
        (small(cell=IF_curr_exp(integration="spinnaker")), "nest", "integration='spinnaker'"),
        (small(synapse=STDP(timing="deferred")), "brian2", "deferred STDP is sPyNNaker's rule"),
        (small(synapse=STDP(timing="deferred")), "nest", "deferred STDP is sPyNNaker's rule"),
        (small(synapse=STDP()), "nest", "lag s \\+ d - t instead of s - t - d"),
        (small(synapse=STDP(weight_dependence="multiplicative")), "brian2", "applies the additive rule"),
        (small(synapse=STDP(), receptor="inhibitory"), "brian2", "negative weights"),
    ],
)
def test_refused_before_running(net, variant, match):
    with pytest.raises(UnsupportedFeature, match=match):
        pynn_target.check_semantics(net, pynn_target.BACKENDS[variant])


def test_nest_specific_refusals():
    nest = pynn_target.BACKENDS["nest"]
    with pytest.raises(UnsupportedFeature, match="w_min 0"):
        pynn_target.check_semantics(small(synapse=STDP(w_min=0.1, weight=0.5)), nest, dendritic_stdp=True)
    with pytest.raises(UnsupportedFeature, match="alpha"):
        pynn_target.check_semantics(small(synapse=STDP(A_plus=0.0)), nest, dendritic_stdp=True)
    pynn_target.check_semantics(small(synapse=STDP()), nest, dendritic_stdp=True)  # accepted


def test_gated_stdp_and_cell_driven_gates_are_brian2_only():
    cell = IF_curr_exp()
    pops = [SpikeSource("s", [[1.0]]), SpikeSource("g", [[1.0]]), Population("a", 1, cell), Population("c", 1, cell)]
    gates = [
        Projection("gate_a", "g", "a", OneToOne(), Gate(), "modulatory"),
        Projection("gate_c", "g", "c", OneToOne(), Gate(), "modulatory"),
    ]
    relay = Projection("s_a", "s", "a", OneToOne(), Static(1.0, 1.0))
    for backend in pynn_target.BACKENDS.values():
        learning = Projection("a_c", "a", "c", OneToOne(), STDP(gated=True))
        with pytest.raises(UnsupportedFeature, match="gated STDP on 'a_c'"):
            pynn_target.check_semantics(Network(pops, [relay, learning, *gates], [], dt=DT), backend)
        write = Projection("a_c", "a", "c", OneToOne(), GatedWrite(trigger="post"))
        pynn_target.check_semantics(Network(pops, [relay, write, *gates], [], dt=DT), backend)  # host writes
        by_cells = [gates[0], Projection("gate_c", "a", "c", OneToOne(), Gate(), "modulatory")]
        with pytest.raises(UnsupportedFeature, match="'gate_c' driven by the cells of 'a'.*spike sources"):
            pynn_target.check_semantics(Network(pops, [relay, write, *by_cells], [], dt=DT), backend)


@pytest.mark.parametrize("variant", ["nest", "brian2"])
def test_host_writes_match_brian2_weights_and_spikes(variant):
    """A GatedWrite network (pre trigger, tags on two of three post neurons) on PyNN: the
    written weights and the spikes they cause are those of the brian2 target."""
    pytest.importorskip("nest" if variant == "nest" else "pyNN")
    relay = IF_curr_exp(cm=1.0, tau_m=0.5, tau_refrac=0.5, tau_syn_E=0.25, tau_syn_I=0.25, v_rest=-60.0, v_thresh=-59.0)
    pops = [
        SpikeSource("drive", [[0.0, 8.0], []]),
        SpikeSource("open_pre", [[0.0], []]),
        SpikeSource("open_post", [[0.0], [], [0.0]]),
        Population("pre", 2, relay),
        Population("post", 3, relay),
    ]
    projs = [
        Projection("fire", "drive", "pre", OneToOne(), Static(20.0, 0.5)),
        Projection("gate_pre", "open_pre", "pre", OneToOne(), Gate(delay=0.5, window_ms=2.0), "modulatory"),
        Projection("gate_post", "open_post", "post", OneToOne(), Gate(delay=0.5, window_ms=2.0), "modulatory"),
        Projection("W", "pre", "post", AllToAll(), GatedWrite(weight=0.0, delay=0.5, w_max=20.0, trigger="pre")),
    ]
    net = Network(pops, projs, [Probe("pre"), Probe("post"), Probe("W", "weight", every_ms=4.0)], dt=0.5)
    ref = simulate(net, 12.0, target="brian2:numpy")
    got = simulate(net, 12.0, target=f"pynn:{variant}", progress=variant == "nest")  # progress: pauses on the grid
    np.testing.assert_array_equal(got.weights["W"].values, ref.weights["W"].values)
    assert ref.weights["W"].values[-1].tolist() == [20.0, 0.0, 20.0, 0.0, 0.0, 0.0]
    for pop in ("pre", "post"):
        assert got.spikes[pop].times.tolist() == ref.spikes[pop].times.tolist()
        assert got.spikes[pop].indices.tolist() == ref.spikes[pop].indices.tolist()
    assert ref.spikes["post"].times.tolist() == [2.0, 2.0, 10.0, 10.0]  # the write's echo, then a read


def test_options_are_validated():
    net = small()
    with pytest.raises(ValidationError, match="only with pynn:nest"):
        pynn_target.check(net, "brian2", threads=2)
    with pytest.raises(ValidationError, match="only with pynn:brian2"):
        pynn_target.check(net, "nest", codegen="numpy")
    with pytest.raises(ValidationError, match="one of"):
        pynn_target.check(net, "nest", spam=1)
    with pytest.raises(ValidationError):
        pynn_target.check(net, "brian2", codegen="fortran")


# --- standalone script ------------------------------------------------------------------


@pytest.mark.parametrize(
    "simulator", [pytest.param("brian2"), pytest.param("nest", marks=pytest.mark.nest)], ids=["brian2", "nest"]
)
def test_exported_script_reproduces_the_direct_path(simulator, tmp_path):
    """``python net.py --simulator X`` (plain PyNN, no spikemem) gives the spikes of ``pynn:X``."""
    pytest.importorskip(pynn_target.BACKENDS[simulator].requires)
    net = plastic_network()
    script, data = write_script(net, tmp_path / "net.py", duration_ms=80.0)
    assert data.name == "net.npz" and "import spikemem" not in script.read_text()
    got = run_script(script, simulator)
    direct = simulate(
        net, 80.0, target=f"pynn:{simulator}", **({"dendritic_stdp": True} if simulator == "nest" else {})
    )
    for pop, st in direct.spikes.items():
        assert len(st) > 0
        assert np.array_equal(np.rint(got[f"{pop}_times"] / DT), st.steps(DT)), pop
        assert np.array_equal(got[f"{pop}_indices"], st.indices), pop


def test_script_export_validates_its_arguments(tmp_path):
    net = Network([Population("p", 2, Poisson(10.0)), Population("c", 2, IF_curr_exp())], [], [Probe("c")], dt=DT)
    with pytest.raises(ValidationError, match="Poisson"):
        write_script(net, tmp_path / "x.py")
    with pytest.raises(ValidationError, match=".py"):
        write_script(small(), tmp_path / "x.txt")


# --- IF_curr_delta: NEST's iaf_psc_delta is the reference ---------------------------------


def delta_network() -> Network:
    """Delta-synapse cells: every connector, both receptors, per-synapse delays of 1 to 25
    steps, a Poisson source, per-neuron initial potentials, an offset current, refractory
    periods of 20 steps and of 0.15 ms (2 steps: rounded up), a weight probe."""
    rng = np.random.default_rng(5)
    trains = [np.sort(rng.uniform(1.0, 60.0, 12)) for _ in range(8)]
    cell = IF_curr_delta(cm=0.5, tau_m=10.0, tau_refrac=2.0, v_reset=-68.0, v_thresh=-55.0)
    drive = IF_curr_delta(cm=0.5, tau_m=10.0, tau_refrac=0.15, i_offset=0.4, v_thresh=-55.0)
    pairs = rng.permutation(48)[:30]
    rows = np.column_stack([pairs // 6, pairs % 6, rng.uniform(2.0, 6.0, 30), rng.choice([0.1, 0.7, 1.3, 2.5], 30)])
    pops = [
        SpikeSource("src", trains),
        Population("noise", 4, Poisson(rate_hz=80.0, start_ms=2.0)),
        Population("a", 6, cell, initial_v=np.linspace(-65.0, -56.0, 6)),
        Population("b", 6, drive),
    ]
    projections = [
        Projection("src_a", "src", "a", FromList(rows), Static(1.0, 1.0)),
        Projection("noise_b", "noise", "b", FixedProbability(0.6, seed=2), Static(3.0, 0.5)),
        Projection("a_b", "a", "b", OneToOne(), Static(4.0, 1.5)),
        Projection("b_a", "b", "a", AllToAll(allow_self_connections=False), Static(1.5, 2.0), "inhibitory"),
        Projection("a_a", "a", "a", AllToAll(allow_self_connections=False), Static(1.0, 1.0), "inhibitory"),
    ]
    probes = [Probe("a"), Probe("b"), Probe("src"), Probe("a", "v"), Probe("b_a", "weight", every_ms=20.0)]
    return Network(pops, projections, probes, dt=DT, name="pynn_delta")


@pytest.mark.nest
def test_delta_network_on_nest_identical_to_brian2_target():
    pytest.importorskip("nest")
    net = delta_network()
    ref = simulate(net, 60.0, target="brian2:numpy", seed=5)
    res = simulate(net, 60.0, target="pynn:nest", seed=5)
    assert_same_spikes(ref, res)
    assert len(ref.spikes["a"]) > 20 and len(ref.spikes["b"]) > 20
    np.testing.assert_allclose(res.traces["a.v"].values, ref.traces["a.v"].values, atol=1e-9)
    weights = res.weights["b_a"]  # pyNN.nest's Projection.get reads IF_curr_delta weights 1000 times too small
    assert weights.unit == ref.weights["b_a"].unit == "mV"
    np.testing.assert_allclose(weights.values, 1.5, rtol=1e-12)
    assert weights.values.shape == ref.weights["b_a"].values.shape == (3, 30)


def delta_probe_network() -> Network:
    """One source spike in step 10 and single-purpose cells, each with a spike step worked
    out from IF_curr_delta's docstring (the test below lists them)."""
    gap = IF_curr_delta(tau_m=10.0, v_rest=-65.0, v_reset=-70.0, v_thresh=-50.0, tau_refrac=0.0)
    pops = [
        SpikeSource("src", [[1.0]] * 12),
        Population("equal", 2, gap),  # 15 mV onto a 15 mV gap, 0.3 ms delay; 15 mV - 1e-9
        Population("volts", 1, gap.replace(v_rest=-70.0, v_reset=-75.0, v_thresh=-62.0)),  # 8 mV onto 8 mV
        Population("refr", 1, gap.replace(tau_refrac=0.3)),  # fires at 11; 20 mV at 14 is lost, at 16 fires
        Population("ceil", 1, gap.replace(tau_refrac=0.12)),  # 2 steps held: 20 mV at 13 lost, at 14 fires
        Population("inh", 1, gap),  # 20 mV up and 6 mV down in step 12: 14 mV, no spike
        Population("offset", 1, gap.replace(i_offset=2.0, tau_refrac=50.0)),  # v_inf 20 mV above rest
    ]
    rows = {
        "equal": [(0, 0, 15.0, 0.3), (1, 1, 15.0 - 1e-9, 0.3)],
        "volts": [(2, 0, 8.0, 0.1)],
        "refr": [(3, 0, 16.0, 0.1), (4, 0, 20.0, 0.4), (5, 0, 20.0, 0.6)],
        "ceil": [(6, 0, 16.0, 0.1), (7, 0, 20.0, 0.3), (8, 0, 20.0, 0.4)],
        "inh": [(9, 0, 20.0, 0.2)],
    }
    projections = [Projection(f"to_{name}", "src", name, FromList(r), Static(1.0, 0.1)) for name, r in rows.items()]
    projections.append(Projection("down", "src", "inh", FromList([(10, 0, 6.0, 0.2)]), Static(1.0, 0.1), "inhibitory"))
    return Network(pops, projections, [Probe(p.name) for p in pops if not p.is_source], dt=DT, name="delta_probe")


@pytest.mark.parametrize("target", ["brian2:numpy", pytest.param("pynn:nest", marks=pytest.mark.nest)])
def test_delta_semantics_worked_out_by_hand(target):
    """Arrival in step s + round(d/dt) after the leak and before the threshold, v >= v_thresh
    (exactly, also where -70 mV + 8 mV falls short of -62 mV in volts), input lost while
    refractory, ceil(tau_refrac/dt) steps held, the exact leak of an offset current (step 0
    is the first update: v - v_rest = 20 mV (1 - lambda^(k+1)) after step k, the first spike
    in step ceil(tau_m/dt ln 4) - 1 = 138), inhibition down by w."""
    if target == "pynn:nest":
        pytest.importorskip("nest")
    res = simulate(delta_probe_network(), 20.0, target=target)
    steps = {name: list(zip(st.steps(DT).tolist(), st.indices.tolist())) for name, st in res.spikes.items()}
    assert steps["equal"] == [(13, 0)]
    assert steps["volts"] == [(11, 0)]
    assert steps["refr"] == [(11, 0), (16, 0)]
    assert steps["ceil"] == [(11, 0), (14, 0)]
    assert steps["inh"] == []
    assert math.ceil(10.0 / DT * math.log(4.0)) - 1 == 138
    assert steps["offset"] == [(138, 0)]


def test_pyNN_brian2_is_refused_delta_cells_for_what_it_does():
    with pytest.raises(UnsupportedFeature, match="IF_curr_delta \\(population 'a'\\).*after the step's threshold"):
        pynn_target.check_semantics(delta_network(), pynn_target.BACKENDS["brian2"])
    with pytest.raises(UnsupportedFeature, match="pynn:brian2"):
        simulate(delta_network(), 10.0, target="pynn:brian2")


def _pyNN_brian2_delta(weight: float, v_rest: float = -65.0, v_thresh: float = -50.0) -> list[int]:
    """The spike steps of one pyNN.brian2 IF_curr_delta cell (tau_m 10 ms) given ``weight`` mV by
    a source spike in step 10 with a 0.1 ms delay (the docstring: arrival, and spike, in step 11)."""
    import brian2
    import pyNN.brian2 as sim

    sim.setup(timestep=DT, min_delay=DT)
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = DT * brian2.ms
    try:
        cell = sim.Population(1, sim.IF_curr_delta(tau_m=10.0, v_rest=v_rest, v_reset=v_rest - 5.0, v_thresh=v_thresh))
        cell.initialize(v=v_rest)
        src = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
        sim.Projection(src, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=weight, delay=DT))
        cell.record("spikes")
        sim.run(3.0)
        train = cell.get_data().segments[-1].spiketrains[0]
        return np.rint(np.asarray(train.magnitude) / DT).astype(int).tolist()
    finally:
        sim.end()


def test_what_pyNN_brian2_does_with_delta_cells():
    """The measurements behind the refusal (.backends.PYNN_BRIAN2_DELTA), with PyNN alone:
    the input is tested a step late, after one more leak, and v == v_thresh does not fire."""
    pytest.importorskip("brian2")
    assert _pyNN_brian2_delta(16.0) == [12]  # the docstring and NEST: [11]
    assert _pyNN_brian2_delta(15.05) == []  # 15.05 mV above a 15 mV gap, leaked to 14.9 first
    assert _pyNN_brian2_delta(1.0, v_rest=0.0, v_thresh=1.0) == []  # v = v_thresh exactly


@pytest.mark.nest
def test_what_pyNN_nest_does_with_delta_weights():
    """The measurements behind .backends' delta_get_set_scale and the STDP refusal, with PyNN
    alone: weights reach NEST in mV, Projection.get reads them 1000 times too small,
    Projection.set writes them 1000 times too large, w_max is not scaled."""
    pytest.importorskip("nest")
    import nest
    import pyNN.nest as sim

    sim.setup(timestep=DT, min_delay=DT, spike_precision="on_grid", verbosity="error")
    try:
        src = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
        cell = sim.Population(1, sim.IF_curr_delta())
        static = sim.Projection(src, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=5.0, delay=DT))
        assert nest.GetConnections(target=cell.node_collection).get("weight") == 5.0
        assert static.get("weight", format="list") == [(0, 0, pytest.approx(0.005))]
        static.set(weight=2.0)
        assert nest.GetConnections(target=cell.node_collection).get("weight") == pytest.approx(2000.0)
        other = sim.Population(1, sim.IF_curr_delta())
        rule = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
            weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=2.0),
            weight=0.5,
            delay=1.0,
        )
        sim.Projection(src, other, sim.AllToAllConnector(), rule)
        plastic = nest.GetConnections(target=other.node_collection)
        assert (plastic.get("weight"), plastic.get("Wmax")) == (0.5, 2000.0)
    finally:
        sim.end()
    with pytest.raises(UnsupportedFeature, match="Wmax 2000"):
        pynn_target.check_semantics(
            small(cell=IF_curr_delta(), synapse=STDP()), pynn_target.BACKENDS["nest"], dendritic_stdp=True
        )


@pytest.mark.nest
def test_host_writes_onto_delta_cells_match_brian2():
    """GatedWrite onto IF_curr_delta cells: NEST's host writes (gates known from the sources)
    against the brian2 target (gates in Brian2 code), weights and spikes."""
    pytest.importorskip("nest")
    relay = IF_curr_delta(cm=1.0, tau_m=0.5, tau_refrac=0.5, v_rest=-60.0, v_thresh=-59.0)
    pops = [
        SpikeSource("drive", [[0.0, 8.0], []]),
        SpikeSource("open_pre", [[0.0], []]),
        SpikeSource("open_post", [[0.0], [], [0.0]]),
        Population("pre", 2, relay),
        Population("post", 3, relay),
    ]
    projs = [
        Projection("fire", "drive", "pre", OneToOne(), Static(20.0, 0.5)),
        Projection("gate_pre", "open_pre", "pre", OneToOne(), Gate(delay=0.5, window_ms=2.0), "modulatory"),
        Projection("gate_post", "open_post", "post", OneToOne(), Gate(delay=0.5, window_ms=2.0), "modulatory"),
        Projection("W", "pre", "post", AllToAll(), GatedWrite(weight=0.0, delay=0.5, w_max=20.0, trigger="pre")),
    ]
    net = Network(pops, projs, [Probe("pre"), Probe("post"), Probe("W", "weight", every_ms=4.0)], dt=0.5)
    ref = simulate(net, 12.0, target="brian2:numpy")
    got = simulate(net, 12.0, target="pynn:nest")
    assert ref.weights["W"].values[-1].tolist() == [20.0, 0.0, 20.0, 0.0, 0.0, 0.0]
    np.testing.assert_array_equal(got.weights["W"].values, ref.weights["W"].values)
    for pop in ("pre", "post"):
        assert got.spikes[pop].times.tolist() == ref.spikes[pop].times.tolist()
        assert got.spikes[pop].indices.tolist() == ref.spikes[pop].indices.tolist()
    assert ref.spikes["post"].times.tolist() == [1.0, 1.0, 9.0, 9.0]  # the write's echo, then a read


@pytest.mark.nest
def test_exported_delta_script_runs_on_nest_only(tmp_path):
    """``python net.py --simulator nest`` gives the brian2 target's spikes; on pyNN.brian2 the
    script stops with the reason before building anything."""
    pytest.importorskip("nest")
    net = delta_network()
    script, _ = write_script(net, tmp_path / "net.py", duration_ms=60.0, seed=5)
    got = run_script(script, "nest")
    ref = simulate(net, 60.0, target="brian2:numpy", seed=5)
    for pop, st in ref.spikes.items():
        assert len(st) > 0
        mine = sorted(zip(np.rint(got[f"{pop}_times"] / DT).astype(int).tolist(), got[f"{pop}_indices"].tolist()))
        assert mine == sorted(zip(st.steps(DT).tolist(), st.indices.tolist())), pop
    with pytest.raises(AssertionError, match="IF_curr_delta: pyNN.brian2 adds a delta spike to v"):
        run_script(script, "brian2")


def test_script_export_refuses_stdp_onto_delta_cells(tmp_path):
    with pytest.raises(UnsupportedFeature, match="STDP on 'p' onto IF_curr_delta cells.*Wmax 2000"):
        write_script(small(cell=IF_curr_delta(), synapse=STDP()), tmp_path / "x.py")
    assert not list(tmp_path.iterdir())
