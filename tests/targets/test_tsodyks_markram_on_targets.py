"""TsodyksMarkram synapses on the targets.

The ``brian2`` target is held to the equations of :class:`spikemem.TsodyksMarkram`, computed
here (``expected_release``): a non-firing cell receiving a Tsodyks-Markram projection has the
membrane of the same cell receiving, through static synapses, one spike of weight
``w·u·x`` per pre spike. ``pynn:nest`` (NEST's ``tsodyks_synapse``, the semantics the
description takes) must give the ``brian2`` target's spikes and ``v``. Targets without
these semantics refuse the synapse naming it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from spikemem import (
    AllToAll,
    FromList,
    IF_curr_delta,
    IF_curr_exp,
    Network,
    Population,
    Probe,
    Projection,
    SpikeSource,
    Static,
    TsodyksMarkram,
    UnsupportedFeature,
    simulate,
)

DT = 0.1
#: irregular, with pairs one and two steps apart
TIMES = [[5.0, 7.3, 8.0, 8.1, 8.3, 30.0, 30.4, 31.0, 60.0, 61.5], [2.0, 2.2, 2.4, 20.0, 45.0, 45.3, 46.0]]


def expected_release(times, U, tau_rec, tau_facil, tau_psc):
    """``u·x`` used by each spike, from the equations of the class docstring (u0 = 0, x0 = 1, y0 = 0)."""
    u, x, y, last = 0.0, 1.0, 0.0, None
    out = []
    for t in times:
        if last is not None:
            h = t - last
            z = 1.0 - x - y
            u = u * math.exp(-h / tau_facil) if tau_facil > 0 else 0.0
            if tau_psc == tau_rec:
                p_xy = 1.0 - (1.0 + h / tau_rec) * math.exp(-h / tau_rec)
            else:
                p_xy = (tau_psc * (math.exp(-h / tau_psc) - 1) - tau_rec * (math.exp(-h / tau_rec) - 1)) / (
                    tau_rec - tau_psc
                )
            x, y = x + p_xy * y + (1.0 - math.exp(-h / tau_rec)) * z, y * math.exp(-h / tau_psc)
        u = u + U * (1.0 - u)
        used = u * x
        x, y, last = x - used, y + used, t
        out.append(used)
    return np.array(out)


def test_expected_release_by_hand():
    # depression only: u = U at every spike; the first spike uses U whenever it comes
    used = expected_release([10.0, 10.0 + 1e6], U=0.3, tau_rec=50.0, tau_facil=0.0, tau_psc=2.0)
    assert used == pytest.approx([0.3, 0.3])  # fully recovered after a long pause
    used = expected_release([10.0, 10.1], U=0.3, tau_rec=50.0, tau_facil=0.0, tau_psc=2.0)
    assert used[1] < 0.3 * 0.7 + 1e-3  # the resource used by the first spike is not yet back
    # facilitation: u grows from U towards 1 with close spikes
    used = expected_release([1.0, 1.1, 1.2], U=0.1, tau_rec=1e9, tau_facil=1e9, tau_psc=2.0)
    u1, u2 = 0.1, 0.1 + 0.1 * 0.9
    assert used[1] == pytest.approx(u2 * (1 - u1), rel=1e-6)


@pytest.mark.parametrize(
    ("U", "tau_rec", "tau_facil", "tau_syn"),
    [(0.5, 80.0, 0.0, 2.0), (0.1, 30.0, 200.0, 2.0), (0.4, 3.0, 20.0, 3.0)],  # the last: tau_psc = tau_rec
    ids=["depressing", "facilitating", "tau_rec_equals_tau_syn"],
)
def test_brian2_membrane_equals_static_spikes_of_the_released_weights(U, tau_rec, tau_facil, tau_syn):
    pytest.importorskip("brian2")
    times, w, delay = TIMES[0], 0.8, 1.5
    quiet = IF_curr_exp(cm=1.0, tau_m=20.0, tau_syn_E=tau_syn, v_thresh=0.0)  # never fires
    tm = Network(
        [SpikeSource("src", [times]), Population("a", 1, quiet)],
        [Projection("tm", "src", "a", AllToAll(), TsodyksMarkram(w, delay, U, tau_rec, tau_facil))],
        [Probe("a", "v")],
        dt=DT,
        name="tm_release",
    )
    used = expected_release(times, U, tau_rec, tau_facil, tau_syn)
    rows = np.column_stack([np.arange(len(times)), np.zeros(len(times)), w * used, np.full(len(times), delay)])
    static = Network(
        [SpikeSource("src", [[t] for t in times]), Population("a", 1, quiet)],
        [Projection("each", "src", "a", FromList(rows), Static(w, delay))],
        [Probe("a", "v")],
        dt=DT,
        name="tm_release_static",
    )
    a, b = simulate(tm, 80.0, target="brian2:numpy"), simulate(static, 80.0, target="brian2:numpy")
    assert np.ptp(a.traces["a.v"].values) > 1.0  # the input is seen
    np.testing.assert_allclose(a.traces["a.v"].values, b.traces["a.v"].values, rtol=0, atol=1e-9)


def tm_network(post_cell=None, scale: float = 1.0) -> Network:
    """Two irregular sources into three cells through depressing, facilitating (per-synapse weights and
    delays) and inhibitory Tsodyks-Markram projections; the cells fire a few times."""
    cell = post_cell or IF_curr_exp(cm=0.5, tau_m=10.0, tau_refrac=2.0, tau_syn_E=2.0, tau_syn_I=4.0, v_thresh=-58.0)
    rows = np.array([[0, 1, 6.0, 1.5], [1, 2, 5.0, 0.7], [0, 2, 3.0, 2.0], [1, 0, 4.0, 1.0]])
    rows[:, 2] *= scale
    return Network(
        [SpikeSource("src", TIMES), Population("a", 3, cell, initial_v=np.array([-65.0, -62.0, -60.0]))],
        [
            Projection(
                "dep", "src", "a", AllToAll(), TsodyksMarkram(weight=5.0 * scale, delay=1.0, U=0.5, tau_rec=80.0)
            ),
            Projection(
                "fac",
                "src",
                "a",
                FromList(rows),
                TsodyksMarkram(3.0 * scale, 1.0, U=0.1, tau_rec=30.0, tau_facil=200.0),
            ),
            Projection(
                "inh",
                "src",
                "a",
                AllToAll(),
                TsodyksMarkram(1.0 * scale, 1.2, U=0.4, tau_rec=50.0, tau_facil=20.0),
                "inhibitory",
            ),
        ],
        [Probe("a"), Probe("a", "v")],
        dt=DT,
        name="tm_targets",
    )


@pytest.mark.pynn
@pytest.mark.nest
def test_pynn_nest_identical_to_brian2_target():
    pytest.importorskip("brian2")
    pytest.importorskip("nest", reason="needs NEST (pip install 'spikemem[pynn]')")
    pytest.importorskip("pyNN")
    net = tm_network()
    ref, res = simulate(net, 80.0, target="brian2:numpy"), simulate(net, 80.0, target="pynn:nest")
    x, y = ref.spikes["a"], res.spikes["a"]
    assert len(x) >= 3 and len(set(x.indices.tolist())) >= 2
    assert np.array_equal(x.steps(DT), y.steps(DT)) and np.array_equal(x.indices, y.indices)
    np.testing.assert_allclose(res.traces["a.v"].values, ref.traces["a.v"].values, rtol=0, atol=1e-9)
    # and the synapses do depress/facilitate: static synapses of the same weights differ
    static = net.replace(
        projections=tuple(p.replace(synapse=Static(p.synapse.weight, p.synapse.delay)) for p in net.projections)
    )
    other = simulate(static, 80.0, target="brian2:numpy")
    assert not np.allclose(other.traces["a.v"].values, ref.traces["a.v"].values, atol=1e-3)


def _refused(call, match):
    with pytest.raises(UnsupportedFeature, match=match):
        call()


def test_refused_where_the_semantics_cannot_be_honoured(tmp_path):
    net = tm_network()
    delta = Network(
        [SpikeSource("src", TIMES), Population("d", 2, IF_curr_delta())],
        [Projection("tm", "src", "d", AllToAll(), TsodyksMarkram(1.0, 1.0))],
        [Probe("d")],
        dt=DT,
    )
    from spikemem.hardware.brian2 import target as brian2_target

    _refused(lambda: brian2_target.check(delta), "TsodyksMarkram synapse on 'tm' onto IF_curr_delta")
    from spikemem.hardware.nir.target import inexpressible

    assert any("TsodyksMarkram" in line and "short-term" in line for line in inexpressible(net))
    from spikemem.hardware.spinnaker.limits import constraints

    assert any("sPyNNaker 7 has no Tsodyks-Markram" in v for v in constraints(net).violations)
    from spikemem.hardware.norse.target import unsupported

    assert any("TsodyksMarkram" in line for line in unsupported(net))
    pytest.importorskip("pyNN")
    from spikemem.hardware.pynn import checks
    from spikemem.hardware.pynn.backends import BACKENDS
    from spikemem.hardware.pynn.script import write_script

    _refused(lambda: write_script(net, tmp_path / "net.py"), "TsodyksMarkram synapse on 'dep'")
    _refused(lambda: checks.check_semantics(net, BACKENDS["brian2"]), "pyNN.brian2's TsodyksMarkramSynapse differs")
    checks.check_semantics(net, BACKENDS["nest"])  # accepted
    equal = net.replace(
        projections=tuple(p.replace(synapse=p.synapse.replace(tau_rec=2.0)) for p in net.projections[:1])
    )
    _refused(lambda: checks.check_semantics(equal, BACKENDS["nest"]), "tau_rec = tau_syn = 2 ms")
