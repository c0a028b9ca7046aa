"""spikemem.pynn's TsodyksMarkramSynapse: the same script on spikemem.pynn (brian2 and NEST targets) and on
pyNN.nest gives the same spikes; it lowers to the description's TsodyksMarkram; sPyNNaker's dialect refuses it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyNN", reason="needs PyNN (pip install 'spikemem[pynn]')")
pytest.importorskip("brian2", reason="needs brian2")

import spikemem.pynn as sm  # noqa: E402
import spikemem.pynn.spinnaker as spin  # noqa: E402
from spikemem import TsodyksMarkram  # noqa: E402
from spikemem.errors import UnsupportedFeature  # noqa: E402
from spikemem.pynn import simulator  # noqa: E402

SOURCE_TIMES = [[2.0, 2.3, 2.5, 10.0, 10.2, 30.0, 30.1, 31.0], [5.0, 5.4, 12.0, 12.1, 40.0], [7.0, 7.2, 20.0, 21.0]]
CELL = dict(tau_m=10.0, tau_syn_E=2.0, tau_syn_I=3.0, v_thresh=-60.0, tau_refrac=2.0)


def _setup(sim, target="brian2:numpy"):
    if sim is sm:
        sim.setup(timestep=0.1, min_delay=0.1, target=target)
    else:  # NEST on the time grid, as spikemem's targets are
        sim.setup(timestep=0.1, min_delay=0.1, spike_precision="on_grid")


def scenario(sim, target="brian2:numpy"):
    """Sources → 3 cells through a depressing all-to-all projection, a facilitating one from a list with
    per-synapse weights and delays, and an inhibitory depressing one."""
    _setup(sim, target)
    src = sim.Population(3, sim.SpikeSourceArray(spike_times=SOURCE_TIMES), label="src")
    cells = sim.Population(3, sim.IF_curr_exp(**CELL), label="cells")
    cells.initialize(v=-64.0)
    sim.Projection(
        src, cells, sim.AllToAllConnector(), sim.TsodyksMarkramSynapse(U=0.5, tau_rec=80.0, weight=4.0, delay=1.0)
    )
    sim.Projection(
        src,
        cells,
        sim.FromListConnector([(0, 0, 6.0, 1.5), (1, 2, 5.0, 0.7), (2, 1, 7.0, 2.0)], column_names=["weight", "delay"]),
        sim.TsodyksMarkramSynapse(U=0.1, tau_rec=30.0, tau_facil=200.0),
    )
    sim.Projection(
        src,
        cells,
        sim.OneToOneConnector(),
        sim.TsodyksMarkramSynapse(U=0.4, tau_rec=50.0, tau_facil=20.0, weight=-1.0, delay=1.2),
        receptor_type="inhibitory",
    )
    cells.record(["spikes", "v"])
    sim.run(50.0)
    seg = cells.get_data().segments[0]
    out = {
        "spikes": [np.round(np.asarray(st.magnitude), 6).tolist() for st in seg.spiketrains],
        "v": np.asarray(seg.analogsignals[0].magnitude),
    }
    sim.end()
    return out


@pytest.fixture(scope="module")
def nest_run():
    nest = pytest.importorskip("pyNN.nest", reason="needs NEST (pip install 'spikemem[pynn]')")
    return scenario(nest)


@pytest.mark.nest
@pytest.mark.parametrize("target", ["brian2:numpy", "pynn:nest"])
def test_front_end_gives_nests_spikes(target, nest_run):
    ours = scenario(sm, target)
    assert sum(map(len, nest_run["spikes"])) >= 3
    assert ours["spikes"] == nest_run["spikes"]


def test_lowered_to_the_description():
    _setup(sm)
    src = sm.Population(1, sm.SpikeSourceArray(spike_times=[[1.0]]), label="src")
    cells = sm.Population(1, sm.IF_curr_exp(**CELL), label="cells")
    sm.Projection(
        src,
        cells,
        sm.AllToAllConnector(),
        sm.TsodyksMarkramSynapse(U=0.2, tau_rec=40.0, tau_facil=10.0, weight=0.5, delay=1.5),
        label="tm",
    )
    from spikemem.pynn.lowering import lower

    net = lower(simulator.state).network
    syn = net.projection("tm").synapse
    assert isinstance(syn, TsodyksMarkram)
    assert (syn.U, syn.tau_rec, syn.tau_facil, syn.weight, syn.delay) == (0.2, 40.0, 10.0, 0.5, 1.5)
    sm.end()


def test_supported_and_refused_in_spinnakers_dialect():
    assert "TsodyksMarkramSynapse" in sm.SUPPORTED and "TsodyksMarkramSynapse" not in sm.REFUSED
    spin.setup(target="brian2:numpy")
    with pytest.raises(UnsupportedFeature, match="TsodyksMarkramSynapse.*sPyNNaker"):
        spin.TsodyksMarkramSynapse(U=0.5, tau_rec=100.0)
    spin.end()
