"""System test: a network using every feature of the description, run through spikemem
and written by hand directly in Brian2, must give identical spike trains.

The hand-written model below is built only from the documented semantics (docstrings of
``spikemem.cells``, ``spikemem.sources``, ``spikemem.synapses`` and of
``spikemem.hardware.brian2.lowering``); it does not use spikemem's lowering. It only
borrows the resolved inputs (``Network.connections`` and ``Network.source_times``) so
that both sides see the same random connectivity and Poisson spikes. It is written
differently on purpose: plasticity uses explicit last-event times instead of Brian2's
event-driven traces; the exact current-based cell is the closed-form solution over one
step written out here, the conductance-based one is held refractory by a boolean
condition on the steps since its last spike, the SpiNNaker update counts refractory
steps; every delay is set per synapse, every pathway order explicitly. The delta-synapse
cell (``IF_curr_delta``) is Brian2's own exact integration of its ODE, held refractory by
Brian2 (which also drops synaptic writes to ``v`` then), and its synapses add to ``v``
directly in a pathway that runs between the cells' update and their threshold
(``before_thresholds``) instead of through an input variable.

Both sides run on the numpy target; spike trains must be equal (times and indices), the
recorded weights and membrane potentials equal to rounding.
"""

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
    simulate,
)
from spikemem.synapses import Gate

b2 = pytest.importorskip("brian2")

DURATION_MS = {"exact": 120.0, "spinnaker": 250.0}  # exact runs at dt = 0.1 ms, spinnaker at 1 ms
SEED = 3
STDP_PROJECTIONS = ("exc_cond", "stim_cond")


# --- the network, through spikemem ---------------------------------------------------


def every_feature_network(integration: str, timing: str) -> Network:
    """Both cell types, both source types, every connector, both receptors, static and
    both STDP weight dependences, probes of spikes, v and weights, initial potentials."""
    dt = 0.1 if integration == "exact" else 1.0
    # Regular trains on the 1 ms grid, at least 6 ms apart (deferred STDP from this
    # source needs no second spike within its longest delivery delay).
    stim = SpikeSource("stim", [np.arange(5.0 + 3 * k, 250.0, 6.0 + k) for k in range(6)])
    noise = Population("noise", 30, Poisson(rate_hz=50.0))
    bg = Population("bg", 12, Poisson(rate_hz=80.0, start_ms=20.0, stop_ms=200.0, seed=99))
    exc_cell = IF_curr_exp(tau_refrac=2.0, tau_syn_E=5.0, tau_syn_I=8.0, i_offset=0.2, integration=integration)
    inh_cell = IF_curr_exp(
        cm=0.5, tau_m=10.0, tau_refrac=1.0, v_rest=-60.0, v_reset=-68.0, v_thresh=-52.0, integration=integration
    )
    cond_cell = IF_cond_exp(tau_refrac=2.0, v_init=-62.0, tau_syn_E=3.0, tau_syn_I=6.0, integration=integration)
    rng = np.random.default_rng(0)
    exc = Population("exc", 24, exc_cell, initial_v=rng.uniform(-65.0, -55.0, 24))
    inh = Population("inh", 24, inh_cell)
    cond = Population("cond", 8, cond_cell)
    stim_exc = np.array([[k, (5 * k) % 24, 1.5 + 0.25 * k, 1.0 + (k % 4)] for k in range(6)] * 2, dtype=float)
    stim_exc[6:, 1] = (stim_exc[6:, 1] + 7) % 24
    stim_cond = np.array([[k % 6, k % 8, 0.02 + 0.004 * k, 1.0 + (k % 3)] for k in range(12)], dtype=float)
    cond_exc = np.array([[k, 3 * k] for k in range(8)], dtype=float)
    additive = STDP(
        weight=0.02, delay=1.0, tau_plus=15.0, tau_minus=20.0, A_plus=0.05, A_minus=0.045, w_min=0.0, w_max=0.06,
        weight_dependence="additive", timing=timing,
    )  # fmt: skip
    multiplicative = STDP(
        weight=0.03, delay=1.0, tau_plus=10.0, tau_minus=12.0, A_plus=0.3, A_minus=0.35, w_min=0.005, w_max=0.08,
        weight_dependence="multiplicative", timing=timing,
    )  # fmt: skip
    projections = [
        Projection("noise_exc", noise, exc, FixedProbability(0.2), Static(1.2, 1.0)),
        Projection("bg_inh", bg, inh, FixedProbability(0.3, seed=5), Static(0.9, 2.0)),
        Projection("stim_exc", stim, exc, FromList(stim_exc), Static(0.0, 1.0)),
        Projection("exc_exc", exc, exc, AllToAll(allow_self_connections=False), Static(0.05, 2.0)),
        Projection("exc_inh", exc, inh, OneToOne(), Static(1.0, 1.0)),
        Projection("inh_inh", inh, inh, AllToAll(allow_self_connections=True), Static(0.05, 1.0), "inhibitory"),
        Projection("inh_exc", inh, exc, FixedProbability(0.25, seed=8), Static(0.4, 1.0), "inhibitory"),
        Projection("exc_cond", exc, cond, AllToAll(), additive),
        Projection("stim_cond", stim, cond, FromList(stim_cond), multiplicative),
        Projection("inh_cond", inh, cond, FixedProbability(0.5), Static(0.01, 2.0), "inhibitory"),
        Projection("cond_exc", cond, exc, FromList(cond_exc), Static(0.8, 3.0), "inhibitory"),
    ]
    probes = [Probe(p) for p in ("stim", "noise", "bg", "exc", "inh", "cond")]
    probes += [Probe("exc", "v", every_ms=1.0), Probe("cond", "v")]
    probes += [Probe("exc_cond", "weight", every_ms=1.0), Probe("stim_cond", "weight")]
    return Network(
        [stim, noise, bg, exc, inh, cond], projections, probes, dt=dt, name=f"every_feature_{integration}_{timing}"
    )


