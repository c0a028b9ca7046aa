"""Many independent networks in one run: the Blocks connector, stack/replicate/split.

The reference is each network run alone: stacking must change nothing but the numbering.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikemem import (
    AllToAll,
    Blocks,
    FixedProbability,
    FromList,
    IF_curr_exp,
    Network,
    OneToOne,
    Population,
    Projection,
    Results,
    SpikeSource,
    Static,
    ValidationError,
    simulate,
)
from spikemem.batch import replicate, split, stack
from spikemem.models import ca3

pytest.importorskip("brian2")


def test_blocks_is_block_diagonal():
    conns = Blocks(AllToAll(allow_self_connections=False), 3).connect(6, 9, seed=0)
    want = [(c * 2 + k, c * 3 + m) for c in range(3) for k in range(2) for m in range(3) if k != m]
    assert list(zip(conns.i.tolist(), conns.j.tolist())) == want  # copy by copy, pre-major


def test_blocks_repeats_inner_pattern_and_weights():
    inner = FromList([[0, 1, 0.5, 2.0], [1, 0, 0.25, 3.0]])
    conns = Blocks(inner, 2).connect(4, 4, seed=0)
    assert conns.i.tolist() == [0, 1, 2, 3] and conns.j.tolist() == [1, 0, 3, 2]
    assert conns.weight.tolist() == [0.5, 0.25, 0.5, 0.25] and conns.delay.tolist() == [2.0, 3.0, 2.0, 3.0]
    rnd = Blocks(FixedProbability(0.5, seed=4), 2).connect(10, 10, seed=0)
    first = {(i, j) for i, j in zip(rnd.i, rnd.j) if i < 5}
    second = {(i - 5, j - 5) for i, j in zip(rnd.i, rnd.j) if i >= 5}
    assert first == second and all(j < 5 for i, j in zip(rnd.i, rnd.j) if i < 5)


def _pair(pre_size: int, post_size: int, connector) -> Network:
    cell = IF_curr_exp()
    return Network(
        [SpikeSource("a", [[1.0]] * pre_size), Population("b", post_size, cell)],
        [Projection("ab", "a", "b", connector, Static(weight=1.0, delay=1.0))],
    )


def test_blocks_sizes_are_validated():
    with pytest.raises(ValidationError, match="copies"):
        _pair(5, 6, Blocks(AllToAll(), 2))
    with pytest.raises(ValidationError, match="OneToOne"):
        _pair(4, 6, Blocks(OneToOne(), 2))
    with pytest.raises(ValidationError, match="conn_list"):
        _pair(4, 4, Blocks(FromList([[0, 3]]), 2))
    with pytest.raises(ValidationError, match="Blocks.inner"):
        Blocks(Blocks(AllToAll(), 2), 2)


def _schedules(count: int) -> list[ca3.Schedule]:
    return [ca3.random_schedule(4, 6, 7, seed=s) for s in range(count)]


def test_stacked_ca3_memories_run_as_if_alone():
    """Three different CA3 streams in one run: every copy's spikes, answers and learned
    weights equal those of its network run alone (weights also check synapse order)."""
    schedules = _schedules(3)
    nets = [ca3.ca3_network(s, "fidelity", record="all", record_weights=True) for s in schedules]
    duration = max(ca3.duration_ms(s, "fidelity") for s in schedules)
    stacked = simulate(stack(nets), duration, target="brian2:numpy")
    parts = split(stacked, nets)
    for schedule, net, part in zip(schedules, nets, parts):
        alone = simulate(net, duration, target="brian2:numpy")
        for pop in alone.spikes:
            assert part.spikes[pop] == alone.spikes[pop], pop
        assert ca3.decode(part, schedule, "fidelity") == ca3.decode(alone, schedule, "fidelity")
        for proj in alone.weights:
            assert np.array_equal(part.weights[proj].values, alone.weights[proj].values), proj
            for got, want in zip(part.synapses[proj], alone.synapses[proj]):
                assert np.array_equal(got, want)
        assert part.network is net and part.provenance["copies"] == 3


def test_stacked_memories_keep_their_device_model():
    """A device model under the memories stays under them when stacked: each copy learns the
    device's quantised weights (3 levels, noiseless, so alone and stacked agree bit for bit),
    which differ from the ideal synapses' weights."""
    from spikemem.hardware.devices.rram import RRAM, apply_device

    schedules = _schedules(2)
    device = RRAM("ideal", levels=3)
    nets = [apply_device(ca3.ca3_network(s, "fidelity", record_weights=True), device) for s in schedules]
    stacked = stack(nets)
    assert [p.device for p in stacked.projections] == [p.device for p in nets[0].projections]
    duration = max(ca3.duration_ms(s, "fidelity") for s in schedules)
    parts = split(simulate(stacked, duration, target="brian2:numpy"), nets)
    for net, part in zip(nets, parts):
        alone = simulate(net, duration, target="brian2:numpy")
        ideal = simulate(apply_device(net, None), duration, target="brian2:numpy")
        for proj in alone.weights:
            assert np.array_equal(part.weights[proj].values, alone.weights[proj].values), proj
            assert not np.array_equal(alone.weights[proj].values, ideal.weights[proj].values), proj
    runs = ca3.run_ca3_batch(schedules, "fidelity", "brian2:numpy", device=device, record_weights=True)
    for run, part in zip(runs, parts):
        assert "device" in run.results.provenance
        for proj in part.weights:
            assert np.array_equal(run.results.weights[proj].values, part.weights[proj].values), proj


def test_replicate_and_split_by_count():
    net = ca3.ca3_network(_schedules(1)[0], "fidelity")
    big = replicate(net, 2)
    assert big == stack([net, net])
    assert [p.size for p in big.populations] == [2 * p.size for p in net.populations]
    parts = split(simulate(big, 30.0, target="brian2:numpy"), 2)
    assert parts[0].network is None
    assert all(parts[0].spikes[p] == parts[1].spikes[p] for p in parts[0].spikes)


def test_stack_and_split_refuse_mismatches():
    a, b = (ca3.ca3_network(s, "fidelity") for s in _schedules(2))
    other = ca3.ca3_network(ca3.random_schedule(5, 6, 7, seed=0), "fidelity")
    with pytest.raises(ValidationError, match="populations"):
        stack([a, other])
    with pytest.raises(ValidationError, match="networks"):
        stack([])
    with pytest.raises(ValidationError, match="copies"):
        replicate(a, 0)
    with pytest.raises(ValidationError, match="results.network"):
        split(Results(spikes={}), 2)
    with pytest.raises(ValidationError, match="copies"):
        split(Results(spikes={}, network=stack([a, b])), 3)


def test_run_ca3_batch_refuses_memories_of_different_sizes():
    schedules = [*_schedules(2), ca3.random_schedule(5, 6, 7, seed=0)]
    with pytest.raises(ValidationError) as err:
        ca3.run_ca3_batch(schedules, "fidelity", target="brian2:numpy")
    assert err.value.field == "schedules[2]" and "4x6" in err.value.allowed
    with pytest.raises(ValidationError, match="schedules"):
        ca3.run_ca3_batch([], "fidelity")
