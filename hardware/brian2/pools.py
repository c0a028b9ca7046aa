"""Large uniform all-to-all static projections through spike-counting pools.

A ``Static`` projection with one weight ``w`` and one delay from every neuron of A to
every neuron of B (in a stacked batch, :class:`~spikemem.connectors.Blocks`: every neuron
of each block of A to every neuron of the same block of B) adds to each target ``j``

.. math::

    x_j \\mathrel{+}= s\\,w\\,\\big(n_{c(j)}(t - D) - [\\text{no self-connections}]\\,
    z_{j}(t - D)\\big)

where ``x`` is the receptor's current or conductance (a delta cell's arriving input, with
the inhibitory sign), ``s`` the receptor's arrival scale
(:func:`.synapses.syn_scale`), ``D`` the Brian2 delay, ``n_c`` the number of spikes
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
small enough to fuse (:data:`.fuse.MAX_FUSED`), weighed by a probe or with a
device model keep their synapses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from spikemem.connectors import AllToAll, Blocks
from spikemem.network import Network, Projection
from spikemem.synapses import Static

from .fuse import MAX_FUSED

POOL_STATE = """
count : 1
n : 1
"""


@dataclass(frozen=True)
class Pooled:
    """How one projection runs through a pool: ``copies`` blocks of ``pre_block`` →
    ``post_block`` neurons (one block unless :class:`~spikemem.connectors.Blocks`), the
    Brian2 delay ``delay_steps`` steps of ``dt_ms``."""

    copies: int
    pre_block: int
    post_block: int
    delay_steps: int
    dt_ms: float
    self_connections: bool
    weight: float


def plan(
    network: Network, proj: Projection, probed: set[str], seed: int, brian2_delay_ms: Callable[[Projection], float]
) -> Pooled | None:
    """How ``proj`` is realised by a pool (module docstring), or None where it keeps its
    synapses; ``brian2_delay_ms(proj)``: its Brian2 delay (a pool needs one step to count)."""
    conn = proj.connector
    inner = conn.inner if isinstance(conn, Blocks) else conn
    if (
        type(proj.synapse) is not Static
        or not isinstance(inner, AllToAll)
        or proj.device is not None
        or proj.name in probed
    ):
        return None
    delay_steps = round(float(brian2_delay_ms(proj)) / network.dt)
    pre, post = network.population(proj.pre).size, network.population(proj.post).size
    if delay_steps < 1 or conn.count(pre, post, seed) <= MAX_FUSED:
        return None
    copies, (a, b) = (conn.copies, conn.block_sizes(pre, post)) if isinstance(conn, Blocks) else (1, (pre, post))
    weight = float(proj.synapse.weight)
    return Pooled(copies, a, b, delay_steps, network.dt, inner.allow_self_connections, weight)


def pool_group(b2: Any, size: int, name: str, step_name: str) -> Any:
    """The NeuronGroup of all pools of a network: ``size`` pool neurons."""
    group = b2.NeuronGroup(size, POOL_STATE, threshold="n > 0.5", reset="", name=name)
    group.run_regularly("n = count\ncount = 0", when="groups", name=step_name)
    return group


def connect(
    b2: Any,
    how: Pooled,
    name: str,
    pools: Any,
    src: Any,
    tgt: Any,
    deliver: Callable[[str], str],
    unique: Callable[[str], str],
) -> tuple[Any, list[Any]]:
    """The Brian2 objects of projection ``name`` through ``pools`` (its slice of the pool group).

    ``deliver(weight_expression)`` gives the on_pre code that adds a weight to the target's
    receptor; ``unique(base)`` a free Brian2 name. Returns the pool → B synapses (named
    like the projection) and every object made.
    """
    copies, a, b = how.copies, how.pre_block, how.post_block
    dt = how.dt_ms * b2.ms
    pool_in = b2.Synapses(
        src, pools, on_pre="count_post += 1", delay=(how.delay_steps - 1) * dt, name=unique(f"{name}_pool_in")
    )
    pool_in.connect(i=np.arange(copies * a), j=np.arange(copies * a) // a)
    pool_out = b2.Synapses(pools, tgt, "w : 1", on_pre=deliver("w*n_pre"), delay=0 * b2.ms, name=name)
    pool_out.connect(i=np.arange(copies * b) // b, j=np.arange(copies * b))
    pool_out.w = how.weight
    made = [pool_in, pool_out]
    if not how.self_connections:
        k = np.arange(min(a, b))
        c = np.arange(copies)[:, None]
        own = b2.Synapses(
            src, tgt, "w : 1", on_pre=deliver("w"), delay=how.delay_steps * dt, name=unique(f"{name}_self")
        )
        own.connect(i=(c * a + k).ravel(), j=(c * b + k).ravel())
        own.w = -how.weight
        made.append(own)
    return pool_out, made
