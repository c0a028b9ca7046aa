"""Running a lowered network on a PyNN simulator and reading its recorders back.

The run goes in chunks where something must happen between steps: a weight probe's
sample (``Projection.get``), a host-side gated write (:mod:`.writes`), a progress-bar
update. Spike times come back on spikemem's time grid (the backend's time-stamp shift
undone, :class:`~.lowering.Clock`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from spikemem.network import Network
from spikemem.results import Results, SpikeTrains, Trace
from spikemem.synapses import GatedWrite

from . import writes as host_side
from .backends import Backend
from .lowering import SAME_CLOCK, Clock, Lowered, signed_weights, source_trains


def read_weights(proj: Any, order: tuple[np.ndarray, np.ndarray], scale: float = 1.0) -> np.ndarray:
    """Current weight magnitudes of a PyNN projection, in spikemem's synapse order
    (``scale``: what the backend's ``Projection.get`` multiplies them by)."""
    rows = np.asarray(proj.get("weight", format="list", with_address=True), dtype=float).reshape(-1, 3)
    i, j = order
    mine = np.lexsort((j, i))
    theirs = np.lexsort((rows[:, 1], rows[:, 0]))
    if len(rows) != len(i) or not (
        np.array_equal(rows[theirs, 0], i[mine]) and np.array_equal(rows[theirs, 1], j[mine])
    ):
        raise RuntimeError(f"projection {proj.label!r}: the simulator holds other synapses than spikemem built")
    out = np.empty(len(i))
    out[mine] = np.abs(rows[theirs, 2]) / scale
    return out


def sample_times(network: Network, duration_ms: float) -> dict[str, np.ndarray]:
    """Weight-probe sampling times (ms) per projection: 0, every, 2 every, ... < duration."""
    out = {}
    for probe in network.probes:
        if probe.variable == "weight":
            every = probe.every_ms or network.dt
            n = int(math.ceil(duration_ms / every - 1e-9))
            out[probe.target] = np.arange(n) * every
    return out


def run_and_collect(
    sim: Any,
    network: Network,
    lowered: Lowered,
    duration_ms: float,
    clock: Clock = SAME_CLOCK,
    progress: bool = False,
    host: host_side.HostWrites | None = None,
    backend: Backend | None = None,
) -> Results:
    """Run ``duration_ms`` (in chunks where weights are sampled or the host writes) and
    read the recorders."""
    dt = network.dt
    samples = sample_times(network, duration_ms)
    stops = {float(t) for ts in samples.values() for t in ts if t > 0} | {float(duration_ms)}
    if progress:  # every 5 %, on the time grid (NEST runs whole steps; each pause costs time on pyNN.brian2)
        stops |= {round(round(duration_ms * k / 20 / dt) * dt, 9) for k in range(1, 20)} - {0.0}
    seen = backend.spike_seen_after_steps if backend is not None else 1
    pauses: dict[float, int] = {}  # pause time -> the step whose spikes the host reads there
    if host is not None:
        for k in host.steps:
            pauses[round((int(k) + seen) * dt, 9)] = int(k)
        stops |= {t for t in pauses if t > 0} | {round(t - dt, 9) for t in pauses if t - dt > 0}
    weights: dict[str, list[np.ndarray]] = {name: [] for name in samples}
    counts: dict[str, np.ndarray] = {}
    counted_at = -1.0
    t_now = 0.0
    with _progress(progress, duration_ms) as bar:
        for stop in sorted(stops):
            for name, ts in samples.items():
                if np.any(np.isclose(ts, t_now)):
                    _forget_connection_cache(sim)
                    scale = lowered.get_set_scales[name]
                    weights[name].append(read_weights(lowered.projections[name], lowered.connections[name], scale))
            sim.run_until(stop + clock.offset_ms)
            t_now = stop
            if host is not None:
                state = _host_writes(sim, network, lowered, host, backend, pauses, stop, counts, counted_at)
                counts, counted_at = state
            if bar is not None:
                bar.n = round(stop)
                bar.refresh()
    results = Results(spikes={}, network=network)
    for probe in network.probes:
        pop = network.population(probe.target) if probe.variable != "weight" else None
        if probe.variable == "spikes":
            seg = lowered.populations[probe.target].get_data("spikes", clear=False).segments[-1]
            times, idx = [], []
            for st in seg.spiketrains:
                t = np.asarray(st.rescale("ms").magnitude, dtype=float) - clock.spike_shift_ms
                steps = np.rint(t / dt).astype(np.int64)
                steps = steps[(steps >= 0) & (steps * dt < duration_ms - 1e-9)]
                times.append(steps * dt)
                idx.append(np.full(len(steps), int(st.annotations["source_index"]), dtype=np.int64))
            assert pop is not None
            results.spikes[probe.target] = SpikeTrains(
                pop.size, np.concatenate(times) if times else np.empty(0), np.concatenate(idx) if idx else np.empty(0)
            )
        elif probe.variable == "v":
            seg = lowered.populations[probe.target].get_data("v", clear=False).segments[-1]
            sig = seg.filter(name="v")[0]
            t = np.asarray(sig.times.rescale("ms").magnitude, dtype=float) - clock.offset_ms
            values = np.asarray(sig.rescale("mV").magnitude, dtype=float)
            order = np.argsort(np.asarray(sig.array_annotations["channel_index"]))
            keep = (t > -1e-9) & (t < duration_ms - 1e-9)
            results.traces[f"{probe.target}.v"] = Trace(t[keep], values[keep][:, order], "mV")
        else:
            ts = samples[probe.target]
            values = np.array(weights[probe.target]) if weights[probe.target] else np.empty((0, 0))
            results.weights[probe.target] = Trace(ts, values, lowered.units[probe.target])
            results.synapses[probe.target] = lowered.connections[probe.target]
    return results


def _host_writes(
    sim: Any,
    network: Network,
    lowered: Lowered,
    host: host_side.HostWrites,
    backend: Backend | None,
    pauses: dict[float, int],
    stop: float,
    counts: dict[str, np.ndarray],
    counted_at: float,
) -> tuple[dict[str, np.ndarray], float]:
    """At a pause: read the trigger populations' spike counts; where the previous count
    was taken one step earlier, apply the writes of the step in between."""
    dt = network.dt
    now = {name: _spike_counts(lowered.populations[name]) for name in sorted(host.trigger_populations)}
    step = pauses.get(round(stop, 9))
    if step is not None:
        before = counts if np.isclose(counted_at, stop - dt) else None
        if before is None and stop - dt <= 1e-9:  # the run starts at rest: nothing had spiked
            before = {name: np.zeros_like(c) for name, c in now.items()}
        if before is None:
            raise RuntimeError(f"host writes: no spike count one step before {stop} ms")
        for write in host.writes:
            spiked = now[write.trigger_pop] > before[write.trigger_pop]
            if write.write(spiked, step * dt, host.gates):
                matrix = write.weights.copy()
                known = ~np.isnan(matrix)
                assert backend is not None
                scale = lowered.get_set_scales[write.projection.name]
                matrix[known] = signed_weights(network, write.projection, matrix[known], backend) * scale
                _forget_connection_cache(sim)
                lowered.projections[write.projection.name].set(weight=matrix)
    return now, stop


def _spike_counts(pop: Any) -> np.ndarray:
    """Spikes recorded so far per neuron of a PyNN population."""
    by_id = pop.get_spike_counts()
    return np.array([by_id[cell] for cell in pop.all_cells], dtype=np.int64)


def _forget_connection_cache(sim: Any) -> None:
    """NEST re-sorts its connections when a simulation starts, so PyNN's cached
    connection handles point at other synapses afterwards; make PyNN fetch them anew."""
    state = getattr(getattr(sim, "simulator", None), "state", None)
    if hasattr(state, "stale_connection_cache"):
        state.stale_connection_cache = True


@contextlib.contextmanager
def _progress(enabled: bool, duration_ms: float) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=round(duration_ms), unit="ms", desc="simulating", leave=False)
    try:
        yield bar
    finally:
        bar.close()


def plan_host_writes(network: Network, duration_ms: float, seed: int) -> host_side.HostWrites | None:
    """The host's part of the network's GatedWrite projections (None without any)."""
    if not any(isinstance(p.synapse, GatedWrite) for p in network.projections):
        return None
    return host_side.plan(network, duration_ms, lambda pop: source_trains(network, pop, duration_ms, seed))
