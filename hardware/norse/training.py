"""Trained weights back into the description: the network that every other target runs.

A trainable projection holds one signed weight per synapse (``+w`` excitatory, ``-w``
inhibitory, :mod:`.module`). :func:`to_network` writes it as the description writes weights,
magnitudes on a receptor: the synapses whose weight kept the projection's sign stay in the
projection (same name, same receptor), those whose weight changed sign move to a projection
``<name>_<receptor>`` on the other receptor. Both are ``FromList`` projections with each
synapse's weight and delay, so the written network runs on brian2, NEST or SpiNNaker with
the inputs the module was trained on and gives its spikes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikemem.connectors import FromList
from spikemem.network import Network, Projection
from spikemem.synapses import Static

OTHER = {"excitatory": "inhibitory", "inhibitory": "excitatory"}


def to_network(module: Any) -> Network:
    """``module``'s network with the trained weights of its trainable projections (module docstring)."""
    network = module.network
    projections: list[Projection] = []
    for proj in network.projections:
        if proj.name not in module.trainable:
            projections.append(proj)
            continue
        conns = network.connections(proj, module.seed)
        signed = module.signed_weights(proj.name)
        kept = signed * (1.0 if proj.receptor == "excitatory" else -1.0) >= 0
        for receptor, mine, name in ((proj.receptor, kept, proj.name), (OTHER[proj.receptor], ~kept, None)):
            if name is None and not mine.any():
                continue
            rows = np.column_stack([conns.i[mine], conns.j[mine], np.abs(signed[mine]), conns.delay[mine]])
            synapse = Static(weight=0.0, delay=float(proj.synapse.delay))
            projections.append(
                Projection(name or f"{proj.name}_{receptor}", proj.pre, proj.post, FromList(rows), synapse, receptor)
            )
    return network.replace(projections=tuple(projections))
