"""Results of a simulation: spikes, traces, weights and provenance.

``Results.save`` writes one HDF5 file atomically; ``load_results`` reads it back;
``Results.to_neo`` converts to a ``neo.Block`` for the electrophysiology ecosystem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from .errors import ValidationError
from .h5store import read_tree, write_atomically, write_tree
from .io import network_from_group
from .network import Network

FORMAT = "spikemem-results-1"


@dataclass
class SpikeTrains:
    """Spikes of one population: ``times`` (ms) and neuron ``indices``, sorted by time then index."""

    size: int
    times: np.ndarray
    indices: np.ndarray

    def __post_init__(self) -> None:
        times = np.asarray(self.times, dtype=np.float64)
        indices = np.asarray(self.indices, dtype=np.int64)
        order = np.lexsort((indices, times))
        self.times, self.indices = times[order], indices[order]

    def trains(self) -> list[np.ndarray]:
        """Spike times per neuron."""
        return [self.times[self.indices == k] for k in range(self.size)]

    def steps(self, dt: float) -> np.ndarray:
        """Spike times as integer time-step numbers (rounded)."""
        return np.rint(self.times / dt).astype(np.int64)

    def __len__(self) -> int:
        return len(self.times)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpikeTrains):
            return NotImplemented
        return (
            self.size == other.size
            and np.array_equal(self.times, other.times)
            and np.array_equal(self.indices, other.indices)
        )


@dataclass
class Trace:
    """Samples of one variable: ``times`` (ms) and ``values`` of shape (samples, channels)."""

    times: np.ndarray
    values: np.ndarray
    unit: str


@dataclass
class Results:
    """What a simulation returns."""

    spikes: dict[str, SpikeTrains]
    traces: dict[str, Trace] = field(default_factory=dict)
    weights: dict[str, Trace] = field(default_factory=dict)
    synapses: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    network: Network | None = None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write to one HDF5 file, atomically (complete file or previous content untouched)."""

        def fill(fh: h5py.File) -> None:
            fh.attrs["format"] = FORMAT
            tree = {
                "spikes": {k: {"size": v.size, "times": v.times, "indices": v.indices} for k, v in self.spikes.items()},
                "traces": {k: {"times": v.times, "values": v.values, "unit": v.unit} for k, v in self.traces.items()},
                "weights": {k: {"times": v.times, "values": v.values, "unit": v.unit} for k, v in self.weights.items()},
                "synapses": {k: {"i": i, "j": j} for k, (i, j) in self.synapses.items()},
                "provenance": self.provenance,
            }
            write_tree(fh.create_group("results"), "data", tree)
            if self.network is not None:
                group = fh.create_group("network")
                write_tree(group, "description", self.network.to_dict())
                group.attrs["digest"] = self.network.digest()

        write_atomically(path, fill)

    def to_neo(self) -> Any:
        """A ``neo.Block`` with one segment: a SpikeTrain per neuron, an AnalogSignal per trace."""
        import neo
        import quantities as pq

        duration = float(self.provenance.get("duration_ms", 0.0))
        block = neo.Block(name=self.provenance.get("network_name", "spikemem"), **_neo_annotations(self.provenance))
        seg = neo.Segment(name="run")
        block.segments.append(seg)
        for pop, st in self.spikes.items():
            for k, train in enumerate(st.trains()):
                seg.spiketrains.append(
                    neo.SpikeTrain(
                        train * pq.ms,
                        t_stop=max(duration, float(train.max(initial=0)) + 1e-9) * pq.ms,
                        name=f"{pop}[{k}]",
                        population=pop,
                        neuron=k,
                    )
                )
        for key, tr in list(self.traces.items()) + [(f"{k}.weight", v) for k, v in self.weights.items()]:
            if len(tr.times) == 0:
                continue
            step = float(tr.times[1] - tr.times[0]) if len(tr.times) > 1 else float(self.provenance.get("dt_ms", 1.0))
            unit = {"mV": pq.mV, "nA": pq.nA, "uS": pq.uS}.get(tr.unit, pq.dimensionless)
            seg.analogsignals.append(
                neo.AnalogSignal(
                    tr.values, units=unit, sampling_period=step * pq.ms, t_start=float(tr.times[0]) * pq.ms, name=key
                )
            )
        return block

    def summary(self) -> dict[str, Any]:
        """Counts per population, for printing."""
        return {pop: {"neurons": st.size, "spikes": len(st)} for pop, st in self.spikes.items()}


def _neo_annotations(prov: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in prov.items() if isinstance(v, (str, int, float, bool))}


def load_results(path: str | os.PathLike[str]) -> Results:
    """Read a file written by :meth:`Results.save`."""
    if not os.path.exists(path):
        raise ValidationError("path", str(path), "an existing results file")
    try:
        fh = h5py.File(path, "r")
    except OSError:
        raise ValidationError("path", str(path), "an HDF5 file written by spikemem") from None
    with fh:
        if fh.attrs.get("format") != FORMAT:
            raise ValidationError("path", str(path), f"a spikemem results file (format {FORMAT})")
        if "results" not in fh:
            raise ValidationError("path", str(path), "a complete spikemem results file (it has no 'results' group)")
        tree = read_tree(fh["results"], "data")
        network = network_from_group(fh["network"]) if "network" in fh else None
    return Results(
        spikes={
            k: SpikeTrains(int(v["size"]), np.asarray(v["times"]), np.asarray(v["indices"]))
            for k, v in tree["spikes"].items()
        },
        traces={
            k: Trace(np.asarray(v["times"]), np.asarray(v["values"]), v["unit"]) for k, v in tree["traces"].items()
        },
        weights={
            k: Trace(np.asarray(v["times"]), np.asarray(v["values"]), v["unit"]) for k, v in tree["weights"].items()
        },
        synapses={k: (np.asarray(v["i"]), np.asarray(v["j"])) for k, v in tree["synapses"].items()},
        provenance=tree["provenance"],
        network=network,
    )
