"""The ``norse`` target: PyTorch (with Norse's surrogate gradients), batched and differentiable.

A Network becomes a :class:`~.module.NetworkModule` (a ``torch.nn.Module``) that steps every
population at the network's ``dt`` with the ``brian2`` target's propagators (:mod:`.cells`),
so in float64 its spike trains equal Brian2's. Three ways in:

* ``simulate(network, T, target="norse")`` — one trial, a :class:`~spikemem.results.Results`;
* :func:`run_batch` — ``B`` trials that differ in their inputs (a raster or spike times per
  trial for each source population), in one forward pass; one ``Results`` per trial;
* :func:`lower` — the module itself, for training code: ``module(inputs)`` returns tensors
  ``[T, B, n]``; trainable projections are parameters; :func:`~.training.to_network` writes
  the trained weights back into a Network every target runs.

Options (``--option``): ``dtype`` (``float64``, default, or ``float32`` for speed) and
``device`` (``cpu``, default, or ``cuda`` where torch sees a GPU).

Runs ``IF_curr_exp``, ``IF_cond_exp`` and ``IF_curr_delta`` with ``exact`` integration,
spike sources, every connector, static synapses with per-synapse delays, and spike, ``v``
and weight probes. Refused before anything runs, with the reason: the ``spinnaker``
integration, plastic synapses (STDP, gated writes) and plasticity gates, and device models
under synapses — none of which this target implements exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikemem._checks import one_of
from spikemem.errors import UnsupportedFeature, ValidationError
from spikemem.network import Network
from spikemem.provenance import provenance
from spikemem.results import Results, SpikeTrains, Trace
from spikemem.synapses import Static
from spikemem.targets import TargetInfo, check_options

TARGET = TargetInfo(
    name="norse",
    description="PyTorch with Norse's surrogate gradients: batched trials, float64 spikes equal Brian2's, trainable",
    requires=("torch", "norse"),
    install_hint="pip install 'spikemem[torch]' (torch==2.13.0 in the same request as norse)",
    features=frozenset(
        {"IF_curr_exp", "IF_cond_exp", "IF_curr_delta", "integration=exact", "Poisson", "FromList", "record v"}
        | {"current sources", "record weight", "run"}
    ),
    options=("dtype", "device"),
)

DTYPES = ("float64", "float32")


def check(network: Network, variant: str | None = None, **options: Any) -> None:
    """Refuse an option this target does not take, a device torch does not see, and what
    the target does not run exactly (module docstring), before anything is built."""
    check_options(TARGET, options)
    if options.get("dtype") is not None:
        one_of("option dtype", options["dtype"], DTYPES)
    _device(options.get("device"))
    problems = unsupported(network)
    if problems:
        raise UnsupportedFeature("norse", f"network {network.name!r}", "; ".join(problems) + " (run it on 'brian2')")


def unsupported(network: Network) -> list[str]:
    """What the norse target cannot run exactly in ``network``, one reason per item (empty: all of it)."""
    from spikemem.errors import grouped

    found = []
    for pop in network.populations:
        if not pop.is_source and pop.cell.integration != "exact":
            found.append((f"population {pop.name!r}", f"integration {pop.cell.integration!r} (SpiNNaker's update)"))
    for proj in network.projections:
        if not isinstance(proj.synapse, Static):
            found.append((f"projection {proj.name!r}", f"{type(proj.synapse).__name__} synapses (plasticity)"))
        if proj.device is not None:
            found.append((f"projection {proj.name!r}", "a device model (device physics runs on the Brian2 targets)"))
    return grouped(found)


def _device(device: Any) -> Any:
    """``device`` as torch names it; ``cuda`` only where torch sees a GPU."""
    import torch

    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValidationError("option device", device, "cpu or cuda (cuda:N)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UnsupportedFeature("norse", f"device {device!r}", "torch sees no CUDA GPU on this machine")
    if dev.type not in ("cpu", "cuda"):
        raise ValidationError("option device", device, "cpu or cuda (cuda:N)")
    return dev


def _dtype(name: str | None) -> Any:
    import torch

    return {"float64": torch.float64, "float32": torch.float32}[name or "float64"]


def lower(
    network: Network,
    duration_ms: float,
    seed: int = 0,
    dtype: str = "float64",
    device: str = "cpu",
    trainable: tuple[str, ...] = (),
) -> Any:
    """The :class:`~.module.NetworkModule` of ``network`` (checked first), for training
    code; ``trainable`` names the projections whose weights become parameters."""
    check(network, dtype=dtype, device=device)
    for name in trainable:
        network.projection(name)  # a ValidationError names an unknown projection
    from .module import NetworkModule

    return NetworkModule(network, duration_ms, seed, _dtype(dtype), _device(device), tuple(trainable))


def run(
    network: Network,
    duration_ms: float,
    seed: int = 0,
    variant: str | None = None,
    progress: bool = False,
    dtype: str | None = None,
    device: str | None = None,
) -> Results:
    """Simulate one trial and return Results (spikes, traces, weights, provenance)."""
    return run_batch(network, duration_ms, None, seed, dtype or "float64", device or "cpu", progress)[0]


def run_batch(
    network: Network,
    duration_ms: float,
    inputs: list[dict[str, Any]] | dict[str, Any] | None = None,
    seed: int = 0,
    dtype: str = "float64",
    device: str = "cpu",
    progress: bool = False,
) -> list[Results]:
    """``B`` trials in one forward pass; one Results per trial.

    ``inputs``: a list of ``B`` dicts (source population → spike times in ms per neuron), or
    one dict (source population → raster ``[T, B, n]``, tensor or array of 0/1). Sources a
    trial does not name fire as the network says. Without inputs: one trial. Each trial's
    provenance gets an equal share of the build and run times, and its index (``trial``).
    """
    import time

    import torch

    t0 = time.perf_counter()
    module = lower(network, duration_ms, seed, dtype, device)
    rasters = _rasters(module, inputs)
    t1 = time.perf_counter()
    with torch.no_grad():
        recording = module(rasters, progress=progress)
    t2 = time.perf_counter()
    out = []
    for b in range(recording.batch):
        res = results_of(module, recording, b)
        res.provenance = provenance(
            network,
            "norse",
            seed,
            duration_ms,
            build_s=(t1 - t0) / recording.batch,
            run_s=(t2 - t1) / recording.batch,
            dtype=dtype,
            device=str(device),
            trial=b,
        )
        out.append(res)
    return out


def _rasters(module: Any, inputs: Any) -> dict[str, Any]:
    import torch

    if inputs is None:
        return {}
    if isinstance(inputs, dict):
        return {
            name: torch.as_tensor(np.asarray(r) if not isinstance(r, torch.Tensor) else r) for name, r in inputs.items()
        }
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValidationError(
            "inputs", type(inputs).__name__, "a list of trials (source → spike times) or a dict of rasters"
        )
    names = sorted({name for trial in inputs for name in trial})
    out = {}
    for name in names:
        own = getattr(module, f"raster_{name}", None)
        if own is None:
            raise ValidationError("inputs", name, "spike-source populations: " + ", ".join(module.sources))
        per_trial = [module.raster(name, trial[name]) if name in trial else own[:, 0] for trial in inputs]
        out[name] = torch.stack(per_trial, dim=1)
    return out


def results_of(module: Any, recording: Any, b: int) -> Results:
    """Trial ``b`` of a :class:`~.module.Recording` as Results (provenance added by the caller)."""
    network, dt = module.network, module.dt
    res = Results(spikes={}, network=network)
    for name, spikes in recording.spikes.items():
        steps, idx = np.nonzero(spikes[:, b].detach().cpu().numpy())
        res.spikes[name] = SpikeTrains(module.sizes[name], steps * dt, idx)
    for name, v in recording.v.items():
        res.traces[f"{name}.v"] = Trace(recording.v_times_ms[name], v[:, b].detach().cpu().numpy().astype(float), "mV")
    for probe in network.probes:
        if probe.variable != "weight":
            continue
        proj = network.projection(probe.target)
        conns = network.connections(proj, module.seed)
        every = probe.every_ms or dt
        times = np.arange(int(np.ceil(module.duration_ms / every - 1e-9))) * every
        weights = module.signed_weights(proj.name) if proj.name in module.trainable else np.asarray(conns.weight)
        unit = network.population(proj.post).cell.weight_unit
        res.weights[proj.name] = Trace(times, np.tile(np.abs(weights), (len(times), 1)), unit)
        res.synapses[proj.name] = (conns.i, conns.j)
    return res
