"""spikemem as a PyNN 0.13 backend: ``import spikemem.pynn as sim`` in place of ``pyNN.nest``.

A PyNN script builds populations, views, assemblies and projections with PyNN's own
classes (subclassed from ``pyNN.common``, as every backend does); each ``run()`` lowers what
it built to a spikemem :class:`~spikemem.network.Network` (:mod:`.lowering`) and simulates it on
the target chosen in ``setup(..., target=...)`` (default ``"brian2"``). Recorded spikes and
``v`` come back as neo blocks through PyNN's ``get_data``/``write_data``.

This module speaks PyNN's documented API and semantics (continuous-time cells, STDP with the
delay axonal). :mod:`spikemem.pynn.spinnaker` speaks sPyNNaker's dialect and semantics.
What the description cannot express is refused with
:class:`~spikemem.errors.UnsupportedFeature` naming the PyNN type or feature
(:data:`.standardmodels.REFUSED`).
"""

from pyNN import errors, random, space  # noqa: F401
from pyNN.connectors import (  # noqa: F401
    AllToAllConnector,
    ArrayConnector,
    CloneConnector,
    DisplacementDependentProbabilityConnector,
    DistanceDependentProbabilityConnector,
    FixedNumberPostConnector,
    FixedNumberPreConnector,
    FixedProbabilityConnector,
    FixedTotalNumberConnector,
    FromFileConnector,
    FromListConnector,
    IndexBasedProbabilityConnector,
    OneToOneConnector,
    SmallWorldConnector,
)
from pyNN.network import Network  # noqa: F401
from pyNN.parameters import Sequence  # noqa: F401
from pyNN.random import GSLRNG, NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.space import Space  # noqa: F401

from .control import (  # noqa: F401
    end,
    export,
    get_current_time,
    get_max_delay,
    get_min_delay,
    get_time_step,
    initialize,
    num_processes,
    rank,
    reset,
    run,
    run_for,
    run_until,
    setup,
)
from .populations import Assembly, Population, PopulationView  # noqa: F401
from .procedural_api import connect, create, record, record_v  # noqa: F401
from .projections import Projection  # noqa: F401
from .standardmodels import *  # noqa: F403
from .standardmodels import REFUSED, SUPPORTED  # noqa: F401 - the tables of supported and refused types


def list_standard_models() -> list[str]:
    """The standard cell types spikemem.pynn runs (PyNN's ``list_standard_models``)."""
    return [name for name in SUPPORTED if name[0].isupper() and ("_" in name or name.startswith("SpikeSource"))]
