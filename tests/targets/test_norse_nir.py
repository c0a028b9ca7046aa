"""NIR graphs between spikemem and Norse: a chain of delta layers written for Norse runs in
``norse.torch.from_nir`` with the norse target's spikes; a graph Norse's ``to_nir`` writes
reads back into a Network with Norse's spikes (its time-constant error undone).

Layer ``l`` spikes ``l`` steps later in spikemem than in Norse (NIR edges carry no delay,
spikemem's synapses one step). The time step is 2**-10 s and the weights are multiples of
1/16, so both sides compute the same numbers; the threshold (4/3) is never hit exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs torch (pip install 'spikemem[torch]')")
norse_torch = pytest.importorskip("norse.torch", reason="needs norse (pip install 'spikemem[torch]')")
pytest.importorskip("nir", reason="needs nir")

from spikemem import FromList, IF_curr_delta, Network, Population, Probe, Projection, SpikeSource, Static  # noqa: E402
from spikemem.errors import UnsupportedFeature  # noqa: E402
from spikemem.hardware.norse import lower  # noqa: E402
from spikemem.hardware.norse.nir import from_norse_graph, to_norse_graph  # noqa: E402

DT_S = 2.0**-10
DT_MS = DT_S * 1000
STEPS, SIZES = 60, (12, 16, 6)
THETA = 4.0 / 3.0


def dyadic(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return rng.integers(-24, 33, shape) / 16.0


def raster() -> np.ndarray:
    return np.random.default_rng(3).random((STEPS, SIZES[0])) < 0.3


def spikemem_chain() -> Network:
    """Input 12 -> 16 -> 6 delta cells, lambda = 0.875, signed weights as two projections per layer."""
    rng = np.random.default_rng(11)
    cell = IF_curr_delta(tau_m=-DT_MS / math.log(0.875), v_rest=0.0, v_reset=0.0, v_thresh=THETA, tau_refrac=0.0)
    names = ["x", "h", "o"]
    pops = [SpikeSource("x", [[] for _ in range(SIZES[0])])] + [
        Population(n, s, cell) for n, s in zip(names[1:], SIZES[1:])
    ]
    projections = []
    for pre, post, n_pre, n_post in zip(names, names[1:], SIZES, SIZES[1:]):
        w = dyadic(rng, (n_pre, n_post))
        for receptor, part in (("excitatory", np.clip(w, 0, None)), ("inhibitory", np.clip(-w, 0, None))):
            i, j = np.nonzero(part)
            rows = np.column_stack([i, j, part[i, j], np.full(len(i), DT_MS)])
            projections.append(
                Projection(f"{pre}_{post}_{receptor}", pre, post, FromList(rows), Static(0.0, DT_MS), receptor)
            )
    return Network(pops, projections, [Probe("h"), Probe("o")], dt=DT_MS, name="chain")


def run_spikemem(net: Network, x: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    module = lower(net, STEPS * DT_MS)
    with torch.no_grad():
        rec = module({module.sources[0]: torch.as_tensor(x, dtype=torch.float64)[:, None, :]})
    return {name: rec.spikes[name][:, 0].numpy().astype(bool) for name in names}


def run_norse_graph(model, x: np.ndarray, layers: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Norse's GraphExecutor step by step; each layer's spikes read from its cache."""
    state, out = None, {name: [] for name in layers}
    with torch.no_grad():
        for k in range(STEPS):
            _, state = model(torch.as_tensor(x[k : k + 1], dtype=torch.float32), state)
            for name in layers:
                out[name].append(state.cache[name][0].numpy() > 0)
    return {name: np.array(v) for name, v in out.items()}


def assert_shifted(ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray], order: tuple[str, ...]) -> None:
    """Layer l of ours spikes l steps after theirs."""
    for level, name in enumerate(order, start=1):
        assert theirs[name][: STEPS - level].sum() > 10, name  # enough spikes to compare
        np.testing.assert_array_equal(ours[name][level:], theirs[name][: STEPS - level], err_msg=name)


