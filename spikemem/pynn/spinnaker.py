"""sPyNNaker's dialect and semantics: ``import spikemem.pynn.spinnaker as sim`` in place of
``import pyNN.spiNNaker as sim``; a sPyNNaker script reproduces SpiNNaker's spikes without a board.

The same API as :mod:`spikemem.pynn`, with what sPyNNaker does differently from PyNN:

* **semantics** (``setup(semantics="spinnaker")``, the default): cells use sPyNNaker's
  discrete update of ``IF_curr_exp``/``IF_cond_exp`` once per step, and STDP is computed the
  way sPyNNaker computes it, deferred to pre-synaptic spikes with the whole delay dendritic
  (spec/ca3.md §7.1; spikemem's ``integration="spinnaker"`` and ``timing="deferred"``).
  ``semantics="exact"`` keeps the dialect below but integrates in continuous time with online
  STDP, the delay axonal (what a continuous-time simulator honours);
* ``timestep`` defaults to 1.0 ms, SpiNNaker's step;
* ``Population.set(v=...)`` sets the initial membrane potential (sPyNNaker 6 took it; PyNN
  and sPyNNaker 7 refuse it);
* weights are positive on both receptors (``receptor_type="inhibitory"`` gives the sign);
  a negative weight is refused;
* ``AdditiveWeightDependence``'s ``A_plus``/``A_minus`` are absolute weight changes (nA or µS),
  not fractions of ``w_max``;
* ``STDPMechanism``'s ``dendritic_delay_fraction`` is ignored, as sPyNNaker ignores it;
* spike times at 0 ms are accepted (emitted in the first step);
* ``set_number_of_neurons_per_core`` is accepted and does nothing (a mapping hint: spikemem maps
  nothing onto cores).

What this module cannot emulate is refused as in :mod:`spikemem.pynn`, with the reason.
"""

from typing import Any

from . import *  # noqa: F403
from . import REFUSED, SUPPORTED, list_standard_models  # noqa: F401
from .control import configure


def setup(
    timestep: float = 1.0,
    min_delay: float | str = "auto",
    target: str = "brian2",
    semantics: str = "spinnaker",
    seed: int = 0,
    **extra_params: Any,
) -> int:
    """Start a new sPyNNaker script on spikemem (sPyNNaker's ``setup``).

    Parameters
    ----------
    timestep
        The time step (ms); SpiNNaker's 1.0 by default.
    min_delay
        The default synaptic delay (ms), ``"auto"``: one time step.
    target
        The spikemem target every ``run()`` simulates on (default ``"brian2"``).
    semantics
        ``"spinnaker"`` (sPyNNaker's discrete update and deferred STDP) or ``"exact"``.
    seed
        Seeds spikemem's random draws (Poisson sources).
    **extra_params
        ``max_delay``, and any option of the target, passed to ``spikemem.simulate``.

    Returns
    -------
    int
        The MPI rank, 0.
    """
    return configure("spinnaker", semantics, timestep, min_delay, target, seed, dict(extra_params))


def set_number_of_neurons_per_core(neuron_type: Any, max_permitted: Any) -> None:
    """sPyNNaker's mapping hint; accepted and ignored (spikemem maps nothing onto cores)."""
