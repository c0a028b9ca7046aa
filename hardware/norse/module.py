r"""A Network as a ``torch.nn.Module`` that steps every population at the network's ``dt``.

Every step ``k`` goes as a step of the ``brian2`` target (Brian2's schedule):

1. each cell population leaks (:func:`.cells.leak`; a delta cell adds the weights that
   arrive in this step);
2. cells and sources spike (:func:`.cells.fire`; a source's spikes are its raster at ``k``);
3. every spike is sent down its projections: a synapse of delay ``d`` delivers in step
   ``k + round(d / dt)`` (delta cells: at least one step later, in the leak of that step);
4. currents and conductances jump by the weights that arrive in this step;
5. cells that spiked are reset.

A projection is a dense matrix per delay, ``W_D[i, j]`` = summed weight of the synapses
from ``i`` to ``j`` with delay ``D`` steps (multapses add up), on its receptor's variable.
``B`` trials run side by side: every state is ``[B, n]``; trials differ only in their
inputs (a raster ``[T, B, n]`` per source population), so B independent runs cost one pass.

Trainable projections (``trainable=``) hold one signed weight per synapse as an
``nn.Parameter`` (``+w`` on the excitatory receptor, ``-w`` on the inhibitory one). Their
positive part drives the excitatory receptor and their negative part the inhibitory one
(:math:`W^+ = \max(w, 0)`, :math:`W^- = \max(-w, 0)`), so a weight that changes sign
during training changes receptor, exactly as the network that :func:`.training.to_network`
writes back (a projection per receptor) does on every other target.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from spikemem.cells import IF_curr_delta
from spikemem.network import Network

from . import cells


def _steps(n: int, progress: bool) -> Any:
    """``range(n)``, behind a progress bar when asked."""
    if not progress:
        return range(n)
    from tqdm import tqdm

    return tqdm(range(n), unit="step", desc="simulating", leave=False)


def n_steps(duration_ms: float, dt: float) -> int:
    """Time steps in ``duration_ms`` as Brian2 counts them (rounded where within 0.01 % of
    ``dt``, else rounded up)."""
    k = round(duration_ms / dt)
    return k if abs(k * dt - duration_ms) / dt <= 1e-4 else math.ceil(duration_ms / dt)


@dataclass
class Pathway:
    """The synapses of one projection that share a delay: ``D`` steps from a spike to its arrival."""

    projection: str
    pre: str
    post: str
    steps: int
    i: np.ndarray
    j: np.ndarray
    synapses: np.ndarray  # their positions in the projection's synapse list
    receptor: str


@dataclass
class Recording:
    """What a forward pass recorded, every tensor ``[T, B, n]`` (``v``: at its sampling times)."""

    spikes: dict[str, torch.Tensor]
    v: dict[str, torch.Tensor]
    v_times_ms: dict[str, np.ndarray]
    batch: int


class NetworkModule(torch.nn.Module):
    """The network ``network`` for ``duration_ms``, ready to run batches of trials.

    Parameters
    ----------
    network
        A description the norse target accepts (:func:`.target.check`).
    duration_ms
        Simulated time of one forward pass.
    seed
        Resolves random connectivity and the network's own Poisson sources, as on every target.
    dtype, device
        ``torch.float64`` (the default: spike trains equal Brian2's) or ``torch.float32``;
        ``"cpu"`` or a CUDA device.
    trainable
        Names of projections whose weights become parameters (module docstring).
    """

    def __init__(
        self,
        network: Network,
        duration_ms: float,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
        device: Any = "cpu",
        trainable: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.network, self.seed, self.dt = network, int(seed), float(network.dt)
        self.n_steps = n_steps(duration_ms, self.dt)
        self.duration_ms = float(duration_ms)
        self.dtype, self.device = dtype, torch.device(device)
        self.trainable = tuple(trainable)
        self.cells = [p.name for p in network.populations if not p.is_source]
        self.sources = [p.name for p in network.populations if p.is_source]
        self.sizes = {p.name: p.size for p in network.populations}
        self._params = {
            name: cells.params(network.population(name).cell, self.dt, dtype, self.device) for name in self.cells
        }
        for name in self.cells:
            pop = network.population(name)
            v0 = pop.initial_v if pop.initial_v is not None else pop.cell.initial_v
            self.register_buffer(f"v0_{name}", torch.as_tensor(np.broadcast_to(v0, (pop.size,)).copy(), dtype=dtype))
        #: Per presynaptic population, a map of its spikes ``[B, n]`` to the trace that the
        #: weight gradients of trainable projections from it use instead of the spikes
        #: (:class:`_TraceMatmul`; HLOP's projected traces). The forward pass is unchanged.
        self.weight_traces: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {}
        self.pathways: list[Pathway] = []
        self.weight_params = torch.nn.ParameterDict()
        for proj in network.projections:
            self._add_projection(proj)
        for name in self.sources:
            self.register_buffer(f"raster_{name}", self._own_raster(name))
        self.injected = [name for name in self.cells if any(inj.target == name for inj in network.currents)]
        for name in self.injected:
            amplitudes, reached = self._currents(name)
            self.register_buffer(f"inj_a_{name}", amplitudes)
            self.register_buffer(f"inj_m_{name}", reached)
        self.to(self.device)

    def _currents(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The current sources injected into population ``name``: amplitudes ``[T, K]`` (nA per
        step) and which neurons each reaches, ``[K, n]`` (the step's current is their product)."""
        injections = [inj for inj in self.network.currents if inj.target == name]
        amplitudes = np.stack([inj.source.steps(self.n_steps, self.dt) for inj in injections], axis=1)
        reached = np.zeros((len(injections), self.sizes[name]))
        for k, inj in enumerate(injections):
            reached[k, inj.indices(self.sizes[name])] = 1.0
        return torch.as_tensor(amplitudes, dtype=self.dtype), torch.as_tensor(reached, dtype=self.dtype)

    # --- lowering -------------------------------------------------------------------------

    def _add_projection(self, proj: Any) -> None:
        conns = self.network.connections(proj, self.seed)
        post_cell = self.network.population(proj.post).cell
        steps = np.rint(np.asarray(conns.delay) / self.dt).astype(np.int64)
        if isinstance(post_cell, IF_curr_delta):
            steps = np.maximum(steps, 1)  # a delta input lands in a step's leak: the next step at the soonest
        sign = 1.0 if proj.receptor == "excitatory" else -1.0
        if proj.name in self.trainable:
            signed = torch.as_tensor(sign * np.asarray(conns.weight, dtype=float), dtype=self.dtype)
            self.weight_params[proj.name] = torch.nn.Parameter(signed)
        n_pre, n_post = self.sizes[proj.pre], self.sizes[proj.post]
        for d in np.unique(steps):
            mine = np.flatnonzero(steps == d)
            path = Pathway(proj.name, proj.pre, proj.post, int(d), conns.i[mine], conns.j[mine], mine, proj.receptor)
            self.pathways.append(path)
            if proj.name not in self.trainable:
                w = torch.zeros(n_pre, n_post, dtype=self.dtype)
                w.index_put_(
                    (torch.as_tensor(path.i), torch.as_tensor(path.j)),
                    torch.as_tensor(np.asarray(conns.weight)[mine], dtype=self.dtype),
                    accumulate=True,
                )
                self.register_buffer(f"w_{len(self.pathways) - 1}", w)

    def _own_raster(self, name: str) -> torch.Tensor:
        """The network's own spikes of source ``name`` as a ``[T, 1, n]`` raster."""
        trains = self.network.source_times(self.network.population(name), self.duration_ms, self.seed)
        return self.raster(name, trains)[:, None]

    def raster(self, name: str, trains: list[list[float]] | list[np.ndarray]) -> torch.Tensor:
        """Spike times (ms) per neuron of source ``name`` as a ``[T, n]`` raster of this module
        (one spike per step at most, on the time grid, as every time-stepped target sees them)."""
        if len(trains) != self.sizes[name]:
            from spikemem.errors import ValidationError

            raise ValidationError(
                f"inputs[{name!r}]", f"{len(trains)} spike trains", f"{self.sizes[name]}, one per neuron"
            )
        raster = torch.zeros(self.n_steps, self.sizes[name], dtype=torch.bool)
        for k, train in enumerate(trains):
            steps = np.unique(np.rint(np.asarray(train, dtype=float) / self.dt).astype(np.int64))
            raster[torch.as_tensor(steps[(steps >= 0) & (steps < self.n_steps)]), k] = True
        return raster

    def _matrices(self) -> list[tuple[Pathway, list[tuple[str, torch.Tensor]]]]:
        """Per pathway, its matrices by receptor: the projection's own, or, for a trainable
        one, the positive part of its signed weights onto the excitatory receptor and the
        negative part onto the inhibitory one."""
        out = []
        for k, path in enumerate(self.pathways):
            if path.projection not in self.trainable:
                out.append((path, [(path.receptor, getattr(self, f"w_{k}"))]))
                continue
            w = self.weight_params[path.projection][torch.as_tensor(path.synapses, device=self.device)]
            shape = (self.sizes[path.pre], self.sizes[path.post])
            idx = (torch.as_tensor(path.i, device=self.device), torch.as_tensor(path.j, device=self.device))
            excitatory = torch.zeros(shape, dtype=self.dtype, device=self.device).index_put(idx, w.clamp(min=0), True)
            inhibitory = torch.zeros(shape, dtype=self.dtype, device=self.device).index_put(
                idx, (-w).clamp(min=0), True
            )
            out.append((path, [("excitatory", excitatory), ("inhibitory", inhibitory)]))
        return out

    def signed_weights(self, projection: str) -> np.ndarray:
        """A trainable projection's current signed weights, one per synapse (``+`` excitatory)."""
        return self.weight_params[projection].detach().cpu().numpy().astype(float)

    # --- running ------------------------------------------------------------------------------

    def forward(
        self, inputs: dict[str, torch.Tensor] | None = None, batch: int | None = None, progress: bool = False
    ) -> Recording:
        """Run ``B`` trials. ``inputs`` maps source populations to rasters ``[T, B, n]`` (0/1);
        sources left out fire as the network says, in every trial. ``B`` comes from the
        inputs, else ``batch`` (default 1). ``progress`` shows a bar over the time steps."""
        rasters = self._rasters(inputs or {}, batch)
        b = next(iter(rasters.values())).shape[1] if rasters else (batch or 1)
        states = {name: cells.initial_state(getattr(self, f"v0_{name}"), b, self._params[name]) for name in self.cells}
        matrices = self._matrices()
        pending: dict[tuple[int, str, str], torch.Tensor] = {}
        recorded = list(dict.fromkeys(p.target for p in self.network.probes if p.variable == "spikes"))
        sampled = {p.target: round((p.every_ms or self.dt) / self.dt) for p in self.network.probes if p.variable == "v"}
        spikes_out: dict[str, list[torch.Tensor]] = {name: [] for name in recorded}
        v_out: dict[str, list[torch.Tensor]] = {name: [] for name in sampled}
        grad = torch.is_grad_enabled()
        injected = set(self.injected)
        for k in _steps(self.n_steps, progress):
            for name, every in sampled.items():
                if k % every == 0:
                    shift = self._params[name].v_shift
                    v_out[name].append(states[name].v + shift if shift else states[name].v)
            spikes: dict[str, torch.Tensor] = {}
            for name in self.cells:
                p = self._params[name]
                delta = pending.pop((k, name, "delta"), None) if p.kind == "delta" else None
                i_inj = getattr(self, f"inj_a_{name}")[k] @ getattr(self, f"inj_m_{name}") if name in injected else None
                states[name] = cells.leak(states[name], p, delta, i_inj)
                spikes[name] = cells.fire(states[name], p)
            for name in self.sources:
                spikes[name] = rasters[name][k].to(self.dtype)
            for path, by_receptor in matrices:
                self._send(pending, k, spikes[path.pre], path, by_receptor)
            for name in self.cells:
                if self._params[name].kind != "delta":
                    st = states[name]
                    e = pending.pop((k, name, "excitatory"), None)
                    i = pending.pop((k, name, "inhibitory"), None)
                    states[name] = st._replace(
                        syn_e=st.syn_e if e is None else st.syn_e + e, syn_i=st.syn_i if i is None else st.syn_i + i
                    )
                states[name] = cells.reset(states[name], spikes[name], self._params[name])
            for name in recorded:
                spikes_out[name].append(spikes[name] if grad else spikes[name].to(torch.bool))
        dt = self.dt
        return Recording(
            {name: torch.stack(v) for name, v in spikes_out.items()},
            {name: torch.stack(v) for name, v in v_out.items()},
            {name: np.arange(len(v_out[name])) * sampled[name] * dt for name in sampled},
            b,
        )

    def _send(
        self,
        pending: dict[tuple[int, str, str], torch.Tensor],
        k: int,
        s: torch.Tensor,
        path: Pathway,
        by_receptor: list[tuple[str, torch.Tensor]],
    ) -> None:
        """Queue the input that this step's spikes ``s`` send down ``path``."""
        arrival = k + path.steps
        if arrival >= self.n_steps:
            return
        delta = self._params[path.post].kind == "delta"
        transform = self.weight_traces.get(path.pre) if path.projection in self.trainable else None
        trace = transform(s.detach()).to(s.dtype) if transform is not None and torch.is_grad_enabled() else None
        for receptor, w in by_receptor:
            x = s @ w if trace is None else _TraceMatmul.apply(s, w, trace)
            if delta:
                key, x = (arrival, path.post, "delta"), (x if receptor == "excitatory" else -x)
            else:
                key = (arrival, path.post, receptor)
            pending[key] = pending[key] + x if key in pending else x

    def _rasters(self, inputs: dict[str, torch.Tensor], batch: int | None) -> dict[str, torch.Tensor]:
        """Every source's raster ``[T, B, n]``: the given ones, and the network's own for the rest."""
        from spikemem.errors import ValidationError

        for name, raster in inputs.items():
            if name not in self.sources:
                raise ValidationError("inputs", name, "spike-source populations: " + ", ".join(self.sources))
            shape = (self.n_steps, raster.shape[1] if raster.dim() == 3 else -1, self.sizes[name])
            if raster.dim() != 3 or raster.shape[0] != shape[0] or raster.shape[2] != shape[2]:
                raise ValidationError(
                    f"inputs[{name!r}]", tuple(raster.shape), f"a raster [T={shape[0]}, B, n={shape[2]}]"
                )
        sizes = {r.shape[1] for r in inputs.values()}
        if len(sizes) > 1:
            raise ValidationError("inputs", sorted(sizes), "one batch size for every source")
        b = sizes.pop() if sizes else (batch or 1)
        out = {}
        for name in self.sources:
            raster = inputs.get(name)
            if raster is None:
                raster = getattr(self, f"raster_{name}").expand(-1, b, -1)
            out[name] = raster.to(self.device)
        return out


class _TraceMatmul(torch.autograd.Function):
    r""":math:`s W`, whose gradient for :math:`W` uses another presynaptic trace :math:`\tilde s`:
    :math:`\partial L/\partial W = \tilde s^\top g`, :math:`\partial L/\partial s = g W^\top` as usual."""

    @staticmethod
    def forward(ctx: Any, s: torch.Tensor, w: torch.Tensor, trace: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(w, trace)
        return s @ w

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        w, trace = ctx.saved_tensors
        return g @ w.T, trace.T @ g, None
