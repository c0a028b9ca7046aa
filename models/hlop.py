r"""The spiking MLP that HLOP protects, and the Permuted-Digits-784 tasks it learns (spec hlop.md §10).

HLOP (Hebbian Learning based Orthogonal Projection; Xiao et al., ICLR 2024) keeps a layer's
response to old tasks by projecting the presynaptic trace ``x`` used in its weight update
onto the orthogonal complement of the old tasks' principal subspace, which ``k`` lateral
neurons learn with Oja's subspace rule:

.. math::

    y = H x, \qquad \Delta W = \delta\,\big((I - H^\top H)\,x\big)^\top, \qquad
    \Delta H = \eta\,\big(y x^\top - y y^\top H\big)

This module holds only data: the network and the tasks. Training (BPTT through the
``norse`` target, the Oja updates, GPM) lives with the experiment,
:mod:`spikemem.experiments._hlop_learning`.

The network is spikemem's own design, not the authors' (their code trains a DSR or
spikingjelly LIF in PyTorch alone): ``784-H-H-10`` without biases, every layer of
:class:`~spikemem.cells.IF_curr_delta` cells (``v_rest = v_reset = 0``, threshold 1,
``λ = exp(-dt/τ_m) = 0.5`` per step as the spec's BPTT LIF, §8.1, hard reset instead of its
soft one); the image enters as regular spike trains (pixel value ``p`` in [0, 1] fires
``floor(T p)`` spikes in ``T`` steps, :func:`encode`); the classifier is a non-spiking
readout whose potential, averaged over the run's samples, is the logit (:func:`logits`).
A weight matrix is two projections, ``<layer>_exc`` and ``<layer>_inh``, holding the
positive and negative entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikemem import _checks as chk
from spikemem.cells import IF_curr_delta
from spikemem.connectors import FromList
from spikemem.errors import ValidationError
from spikemem.network import Network, Population, Probe, Projection
from spikemem.sources import SpikeTimes
from spikemem.synapses import Static

#: Time step (ms) of the spiking MLP.
DT_MS = 1.0
#: Membrane time constant giving a decay of 0.5 per step (spec §8.1, spikingjelly ``tau = 2``).
TAU_M_MS = DT_MS / np.log(2.0)
#: The readout never fires: its threshold is far above any potential it reaches.
READOUT_THRESHOLD_MV = 1.0e9
#: The readout barely leaks: its potential is the running sum of its weighted inputs.
READOUT_TAU_MS = 1.0e6
#: Steps from an input spike to its effect on the readout (one per layer, delta synapses).
DEPTH = 3
#: Names of the layers' populations, from the input to the readout.
LAYERS = ("input", "hidden1", "hidden2", "readout")
#: Names of the weight matrices (each two projections, ``_exc`` and ``_inh``).
WEIGHTS = ("w1", "w2", "w3")
#: The 8×8 digits are replicated 3× per pixel and padded by 2 to 28 × 28 (spec §10.3).
SIDE = 28


@dataclass(frozen=True)
class Tasks:
    """Permuted-Digits-784: one pixel permutation per task over the same train/test split.

    ``x_*`` are images ``[samples, 784]`` in [0, 1] (unpermuted), ``permutations[t]`` the
    pixel order of task ``t`` (task 0 is permuted too, as in the authors' loader).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    permutations: np.ndarray

    @property
    def n_tasks(self) -> int:
        return len(self.permutations)

    def task(self, t: int, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """Images and labels of task ``t`` on ``split`` ("train" or "test")."""
        x, y = (self.x_train, self.y_train) if split == "train" else (self.x_test, self.y_test)
        return x[:, self.permutations[t]], y


def permuted_digits(n_tasks: int = 10, seed: int = 0) -> Tasks:
    """Permuted-Digits-784 (spec §10.3): scikit-learn's 1797 digits, each pixel replicated
    3×3, zero-padded by 2 to 28×28, divided by 16; a seeded shuffle split 80/20 (1437 train,
    360 test), the same split for every task; one seeded permutation of the 784 pixels per task."""
    from sklearn.datasets import load_digits

    n_tasks = chk.count("n_tasks", n_tasks, minimum=1)
    digits = load_digits()
    images = np.stack([np.kron(im, np.ones((3, 3))) for im in digits.images])
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))).reshape(len(images), SIDE * SIDE) / 16.0
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    n_train = int(0.8 * len(images))  # 1437 of 1797
    train, test = order[:n_train], order[n_train:]
    permutations = np.stack([rng.permutation(SIDE * SIDE) for _ in range(n_tasks)])
    return Tasks(images[train], digits.target[train], images[test], digits.target[test], permutations)


