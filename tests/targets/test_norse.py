"""The ``norse`` target (PyTorch, Norse's surrogate gradients): refusals, spikes equal to
Brian2's, batches, training through the target and the trained network on Brian2.

Equality is with the ``brian2`` target, itself held to a hand-written Brian2 model
(tests/targets/test_brian2_system.py), and, for the delta cell, with its update computed
here by hand from ``IF_curr_delta``'s equations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from spikemem import (
    STDP,
    AllToAll,
    FixedProbability,
    FromList,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Network,
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

torch = pytest.importorskip("torch", reason="the norse target needs torch (pip install 'spikemem[torch]')")
pytest.importorskip("norse", reason="the norse target needs norse (pip install 'spikemem[torch]')")

from spikemem.hardware import norse as target  # noqa: E402

DT = 0.1


def same_steps(a, b, dt: float = DT) -> bool:
    """Every population of ``a`` spiked in the same steps, neuron by neuron, in ``b``."""
    assert set(a.spikes) == set(b.spikes)
    return all(
        np.array_equal(a.spikes[p].steps(dt), b.spikes[p].steps(dt))
        and np.array_equal(a.spikes[p].indices, b.spikes[p].indices)
        for p in a.spikes
    )


def mixed_network(trains=None) -> Network:
    """Current- and conductance-based cells, both receptors, every connector, per-synapse
    delays of several steps, a Poisson and a spike-time source, an offset current,
    per-neuron initial potentials, refractory periods; v and weight probes."""
    rng = np.random.default_rng(4)
    if trains is None:
        trains = [np.sort(np.random.default_rng(5 + k).uniform(2.0, 60.0, 12)) for k in range(8)]
    cell = IF_curr_exp(cm=0.5, tau_m=10.0, tau_refrac=2.0, tau_syn_E=2.0, tau_syn_I=4.0, v_thresh=-55.0)
    cond = IF_cond_exp(cm=0.5, tau_m=12.0, tau_refrac=1.5, tau_syn_E=3.0, tau_syn_I=6.0, v_thresh=-55.0, i_offset=0.1)
    pairs = np.random.default_rng(9).permutation(48)[:30]
    rows = np.column_stack([pairs // 6, pairs % 6, rng.uniform(0.5, 1.5, 30), rng.choice([0.1, 0.7, 1.3, 2.5], 30)])
    pops = [
        SpikeSource("src", trains),
        Population("noise", 4, Poisson(rate_hz=80.0)),
        Population("a", 6, cell, initial_v=np.linspace(-65.0, -56.0, 6)),
        Population("c", 5, cond),
    ]
    projections = [
        Projection("src_a", "src", "a", FromList(rows), Static(1.0, 1.0)),
        Projection("noise_c", "noise", "c", FixedProbability(0.6, seed=2), Static(0.02, 0.5)),
        Projection("a_c", "a", "c", AllToAll(), Static(0.01, 1.5)),
        Projection("c_a", "c", "a", AllToAll(), Static(0.6, 2.0), "inhibitory"),
        Projection("a_a", "a", "a", AllToAll(allow_self_connections=False), Static(0.3, 1.0), "inhibitory"),
        Projection("src_c", "src", "c", FromList([[0, 0], [1, 1], [7, 4]]), Static(0.05, 0.3)),
    ]
    probes = [Probe("a"), Probe("c"), Probe("src"), Probe("a", "v"), Probe("c", "v", every_ms=0.5)]
    probes.append(Probe("a_c", "weight", every_ms=10.0))
    return Network(pops, projections, probes, dt=DT, name="mixed")


# --- refusals -----------------------------------------------------------------------------


def small(**changes) -> Network:
    net = Network(
        [SpikeSource("s", [[1.0]]), Population("c", 2, IF_curr_exp())],
        [Projection("p", "s", "c", AllToAll(), Static(1.0, 1.0))],
        [Probe("c")],
        dt=DT,
    )
    return net.replace(**changes) if changes else net


@pytest.mark.parametrize(
    ("net", "match"),
    [
        (
            small(populations=(SpikeSource("s", [[1.0]]), Population("c", 2, IF_curr_exp(integration="spinnaker")))),
            "integration 'spinnaker'",
        ),
        (small(projections=(Projection("p", "s", "c", AllToAll(), STDP(weight=0.5)),)), "STDP synapses"),
    ],
    ids=["spinnaker-integration", "stdp"],
)
def test_what_it_cannot_run_exactly_is_refused_before_running(net, match):
    with pytest.raises(UnsupportedFeature, match=match):
        simulate(net, 10.0, target="norse")


def test_a_device_model_is_refused():
    from spikemem.hardware.devices.rram import RRAM, apply_device

    with pytest.raises(UnsupportedFeature, match="device model"):
        target.check(apply_device(small(), RRAM("hfox"), "all"))


def test_options_are_checked_before_running():
    with pytest.raises(ValidationError, match="option dtype"):
        simulate(small(), 10.0, target="norse", dtype="float16")
    with pytest.raises(ValidationError, match="one of dtype, device for target norse"):
        simulate(small(), 10.0, target="norse", threads=2)
    if not torch.cuda.is_available():
        with pytest.raises(UnsupportedFeature, match="no CUDA GPU"):
            simulate(small(), 10.0, target="norse", device="cuda")


def test_an_unknown_trainable_projection_is_named():
    with pytest.raises(ValidationError, match="nosuch"):
        target.lower(small(), 10.0, trainable=("nosuch",))


# --- the same spikes as brian2 --------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_runs():
    net = mixed_network()
    return simulate(net, 60.0, target="brian2:numpy", seed=5), simulate(net, 60.0, target="norse", seed=5)


def test_every_spike_equals_brian2s(mixed_runs):
    ref, res = mixed_runs
    assert same_steps(ref, res)
    assert len(res.spikes["a"]) > 5 and len(res.spikes["c"]) > 20  # both cell types spike, and are compared
    assert res.provenance["target"] == "norse" and res.provenance["dtype"] == "float64"


def test_membrane_traces_and_weights_equal_brian2s(mixed_runs):
    ref, res = mixed_runs
    for key in ("a.v", "c.v"):
        assert res.traces[key].values.shape == ref.traces[key].values.shape
        np.testing.assert_allclose(res.traces[key].times, ref.traces[key].times, atol=1e-12)
        np.testing.assert_allclose(res.traces[key].values, ref.traces[key].values, atol=1e-9)
    np.testing.assert_array_equal(res.weights["a_c"].values, ref.weights["a_c"].values)
    assert res.weights["a_c"].unit == ref.weights["a_c"].unit == "uS"


def lsm_step_by_hand(w_in: np.ndarray, w_rec: np.ndarray, raster: np.ndarray, lam: float, theta: float) -> np.ndarray:
    """A reservoir of delta cells computed from IF_curr_delta's equations (v_rest = v_reset = 0,
    no refractory period): v_k = λ v_{k-1} (1 - s_{k-1}) + W_in x_k + W_rec s_{k-1}, s_k = v_k >= θ;
    the input raster's spikes at step k-1 (delay one step) arrive at step k."""
    steps, n = raster.shape[0], w_rec.shape[0]
    v, s = np.zeros(n), np.zeros(n)
    out = np.zeros((steps, n), dtype=bool)
    for k in range(steps):
        x = raster[k - 1] if k > 0 else np.zeros(raster.shape[1])
        v = lam * v * (1 - s) + x @ w_in + s @ w_rec
        s = (v >= theta).astype(float)
        out[k] = s > 0
    return out


