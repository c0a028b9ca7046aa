"""GatedWrite: the three-factor set/reset rule (spikemem/synapses.py), on brian2:numpy.

Expected weights follow from the documented rule, worked out by hand per case:
a trigger spike with its gate open sets each of its synapses to w_max where the other
end's gate (tag) is open and to w_min where it is closed; anything else leaves w alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikemem import (
    AllToAll,
    Gate,
    GatedWrite,
    IF_curr_exp,
    Network,
    OneToOne,
    Population,
    Probe,
    Projection,
    SpikeSource,
    Static,
    ValidationError,
    simulate,
)
from spikemem._node import node_from_dict

DT = 0.5
W_MAX = 20.0  # nA: one step after arrival it lifts RELAY 2.3 mV, above its 1 mV threshold gap
RELAY = IF_curr_exp(cm=1.0, tau_m=0.5, tau_refrac=0.5, tau_syn_E=0.25, tau_syn_I=0.25, v_rest=-60.0, v_thresh=-59.0)
FIRE = 20.0  # nA onto RELAY: one spike one step after arrival


def write_network(trigger: str, fire_pre: list[list[float]], fire_post: list[list[float]], gate_pre, gate_post):
    """2 pre x 3 post neurons joined all-to-all by a GatedWrite; sources fire them and open their gates."""
    pops = [
        SpikeSource("drive_pre", fire_pre),
        SpikeSource("drive_post", fire_post),
        SpikeSource("open_pre", gate_pre),
        SpikeSource("open_post", gate_post),
        Population("pre", 2, RELAY),
        Population("post", 3, RELAY),
    ]
    projections = [
        Projection("fire_pre", "drive_pre", "pre", OneToOne(), Static(FIRE, DT)),
        Projection("fire_post", "drive_post", "post", OneToOne(), Static(FIRE, DT)),
        Projection("gate_pre", "open_pre", "pre", OneToOne(), Gate(delay=DT, window_ms=2.0), "modulatory"),
        Projection("gate_post", "open_post", "post", OneToOne(), Gate(delay=DT, window_ms=2.0), "modulatory"),
        Projection("W", "pre", "post", AllToAll(), GatedWrite(weight=0.0, delay=DT, w_max=W_MAX, trigger=trigger)),
    ]
    probes = [Probe("pre"), Probe("post"), Probe("W", "weight", every_ms=DT)]
    return Network(pops, projections, probes, dt=DT)


def weights_at(results, t: float) -> np.ndarray:
    """The 2 x 3 weight matrix recorded at time ``t`` (synapses in all-to-all order)."""
    trace = results.weights["W"]
    k = int(np.searchsorted(trace.times, t - 1e-9))
    return trace.values[k].reshape(2, 3)


def test_pre_trigger_writes_its_row_to_the_tags_and_delivers_the_new_row():
    # t=0: gate of pre 0 opens, tags on post 0 and 2 (open 0.5..2.5); pre 0 fires at 1.0, its
    # spike reaches the synapses at 1.5 and writes row 0 = [1, 0, 1]*w_max, then delivers it.
    net = write_network("pre", [[0.0], []], [[], [], []], [[0.0], []], [[0.0], [], [0.0]])
    res = simulate(net, 6.0, target="brian2:numpy")
    assert res.spikes["pre"].times.tolist() == [1.0]
    np.testing.assert_array_equal(weights_at(res, 1.0), np.zeros((2, 3)))
    np.testing.assert_array_equal(weights_at(res, 2.0), [[W_MAX, 0, W_MAX], [0, 0, 0]])
    # the written weights make post 0 and 2 fire one step after the delivery
    assert sorted(res.spikes["post"].indices.tolist()) == [0, 2]
    assert res.spikes["post"].times.tolist() == [2.0, 2.0]


def test_pre_trigger_with_closed_gate_only_reads():
    # row 0 written at 1.5 as above; pre 0 fires again at 6 with its gate closed: weights stay,
    # the stored row is delivered. Pre 1 fires with no gate at all: nothing is written.
    net = write_network("pre", [[0.0, 5.0], [5.0]], [[], [], []], [[0.0], []], [[0.0], [], [0.0]])
    res = simulate(net, 10.0, target="brian2:numpy")
    expected = [[W_MAX, 0, W_MAX], [0, 0, 0]]
    np.testing.assert_array_equal(weights_at(res, 9.5), expected)
    post = res.spikes["post"]
    assert sorted(post.indices[post.times > 5.0].tolist()) == [0, 2]


def test_rewrite_resets_bits_whose_tags_are_closed():
    # first write row 0 = [1, 1, 0]; then at t=5 a second write with only post 2 tagged: [0, 0, 1]
    net = write_network("pre", [[0.0, 5.0], []], [[], [], []], [[0.0, 5.0], []], [[0.0], [0.0], [5.0]])
    res = simulate(net, 10.0, target="brian2:numpy")
    np.testing.assert_array_equal(weights_at(res, 4.0), [[W_MAX, W_MAX, 0], [0, 0, 0]])
    np.testing.assert_array_equal(weights_at(res, 9.5), [[0, 0, W_MAX], [0, 0, 0]])


def test_post_trigger_writes_its_column_at_the_post_spike():
    # gate of post 1 opens at 0.5, tag on pre 1; post 1 fires at 1.0 and writes column 1 = [0, 1]
    net = write_network("post", [[], []], [[], [0.0], []], [[], [0.0]], [[], [0.0], []])
    res = simulate(net, 4.0, target="brian2:numpy")
    assert res.spikes["post"].times.tolist() == [1.0]
    np.testing.assert_array_equal(weights_at(res, 0.5), np.zeros((2, 3)))
    np.testing.assert_array_equal(weights_at(res, 1.5), [[0, 0, 0], [0, W_MAX, 0]])
    assert len(res.spikes["pre"].times) == 0  # tags are modulatory: no spike of the tagged neuron needed


def test_post_trigger_reads_never_write():
    # the column is written at 1.0; later pre 1 fires and drives post 1 (gates closed): weights stay
    net = write_network("post", [[], [5.0]], [[], [0.0], []], [[], [0.0]], [[], [0.0], []])
    res = simulate(net, 9.0, target="brian2:numpy")
    assert res.spikes["post"].times.tolist() == [1.0, 7.0]  # the write, then a read: pre 1 (6.0) -> post 1
    np.testing.assert_array_equal(weights_at(res, 8.5), [[0, 0, 0], [0, W_MAX, 0]])


def test_gated_write_needs_gates_on_both_ends():
    net = write_network("pre", [[0.0], []], [[], [], []], [[0.0], []], [[0.0], [], []])
    without = [p for p in net.projections if p.name != "gate_post"]
    with pytest.raises(ValidationError, match="Gate projection onto 'post'"):
        Network(net.populations, without, [], dt=DT)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"trigger": "both"}, "GatedWrite.trigger"),
        ({"w_min": 2.0, "w_max": 1.0}, "GatedWrite.w_max"),
        ({"weight": 2.0, "w_max": 1.0}, "GatedWrite.weight"),
        ({"w_min": -1.0}, "GatedWrite.w_min"),
        ({"delay": 0.0}, "GatedWrite.delay"),
    ],
)
def test_bad_parameters_name_the_field(kwargs, field):
    with pytest.raises(ValidationError) as err:
        GatedWrite(**kwargs)
    assert err.value.field == field


def test_round_trip_and_plastic():
    syn = GatedWrite(weight=0.5, delay=1.0, w_min=0.0, w_max=2.0, trigger="post")
    assert node_from_dict(syn.to_dict()) == syn
    assert syn.plastic
