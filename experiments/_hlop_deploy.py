r"""The trained continual learner on other targets: the same Network, its test samples as spike times.

On a simulator the test samples of a task follow one another in one run of
:func:`spikemem.models.hlop.mlp_network` with the trained weights (:func:`target_predictions`):
sample ``i`` enters at step ``i·P``, ``P`` its ``T`` input steps, the network's depth and
``GAP_STEPS`` of silence, in which the hidden cells' potential decays by :math:`2^{-40}`
(λ = 0.5 per step; they cannot fire without input). The readout integrates across samples,
so a sample's potential is its window's minus what the window started with, leaked:
:math:`v_i[k] = v[iP + k] - \lambda_r^k\, v[iP]`. A sample's class is its readout's largest
mean potential (:func:`spikemem.models.hlop.logits`), as in the float64 ``norse`` module
that is the reference. One run per task builds the synapses once and, with a device under
them, programs one chip that every sample meets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spikemem.models import hlop
from spikemem.simulate import simulate

#: Silent steps between two test samples run one after another (module docstring).
GAP_STEPS = 40


def classes(logits: np.ndarray) -> np.ndarray:
    """Each sample's class: its largest logit, the logits rounded to 1e-9 mV first, so that
    classes tied on one target (an untrained readout often is) stay tied on another despite
    the float residue of :func:`sequential_logits`' subtraction (about 1e-15)."""
    return np.round(np.asarray(logits), 9).argmax(axis=1)


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
    return classes(hlop.logits(rec.v["readout"].numpy()))


def target_predictions(
    weights: list[np.ndarray], images: np.ndarray, n_steps: int, target: str, device: Any = None, seed: int = 0
) -> np.ndarray:
    """Classes that ``target`` gives the ``images``, one after another in one run (module
    docstring); with a ``device`` (:class:`~spikemem.hardware.devices.rram.RRAM`) under every
    projection, programmed from the run's ``seed`` (:func:`programmed`)."""
    return classes(sequential_logits(weights, images, n_steps, target, device, seed))


def sequential_logits(
    weights: list[np.ndarray], images: np.ndarray, n_steps: int, target: str, device: Any = None, seed: int = 0
) -> np.ndarray:
    """Logits ``[samples, 10]`` of the ``images`` run one after another on ``target``."""
    rasters = hlop.encode(images, n_steps)  # [T, B, n]
    window = n_steps + hlop.DEPTH
    period = window + GAP_STEPS
    steps, samples, neurons = np.nonzero(rasters)
    times = (samples * period + steps) * hlop.DT_MS
    trains = [np.sort(times[neurons == j]).tolist() for j in range(rasters.shape[2])]
    net = hlop.mlp_network(weights, n_steps, inputs=trains, record=())
    if device is not None:
        from spikemem.hardware.devices.rram import apply_device

        net = apply_device(net, device, "all")
    v = simulate(net, len(images) * period * hlop.DT_MS, target=target, seed=seed).traces["readout.v"].values
    leak = np.exp(-hlop.DT_MS / hlop.READOUT_TAU_MS) ** np.arange(window)[:, None]
    starts = np.arange(len(images)) * period
    return np.stack([hlop.logits(v[s : s + window] - leak * v[s]) for s in starts])


def nir_logits(weights: list[np.ndarray], images: np.ndarray, n_steps: int, folder: str) -> np.ndarray:
    """Logits from the network exported to a NIR file in ``folder``, read back and run by
    Norse (``norse.torch.from_nir``): the hidden layers are Norse's LIF cells, the graph's
    output each step is the readout's input (:func:`spikemem.hardware.norse.nir.to_norse_graph`
    with ``integrate_last``), integrated as spikemem's readout
    (:func:`~spikemem.hardware.norse.nir.integrate`)."""
    import os

    import nir
    import norse.torch as norse_torch
    import torch

    from spikemem.hardware.norse.nir import integrate, to_norse_graph

    network = hlop.mlp_network(weights, n_steps, record=())
    path = os.path.join(folder, "hlop_mlp.nir")
    nir.write(path, to_norse_graph(network, integrate_last=True))
    model = norse_torch.from_nir(nir.read(path), dt=network.dt * 1e-3, ignore_warnings=True)
    spikes = hlop.encode(images, n_steps)
    samples = int(round(hlop.duration_ms(n_steps) / network.dt))
    state, currents = None, []
    with torch.no_grad():
        for k in range(samples):
            x = spikes[k] if k < len(spikes) else np.zeros_like(spikes[0])
            out, state = model(torch.as_tensor(x, dtype=torch.float32), state)
            currents.append(out.numpy().astype(float))
    return hlop.logits(integrate(np.stack(currents), network, samples))


