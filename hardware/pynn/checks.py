"""What a PyNN simulator cannot run as described, refused before anything is built.

The reasons are those of the ``pynn`` target's docstring: plasticity gates driven by
cells, gated STDP and device models (no PyNN standard model), the ``spinnaker``
integration and ``deferred`` STDP (SpiNNaker semantics), STDP onto current-based
inhibitory receptors, and each backend's own limits (pyNN.brian2: ``IF_curr_delta``,
multiplicative STDP, repeated (pre, post) pairs; NEST: its dendritic-delay STDP unless
accepted, STDP onto ``IF_curr_delta``, ``w_min != 0``, ``A_plus = 0`` with ``A_minus > 0``,
two ``tau_minus`` on one post population). Tsodyks-Markram synapses run on NEST only
(:func:`tsodyks_markram_features`), not onto ``IF_curr_delta`` cells, and not with
``tau_rec`` equal to the receptor's ``tau_syn`` (NEST's ``tsodyks_synapse`` divides by
their difference).
"""

from __future__ import annotations

import numpy as np

from spikemem.cells import IF_cond_exp, IF_curr_delta, IF_curr_exp
from spikemem.errors import UnsupportedFeature
from spikemem.network import Network
from spikemem.synapses import STDP, Gate, GatedWrite, TsodyksMarkram

from . import writes as host_side
from .backends import Backend


def brian2_only_features(network: Network, host_writes: bool = False) -> list[tuple[str, str]]:
    """spikemem features with no PyNN standard model (plasticity gates, gated STDP, gated
    writes, device models under synapses), as (feature, reason) pairs. ``host_writes``:
    leave out gates and gated writes, which the PyNN targets carry out on the host
    (:mod:`.writes`)."""
    found = []
    for proj in network.projections:
        syn = proj.synapse
        if isinstance(syn, Gate) and not host_writes:
            found.append((f"the plasticity gate {proj.name!r}", "PyNN has no modulatory gate synapse"))
        elif isinstance(syn, STDP) and syn.gated:
            found.append((f"gated STDP on {proj.name!r}", "PyNN's STDP rules have no third factor"))
        elif isinstance(syn, GatedWrite) and not host_writes:
            found.append((f"the gated write on {proj.name!r}", "PyNN's plasticity rules have no third factor"))
        if getattr(proj, "device", None) is not None:
            found.append(
                (f"the device model under {proj.name!r}", "device physics under synapses runs on Brian2 targets")
            )
    return found


#: Why pyNN.brian2 cannot run a Tsodyks-Markram synapse as described (PyNN 0.13, read in its source).
PYNN_BRIAN2_TSODYKS = (
    "pyNN.brian2's TsodyksMarkramSynapse differs from NEST's tsodyks_synapse: its inactive resource grows "
    "(dz/dt = +z/tau_rec), u is capped at U and x is never depleted; run it on 'pynn:nest', 'brian2' or 'cuda'"
)


def tsodyks_markram_features(network: Network) -> list[tuple[str, str]]:
    """The network's Tsodyks-Markram projections as (feature, reason) pairs, for the targets
    without NEST's ``tsodyks_synapse`` semantics (sPyNNaker, NIR, the exported script)."""
    return [
        (
            f"the TsodyksMarkram synapse on {proj.name!r}",
            "short-term plasticity runs on 'brian2', 'cuda' and 'pynn:nest' only",
        )
        for proj in network.projections
        if isinstance(proj.synapse, TsodyksMarkram)
    ]