# --- the same network, written by hand in Brian2 -----------------------------------------

# IF_curr_exp, exact: the closed-form solution over one step of the linear equations
# (membrane held while refractory, currents always decay). Needs tau_syn != tau_m.
CURR_EXACT_STEP = """
v_free = E_L + (v - E_L)*k_mem + I_bias*R_mem*(1 - k_mem) + R_exc*I_exc*(k_exc - k_mem) - R_inh*I_inh*(k_inh - k_mem)
v = v_free*int(steps_left == 0) + v*int(steps_left > 0)
steps_left = steps_left - int(steps_left > 0)
I_exc = I_exc*k_exc
I_inh = I_inh*k_inh
"""
# IF_cond_exp, exact: Brian2 integrates the equations (exponential Euler).
COND_EXACT = """
dv/dt = (E_L - v)/tau_membrane + (G_exc*(E_exc - v) + G_inh*(E_inh - v) + I_bias)/C_mem : volt (unless refractory)
dG_exc/dt = -G_exc/tau_exc : siemens
dG_inh/dt = -G_inh/tau_inh : siemens
"""
# The SpiNNaker step: currents held over the step, membrane relaxes towards v_inf,
# a counter of refractory steps, then the synaptic variables decay.
STEP_TEMPLATE = """
v_inf = E_L + ({current})*tau_membrane/C_mem
v_free = v_inf - k_mem*(v_inf - v)
v = v_free*int(steps_left == 0) + V_reset*int(steps_left > 0)
steps_left = steps_left - int(steps_left > 0)
{exc} = {exc}*k_exc
{inh} = {inh}*k_inh
"""


# IF_curr_delta: Brian2 integrates the leak exactly; input jumps come from the synapses.
DELTA_EXACT = """
dv/dt = (E_L - v)/tau_membrane + I_bias/C_mem : volt (unless refractory)
"""


def hand_delta_cells(pop: Population, dt: float):
    """Held ceil(tau_refrac/dt) steps after the spike step; Brian2 drops synaptic writes to
    a variable marked (unless refractory) while the cell is refractory: the input is lost."""
    cell = pop.cell
    ns = {
        "E_L": cell.v_rest * b2.mV,
        "V_reset": cell.v_reset * b2.mV,
        "V_th": cell.v_thresh * b2.mV,
        "tau_membrane": cell.tau_m * b2.ms,
        "C_mem": cell.cm * b2.nF,
        "I_bias": cell.i_offset * b2.nA,
        "n_ref": math.ceil(round(cell.tau_refrac / dt, 9)),
    }
    group = b2.NeuronGroup(
        pop.size,
        DELTA_EXACT,
        threshold="v >= V_th",
        reset="v = V_reset",
        refractory="timestep(t - lastspike, dt) <= n_ref",
        method="exact",
        namespace=ns,
        name=f"hand_{pop.name}",
    )
    group.v = (pop.initial_v if pop.initial_v is not None else cell.initial_v) * b2.mV
    return group


