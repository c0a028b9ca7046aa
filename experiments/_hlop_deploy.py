"""The trained continual learner on other targets: the same Network, its test samples as spike times.

Each chunk of test samples is one run: copies of :func:`spikemem.models.hlop.mlp_network`
with the trained weights, one per sample, side by side (:func:`spikemem.batch.stack`), each
with the sample's input spikes. A sample's class is the readout's largest mean potential
(:func:`spikemem.models.hlop.logits`), on the target as in the float64 ``norse`` module
that is the reference.
"""

from __future__ import annotations

import numpy as np

from spikemem.batch import split, stack
from spikemem.models import hlop
from spikemem.simulate import simulate

#: Samples per run: a chunk is ``CHUNK`` copies of the network's 267 k synapses (H = 256).
CHUNK = 10


def reference_predictions(weights: list[np.ndarray], images: np.ndarray, n_steps: int) -> np.ndarray:
    """Classes that the float64 ``norse`` module gives (the PyTorch reference)."""
    import torch

    from spikemem.hardware.norse.module import NetworkModule

    network = hlop.mlp_network(weights, n_steps, record=())
    module = NetworkModule(network, hlop.duration_ms(n_steps), dtype=torch.float64)
    spikes = hlop.encode(images, n_steps)
    raster = np.zeros((module.n_steps, *spikes.shape[1:]))
    raster[: len(spikes)] = spikes
    with torch.no_grad():
        rec = module({"input": torch.as_tensor(raster)})
    return hlop.logits(rec.v["readout"].numpy()).argmax(axis=1)


def target_predictions(weights: list[np.ndarray], images: np.ndarray, n_steps: int, target: str) -> np.ndarray:
    """Classes that ``target`` gives, ``CHUNK`` samples per run."""
    out = []
    for start in range(0, len(images), CHUNK):
        rasters = hlop.encode(images[start : start + CHUNK], n_steps)
        nets = [
            hlop.mlp_network(weights, n_steps, inputs=hlop.spike_times(rasters[:, b]), record=())
            for b in range(rasters.shape[1])
        ]
        res = simulate(stack(nets), hlop.duration_ms(n_steps), target=target)
        for part in split(res, nets):
            out.append(int(hlop.logits(part.traces["readout.v"].values).argmax()))
    return np.array(out)


def evaluate(
    weights: list[np.ndarray], tasks: hlop.Tasks, n_steps: int, target: str, samples: int
) -> tuple[float, float]:
    """Accuracy (%) of ``target`` over the first ``samples`` test samples of every task, and
    the share (%) of its predictions equal to the PyTorch reference's."""
    correct = agree = total = 0
    for t in range(tasks.n_tasks):
        x, y = tasks.task(t, "test")
        x, y = x[:samples], y[:samples]
        mine = target_predictions(weights, x, n_steps, target)
        ref = reference_predictions(weights, x, n_steps)
        correct += int((mine == y).sum())
        agree += int((mine == ref).sum())
        total += len(y)
    return 100.0 * correct / total, 100.0 * agree / total


def spinnaker_fit(weights: list[np.ndarray], tasks: hlop.Tasks, n_steps: int) -> dict[str, object]:
    """What SpiNNaker makes of the trained network (:func:`spikemem.hardware.spinnaker.limits.constraints`):
    cores, violations, the 16-bit weight grid's largest error per layer, and the accuracy
    (%) over every task's whole test set with the weights moved onto that grid, beside the
    float weights' (both on the float64 ``norse`` module: the chip's own arithmetic, which
    the report lists as a violation for ``IF_curr_delta``, is not emulated)."""
    from spikemem.hardware.spinnaker.limits import constraints, quantise

    network = hlop.mlp_network(weights, n_steps, record=())
    report = constraints(network)
    fixed = quantise(network, report)
    fixed_weights = [hlop.dense_weights(fixed, name) for name in hlop.WEIGHTS]
    float_acc, fixed_acc = [], []
    for t in range(tasks.n_tasks):
        x, y = tasks.task(t, "test")
        float_acc.append(100.0 * float(np.mean(reference_predictions(weights, x, n_steps) == y)))
        fixed_acc.append(100.0 * float(np.mean(reference_predictions(fixed_weights, x, n_steps) == y)))
    return {
        "cores": report.total_cores,
        "violations": list(report.violations),
        "max_weight_error": {
            name: float(np.max(np.abs(fixed_weights[k] - weights[k]))) for k, name in enumerate(hlop.WEIGHTS)
        },
        "float_accuracy": float_acc,
        "fixed_accuracy": fixed_acc,
        "report": str(report),
    }
