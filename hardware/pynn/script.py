"""Export a Network as a standalone, readable PyNN script (``--target pynn-script``).

The script uses plain ``pyNN`` calls and runs without spikemem::

    python net.py --simulator nest|brian2|spiNNaker [--duration MS] [--out spikes.npz]

Scalar parameters are written inline; spike times and explicit synapse lists live in a
sidecar ``net.npz``. The script carries the same per-simulator conventions as
:mod:`spikemem.hardware.pynn` (its ``lowering`` and ``backends``) (NEST's end-of-step spike stamps, pyNN.brian2's
refractory count, negative current-based inhibitory weights, ``dendritic_delay_fraction``,
sPyNNaker's absolute additive STDP amplitudes, pyNN.nest's missing ``v`` map of
``IF_curr_delta``), so on pyNN.brian2 and NEST it reproduces
``simulate(network, target="pynn:brian2" | "pynn:nest")`` spike for spike.
Plasticity gates, gated STDP and device models have no PyNN form and are refused, and so
is STDP onto ``IF_curr_delta`` cells (pyNN.nest would give it a ``w_max`` 1000 times too
large). A script with ``IF_curr_delta`` cells runs on NEST only: on the other simulators
it stops before building anything, with the reason.
Current sources become PyNN's ``DCSource`` and ``StepCurrentSource``.
It saves the recorded spikes to ``--out`` (``<population>_times``/``_indices``, ms).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from spikemem import __version__
from spikemem._checks import one_of, positive
from spikemem.cells import Cell, IF_cond_exp, IF_curr_delta
from spikemem.currents import DCSource, Injection
from spikemem.errors import UnsupportedFeature, ValidationError
from spikemem.network import Network, Population, Projection
from spikemem.outputs import replacing, write_text
from spikemem.sources import Poisson
from spikemem.synapses import STDP
from spikemem.targets import TargetInfo, check_options

from .backends import BACKENDS
from .checks import brian2_only_features, tsodyks_markram_features
from .lowering import cell_parameters, native_connector, source_trains

SIMULATORS = ("nest", "brian2", "spiNNaker")

TARGET = TargetInfo(
    name="pynn-script",
    description="export only: a plain PyNN script + .npz sidecar (python net.py --simulator nest|brian2|spiNNaker)",
    requires=(),
    install_hint="nothing to install here; the script needs PyNN (and its simulator) where it runs",
    features=frozenset(
        {"IF_curr_exp", "IF_cond_exp", "IF_curr_delta", "integration=exact", "integration=spinnaker"}
        | {"STDP online", "STDP deferred", "Poisson", "FromList", "record v", "current sources", "export"}
    ),
    export_options=("duration_ms", "seed", "default_simulator"),
    export_duration=True,
    export_beside=(".npz",),
)

_HEADER = '''#!/usr/bin/env python
"""{name}: a PyNN script exported by spikemem {version}.

Network digest {digest}; time step {dt:g} ms. Spike times and synapse lists are in
{npz} beside this script. Semantics declared in spikemem: {semantics}. NEST and
pyNN.brian2 integrate in continuous time, SpiNNaker with its discrete update and deferred
STDP; `spikemem targets` says which simulator honours what. Run:

    python {script} --simulator nest|brian2|spiNNaker [--duration MS] [--out spikes.npz]
"""

import argparse
import importlib
from pathlib import Path

import numpy as np
from pyNN.parameters import Sequence

DT = {dt!r}
DURATION = {duration}
FIRST_STEP_INPUT = {early}  # a spike source fires at t = 0

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--simulator", choices=["nest", "brian2", "spiNNaker"], default={default!r})
parser.add_argument("--duration", type=float, default=DURATION, help="simulated time (ms)")
parser.add_argument("--out", default="spikes.npz", help="where to save the recorded spikes")
parser.add_argument("--threads", type=int, default=1, help="NEST threads")
args = parser.parse_args()
if args.duration is None:
    parser.error("--duration is required")

sim = importlib.import_module("pyNN." + args.simulator)
data = np.load(Path(__file__).with_name({npz!r}))
NEST, BRIAN2, SPINNAKER = (args.simulator == name for name in ("nest", "brian2", "spiNNaker"))
{delta}
# Simulator conventions (spikemem.hardware.pynn explains each):
# NEST stamps a spike at the end of its step and cannot fire a source in the first step
# (the run then starts one step early: exact when every cell starts at rest).
OFFSET = DT if NEST and FIRST_STEP_INPUT else 0.0
# NEST's generators take precise times: each is given a hair before its grid point, so that
# a rounding error cannot fire it a step late.
SHIFT = OFFSET + DT - 1e-4 * DT if NEST else 0.0
# pyNN.brian2 counts the spike step as refractory.
REFRAC_EXTRA = DT if BRIAN2 else 0.0
# PyNN simulators take current-based inhibitory weights as negative numbers; sPyNNaker does not.
INH = 1.0 if SPINNAKER else -1.0
# STDP delays: axonal on pyNN.brian2, dendritic on NEST and sPyNNaker.
STDP_DELAY = {{"dendritic_delay_fraction": 0.0}} if BRIAN2 else {{}}
# sPyNNaker adds additive STDP amplitudes as absolute weight steps (PyNN: A * w_max).
ABSOLUTE_A = SPINNAKER

if NEST:
    sim.setup(timestep=DT, min_delay=DT, spike_precision="on_grid", threads=args.threads, max_delay={max_delay!r})
elif BRIAN2:
    import brian2

    sim.setup(timestep=DT, min_delay=DT)
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = DT * brian2.ms
else:
    sim.setup(timestep=DT)


def spike_times(name):
    """Per-neuron spike times of a source population, shifted to the simulator's stamps."""
    trains = np.split(data[name + "_times"] + SHIFT, data[name + "_splits"])
    return [list(t) for t in trains] if SPINNAKER else [Sequence(t) for t in trains]


