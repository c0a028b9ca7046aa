"""The ``nir`` room: the Neuromorphic Intermediate Representation (export and import).

``target``: the mapping of a Network to a NIR graph (``CubaLIF``, ``Linear``, ``Delay``,
``Input``, ``Output``) and back, and what NIR cannot express.
"""

from .target import TARGET, export, from_nir, inexpressible, read_network, to_nir

TARGETS = ("target",)

__all__ = ["TARGET", "TARGETS", "export", "from_nir", "inexpressible", "read_network", "to_nir"]
