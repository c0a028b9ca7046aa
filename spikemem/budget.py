"""What a run will need, estimated and checked before any work: memory, cores, time steps.

One size-like input can take a machine down (a hundred thousand cues are 2·10¹⁰ synapses; a
billion OpenMP threads are a billion stacks). Every command checks what it is asked for
against this machine before it builds or simulates anything and refuses, in one line that
gives the estimate and the limit, what cannot fit:

* memory: neurons, synapses and recorded traces of a network (:func:`check_network`), the
  ops and points of a sweep (:func:`check_bytes`), against the memory available now;
* cores: threads, worker processes and compiler jobs against this machine's cores
  (:func:`check_cores`);
* time steps: at most :data:`MAX_STEPS` per run (:func:`check_steps`), where Brian2's clock
  stops being exact; this bound holds always.

The estimates are deliberately rough (bytes per neuron and per synapse of Brian2's
representation, rounded up): they catch inputs that are off by orders of magnitude, not
runs that are tight. ``SPIKEMEM_NO_LIMITS=1`` in the environment (the command line's
``--no-limits``) turns the memory and core checks off for a user who knows better.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import ValidationError

#: Bytes per neuron, per static and per plastic synapse, and per recorded sample (Brian2's
#: arrays with their indices and bookkeeping, rounded up).
BYTES_PER_NEURON = 256
BYTES_PER_SYNAPSE = 64
BYTES_PER_PLASTIC_SYNAPSE = 128
BYTES_PER_SAMPLE = 8
#: The most time steps one run may take (Brian2 warns beyond 2**40: t stops being k·dt).
MAX_STEPS = 2**40
#: The share of the memory available now that one run may plan to use.
MEMORY_SHARE = 0.8


def limits_on() -> bool:
    """Whether the memory and core checks apply (not with ``SPIKEMEM_NO_LIMITS=1``)."""
    return os.environ.get("SPIKEMEM_NO_LIMITS", "").strip().lower() not in ("1", "true", "yes", "on")


def available_bytes() -> int:
    """Memory available to a new allocation now (``MemAvailable``), else the physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def size_text(n_bytes: float) -> str:
    """``1.31 TB``, ``22.4 GB``, ``480 MB``: a size to read in one glance (three digits, so
    that a need just over the limit does not read as equal to it)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes / 1e3:.3g} kB"


def check_bytes(field: str, value: Any, needed: float, what: str) -> None:
    """Refuse ``value`` of ``field`` when ``needed`` bytes (for ``what``) exceed the memory
    this machine has available for one run."""
    if not limits_on():
        return
    limit = MEMORY_SHARE * available_bytes()
    if needed > limit:
        raise ValidationError(
            field,
            value,
            f"a run that fits this machine: about {size_text(needed)} needed ({what}), {size_text(limit)} available "
            "(--no-limits to run anyway)",
        )


def estimate_bytes(neurons: float, synapses: float = 0.0, plastic: float = 0.0, samples: float = 0.0) -> float:
    """The memory a run needs for ``neurons``, ``synapses`` (of which ``plastic``) and
    recorded ``samples``: what :func:`check_network` adds up, for a caller that knows the
    counts before it builds anything."""
    static = synapses - plastic
    return (
        neurons * BYTES_PER_NEURON
        + static * BYTES_PER_SYNAPSE
        + plastic * BYTES_PER_PLASTIC_SYNAPSE
        + samples * BYTES_PER_SAMPLE
    )


def network_bytes(network: Any, duration_ms: float) -> tuple[float, str]:
    """An estimate of the memory a run of ``network`` needs, and what it is made of."""
    sizes = {p.name: p.size for p in network.populations}
    neurons = sum(sizes.values())
    synapses = {p.name: p.connector.expected_count(sizes[p.pre], sizes[p.post]) for p in network.projections}
    plastic = sum(synapses[p.name] for p in network.projections if p.synapse.plastic)
    samples = 0.0
    for probe in network.probes:
        every = probe.every_ms or network.dt
        if probe.variable == "v":
            samples += duration_ms / every * sizes[probe.target]
        elif probe.variable == "weight":
            samples += duration_ms / every * synapses[probe.target]
    total = sum(synapses.values())
    parts = f"{neurons:.3g} neurons, {total:.3g} synapses" + (f", {samples:.3g} recorded samples" if samples else "")
    return estimate_bytes(neurons, total, plastic, samples), parts


def check_network(network: Any, duration_ms: float, field: str = "network", value: Any = None, copies: int = 1) -> None:
    """Refuse a network (``copies`` of it side by side) whose run would not fit in memory;
    the refusal names ``field`` (the option that asked for it) and its ``value``."""
    if not limits_on():
        return
    needed, parts = network_bytes(network, duration_ms)
    what = parts if copies == 1 else f"{copies} copies of {parts}"
    check_bytes(field, network.name if value is None else value, needed * copies, what)


def check_cores(field: str, value: Any, what: str = "threads") -> None:
    """Refuse more ``what`` than this machine has cores."""
    if limits_on() and isinstance(value, int) and value > cores():
        allowed = f"at most {cores()} {what}, this machine's cores (--no-limits to run anyway)"
        raise ValidationError(field, value, allowed)


def check_steps(field: str, duration_ms: float, dt: float) -> None:
    """Refuse a run of more than :data:`MAX_STEPS` time steps (always: no simulator is exact there)."""
    steps = duration_ms / dt
    if steps > MAX_STEPS:
        raise ValidationError(
            field, duration_ms, f"at most {MAX_STEPS * dt:.6g} ms at dt = {dt:g} ms ({MAX_STEPS:.3g} time steps)"
        )
