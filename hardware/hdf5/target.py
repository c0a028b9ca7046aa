"""The ``hdf5`` exporter: the network itself, bit-exactly, in spikemem's HDF5 format.

``spikemem export MODEL --target hdf5 --out net.h5`` writes what
:func:`spikemem.save_network` writes; :func:`spikemem.load_network` (or ``spikemem export
net.h5 --target ...``) reads it back equal, field for field.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from spikemem.io import save_network
from spikemem.network import Network
from spikemem.targets import FEATURES, TargetInfo, check_options

TARGET = TargetInfo(
    name="hdf5",
    description="export only: the network in spikemem's own HDF5 format (spikemem.load_network reads it back)",
    requires=("h5py",),
    install_hint="pip install spikemem (h5py is a core dependency)",
    features=frozenset(FEATURES) - {"run"},
)


def export(network: Network, out: str | os.PathLike[str], **options: Any) -> Path:
    """Write ``network`` to ``out`` (atomically); return its path."""
    check_options(TARGET, options, export=True)
    save_network(network, out)
    return Path(out)
