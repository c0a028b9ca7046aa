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
from typing import Any

import numpy as np

from spikemem import _checks as chk
from spikemem.cells import IF_curr_delta
from spikemem.connectors import FromList
from spikemem.errors import ValidationError
from spikemem.model import Model
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
#: Membrane time constant of the lateral circuit's neurons: no leak to speak of over a run.
LATERAL_TAU_MS = 1.0e9
#: The spiking lateral neurons' scale ``s``: threshold and clip of the signed rate (spec §6).
LATERAL_SCALE = 20.0
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


def permuted_mnist(source: Any, n_tasks: int = 10, seed: int = 0, field: str = "folder") -> Tasks:
    """Permuted MNIST (spec §10.8, the authors' benchmark) from MNIST's IDX files in the folder
    ``source`` (:mod:`spikemem.mnist`; or its splits, already loaded): its 60 000 training and
    10 000 test images divided by 255, one seeded permutation of the 784 pixels per task
    (task 0 permuted too)."""
    from spikemem import mnist

    n_tasks = chk.count("n_tasks", n_tasks, minimum=1)
    splits = source if isinstance(source, dict) else mnist.load(source, field)
    flat = {k: (v.images.reshape(len(v.images), -1) / np.float32(255.0)).astype(np.float32) for k, v in splits.items()}
    rng = np.random.default_rng(seed)
    permutations = np.stack([rng.permutation(SIDE * SIDE) for _ in range(n_tasks)])
    train, test = splits["train"], splits["test"]
    return Tasks(flat["train"], train.labels.astype(np.int64), flat["test"], test.labels.astype(np.int64), permutations)


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
        projections += signed_projections(name, pre, post, w)
    probes = [Probe("readout", "v", every_ms=DT_MS)] + [Probe(name) for name in record]
    return Network(pops, projections, probes, dt=DT_MS, name="hlop_mlp")


def signed_projections(name: str, pre: str, post: str, w: np.ndarray, delay: float = DT_MS) -> list[Projection]:
    """A signed weight matrix ``w`` ``[n_pre, n_post]`` as two delta projections,
    ``<name>_exc`` (the positive entries) and ``<name>_inh`` (the magnitudes of the negative ones)."""
    out = []
    for part, receptor, mask in (("exc", "excitatory", w > 0), ("inh", "inhibitory", w < 0)):
        i, j = np.nonzero(mask)
        rows = np.column_stack([i, j, np.abs(w[i, j]), np.full(len(i), delay)])
        out.append(Projection(f"{name}_{part}", pre, post, FromList(rows), Static(weight=0.0, delay=delay), receptor))
    return out


def lateral_network(h: np.ndarray, x: np.ndarray, n_steps: int, scale: float = LATERAL_SCALE) -> Network:
    r"""The lateral circuit of one protected layer as spiking neurons (:func:`lateral_rates`
    gives what it computes), for one presynaptic pattern ``x`` (``[n]``, 0/1 spikes) held for
    ``n_steps`` = :math:`T_h` steps.

    Populations: ``presynaptic`` (fires ``x`` in each of the ``T_h`` steps), ``lateral_pos``
    and ``lateral_neg`` (``k`` non-leaky integrate-and-fire neurons each, threshold ``s``,
    reset to 0, driven by :math:`+Hx` and :math:`-Hx` per step: the positive and negative
    halves of the signed rate) and ``projected`` (``n`` non-spiking integrators receiving
    ``x / T_h`` per step and :math:`\mp s H^\top / T_h` per lateral spike), whose potential at
    the end is the projected trace :math:`\tilde x = x - H^\top \hat y`. Run it for
    :func:`lateral_duration_ms`; probes: both lateral populations' spikes and ``projected.v``.
    """
    h = np.asarray(h, dtype=float)
    x = np.asarray(x, dtype=float)
    if h.ndim != 2 or x.shape != (h.shape[1],):
        raise ValidationError("x", f"shape {x.shape}", f"({h.shape[1]},): one value per column of H")
    if not np.all((x == 0) | (x == 1)):
        raise ValidationError("x", "values other than 0 and 1", "a presynaptic spike pattern of 0s and 1s")
    n_steps = chk.count("n_steps", n_steps, minimum=1)
    k, n = h.shape
    lateral = IF_curr_delta(
        cm=1.0, tau_m=LATERAL_TAU_MS, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=float(scale), v_init=0.0
    )
    integrator = IF_curr_delta(
        cm=1.0, tau_m=LATERAL_TAU_MS, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=READOUT_THRESHOLD_MV
    )
    held = tuple(float(t) for t in range(n_steps))
    trains = tuple(held if on else () for on in x)
    pops = [
        Population("presynaptic", n, SpikeTimes(trains)),
        Population("lateral_pos", k, lateral),
        Population("lateral_neg", k, lateral),
        Population("projected", n, integrator),
    ]
    feedback = h * scale / n_steps
    projections = [
        *signed_projections("drive_pos", "presynaptic", "lateral_pos", h.T),
        *signed_projections("drive_neg", "presynaptic", "lateral_neg", -h.T),
        *signed_projections("feedback_pos", "lateral_pos", "projected", -feedback),
        *signed_projections("feedback_neg", "lateral_neg", "projected", feedback),
        *signed_projections("trace", "presynaptic", "projected", np.eye(n) / n_steps),
    ]
    probes = [Probe("lateral_pos"), Probe("lateral_neg"), Probe("projected", "v", every_ms=DT_MS)]
    return Network(pops, projections, probes, dt=DT_MS, name="hlop_lateral")


