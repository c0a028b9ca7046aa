"""Large uniform all-to-all static projections through spike-counting pools.

A ``Static`` projection with one weight ``w`` and one delay from every neuron of A to
every neuron of B (in a stacked batch, :class:`~spikemem.connectors.Blocks`: every neuron
of each block of A to every neuron of the same block of B) adds to each target ``j``

.. math::

    x_j \\mathrel{+}= s\\,w\\,\\big(n_{c(j)}(t - D) - [\\text{no self-connections}]\\,
    z_{j}(t - D)\\big)

where ``x`` is the receptor's current or conductance, ``s`` the receptor's arrival scale
(:func:`._brian2_build.syn_scale`), ``D`` the Brian2 delay, ``n_c`` the number of spikes
of block ``c`` of A in one step and ``z_j`` whether A's neuron with ``j``'s index in the
block spiked. Brian2 would build ``|A|·|B|`` synapses and run ``|B|`` deliveries per
spike (brian2cuda creates them on the host, one thread: 3·10^8 of the 5·10^8 synapses
of the CA3 memory at N = M = 10 000 are such inhibitions). A pool needs ``|A| + |B|``:

* ``<name>_pool_in``: A → pool neuron ``c``, ``count += 1``, delay ``D - dt``;
* the pool (one neuron per block, all pools of a network in one NeuronGroup) takes
  ``n = count; count = 0`` in the ``groups`` slot of the next step and spikes if ``n > 0``;
* ``<name>`` (the projection's own name): pool ``c`` → every neuron of block ``c`` of B,
  weight ``w·n``, no delay — in the ``synapses`` slot of the step ``D`` after A's spikes,
  where the direct synapses would have delivered them;
* ``<name>_self`` (no self-connections only): A's neuron → B's neuron of the same index
  in the block, weight ``-w``, delay ``D``.

The spikes are those of the direct synapses; only the rounding of same-step sums can
differ (``w·n`` instead of ``n`` additions of ``w``), as for fused synapses. Projections
small enough to fuse (:data:`._brian2_fuse.MAX_FUSED`), weighed by a probe or with a
device model keep their synapses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spikemem.connectors import AllToAll, Blocks
from spikemem.network import Network, Projection
from spikemem.synapses import Static

from ._brian2_fuse import MAX_FUSED

POOL_STATE = """
count : 1
n : 1
"""


def poolable(network: Network, proj: Projection, probed: set[str], seed: int, delay_steps: int) -> bool:
    """Whether ``proj`` is realised by a pool (module docstring); ``delay_steps``: its
    Brian2 delay in steps (a pool needs one step to count)."""
    conn = proj.connector
    inner = conn.inner if isinstance(conn, Blocks) else conn
    pre, post = network.population(proj.pre).size, network.population(proj.post).size
    return (
        type(proj.synapse) is Static
        and isinstance(inner, AllToAll)
        and proj.device is None
        and proj.name not in probed
        and delay_steps >= 1
        and conn.count(pre, post, seed) > MAX_FUSED
    )


def blocks(network: Network, proj: Projection) -> tuple[int, int, int]:
    """``(copies, pre block size, post block size)`` of a poolable projection."""
    pre, post = network.population(proj.pre).size, network.population(proj.post).size
    conn = proj.connector
    if isinstance(conn, Blocks):
        a, b = conn.block_sizes(pre, post)
        return conn.copies, a, b
    return 1, pre, post


def pool_group(b2: Any, size: int, name: str, step_name: str) -> Any:
    """The NeuronGroup of all pools of a network: ``size`` pool neurons."""
    group = b2.NeuronGroup(size, POOL_STATE, threshold="n > 0.5", reset="", name=name)
    group.run_regularly("n = count\ncount = 0", when="groups", name=step_name)
    return group


def connect(
    b2: Any,
    network: Network,
    proj: Projection,
    pools: Any,
    src: Any,
    tgt: Any,
    deliver: Callable[[str], str],
    delay_steps: int,
    unique: Callable[[str], str],
) -> tuple[Any, list[Any]]:
    """The Brian2 objects of ``proj`` through ``pools`` (its slice of the pool group).

    ``deliver(weight_expression)`` gives the on_pre code that adds a weight to the target's
    receptor; ``unique(base)`` a free Brian2 name. Returns the pool → B synapses (named
    like the projection) and every object made.
    """
    copies, a, b = blocks(network, proj)
    inner = proj.connector.inner if isinstance(proj.connector, Blocks) else proj.connector
    dt = network.dt
    weight = float(proj.synapse.weight)
    pool_in = b2.Synapses(
        src, pools, on_pre="count_post += 1", delay=(delay_steps - 1) * dt * b2.ms, name=unique(f"{proj.name}_pool_in")
    )
    pool_in.connect(i=np.arange(copies * a), j=np.arange(copies * a) // a)
    pool_out = b2.Synapses(pools, tgt, "w : 1", on_pre=deliver("w*n_pre"), delay=0 * b2.ms, name=proj.name)
    pool_out.connect(i=np.arange(copies * b) // b, j=np.arange(copies * b))
    pool_out.w = weight
    made = [pool_in, pool_out]
    if not inner.allow_self_connections:
        k = np.arange(min(a, b))
        c = np.arange(copies)[:, None]
        own = b2.Synapses(
            src, tgt, "w : 1", on_pre=deliver("w"), delay=delay_steps * dt * b2.ms, name=unique(f"{proj.name}_self")
        )
        own.connect(i=(c * a + k).ravel(), j=(c * b + k).ravel())
        own.w = -weight
        made.append(own)
    return pool_out, made
