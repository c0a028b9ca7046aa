r"""Continual learning of the spiking MLP through the ``norse`` target: HLOP, GPM, fine-tuning, multitask.

Per minibatch the network runs forward with the raw inputs (:class:`NetworkModule`),
BPTT with the surrogate gradient gives each layer's gradient :math:`G = \sum_t x_t^\top \delta_t`
(``[n_pre, n_post]``, :math:`x_t` the presynaptic spikes of step ``t``), and a protected
layer steps with the gradient of the projected traces (spec hlop.md §2):

.. math::

    \tilde G = \sum_t \big((I - H^\top H) x_t\big)^\top \delta_t = (I - H^\top H)\, G

(the same matrix: the projection is linear), ``H`` being the frozen rows of the layer's
lateral neurons (:class:`Subspace`, HLOP) or its stored bases (:class:`Memory`, GPM).
Spiking lateral neurons are not linear in ``x``: their projected traces
:math:`x_t - H^\top \hat y(x_t)` enter the backward pass step by step
(:attr:`NetworkModule.weight_traces`), the forward pass still seeing the raw ``x_t``.
Task 0 is never projected. There are no biases and the thresholds are fixed, so only the
weight matrices are ever trained (§4.2). The trained weights go back into the description
with :func:`spikemem.hardware.norse.training.to_network`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from spikemem.hardware.norse.module import NetworkModule
from spikemem.models import hlop

#: How lateral neurons with ``Config.spiking`` make their output: the spiking circuit, or the code's emulation.
LATERAL_SCHEMES = ("neurons", "quantised")
#: Oja iterations per minibatch, EMA momentum and element clamp (spec §3.2).
HEBB_ITERATIONS, HEBB_MOMENTUM, HEBB_CLAMP = 5, 0.9, 10.0


class Subspace:
    r"""The lateral neurons of one protected layer: ``k`` rows of ``H`` (``[k, n]``), the
    first ``frozen`` of them the merged old group, learned by Oja's subspace rule on
    minibatches ``X`` (``[rows, n]``, spec §3.2), repeated ``HEBB_ITERATIONS`` times:

    .. math::

        Y = X H^\top, \quad
        \Delta H = \mathrm{clip}\big(Y^\top (X - Y H) / B, \pm 10\big), \quad
        M \leftarrow 0.9 M + 0.1 \Delta H, \quad H \leftarrow H + \eta M

    on the plastic rows only (old rows frozen, their momentum kept). With ``spiking = (s, T_h)``
    ``Y`` is what lateral neurons output over ``T_h`` steps: for ``lateral = "neurons"`` the
    spike counts of the two-population integrate-and-fire circuit
    (:func:`spikemem.models.hlop.lateral_rates`, the circuit :func:`~spikemem.models.hlop.lateral_network`),
    for ``"quantised"`` the code's emulation (§6): ``round(clip(Y, ±s)/s · T_h)/T_h · s``.
    """

    def __init__(self, n: int, lr: float, spiking: tuple[float, int] | None = None, lateral: str = "neurons") -> None:
        if lateral not in LATERAL_SCHEMES:
            raise ValueError(f"lateral must be one of {LATERAL_SCHEMES}, not {lateral!r}")
        self.n, self.lr, self.spiking, self.scheme = int(n), float(lr), spiking, lateral
        self.h = torch.zeros(0, self.n, dtype=torch.float64)
        self.m = torch.zeros(0, self.n, dtype=torch.float64)
        self.frozen = 0
        self.asked: list[int] = []
        self.added: list[int] = []

    @property
    def k(self) -> int:
        return self.h.shape[0]

    def grow(self, k: int, generator: torch.Generator) -> int:
        """Add up to ``k`` plastic rows, an orthonormal block of their own (not orthogonalised
        against the old rows, §3.2); the total is capped at ``n - 1`` so a layer keeps room to
        learn. Returns the rows added (``asked`` and ``added`` record both)."""
        room = max(self.n - 1 - self.k, 0)
        added = min(int(k), room)
        self.asked.append(int(k))
        self.added.append(added)
        if added:
            q, _ = torch.linalg.qr(torch.randn(self.n, added, generator=generator, dtype=torch.float64))
            self.h = torch.cat([self.h, q.T])
            self.m = torch.cat([self.m, torch.zeros(added, self.n, dtype=torch.float64)])
        return added

    def merge(self) -> None:
        """Old and new rows become one frozen group (§4.1, step 4)."""
        self.frozen = self.k

    def lateral(self, x: torch.Tensor, rows: slice = slice(None)) -> torch.Tensor:
        """The lateral neurons' output ``y = H x`` for rows ``x`` (of the lateral neurons
        ``rows``, all by default), spiking if ``spiking``."""
        y = x @ self.h[rows].T
        if self.spiking is None:
            return y
        scale, steps = self.spiking
        if self.scheme == "neurons":
            return torch.from_numpy(hlop.lateral_rates(y.numpy(), steps, scale))
        return torch.round(y.clamp(-scale, scale) / scale * steps) / steps * scale

    def hebbian(self, x: torch.Tensor) -> None:
        """Oja's subspace rule on the rows ``x`` (class docstring)."""
        if self.k == self.frozen:
            return
        x = x.to(torch.float64)
        live = slice(self.frozen, None)
        for _ in range(HEBB_ITERATIONS):
            y = self.lateral(x)
            dh = (y[:, live].T @ (x - y @ self.h) / x.shape[0]).clamp(-HEBB_CLAMP, HEBB_CLAMP)  # plastic rows only
            self.m[live] = HEBB_MOMENTUM * self.m[live] + (1 - HEBB_MOMENTUM) * dh
            self.h[live] += self.lr * self.m[live]

    def project_traces(self, x: torch.Tensor) -> torch.Tensor:
        r"""The circuit's projected traces :math:`x - H_F^\top \hat y(x)` for rows ``x`` ``[B, n]``,
        :math:`\hat y` the frozen lateral neurons' output (spiking ones included: spec §6 uses
        the same output for the projection as for the Hebbian update)."""
        x64 = x.to(torch.float64)
        if self.frozen == 0:
            return x64
        return x64 - self.lateral(x64, slice(0, self.frozen)) @ self.h[: self.frozen]

    def project(self, g: torch.Tensor) -> torch.Tensor:
        r"""``(I - H_F^\top H_F) g`` for a gradient ``g`` ``[n, m]``, ``H_F`` the frozen rows: the
        gradient of the projected traces when the lateral neurons are linear (the projection is
        then linear, and the gradient arrives summed over time steps). Spiking lateral
        neurons project each step's traces instead (:meth:`project_traces`)."""
        if self.frozen == 0:
            return g
        hf = self.h[: self.frozen].to(g.dtype)
        return g - hf.T @ (hf @ g)


