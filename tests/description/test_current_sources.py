"""Current sources in the description: validation, step amplitudes, HDF5, stacking."""

from __future__ import annotations

import pytest

from spikemem import (
    DCSource,
    IF_curr_exp,
    Injection,
    Network,
    Population,
    SpikeSource,
    StepCurrentSource,
    ValidationError,
    load_network,
    save_network,
)
from spikemem.batch import replicate


def _net(*currents, **kw):
    return Network([Population("a", 4, IF_curr_exp()), SpikeSource("s", [[1.0]])], currents=currents, **kw)


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: DCSource(amplitude=float("nan")), "DCSource.amplitude"),
        (lambda: DCSource(start=-1.0), "DCSource.start"),
        (lambda: DCSource(start=5.0, stop=2.0), "DCSource.stop"),
        (lambda: StepCurrentSource([1.0, 2.0], [0.5]), "StepCurrentSource.amplitudes"),
        (lambda: StepCurrentSource([2.0, 1.0], [0.5, 0.1]), "StepCurrentSource.times"),
        (lambda: StepCurrentSource([-1.0], [0.5]), "StepCurrentSource.times"),
        (lambda: StepCurrentSource(["x"], [0.5]), "StepCurrentSource.times"),
        (lambda: Injection("i", 0.5, "a"), "Injection 'i'.source"),
        (lambda: Injection("i", DCSource(), "a", [1, 1]), "Injection 'i'.neurons"),
        (lambda: Injection("i", DCSource(), "a", [-1]), "Injection 'i'.neurons"),
        (lambda: _net(Injection("i", DCSource(), "b")), "Injection 'i'.target"),
        (lambda: _net(Injection("i", DCSource(), "s")), "Injection 'i'.target"),
        (lambda: _net(Injection("i", DCSource(), "a", [4])), "Injection 'i'.neurons"),
        (lambda: _net(Injection("a", DCSource(), "a")), "Injection.name"),
        (lambda: Network([Population("a", 1, IF_curr_exp())], currents=[DCSource()]), "Network.currents[0]"),
    ],
)
def test_bad_current_sources_are_refused_naming_the_field(make, field):
    with pytest.raises(ValidationError) as err:
        make()
    assert err.value.field == field


def test_amplitude_per_step_follows_pynns_definitions():
    """DC: the amplitude on [start, stop); step source: 0 before the first time, each amplitude
    from its time on, the last to the end; a change at T drives step round(T / dt)."""
    dt = 0.1
    dc = DCSource(amplitude=2.0, start=0.3, stop=0.6).steps(10, dt)
    assert dc.tolist() == [0, 0, 0, 2, 2, 2, 0, 0, 0, 0]
    assert DCSource(amplitude=-1.0).steps(3, dt).tolist() == [-1, -1, -1]
    steps = StepCurrentSource([0.2, 0.5, 0.7], [1.0, -0.5, 0.25]).steps(10, dt)
    assert steps.tolist() == [0, 0, 1, 1, 1, -0.5, -0.5, 0.25, 0.25, 0.25]
    assert StepCurrentSource([0.14, 0.26], [1.0, 2.0]).steps(4, dt).tolist() == [0, 1, 1, 2]  # nearest step
    assert StepCurrentSource([5.0], [1.0]).steps(4, dt).tolist() == [0, 0, 0, 0]  # after the run


def test_networks_without_currents_keep_their_files_and_digests():
    net = Network([Population("a", 2, IF_curr_exp())])
    assert "currents" not in net.to_dict()
    with_current = Network([Population("a", 2, IF_curr_exp())], currents=[Injection("i", DCSource(), "a")])
    assert with_current.digest() != net.digest()


def test_current_sources_round_trip_through_hdf5(tmp_path):
    net = _net(
        Injection("dc", DCSource(0.5, 1.0, 4.0), "a", [0, 2]),
        Injection("st", StepCurrentSource([1.0, 2.5], [0.25, -0.75]), "a"),
    )
    save_network(net, tmp_path / "net.h5")
    back = load_network(tmp_path / "net.h5")
    assert back == net and back.digest() == net.digest()
    assert back.currents[0].neurons.tolist() == [0, 2] and back.currents[1].neurons is None


def test_stacked_copies_each_get_the_current():
    net = _net(Injection("dc", DCSource(0.5), "a", [1, 3]))
    stacked = replicate(net, 3)
    assert stacked.currents[0].neurons.tolist() == [1, 3, 5, 7, 9, 11]
    other = _net(Injection("dc", DCSource(0.7), "a", [1, 3]))
    from spikemem.batch import stack

    with pytest.raises(ValidationError, match="currents"):
        stack([net, other])