def hand_cells(pop: Population, dt: float):
    cell = pop.cell
    if isinstance(cell, IF_curr_delta):
        return hand_delta_cells(pop, dt)
    cond = isinstance(cell, IF_cond_exp)
    ns = {
        "E_L": cell.v_rest * b2.mV,
        "V_reset": cell.v_reset * b2.mV,
        "V_th": cell.v_thresh * b2.mV,
        "tau_membrane": cell.tau_m * b2.ms,
        "C_mem": cell.cm * b2.nF,
        "tau_exc": cell.tau_syn_E * b2.ms,
        "tau_inh": cell.tau_syn_I * b2.ms,
        "I_bias": cell.i_offset * b2.nA,
        "E_exc": getattr(cell, "e_rev_E", 0.0) * b2.mV,
        "E_inh": getattr(cell, "e_rev_I", 0.0) * b2.mV,
        "n_ref": int(round(cell.tau_refrac / dt)),
    }
    ns.update(
        k_mem=math.exp(-dt / cell.tau_m), k_exc=math.exp(-dt / cell.tau_syn_E), k_inh=math.exp(-dt / cell.tau_syn_I)
    )
    if cell.integration == "exact" and cond:
        group = b2.NeuronGroup(
            pop.size,
            COND_EXACT,
            threshold="v >= V_th",
            reset="v = V_reset",
            # held for round(tau_refrac/dt) steps after the step of the spike
            refractory="timestep(t - lastspike, dt) <= n_ref",
            method="exponential_euler",
            namespace=ns,
            name=f"hand_{pop.name}",
        )
    else:
        if cond:
            model = "v : volt\nG_exc : siemens\nG_inh : siemens\nsteps_left : integer"
            current = "G_exc*(E_exc - v) + G_inh*(E_inh - v) + I_bias"
            step = STEP_TEMPLATE.format(current=current, exc="G_exc", inh="G_inh")
        else:
            model = "v : volt\nI_exc : amp\nI_inh : amp\nsteps_left : integer"
            step = STEP_TEMPLATE.format(current="I_exc - I_inh + I_bias", exc="I_exc", inh="I_inh")
        if cell.integration == "exact":
            tau_m = cell.tau_m * b2.ms
            ns.update(
                R_mem=tau_m / ns["C_mem"],
                R_exc=tau_m * ns["tau_exc"] / (ns["C_mem"] * (ns["tau_exc"] - tau_m)),
                R_inh=tau_m * ns["tau_inh"] / (ns["C_mem"] * (ns["tau_inh"] - tau_m)),
            )
            step = CURR_EXACT_STEP
        group = b2.NeuronGroup(
            pop.size,
            model,
            threshold="v >= V_th",
            reset="v = V_reset\nsteps_left = n_ref",
            namespace=ns,
            name=f"hand_{pop.name}",
        )
        group.run_regularly(step, when="groups", name=f"hand_{pop.name}_step")
    group.v = (pop.initial_v if pop.initial_v is not None else cell.initial_v) * b2.mV
    return group


def hand_source(network: Network, pop: Population, duration_ms: float):
    """A spike at t ms is emitted in step round(t/dt); one spike per neuron and step."""
    dt = network.dt
    idx, times = [], []
    for k, train in enumerate(network.source_times(pop, duration_ms, SEED)):
        steps = sorted({int(round(t / dt)) for t in train})
        idx += [k] * len(steps)
        times += [s * dt for s in steps]
    return b2.SpikeGeneratorGroup(pop.size, np.array(idx, dtype=int), np.array(times) * b2.ms, name=f"hand_{pop.name}")


def hand_delivery(network: Network, proj: Projection) -> tuple[str, float, float, str]:
    """What a spike does at the post cell: the on_pre statement, the shift (ms) of the time
    at which its input is applied past the pathway's run, the Brian2 delay's shortening
    (ms) and the pathway's scheduling slot."""
    dt = network.dt
    post = network.population(proj.post).cell
    if isinstance(post, IF_curr_delta):
        # v jumps in the step of arrival, between the leak and the threshold: the pathway
        # runs before the thresholds, where it sees a spike one step after it was emitted
        sign = "+" if proj.receptor == "excitatory" else "-"
        return f"v_post {sign}= w*mV", 0.0, dt, "before_thresholds"
    cond = isinstance(post, IF_cond_exp)
    target = ("G_exc" if cond else "I_exc") if proj.receptor == "excitatory" else ("G_inh" if cond else "I_inh")
    unit = "uS" if cond else "nA"
    spinnaker = post.integration == "spinnaker"
    tau_syn = post.tau_syn_E if proj.receptor == "excitatory" else post.tau_syn_I
    scale = tau_syn * (1.0 - math.exp(-dt / tau_syn)) if spinnaker else 1.0
    # an input that must be applied in step t+d is added in the synapse slot of step
    # t+d-1 on a spinnaker cell (after that step's update), in step t+d on an exact cell
    shift_ms = dt if spinnaker else 0.0
    return f"{target}_post += {scale!r}*w*{unit}", shift_ms, shift_ms, "synapses"