def encode(images: np.ndarray, n_steps: int) -> np.ndarray:
    """Regular spike trains of the images ``[B, n]`` (values in [0, 1]) over ``n_steps`` steps:
    ``[n_steps, B, n]`` 0/1, pixel ``p`` spiking in step ``k`` when ``floor((k+1) p)`` exceeds
    ``floor(k p)``, ``floor(n_steps p)`` spikes in all, the same on every target."""
    x = np.asarray(images, dtype=float)
    if x.ndim != 2 or np.any(x < 0) or np.any(x > 1):
        raise ValidationError("images", f"array of shape {x.shape}", "[samples, pixels] with values in [0, 1]")
    k = np.arange(n_steps + 1, dtype=float)[:, None, None]
    counts = np.floor(k * x[None] + 1e-9)
    return (np.diff(counts, axis=0) > 0).astype(np.uint8)


def spike_times(raster: np.ndarray, dt: float = DT_MS) -> list[list[float]]:
    """One sample's raster ``[T, n]`` as spike times (ms) per neuron."""
    return [list(np.flatnonzero(raster[:, i]) * dt) for i in range(raster.shape[1])]


def duration_ms(n_steps: int, dt: float = DT_MS) -> float:
    """Simulated time of one sample: its ``n_steps`` input steps and the network's depth."""
    return (n_steps + DEPTH) * dt


def initial_weights(sizes: tuple[int, ...], seed: int) -> list[np.ndarray]:
    """Kaiming-uniform-like initial weights ``[n_pre, n_post]`` per layer, scaled to the
    threshold of 1: ``U(-a, a)`` with ``a = gain / sqrt(n_pre)``."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, (n_in, n_out)) * 2.0 / np.sqrt(n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def mlp_network(
    weights: list[np.ndarray],
    n_steps: int = 8,
    inputs: list[list[float]] | None = None,
    record: tuple[str, ...] = ("hidden1", "hidden2"),
) -> Network:
    """The spiking MLP with ``weights`` (``[n_pre, n_post]`` per layer, signed), ready to run
    one sample of ``n_steps`` input steps (``inputs``: its spike times per input neuron;
    none by default, for batched targets that take rasters). Probes: the readout's ``v`` at
    every step and the spikes of ``record``."""
    if len(weights) != len(WEIGHTS):
        raise ValidationError("weights", f"{len(weights)} matrices", f"{len(WEIGHTS)}, one per layer")
    sizes = [weights[0].shape[0]] + [w.shape[1] for w in weights]
    for k, w in enumerate(weights[1:], start=1):
        if w.shape[0] != sizes[k]:
            raise ValidationError(f"weights[{k}]", f"shape {w.shape}", f"({sizes[k]}, n): the previous layer's size")
    hidden = IF_curr_delta(cm=1.0, tau_m=TAU_M_MS, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0, v_init=0.0)
    readout = IF_curr_delta(
        cm=1.0, tau_m=READOUT_TAU_MS, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=READOUT_THRESHOLD_MV
    )
    trains = inputs if inputs is not None else [[] for _ in range(sizes[0])]
    pops = [Population("input", sizes[0], SpikeTimes(tuple(tuple(t) for t in trains)))]
    pops += [Population(name, n, hidden) for name, n in zip(LAYERS[1:-1], sizes[1:-1])]
    pops.append(Population("readout", sizes[-1], readout))
    projections = []
    for name, w, pre, post in zip(WEIGHTS, weights, LAYERS[:-1], LAYERS[1:]):
        for part, receptor, mask in (("exc", "excitatory", w > 0), ("inh", "inhibitory", w < 0)):
            i, j = np.nonzero(mask)
            rows = np.column_stack([i, j, np.abs(w[i, j]), np.full(len(i), DT_MS)])
            projections.append(
                Projection(f"{name}_{part}", pre, post, FromList(rows), Static(weight=0.0, delay=DT_MS), receptor)
            )
    probes = [Probe("readout", "v", every_ms=DT_MS)] + [Probe(name) for name in record]
    return Network(pops, projections, probes, dt=DT_MS, name="hlop_mlp")


def dense_weights(network: Network, name: str) -> np.ndarray:
    """Layer ``name``'s signed weight matrix ``[n_pre, n_post]`` from the network's
    projections onto it (excitatory positive, inhibitory negative)."""
    first = network.projection(f"{name}_exc")
    w = np.zeros((network.population(first.pre).size, network.population(first.post).size))
    for proj in network.projections:
        if proj.name == name or proj.name.startswith(f"{name}_"):
            conns = network.connections(proj, 0)
            sign = 1.0 if proj.receptor == "excitatory" else -1.0
            np.add.at(w, (conns.i, conns.j), sign * np.asarray(conns.weight))
    return w


def logits(readout_v: np.ndarray) -> np.ndarray:
    """The classifier's logits from the readout's potential ``[samples_in_time, ..., 10]``:
    its mean over the run's samples."""
    return np.asarray(readout_v).mean(axis=0)
