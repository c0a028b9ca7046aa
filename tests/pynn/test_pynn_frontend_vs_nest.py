"""spikemem.pynn keeps PyNN's conventions: the same scenarios on spikemem.pynn (brian2) and on pyNN.nest."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyNN", reason="needs PyNN (pip install 'spikemem[pynn]')")
pytest.importorskip("brian2", reason="needs brian2")

import spikemem.pynn as sm  # noqa: E402
from spikemem.errors import UnsupportedFeature, ValidationError  # noqa: E402
from spikemem.pynn import simulator  # noqa: E402

TARGET = "brian2:numpy"
SOURCE_TIMES = [[2.0, 10.0, 30.0], [5.0, 12.0], [7.0, 20.0, 21.0], [15.0, 31.0]]
CELL = dict(tau_m=10.0, tau_syn_E=2.0, tau_syn_I=3.0, v_thresh=-60.0, tau_refrac=2.0)


def _nest():
    return pytest.importorskip("pyNN.nest", reason="needs NEST (pip install 'spikemem[pynn]')")


def _setup(sim, target=TARGET):
    if sim is sm:
        sim.setup(timestep=0.1, min_delay=0.1, target=target)
    else:  # NEST on the time grid, as spikemem's targets are
        sim.setup(timestep=0.1, min_delay=0.1, spike_precision="on_grid")


CONNECTORS = {
    "all_to_all": lambda s: s.AllToAllConnector(),
    "all_to_all_no_self": lambda s: s.AllToAllConnector(allow_self_connections=False),
    "one_to_one_view": lambda s: s.OneToOneConnector(),
    "from_list": lambda s: s.FromListConnector([(0, 0), (1, 0), (2, 1), (1, 2), (0, 2)]),
    "from_list_weights": lambda s: s.FromListConnector(
        [(0, 0, 2.0, 1.0), (1, 0, 1.0, 2.5), (2, 1, 3.0, 0.5), (3, 2, 2.5, 1.0)], column_names=["weight", "delay"]
    ),
    "fixed_probability": lambda s: s.FixedProbabilityConnector(0.6, rng=s.NumpyRNG(seed=3)),
    "fixed_number_pre": lambda s: s.FixedNumberPreConnector(2, rng=s.NumpyRNG(seed=5)),
    "fixed_number_post": lambda s: s.FixedNumberPostConnector(2, rng=s.NumpyRNG(seed=6)),
    "fixed_total_number": lambda s: s.FixedTotalNumberConnector(7, rng=s.NumpyRNG(seed=7)),
    "distance_dependent": lambda s: s.DistanceDependentProbabilityConnector("d < 1.5", rng=s.NumpyRNG(seed=8)),
    "array": lambda s: s.ArrayConnector(np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=bool)),
}


def scenario(sim, connector: str, duration: float = 40.0, target: str = TARGET):
    """Spike sources → 3 current-based cells: an excitatory projection with ``connector`` (a view of the
    first 3 sources for one-to-one) and an inhibitory all-to-all one from a view of the last source."""
    _setup(sim, target)
    src = sim.Population(4, sim.SpikeSourceArray(spike_times=SOURCE_TIMES), label="src")
    cells = sim.Population(3, sim.IF_curr_exp(**CELL), label="cells")
    cells.initialize(v=-64.0)
    pre = src[0:3] if connector == "one_to_one_view" else src
    exc = sim.Projection(pre, cells, CONNECTORS[connector](sim), sim.StaticSynapse(weight=1.5, delay=1.5))
    sim.Projection(
        sim.PopulationView(src, np.array([3])),
        cells,
        sim.AllToAllConnector(),
        sim.StaticSynapse(weight=-1.0, delay=1.0),
        receptor_type="inhibitory",
    )
    cells.record(["spikes", "v"])
    sim.run(duration)
    assert sim is not sm or simulator.state.results.provenance["target"].startswith(target.split(":")[0])
    seg = cells.get_data().segments[0]
    out = {
        "spikes": [np.round(np.asarray(st.magnitude), 6).tolist() for st in seg.spiketrains],
        "v": np.asarray(seg.analogsignals[0].magnitude),
        "weights": exc.get(["weight", "delay"], format="list"),
    }
    sim.end()
    return out


@pytest.fixture(scope="module")
def nest_runs():
    nest = _nest()
    return {name: scenario(nest, name) for name in CONNECTORS}


@pytest.mark.parametrize("connector", list(CONNECTORS))
def test_every_connector_gives_nests_spikes(connector, nest_runs):
    ours, theirs = scenario(sm, connector), nest_runs[connector]
    np.testing.assert_allclose(np.array(sorted(ours["weights"])), np.array(sorted(theirs["weights"])))
    assert ours["spikes"] == theirs["spikes"]
    assert sum(map(len, ours["spikes"])) > 0 or connector == "one_to_one_view"


def test_v_recorded_as_pynn_nest_records_it(nest_runs):
    """``v`` has PyNN's T/dt + 1 samples from the initialized value and equals NEST's at every sample,
    synaptic input and resets included (PyNN's dialect stamps spikes as NEST does, :mod:`.lowering`)."""
    ours, theirs = scenario(sm, "all_to_all")["v"], nest_runs["all_to_all"]["v"]
    assert ours.shape == theirs.shape == (401, 3)
    assert ours[0] == pytest.approx([-64.0] * 3)
    np.testing.assert_allclose(ours, theirs, atol=1e-9)


def _simple():
    _setup(sm)
    src = sm.Population(4, sm.SpikeSourceArray(spike_times=SOURCE_TIMES))
    cells = sm.Population(3, sm.IF_curr_exp(**CELL))
    sm.Projection(src, cells, sm.AllToAllConnector(), sm.StaticSynapse(weight=1.5, delay=1.5))
    cells.record("spikes")
    return cells


def test_run_twice_equals_one_run_and_run_until():
    cells = _simple()
    sm.run(40.0)
    once = [st.magnitude.tolist() for st in cells.get_data().segments[0].spiketrains]
    cells = _simple()
    assert sm.run(20.0) == pytest.approx(20.0)
    first = [st.magnitude.tolist() for st in cells.get_data().segments[0].spiketrains]
    assert sm.run_until(40.0) == pytest.approx(40.0)
    both = [st.magnitude.tolist() for st in cells.get_data().segments[0].spiketrains]
    assert sm.get_current_time() == pytest.approx(40.0)
    assert all(t <= 20.0 for train in first for t in train)
    assert [[t for t in train if t <= 20.0] for train in both] == first
    assert both == once and any(t > 20.0 for train in once for t in train)
    sm.end()


def test_reset_starts_a_new_segment_with_the_same_spikes():
    cells = _simple()
    sm.run(40.0)
    sm.reset()
    assert sm.get_current_time() == 0.0
    sm.run(40.0)
    block = cells.get_data()
    assert len(block.segments) == 2
    a, b = ([st.magnitude.tolist() for st in seg.spiketrains] for seg in block.segments)
    assert a == b and sum(map(len, a)) > 0
    sm.end()


def test_parameters_get_set_on_populations_views_and_assemblies():
    _setup(sm)
    cells = sm.Population(4, sm.IF_curr_exp(**CELL), label="cells")
    other = sm.Population(2, sm.IF_cond_exp(), label="other")
    assert cells.get("tau_m") == pytest.approx(10.0)
    view = cells[1:3]
    view.set(tau_m=12.0)
    assert cells.get("tau_m", simplify=False) == pytest.approx([10.0, 12.0, 12.0, 10.0])
    assert view.get("tau_m") == pytest.approx(12.0)
    assembly = cells + other
    assert isinstance(assembly, sm.Assembly) and assembly.size == 6
    assembly.set(v_thresh=-52.0)
    assert cells.get("v_thresh") == pytest.approx(-52.0) and other.get("v_thresh") == pytest.approx(-52.0)
    with pytest.raises(sm.errors.NonExistentParameterError):
        cells.set(v=-60.0)  # v is a state variable in PyNN: initialize(), not set()
    sm.end()


def test_heterogeneous_parameters_are_refused_before_running():
    _setup(sm)
    cells = sm.Population(4, sm.IF_curr_exp(**CELL), label="cells")
    cells[0:2].set(tau_m=12.0)
    cells.record("spikes")
    with pytest.raises(UnsupportedFeature, match="tau_m"):
        sm.run(10.0)
    sm.end()


def test_assembly_records_and_initializes_its_members():
    _setup(sm)
    src = sm.Population(1, sm.SpikeSourceArray(spike_times=[[1.0]]), label="src")
    a = sm.Population(2, sm.IF_curr_exp(**CELL), label="a")
    b = sm.Population(1, sm.IF_curr_exp(**CELL), label="b")
    both = a + b
    both.initialize(v=-61.0)
    both.record(["spikes", "v"])
    sm.Projection(src, a, sm.AllToAllConnector(), sm.StaticSynapse(weight=5.0, delay=1.0))
    sm.run(10.0)
    block = both.get_data()
    seg = block.segments[0]
    assert sum(len(st) for st in seg.spiketrains) == 2  # a's two cells fire, b gets no input
    assert len(seg.spiketrains) == 3
    assert all(sig.magnitude[0] == pytest.approx(-61.0) for sig in seg.analogsignals)
    sm.end()


def test_write_data_writes_a_neo_file(tmp_path):
    neo = pytest.importorskip("neo")
    _setup(sm)
    src = sm.Population(2, sm.SpikeSourceArray(spike_times=[[1.0, 3.0], [2.0]]), label="src")
    src.record("spikes")
    sm.run(5.0)
    path = tmp_path / "src.pkl"
    src.write_data(str(path))
    block = neo.io.PickleIO(str(path)).read_block()
    assert [st.magnitude.tolist() for st in block.segments[0].spiketrains] == [[1.0, 3.0], [2.0]]
    sm.end()


def test_the_pynn_nest_target_under_the_front_end_gives_nests_spikes(nest_runs):
    """A script on spikemem.pynn with ``setup(target="pynn:nest")``: lowered to the description, run by
    spikemem's NEST target, the same spikes as the script run on pyNN.nest itself."""
    _nest()
    ours = scenario(sm, "from_list_weights", target="pynn:nest")
    assert ours["spikes"] == nest_runs["from_list_weights"]["spikes"]


@pytest.mark.parametrize(
    ("cell", "w_exc", "w_inh"),
    [("IF_cond_exp", 0.02, 0.05), ("IF_curr_delta", 2.0, -2.0)],
)
def test_other_cells_give_what_the_description_gives(cell, w_exc, w_inh):
    """Conductance and delta cells through the front end: the spikes of the same network written in
    spikemem's description language (µS weights, mV jumps; PyNN's negative inhibitory delta weight
    becomes a magnitude on the inhibitory receptor)."""
    import spikemem as s

    params = dict(tau_m=10.0, v_thresh=-60.0, tau_refrac=2.0)
    if cell == "IF_cond_exp":
        params.update(tau_syn_E=2.0, tau_syn_I=3.0)
    _setup(sm)
    src = sm.Population(4, sm.SpikeSourceArray(spike_times=SOURCE_TIMES), label="src")
    cells = sm.Population(3, getattr(sm, cell)(**params), label="cells")
    cells.initialize(v=-64.0)
    sm.Projection(src, cells, sm.AllToAllConnector(), sm.StaticSynapse(weight=w_exc, delay=1.5))
    sm.Projection(
        src[3:4], cells, sm.AllToAllConnector(), sm.StaticSynapse(weight=w_inh, delay=1.0), receptor_type="inhibitory"
    )
    cells.record("spikes")
    sm.run(40.0)
    ours = [np.round(st.magnitude, 6).tolist() for st in cells.get_data().segments[0].spiketrains]
    sm.end()
    assert sum(map(len, ours)) > 0

    described = getattr(s, cell)(**params, v_init=-64.0)
    net = s.Network(
        [
            s.SpikeSource("src", SOURCE_TIMES),
            s.Population("inh", 1, s.SpikeTimes([SOURCE_TIMES[3]])),
            s.Population("cells", 3, described),
        ],
        [
            s.Projection("exc", "src", "cells", s.AllToAll(), s.Static(weight=w_exc, delay=1.5)),
            s.Projection(
                "inh_cells", "inh", "cells", s.AllToAll(), s.Static(weight=abs(w_inh), delay=1.0), "inhibitory"
            ),
        ],
        [s.Probe("cells", "spikes")],
        dt=0.1,
    )
    res = s.simulate(net, 40.1, target=TARGET).spikes["cells"]
    assert ours == [np.round(t, 6).tolist() for t in res.trains()]


def test_poisson_sources_are_drawn_by_spikemem_reproducibly():
    def draw(seed):
        sm.setup(timestep=0.1, target=TARGET, seed=seed)
        p = sm.Population(20, sm.SpikeSourcePoisson(rate=50.0, start=100.0, duration=800.0), label="p")
        p.record("spikes")
        sm.run(1000.0)
        trains = [st.magnitude.tolist() for st in p.get_data().segments[0].spiketrains]
        sm.end()
        return trains

    a, b, c = draw(4), draw(4), draw(5)
    times = np.concatenate([np.asarray(t) for t in a])
    assert 700 <= len(times) <= 900  # 20 x 50 Hz x 0.8 s = 800, sd 28
    assert times.min() >= 100.0 and times.max() < 900.0
    assert a == b and a != c


def test_a_source_spike_at_0_ms_is_refused_as_pyNN_nest_refuses_it():  # noqa: N802 - pyNN.nest's name
    """PyNN's dialect stamps a spike at the end of its step (as NEST does): 0 ms is before the
    end of the first step. NEST itself refuses it (``spike time cannot be set to 0``)."""
    _setup(sm)
    src = sm.Population(2, sm.SpikeSourceArray(spike_times=[[0.0, 3.0], [1.0]]), label="early")
    cells = sm.Population(2, sm.IF_curr_exp(**CELL))
    sm.Projection(src, cells, sm.OneToOneConnector(), sm.StaticSynapse(weight=1.5, delay=1.0))
    with pytest.raises(ValidationError, match="Population 'early'.spike_times"):
        sm.run(5.0)
    sm.end()