def hand_projection(network: Network, proj: Projection, groups: dict):
    post = network.population(proj.post).cell
    spinnaker = post.integration == "spinnaker"
    deliver, shift_ms, shorter_ms, slot = hand_delivery(network, proj)
    conns = network.connections(proj, SEED)
    src, tgt = groups[proj.pre], groups[proj.post]
    syn_type = proj.synapse
    name = f"hand_{proj.name}"
    if isinstance(syn_type, Static):
        syn = b2.Synapses(src, tgt, "w : 1", on_pre=deliver, name=name)
        syn.connect(i=conns.i, j=conns.j)
        syn.delay = (conns.delay - shorter_ms) * b2.ms
        syn.pre.when = slot
        syn.w = conns.weight
        return syn
    ns = {
        "tau_plus": syn_type.tau_plus * b2.ms,
        "tau_minus": syn_type.tau_minus * b2.ms,
        "w_lo": syn_type.w_min,
        "w_hi": syn_type.w_max,
        "A_p": syn_type.A_plus,
        "A_m": syn_type.A_minus,
        "shift": shift_ms * b2.ms,
    }

    def potentiate(var: str, x: str) -> str:
        amount = "A_p*w_hi" if syn_type.weight_dependence == "additive" else f"A_p*(w_hi - {var})"
        return f"{var} = clip({var} + {amount}*{x}, w_lo, w_hi)"

    def depress(var: str, y: str) -> str:
        amount = "A_m*w_hi" if syn_type.weight_dependence == "additive" else f"A_m*({var} - w_lo)"
        return f"{var} = clip({var} - {amount}*{y}, w_lo, w_hi)"

    x_at_t = "x_tr*exp(-(t - t_x)/tau_plus)"
    if syn_type.timing == "online":
        # the pre spike counts when its input is applied (t_count), post spikes at once;
        # a post spike in the step of the arrival counts as following it
        model = "w : 1\nx_tr : 1\nt_x : second\ny_tr : 1\nt_y : second"
        on_pre = "\n".join(
            [
                "t_count = t + shift",
                depress("w", "y_tr*exp(-(t_count - t_y)/tau_minus)"),
                "x_tr = x_tr*exp(-(t_count - t_x)/tau_plus) + 1",
                "t_x = t_count",
                deliver,
            ]
        )
        on_post = "\n".join([potentiate("w", x_at_t), "y_tr = y_tr*exp(-(t - t_y)/tau_minus) + 1", "t_y = t"])
        syn = b2.Synapses(src, tgt, model, on_pre=on_pre, on_post=on_post, namespace=ns, name=name)
        syn.connect(i=conns.i, j=conns.j)
        syn.pre.delay = (conns.delay - shorter_ms) * b2.ms
        syn.pre.when = slot
        if spinnaker:
            syn.post.order = -2  # a post spike of this step precedes a pre spike counted at t + dt
    else:
        # deferred (sPyNNaker): a post spike counts `delay` after it happened; the weight
        # is updated at the pre spike (w_next collects potentiation until then), with the
        # raw post time if no post spike counted since the previous pre spike
        model = "w : 1\nw_next : 1\nx_tr : 1\nt_x : second\ny_del : 1\nt_del : second\ncounted : boolean\nraw : 1"
        on_post = "\n".join(
            [
                potentiate("w_next", x_at_t),
                "y_del = y_del*exp(-(t - t_del)/tau_minus) + 1",
                "t_del = t",
                "counted = True",
            ]
        )
        update = "\n".join(
            [
                "y_now = y_del*exp(-(t - t_del)/tau_minus)*(int(counted) + int(not counted)*raw)",
                depress("w_next", "y_now"),
                "w = w_next",
                "counted = False",
                "x_tr = x_tr*exp(-(t - t_x)/tau_plus) + 1",
                "t_x = t",
            ]
        )
        syn = b2.Synapses(
            src, tgt, model, on_pre={"update": update, "deliver": deliver}, on_post=on_post, namespace=ns, name=name
        )
        syn.connect(i=conns.i, j=conns.j)
        syn.update.delay = 0 * b2.ms
        syn.deliver.delay = (conns.delay - shorter_ms) * b2.ms
        syn.deliver.when = slot
        syn.post.delay = conns.delay * b2.ms
        syn.post.order = -3
        syn.update.order = -2
        syn.deliver.order = -1
        syn.raw = np.exp(-conns.delay / syn_type.tau_minus)
        syn.w_next = conns.weight
    syn.w = conns.weight
    for var in ("t_x", "t_y", "t_del"):  # long before the run: no trace yet
        if var in syn.variables:
            setattr(syn, var, -1 * b2.second)
    return syn


