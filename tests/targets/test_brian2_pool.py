"""Large uniform all-to-all static projections lowered through spike-counting pools
(``spikemem.hardware.brian2.pools``).

The reference is the same network with its direct synapses: pooling must change no
spike. Projections are pooled above ``MAX_FUSED`` synapses; the tests lower that bound to
pool small networks and compare with the default lowering, which keeps them direct.
"""

from __future__ import annotations

import numpy as np
import pytest
from _spikes import assert_same_spikes

from spikemem import (
    AllToAll,
    Blocks,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikeSource,
    Static,
    simulate,
)
from spikemem.batch import split, stack
from spikemem.models import ca3

b2 = pytest.importorskip("brian2")
from spikemem.hardware.brian2 import lowering  # noqa: E402 - needs brian2
from spikemem.hardware.brian2 import pools as pool  # noqa: E402


def _object_names(network: Network, duration: float) -> set[str]:
    b2.device.reinit()
    b2.set_device("runtime")
    return {obj.name for obj in lowering.build(network, duration, 0).objects}


def _pooled(monkeypatch: pytest.MonkeyPatch, network: Network, duration: float, **kw):
    with monkeypatch.context() as m:
        m.setattr(pool, "MAX_FUSED", 0)
        assert any(name.startswith("pools") for name in _object_names(network, duration)), "nothing was pooled"
        return simulate(network, duration, target="brian2:numpy", **kw)


def _direct(network: Network, duration: float, **kw):
    assert not any(name.startswith("pools") for name in _object_names(network, duration))
    return simulate(network, duration, target="brian2:numpy", **kw)


def _inhibited(cell, copies: int, self_connections: bool, delay: float) -> Network:
    """Sources drive ``a`` one-to-one; ``a`` inhibits ``b`` (all-to-all in ``copies``
    blocks) while another source drives ``b``: inhibition decides which ``b`` cells fire."""
    rng = np.random.default_rng(3)
    n = 6 * copies
    drive_a = [sorted(rng.uniform(1, 60, 8).round(1).tolist()) for _ in range(n)]
    drive_b = [sorted(rng.uniform(1, 60, 12).round(1).tolist()) for _ in range(n)]
    inner = AllToAll(allow_self_connections=self_connections)
    conn = Blocks(inner, copies) if copies > 1 else inner
    gain = 10.0 if cell.integration == "spinnaker" else 1.0  # a spinnaker arrival is scaled by ~dt/tau_syn
    w_inh = gain * (0.015 if isinstance(cell, IF_cond_exp) else 0.3)
    w_exc = gain * (0.03 if isinstance(cell, IF_cond_exp) else 3.0)
    if isinstance(cell, IF_curr_delta):  # weights are jumps of v (mV): one drive spike fires b, 2 mV less does not
        w_inh, w_exc = 2.0, 16.0
    return Network(
        [SpikeSource("sa", drive_a), SpikeSource("sb", drive_b), Population("a", n, cell), Population("b", n, cell)],
        [
            Projection("sa_a", "sa", "a", OneToOne(), Static(weight=w_exc * 2, delay=1.0)),
            Projection("sb_b", "sb", "b", OneToOne(), Static(weight=w_exc, delay=1.0)),
            Projection("a_b", "a", "b", conn, Static(weight=w_inh, delay=delay), "inhibitory"),
        ],
        [Probe("a"), Probe("b"), Probe("b", "v")],
        dt=0.1,
    )


@pytest.mark.parametrize(
    ("cell", "copies", "self_connections", "delay"),
    [
        (IF_curr_exp(integration="exact"), 1, False, 1.5),
        (IF_curr_exp(integration="spinnaker"), 1, True, 2.0),
        (IF_cond_exp(integration="exact"), 3, False, 0.2),
        (IF_curr_exp(integration="spinnaker"), 2, False, 0.2),
        (IF_curr_delta(tau_refrac=1.0), 1, False, 1.5),
        (IF_curr_delta(tau_refrac=0.0), 2, True, 0.2),
    ],
    ids=[
        "curr-exact-noself",
        "curr-spinnaker-self",
        "cond-exact-blocks",
        "curr-spinnaker-blocks",
        "delta-noself",
        "delta-self-blocks",
    ],
)
def test_pool_gives_the_spikes_of_direct_synapses(monkeypatch, cell, copies, self_connections, delay):
    net = _inhibited(cell, copies, self_connections, delay)
    direct = _direct(net, 70.0)
    pooled = _pooled(monkeypatch, net, 70.0)
    assert len(direct.spikes["b"]) > 10 and len(direct.spikes["a"]) > 10
    assert_same_spikes(direct, pooled)
    # only the rounding of same-step sums differs
    np.testing.assert_allclose(pooled.traces["b.v"].values, direct.traces["b.v"].values, rtol=0, atol=1e-9)
    # and the inhibition matters: without it b fires more
    free = simulate(net.replace(projections=net.projections[:2]), 70.0, target="brian2:numpy")
    assert len(free.spikes["b"]) > len(direct.spikes["b"])


def test_delay_shorter_than_a_step_keeps_direct_synapses(monkeypatch):
    """A spinnaker cell's Brian2 delay is the delay minus one step: one step leaves the
    pool no step to count, so the projection keeps its synapses."""
    net = _inhibited(IF_curr_exp(integration="spinnaker"), 1, False, 0.1)
    with monkeypatch.context() as m:
        m.setattr(pool, "MAX_FUSED", 0)
        assert not any(name.startswith("pools") for name in _object_names(net, 70.0))


def test_pooled_ca3_memory_recalls_as_with_direct_synapses(monkeypatch):
    """The fidelity CA3 circuit: its three all-to-all inhibitions (and the condition
    interneuron's two) pooled give the spikes of every population and the answers."""
    schedule = ca3.random_schedule(10, 12, 14, spacing_ms=(7.0, 6.0), seed=5, density=0.3)
    net = ca3.ca3_network(schedule, "fidelity", record="all")
    duration = ca3.duration_ms(schedule, "fidelity")
    direct = _direct(net, duration)
    pooled = _pooled(monkeypatch, net, duration)
    assert_same_spikes(direct, pooled)
    answers = ca3.decode(pooled, schedule, "fidelity")
    assert answers == ca3.decode(direct, schedule, "fidelity")
    score = ca3.evaluate(answers, schedule, ca3.circuit("fidelity"))[0]
    assert score["recalls_correct"] >= 1


def test_pooled_batch_keeps_memories_apart(monkeypatch):
    """Stacked memories (Blocks): each block has its own pool, so the copies stay
    independent; spikes equal the direct lowering's, copy by copy."""
    schedules = [ca3.random_schedule(4, 6, 7, seed=s) for s in range(3)]
    nets = [ca3.ca3_network(s, "fidelity", record="all") for s in schedules]
    duration = max(ca3.duration_ms(s, "fidelity") for s in schedules)
    stacked = stack(nets)
    direct = _direct(stacked, duration)
    pooled = _pooled(monkeypatch, stacked, duration)
    assert_same_spikes(direct, pooled)
    for part, alone in zip(split(pooled, nets), nets):
        assert_same_spikes(part, simulate(alone, duration, target="brian2:numpy"))
