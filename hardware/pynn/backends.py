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
    #: why the backend cannot run ``IF_curr_delta`` as described (None: it can).
    delta_refusal: str | None = None
    #: PyNN's ``IF_curr_delta`` lacks the variable map of ``v`` (pyNN.nest 0.13: ``initialize(v=...)``
    #: is ignored with a warning and ``record("v")`` fails); the lowering adds ``{"v": "V_m"}``.
    delta_needs_v_map: bool = False
    #: ``Projection.get`` returns, and ``Projection.set`` takes, ``IF_curr_delta`` weights times this
    #: (pyNN.nest 0.13 applies the cell's ``receptor_scale`` of 1e-3 when connecting only).
    delta_get_set_scale: float = 1.0
    #: why the backend cannot run STDP onto ``IF_curr_delta`` cells (None: it can).
    delta_stdp_refusal: str | None = None
    setup: dict[str, Any] = field(default_factory=dict)


#: What pyNN.brian2 (PyNN 0.13) does with ``IF_curr_delta``, measured with tiny runs (tests/targets/test_pynn.py).
PYNN_BRIAN2_DELTA = (
    "pyNN.brian2 adds a delta spike to v in Brian2's synapses slot, after the step's threshold check, so the "
    "input is leaked once more before it is tested (tau_m 10 ms, dt 0.1 ms: 16 mV arriving in step 11 fires the "
    "cell in step 12, and 15.05 mV above a 15 mV gap never fires it), and its threshold is v > v_thresh, not "
    "v >= v_thresh; "
    "run IF_curr_delta on 'brian2' or 'pynn:nest'"
)
#: What pyNN.nest (PyNN 0.13) does with STDP onto ``IF_curr_delta``, measured with a tiny run.
PYNN_NEST_DELTA_STDP = (
    "pyNN.nest scales only the weight by IF_curr_delta's receptor_scale (1e-3), not w_max: an STDPMechanism "
    "with weight 0.5 and w_max 2 mV reaches NEST as weight 0.5 and Wmax 2000; run it on 'brian2'"
)


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
        delta_needs_v_map=True,
        delta_get_set_scale=1e-3,
        delta_stdp_refusal=PYNN_NEST_DELTA_STDP,
        setup={"spike_precision": "on_grid", "verbosity": "error"},
    ),
    "brian2": Backend(
        "brian2",
        "pyNN.brian2",
        "brian2",
        "pip install 'spikemem[pynn]'",
        dendritic_delay_fraction=0.0,
        refractory_includes_spike_step=True,
        delta_refusal=PYNN_BRIAN2_DELTA,
    ),
}
DEFAULT_VARIANT = "nest"


def backend_for(variant: str | None) -> Backend:
    """The backend of ``pynn:<variant>`` (``nest`` when no variant is given)."""
    name = variant or DEFAULT_VARIANT
    if name not in BACKENDS:
        raise ValidationError("target", f"pynn:{name}", "pynn:nest or pynn:brian2")
    return BACKENDS[name]