def test_a_delta_reservoir_follows_its_equations():
    """The liquid-state-machine neuron of IF_curr_delta's docstring, signed random weights as
    an excitatory and an inhibitory projection, against the update computed by hand."""
    rng = np.random.default_rng(1)
    n_in, n, steps, dt = 12, 20, 80, 1.0
    w_in = rng.normal(0.0, 2.0, (n_in, n))
    w_rec = rng.normal(0.0, 1.0, (n, n))
    raster = rng.random((steps, n_in)) < 0.2
    trains = [list(np.flatnonzero(raster[:, k]) * dt) for k in range(n_in)]
    cell = IF_curr_delta(tau_m=-dt / math.log(0.9), v_rest=0.0, v_reset=0.0, v_thresh=5.0, tau_refrac=0.0)

    def rows(w):
        i, j = np.nonzero(w)
        return np.column_stack([i, j, np.abs(w[i, j]), np.full(len(i), dt)])

    projections = []
    for name, pre, w in (("in", "x", w_in), ("rec", "res", w_rec)):
        for receptor, part in (("excitatory", np.clip(w, 0, None)), ("inhibitory", np.clip(-w, 0, None))):
            projections.append(
                Projection(f"{name}_{receptor}", pre, "res", FromList(rows(part)), Static(0.0, dt), receptor)
            )
    net = Network([SpikeSource("x", trains), Population("res", n, cell)], projections, [Probe("res")], dt=dt)
    res = simulate(net, steps * dt, target="norse")
    expected = lsm_step_by_hand(w_in, w_rec, raster.astype(float), math.exp(-dt / cell.tau_m), 5.0)
    got = np.zeros((steps, n), dtype=bool)
    got[res.spikes["res"].steps(dt), res.spikes["res"].indices] = True
    assert expected.sum() > 50
    np.testing.assert_array_equal(got, expected)


# --- batches ------------------------------------------------------------------------------


def test_a_batch_of_8_trials_equals_8_single_runs():
    rngs = [np.random.default_rng(100 + b) for b in range(8)]
    trials = [{"src": [np.sort(r.uniform(1.0, 60.0, 10)) for _ in range(8)]} for r in rngs]
    batch = target.run_batch(mixed_network(), 60.0, trials, seed=5)
    assert len(batch) == 8
    counts = set()
    for b, trial in enumerate(trials):
        alone = simulate(mixed_network(trial["src"]), 60.0, target="norse", seed=5)
        assert same_steps(alone, batch[b]), b
        assert batch[b].provenance["trial"] == b
        counts.add(len(alone.spikes["c"]))
    assert len(counts) > 1  # the trials differ, so the comparison could fail


