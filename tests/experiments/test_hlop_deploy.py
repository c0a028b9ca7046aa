"""The trained HLOP network deployed: through a NIR file run by Norse, and on a resistive-memory
chip (the programmed weights that the accuracy is computed with are the ones the brian2 target
programs into its synapses)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the reference runs on the norse target: pip install 'spikemem[learn]'")
pytest.importorskip("norse", reason="the reference runs on the norse target: pip install 'spikemem[learn]'")

from spikemem.experiments import _hlop_deploy as deploy  # noqa: E402
from spikemem.hardware.devices.rram import RRAM, apply_device  # noqa: E402
from spikemem.hardware.norse.module import NetworkModule  # noqa: E402
from spikemem.models import hlop  # noqa: E402
from spikemem.simulate import simulate  # noqa: E402

pytestmark = pytest.mark.torch
SIZES = (784, 24, 24, 10)


def one_sample(seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((1, 784)) * (rng.random((1, 784)) < 0.4)


def test_brian2_reads_the_chip_that_the_reference_is_given():
    """Programming noise, 16 levels, device spread and relaxation (hfox), no read noise: the
    readout potential on brian2 with the device under every projection equals the float64
    norse module's with :func:`programmed` weights, step by step."""
    weights = hlop.initial_weights(SIZES, seed=1)
    device = RRAM("hfox", read_noise=0.0, t_inf=3600.0)
    held, _ = deploy.programmed(weights, device, seed=0)
    assert max(np.max(np.abs(h - w)) for h, w in zip(held, weights)) > 1e-3  # the device changed the weights
    raster = hlop.encode(one_sample(), 8)
    net = apply_device(hlop.mlp_network(weights, 8, inputs=hlop.spike_times(raster[:, 0]), record=()), device, "all")
    ours = simulate(net, hlop.duration_ms(8), target="brian2:numpy", seed=0).traces["readout.v"].values
    module = NetworkModule(hlop.mlp_network(held, 8, record=()), hlop.duration_ms(8), dtype=torch.float64)
    full = np.zeros((module.n_steps, 1, 784))
    full[:8] = raster
    with torch.no_grad():
        ref = module({"input": torch.as_tensor(full)}).v["readout"][:, 0].numpy()
    assert np.abs(ref).max() > 0.1
    np.testing.assert_allclose(ours, ref, atol=1e-9)


def test_an_ideal_device_holds_the_weights_and_read_noise_moves_them():
    weights = hlop.initial_weights(SIZES, seed=2)
    held, read = deploy.programmed(weights, RRAM("ideal"))
    for h, w in zip(held, weights):
        np.testing.assert_allclose(h, w, atol=1e-12)
    _, noisy = deploy.programmed(weights, RRAM("hfox", read_noise=0.02))
    first, second = noisy(np.random.default_rng(0)), noisy(np.random.default_rng(1))
    assert 0 < np.max(np.abs(first[0] - second[0])) < 0.5  # a fresh read each time, within the window's noise


def reference_logits(weights: list[np.ndarray], images: np.ndarray) -> np.ndarray:
    module = NetworkModule(hlop.mlp_network(weights, 8, record=()), hlop.duration_ms(8), dtype=torch.float64)
    spikes = hlop.encode(images, 8)
    full = np.zeros((module.n_steps, *spikes.shape[1:]))
    full[:8] = spikes
    with torch.no_grad():
        return hlop.logits(module({"input": torch.as_tensor(full)}).v["readout"].numpy())


def test_the_nir_file_run_by_norse_gives_the_readout_of_the_description(tmp_path):
    """Exported with the readout's input as the graph's output (Norse reads no NIR LI node),
    read back from the file by nir and run by norse.torch.from_nir's LIF cells in float32:
    the integrated readout equals the float64 norse target's logits."""
    pytest.importorskip("nir", reason="NIR export: pip install 'spikemem[nir]'")
    weights = hlop.initial_weights(SIZES, seed=4)
    rng = np.random.default_rng(5)
    images = rng.random((12, 784)) * (rng.random((12, 784)) < 0.4)
    ours = deploy.nir_logits(weights, images, 8, str(tmp_path))
    assert (tmp_path / "hlop_mlp.nir").stat().st_size > 0
    ref = reference_logits(weights, images)
    assert np.abs(ref).max() > 0.05
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    np.testing.assert_array_equal(deploy.nir_predictions(weights, images, 8), ref.argmax(axis=1))


@pytest.mark.parametrize("target", ["brian2:numpy", pytest.param("pynn:nest", marks=pytest.mark.nest)])
def test_test_samples_run_one_after_another_give_each_samples_own_logits(target):
    """A task's samples in one run, 40 silent steps apart, the readout's potential taken per
    window (module docstring of _hlop_deploy): each sample's logits are those of a fresh
    network, the float64 norse module's."""
    from _scenarios import require

    require(target)
    weights = hlop.initial_weights(SIZES, seed=6)
    rng = np.random.default_rng(7)
    images = rng.random((15, 784)) * (rng.random((15, 784)) < 0.4)
    ours = deploy.sequential_logits(weights, images, 8, target)
    ref = reference_logits(weights, images)
    assert np.ptp(ref, axis=0).max() > 0.05  # the samples differ
    np.testing.assert_allclose(ours, ref, atol=1e-9)
