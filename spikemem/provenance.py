"""Provenance: what produced a result (versions, seed, target, network, time)."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
from typing import Any

PACKAGES = (
    "spikemem",
    "numpy",
    "brian2",
    "h5py",
    "pynn",
    "nest-simulator",
    "spynnaker",
    "torch",
    "norse",
    "nir",
    "brian2cuda",
)


def versions() -> dict[str, str]:
    """Installed versions of spikemem and the libraries it drives."""
    out = {"python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def now_utc() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def provenance(network: Any, target: str, seed: int, duration_ms: float, **extra: Any) -> dict[str, Any]:
    """The provenance record stored with every Results."""
    return {
        "network_name": network.name,
        "network_digest": network.digest(),
        "target": target,
        "seed": int(seed),
        "duration_ms": float(duration_ms),
        "dt_ms": float(network.dt),
        "start_time_utc": now_utc(),
        "versions": versions(),
        "host": platform.node(),
        **extra,
    }
