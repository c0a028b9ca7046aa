"""TsodyksMarkram: validation naming the field, not plastic, not a Static (never fused), HDF5 round-trip."""

from __future__ import annotations

import numpy as np
import pytest

from spikemem import (
    AllToAll,
    FromList,
    IF_curr_exp,
    Network,
    Population,
    Probe,
    Projection,
    SpikeSource,
    Static,
    TsodyksMarkram,
    ValidationError,
    load_network,
    save_network,
)


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("U", 0.0, r"\(0, 1\]"),
        ("U", 1.5, r"\(0, 1\]"),
        ("U", -0.2, r"\(0, 1\]"),
        ("U", float("nan"), "finite"),
        ("tau_facil", -1.0, ">= 0"),
        ("tau_rec", 0.0, "> 0"),
        ("tau_rec", -5.0, "> 0"),
        ("weight", -0.1, ">= 0"),
        ("delay", 0.0, "> 0"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(field, value, allowed):
    with pytest.raises(ValidationError, match=rf"TsodyksMarkram\.{field} .*{allowed}"):
        TsodyksMarkram(**{field: value})


def test_accepted_values_and_defaults():
    syn = TsodyksMarkram(weight=2, delay=0.5, U=1, tau_rec=800, tau_facil=0)
    assert (syn.U, syn.tau_rec, syn.tau_facil, syn.weight, syn.delay) == (1.0, 800.0, 0.0, 2.0, 0.5)
    assert isinstance(syn.U, float)
    default = TsodyksMarkram()
    assert (default.U, default.tau_rec, default.tau_facil) == (0.5, 100.0, 0.0)  # PyNN's defaults
    assert not syn.plastic
    assert not isinstance(syn, Static)  # Brian2's fusing treats Static projections as stateless


def test_projection_error_lists_it():
    with pytest.raises(ValidationError, match="TsodyksMarkram"):
        Projection("p", "a", "b", AllToAll(), object())


def test_roundtrips_through_hdf5(tmp_path):
    cell = IF_curr_exp(tau_syn_E=2.0)
    rows = np.array([[0, 0, 1.0 / 3.0, 1.5], [1, 0, 0.1 + 0.2, 0.7]])
    net = Network(
        [SpikeSource("src", [[1.0, 2.0], [3.0]]), Population("a", 2, cell)],
        [
            Projection("dep", "src", "a", AllToAll(), TsodyksMarkram(weight=0.5, U=0.45, tau_rec=123.4)),
            Projection(
                "fac",
                "src",
                "a",
                FromList(rows),
                TsodyksMarkram(weight=0.25, delay=2.0, U=0.1 + 0.2, tau_rec=1.0 / 3.0, tau_facil=530.0),
                "inhibitory",
            ),
        ],
        [Probe("a")],
        dt=0.1,
        name="tm",
    )
    path = tmp_path / "tm.h5"
    save_network(net, path)
    back = load_network(path)
    assert back == net and back.digest() == net.digest()
    syn = back.projection("fac").synapse
    assert isinstance(syn, TsodyksMarkram)
    assert (syn.U, syn.tau_rec, syn.tau_facil) == (0.1 + 0.2, 1.0 / 3.0, 530.0)