def hand_run(network: Network, duration_ms: float) -> dict:
    """Run the hand-written model: spikes per population, v and weight traces (synapse index by (i, j))."""
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = network.dt * b2.ms
    groups, objects = {}, []
    for pop in network.populations:
        groups[pop.name] = hand_source(network, pop, duration_ms) if pop.is_source else hand_cells(pop, network.dt)
        objects.append(groups[pop.name])
    syns = {proj.name: hand_projection(network, proj, groups) for proj in network.projections}
    objects += syns.values()
    spike_mons, v_mon, w_mon = {}, {}, {}
    for probe in network.probes:
        every = (probe.every_ms or network.dt) * b2.ms
        if probe.variable == "spikes":
            spike_mons[probe.target] = b2.SpikeMonitor(groups[probe.target], name=f"hand_spikes_{probe.target}")
        elif probe.variable == "v":
            v_mon[probe.target] = b2.StateMonitor(
                groups[probe.target], "v", record=True, dt=every, name=f"hand_v_{probe.target}"
            )
        else:
            # a sample at t holds the updates counted before t, and the pre spikes counted at t
            # where they are applied before the cells' threshold (delta cells: the lowering counts
            # them in the step before, as on spinnaker cells), not the post spikes of step t
            post = network.population(network.projection(probe.target).post).cell
            slot = {"when": "before_thresholds", "order": 1} if isinstance(post, IF_curr_delta) else {}
            w_mon[probe.target] = b2.StateMonitor(
                syns[probe.target], "w", record=True, dt=every, name=f"hand_w_{probe.target}", **slot
            )
    objects += list(spike_mons.values()) + list(v_mon.values()) + list(w_mon.values())
    b2.Network(*objects).run(duration_ms * b2.ms)
    out = {"spikes": {}, "weights": {}, "w": {}, "v": {}}
    for name, mon in spike_mons.items():
        t, i = np.asarray(mon.t / b2.ms), np.asarray(mon.i, dtype=np.int64)
        order = np.lexsort((i, t))
        out["spikes"][name] = (t[order], i[order])
    for name, mon in w_mon.items():
        syn = syns[name]
        out["weights"][name] = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(syn.i[:], syn.j[:]))}
        out["w"][name] = np.asarray(mon.w).T
    for name, mon in v_mon.items():
        out["v"][name] = np.asarray(mon.v / b2.mV).T
    return out


# --- the comparison ------------------------------------------------------------------------