def lateral_duration_ms(n_steps: int) -> float:
    """Run time of :func:`lateral_network`: ``T_h`` input steps, the drive's and the feedback's step."""
    return (n_steps + 3) * DT_MS


def lateral_rates(drive: np.ndarray, n_steps: int, scale: float = LATERAL_SCALE) -> np.ndarray:
    r"""The signed output of the spiking lateral neurons for drives :math:`u = Hx` (any shape):

    .. math::

        \hat y = \frac{s}{T_h}\big(N(u) - N(-u)\big), \qquad
        N(u) = \Big\lfloor T_h \big/ \lceil s / u \rceil \Big\rfloor \ (u > 0), \quad N(u) = 0 \ (u \le 0)

    ``N`` is the spike count of a non-leaky integrate-and-fire neuron (threshold ``s``, reset
    to 0) receiving ``u`` in each of ``T_h`` steps: it fires every :math:`\lceil s/u \rceil`
    steps, the overshoot lost at each reset. So :math:`\hat y` is the code's clip at
    :math:`\pm s` (§6) on a staircase, :math:`s / \lceil s/u \rceil` below it, that is
    linear only for :math:`|u| \ll s`, and counted in steps of :math:`s / T_h`."""
    u = np.asarray(drive, dtype=float)
    return scale / n_steps * (_if_counts(u, n_steps, scale) - _if_counts(-u, n_steps, scale))


def _if_counts(u: np.ndarray, n_steps: int, scale: float) -> np.ndarray:
    period = np.ceil(scale / np.where(u > 0, u, np.inf))
    return np.where(u > 0, np.floor(n_steps / np.maximum(period, 1.0)), 0.0)


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


# --- the trained network and its lateral circuits under ``spikemem export`` -------------------


def trained(path: str, method: str = "hlop", field: str = "--results") -> dict[str, Any]:
    """What ``spikemem run hlop --out FILE`` kept of ``method``'s seed 0: ``weights`` (three
    ``[n_pre, n_post]`` matrices), ``lateral`` (``H`` per layer, HLOP only) and the run's
    ``options``; refused, naming ``field``, if the file holds no such run."""
    import json
    from pathlib import Path

    import h5py

    if not Path(path).is_file():
        raise ValidationError(field, path, "a file written by spikemem run hlop --out")
    try:
        with h5py.File(path, "r") as fh:
            if f"{method}/seed0/w1" not in fh:
                runs = ", ".join(k for k in fh if isinstance(fh[k], h5py.Group)) or "none"
                raise ValidationError(field, path, f"a file holding a {method} run (it holds: {runs})")
            group = fh[f"{method}/seed0"]
            weights = [group[name][()] for name in WEIGHTS]
            lateral = {name: group[f"H_{name}"][()] for name in WEIGHTS if f"H_{name}" in group}
            options = json.loads(fh.attrs.get("options", "{}"))
    except OSError:
        raise ValidationError(field, path, "an HDF5 file written by spikemem run hlop --out") from None
    return {"weights": weights, "lateral": lateral, "options": options}


