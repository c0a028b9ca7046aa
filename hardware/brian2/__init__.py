"""The ``brian2`` target's room: Brian2 on the CPU (numpy, cython, C++ standalone).

==============  ==============================================================
``target``      the target: engine choice, runtime and C++ standalone runs
``lowering``    a Network into Brian2 objects (shared with the ``cuda`` target)
``cells``       NeuronGroups of the cell types (exact and SpiNNaker updates,
                delta synapses as NEST's ``iaf_psc_delta``)
``synapses``    Synapses of the synapse types (static, STDP online / deferred,
                gated writes, gates)
``fuse``        fewer Brian2 objects: merged spike sources, fused synapses
``pools``       spike-counting pools for large uniform all-to-all projections
``rram``        a resistive-memory device model's state and noise in Brian2 code
==============  ==============================================================
"""

from .target import STANDALONE_ABOVE_S, TARGET, check, check_deferred, choose_engine, run, structure_key

TARGETS = ("target",)

__all__ = [
    "STANDALONE_ABOVE_S",
    "TARGET",
    "TARGETS",
    "check",
    "check_deferred",
    "choose_engine",
    "run",
    "structure_key",
]