@pytest.mark.parametrize("timing", ["online", "deferred"])
@pytest.mark.parametrize("integration", ["exact", "spinnaker"])
def test_spikemem_matches_hand_written_brian2(integration: str, timing: str) -> None:
    network = every_feature_network(integration, timing)
    duration = DURATION_MS[integration]
    results = simulate(network, duration, target="brian2:numpy", seed=SEED)
    hand = hand_run(network, duration)

    # identical spike trains, every population, sources included
    for pop in network.populations:
        got = results.spikes[pop.name]
        want_t, want_i = hand["spikes"][pop.name]
        assert got.size == pop.size
        np.testing.assert_array_equal(got.indices, want_i, err_msg=f"{pop.name}: neuron indices differ")
        np.testing.assert_array_equal(got.times, want_t, err_msg=f"{pop.name}: spike times differ")

    # the run is not trivial: every population fires at a fair rate (Hz)
    rate = {p.name: len(results.spikes[p.name]) / p.size / (duration / 1000.0) for p in network.populations}
    assert rate["exc"] > 20 and rate["inh"] > 10 and rate["cond"] > 10, rate
    assert rate["noise"] > 35 and rate["bg"] > 40, rate
    stim_times = network.population("stim").cell.spike_times
    assert len(results.spikes["stim"]) == sum(t < duration for train in stim_times for t in train)

    # plasticity matters: weights moved both ways, and they agree with the hand-written rule
    rose = fell = 0
    for name in STDP_PROJECTIONS:
        syn = network.projection(name).synapse
        trace = results.weights[name]
        i, j = results.synapses[name]
        final = trace.values[-1]
        initial = network.connections(network.projection(name), SEED).weight
        assert np.max(np.abs(final - initial)) > 0.2 * (syn.w_max - syn.w_min), name
        rose += np.count_nonzero(final > initial + 1e-6)
        fell += np.count_nonzero(final < initial - 1e-6)
        assert np.all((trace.values >= syn.w_min) & (trace.values <= syn.w_max))
        columns = [hand["weights"][name][(int(a), int(b))] for a, b in zip(i, j)]
        want = hand["w"][name][:, columns]
        assert trace.values.shape == want.shape
        np.testing.assert_allclose(trace.values, want, rtol=1e-9, atol=1e-12, err_msg=name)
    assert rose >= 3 and fell >= 3, (rose, fell)

    # membrane traces agree as well
    for name in ("exc", "cond"):
        got = results.traces[f"{name}.v"].values
        assert got.shape == hand["v"][name].shape
        np.testing.assert_allclose(got, hand["v"][name], rtol=0, atol=1e-9, err_msg=name)


# --- STDP timing against closed-form values -------------------------------------------------


def _pairing_network(integration: str, timing: str, pre_times: list, drive_times: list, stdp: STDP) -> Network:
    """One pre source onto one cell through ``stdp``; a strong driver makes the cell fire."""
    cell = IF_curr_exp(
        cm=0.27, tau_m=3.0, tau_syn_E=0.3, tau_syn_I=0.3, v_rest=-60.0, v_reset=-60.0, v_thresh=-57.0,
        tau_refrac=1.0, integration=integration,
    )  # fmt: skip
    pops = [SpikeSource("pre", [pre_times]), SpikeSource("drive", [drive_times]), Population("post", 1, cell)]
    projections = [
        Projection("driving", "drive", "post", OneToOne(), Static(60.0, 1.0)),
        Projection("plastic", "pre", "post", OneToOne(), stdp),
    ]
    probes = [Probe("post"), Probe("plastic", "weight")]
    return Network(pops, projections, probes, dt=1.0)


@pytest.mark.parametrize("integration", ["exact", "spinnaker"])
@pytest.mark.parametrize("drive_ms", [7.0, 9.0, 10.0, 13.0])
def test_online_stdp_counts_the_pre_spike_on_arrival(integration: str, drive_ms: float) -> None:
    """Pre spike at 10 ms with a 2 ms delay arrives at 12 ms; the weight change follows the
    pair rule for the lag between the (measured) post spike and 12 ms."""
    stdp = STDP(weight=0.5, delay=2.0, tau_plus=4.0, tau_minus=5.0, A_plus=0.1, A_minus=0.12, w_max=1.0)
    net = _pairing_network(integration, "online", [10.0], [drive_ms], stdp)
    res = simulate(net, 30.0, target="brian2:numpy")
    post = res.spikes["post"].times
    assert len(post) == 1
    lag = post[0] - 12.0
    if lag >= 0:  # pre before (or with) post: potentiation
        want = 0.5 + 0.1 * 1.0 * math.exp(-lag / 4.0)
    else:
        want = 0.5 - 0.12 * 1.0 * math.exp(lag / 5.0)
    assert res.weights["plastic"].values[-1, 0] == pytest.approx(want, rel=1e-12)


def test_deferred_stdp_reproduces_the_worked_example_of_the_spec() -> None:
    """spec/ca3.md §7.1 worked example: pre and post both at t0+1 and t0+3 leave w = 0;
    a later pre spike at t0+8 sets w = 6 - 6(1 + e^{-2/3}) e^{-4/3} = 3.61."""
    t0 = 20.0
    stdp = STDP(weight=0.0, delay=1.0, tau_plus=3.0, tau_minus=3.0, A_plus=1.0, A_minus=1.0, w_max=6.0,
                timing="deferred")  # fmt: skip
    net = _pairing_network("spinnaker", "deferred", [t0 + 1, t0 + 3, t0 + 8], [t0, t0 + 2], stdp)
    res = simulate(net, 40.0, target="brian2:numpy")
    np.testing.assert_array_equal(res.spikes["post"].times[:2], [t0 + 1, t0 + 3])
    w = res.weights["plastic"]
    after = {t: w.values[np.searchsorted(w.times, t + 1.0), 0] for t in (t0 + 3, t0 + 8)}
    assert after[t0 + 3] == pytest.approx(0.0, abs=1e-12)
    want = 6.0 - 6.0 * (1.0 + math.exp(-2.0 / 3.0)) * math.exp(-4.0 / 3.0)
    assert want == pytest.approx(3.61, abs=0.005)
    assert after[t0 + 8] == pytest.approx(want, rel=1e-12)


