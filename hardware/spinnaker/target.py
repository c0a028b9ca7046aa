"""The ``spinnaker`` target: SpiNNaker through sPyNNaker (PyNN's ``pyNN.spiNNaker``).

What the chip makes of the network is checked first, before anything is sent
(:func:`~spikemem.hardware.spinnaker.limits.constraints`: cores, synaptic rows, delay
slots, fixed-point weights); a network that breaks a limit is refused with every
violation listed. ``hardware/spinnaker/limits.py`` also holds the fixed-point fidelity
check (the quantised weights simulated against the float network).

:func:`run` runs the network as a sPyNNaker script. ``virtual=True`` uses sPyNNaker's
virtual board: it maps, places and routes the network and generates its data without
hardware, and **does not simulate** (stack.md P14): the Results hold no spikes, only
the mapping report (chips, cores per population, routing entries, SDRAM) in
``provenance["spinnaker_mapping"]``. sPyNNaker reads ``~/.spynnaker.cfg`` and writes
``./reports``; spikemem writes its own config and runs in a fresh folder under
``$SPIKEMEM_CACHE/spinnaker`` with ``HOME`` pointed there, so nothing of the user's
is read or written.

**A real board**: the same call without ``virtual``, and one of

- ``board="192.168.240.1"`` — a directly connected SpiNN-5 board (``[Machine]
  machine_name``, ``version = 5``);
- ``spalloc="https://server/"`` (+ ``spalloc_user``) — a board from a spalloc server
  (``[Machine] spalloc_server``);
- ``config="/path/spynnaker.cfg"`` — your own complete configuration, used as is.

Spikes, membrane traces and weights then come back in the Results like on any target.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spikemem.cache import cache_dir
from spikemem.errors import UnsupportedFeature, ValidationError
from spikemem.network import Network
from spikemem.outputs import check_output, write_text
from spikemem.provenance import provenance
from spikemem.results import Results
from spikemem.targets import TargetInfo, check_options

from ..pynn.lowering import lower
from ..pynn.running import run_and_collect
from ..pynn.script import write_script
from .limits import DT_MS, SPINNAKER, constraints

TARGET = TargetInfo(
    name="spinnaker",
    description="SpiNNaker via sPyNNaker: constraint report, virtual-board mapping (virtual=True), real boards",
    requires=("spynnaker", "pyNN"),
    install_hint="pip install 'spikemem[spinnaker]'",
    features=frozenset(
        {"IF_curr_exp", "IF_cond_exp", "integration=spinnaker", "STDP deferred", "Poisson", "FromList"}
        | {"current sources", "record v", "record weight", "run", "export"}
    ),
    options=("virtual", "board", "spalloc", "spalloc_user", "config", "neurons_per_core", "workdir"),
    export_options=("seed", "neurons_per_core", "duration_ms"),
    export_beside=(".npz", ".constraints.txt"),
)


# --- target interface -------------------------------------------------------------------


def check(network: Network, variant: str | None = None, **options: Any) -> None:
    """Validate options and refuse a network SpiNNaker cannot run (every violation listed)."""
    check_options(TARGET, options)
    machines = [k for k in ("virtual", "board", "spalloc", "config") if options.get(k)]
    if len(machines) != 1:
        raise ValidationError(
            "options virtual/board/spalloc/config",
            machines or None,
            "exactly one: virtual=True (mapping only), board='<IP of a SpiNN-5 board>', spalloc='<server URL>' "
            "or config='<path of a spynnaker.cfg>'",
        )
    if options.get("workdir"):
        check_output("option workdir", options["workdir"], "folder")
    if options.get("config") and not Path(options["config"]).is_file():
        raise ValidationError("option config", options["config"], "an existing spynnaker.cfg file")
    report = constraints(network, neurons_per_core=options.get("neurons_per_core"))
    if not report.ok:
        raise UnsupportedFeature("spinnaker", f"network {network.name!r}", "; ".join(report.violations))


def machine_config(
    virtual: bool = False, board: str | None = None, spalloc: str | None = None, spalloc_user: str | None = None
) -> str:
    """The ``spynnaker.cfg`` text spikemem writes for a run."""
    lines = ["[Machine]"]
    if virtual:
        lines += ["virtual_board = True", "version = 5"]
    elif board:
        lines += [f"machine_name = {board}", "version = 5"]
    elif spalloc:
        lines += [f"spalloc_server = {spalloc}"] + ([f"spalloc_user = {spalloc_user}"] if spalloc_user else [])
    lines += [
        "",
        "[Reports]",
        "write_network_graph = False",
        "write_application_graph_placer_report = False",
        "",
        "[Mode]",
        "mode = Production",
        "",
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def _sandbox(workdir: Path) -> Iterator[Path]:
    """Run sPyNNaker with HOME and the working directory in ``workdir``; its console
    output (progress bars, INFO logs) goes to ``workdir/spinnaker.log``."""
    saved_env = {k: os.environ.get(k) for k in ("HOME", "XDG_CONFIG_HOME")}
    saved_cwd = os.getcwd()
    log_path = workdir / "spinnaker.log"
    log = open(log_path, "a")
    saved_fds = (os.dup(1), os.dup(2))
    try:
        os.environ["HOME"] = str(workdir)
        os.environ["XDG_CONFIG_HOME"] = str(workdir / ".config")
        os.chdir(workdir)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        yield log_path
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(saved_fds[0], 1)
        os.dup2(saved_fds[1], 2)
        for fd in saved_fds:
            os.close(fd)
        log.close()
        os.chdir(saved_cwd)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(
    network: Network,
    duration_ms: float,
    seed: int = 0,
    variant: str | None = None,
    progress: bool = False,
    virtual: bool = False,
    board: str | None = None,
    spalloc: str | None = None,
    spalloc_user: str | None = None,
    config: str | None = None,
    neurons_per_core: int | None = None,
    workdir: str | None = None,
) -> Results:
    """Run on SpiNNaker (``board``/``spalloc``/``config``) or map on a virtual board (``virtual=True``).

    A virtual run returns Results without spikes; its mapping report is in
    ``provenance["spinnaker_mapping"]`` and the constraint report in
    ``provenance["spinnaker_constraints"]``.
    """
    report = constraints(network, seed, neurons_per_core)
    if not report.ok:
        raise UnsupportedFeature("spinnaker", f"network {network.name!r}", "; ".join(report.violations))
    folder = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="run-", dir=cache_dir("spinnaker")))
    folder.mkdir(parents=True, exist_ok=True)
    cfg = Path(config).read_text() if config else machine_config(virtual, board, spalloc, spalloc_user)
    (folder / ".spynnaker.cfg").write_text(cfg)
    t0 = time.perf_counter()
    with _sandbox(folder) as log_path:
        logging.getLogger("PyNN").setLevel(logging.ERROR)
        sim = importlib.import_module(SPINNAKER.module)
        sim.setup(timestep=DT_MS)
        try:
            if neurons_per_core:
                for cls in (sim.IF_curr_exp, sim.IF_cond_exp, sim.IF_curr_delta):
                    sim.set_number_of_neurons_per_core(cls, int(neurons_per_core))
            lowered = lower(sim, network, duration_ms, seed, SPINNAKER)
            t1 = time.perf_counter()
            if virtual:
                sim.run(duration_ms)
                results = Results(spikes={}, network=network)
            else:
                results = run_and_collect(sim, network, lowered, duration_ms, progress=progress)
            t2 = time.perf_counter()
            mapping = mapping_report(lowered)
        finally:
            sim.end()
    results.provenance = provenance(
        network,
        "spinnaker:virtual" if virtual else "spinnaker",
        seed,
        duration_ms,
        build_s=t1 - t0,
        run_s=t2 - t1,
        virtual=bool(virtual),
        simulated=not virtual,
        spinnaker_mapping=mapping,
        spinnaker_constraints=report.to_dict(),
        workdir=str(folder),
        log=str(log_path),
    )
    return results


def mapping_report(lowered: Any) -> dict[str, Any]:
    """Chips, cores per population, routing entries, SDRAM and the weight shifts sPyNNaker
    chose ([excitatory, inhibitory] per population) of the mapped network (call after
    ``sim.run``, before ``sim.end``)."""
    from spynnaker.pyNN.data import SpynnakerDataView

    labels = set(lowered.populations)
    cores: dict[str, int] = {}
    sdram: dict[str, int] = {}
    chips: set[tuple[int, int]] = set()
    system_cores = 0
    view = SpynnakerDataView
    steps = view.get_max_run_time_steps() if view.has_max_run_time_steps() else None
    for place in view.iterate_placemements():
        app = place.vertex.app_vertex
        if app is None:
            system_cores += 1
            continue
        label = app.label if app.label in labels else f"{app.label} ({type(app).__name__})"
        cores[label] = cores.get(label, 0) + 1
        sdram[label] = sdram.get(label, 0) + int(place.vertex.sdram_required.get_total_sdram(steps))
        chips.add((place.x, place.y))
    shifts = {}
    for name, pop in lowered.populations.items():
        vertex = getattr(pop, "_vertex", None)
        if hasattr(vertex, "get_ring_buffer_shifts"):
            shifts[name] = [int(x) for x in vertex.get_ring_buffer_shifts()]
    tables = view.get_uncompressed().routing_tables
    entries = {f"{t.x},{t.y}": int(t.number_of_entries) for t in tables}
    machine = view.get_machine()
    return {
        "machine_chips": int(machine.n_chips),
        "chips_used": sorted([list(c) for c in chips]),
        "n_chips_used": len(chips),
        "cores_per_population": dict(sorted(cores.items())),
        "application_cores": int(sum(cores.values())),
        "system_cores": int(system_cores),
        "routing_entries_per_chip": entries,
        "routing_entries": int(sum(entries.values())),
        "sdram_bytes_per_population": dict(sorted(sdram.items())),
        "sdram_bytes": int(sum(sdram.values())),
        "weight_shifts": shifts,
    }


def export(network: Network, out: str | os.PathLike[str], **options: Any) -> list[Path]:
    """Write a PyNN script for sPyNNaker (``--simulator spiNNaker`` by default) and, beside
    it, the constraint report (``<out>.constraints.txt``). Returns the files written."""
    check_options(TARGET, options, export=True)
    seed = options.get("seed", 0)
    report = constraints(network, seed, options.get("neurons_per_core"))
    if not report.ok:
        raise UnsupportedFeature("spinnaker", f"network {network.name!r}", "; ".join(report.violations))
    files = write_script(network, out, duration_ms=options.get("duration_ms"), seed=seed, default_simulator="spiNNaker")
    text = write_text(Path(out).with_suffix(".constraints.txt"), str(report) + "\n")
    return [*files, text]