def test_a_raster_batch_gives_tensors_for_training_code():
    net = mixed_network()
    module = target.lower(net, 60.0, seed=5)
    raster = torch.zeros(module.n_steps, 3, 8)
    raster[100, :, 0] = 1.0  # one spike at 10 ms in each of the three trials
    raster[200, 1, 1] = 1.0
    with torch.no_grad():
        rec = module({"src": raster})
    assert rec.spikes["a"].shape == (module.n_steps, 3, 6) and rec.spikes["src"].shape == (module.n_steps, 3, 8)
    assert torch.equal(rec.spikes["src"][:, 1].nonzero()[:, 0], torch.tensor([100, 200]))
    with pytest.raises(ValidationError, match="raster"):
        module({"src": torch.zeros(10, 3, 8)})
    with pytest.raises(ValidationError, match="spike-source"):
        module({"a": raster})


# --- training -------------------------------------------------------------------------------


def trainable_network() -> Network:
    rng = np.random.default_rng(0)
    trains = [np.sort(rng.choice(np.arange(1, 100), 8, replace=False) * 1.0) for _ in range(20)]
    cell = IF_curr_exp(tau_m=10.0, tau_syn_E=3.0, tau_syn_I=6.0, tau_refrac=1.0, v_thresh=-55.0)
    return Network(
        [SpikeSource("inp", trains), Population("out", 5, cell)],
        [Projection("w", "inp", "out", AllToAll(), Static(0.6, 1.0))],
        [Probe("out")],
        dt=0.5,
        name="trainable",
    )


def test_training_reaches_the_target_spike_counts_and_brian2_runs_the_result():
    """Five outputs, all firing 17 spikes untrained, are trained by gradient (SuperSpike
    surrogate, BPTT) to fire 0, 3, 6, 9 and 12. Reaching 0 needs weights below zero: they
    change receptor, and to_network writes them as an inhibitory projection."""
    net = trainable_network()
    wanted = torch.tensor([0.0, 3.0, 6.0, 9.0, 12.0], dtype=torch.float64)
    module = target.lower(net, 100.0, trainable=("w",))
    optimiser = torch.optim.SGD(module.parameters(), lr=0.002)

    def loss() -> torch.Tensor:
        counts = module().spikes["out"].sum(0)[0]
        return ((counts - wanted) ** 2).mean()

    with torch.no_grad():
        untrained = loss().item()
    for _ in range(40):
        optimiser.zero_grad()
        value = loss()
        value.backward()
        optimiser.step()
    with torch.no_grad():
        trained = loss().item()
    assert untrained > 50 and trained < 1.0
    written = target.to_network(module)
    assert {p.name: p.receptor for p in written.projections} == {"w": "excitatory", "w_inhibitory": "inhibitory"}
    with torch.no_grad():
        spikes = module().spikes["out"][:, 0].numpy()
    on_brian2 = simulate(written, 100.0, target="brian2:numpy")
    steps, idx = np.nonzero(spikes)
    assert np.array_equal(on_brian2.spikes["out"].steps(0.5), steps) and np.array_equal(
        on_brian2.spikes["out"].indices, idx
    )
    counts = np.bincount(on_brian2.spikes["out"].indices, minlength=5)
    assert ((counts - wanted.numpy()) ** 2).mean() == pytest.approx(trained)


def test_to_network_keeps_untrained_projections_and_every_synapse():
    net = mixed_network()
    module = target.lower(net, 60.0, seed=5, trainable=("a_c", "c_a"))
    with torch.no_grad():
        module.weight_params["a_c"][:5] *= -1  # five synapses change sign
    written = target.to_network(module)
    names = [p.name for p in written.projections]
    assert names == ["src_a", "noise_c", "a_c", "a_c_inhibitory", "c_a", "a_a", "src_c"]
    a_c, flipped = written.projection("a_c"), written.projection("a_c_inhibitory")
    assert (
        len(a_c.connector.conn_list) + len(flipped.connector.conn_list) == 30 and len(flipped.connector.conn_list) == 5
    )
    assert flipped.receptor == "inhibitory" and np.all(flipped.connector.conn_list[:, 2] == 0.01)
    untouched = simulate(
        target.to_network(target.lower(net, 60.0, seed=5, trainable=("c_a",))), 60.0, target="norse", seed=5
    )
    assert same_steps(untouched, simulate(net, 60.0, target="norse", seed=5))


def test_trainable_projections_run_as_the_network_says_before_training(mixed_runs):
    """Every projection trainable (the inhibitory ones among them, whose signed weights are
    negative): until trained, the module gives the network's spikes."""
    net = mixed_network()
    module = target.lower(net, 60.0, seed=5, trainable=tuple(p.name for p in net.projections))
    with torch.no_grad():
        rec = module()
    ref = mixed_runs[0]
    for pop, st in ref.spikes.items():
        steps, idx = np.nonzero(rec.spikes[pop][:, 0].numpy())
        assert np.array_equal(st.steps(DT), steps) and np.array_equal(st.indices, idx), pop