class Memory:
    r"""GPM's bases of one layer (spec §13.1): after each task, the SVD of the representation
    matrix ``R`` (``[n, rows]``, this task's inputs to the layer) keeps, of the part that the
    stored bases ``M`` do not explain (:math:`\hat R = R - M M^\top R`), the fewest new left
    singular vectors that bring the explained energy to ``threshold`` of ``R``'s."""

    def __init__(self, n: int, threshold: float) -> None:
        self.n, self.threshold = int(n), float(threshold)
        self.basis = torch.zeros(self.n, 0, dtype=torch.float64)
        self.added: list[int] = []

    @property
    def k(self) -> int:
        return self.basis.shape[1]

    def update(self, r: torch.Tensor) -> int:
        """Extend the bases from ``R`` ``[n, rows]``; returns how many were added."""
        r = r.to(torch.float64)
        total = float((r**2).sum())
        residual = r - self.basis @ (self.basis.T @ r)
        u, s, _ = torch.linalg.svd(residual, full_matrices=False)
        explained = total - float((residual**2).sum())
        energy = torch.cumsum(s**2, 0)
        need = self.threshold * total - explained
        add = 0 if need <= 0 else int(torch.searchsorted(energy, torch.tensor(need, dtype=energy.dtype))) + 1
        add = min(add, self.n - 1 - self.k, len(s))
        if add > 0:
            self.basis = torch.cat([self.basis, u[:, :add]], dim=1)
        self.added.append(max(add, 0))
        return max(add, 0)

    def project(self, g: torch.Tensor) -> torch.Tensor:
        """``(I - M M^T) g`` for a gradient ``g`` ``[n, m]``."""
        if self.k == 0:
            return g
        m = self.basis.to(g.dtype)
        return g - m @ (m.T @ g)


@dataclass
class Config:
    """Everything a continual-learning run depends on (written with its results)."""

    hidden: int = 256
    n_steps: int = 8
    epochs: int = 10
    batch: int = 32
    lr: float = 0.1
    hebb_lr: tuple[float, float, float] = (0.001, 0.01, 0.01)
    k0: tuple[int, int, int] = (24, 64, 32)
    k_inc: tuple[int, int, int] = (20, 24, 20)
    k_per_task: tuple[tuple[int, int, int], ...] | None = None
    gpm_threshold: float = 0.97
    gpm_samples: int = 125
    spiking: tuple[float, int] | None = None
    lateral: str = "neurons"
    multitask_lr: float = 0.05
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sizes(self) -> tuple[int, int, int, int]:
        return (hlop.SIDE * hlop.SIDE, self.hidden, self.hidden, 10)

    def lateral_counts(self, task: int) -> tuple[int, int, int]:
        """Lateral neurons to add per layer before ``task``: ``k_per_task`` if given, else
        ``k0`` for task 0 and ``k_inc`` after."""
        if self.k_per_task is not None:
            return self.k_per_task[min(task, len(self.k_per_task) - 1)]
        return self.k0 if task == 0 else self.k_inc


