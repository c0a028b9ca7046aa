"""Population, SpikeSource, Projection, Probe, Network and simulate(): the constructs, and one
bad-input test per validation rule (error type, field and what is allowed). Every error of
``simulate`` is raised before anything runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spikemem import (
    STDP,
    AllToAll,
    FixedProbability,
    FromList,
    IF_cond_exp,
    IF_curr_exp,
    Network,
    OneToOne,
    Poisson,
    Population,
    Probe,
    Projection,
    SpikeSource,
    SpikeTimes,
    Static,
    UnsupportedFeature,
    ValidationError,
    simulate,
)


def expect_error(call, field: str, *allowed: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call()
    err = info.value
    assert err.field == field, str(err)
    assert str(err).startswith(field)
    for words in allowed:
        assert words in err.allowed and words in str(err), str(err)
    return err


def cells(name: str = "cells", size: int = 4, **kw) -> Population:
    return Population(name, size, IF_curr_exp(**kw))


def src(name: str = "src", size: int = 4) -> Population:
    return SpikeSource(name, [[1.0 + k] for k in range(size)])


def proj(name: str = "p", pre: str = "src", post: str = "cells", connector=None, synapse=None, **kw) -> Projection:
    return Projection(name, pre, post, connector or AllToAll(), synapse or Static(0.5, 1.0), **kw)


def net(populations=None, projections=(), probes=(), dt: float = 0.1) -> Network:
    return Network(populations if populations is not None else [src(), cells()], projections, probes, dt=dt)


# --- constructs --------------------------------------------------------------------------------


def test_population_holds_cells_or_sources() -> None:
    pop = Population("exc", 10, IF_cond_exp())
    assert (pop.name, pop.size, pop.is_source, pop.initial_v) == ("exc", 10, False, None)
    assert Population("noise", 3, Poisson(rate_hz=5.0)).is_source


def test_population_initial_v_is_a_frozen_float_array() -> None:
    pop = Population("exc", 3, IF_curr_exp(), initial_v=[-60, -61.5, -70])
    assert pop.initial_v.dtype == np.float64
    np.testing.assert_array_equal(pop.initial_v, [-60.0, -61.5, -70.0])
    with pytest.raises(ValueError):
        pop.initial_v[0] = 0.0


def test_spike_source_builds_a_spike_times_population() -> None:
    pop = SpikeSource("input", [[5.0, 1.0], [], [2.0]])
    assert pop.size == 3 and isinstance(pop.cell, SpikeTimes) and pop.is_source
    assert pop.cell.spike_times[0] == (1.0, 5.0)


def test_projection_and_probe_accept_objects_for_names() -> None:
    a, b = src("a"), cells("b")
    p = Projection("a_b", a, b, OneToOne(), Static(0.1, 1.0), "inhibitory")
    assert (p.pre, p.post, p.receptor) == ("a", "b", "inhibitory")
    assert Probe(b, "v").target == "b" and Probe(p, "weight").target == "a_b"
    assert Projection("x", "a", "b", OneToOne(), Static()).receptor == "excitatory"


def test_network_resolves_connections_with_weight_and_delay_per_synapse() -> None:
    rows = np.array([[0, 1, 0.2, 1.5], [3, 2, 0.4, 2.5]])
    network = net(
        projections=[
            proj("all", connector=AllToAll(), synapse=Static(0.5, 2.0)),
            proj("listed", connector=FromList(rows), synapse=Static(0.9, 1.0)),
            proj("random", connector=FixedProbability(0.5), synapse=STDP(weight=0.3, delay=0.5)),
        ]
    )
    every = network.connections(network.projection("all"))
    assert len(every) == 16
    np.testing.assert_array_equal(every.weight, np.full(16, 0.5))
    np.testing.assert_array_equal(every.delay, np.full(16, 2.0))
    listed = network.connections(network.projection("listed"))
    np.testing.assert_array_equal(listed.weight, [0.2, 0.4])  # the list overrides the synapse type
    np.testing.assert_array_equal(listed.delay, [1.5, 2.5])
    random = network.projection("random")
    a, b = network.connections(random, seed=1), network.connections(random, seed=2)
    assert not (len(a) == len(b) and np.array_equal(a.i, b.i) and np.array_equal(a.j, b.j))
    assert network.summary() == {
        "populations": 2,
        "neurons": 8,
        "projections": 3,
        "synapses": 18 + len(network.connections(random)),
    }


def test_network_look_ups_name_what_exists() -> None:
    network = net(projections=[proj()])
    assert network.population("cells").size == 4 and network.projection("p").pre == "src"
    expect_error(lambda: network.population("nope"), "population", "src", "cells")
    expect_error(lambda: network.projection("nope"), "projection", "p")


def test_digest_is_stable_and_changes_with_any_parameter() -> None:
    a = net(projections=[proj()], probes=[Probe("cells", "v")])
    b = net(projections=[proj()], probes=[Probe("cells", "v")])
    assert a == b and a.digest() == b.digest() and len(a.digest()) == 64
    variants = [
        net(projections=[proj(synapse=Static(0.5, 1.1))], probes=[Probe("cells", "v")]),
        net(projections=[proj(receptor="inhibitory")], probes=[Probe("cells", "v")]),
        net(projections=[proj()], probes=[Probe("cells", "spikes")]),
        net(projections=[proj()], probes=[Probe("cells", "v")], dt=0.05),
        net([src(), cells(tau_m=20.000000001)], projections=[proj()], probes=[Probe("cells", "v")]),
    ]
    assert len({a.digest()} | {v.digest() for v in variants}) == 1 + len(variants)


# --- wrong sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, -3, 2.5, "4", True, None])
def test_population_size_must_be_a_positive_integer(size) -> None:
    expect_error(lambda: Population("exc", size, IF_curr_exp()), "Population 'exc'.size", "integer >= 1")


def test_spike_times_must_match_the_population_size() -> None:
    err = expect_error(
        lambda: Population("in", 3, SpikeTimes([[1.0], [2.0]])), "Population 'in'.size", "number of spike trains"
    )
    assert "(2)" in err.allowed


@pytest.mark.parametrize("initial_v", [[-60.0, -61.0], [-60.0, math.nan, -61.0]])
def test_initial_v_needs_one_finite_value_per_neuron(initial_v) -> None:
    expect_error(lambda: Population("exc", 3, IF_curr_exp(), initial_v=initial_v), "Population 'exc'.initial_v", "3")


def test_one_to_one_needs_equal_sizes() -> None:
    err = expect_error(
        lambda: net([src("src", 3), cells("cells", 4)], [proj(connector=OneToOne())]),
        "Projection 'p'.connector",
        "equal size",
    )
    assert "pre 3, post 4" in err.allowed


@pytest.mark.parametrize(("row", "end", "size"), [([4, 0], "pre", 4), ([0, 7], "post", 4)])
def test_from_list_indices_must_lie_within_the_populations(row, end: str, size: int) -> None:
    err = expect_error(
        lambda: net(projections=[proj(connector=FromList([[0, 0], row]))]),
        "Projection 'p'.connector.conn_list[1]",
        f"{end} index < {size}",
    )
    assert err.value == tuple(float(x) for x in row)


# --- wrong types and names -------------------------------------------------------------------------


def test_population_cell_must_be_a_cell_or_source_instance() -> None:
    expect_error(lambda: Population("exc", 2, IF_curr_exp), "Population 'exc'.cell", "IF_curr_exp", "Poisson")
    expect_error(lambda: Population("exc", 2, Static()), "Population 'exc'.cell", "an instance")


@pytest.mark.parametrize("name", ["", "2exc", "exc-1", "with space", None])
def test_names_must_be_identifiers(name) -> None:
    expect_error(lambda: Population(name, 2, IF_curr_exp()), "Population.name", "letters, digits and '_'")
    expect_error(lambda: proj(name), "Projection.name", "letters, digits and '_'")


def test_projection_needs_a_connector_and_a_synapse_type() -> None:
    expect_error(lambda: Projection("p", "a", "b", "all", Static()), "Projection 'p'.connector", "OneToOne")
    expect_error(lambda: Projection("p", "a", "b", OneToOne(), 0.5), "Projection 'p'.synapse", "Static, STDP")
    expect_error(lambda: Projection("p", 3, "b", OneToOne(), Static()), "Projection 'p'.pre", "population name")


def test_unknown_receptor_is_refused() -> None:
    expect_error(lambda: proj(receptor="exc"), "Projection 'p'.receptor", "'excitatory'", "'inhibitory'")


def test_unknown_parameter_names_are_refused() -> None:
    expect_error(lambda: Population("a", 2, IF_curr_exp(), v_init=-60.0), "Population.v_init", "initial_v")
    expect_error(lambda: proj(weight=1.0), "Projection.weight", "synapse", "receptor")
    expect_error(lambda: Probe("a", record="v"), "Probe.record", "variable")
    expect_error(lambda: Network([cells()], timestep=0.1), "Network.timestep", "dt")


def test_network_items_must_have_the_right_types() -> None:
    expect_error(lambda: Network([cells(), "src"]), "Network.populations[1]", "a Population")
    expect_error(lambda: Network([cells()], [Static()]), "Network.projections[0]", "a Projection")
    expect_error(lambda: Network([cells()], [], [cells()]), "Network.probes[0]", "a Probe")
    expect_error(lambda: Network([]), "Network.populations", "at least one Population")


@pytest.mark.parametrize("dt", [0.0, -0.1, math.nan])
def test_time_step_must_be_positive(dt: float) -> None:
    expect_error(lambda: net(dt=dt), "Network.dt", "finite")


def test_network_name_must_be_an_identifier() -> None:
    expect_error(lambda: Network([cells()], name="my net"), "Network.name", "letters")


# --- names and references --------------------------------------------------------------------------


def test_duplicate_population_names_are_refused() -> None:
    expect_error(lambda: net([cells("a"), cells("a")]), "Population.name", "not used by another")


def test_a_projection_may_not_reuse_a_population_name() -> None:
    err = expect_error(lambda: net(projections=[proj("cells")]), "Projection.name", "not used by another")
    assert err.value == "cells"


def test_duplicate_projection_names_are_refused() -> None:
    expect_error(lambda: net(projections=[proj("p"), proj("p")]), "Projection.name", "not used by another")


@pytest.mark.parametrize("end", ["pre", "post"])
def test_projection_ends_must_name_populations_of_the_network(end: str) -> None:
    kwargs = {end: "ghost"}
    err = expect_error(
        lambda: net(projections=[proj(**kwargs)]), f"Projection 'p'.{end}", "a population in this network", "src"
    )
    assert err.value == "ghost" and "cells" in err.allowed


def test_spike_sources_cannot_be_the_post_population() -> None:
    expect_error(
        lambda: net([src("a"), src("b")], [proj(pre="a", post="b")]), "Projection 'p'.post", "spike sources take no"
    )


def test_probe_targets_must_exist() -> None:
    expect_error(lambda: net(probes=[Probe("ghost")]), "Probe 'ghost'.target", "a population in this network")
    expect_error(
        lambda: net(projections=[proj()], probes=[Probe("ghost", "weight")]),
        "Probe 'ghost'.target",
        "a projection in this network",
        "p",
    )


def test_weight_probe_needs_a_projection_and_spike_probe_a_population() -> None:
    network = [src(), cells()]
    expect_error(lambda: net(network, [proj()], [Probe("cells", "weight")]), "Probe 'cells'.target", "projection")
    expect_error(lambda: net(network, [proj()], [Probe("p", "spikes")]), "Probe 'p'.target", "population")


def test_v_probe_on_a_spike_source_is_refused() -> None:
    expect_error(lambda: net(probes=[Probe("src", "v")]), "Probe 'src'.variable", "'spikes'", "no membrane")


def test_unknown_probe_variable_is_refused() -> None:
    expect_error(lambda: Probe("cells", "current"), "Probe 'cells'.variable", "'spikes'", "'v'", "'weight'")


def test_probe_interval_must_be_a_whole_number_of_steps() -> None:
    expect_error(lambda: Probe("cells", "v", every_ms=0.0), "Probe 'cells'.every_ms", "> 0")
    for every in (0.05, 0.25):
        expect_error(
            lambda every=every: net(probes=[Probe("cells", "v", every_ms=every)]), "Probe 'cells'.every_ms", "multiple"
        )
    assert net(probes=[Probe("cells", "v", every_ms=0.3)]).probes[0].every_ms == 0.3


def test_the_same_probe_twice_is_refused() -> None:
    expect_error(
        lambda: net(probes=[Probe("cells", "v"), Probe("cells", "v", every_ms=1.0)]),
        "Probe 'cells'.variable",
        "once per target",
    )


# --- delays and weights against the network --------------------------------------------------------


@pytest.mark.parametrize("synapse", [Static(0.5, 0.05), STDP(weight=0.5, delay=0.09)])
def test_delays_below_one_time_step_are_refused(synapse) -> None:
    err = expect_error(
        lambda: net(projections=[proj(synapse=synapse)], dt=0.1), "Projection 'p'.synapse.delay", ">= the time step"
    )
    assert "0.1 ms" in err.allowed


def test_a_delay_of_exactly_one_step_is_allowed() -> None:
    assert net(projections=[proj(synapse=Static(0.5, 1.0))], dt=1.0).dt == 1.0


def test_from_list_delays_below_one_time_step_are_refused() -> None:
    rows = [[0, 0, 0.5, 1.0], [1, 1, 0.5, 0.5]]
    expect_error(
        lambda: net(projections=[proj(connector=FromList(rows))], dt=1.0),
        "Projection 'p'.connector.conn_list[1].delay",
        ">= the time step dt = 1.0 ms",
    )


def test_from_list_weights_are_magnitudes() -> None:
    expect_error(
        lambda: net(projections=[proj(connector=FromList([[0, 0, -0.5, 1.0]]))]),
        "Projection 'p'.connector.conn_list[0].weight",
        ">= 0",
    )


@pytest.mark.parametrize("weight", [1.5, 0.05])
def test_from_list_weights_of_stdp_must_lie_within_its_bounds(weight: float) -> None:
    rows = [[0, 0, 0.5, 1.0], [1, 1, weight, 1.0]]
    stdp = STDP(weight=0.5, w_min=0.1, w_max=1.0)
    err = expect_error(
        lambda: net(projections=[proj(connector=FromList(rows), synapse=stdp)]),
        "Projection 'p'.connector.conn_list[1].weight",
        "[w_min, w_max] = [0.1, 1.0]",
    )
    assert err.value == weight


def test_from_list_nan_weights_are_refused_before_the_network() -> None:
    expect_error(lambda: FromList([[0, 0, math.inf, 1.0]]), "FromList.conn_list[0]", "finite")


# --- simulate(): arguments, refused before anything runs -------------------------------------------


@pytest.fixture
def no_run(monkeypatch):
    """Make any attempt to run the Brian2 target fail loudly: errors must come first."""
    import spikemem.hardware.brian2.target as target

    def must_not_run(*args, **kwargs):
        raise AssertionError("the target ran although the input was invalid")

    monkeypatch.setattr(target, "run", must_not_run)


@pytest.fixture
def small() -> Network:
    return net(projections=[proj()], probes=[Probe("cells")])


@pytest.mark.parametrize(
    ("duration", "allowed"), [(0.0, "> 0"), (-5.0, "> 0"), (math.nan, "finite"), ("1 s", "finite")]
)
def test_duration_must_be_positive(no_run, small, duration, allowed: str) -> None:
    expect_error(lambda: simulate(small, duration, target="brian2:numpy"), "duration_ms", allowed)


def test_duration_must_cover_one_time_step(no_run, small) -> None:
    expect_error(lambda: simulate(small, 0.05, target="brian2:numpy"), "duration_ms", "at least one time step")


@pytest.mark.parametrize("seed", [-1, 1.5, "seven", None, True])
def test_seed_must_be_a_non_negative_integer(no_run, small, seed) -> None:
    expect_error(lambda: simulate(small, 10.0, target="brian2:numpy", seed=seed), "seed", "integer >= 0")


@pytest.mark.parametrize("target", ["neuron", "", 3, "brian2:gpu"])
def test_target_must_be_a_known_target(no_run, small, target) -> None:
    err = expect_error(lambda: simulate(small, 10.0, target=target), "target")
    assert "brian2" in err.allowed


def test_unknown_variant_lists_the_variants(no_run, small) -> None:
    expect_error(lambda: simulate(small, 10.0, target="brian2:gpu"), "target", "numpy", "cpp_standalone")


def test_unknown_target_options_are_refused(no_run, small) -> None:
    expect_error(lambda: simulate(small, 10.0, target="brian2:numpy", thread=2), "option thread", "threads")


def test_option_values_are_checked(no_run, small) -> None:
    expect_error(lambda: simulate(small, 10.0, target="brian2:numpy", threads=0), "option threads", "integer >= 1")


def test_simulate_needs_a_network(no_run) -> None:
    expect_error(lambda: simulate({"populations": []}, 10.0), "network", "a spikemem Network")


def test_unsupported_deferred_stdp_is_refused_before_running(no_run) -> None:
    """A Poisson pre population can fire twice within a deferred-STDP delivery delay."""
    network = net(
        [Population("noise", 4, Poisson(rate_hz=10.0)), cells()],
        [proj(pre="noise", synapse=STDP(weight=0.1, delay=1.0, timing="deferred"))],
    )
    with pytest.raises(UnsupportedFeature) as info:
        simulate(network, 10.0, target="brian2:numpy")
    assert info.value.target == "brian2" and "deferred STDP" in info.value.feature and "online" in info.value.reason