def nir_predictions(weights: list[np.ndarray], images: np.ndarray, n_steps: int) -> np.ndarray:
    """Classes that the NIR export gives in Norse (:func:`nir_logits`), in chunks of 400."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        chunks = [images[k : k + 400] for k in range(0, len(images), 400)]
        return np.concatenate([classes(nir_logits(weights, x, n_steps, folder)) for x in chunks])


def evaluate_tasks(
    weights: list[np.ndarray], tasks: hlop.Tasks, n_steps: int, target: str, samples: int | None
) -> dict[str, Any]:
    """``target`` (``nir``: :func:`nir_predictions`) against the PyTorch reference on the first
    ``samples`` test samples of every task (all: ``None``), as :func:`compare` gives it."""

    def predict(x: np.ndarray) -> np.ndarray:
        if target == "nir":
            return nir_predictions(weights, x, n_steps)
        return target_predictions(weights, x, n_steps, target)

    return compare(tasks, samples, predict, lambda x: reference_predictions(weights, x, n_steps))


def compare(
    tasks: hlop.Tasks,
    samples: int | None,
    predict: Callable[[np.ndarray], np.ndarray],
    reference: Callable[[np.ndarray], np.ndarray],
) -> dict[str, Any]:
    """Per task, over its first ``samples`` test samples (all: ``None``): the accuracy (%) of
    the classes ``predict`` gives and of those ``reference`` gives; overall, ``acc``, ``agree``
    (the share of predictions equal to the reference's, %) and ``max_gap``, the largest
    difference of the two accuracies on one task (points)."""
    mine_acc, ref_acc = [], []
    correct = agree = total = 0
    for t in range(tasks.n_tasks):
        x, y = tasks.task(t, "test")
        x, y = x[:samples], y[:samples]
        mine, ref = predict(x), reference(x)
        mine_acc.append(100.0 * float(np.mean(mine == y)))
        ref_acc.append(100.0 * float(np.mean(ref == y)))
        correct += int((mine == y).sum())
        agree += int((mine == ref).sum())
        total += len(y)
    return {
        "acc": 100.0 * correct / total,
        "agree": 100.0 * agree / total,
        "per_task": mine_acc,
        "reference_per_task": ref_acc,
        "max_gap": float(np.max(np.abs(np.subtract(mine_acc, ref_acc)))),
        "samples_per_task": total // tasks.n_tasks,
    }


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


def programmed(weights: list[np.ndarray], device: Any, seed: int = 0) -> tuple[list[np.ndarray], Any]:
    """The trained weights programmed once into differential pairs of ``device``
    (:func:`spikemem.hardware.devices.rram.program`: quantisation, programming noise,
    device-to-device spread, faults, ageing), each projection from the draws the ``brian2``
    target makes for it with ``seed``. Returns the pairs' effective signed weights per layer
    and a function ``read(rng)`` giving one fresh read of every device (read noise, §4)."""
    from spikemem.hardware.devices import rram

    network = hlop.mlp_network(weights, 1, record=())
    chips = []
    for proj in network.projections:
        conns = network.connections(proj, seed)
        w = np.asarray(conns.weight, dtype=float)
        scale = rram.weight_scale(device, proj.synapse, w)
        plus, minus = rram.program(device, w, scale, rram.device_rng(seed, proj.name))
        chips.append((proj, conns, scale, plus, minus))

    def dense(values: list[np.ndarray]) -> list[np.ndarray]:
        out = [np.zeros_like(w) for w in weights]
        for (proj, conns, *_), v in zip(chips, values):
            layer = hlop.WEIGHTS.index(proj.name.rsplit("_", 1)[0])
            sign = 1.0 if proj.receptor == "excitatory" else -1.0
            np.add.at(out[layer], (conns.i, conns.j), sign * v)
        return out

    def read(rng: np.random.Generator) -> list[np.ndarray]:
        return dense([rram.read_weights(device, p, m, s, rng) for _, _, s, p, m in chips])

    return dense([rram.effective_weight(device, p, m, s) for _, _, s, p, m in chips]), read


def rram_accuracy(
    weights: list[np.ndarray], tasks: hlop.Tasks, n_steps: int, device: Any, seed: int = 0, chunk: int = 40
) -> dict[str, list[float]]:
    """Accuracy (%) per task over its whole test set on the float64 ``norse`` module with the
    weights of one programmed chip (:func:`programmed`): ``"programmed"`` reads the devices
    without read noise, ``"read"`` with a fresh read of every device for each ``chunk`` of
    samples (a time-stepped target's reads, coarser than the per-spike reads of ``brian2``)."""
    held, read = programmed(weights, device, seed)
    rng = np.random.default_rng((seed, 0x4EAD))
    out: dict[str, list[float]] = {"programmed": [], "read": []}
    for t in range(tasks.n_tasks):
        x, y = tasks.task(t, "test")
        out["programmed"].append(100.0 * float(np.mean(reference_predictions(held, x, n_steps) == y)))
        hits = [
            reference_predictions(read(rng), x[k : k + chunk], n_steps) == y[k : k + chunk]
            for k in range(0, len(x), chunk)
        ]
        out["read"].append(100.0 * float(np.mean(np.concatenate(hits))))
    return out