def pmnist_counts(n_tasks: int) -> tuple[tuple[int, int, int], ...]:
    """The authors' lateral counts on permuted MNIST (spec §8.3): [80, 200, 100] for task 0,
    then +70 per layer, the increment dropping by 20 at every task id divisible by 3
    (70, 70, 50, 50, 50, 30, 30, 30, 10), never below 0."""
    counts, inc = [(80, 200, 100)], 70
    for task in range(1, n_tasks):
        if task % 3 == 0:
            inc = max(inc - 20, 0)
        counts.append((inc, inc, inc))
    return tuple(counts)


@dataclass
class Outcome:
    """One method's run: the accuracy matrix ``A[t, i]`` (%, after training task ``t``, on
    task ``i``; NaN above the diagonal), the trained weights and what the projection kept."""

    method: str
    accuracy: np.ndarray
    weights: list[np.ndarray]
    kept: dict[str, list[int]] = field(default_factory=dict)
    asked: dict[str, list[int]] = field(default_factory=dict)
    wall_s: float = 0.0
    lateral: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def acc(self) -> float:
        """ACC: mean accuracy on every task after the last (GPM's definition)."""
        return float(np.nanmean(self.accuracy[-1]))

    @property
    def bwt(self) -> float:
        """BWT: mean change on the earlier tasks from just after learning each to the end."""
        a = self.accuracy
        if len(a) < 2 or np.isnan(a[0, 0]):
            return float("nan")
        return float(np.mean([a[-1, i] - a[i, i] for i in range(len(a) - 1)]))


class Learner:
    """The spiking MLP as a trainable :class:`NetworkModule` (float32), with each layer's
    gradient as a dense ``[n_pre, n_post]`` matrix that a projection can act on."""

    def __init__(self, config: Config, seed: int) -> None:
        self.config = config
        weights = hlop.initial_weights(config.sizes, seed)
        self.network = hlop.mlp_network(weights, config.n_steps)
        names = tuple(p.name for p in self.network.projections)
        self.module = NetworkModule(
            self.network, hlop.duration_ms(config.n_steps), seed=seed, dtype=torch.float32, trainable=names
        )
        self.index = {}
        for proj in self.network.projections:
            conns = self.network.connections(proj, seed)
            self.index[proj.name] = (torch.as_tensor(conns.i), torch.as_tensor(conns.j))
        self.shapes = [(a, b) for a, b in zip(config.sizes[:-1], config.sizes[1:])]

    def raster(self, images: np.ndarray) -> torch.Tensor:
        """The images' input raster ``[T, B, 784]``, padded to the module's steps."""
        spikes = hlop.encode(images, self.config.n_steps)
        full = np.zeros((self.module.n_steps, *spikes.shape[1:]), dtype=np.float32)
        full[: len(spikes)] = spikes
        return torch.as_tensor(full)

    def forward(self, images: np.ndarray) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Logits ``[B, 10]`` and each layer's presynaptic spikes ``[T·B, n]`` (the traces)."""
        raster = self.raster(images)
        rec = self.module({"input": raster})
        logits = rec.v["readout"].mean(dim=0)
        traces = {"w1": raster, "w2": rec.spikes["hidden1"], "w3": rec.spikes["hidden2"]}
        return logits, {k: v.detach().reshape(-1, v.shape[-1]) for k, v in traces.items()}

    def dense_grad(self, layer: int) -> torch.Tensor:
        name = hlop.WEIGHTS[layer]
        g = torch.zeros(self.shapes[layer], dtype=torch.float64)
        for part in ("exc", "inh"):
            param = self.module.weight_params[f"{name}_{part}"]
            if param.grad is not None:
                g.index_put_(self.index[f"{name}_{part}"], param.grad.to(torch.float64), accumulate=True)
        return g

    def step(self, grads: list[torch.Tensor], lr: float) -> None:
        """SGD with the (projected) dense gradients."""
        with torch.no_grad():
            for layer, g in enumerate(grads):
                name = hlop.WEIGHTS[layer]
                for part in ("exc", "inh"):
                    param = self.module.weight_params[f"{name}_{part}"]
                    param -= lr * g[self.index[f"{name}_{part}"]].to(param.dtype)

    def weights(self) -> list[np.ndarray]:
        """The current signed weight matrices ``[n_pre, n_post]``."""
        out = []
        for layer, name in enumerate(hlop.WEIGHTS):
            w = np.zeros(self.shapes[layer])
            for part in ("exc", "inh"):
                i, j = self.index[f"{name}_{part}"]
                w[i.numpy(), j.numpy()] = self.module.signed_weights(f"{name}_{part}")
            out.append(w)
        return out

    def accuracy(self, images: np.ndarray, labels: np.ndarray, batch: int = 400) -> float:
        """Test accuracy (%)."""
        correct = 0
        with torch.no_grad():
            for start in range(0, len(images), batch):
                logits, _ = self.forward(images[start : start + batch])
                correct += int((logits.argmax(1).numpy() == labels[start : start + batch]).sum())
        return 100.0 * correct / len(images)


