"""A Network that uses every construct of the description round-trips bit-exactly through
HDF5 (save_network/load_network): equal, same digest, same array dtypes, awkward floats kept."""

from __future__ import annotations

import math

import h5py
import numpy as np
import pytest

from spikemem import (
    STDP,
    AllToAll,
    Blocks,
    FixedProbability,
    FromList,
    IF_cond_exp,
    IF_curr_delta,
    IF_curr_exp,
    Network,
    OneToOne,
    Poisson,
    Population,
    Probe,
    Projection,
    SpikeSource,
    Static,
    ValidationError,
    load_network,
    save_network,
)
from spikemem.synapses import Gate

# floats whose decimal forms are long or unusual: a lossy writer would change them
AWKWARD = (0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0 * 1e-7, 123456.789e-3, 5e-324, -0.0)


def every_construct_network() -> Network:
    rng = np.random.default_rng(5)
    stim = SpikeSource("stim", [[0.1 + 0.2, 7.0], [], [1.0 / 3.0, 12.5, 40.0], [2.0]])
    noise = Population("noise", 6, Poisson(rate_hz=12.5, start_ms=1.0 / 3.0, stop_ms=250.0, seed=2**32 - 1))
    free_noise = Population("free_noise", 4, Poisson(rate_hz=AWKWARD[3]))
    a = Population(
        "a",
        4,
        IF_curr_exp(tau_m=AWKWARD[1] * 30, i_offset=AWKWARD[2], v_init=-61.0, integration="spinnaker"),
        initial_v=rng.uniform(-70.0, -55.0, 4),
    )
    b = Population("b", 4, IF_cond_exp(e_rev_I=-80.0, tau_syn_E=AWKWARD[0], i_offset=AWKWARD[5]))
    c = Population("c", 3, IF_curr_delta(tau_m=AWKWARD[1] * 9, v_rest=0.0, v_reset=0.0, v_thresh=AWKWARD[3]))
    rows4 = np.array([[0, 1, 0.25, 1.5], [2, 3, AWKWARD[0] / 10, 2.0], [3, 0, AWKWARD[4], 1.0]])
    rows2 = np.array([[1, 2], [3, 3]], dtype=float)
    stdp = dict(tau_plus=16.8, tau_minus=33.7, A_plus=0.005, A_minus=0.0055, w_min=0.0, w_max=0.5)
    projections = [
        Projection("stim_a", stim, a, OneToOne(), Static(1.0 / 7.0, 1.0)),
        Projection("noise_a", noise, a, FixedProbability(0.3, allow_self_connections=False, seed=11), Static(0.2, 2.0)),
        Projection("free_a", free_noise, a, FixedProbability(1.0 / 3.0), Static(0.1, 1.0)),
        Projection("a_a", a, a, AllToAll(allow_self_connections=False), Static(0.05, 1.0), "inhibitory"),
        Projection("a_b", a, b, AllToAll(), STDP(weight=0.1, delay=1.0, timing="online", **stdp)),
        Projection(
            "stim_b",
            stim,
            b,
            FromList(rows4),
            STDP(weight=0.2, delay=1.0, weight_dependence="multiplicative", timing="deferred", **stdp),
        ),
        Projection("b_a", b, a, FromList(rows2), Static(0.3, 3.0), "inhibitory"),
        Projection("a_b_blocks", a, b, Blocks(OneToOne(), 2), Static(0.01, 1.0)),
        Projection("gate_a", stim, a, OneToOne(), Gate(delay=1.0, window_ms=2.5), "modulatory"),
        Projection("gate_b", stim, b, AllToAll(), Gate(delay=2.0, window_ms=1.5), "modulatory"),
        Projection("a_b_gated", a, b, OneToOne(), STDP(weight=0.1, gated=True, **stdp)),
        Projection("a_c", a, c, FixedProbability(0.5, seed=3), Static(AWKWARD[2], 2.0)),
        Projection("c_c", c, c, AllToAll(allow_self_connections=False), Static(0.4, 1.0), "inhibitory"),
    ]
    probes = [
        Probe("stim"),
        Probe("a"),
        Probe("b"),
        Probe("a", "v"),
        Probe("b", "v", every_ms=1.0),
        Probe("a_b", "weight", every_ms=2.0),
        Probe("stim_b", "weight"),
        Probe("c", "v"),
    ]
    return Network([stim, noise, free_noise, a, b, c], projections, probes, dt=1.0, name="every_construct")


