"""Save and load a :class:`~spikemem.network.Network` in HDF5, bit-exactly."""

from __future__ import annotations

import os

import h5py

from ._node import node_from_dict
from .errors import ValidationError
from .h5store import read_tree, write_atomically, write_tree
from .network import Network

FORMAT = "spikemem-network-1"


def save_network(network: Network, path: str | os.PathLike[str]) -> None:
    """Write ``network`` to an HDF5 file (atomically: the file is complete or untouched)."""

    def fill(fh: h5py.File) -> None:
        fh.attrs["format"] = FORMAT
        group = fh.create_group("network")
        write_tree(group, "description", network.to_dict())
        group.attrs["digest"] = network.digest()

    write_atomically(path, fill)


def network_from_group(group: h5py.Group) -> Network:
    net = node_from_dict(read_tree(group, "description"))
    if not isinstance(net, Network):
        raise ValidationError("network", type(net).__name__, "a Network record")
    return net


def load_network(path: str | os.PathLike[str]) -> Network:
    """Read a network written by :func:`save_network` (or stored inside a results file)."""
    if not os.path.exists(path):
        raise ValidationError("path", str(path), "an existing HDF5 file")
    with h5py.File(path, "r") as fh:
        if "network" not in fh:
            raise ValidationError("path", str(path), "an HDF5 file holding a spikemem network")
        return network_from_group(fh["network"])