def _mlp_arguments(p: Any) -> None:
    p.add_argument("--results", help="a spikemem run hlop --out file: its trained weights (default: untrained)")
    p.add_argument("--method", default="hlop", help="which trained run of the file (default hlop)")
    p.add_argument("--hidden", type=int, default=256, help="hidden width of an untrained network (default 256)")
    p.add_argument("--steps", type=int, help="input steps (default: the run's, else 8)")
    p.add_argument("--task", type=int, default=0, help="the input: test sample --sample of this task (default 0)")
    p.add_argument("--sample", type=int, default=0, help="index into the task's test set (default 0)")


def _steps(args: Any, options: dict[str, Any]) -> int:
    return chk.count("--steps", args.steps if args.steps is not None else options.get("steps", 8), minimum=1)


def _export_mlp(args: Any) -> Network:
    """The spiking MLP with one Permuted-Digits-784 test sample as its input spikes."""
    if args.results:
        run = trained(args.results, args.method)
        if run["options"].get("mnist"):
            raise ValidationError("--results", args.results, "a Permuted-Digits-784 run (MNIST is not on every disk)")
        weights, options = run["weights"], run["options"]
    else:
        hidden = chk.count("--hidden", args.hidden, minimum=2)
        weights, options = initial_weights((SIDE * SIDE, hidden, hidden, 10), seed=0), {}
    task = chk.count("--task", args.task, minimum=0)
    tasks = permuted_digits(task + 1, seed=0)
    x, _ = tasks.task(task, "test")
    sample = chk.count("--sample", args.sample, minimum=0)
    if sample >= len(x):
        raise ValidationError("--sample", sample, f"an index below {len(x)}, the test set's size")
    steps = _steps(args, options)
    raster = encode(x[sample : sample + 1], steps)[:, 0]
    return mlp_network(weights, steps, inputs=spike_times(raster))


def _lateral_arguments(p: Any) -> None:
    p.add_argument("--results", help="a spikemem run hlop --out file: its learned H (default: random orthonormal)")
    p.add_argument("--method", default="hlop", help="which trained run of the file (default hlop)")
    p.add_argument("--layer", default="w1", help="the protected layer: w1 (input), w2, w3 (default w1)")
    p.add_argument("--neurons", type=int, default=24, help="lateral neurons of a random H (default 24)")
    p.add_argument("--inputs", type=int, default=784, help="presynaptic neurons of a random H (default 784)")
    p.add_argument("--steps", type=int, default=40, help="T_h, the steps the lateral neurons count over (default 40)")
    p.add_argument("--density", type=float, default=0.3, help="share of presynaptic neurons that spike (default 0.3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random pattern (and random H)")


def _export_lateral(args: Any) -> Network:
    """A layer's lateral circuit (:func:`lateral_network`) on a seeded random 0/1 pattern."""
    seed = chk.seed("--seed", args.seed)
    rng = np.random.default_rng(seed)
    if args.results:
        chk.one_of("--layer", args.layer, WEIGHTS)
        lateral = trained(args.results, args.method)["lateral"]
        if args.layer not in lateral:
            raise ValidationError("--method", args.method, "an HLOP run (its file keeps the lateral neurons' H)")
        h = lateral[args.layer]
    else:
        k = chk.count("--neurons", args.neurons, minimum=1)
        n = chk.count("--inputs", args.inputs, minimum=k)
        h = np.linalg.qr(rng.standard_normal((n, k)))[0].T
    density = chk.finite("--density", args.density)
    if not 0.0 <= density <= 1.0:
        raise ValidationError("--density", args.density, "a share in [0, 1]")
    x = (rng.random(h.shape[1]) < density).astype(float)
    return lateral_network(h, x, chk.count("--steps", args.steps, minimum=1))


MODELS = [
    Model(
        "hlop",
        "HLOP's spiking MLP 784-H-H-10 (trained weights from a spikemem run hlop file) on one test sample",
        _export_mlp,
        lambda args: duration_ms(_steps(args, trained(args.results, args.method)["options"] if args.results else {})),
        _mlp_arguments,
    ),
    Model(
        "hlop-lateral",
        "HLOP's lateral circuit of one layer as spiking neurons: y = Hx by two IF populations, x - H^T y",
        _export_lateral,
        lambda args: lateral_duration_ms(args.steps),
        _lateral_arguments,
    ),
]
