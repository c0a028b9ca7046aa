"""The same scenario on every installed target (PyNN's ``run_with_simulators`` pattern).

``@on_targets("brian2:numpy", "pynn:brian2", "pynn:nest")`` runs the decorated test once per
target, as ``target``; a target whose simulator is missing is skipped with the reason
(never faked), and each target carries its pytest marker (``pynn``, ``nest``, ``standalone``,
``spinnaker``), so ``-m "not nest"`` leaves NEST out.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spikemem.errors import TargetNotInstalled
from spikemem.targets import resolve

#: The CPU engines that simulate a current-based network exactly alike.
CPU_ENGINES = ("brian2:numpy", "pynn:brian2", "pynn:nest")

_MARKS = {
    "pynn:brian2": [pytest.mark.pynn],
    "pynn:nest": [pytest.mark.pynn, pytest.mark.nest],
    "brian2:cpp_standalone": [pytest.mark.standalone],
    "spinnaker": [pytest.mark.spinnaker],
    "norse": [pytest.mark.torch],
}


def on_targets(*targets: str, slow: tuple[str, ...] = ()):
    """Parametrize a test over ``targets`` (``target`` argument); those in ``slow`` also
    get the ``slow`` marker."""
    params = [
        pytest.param(t, marks=_MARKS.get(t, []) + ([pytest.mark.slow] if t in slow else []), id=t) for t in targets
    ]
    return pytest.mark.parametrize("target", params)


def require(target: str) -> None:
    """Skip the running test, with the reason, where ``target``'s simulator is not installed."""
    try:
        info, module, variant = resolve(target)
        if target.startswith("pynn:"):
            from spikemem.hardware.pynn import backend_for

            backend = backend_for(variant)
            pytest.importorskip(backend.requires, reason=f"{target} needs {backend.requires} ({backend.install_hint})")
    except TargetNotInstalled as exc:
        pytest.skip(str(exc))


def run_script(script: Path, simulator: str) -> dict[str, np.ndarray]:
    """Run an exported PyNN script (``python net.py --simulator X``, no spikemem) in its own
    folder; return the spike arrays it saved (``<population>_times`` in ms, ``_indices``)."""
    out = script.with_name("spikes.npz")
    proc = subprocess.run(
        [sys.executable, str(script), "--simulator", simulator, "--out", str(out)],
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(np.load(out))
