"""The STDP pairing network shared by the device tests (tests/devices/test_rram_*.py)."""

from __future__ import annotations

from collections.abc import Sequence

from spikemem import STDP, IF_curr_exp, Network, OneToOne, Population, Probe, Projection, SpikeSource, Static
from spikemem.hardware.devices.rram import RRAM


def pairing_network(
    n: int, timing: str, pre_times: Sequence[float], device: RRAM | None, probes: Sequence[Probe]
) -> Network:
    """``n`` independent pairs: pre spikes at ``pre_times``, a driven post spike at ~3.5 ms;
    one potentiation per synapse (deferred timing applies it at the next pre spike)."""
    pops = [
        SpikeSource("pre", [list(pre_times)] * n),
        SpikeSource("drive", [[2.5]] * n),
        # a fast synapse and a long refractory period: one post spike at a fixed step, whatever
        # the small initial weight of the plastic synapse adds
        Population("post", n, IF_curr_exp(tau_syn_E=0.1, tau_refrac=2.0)),
    ]
    syn = STDP(weight=0.0, delay=1.0, tau_plus=20.0, tau_minus=1.0, A_plus=0.5, A_minus=0.5, w_max=1.0, timing=timing)
    projs = [
        Projection("plastic", "pre", "post", OneToOne(), syn, device=device),
        Projection("drive_post", "drive", "post", OneToOne(), Static(weight=300.0, delay=1.0)),
    ]
    return Network(pops, projs, list(probes), dt=0.1)
