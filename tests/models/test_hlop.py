"""HLOP (spec hlop.md): Oja's subspace rule, the projection, frozen rows, caps, GPM, the data and the network."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="HLOP trains through the norse target: pip install 'spikemem[learn]'")
pytest.importorskip("norse", reason="HLOP trains through the norse target: pip install 'spikemem[learn]'")
pytest.importorskip("sklearn", reason="Permuted-Digits-784 needs scikit-learn's digits: pip install 'spikemem[learn]'")

from spikemem.experiments import _hlop_learning as learning  # noqa: E402
from spikemem.models import hlop  # noqa: E402

pytestmark = pytest.mark.torch


def low_rank_inputs(n: int, k: int, rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``x = A z + noise``: a known top-``k`` subspace ``A`` (``[n, k]``, orthonormal) with
    variances 4..1 along it, isotropic noise of variance 1e-4 elsewhere."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((n, k)))
    z = rng.standard_normal((rows, k)) * np.linspace(2.0, 1.0, k)
    return z @ basis.T + 0.01 * rng.standard_normal((rows, n)), basis


def principal_angles_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    return np.degrees(np.arccos(np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1, 1)))


def learned(n: int, k: int, x: np.ndarray, lr: float = 0.01, batch: int = 64, epochs: int = 10) -> learning.Subspace:
    sub = learning.Subspace(n, lr)
    sub.grow(k, torch.Generator().manual_seed(0))
    for _ in range(epochs):
        for start in range(0, len(x), batch):
            sub.hebbian(torch.as_tensor(x[start : start + batch]))
    return sub


def test_oja_rule_converges_to_the_principal_subspace_of_a_known_covariance():
    x, basis = low_rank_inputs(40, 4, 4000, seed=1)
    sub = learned(40, 4, x)
    h = sub.h.numpy()
    assert np.max(np.abs(h @ h.T - np.eye(4))) < 0.02
    top = np.linalg.svd(x.T @ x)[0][:, :4]  # numpy's SVD of the uncentred correlation
    assert np.max(principal_angles_deg(h.T, top)) < 2.0
    assert np.max(principal_angles_deg(h.T, basis)) < 2.0


def test_projected_update_leaves_old_inputs_unchanged():
    x_old, _ = low_rank_inputs(40, 4, 4000, seed=2)
    sub = learned(40, 4, x_old)
    sub.merge()
    rng = np.random.default_rng(3)
    x_new = rng.standard_normal((256, 40))
    delta = rng.standard_normal((256, 7))
    g = torch.as_tensor(x_new.T @ delta)  # ΔW = Σ x δᵀ, [n_pre, n_post]
    g_proj = sub.project(g).numpy()
    assert np.linalg.norm(x_old @ g_proj) < 0.02 * np.linalg.norm(x_old @ g.numpy())
    # the projected gradient is the gradient of the projected traces (spec §2)
    h = sub.h.numpy()
    x_tilde = x_new - x_new @ h.T @ h
    np.testing.assert_allclose(g_proj, x_tilde.T @ delta, atol=1e-9)


def test_frozen_rows_do_not_move_and_new_rows_find_the_residual_directions():
    x_old, _ = low_rank_inputs(30, 3, 3000, seed=4)
    sub = learned(30, 3, x_old)
    sub.merge()
    frozen, momentum = sub.h.clone(), sub.m.clone()
    sub.grow(2, torch.Generator().manual_seed(1))
    x_new, new_basis = low_rank_inputs(30, 2, 3000, seed=5)
    for _ in range(10):
        for start in range(0, 3000, 64):
            sub.hebbian(torch.as_tensor(x_new[start : start + 64]))
    assert torch.equal(sub.h[:3], frozen)
    assert torch.equal(sub.m[:3], momentum)  # kept, not applied (spec §3.2)
    residual = new_basis - frozen.numpy().T @ (frozen.numpy() @ new_basis)
    assert np.max(principal_angles_deg(sub.h[3:].numpy().T, residual)) < 10.0


def test_lateral_counts_are_capped_below_the_layer_dimension_and_recorded():
    sub = learning.Subspace(10, 0.01)
    gen = torch.Generator().manual_seed(0)
    assert sub.grow(6, gen) == 6
    assert sub.grow(6, gen) == 3
    assert sub.grow(6, gen) == 0
    assert sub.k == 9 and sub.asked == [6, 6, 6] and sub.added == [6, 3, 0]


def test_spiking_lateral_neurons_quantise_their_rate():
    sub = learning.Subspace(5, 0.01, spiking=(20.0, 40), lateral="quantised")
    sub.h = torch.eye(5, dtype=torch.float64)[:2]
    y = sub.lateral(torch.tensor([[0.3, -0.74, 0, 0, 0], [30.0, -30.0, 0, 0, 0]], dtype=torch.float64))
    np.testing.assert_allclose(y.numpy(), [[0.5, -0.5], [20.0, -20.0]])  # steps of s/T_h = 0.5, clipped at ±s


def circuit_case(seed: int, n: int = 30, k: int = 5, gain: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal rows ``H`` scaled by ``gain`` (drives of a few units against s = 20) and a 0/1 pattern."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, k)))
    return gain * q.T, (rng.random(n) < 0.5).astype(float)


@pytest.mark.parametrize("target", ["brian2:numpy", pytest.param("pynn:nest", marks=pytest.mark.nest), "norse"])
def test_the_lateral_circuit_spikes_what_training_uses(target):
    """The two-population circuit as a Network, run on a simulator: each lateral neuron's
    count is that of a non-leaky integrate-and-fire neuron with a constant drive
    (floor(T_h / ceil(s / u)), spec §6's signed rate on a staircase), and the integrators'
    potential is the projected trace x - H^T y."""
    from _scenarios import require

    from spikemem.simulate import simulate

    require(target)
    steps, scale = 40, hlop.LATERAL_SCALE
    for seed in (0, 1):
        h, x = circuit_case(seed)
        drive = h @ x
        res = simulate(hlop.lateral_network(h, x, steps), hlop.lateral_duration_ms(steps), target=target)
        pos = np.bincount(res.spikes["lateral_pos"].indices, minlength=len(h))
        neg = np.bincount(res.spikes["lateral_neg"].indices, minlength=len(h))
        expected_pos = [steps // int(np.ceil(scale / u)) if u > 0 else 0 for u in drive]
        expected_neg = [steps // int(np.ceil(scale / -u)) if u < 0 else 0 for u in drive]
        np.testing.assert_array_equal(pos, expected_pos)
        np.testing.assert_array_equal(neg, expected_neg)
        y = scale / steps * (pos - neg)
        sub = learning.Subspace(len(x), 0.01, spiking=(scale, steps), lateral="neurons")
        sub.h = torch.as_tensor(h)
        np.testing.assert_allclose(sub.lateral(torch.as_tensor(x[None]))[0].numpy(), y)  # what Oja's rule sees
        projected = res.traces["projected.v"].values[-1]
        np.testing.assert_allclose(projected, x - h.T @ y, atol=1e-5)
        assert np.linalg.norm(projected - (x - h.T @ drive)) < 0.5 * np.linalg.norm(h.T @ drive)


def test_step_by_step_projected_traces_give_the_projected_gradient():
    """For linear lateral neurons the per-step route (the backward pass's traces replaced by
    x - H^T H x) equals projecting the summed gradient, (I - H^T H) G (spec §2)."""
    config = learning.Config(hidden=16, epochs=1)
    tasks = hlop.permuted_digits(1, seed=0)
    x, y = tasks.task(0)
    subspaces = [learning.Subspace(n, 0.01) for n in config.sizes[:3]]
    for s in subspaces:
        s.grow(6, torch.Generator().manual_seed(2))
        s.merge()

    def gradients(per_step: bool) -> list[torch.Tensor]:
        learner = learning.Learner(config, seed=0)
        if per_step:
            learner.module.weight_traces = {pre: s.project_traces for pre, s in zip(hlop.LAYERS, subspaces)}
        logits, _ = learner.forward(x[:32])
        torch.nn.functional.cross_entropy(logits, torch.as_tensor(y[:32])).backward()
        grads = [learner.dense_grad(k) for k in range(3)]
        return grads if per_step else [s.project(g) for s, g in zip(subspaces, grads)]

    for stepwise, summed in zip(gradients(True), gradients(False)):
        assert torch.linalg.norm(summed) > 0
        torch.testing.assert_close(stepwise, summed, rtol=1e-4, atol=1e-6)


@pytest.mark.nest
def test_the_exported_lateral_circuit_runs_in_pynn_nest_with_the_counts_of_its_rule(tmp_path):
    """spikemem export hlop-lateral writes a plain PyNN script; run by pyNN.nest without
    spikemem, each lateral neuron fires floor(T_h / ceil(s / u)) times for its drive u."""
    pytest.importorskip("pyNN.nest", reason="needs NEST (pip install 'spikemem[pynn]')")
    from _scenarios import run_script

    from spikemem.cli import main
    from spikemem.model import get_model

    argv = ["--neurons", "6", "--inputs", "40", "--steps", "40", "--seed", "3"]
    script = tmp_path / "lateral.py"
    assert main(["export", "hlop-lateral", *argv, "--target", "pynn-script", "--out", str(script)]) == 0
    model = get_model("hlop-lateral")
    parser = __import__("argparse").ArgumentParser()
    model.add_arguments(parser)
    network = model.network(parser.parse_args(argv))
    x = np.array([len(t) > 0 for t in network.population("presynaptic").cell.spike_times], dtype=float)
    drive = hlop.dense_weights(network, "drive_pos").T @ x
    spikes = run_script(script, "nest")
    for name, sign in (("lateral_pos", 1.0), ("lateral_neg", -1.0)):
        counts = np.bincount(spikes[f"{name}_indices"].astype(int), minlength=6)
        u = sign * drive
        expected = [40 // int(np.ceil(20.0 / v)) if v > 0 else 0 for v in u]
        np.testing.assert_array_equal(counts, expected)
    assert spikes["lateral_pos_indices"].size + spikes["lateral_neg_indices"].size > 0


def test_spiking_lateral_rates_clip_and_approach_small_drives():
    u = np.array([-45.0, -20.0, -3.3, -0.2, 0.0, 0.05, 0.9, 7.0, 19.9, 20.0, 31.0])
    y = hlop.lateral_rates(u, 40)
    np.testing.assert_allclose(y[[0, 1, -2, -1]], [-20.0, -20.0, 20.0, 20.0])  # clipped at ±s, as §6
    assert np.all(np.sign(y) * np.sign(u) >= 0) and np.all(np.abs(y) <= np.minimum(np.abs(u), 20.0) + 1e-12)
    small = np.linspace(0.1, 1.0, 10)
    fine = hlop.lateral_rates(small, 100_000)
    assert np.max(np.abs(fine - small) / small) < small.max() / 20.0 + 1e-3  # staircase: s/ceil(s/u)


def test_gpm_memory_keeps_the_threshold_energy_with_orthonormal_bases():
    x, _ = low_rank_inputs(40, 4, 2000, seed=6)
    memory = learning.Memory(40, 0.97)
    added = memory.update(torch.as_tensor(x.T))
    m = memory.basis.numpy()
    assert 1 <= added <= 4
    np.testing.assert_allclose(m.T @ m, np.eye(added), atol=1e-10)
    assert np.sum((m.T @ x.T) ** 2) >= 0.97 * np.sum(x**2)
    assert memory.update(torch.as_tensor(x.T)) == 0  # nothing new in the same inputs


def test_permuted_digits_follow_the_protocol():
    tasks = hlop.permuted_digits(3, seed=0)
    assert tasks.x_train.shape == (1437, 784) and tasks.x_test.shape == (360, 784)
    assert tasks.x_train.min() == 0 and tasks.x_train.max() == 1
    for perm in tasks.permutations:
        assert sorted(perm) == list(range(784))
        assert not np.array_equal(perm, np.arange(784))  # task 0 is permuted too
    x0, _ = tasks.task(0)
    assert np.linalg.matrix_rank(x0) <= 64  # an upsampled 8x8 image: at most 64 dimensions
    again = hlop.permuted_digits(3, seed=0)
    assert np.array_equal(again.permutations, tasks.permutations) and np.array_equal(again.y_test, tasks.y_test)
    assert not np.array_equal(hlop.permuted_digits(3, seed=1).permutations, tasks.permutations)


def test_encoding_fires_floor_t_p_spikes():
    raster = hlop.encode(np.array([[0.0, 0.25, 0.5, 1.0, 15 / 16]]), 8)
    np.testing.assert_array_equal(raster.sum(axis=0)[0], [0, 2, 4, 8, 7])
    np.testing.assert_array_equal(raster[:, 0, 2], [0, 1, 0, 1, 0, 1, 0, 1])
    with pytest.raises(Exception, match="values in \\[0, 1\\]"):
        hlop.encode(np.array([[1.5]]), 8)


def test_trained_weights_go_back_into_the_description():
    from spikemem.hardware.norse.training import to_network

    config = learning.Config(hidden=16, epochs=1)
    learner = learning.Learner(config, seed=0)
    tasks = hlop.permuted_digits(1, seed=0)
    x, y = tasks.task(0)
    learner.module.zero_grad()
    logits, _ = learner.forward(x[:32])
    torch.nn.functional.cross_entropy(logits, torch.as_tensor(y[:32])).backward()
    learner.step([learner.dense_grad(k) for k in range(3)], lr=5.0)
    trained = to_network(learner.module)
    for k, name in enumerate(hlop.WEIGHTS):
        np.testing.assert_allclose(hlop.dense_weights(trained, name), learner.weights()[k], rtol=1e-6, atol=1e-7)
    assert any(p.name.endswith("_inhibitory") or p.name.endswith("_excitatory") for p in trained.projections)


def test_hlop_forgets_less_than_fine_tuning():
    """784-128-128, 3 tasks, 4 epochs (about 30 s): measured BWT -1.25 (HLOP) vs -4.31 (fine-tuning)."""
    tasks = hlop.permuted_digits(3, seed=0)
    config = learning.Config(hidden=128, epochs=4, k0=(24, 40, 24), k_inc=(20, 20, 16))
    ours = learning.continual(tasks, "hlop", config, seed=0)
    plain = learning.continual(tasks, "finetune", config, seed=0)
    assert ours.accuracy[0, 0] > 90 and plain.accuracy[0, 0] > 90  # both learn the first task
    assert ours.bwt > -2.5
    assert ours.bwt > plain.bwt + 1.5
    assert ours.kept == {"w1": [24, 20, 20], "w2": [40, 20, 20], "w3": [24, 16, 16]}