# --- delta-synapse cells ------------------------------------------------------------------------

DELTA_MS = 120.0
DELTA_STDP = ("exc_out", "stim_out")


def delta_network(timing: str) -> Network:
    """IF_curr_delta cells only: both source types, every connector, both receptors, delays
    of 1 to 30 steps, refractory periods of 5, 2 (0.12 ms, rounded up) and 0 steps, an
    offset current, STDP of both weight dependences onto delta cells, probes of spikes, v
    and weights, initial potentials."""
    stim = SpikeSource("stim", [np.arange(5.0 + 3 * k, DELTA_MS, 6.0 + k) for k in range(6)])
    noise = Population("noise", 30, Poisson(rate_hz=60.0))
    bg = Population("bg", 12, Poisson(rate_hz=80.0, start_ms=20.0, stop_ms=100.0, seed=99))
    exc_cell = IF_curr_delta(tau_m=20.0, tau_refrac=0.5, i_offset=0.2)
    inh_cell = IF_curr_delta(cm=0.5, tau_m=10.0, tau_refrac=0.12, v_rest=-60.0, v_reset=-68.0, v_thresh=-52.0)
    out_cell = IF_curr_delta(tau_m=15.0, tau_refrac=0.0, v_reset=-67.0, v_init=-62.0)
    rng = np.random.default_rng(1)
    exc = Population("exc", 24, exc_cell, initial_v=rng.uniform(-65.0, -55.0, 24))
    inh = Population("inh", 24, inh_cell)
    out = Population("out", 8, out_cell)
    stim_exc = np.array([[k, (5 * k) % 24, 6.0 + 0.5 * k, 0.1 * (1 + k)] for k in range(6)] * 2, dtype=float)
    stim_exc[6:, 1] = (stim_exc[6:, 1] + 7) % 24
    stim_out = np.array([[k % 6, k % 8, 2.0 + 0.2 * k, 1.0 + (k % 3)] for k in range(12)], dtype=float)
    out_exc = np.array([[k, 3 * k, 4.0, 3.0] for k in range(8)], dtype=float)
    additive = STDP(
        weight=1.0, delay=0.5, tau_plus=15.0, tau_minus=20.0, A_plus=0.05, A_minus=0.045, w_min=0.0, w_max=3.0,
        weight_dependence="additive", timing=timing,
    )  # fmt: skip
    multiplicative = STDP(
        weight=2.0, delay=1.0, tau_plus=10.0, tau_minus=12.0, A_plus=0.3, A_minus=0.35, w_min=0.5, w_max=6.0,
        weight_dependence="multiplicative", timing=timing,
    )  # fmt: skip
    projections = [
        Projection("noise_exc", noise, exc, FixedProbability(0.2), Static(2.5, 1.0)),
        Projection("bg_inh", bg, inh, FixedProbability(0.3, seed=5), Static(3.0, 2.0)),
        Projection("stim_exc", stim, exc, FromList(stim_exc), Static(0.0, 1.0)),
        Projection("exc_exc", exc, exc, AllToAll(allow_self_connections=False), Static(0.4, 3.0)),
        Projection("exc_inh", exc, inh, OneToOne(), Static(5.0, 0.1)),
        Projection("inh_inh", inh, inh, AllToAll(allow_self_connections=True), Static(0.5, 1.0), "inhibitory"),
        Projection("inh_exc", inh, exc, FixedProbability(0.25, seed=8), Static(2.0, 0.3), "inhibitory"),
        Projection("exc_out", exc, out, AllToAll(), additive),
        Projection("stim_out", stim, out, FromList(stim_out), multiplicative),
        Projection("inh_out", inh, out, FixedProbability(0.5), Static(1.0, 2.0), "inhibitory"),
        Projection("out_exc", out, exc, FromList(out_exc), Static(0.0, 1.0), "inhibitory"),
    ]
    probes = [Probe(p) for p in ("stim", "noise", "bg", "exc", "inh", "out")]
    probes += [Probe("exc", "v", every_ms=1.0), Probe("out", "v")]
    probes += [Probe("exc_out", "weight", every_ms=1.0), Probe("stim_out", "weight")]
    return Network([stim, noise, bg, exc, inh, out], projections, probes, dt=0.1, name=f"delta_{timing}")