Progress = Callable[[str, int, int], None]


def _batches(n: int, batch: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(n)
    return [order[k : k + batch] for k in range(0, n, batch)]


def _train_epochs(
    learner: Learner,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    lr: float,
    rng: np.random.Generator,
    project: Callable[[int, torch.Tensor], torch.Tensor] | None,
    observe: Callable[[dict[str, torch.Tensor]], None] | None,
    tick: Callable[[], None],
) -> None:
    labels = torch.as_tensor(y, dtype=torch.long)
    for _ in range(epochs):
        for idx in _batches(len(x), learner.config.batch, rng):
            learner.module.zero_grad()
            logits, traces = learner.forward(x[idx])
            torch.nn.functional.cross_entropy(logits, labels[idx]).backward()
            grads = [learner.dense_grad(layer) for layer in range(3)]
            if project is not None:
                grads = [project(layer, g) for layer, g in enumerate(grads)]
            learner.step(grads, lr)
            if observe is not None:
                observe(traces)
            tick()


def continual(tasks: hlop.Tasks, method: str, config: Config, seed: int, progress: Progress | None = None) -> Outcome:
    """Learn ``tasks`` one after another with ``method`` ("hlop", "finetune", "gpm"), or all
    at once ("multitask", the upper bound: its matrix has one row, after joint training)."""
    import time

    start = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    learner = Learner(config, seed)
    n = tasks.n_tasks
    per_epoch = -(-len(tasks.x_train) // config.batch)
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(method, done[0], total)

    if method == "multitask":
        total = per_epoch * n * config.epochs
        x = np.concatenate([tasks.task(t)[0] for t in range(n)])
        y = np.concatenate([tasks.task(t)[1] for t in range(n)])
        _train_epochs(learner, x, y, config.epochs, config.multitask_lr, rng, None, None, tick)
        acc = np.array([[learner.accuracy(*tasks.task(i, "test")) for i in range(n)]])
        return Outcome(method, acc, learner.weights(), wall_s=time.perf_counter() - start)

    total = per_epoch * n * config.epochs
    accuracy = np.full((n, n), np.nan)
    dims = config.sizes[:3]
    subspaces = [Subspace(d, lr, config.spiking, config.lateral) for d, lr in zip(dims, config.hebb_lr)]
    memories = [Memory(d, config.gpm_threshold) for d in dims]
    for t in range(n):
        x, y = tasks.task(t)
        project = observe = None
        if method == "hlop":
            for s, k in zip(subspaces, config.lateral_counts(t)):
                s.grow(k, generator)
            if t > 0 and config.spiking is not None:
                learner.module.weight_traces = {pre: s.project_traces for pre, s in zip(hlop.LAYERS, subspaces)}
            elif t > 0:
                project = lambda layer, g: subspaces[layer].project(g)  # noqa: E731
            observe = lambda traces: [s.hebbian(traces[w]) for s, w in zip(subspaces, hlop.WEIGHTS)]  # noqa: E731
        elif method == "gpm" and t > 0:
            project = lambda layer, g: memories[layer].project(g)  # noqa: E731
        _train_epochs(learner, x, y, config.epochs, config.lr, rng, project, observe, tick)
        for i in range(t + 1):
            accuracy[t, i] = learner.accuracy(*tasks.task(i, "test"))
        if method == "hlop":
            for s in subspaces:
                s.merge()
        elif method == "gpm":
            sample = rng.choice(len(x), size=min(config.gpm_samples, len(x)), replace=False)
            with torch.no_grad():
                _, traces = learner.forward(x[sample])
            for m, w in zip(memories, hlop.WEIGHTS):
                m.update(traces[w].T)
    kept: dict[str, list[int]] = {}
    asked: dict[str, list[int]] = {}
    if method == "hlop":
        kept = {w: s.added for s, w in zip(subspaces, hlop.WEIGHTS)}
        asked = {w: s.asked for s, w in zip(subspaces, hlop.WEIGHTS)}
    elif method == "gpm":
        kept = {w: m.added for m, w in zip(memories, hlop.WEIGHTS)}
    lateral = {w: s.h.numpy().copy() for s, w in zip(subspaces, hlop.WEIGHTS)} if method == "hlop" else {}
    return Outcome(method, accuracy, learner.weights(), kept, asked, time.perf_counter() - start, lateral)