def test_a_chain_written_for_norse_runs_in_norse_from_nir_with_the_same_spikes():
    net = spikemem_chain()
    x = raster()
    graph = to_norse_graph(net)
    model = norse_torch.from_nir(graph, dt=DT_S, ignore_warnings=True)
    assert_shifted(run_spikemem(net, x, ("h", "o")), run_norse_graph(model, x, ("h", "o")), ("h", "o"))


def norse_model() -> torch.nn.Module:
    rng = np.random.default_rng(21)
    layers = []
    for n_in, n_out in zip(SIZES, SIZES[1:]):
        linear = torch.nn.Linear(n_in, n_out, bias=False)
        linear.weight.data = torch.as_tensor(4 * dyadic(rng, (n_out, n_in)), dtype=torch.float32)  # Norse scales by a
        p = norse_torch.LIFBoxParameters(
            tau_mem_inv=torch.tensor(128.0), v_th=torch.tensor(THETA), v_leak=torch.tensor(0.0)
        )
        layers += [linear, norse_torch.LIFBoxCell(p, dt=DT_S)]
    return norse_torch.SequentialState(*layers)


def run_norse_model(model, x: np.ndarray) -> dict[str, np.ndarray]:
    """The Sequential model step by step; the spikes of each LIF layer (named as to_nir names them)."""
    out: dict[str, list[np.ndarray]] = {"1": [], "3": []}
    state = None
    with torch.no_grad():
        for k in range(STEPS):
            h = torch.as_tensor(x[k : k + 1], dtype=torch.float32)
            new_state = []
            for index, layer in enumerate(model):
                if isinstance(layer, norse_torch.LIFBoxCell):
                    h, s = layer(h, None if state is None else state[index])
                    out[str(index)].append(h[0].numpy() > 0)
                    new_state.append(s)
                else:
                    h = layer(h)
                    new_state.append(None)
            state = new_state
    return {name: np.array(v) for name, v in out.items()}


def test_a_graph_norse_writes_reads_back_with_norses_spikes():
    model = norse_model()
    x = raster()
    graph = norse_torch.to_nir(model, torch.zeros(1, SIZES[0]), dt=DT_S)
    theirs = run_norse_model(model, x)
    net = from_norse_graph(graph, DT_MS)
    assert [p.name for p in net.populations] == ["input", "layer_1", "layer_3"]
    assert isinstance(net.population("layer_1").cell, IF_curr_delta)
    ours = run_spikemem(net, x, ("layer_1", "layer_3"))
    assert_shifted({"1": ours["layer_1"], "3": ours["layer_3"]}, theirs, ("1", "3"))


def test_the_time_constant_error_is_what_makes_the_difference():
    """Taken as it is written (tau = dt / tau_mem_inv, read as the time constant), the graph
    Norse wrote would decay at a * dt: the reader's correction is what restores the spikes."""
    model = norse_model()
    graph = norse_torch.to_nir(model, torch.zeros(1, SIZES[0]), dt=DT_S)
    tau = float(np.asarray(graph.nodes["1"].tau).reshape(-1)[0])
    assert tau == pytest.approx(DT_S / 128.0)  # Norse 1.1.0's exported value: dt / tau_mem_inv
    with pytest.raises(Exception, match="tau"):
        from_norse_graph(graph, DT_MS, tau_scaled_by_dt=False)  # a = dt / tau = 128: no such decay


def test_what_norse_cannot_run_is_refused():
    net = spikemem_chain()
    recurrent = net.replace(
        projections=net.projections + (Projection("o_o", "o", "o", FromList([[0, 1, 0.5, DT_MS]]), Static(0.0, DT_MS)),)
    )
    with pytest.raises(UnsupportedFeature, match="chain"):
        to_norse_graph(recurrent)
    refractory = net.replace(
        populations=net.populations[:2]
        + (Population("o", 6, IF_curr_delta(tau_refrac=1.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0)),)
    )
    with pytest.raises(UnsupportedFeature, match="refractory"):
        to_norse_graph(refractory)
