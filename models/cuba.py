"""The Vogels–Abbott CUBA benchmark network (Vogels & Abbott 2005; Brian2's ``CUBA`` example).

4000 current-based LIF neurons (3200 excitatory, 800 inhibitory), 2 % random
connectivity, no external input: activity is self-sustained from random initial
potentials.

.. math::

    \\tau_m \\frac{dv}{dt} = (E_l - v) + \\tau_m (i_E - i_I)/c_m,
    \\qquad \\tau_e = 5\\,\\text{ms},\\; \\tau_i = 10\\,\\text{ms}

with tau_m = 20 ms, E_l = -49 mV, threshold -50 mV, reset -60 mV, refractory 5 ms.
Weights are the example's voltage jumps (1.62 mV excitatory, 9 mV inhibitory)
expressed as currents into a 1 nF membrane: ``w = ΔV · c_m / tau_m``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

from spikemem import _checks as chk
from spikemem import budget
from spikemem.cells import IF_curr_exp
from spikemem.connectors import FixedProbability
from spikemem.model import Model
from spikemem.network import Network, Population, Probe, Projection
from spikemem.plotting import raster
from spikemem.synapses import Static

CM_NF, TAU_M_MS = 1.0, 20.0


def cuba_network(
    n_neurons: int = 4000, p_connect: float = 0.02, seed: int = 1, dt: float = 0.1, record_spikes: bool = True
) -> Network:
    """Build the CUBA network; ``seed`` fixes connectivity and initial potentials."""
    n_neurons = check_size("n_neurons", n_neurons, p_connect)
    n_exc = int(n_neurons * 0.8)
    n_inh = n_neurons - n_exc
    cell = IF_curr_exp(
        cm=CM_NF,
        tau_m=TAU_M_MS,
        tau_refrac=5.0,
        tau_syn_E=5.0,
        tau_syn_I=10.0,
        v_rest=-49.0,
        v_reset=-60.0,
        v_thresh=-50.0,
    )
    rng = np.random.default_rng(seed)
    v0 = rng.uniform(-60.0, -50.0, size=n_neurons)
    exc = Population("exc", n_exc, cell, initial_v=v0[:n_exc])
    inh = Population("inh", n_inh, cell, initial_v=v0[n_exc:])
    w_exc = 1.62 * CM_NF / TAU_M_MS
    w_inh = 9.0 * CM_NF / TAU_M_MS
    projections = []
    for k, (pre, post) in enumerate([(exc, exc), (exc, inh), (inh, exc), (inh, inh)]):
        receptor = "excitatory" if pre is exc else "inhibitory"
        syn = Static(weight=w_exc if pre is exc else w_inh, delay=dt)
        conn = FixedProbability(p_connect, seed=seed * 10 + k)
        projections.append(Projection(f"{pre.name}_{post.name}", pre, post, conn, syn, receptor))
    probes = [Probe("exc"), Probe("inh")] if record_spikes else []
    return Network([exc, inh], projections, probes, dt=dt, name=f"cuba_{n_neurons}")


def check_size(field: str, n_neurons: Any, p_connect: float = 0.02) -> int:
    """``n_neurons`` (given as ``field``) if the network can be built and fits in memory:
    at least 2 (one excitatory and one inhibitory neuron), and its ``p·n²`` synapses within
    this machine's memory (:mod:`spikemem.budget`), checked before anything is allocated."""
    n = chk.count(field, n_neurons, minimum=2)
    synapses = p_connect * n * n
    needed = budget.estimate_bytes(n, synapses)
    budget.check_bytes(field, n_neurons, needed, f"{n:.3g} neurons, {synapses:.3g} synapses")
    return n


def cuba_raster(results: Any, path: str | os.PathLike[str]) -> None:
    """Raster of a CUBA run, excitatory then inhibitory neurons."""
    size = sum(st.size for st in results.spikes.values())
    raster(results, path, f"CUBA, {size} neurons")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--neurons", type=int, default=4000, help="number of neurons, 80 %% excitatory (default 4000)")


MODELS = [
    Model(
        "cuba",
        "the Vogels-Abbott CUBA benchmark network: self-sustained current-based LIF activity",
        lambda args: cuba_network(check_size("--neurons", args.neurons)),
        lambda args: 1000.0,
        _add_arguments,
        cuba_raster,
    )
]
