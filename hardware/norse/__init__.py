"""The ``norse`` room: PyTorch with Norse's surrogate gradients (batched, differentiable).

============  ===================================================================
``target``    the target: checks, ``run``, ``run_batch`` (B trials in one pass), ``lower``
``module``    a Network as a ``torch.nn.Module``: populations, delayed projections, probes
``cells``     the cells' exact steps as pure functions over (state, params); the spike
              function with Norse's SuperSpike surrogate gradient
``training``  ``to_network``: trained weights back into a Network every target runs
``nir``       NIR graphs as Norse reads and writes them (its Euler step, box spikes and
              the time constant its ``to_nir`` writes scaled by dt)
============  ===================================================================
"""

from .target import TARGET, check, lower, run, run_batch
from .training import to_network

TARGETS = ("target",)

__all__ = ["TARGET", "TARGETS", "check", "lower", "run", "run_batch", "to_network"]