@pytest.mark.parametrize("timing", ["online", "deferred"])
def test_delta_cells_match_hand_written_brian2(timing: str) -> None:
    network = delta_network(timing)
    results = simulate(network, DELTA_MS, target="brian2:numpy", seed=SEED)
    hand = hand_run(network, DELTA_MS)

    for pop in network.populations:
        got = results.spikes[pop.name]
        want_t, want_i = hand["spikes"][pop.name]
        np.testing.assert_array_equal(got.indices, want_i, err_msg=f"{pop.name}: neuron indices differ")
        np.testing.assert_array_equal(got.times, want_t, err_msg=f"{pop.name}: spike times differ")
    rate = {p.name: len(results.spikes[p.name]) / p.size / (DELTA_MS / 1000.0) for p in network.populations}
    assert rate["exc"] > 20 and rate["inh"] > 20 and rate["out"] > 20, rate

    rose = fell = 0
    for name in DELTA_STDP:
        syn = network.projection(name).synapse
        trace = results.weights[name]
        assert trace.unit == "mV"
        i, j = results.synapses[name]
        final, initial = trace.values[-1], network.connections(network.projection(name), SEED).weight
        assert np.max(np.abs(final - initial)) > 0.2 * (syn.w_max - syn.w_min), name
        rose += np.count_nonzero(final > initial + 1e-6)
        fell += np.count_nonzero(final < initial - 1e-6)
        columns = [hand["weights"][name][(int(a), int(b))] for a, b in zip(i, j)]
        np.testing.assert_allclose(trace.values, hand["w"][name][:, columns], rtol=1e-9, atol=1e-12, err_msg=name)
    assert rose >= 3 and fell >= 3, (rose, fell)

    for name in ("exc", "out"):
        got = results.traces[f"{name}.v"].values
        assert got.shape == hand["v"][name].shape
        np.testing.assert_allclose(got, hand["v"][name], rtol=0, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("window_ms", [1.2, 1.1])
def test_gated_stdp_onto_delta_cells_reads_the_gates_at_the_arrival(window_ms: float) -> None:
    """A relay spike at 5.1 ms reaches the plastic synapse at 6.1 ms, after the post spike at
    5.6 ms: depression by A_minus w_max e^{-0.5/tau_minus}, if both gates are open at 6.1 ms.
    They open at 5.0 ms for ``window_ms``: until 6.2 ms (depressed) or 6.1 ms (unchanged),
    although the lowering runs the pre event in the step before the arrival."""
    cell = IF_curr_delta(tau_m=10.0, tau_refrac=0.0)
    stdp = STDP(weight=0.5, delay=1.0, tau_plus=4.0, tau_minus=5.0, A_plus=0.1, A_minus=0.12, w_max=1.0, gated=True)
    pops = [
        SpikeSource("s", [[5.0]]),
        SpikeSource("drive", [[5.5]]),
        SpikeSource("g", [[4.9]]),
        Population("relay", 1, cell),
        Population("post", 1, cell),
    ]
    projections = [
        Projection("fire", "s", "relay", OneToOne(), Static(16.0, 0.1)),
        Projection("kick", "drive", "post", OneToOne(), Static(16.0, 0.1)),
        Projection("gate_relay", "g", "relay", OneToOne(), Gate(delay=0.1, window_ms=window_ms), "modulatory"),
        Projection("gate_post", "g", "post", OneToOne(), Gate(delay=0.1, window_ms=window_ms), "modulatory"),
        Projection("plastic", "relay", "post", OneToOne(), stdp),
    ]
    net = Network(pops, projections, [Probe("relay"), Probe("post"), Probe("plastic", "weight")], dt=0.1)
    res = simulate(net, 10.0, target="brian2:numpy")
    assert res.spikes["relay"].steps(0.1).tolist() == [51] and res.spikes["post"].steps(0.1).tolist() == [56]
    want = 0.5 - 0.12 * math.exp(-0.5 / 5.0) if window_ms > 1.15 else 0.5
    assert res.weights["plastic"].values[-1, 0] == pytest.approx(want, rel=1e-12)
