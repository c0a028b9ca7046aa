"""Device physics under synapses: not targets, models of the devices a weight is stored in.

``rram``: resistive memory (RRAM, PCM, forming-based random weights) as differential
conductance pairs with quantisation, programming and read noise, drift and stuck-at faults.

A device model is a node of the description (``Projection.device``); the description finds
the node types defined here by importing this package's modules (:func:`node_types`), and
the targets that can carry a device lower it themselves (the ``brian2`` room's ``rram``).
"""

from __future__ import annotations

from spikemem._registry import public_modules


def node_types() -> None:
    """Import every device module, so that its node types register with the description."""
    for _ in public_modules(__name__):
        pass
