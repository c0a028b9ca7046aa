"""Same seed, same target -> identical spikes; another seed -> other random input; the
provenance records what produced a result."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform

import numpy as np
import pytest

from spikemem import (
    STDP,
    FixedProbability,
    IF_cond_exp,
    IF_curr_exp,
    Network,
    Poisson,
    Population,
    Probe,
    Projection,
    Static,
    simulate,
)

DURATION_MS = 60.0


def network() -> Network:
    free = Population("free", 20, Poisson(rate_hz=60.0))  # trains follow the run seed
    fixed = Population("fixed", 10, Poisson(rate_hz=60.0, seed=123))  # trains fixed by their own seed
    exc = Population("exc", 15, IF_curr_exp(tau_refrac=2.0))
    cond = Population("cond", 5, IF_cond_exp(tau_refrac=2.0))
    projections = [
        Projection("free_exc", free, exc, FixedProbability(0.3), Static(1.5, 1.0)),
        Projection("fixed_exc", fixed, exc, FixedProbability(0.3, seed=8), Static(1.5, 1.0)),
        Projection("exc_cond", exc, cond, FixedProbability(0.5), STDP(weight=0.02, w_max=0.05, A_plus=0.05)),
    ]
    probes = [Probe(p) for p in ("free", "fixed", "exc", "cond")] + [Probe("exc_cond", "weight", every_ms=1.0)]
    return Network([free, fixed, exc, cond], projections, probes, dt=0.1, name="determinism")


@pytest.fixture(scope="module")
def runs():
    net = network()
    return {
        "a": simulate(net, DURATION_MS, target="brian2:numpy", seed=1),
        "b": simulate(net, DURATION_MS, target="brian2:numpy", seed=1),
        "c": simulate(net, DURATION_MS, target="brian2:numpy", seed=2),
    }


def test_same_seed_gives_identical_spikes_and_weights(runs) -> None:
    a, b = runs["a"], runs["b"]
    assert a.spikes.keys() == b.spikes.keys() == {"free", "fixed", "exc", "cond"}
    for name in a.spikes:
        assert a.spikes[name] == b.spikes[name], name
    assert len(a.spikes["exc"]) > 50 and len(a.spikes["cond"]) > 5
    assert a.weights["exc_cond"].values.tobytes() == b.weights["exc_cond"].values.tobytes()


def test_another_seed_draws_other_poisson_input_and_connectivity(runs) -> None:
    a, c = runs["a"], runs["c"]
    assert a.spikes["free"] != c.spikes["free"]
    assert a.spikes["fixed"] == c.spikes["fixed"]  # its own seed fixes it
    assert a.spikes["exc"] != c.spikes["exc"]
    net = network()
    ca, cc = (net.connections(net.projection("free_exc"), seed=s) for s in (1, 2))
    assert not (len(ca) == len(cc) and np.array_equal(ca.i, cc.i) and np.array_equal(ca.j, cc.j))
    cf = [net.connections(net.projection("fixed_exc"), seed=s) for s in (1, 2)]
    assert np.array_equal(cf[0].i, cf[1].i) and np.array_equal(cf[0].j, cf[1].j)


def test_poisson_input_is_what_the_network_says_it_is(runs) -> None:
    """The source spikes recorded by the target are spikemem's own draw, put on the time grid."""
    net = network()
    for name, res in (("free", runs["a"]), ("free", runs["c"]), ("fixed", runs["a"])):
        seed = res.provenance["seed"]
        trains = net.source_times(net.population(name), DURATION_MS, seed)
        # a spike at t ms is emitted in step round(t/dt); one spike per neuron and step
        steps = sorted({(int(round(t / 0.1)), k) for k, train in enumerate(trains) for t in train})
        got = sorted(zip(res.spikes[name].steps(0.1).tolist(), res.spikes[name].indices.tolist()))
        assert got == steps


def test_provenance_records_digest_target_seed_versions_and_start_time(runs) -> None:
    before = dt.datetime.now(dt.UTC)
    res = simulate(network(), 5.0, target="brian2:numpy", seed=7)
    after = dt.datetime.now(dt.UTC)
    prov = res.provenance
    assert prov["network_digest"] == network().digest()
    assert prov["network_name"] == "determinism"
    assert prov["target"] == "brian2:numpy"
    assert prov["seed"] == 7 and prov["duration_ms"] == 5.0 and prov["dt_ms"] == 0.1
    versions = prov["versions"]
    assert versions["python"] == platform.python_version()
    for package in ("spikemem", "numpy", "brian2", "h5py"):
        assert versions[package] == importlib.metadata.version(package), package
    started = dt.datetime.fromisoformat(prov["start_time_utc"])
    assert started.tzinfo is not None
    assert before.replace(microsecond=0) <= started <= after
    assert runs["a"].provenance["seed"] == 1 and runs["c"].provenance["seed"] == 2
    assert runs["a"].provenance["network_digest"] == prov["network_digest"]
