"""The network description: populations, projections, probes, and the Network that owns them.

All of it is data. ``Network`` checks that the parts fit together (names, sizes,
delays against the time step, dangling references) when it is built, so a target
never sees an inconsistent model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _checks as chk
from ._node import Node
from .cells import CELLS
from .connectors import Blocks, Connections, Connector, FromList, OneToOne, projection_seed
from .currents import Injection
from .errors import ValidationError
from .sources import Poisson, SpikeTimes
from .synapses import STDP, Gate, GatedWrite, Synapse

RECEPTORS = ("excitatory", "inhibitory", "modulatory")
CELL_CLASSES = (*CELLS, SpikeTimes, Poisson)


@dataclass(frozen=True, init=False, eq=False)
class Population(Node):
    """``size`` neurons of one cell type (or one spike-source type) under one name.

    ``initial_v`` optionally gives each neuron its own initial membrane potential (mV),
    overriding the cell's ``v_init``.
    """

    name: str = None  # type: ignore[assignment]
    size: int = None  # type: ignore[assignment]
    cell: Node = None  # type: ignore[assignment]
    initial_v: np.ndarray | None = None

    def _validate(self) -> None:
        chk.name("Population.name", self.name)
        field = f"Population {self.name!r}"
        self._set("size", chk.count(f"{field}.size", self.size))
        if self.initial_v is not None:
            v = np.array(self.initial_v, dtype=np.float64).reshape(-1)
            if v.shape != (self.size,) or not np.all(np.isfinite(v)):
                raise ValidationError(f"{field}.initial_v", f"{v.shape[0]} values", f"{self.size} finite voltages (mV)")
            v.setflags(write=False)
            self._set("initial_v", v)
        if not isinstance(self.cell, CELL_CLASSES):
            raise ValidationError(
                f"{field}.cell", self.cell, "one of " + ", ".join(c.__name__ for c in CELL_CLASSES) + " (an instance)"
            )
        if isinstance(self.cell, SpikeTimes) and self.cell.size != self.size:
            raise ValidationError(f"{field}.size", self.size, f"the number of spike trains given ({self.cell.size})")

    @property
    def is_source(self) -> bool:
        return isinstance(self.cell, (SpikeTimes, Poisson))


def SpikeSource(name: str, spike_times: Any) -> Population:  # noqa: N802 - reads as a type
    """A population of spike sources firing at given times (ms), one sequence per neuron."""
    cell = SpikeTimes(spike_times)
    return Population(name, cell.size, cell)


@dataclass(frozen=True, init=False, eq=False)
class Projection(Node):
    """Synapses from population ``pre`` to population ``post``.

    ``receptor`` chooses the excitatory or inhibitory synaptic current/conductance;
    weights are magnitudes (>= 0). ``device`` optionally stores the weights on a
    resistive-memory device model (``spikemem.hardware.devices.rram.RRAM``): programmed once,
    read at every spike, written at every STDP update.
    """

    name: str = None  # type: ignore[assignment]
    pre: str = None  # type: ignore[assignment]
    post: str = None  # type: ignore[assignment]
    connector: Connector = None  # type: ignore[assignment]
    synapse: Synapse = None  # type: ignore[assignment]
    receptor: str = "excitatory"
    device: Node | None = None

    def _validate(self) -> None:
        chk.name("Projection.name", self.name)
        field = f"Projection {self.name!r}"
        for end in ("pre", "post"):
            value = getattr(self, end)
            if isinstance(value, Population):
                self._set(end, value.name)
            elif not isinstance(value, str):
                raise ValidationError(f"{field}.{end}", value, "a population name or Population")
        if not isinstance(self.connector, Connector):
            raise ValidationError(
                f"{field}.connector", self.connector, "a connector (OneToOne, AllToAll, FixedProbability, FromList)"
            )
        if not isinstance(self.synapse, Synapse):
            raise ValidationError(
                f"{field}.synapse", self.synapse, "a synapse type (Static, STDP, TsodyksMarkram, GatedWrite, Gate)"
            )
        chk.one_of(f"{field}.receptor", self.receptor, RECEPTORS)
        if self.device is not None and getattr(self.device, "kind", None) != "device":
            raise ValidationError(
                f"{field}.device", self.device, "None or a device model (spikemem.hardware.devices.rram.RRAM)"
            )
        if self.device is not None and self.receptor == "modulatory":
            raise ValidationError(f"{field}.device", self.device, "None for a modulatory (Gate) projection")
        if (self.receptor == "modulatory") != isinstance(self.synapse, Gate):
            raise ValidationError(
                f"{field}.receptor", self.receptor, "'modulatory' exactly when the synapse is a Gate (and only then)"
            )


PROBE_VARIABLES = ("spikes", "v", "weight")


@dataclass(frozen=True, init=False, eq=False)
class Probe(Node):
    """Record ``variable`` of a population (``spikes``, ``v``) or a projection (``weight``).

    Traces are sampled every ``every_ms`` (default: every time step).
    """

    target: str = None  # type: ignore[assignment]
    variable: str = "spikes"
    every_ms: float | None = None

    def _validate(self) -> None:
        if isinstance(self.target, (Population, Projection)):
            self._set("target", self.target.name)
        chk.name("Probe.target", self.target)
        chk.one_of(f"Probe {self.target!r}.variable", self.variable, PROBE_VARIABLES)
        if self.every_ms is not None:
            self._set("every_ms", chk.positive(f"Probe {self.target!r}.every_ms", self.every_ms))


@dataclass(frozen=True, init=False, eq=False)
class Network(Node):
    """A whole model: populations, projections, probes, the time step ``dt`` (ms), and the
    current sources injected into cells (``currents``, :mod:`spikemem.currents`)."""

    populations: tuple = ()
    projections: tuple = ()
    probes: tuple = ()
    dt: float = 0.1
    name: str = "network"
    currents: tuple = ()

    def _validate(self) -> None:
        self._set("dt", chk.positive("Network.dt", self.dt))
        chk.name("Network.name", self.name)
        for key, cls in (
            ("populations", Population),
            ("projections", Projection),
            ("probes", Probe),
            ("currents", Injection),
        ):
            items = tuple(getattr(self, key))
            for k, item in enumerate(items):
                if not isinstance(item, cls):
                    raise ValidationError(f"Network.{key}[{k}]", item, f"a {cls.__name__}")
            self._set(key, items)
        if not self.populations:
            raise ValidationError("Network.populations", (), "at least one Population")
        seen: set[str] = set()
        for item in self.populations + self.projections + self.currents:
            if item.name in seen:
                raise ValidationError(
                    f"{type(item).__name__}.name", item.name, "a name not used by another population or projection"
                )
            seen.add(item.name)
        pops = {p.name: p for p in self.populations}
        for proj in self.projections:
            self._check_projection(proj, pops)
        for injection in self.currents:
            self._check_injection(injection, pops)
        gated = {p.post for p in self.projections if isinstance(p.synapse, Gate)}
        for proj in self.projections:
            syn = proj.synapse
            if isinstance(syn, GatedWrite):
                field, value, rule = "synapse", "GatedWrite", "GatedWrite"
            elif isinstance(syn, STDP) and syn.gated:
                field, value, rule = "synapse.gated", True, "gated STDP"
            else:
                continue
            for end in (proj.pre, proj.post):
                if end not in gated:
                    raise ValidationError(
                        f"Projection {proj.name!r}.{field}",
                        value,
                        f"a Gate projection onto {end!r} ({rule} needs gates on its pre and post populations)",
                    )
        projs = {p.name: p for p in self.projections}
        probed: set[tuple[str, str]] = set()
        for probe in self.probes:
            self._check_probe(probe, pops, projs)
            if (probe.target, probe.variable) in probed:
                raise ValidationError(
                    f"Probe {probe.target!r}.variable", probe.variable, "recorded once per target (a duplicate probe)"
                )
            probed.add((probe.target, probe.variable))

    def _check_projection(self, proj: Projection, pops: dict[str, Population]) -> None:
        field = f"Projection {proj.name!r}"
        for end in ("pre", "post"):
            if getattr(proj, end) not in pops:
                raise ValidationError(
                    f"{field}.{end}", getattr(proj, end), "the name of a population in this network: " + ", ".join(pops)
                )
        pre, post = pops[proj.pre], pops[proj.post]
        if post.is_source:
            raise ValidationError(f"{field}.post", proj.post, "a population of cells (spike sources take no input)")
        if isinstance(proj.connector, OneToOne) and pre.size != post.size:
            raise ValidationError(
                f"{field}.connector", "OneToOne", f"populations of equal size (pre {pre.size}, post {post.size})"
            )
        if isinstance(proj.connector, Blocks):
            proj.connector.block_sizes(pre.size, post.size, f"{field}.connector")
        syn = proj.synapse
        if syn.delay < self.dt - 1e-12:
            raise ValidationError(f"{field}.synapse.delay", syn.delay, f"a delay >= the time step dt = {self.dt} ms")
        if isinstance(proj.connector, FromList):
            self._check_from_list(field, proj.connector, pre, post, syn)

    def _check_injection(self, injection: Injection, pops: dict[str, Population]) -> None:
        field = f"Injection {injection.name!r}"
        cells = [name for name, pop in pops.items() if not pop.is_source]
        if injection.target not in cells:
            raise ValidationError(
                f"{field}.target",
                injection.target,
                "the name of a cell population in this network: " + ", ".join(cells),
            )
        size = pops[injection.target].size
        if injection.neurons is not None and injection.neurons[-1] >= size:
            raise ValidationError(
                f"{field}.neurons", int(injection.neurons[-1]), f"indices < {size} (size of {injection.target!r})"
            )

    def to_dict(self) -> dict[str, Any]:
        """As every node's; a network without current sources leaves ``currents`` out, so files
        and digests of networks written before current sources existed stay the same."""
        out = super().to_dict()
        if not self.currents:
            del out["currents"]
        return out

    def _check_from_list(self, field: str, conn: FromList, pre: Population, post: Population, syn: Synapse) -> None:
        arr = conn.conn_list
        for col, pop, label in ((0, pre, "pre"), (1, post, "post")):
            bad = np.nonzero(arr[:, col] >= pop.size)[0]
            if bad.size:
                raise ValidationError(
                    f"{field}.connector.conn_list[{bad[0]}]",
                    tuple(arr[bad[0]]),
                    f"{label} index < {pop.size} (size of {pop.name!r})",
                )
        if conn.has_weights:
            w, d = arr[:, 2], arr[:, 3]
            if np.any(w < 0):
                k = int(np.nonzero(w < 0)[0][0])
                raise ValidationError(
                    f"{field}.connector.conn_list[{k}].weight", w[k], "a weight >= 0 (the receptor gives the sign)"
                )
            if isinstance(syn, (STDP, GatedWrite)) and np.any((w < syn.w_min) | (w > syn.w_max)):
                k = int(np.nonzero((w < syn.w_min) | (w > syn.w_max))[0][0])
                raise ValidationError(
                    f"{field}.connector.conn_list[{k}].weight",
                    w[k],
                    f"within [w_min, w_max] = [{syn.w_min}, {syn.w_max}]",
                )
            if np.any(d < self.dt - 1e-12):
                k = int(np.nonzero(d < self.dt - 1e-12)[0][0])
                raise ValidationError(
                    f"{field}.connector.conn_list[{k}].delay", d[k], f"a delay >= the time step dt = {self.dt} ms"
                )

    def _check_probe(self, probe: Probe, pops: dict[str, Population], projs: dict[str, Projection]) -> None:
        field = f"Probe {probe.target!r}"
        if probe.variable == "weight":
            if probe.target not in projs:
                raise ValidationError(
                    f"{field}.target", probe.target, "the name of a projection in this network: " + ", ".join(projs)
                )
        else:
            if probe.target not in pops:
                raise ValidationError(
                    f"{field}.target", probe.target, "the name of a population in this network: " + ", ".join(pops)
                )
            if probe.variable == "v" and pops[probe.target].is_source:
                raise ValidationError(f"{field}.variable", "v", "'spikes' (spike sources have no membrane)")
        if probe.every_ms is not None:
            steps = probe.every_ms / self.dt
            if round(steps) < 1 or abs(steps - round(steps)) > 1e-9:
                raise ValidationError(
                    f"{field}.every_ms", probe.every_ms, f"a multiple of the time step dt = {self.dt} ms"
                )

    # --- look-ups -------------------------------------------------------------------

    def population(self, name: str) -> Population:
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise ValidationError("population", name, "one of " + ", ".join(p.name for p in self.populations))

    def projection(self, name: str) -> Projection:
        for proj in self.projections:
            if proj.name == name:
                return proj
        raise ValidationError("projection", name, "one of " + ", ".join(p.name for p in self.projections))

    def connections(self, proj: Projection, seed: int = 0) -> Connections:
        """Resolve a projection's synapses with a weight and a delay (ms) for each."""
        pre, post = self.population(proj.pre), self.population(proj.post)
        conns = proj.connector.connect(pre.size, post.size, projection_seed(seed, proj.name))
        n = len(conns)
        weight = conns.weight if conns.weight is not None else np.full(n, proj.synapse.weight)
        delay = conns.delay if conns.delay is not None else np.full(n, proj.synapse.delay)
        return Connections(conns.i, conns.j, weight.astype(float), delay.astype(float))

    def source_times(self, pop: Population, duration_ms: float, seed: int) -> list[np.ndarray]:
        """Spike times per neuron of a source population within the run."""
        return pop.cell.times(pop.size, duration_ms, projection_seed(seed, pop.name))  # type: ignore[union-attr]

    def digest(self) -> str:
        """SHA-256 of the canonical description: equal networks have equal digests."""
        h = hashlib.sha256()
        _feed(h, self.to_dict())
        return h.hexdigest()

    def summary(self) -> dict[str, int]:
        """Counts of populations, neurons, projections and synapses (no synapse arrays built
        for rule-based connectors, so it stays cheap for large all-to-all projections)."""
        sizes = {p.name: p.size for p in self.populations}
        n_syn = sum(
            p.connector.count(sizes[p.pre], sizes[p.post], projection_seed(0, p.name)) for p in self.projections
        )
        return {
            "populations": len(self.populations),
            "neurons": sum(p.size for p in self.populations),
            "projections": len(self.projections),
            "synapses": n_syn,
        }


def _feed(h: Any, value: Any) -> None:
    if isinstance(value, dict):
        h.update(b"{")
        for key in sorted(value):
            h.update(json.dumps(key).encode())
            _feed(h, value[key])
        h.update(b"}")
    elif isinstance(value, (list, tuple)):
        h.update(b"[")
        for item in value:
            _feed(h, item)
        h.update(b"]")
    elif isinstance(value, np.ndarray):
        h.update(str(value.dtype).encode() + str(value.shape).encode())
        h.update(np.ascontiguousarray(value).tobytes())
    else:
        h.update(json.dumps(value).encode())
