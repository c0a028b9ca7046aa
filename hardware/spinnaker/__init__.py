"""The ``spinnaker`` room: SpiNNaker through sPyNNaker (PyNN's ``pyNN.spiNNaker``).

===========  ===================================================================
``target``   the target: checks, runs on a board or a virtual board, mapping
             report, export as a PyNN script for sPyNNaker
``limits``   the chip's limits, checked before anything is sent: 1 ms step, delay
             slots, neurons per core, synaptic rows, 16-bit fixed-point weights;
             the fixed-point fidelity check
===========  ===================================================================

The network is lowered by the ``pynn`` room's lowering with sPyNNaker's backend entry
(``limits.SPINNAKER``).
"""

from .limits import SPINNAKER, constraints, fidelity_check, quantise
from .target import TARGET, check, export, machine_config, mapping_report, run

TARGETS = ("target",)

__all__ = [
    "SPINNAKER",
    "TARGET",
    "TARGETS",
    "check",
    "constraints",
    "export",
    "fidelity_check",
    "machine_config",
    "mapping_report",
    "quantise",
    "run",
]
