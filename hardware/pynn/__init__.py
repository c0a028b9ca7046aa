"""The ``pynn`` room: PyNN simulator modules (``pynn:nest``, ``pynn:brian2``) and PyNN scripts.

============  ==================================================================
``target``    the ``pynn`` target: options, checks, run
``backends``  the per-backend translation table (NEST, pyNN.brian2; sPyNNaker's
              entry is in the ``spinnaker`` room)
``checks``    what a PyNN simulator cannot run as described
``lowering``  a Network into PyNN populations, projections and recorders
``running``   the run in chunks, weight samples, reading the recorders
``writes``    gated writes carried out by the host between time steps
``script``    the ``pynn-script`` exporter: a standalone PyNN script
============  ==================================================================
"""

from .backends import BACKENDS, Backend, backend_for
from .checks import brian2_only_features, check_semantics
from .target import TARGET, check, run

TARGETS = ("target", "script")

__all__ = [
    "BACKENDS",
    "TARGET",
    "TARGETS",
    "Backend",
    "backend_for",
    "brian2_only_features",
    "check",
    "check_semantics",
    "run",
]
