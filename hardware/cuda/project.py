"""A ``cuda_standalone`` project on disk: its manifest, running its ``main``, reading its results.

The manifest (``spikemem.json``) maps the monitors to the files the program writes and
records the duration, seed, compute capability and, for a compiled project, the
:func:`~.target.content_key` it was compiled for. Running and reading need neither
brian2cuda nor nvcc, so a compiled project's content key does not depend on this module.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from spikemem.errors import UnsupportedFeature, ValidationError
from spikemem.io import load_network, save_network
from spikemem.network import Network
from spikemem.provenance import provenance
from spikemem.results import Results, SpikeTrains, Trace

from ..brian2.synapses import indices
from .machine import curand_dirs, gpus

MANIFEST = "spikemem.json"
LOG = "main.log"


def read_results(directory: str | os.PathLike[str]) -> Results:
    """Load the Results of an exported project after its ``main`` has run."""
    folder = Path(directory)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ValidationError("directory", str(folder), f"a project written by spikemem's cuda target ({MANIFEST})")
    manifest = json.loads(manifest_path.read_text())
    network = load_network(folder / "network.h5")
    out = folder / "results"

    def array(entry: dict[str, str]) -> np.ndarray:
        path = out / entry["file"]
        if not path.is_file():
            raise ValidationError("directory", str(folder), f"a project that has run (missing results/{path.name})")
        return np.fromfile(path, dtype=entry["dtype"])

    results = Results(spikes={}, network=network)
    for name, files in manifest["spikes"].items():
        size = network.population(name).size
        results.spikes[name] = SpikeTrains(size, array(files["t"]) / 1e-3, array(files["i"]))
    for name, files in manifest["v"].items():
        t = array(files["t"]) / 1e-3
        values = array(files["values"]).reshape(len(t), -1) / 1e-3
        results.traces[f"{name}.v"] = Trace(t, values, "mV")
    for name, files in manifest["weight"].items():
        t = array(files["t"]) / 1e-3
        results.weights[name] = Trace(t, array(files["values"]).reshape(len(t), -1), files["unit"])
        results.synapses[name] = indices(network, network.projection(name), manifest["seed"])
    results.provenance = provenance(
        network,
        "cuda",
        manifest["seed"],
        manifest["duration_ms"],
        build_dir=str(folder),
        compute_capability=manifest["compute_capability"],
    )
    return results


def run_project(directory: str | os.PathLike[str]) -> Results:
    """Run a compiled project's ``main`` on this machine's GPU and load its Results.

    The project may have been compiled on another machine (``export(..., compile=True)``):
    only a GPU and cuRAND's library are needed here, neither brian2cuda nor nvcc. cuRAND's
    library folder found on this machine goes first on ``LD_LIBRARY_PATH``. The program's
    output goes to ``main.log`` in the project as it runs (brian2cuda reports each synaptic
    pathway it has set up), so a run stopped from outside shows how far it got. The
    provenance's ``run_s`` is the simulation loop's time as the program reports it.
    """
    folder = Path(directory)
    if not (folder / MANIFEST).is_file() or not (folder / "main").is_file():
        allowed = f"a compiled project of spikemem's cuda target (main, {MANIFEST})"
        raise ValidationError("directory", str(folder), allowed)
    found = gpus()
    if not found:
        raise UnsupportedFeature("cuda", "stage 'run'", "no NVIDIA GPU found (nvidia-smi lists none)")
    (folder / "results").mkdir(exist_ok=True)
    env = dict(os.environ)
    dirs = curand_dirs()
    if dirs is not None:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (str(dirs[1]), env.get("LD_LIBRARY_PATH", "")) if p)
    log = folder / LOG
    t0 = time.perf_counter()
    with open(log, "w") as out:
        returncode = subprocess.run(["./main"], cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t0
    if returncode != 0:
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
        raise RuntimeError(f"{folder / 'main'} failed with exit status {returncode} (see {log}): {tail}")
    results = read_results(folder)
    info = (folder / "results" / "last_run_info.txt").read_text().split()
    run_s = float(info[0]) if info else wall
    results.provenance.update(build_s=wall - run_s, run_s=run_s, gpu=found[0][0], compiled_earlier=True)
    return results


def compiled_for(folder: Path, key: str) -> bool:
    """Whether ``folder`` holds a compiled project of exactly this run (see :func:`~.target.content_key`)."""
    return compiled_key(folder) == key and (folder / "main").is_file()


def compiled_key(folder: Path) -> str | None:
    """The content key ``folder``'s manifest says it was compiled for (None: none, or no manifest)."""
    try:
        return json.loads((folder / MANIFEST).read_text()).get("compiled_key")
    except (OSError, ValueError):
        return None


def write_manifest(
    b2: Any, folder: Path, network: Network, built: Any, duration_ms: float, seed: int, cc: float, compiled: str | None
) -> None:
    def entry(var: Any) -> dict[str, str]:
        return {"file": b2.device.get_array_filename(var), "dtype": np.dtype(var.dtype).str}

    manifest = {
        "format": "spikemem-cuda-project-1",
        "duration_ms": float(duration_ms),
        "seed": int(seed),
        "compute_capability": float(cc),
        "compiled_key": compiled,
        "spikes": {
            k: {"t": entry(m.variables["t"]), "i": entry(m.variables["i"])} for k, m in built.spike_monitors.items()
        },
        "v": {
            k: {"t": entry(m.variables["t"]), "values": entry(m.variables["v"])} for k, m in built.v_monitors.items()
        },
        "weight": {
            k: {"t": entry(m.variables["t"]), "values": entry(m.variables["w"]), "unit": built.units[k]}
            for k, m in built.w_monitors.items()
        },
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    save_network(network, folder / "network.h5")