def synapse_list(name, sign=1.0):
    """Rows (i, j, weight, delay) of an explicit projection."""
    rows = data[name + "_list"].copy()
    rows[:, 2] *= sign
    return rows


def amplitude(a, w_max, additive=True):
    return a * w_max if ABSOLUTE_A and additive else a


'''

#: The script's IF_curr_delta: NEST only (why not elsewhere: spikemem.hardware.pynn.backends and
#: spikemem.hardware.spinnaker.limits), with the ``v`` map PyNN 0.13's pyNN.nest lacks.
_DELTA = """
# IF_curr_delta cells: NEST's iaf_psc_delta is the reference semantics.
DELTA_REFUSED = {{"brian2": {brian2!r}, "spiNNaker": {spinnaker!r}}}
if not NEST:
    raise SystemExit("IF_curr_delta: " + DELTA_REFUSED[args.simulator])
IF_curr_delta = sim.IF_curr_delta
if not hasattr(IF_curr_delta, "variable_map"):  # PyNN 0.13: initialize(v) is ignored and record("v") fails
    V_MAP = {{"variable_map": {{"v": "V_m"}}, "scale_factors": {{"v": 1}}}}
    IF_curr_delta = type("IF_curr_delta", (IF_curr_delta,), V_MAP)
"""
#: Why sPyNNaker's IF_curr_delta is not the description's (spikemem.hardware.spinnaker.limits says it in full).
_SPINNAKER_DELTA = (
    "sPyNNaker's IF_curr_delta moves v by w * tau_m (1 - exp(-dt/tau_m)) / (cm dt), not by w; "
    "run it with --simulator nest"
)

_FOOTER = """
sim.run(args.duration + OFFSET)

out = {{}}
for label, pop, size in [{recorded}]:
    times, indices = [], []
    for train in pop.get_data("spikes").segments[-1].spiketrains:
        t = np.rint((np.asarray(train.magnitude) - SHIFT) / DT).astype(int)
        t = t[(t >= 0) & (t * DT < args.duration)]
        times.append(t * DT)
        indices.append(np.full(len(t), train.annotations["source_index"]))
    times = np.concatenate(times) if times else np.empty(0)
    indices = np.concatenate(indices) if indices else np.empty(0, dtype=int)
    order = np.lexsort((indices, times))  # by time, then neuron
    out[label + "_times"], out[label + "_indices"] = times[order], indices[order]
    print(f"{{label}}: {{len(out[label + '_times'])}} spikes from {{size}} neurons")
np.savez(args.out, **out)
sim.end()
"""


def _f(x: float) -> str:
    return repr(float(x))


def _delta_block(network: Network) -> str:
    """The script's ``IF_curr_delta`` (:data:`_DELTA`) where the network has such cells, else nothing."""
    if not any(isinstance(p.cell, IF_curr_delta) for p in network.populations):
        return ""
    return _DELTA.format(brian2=BACKENDS["brian2"].delta_refusal, spinnaker=_SPINNAKER_DELTA)


def _cell_type(cell: Cell) -> str:
    """The script's name of the PyNN cell type of ``cell``."""
    if isinstance(cell, IF_curr_delta):
        return "IF_curr_delta"  # the script's own (_DELTA)
    return "sim.IF_cond_exp" if isinstance(cell, IF_cond_exp) else "sim.IF_curr_exp"


def _cell(pop: Population) -> list[str]:
    cell = pop.cell
    params = cell_parameters(cell, 0.0, BACKENDS["nest"])
    args = ", ".join(f"{k}={_f(v)}" + (" + REFRAC_EXTRA" if k == "tau_refrac" else "") for k, v in params.items())
    lines = [f"{pop.name} = sim.Population({pop.size}, {_cell_type(cell)}({args}), label={pop.name!r})"]
    if pop.initial_v is not None:
        lines.append(f"{pop.name}.initialize(v=data[{pop.name + '_v0'!r}])")
    else:
        lines.append(f"{pop.name}.initialize(v={_f(cell.initial_v)})")
    return lines


def _injection(network: Network, injection: Injection, arrays: dict[str, np.ndarray]) -> str:
    """The script's line injecting a current source (times moved by ``OFFSET``, as the spikes are)."""
    src = injection.source
    if isinstance(src, DCSource):
        stop = "" if src.stop is None else f", stop={_f(src.stop)} + OFFSET"
        source = f"sim.DCSource(amplitude={_f(src.amplitude)}, start={_f(src.start)} + OFFSET{stop})"
    else:
        times, amplitudes = src.changes()
        source = (
            f"sim.StepCurrentSource(times=np.array({[float(t) for t in times]!r}) + OFFSET, "
            f"amplitudes={[float(a) for a in amplitudes]!r})"
        )
    cells = injection.target
    if injection.neurons is not None:
        arrays[f"{injection.name}_neurons"] = np.asarray(injection.neurons, dtype=np.int64)
        cells = f"{injection.target}[data[{injection.name + '_neurons'!r}]]"
    return f"{source}.inject_into({cells})"


def _synapse(proj: Projection, sign: str) -> str:
    syn = proj.synapse
    weight = f"{sign}{_f(syn.weight)}"
    if not isinstance(syn, STDP):
        return f"sim.StaticSynapse(weight={weight}, delay={_f(syn.delay)})"
    additive = syn.weight_dependence == "additive"
    dep = "AdditiveWeightDependence" if additive else "MultiplicativeWeightDependence"
    return (
        "sim.STDPMechanism(\n"
        f"        timing_dependence=sim.SpikePairRule(tau_plus={_f(syn.tau_plus)}, tau_minus={_f(syn.tau_minus)}, "
        f"A_plus=amplitude({_f(syn.A_plus)}, {_f(syn.w_max)}, {additive}), "
        f"A_minus=amplitude({_f(syn.A_minus)}, {_f(syn.w_max)}, {additive})),\n"
        f"        weight_dependence=sim.{dep}(w_min={_f(syn.w_min)}, w_max={_f(syn.w_max)}),\n"
        f"        weight={weight},\n"
        f"        delay={_f(syn.delay)},\n"
        "        **STDP_DELAY,\n"
        "    )"
    )


def _projection(network: Network, proj: Projection, seed: int, arrays: dict[str, np.ndarray]) -> list[str]:
    post = network.population(proj.post).cell
    negative = proj.receptor == "inhibitory" and not isinstance(post, IF_cond_exp)
    sign = "INH * " if negative else ""
    conn = proj.connector
    native = native_connector(network, proj, BACKENDS["nest"])
    if native == "one_to_one":
        connector = "sim.OneToOneConnector()"
    elif native == "all_to_all" and conn.allow_self_connections:
        connector = "sim.AllToAllConnector()"
    else:  # an explicit list (also for all-to-all without i == j, which sPyNNaker cannot split)
        conns = network.connections(proj, seed)
        arrays[f"{proj.name}_list"] = np.column_stack([conns.i, conns.j, conns.weight, conns.delay]).astype(float)
        rows = f"synapse_list({proj.name!r}{', INH' if negative else ''})"
        connector = f'sim.FromListConnector({rows}, column_names=["weight", "delay"])'
    return [
        f"{proj.name} = sim.Projection(",
        f"    {proj.pre}, {proj.post}, {connector},",
        f"    {_synapse(proj, sign)},",
        f"    receptor_type={proj.receptor!r}, label={proj.name!r},",
        ")",
    ]


def script_text(
    network: Network,
    npz_name: str,
    script_name: str = "net.py",
    duration_ms: float | None = None,
    seed: int = 0,
    default_simulator: str = "nest",
) -> tuple[str, dict[str, np.ndarray]]:
    """The script's text and the arrays of its sidecar file."""
    one_of("default_simulator", default_simulator, SIMULATORS)
    for feature, reason in brian2_only_features(network):
        raise UnsupportedFeature("pynn-script", feature, reason)
    for feature, reason in tsodyks_markram_features(network):  # the script also runs on pyNN.brian2 and sPyNNaker
        raise UnsupportedFeature("pynn-script", feature, reason)
    for proj in network.projections:
        if isinstance(proj.synapse, STDP) and isinstance(network.population(proj.post).cell, IF_curr_delta):
            reason = BACKENDS["nest"].delta_stdp_refusal or ""
            raise UnsupportedFeature("pynn-script", f"STDP on {proj.name!r} onto IF_curr_delta cells", reason)
    needs_duration = any(isinstance(p.cell, Poisson) for p in network.populations)
    if needs_duration and duration_ms is None:
        raise ValidationError("duration_ms", None, "a duration (ms): Poisson sources are drawn at export")
    horizon = float(duration_ms) if duration_ms is not None else float("inf")
    arrays: dict[str, np.ndarray] = {}
    early = False
    body = ["# --- populations ---"]
    for pop in network.populations:
        if pop.is_source:
            trains = source_trains(network, pop, horizon, seed)
            early |= any(len(t) and t[0] < network.dt / 2 for t in trains)
            arrays[f"{pop.name}_times"] = np.concatenate(trains) if trains else np.empty(0)
            arrays[f"{pop.name}_splits"] = np.cumsum([len(t) for t in trains])[:-1]
            body.append(
                f"{pop.name} = sim.Population({pop.size}, sim.SpikeSourceArray(spike_times=spike_times({pop.name!r})), "
                f"label={pop.name!r})"
            )
        else:
            body += _cell(pop)
            if pop.initial_v is not None:
                arrays[f"{pop.name}_v0"] = np.asarray(pop.initial_v, dtype=float)
    if network.currents:
        body += ["", "# --- current sources (changes take effect in the step at their time, as on pyNN.nest) ---"]
        for injection in network.currents:
            body.append(_injection(network, injection, arrays))
    body += ["", "# --- projections ---"]
    for proj in network.projections:
        body += _projection(network, proj, seed, arrays)
    body += ["", "# --- recording ---"]
    recorded = []
    for probe in network.probes:
        if probe.variable == "spikes":
            body.append(f'{probe.target}.record("spikes")')
            recorded.append(f"({probe.target!r}, {probe.target}, {network.population(probe.target).size})")
        elif probe.variable == "v":
            body.append(f'{probe.target}.record("v", sampling_interval={_f(probe.every_ms or network.dt)})')
        else:
            body.append(f"# weight probe of {probe.target!r}: read it with {probe.target}.get('weight', format='list')")
    delays = [float(network.connections(p, seed).delay.max(initial=network.dt)) for p in network.projections]
    integrations = sorted({p.cell.integration for p in network.populations if not p.is_source})
    timings = sorted({p.synapse.timing for p in network.projections if isinstance(p.synapse, STDP)})
    semantics = ", ".join([f"{i} integration" for i in integrations] + [f"{t} STDP" for t in timings])
    header = _HEADER.format(
        semantics=semantics or "static network of spike sources",
        name=network.name,
        version=__version__,
        digest=network.digest()[:16],
        dt=network.dt,
        npz=npz_name,
        script=script_name,
        duration=repr(float(duration_ms)) if duration_ms is not None else "None",
        early=bool(early),
        delta=_delta_block(network),
        default=default_simulator,
        max_delay=max(delays, default=network.dt) + network.dt,
    )
    footer = _FOOTER.format(recorded=", ".join(recorded))
    return header + "\n".join(body) + "\n" + footer, arrays


def write_script(
    network: Network,
    out: str | os.PathLike[str],
    duration_ms: float | None = None,
    seed: int = 0,
    default_simulator: str = "nest",
) -> list[Path]:
    """Write ``out`` (the script) and ``out`` with suffix ``.npz`` (its data); return both paths."""
    path = Path(out)
    if path.suffix != ".py":
        raise ValidationError("out", str(out), "a path ending in .py")
    if duration_ms is not None:
        duration_ms = positive("duration_ms", duration_ms)
    npz = path.with_suffix(".npz")
    text, arrays = script_text(network, npz.name, path.name, duration_ms, seed, default_simulator)
    with replacing(npz) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    write_text(path, text)
    mode = path.stat().st_mode
    path.chmod(mode | (mode & 0o444) >> 2)  # executable by whoever may read it
    return [path, npz]


def export(network: Network, out: str | os.PathLike[str], **options: Any) -> list[Path]:
    """``spikemem export ... --target pynn-script``: see :func:`write_script`."""
    check_options(TARGET, options, export=True)
    return write_script(network, out, **options)
