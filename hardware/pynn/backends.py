"""How each PyNN simulator module is driven: the per-backend translation table.

Every backend follows PyNN's API; what differs between them (time stamps, refractory
counting, sign of inhibitory currents, STDP amplitudes and delays) is one field of
:class:`Backend` each, so the lowering reads one table instead of branching on names.
The ``spinnaker`` room adds sPyNNaker's entry (``spikemem.hardware.spinnaker.limits``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spikemem.errors import ValidationError


@dataclass(frozen=True)
class Backend:
    """How one PyNN simulator module is driven (the per-backend translation table)."""

    name: str
    module: str
    requires: str
    install_hint: str
    dendritic_delay_fraction: float | None
    #: spike-source times are given +dt and recorded spike times read back -dt (NEST).
    shift_one_step: bool = False
    #: tau_refrac is given +dt (the backend counts the spike step as refractory).
    refractory_includes_spike_step: bool = False
    #: current-based inhibitory weights are given as negative numbers.
    negative_inhibitory_currents: bool = True
    #: additive STDP amplitudes are absolute weight steps (A * w_max), not fractions of w_max.
    absolute_additive_amplitudes: bool = False
    #: SpikeSourceArray takes plain lists of times, not PyNN Sequences.
    plain_spike_lists: bool = False
    #: AllToAllConnector(allow_self_connections=False) works (sPyNNaker's fails on split populations).
    native_all_but_self: bool = True
    #: steps to run past a spike's step before the host sees it (PyNN's NEST runs a step further).
    spike_seen_after_steps: int = 1
    #: spike-source times are given this many steps before their grid point. pyNN.nest's
    #: generators take precise times (PyNN subtracts min_delay from each), and a time a
    #: rounding error past its grid point would fire a whole step late.
    source_lead_steps: float = 0.0
    setup: dict[str, Any] = field(default_factory=dict)


BACKENDS = {
    "nest": Backend(
        "nest",
        "pyNN.nest",
        "nest",
        "pip install 'spikemem[pynn]' (nest-simulator)",
        dendritic_delay_fraction=1.0,
        shift_one_step=True,
        spike_seen_after_steps=0,
        source_lead_steps=1e-4,
        setup={"spike_precision": "on_grid", "verbosity": "error"},
    ),
    "brian2": Backend(
        "brian2",
        "pyNN.brian2",
        "brian2",
        "pip install 'spikemem[pynn]'",
        dendritic_delay_fraction=0.0,
        refractory_includes_spike_step=True,
    ),
}
DEFAULT_VARIANT = "nest"

CELL_PARAMETERS = ("cm", "tau_m", "tau_refrac", "tau_syn_E", "tau_syn_I", "v_rest", "v_reset", "v_thresh", "i_offset")
COND_PARAMETERS = ("e_rev_E", "e_rev_I")


def backend_for(variant: str | None) -> Backend:
    """The backend of ``pynn:<variant>`` (``nest`` when no variant is given)."""
    name = variant or DEFAULT_VARIANT
    if name not in BACKENDS:
        raise ValidationError("target", f"pynn:{name}", "pynn:nest or pynn:brian2")
    return BACKENDS[name]
