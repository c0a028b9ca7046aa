"""Device physics under synapses: not targets, models of the devices a weight is stored in.

``rram``: resistive memory (RRAM, PCM, forming-based random weights) as differential
conductance pairs with quantisation, programming and read noise, drift and stuck-at faults.

A device model is a node of the description (``Projection.device``); the description finds
the node types defined here by importing this package's modules (:func:`node_types`), and
the targets that can carry a device lower it themselves (the ``brian2`` room's ``rram``).
"""

from __future__ import annotations

import importlib
import pkgutil


def node_types() -> None:
    """Import every device module, so that its node types register with the description."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