def check_semantics(network: Network, backend: Backend, dendritic_stdp: bool = False) -> None:
    """Raise UnsupportedFeature for the first semantics ``backend`` cannot honour."""
    target = f"pynn:{backend.name}"
    for feature, reason in brian2_only_features(network, host_writes=True):
        raise UnsupportedFeature(target, feature, reason + "; run it on 'brian2' or 'cuda'")
    problem = host_side.unsupported(network)
    if problem is not None:
        raise UnsupportedFeature(target, problem[0], problem[1] + "; run it on 'brian2' or 'cuda'")
    for pop in network.populations:
        cell = pop.cell
        if isinstance(cell, IF_curr_delta) and backend.delta_refusal is not None:
            raise UnsupportedFeature(target, f"IF_curr_delta (population {pop.name!r})", backend.delta_refusal)
        if isinstance(cell, IF_curr_exp) and cell.integration != "exact":
            raise UnsupportedFeature(
                target,
                f"integration={cell.integration!r} (population {pop.name!r})",
                "PyNN simulators integrate in continuous time; the SpiNNaker update runs on the "
                "'brian2' target or on SpiNNaker itself",
            )
    if backend.name == "brian2":
        for proj in network.projections:
            conns = network.connections(proj)
            pairs = conns.i.astype(np.int64) * network.population(proj.post).size + conns.j
            if len(np.unique(pairs)) < len(pairs):
                raise UnsupportedFeature(
                    target,
                    f"repeated (pre, post) pairs in {proj.name!r}",
                    "pyNN.brian2 sets weights and delays per neuron pair, so multapses would share one value",
                )
    for proj in network.projections:
        syn = proj.synapse
        if not isinstance(syn, TsodyksMarkram):
            continue
        post_cell = network.population(proj.post).cell
        where = f"the TsodyksMarkram synapse on {proj.name!r}"
        if backend.name != "nest":
            raise UnsupportedFeature(target, where, PYNN_BRIAN2_TSODYKS)
        if isinstance(post_cell, IF_curr_delta):
            raise UnsupportedFeature(
                target, f"{where} onto IF_curr_delta cells", "NEST's tsodyks_synapse needs the receptor's tau_syn"
            )
        tau_psc = post_cell.tau_syn_E if proj.receptor == "excitatory" else post_cell.tau_syn_I
        if tau_psc == syn.tau_rec:
            raise UnsupportedFeature(
                target,
                f"{where} with tau_rec = tau_syn = {syn.tau_rec:g} ms",
                "NEST's tsodyks_synapse divides by tau_psc - tau_rec and gives NaN; run it on 'brian2' or 'cuda'",
            )
    tau_minus: dict[str, float] = {}
    for proj in network.projections:
        syn = proj.synapse
        if not isinstance(syn, STDP):
            continue
        post_cell = network.population(proj.post).cell
        where = f"STDP on {proj.name!r}"
        if syn.timing != "online":
            raise UnsupportedFeature(
                target,
                f"{where} with timing={syn.timing!r}",
                "deferred STDP is sPyNNaker's rule; run it on 'brian2' or 'spinnaker'",
            )
        if isinstance(post_cell, IF_curr_delta) and backend.delta_stdp_refusal is not None:
            raise UnsupportedFeature(target, f"{where} onto IF_curr_delta cells", backend.delta_stdp_refusal)
        if proj.receptor == "inhibitory" and not isinstance(post_cell, IF_cond_exp):
            raise UnsupportedFeature(
                target,
                f"{where} onto an inhibitory current-based receptor",
                "PyNN gives these synapses negative weights, which its STDP rules do not treat as magnitudes",
            )
        if backend.name == "brian2" and syn.weight_dependence != "additive":
            raise UnsupportedFeature(
                target,
                f"{where} with weight_dependence={syn.weight_dependence!r}",
                "pyNN.brian2 (PyNN 0.13) applies the additive rule whatever the weight dependence",
            )
        if backend.name == "nest":
            if not dendritic_stdp:
                raise UnsupportedFeature(
                    target,
                    f"{where} with timing='online'",
                    "NEST's stdp_synapse counts the whole delay as dendritic: a pair (pre at t, post at s) is "
                    f"evaluated at lag s + d - t instead of s - t - d (d = {syn.delay:g} ms), zero-lag pairs are "
                    "ignored and weights change only at pre spikes. Pass dendritic_stdp=True to run with NEST's rule",
                )
            if syn.w_min != 0.0:
                raise UnsupportedFeature(target, f"{where} with w_min={syn.w_min:g}", "NEST's stdp_synapse has w_min 0")
            if syn.A_plus == 0.0 and syn.A_minus > 0.0:
                raise UnsupportedFeature(
                    target, f"{where} with A_plus=0", "NEST expresses A_minus as a multiple of A_plus (alpha)"
                )
            previous = tau_minus.setdefault(proj.post, syn.tau_minus)
            if previous != syn.tau_minus:
                raise UnsupportedFeature(
                    target,
                    f"{where} with tau_minus={syn.tau_minus:g} ms",
                    f"NEST keeps tau_minus in the post neuron; population {proj.post!r} already has "
                    f"{previous:g} ms from another STDP projection",
                )