def test_network_round_trips_bit_exactly(tmp_path) -> None:
    network = every_construct_network()
    path = tmp_path / "net.h5"
    save_network(network, path)
    again = load_network(path)
    assert again == network
    assert again.digest() == network.digest()
    assert again.to_dict().keys() == network.to_dict().keys()
    # the stored digest is the one of the network written
    with h5py.File(path, "r") as fh:
        assert fh["network"].attrs["digest"] == network.digest()
        assert fh.attrs["format"] == "spikemem-network-1"


def test_round_trip_keeps_arrays_dtypes_and_awkward_floats(tmp_path) -> None:
    network = every_construct_network()
    save_network(network, tmp_path / "net.h5")
    again = load_network(tmp_path / "net.h5")
    for name in ("stim_b", "b_a"):
        before, after = network.projection(name).connector.conn_list, again.projection(name).connector.conn_list
        assert after.dtype == before.dtype == np.float64 and after.shape == before.shape
        assert after.tobytes() == before.tobytes()
    v0, v1 = network.population("a").initial_v, again.population("a").initial_v
    assert v1.dtype == np.float64 and v1.tobytes() == v0.tobytes()
    cell0, cell1 = network.population("b").cell, again.population("b").cell
    assert cell1.tau_syn_E == 0.1 + 0.2 and cell1.tau_syn_E.hex() == cell0.tau_syn_E.hex()
    assert math.copysign(1.0, cell1.i_offset) == -1.0  # -0.0 stays negative zero
    assert again.population("stim").cell.spike_times == network.population("stim").cell.spike_times
    assert again.population("noise").cell.seed == 2**32 - 1
    assert again.population("free_noise").cell.seed is None and again.population("a").cell.v_init == -61.0
    assert again.projection("stim_b").connector.conn_list[2, 2] == 5e-324


def test_round_trip_preserves_what_the_network_resolves_to(tmp_path) -> None:
    network = every_construct_network()
    save_network(network, tmp_path / "net.h5")
    again = load_network(tmp_path / "net.h5")
    for proj in network.projections:
        c0, c1 = network.connections(proj, seed=4), again.connections(again.projection(proj.name), seed=4)
        for field in ("i", "j", "weight", "delay"):
            np.testing.assert_array_equal(getattr(c1, field), getattr(c0, field), err_msg=f"{proj.name}.{field}")
    for pop in network.populations:
        if pop.is_source:
            t0 = network.source_times(pop, 300.0, seed=4)
            t1 = again.source_times(again.population(pop.name), 300.0, seed=4)
            assert all(np.array_equal(x, y) for x, y in zip(t0, t1))


def test_any_change_changes_the_digest_and_breaks_equality() -> None:
    network = every_construct_network()
    rows = network.projection("stim_b").connector.conn_list.copy()
    rows[1, 3] = np.nextafter(rows[1, 3], 10.0)  # one ulp later
    changed = Network(
        network.populations,
        [p if p.name != "stim_b" else p.replace(connector=FromList(rows)) for p in network.projections],
        network.probes,
        dt=network.dt,
        name=network.name,
    )
    assert changed != network and changed.digest() != network.digest()


def test_saving_over_an_existing_file_replaces_it(tmp_path) -> None:
    path = tmp_path / "net.h5"
    save_network(Network([Population("x", 1, IF_curr_exp())]), path)
    network = every_construct_network()
    save_network(network, path)
    assert load_network(path) == network
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.h5"]


def test_loading_something_else_is_refused_with_a_clear_error(tmp_path) -> None:
    with pytest.raises(ValidationError) as info:
        load_network(tmp_path / "missing.h5")
    assert info.value.field == "path" and "existing" in info.value.allowed
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as fh:
        fh["data"] = np.arange(3)
    with pytest.raises(ValidationError) as info:
        load_network(other)
    assert "spikemem network" in info.value.allowed


def test_saving_into_a_missing_folder_is_refused(tmp_path) -> None:
    with pytest.raises(ValidationError) as info:
        save_network(every_construct_network(), tmp_path / "no" / "such" / "net.h5")
    assert info.value.field == "path" and "existing folder" in info.value.allowed
