"""What SpiNNaker makes of a network, worked out before anything is sent (no sPyNNaker needed).

:func:`constraints` checks a network against the chip's limits and returns a
:class:`ConstraintReport` that lists each violation and each loss with numbers; the
``spinnaker`` target (``hardware/spinnaker/target.py``) refuses a network with any violation.
The rules are sPyNNaker 7.x's, as its Python front end implements them:

- time: 1 ms steps (``dt`` must be 1 ms); delays are whole steps
  (``rint(delay / dt)``), at least one step;
- neurons per core: at most 256 cells of one population per core (sPyNNaker's
  ``POP_TABLE_MAX_ROW_LENGTH``; ``neurons_per_core`` lowers it), one core per spike
  source population; cores = sum of ``ceil(size / per_core)``. A synaptic row (the
  synapses of one pre neuron onto one post core) holds at most 256 static or 254
  pair-STDP synapses;
- delays: a post core holds ``2**(14 - bits(neurons on the core) - 1)`` delay slots
  (14 ring-buffer bits shared with the neuron index and the two synapse types);
  longer delays need a delay-extension core, which adds up to 8 times that;
- weights: per post population and receptor, sPyNNaker bounds the summed input of
  one step, ``W`` (worst case ``sum(max weight * max fan-in)`` when every projection
  has one delay, else a statistical bound at 30 Hz and 5 sigma), takes the shift
  ``s = ceil(log2 W)`` (+1 when ``2**s == W``) and stores each weight as the 16-bit
  integer ``rint(w * 2**(15 - s) * g)`` (``g`` = 1 for currents in nA, 1024 for
  conductances in µS). The weight step is ``2**(s - 15) / g``; a weight below half a
  step is lost. The input reaches the neuron as s16.15 (``|x * g| < 2**16``): a single
  weight beyond that is a violation, a sum that can exceed it is reported with the
  number of coincident spikes that overflow it;
- cells: ``IF_curr_exp``/``IF_cond_exp`` with the ``"spinnaker"`` integration (the
  chip's discrete update); plasticity: pair STDP with ``"deferred"`` timing, additive
  or multiplicative. ``IF_curr_delta`` is a violation (:func:`delta_difference`):
  sPyNNaker's arrival step, refractoriness (``ceil(tau_refrac/dt)`` steps, input lost) and
  leak are the description's, but its delta input type divides the weight by ``dt``
  (``input_type_delta.h``: ``scale_factor = 1 / time_step``) and the LIF update integrates
  it as a current held over the step (``neuron_model_lif_impl.h``:
  ``alpha = I R + V_rest``, ``V = alpha - exp(-dt/tau_m) (alpha - V)``), so ``v`` moves by
  ``w tau_m (1 - e^{-dt/tau_m}) / (c_m dt)`` instead of ``w``.

:func:`quantise` moves the weights onto the chip's fixed-point grid, and
:func:`fidelity_check` simulates that copy on Brian2 against the float network: does
quantisation change the spikes (and, with ``decode``, the answers)? It covers the
stored weights and bounds; the chip's fixed-point STDP arithmetic (s16.15 traces,
exponential look-up tables) is not modelled.

sPyNNaker conventions, which :data:`SPINNAKER` tells the PyNN lowering: weights are
positive magnitudes per receptor, the whole STDP delay is dendritic, and additive STDP
amplitudes are written to the chip as absolute steps, so spikemem's ``A * w_max`` (PyNN)
is passed as ``A``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from spikemem._checks import count
from spikemem.cells import IF_cond_exp, IF_curr_delta, IF_curr_exp
from spikemem.connectors import FromList
from spikemem.errors import grouped
from spikemem.network import Network, Projection
from spikemem.results import Results
from spikemem.synapses import STDP, Static

from ..pynn.backends import Backend
from ..pynn.checks import brian2_only_features, tsodyks_markram_features
from ..pynn.lowering import native_connector

SPINNAKER = Backend(
    "spinnaker",
    "pyNN.spiNNaker",
    "spynnaker",
    "pip install 'spikemem[spinnaker]'",
    dendritic_delay_fraction=None,
    negative_inhibitory_currents=False,
    absolute_additive_amplitudes=True,
    plain_spike_lists=True,
    native_all_but_self=False,
)

DT_MS = 1.0
NEURONS_PER_CORE = 256
RING_BUFFER_BITS = 14
SYNAPSE_TYPE_BITS = 1  # two synapse types: excitatory, inhibitory
DELAY_EXTENSION_STAGES = 8
WEIGHT_BITS = 16
MAX_STATIC_ROW = 256  # synapses per row: 256 words, one word per static synapse
MAX_PLASTIC_ROW = 254  # pair STDP: two header words, then one word per synapse
INPUT_LIMIT = 2.0**16  # s16.15: largest magnitude the neuron input can hold
PLANNING_RATE_HZ = 30.0  # sPyNNaker's [Simulation] spikes_per_second
RING_BUFFER_SIGMA = 5.0
POISSON_SIGMA_LIMIT = 3.0
GLOBAL_WEIGHT_SCALE = {"current": 1.0, "conductance": 1024.0, "delta": 1.0}
WEIGHT_UNIT = {"current": "nA", "conductance": "uS", "delta": "mV"}


# --- the constraint report ------------------------------------------------------------


@dataclass
class PopulationFit:
    """Cores one population takes."""

    name: str
    size: int
    kind: str
    neurons_per_core: int
    cores: int


@dataclass
class WeightFit:
    """Fixed-point representation of the weights onto one (post population, receptor)."""

    post: str
    receptor: str
    unit: str
    summed_input_bound: float
    bound: str
    worst_case_input: float
    shift: int
    step: float
    n_synapses: int
    max_error: float
    mean_error: float
    n_lost: int

    @property
    def scale(self) -> float:
        """Integer units per weight unit (the inverse of ``step``)."""
        return 1.0 / self.step


@dataclass
class DelayFit:
    """Delay slots on the cores of one post population."""

    post: str
    max_delay_ms: float
    native_ms: float
    extension_needed: bool
    max_supported_ms: float
    n_rounded: int
    max_rounding_ms: float


@dataclass
class ConstraintReport:
    """What SpiNNaker makes of a network: fit, losses and violations, with numbers."""

    network: str
    dt_ms: float
    populations: list[PopulationFit] = field(default_factory=list)
    weights: list[WeightFit] = field(default_factory=list)
    delays: list[DelayFit] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the network can run on SpiNNaker as described (losses allowed)."""
        return not self.violations

    @property
    def total_cores(self) -> int:
        """Application cores for the populations (delay extensions not included)."""
        return sum(p.cores for p in self.populations)

    @property
    def delay_extension_cores(self) -> int:
        return sum(1 for d in self.delays if d.extension_needed)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["total_cores"] = self.total_cores
        out["ok"] = self.ok
        return out

    def __str__(self) -> str:
        lines = [f"SpiNNaker constraint report for {self.network!r} (dt {self.dt_ms:g} ms)"]
        lines.append(f"  cores: {self.total_cores} for populations + {self.delay_extension_cores} delay extension")
        for p in self.populations:
            lines.append(f"    {p.name:<24} {p.size:>7} {p.kind:<13} {p.neurons_per_core:>4}/core -> {p.cores} core(s)")
        if self.weights:
            lines.append("  weights (16-bit fixed point per post population and receptor):")
            for w in self.weights:
                lines.append(
                    f"    {w.post:<24} {w.receptor:<11} input bound {w.summed_input_bound:g} {w.unit} ({w.bound}), "
                    f"shift {w.shift}, step {w.step:.3g} {w.unit}, max error {w.max_error:.3g}, lost {w.n_lost}"
                )
        if self.delays:
            lines.append("  delays:")
            for d in self.delays:
                ext = "delay extension needed" if d.extension_needed else "no delay extension"
                lines.append(
                    f"    {d.post:<24} max {d.max_delay_ms:g} ms, native {d.native_ms:g} ms, {ext}, "
                    f"limit {d.max_supported_ms:g} ms"
                )
        lines.append("  violations:" if self.violations else "  violations: none")
        lines += [f"    - {v}" for v in self.violations]
        lines.append("  losses:" if self.losses else "  losses: none")
        lines += [f"    - {loss}" for loss in self.losses]
        return "\n".join(lines)


def n_bits(n_values: int) -> int:
    """Bits needed to tell ``n_values`` values apart (sPyNNaker's ``get_n_bits``)."""
    if n_values <= 1:
        return n_values
    return int(math.ceil(math.log2(n_values)))


def constraints(network: Network, seed: int = 0, neurons_per_core: int | None = None) -> ConstraintReport:
    """Check ``network`` against SpiNNaker's limits (see the module docstring for the rules).

    Parameters
    ----------
    network
        The model.
    seed
        Resolves random connectors exactly as a run with this seed would.
    neurons_per_core
        A lower per-core ceiling than sPyNNaker's 256 (as ``set_number_of_neurons_per_core``).
    """
    per_core = NEURONS_PER_CORE if neurons_per_core is None else count("neurons_per_core", neurons_per_core)
    per_core = min(per_core, NEURONS_PER_CORE)
    report = ConstraintReport(network.name, network.dt)
    if network.dt != DT_MS:
        report.violations.append(f"time step {network.dt:g} ms: SpiNNaker runs sPyNNaker models at 1 ms steps")
    semantics: list[tuple[str, str]] = []  # (population or projection, what the chip does instead)
    for pop in network.populations:
        if pop.is_source:
            report.populations.append(PopulationFit(pop.name, pop.size, "source", pop.size, 1))
            continue
        cell = pop.cell
        report.populations.append(
            PopulationFit(pop.name, pop.size, type(cell).__name__, per_core, math.ceil(pop.size / per_core))
        )
        if isinstance(cell, IF_curr_delta):
            semantics.append((f"population {pop.name!r}", delta_difference(cell)))
        elif cell.integration != "spinnaker":
            semantics.append(
                (
                    f"population {pop.name!r}",
                    f"integration {cell.integration!r}, but the chip performs the discrete 'spinnaker' update",
                )
            )
    semantics += [
        (feature, f"{reason}; sPyNNaker has no such model") for feature, reason in brian2_only_features(network)
    ]
    semantics += [
        (feature, f"{reason}; sPyNNaker 7 has no Tsodyks-Markram synapse")
        for feature, reason in tsodyks_markram_features(network)
    ]
    for proj in network.projections:
        syn = proj.synapse
        if isinstance(syn, STDP) and syn.timing != "deferred":
            semantics.append(
                (
                    f"projection {proj.name!r}",
                    f"STDP timing {syn.timing!r}, but sPyNNaker applies STDP 'deferred' (at pre spikes, whole delay "
                    "dendritic)",
                )
            )
    report.violations += grouped(semantics)
    resolved = {p.name: network.connections(p, seed) for p in network.projections}
    _check_delays(network, report, resolved, per_core)
    _check_rows(network, report, resolved, per_core)
    _check_weights(network, report, resolved)
    return report


def delta_jump(cell: IF_curr_delta, dt: float = DT_MS) -> float:
    """How far sPyNNaker's ``IF_curr_delta`` moves ``v`` per mV of weight: ``tau_m (1 - e^{-dt/tau_m}) / (c_m dt)``
    (the weight divided by ``dt``, then integrated as a current held over the step)."""
    return cell.tau_m * (1.0 - math.exp(-dt / cell.tau_m)) / (cell.cm * dt)


def delta_difference(cell: IF_curr_delta) -> str:
    """What sPyNNaker's ``IF_curr_delta`` does that the description's does not (module docstring)."""
    return (
        "IF_curr_delta, but sPyNNaker's moves v by w * tau_m (1 - exp(-dt/tau_m)) / (cm dt) = "
        f"{delta_jump(cell):.6g} w instead of w: its delta input type divides the weight by dt and its LIF update "
        "integrates it as a current held over the step (arrival step, refractoriness and leak agree)"
    )


def _check_rows(network: Network, report: ConstraintReport, resolved: dict[str, Any], per_core: int) -> None:
    """A synaptic row (one pre neuron's synapses onto one post core) holds at most 256 static
    or 254 pair-STDP synapses (sPyNNaker's population-table row limit of 256 words)."""
    for proj in network.projections:
        conns = resolved[proj.name]
        if not len(conns):
            continue
        post_size = network.population(proj.post).size
        n_cores = math.ceil(post_size / per_core)
        longest = int(np.bincount(conns.i * n_cores + conns.j // per_core).max())
        limit = MAX_PLASTIC_ROW if isinstance(proj.synapse, STDP) else MAX_STATIC_ROW
        if longest > limit:
            kind = "plastic" if isinstance(proj.synapse, STDP) else "static"
            report.violations.append(
                f"projection {proj.name!r}: up to {longest} synapses from one pre neuron onto one core of "
                f"{proj.post!r} ({min(per_core, post_size)} neurons per core); sPyNNaker holds {limit} {kind} "
                "synapses per row: lower neurons_per_core"
            )


def _check_delays(network: Network, report: ConstraintReport, resolved: dict[str, Any], per_core: int) -> None:
    dt = DT_MS
    for pop in network.populations:
        incoming = [p for p in network.projections if p.post == pop.name]
        if not incoming:
            continue
        delays = np.concatenate([resolved[p.name].delay for p in incoming])
        if not len(delays):
            continue
        ticks = np.rint(delays / dt)
        off_grid = np.abs(ticks * dt - delays) > 1e-9
        max_ticks = int(ticks.max())
        atoms = min(pop.size, per_core)
        native = 2 ** (RING_BUFFER_BITS - n_bits(atoms) - SYNAPSE_TYPE_BITS)
        needed = max_ticks > native
        limit = native * (1 + DELAY_EXTENSION_STAGES)
        fit = DelayFit(
            pop.name,
            float(delays.max()),
            native * dt,
            bool(needed),
            limit * dt,
            int(off_grid.sum()),
            float(np.abs(ticks * dt - delays).max()),
        )
        report.delays.append(fit)
        if max_ticks > limit:
            report.violations.append(
                f"delays into {pop.name!r} up to {fit.max_delay_ms:g} ms exceed the {fit.max_supported_ms:g} ms "
                f"SpiNNaker supports for {atoms} neurons per core ({native} slots + {DELAY_EXTENSION_STAGES} "
                "delay-extension stages)"
            )
        if fit.n_rounded:
            report.losses.append(
                f"{fit.n_rounded} delays into {pop.name!r} rounded to whole ms (error up to {fit.max_rounding_ms:g} ms)"
            )


def _fan_in(network: Network, proj: Projection, conns: Any) -> int:
    """Largest number of synapses of ``proj`` onto one post neuron, as sPyNNaker estimates it
    for the connector spikemem hands it (native one-to-one/all-to-all, else a list)."""
    native = native_connector(network, proj, SPINNAKER)
    if native == "one_to_one":
        return 1
    if native == "all_to_all":
        return network.population(proj.pre).size
    if not len(conns):
        return 0
    return int(np.bincount(conns.j).max())


def _pooled(groups: list[tuple[float, float, int]]) -> tuple[float, float, int]:
    """Mean, variance and count of items given per group as (mean, variance, n)."""
    n_tot, mean, m2 = 0, 0.0, 0.0
    for g_mean, g_var, n in groups:
        if n <= 0:
            continue
        new_n = n_tot + n
        delta = g_mean - mean
        m2 += g_var * (n - 1.0) + delta * delta * n_tot * n / new_n
        mean = (n_tot * mean + n * g_mean) / new_n
        n_tot = new_n
    return mean, (m2 / (n_tot - 1.0) if n_tot > 1 else 0.0), n_tot


def _statistical_bound(w_mean: float, w_std: float, rate_hz: float, n_synapses: int, sigma: float) -> float:
    """sPyNNaker's expected upper bound of one step's summed input (Poisson input at ``rate_hz``)."""
    lam = n_synapses * rate_hz / 1000.0
    if lam <= 0:
        return 0.0
    poisson_var = lam * w_mean**2
    upper = int(round(lam + POISSON_SIGMA_LIMIT * math.sqrt(lam)))
    weight_var = 0.0
    if w_std > 0:
        # regularised upper incomplete gamma Q(upper + 1, lam): a Poisson CDF for integer order
        q = math.exp(-lam) * sum(lam**k / math.factorial(k) for k in range(upper + 1))
        big = math.log(lam) * upper - math.lgamma(1 + upper)
        if -701.0 < big < 701.0 and big != 0.0:
            inner = math.exp(lam) * q - math.exp(big)
            if inner > 0:
                weight_var = math.exp(-lam + math.log(lam) + 2.0 * math.log(w_std) + math.log(inner))
    return lam * w_mean + sigma * math.sqrt(poisson_var + weight_var)


def _planning_bound(network: Network, projs: list[Projection], resolved: dict[str, Any], g: float) -> dict[str, Any]:
    """sPyNNaker's bound of the summed input of one step onto one receptor, in chip units
    (weight units times ``g``), and the true worst case for comparison.

    As sPyNNaker 7 does it: the worst-case sum is taken without the global weight scale
    ``g`` (a quirk that matters for conductances only), the largest weight with it.
    """
    total = total_true = biggest = 0.0
    stats, uniform_delays = [], True
    for proj in projs:
        conns = resolved[proj.name]
        w = np.abs(conns.weight)
        w_top = float(w.max(initial=0.0))
        if isinstance(proj.synapse, STDP):
            w_top = max(w_top, proj.synapse.w_max)
            w_mean, w_var = w_top, 0.0
        else:
            w_mean, w_var = (float(w.mean()), float(w.var())) if len(w) else (0.0, 0.0)
        fan_in = _fan_in(network, proj, conns)
        total += w_top * fan_in
        total_true += w_top * fan_in * g
        biggest = max(biggest, w_top * g)
        stats.append((w_mean * g, w_var * g * g, fan_in))
        d_var = float(conns.delay.var()) if len(conns) else 0.0
        uniform_delays &= d_var * (fan_in - 1) == 0.0
    if uniform_delays:
        bound, how = max(total, biggest), "max-sum rule"
    else:
        mean, var, n = _pooled(stats)
        estimate = _statistical_bound(mean, math.sqrt(var), PLANNING_RATE_HZ, n, RING_BUFFER_SIGMA)
        bound, how = max(min(estimate, total), biggest), "statistical rule"
    return {"bound": bound, "how": how, "worst": total_true, "biggest": biggest}


def weight_shift(bound: float) -> int:
    """sPyNNaker's ring-buffer shift for a summed-input bound (chip units): the smallest
    ``s`` with ``bound < 2**s``."""
    if bound <= 0:
        return 0
    shift = max(0, int(math.ceil(math.log2(bound))))
    return shift + 1 if 2**shift <= bound else shift


def _check_weights(network: Network, report: ConstraintReport, resolved: dict[str, Any]) -> None:
    for pop in network.populations:
        if pop.is_source:
            continue
        kind = _kind(pop.cell)
        unit = WEIGHT_UNIT[kind]
        g = GLOBAL_WEIGHT_SCALE[kind]
        for receptor in ("excitatory", "inhibitory"):
            projs = [p for p in network.projections if p.post == pop.name and p.receptor == receptor]
            if not projs:
                continue
            plan = _planning_bound(network, projs, resolved, g)
            shift = weight_shift(plan["bound"])
            step = 2.0 ** (shift - (WEIGHT_BITS - 1)) / g
            values = np.concatenate([_stored_weights(resolved[p.name], p) for p in projs])
            errors = np.abs(np.rint(values / step) * step - values)
            lost = int(np.sum((values > 0) & (np.rint(values / step) == 0)))
            fit = WeightFit(
                pop.name,
                receptor,
                unit,
                plan["bound"] / g,
                plan["how"],
                plan["worst"] / g,
                shift,
                float(step),
                int(len(values)),
                float(errors.max(initial=0.0)),
                float(errors.mean()) if len(errors) else 0.0,
                lost,
            )
            report.weights.append(fit)
            _report_weight_fit(report, fit, plan["biggest"] / g, g)


def _kind(cell: IF_curr_exp | IF_curr_delta) -> str:
    """How the chip takes ``cell``'s input: ``"current"``, ``"conductance"`` or ``"delta"``."""
    if isinstance(cell, IF_curr_delta):
        return "delta"
    return "conductance" if isinstance(cell, IF_cond_exp) else "current"


def _report_weight_fit(report: ConstraintReport, fit: WeightFit, biggest: float, g: float) -> None:
    where, unit = f"{fit.receptor} input of {fit.post!r}", fit.unit
    limit = INPUT_LIMIT / g
    ring = 2.0**fit.shift / g
    if biggest >= limit:
        report.violations.append(
            f"{where}: a single weight of {biggest:g} {unit} overflows the chip's s16.15 input (limit {limit:g} {unit})"
        )
    elif fit.worst_case_input >= limit:
        report.losses.append(
            f"{where}: summed input up to {fit.worst_case_input:g} {unit} per step can overflow the s16.15 input "
            f"(limit {limit:g} {unit}): it does when more than {int(limit // biggest)} spikes of the largest "
            f"weight ({biggest:g} {unit}) arrive in one step"
        )
    if fit.worst_case_input >= ring * (1 + 1e-12) and fit.worst_case_input < limit:
        report.losses.append(
            f"{where}: the ring buffer holds up to {ring:g} {unit} per step (sPyNNaker's {fit.bound}), "
            f"the worst case is {fit.worst_case_input:g} {unit}: it saturates when more than "
            f"{int(ring // biggest)} spikes of the largest weight ({biggest:g} {unit}) arrive in one step"
        )
    if fit.max_error > 0:
        report.losses.append(
            f"{where}: weights quantised to steps of {fit.step:.6g} {unit} (16 bits, shift {fit.shift}); "
            f"max error {fit.max_error:.3g} {unit}, mean {fit.mean_error:.3g} {unit}"
        )
    if fit.n_lost:
        report.losses.append(
            f"{where}: {fit.n_lost} of {fit.n_synapses} synapses round to weight 0 (below {fit.step / 2:.3g} {unit})"
        )


def _stored_weights(conns: Any, proj: Projection) -> np.ndarray:
    """The weights the chip stores for a projection (STDP: its initial weights and bounds)."""
    w = np.abs(conns.weight)
    syn = proj.synapse
    if isinstance(syn, STDP):
        return np.concatenate([w, [syn.w_min, syn.w_max]])
    return w


# --- fixed-point fidelity -------------------------------------------------------------


def quantise(network: Network, report: ConstraintReport | None = None, seed: int = 0) -> Network:
    """``network`` with every stored weight (static weights, initial STDP weights, w_min and
    w_max) moved onto the fixed-point grid SpiNNaker would use."""
    report = report or constraints(network, seed)
    steps = {(w.post, w.receptor): w.step for w in report.weights}
    projections = []
    for proj in network.projections:
        step = steps.get((proj.post, proj.receptor))
        if step is None:
            projections.append(proj)
            continue

        def q(x: Any, step: float = step) -> Any:
            return np.rint(np.asarray(x, dtype=float) / step) * step

        syn = proj.synapse
        if isinstance(syn, STDP):
            w_min, w_max = float(q(syn.w_min)), float(q(syn.w_max))
            syn = syn.replace(w_min=w_min, w_max=w_max, weight=float(np.clip(q(syn.weight), w_min, w_max)))
        elif isinstance(syn, Static):
            syn = syn.replace(weight=float(q(syn.weight)))
        conn = proj.connector
        if isinstance(conn, FromList) and conn.has_weights:
            rows = np.array(conn.conn_list, dtype=float)
            rows[:, 2] = q(rows[:, 2])
            if isinstance(syn, STDP):
                rows[:, 2] = np.clip(rows[:, 2], syn.w_min, syn.w_max)
            conn = FromList(rows)
        projections.append(proj.replace(connector=conn, synapse=syn))
    return network.replace(projections=tuple(projections), name=f"{network.name}_fixedpoint")


@dataclass
class FidelityCheck:
    """Float network vs its fixed-point copy, both simulated on the same (float) target."""

    target: str
    duration_ms: float
    mismatches: dict[str, int]
    float_results: Results
    quantised_results: Results
    float_answers: Any = None
    quantised_answers: Any = None

    @property
    def total_mismatches(self) -> int:
        """Mismatching (population, neuron, step) triples over every recorded population."""
        return sum(self.mismatches.values())

    @property
    def answers_changed(self) -> bool | None:
        if self.float_answers is None:
            return None
        return bool(self.float_answers != self.quantised_answers)

    def __str__(self) -> str:
        head = f"fixed-point fidelity on {self.target}, {self.duration_ms:g} ms: "
        head += f"{self.total_mismatches} mismatching (population, neuron, step) triples"
        if self.answers_changed is not None:
            head += "; answers " + ("CHANGE" if self.answers_changed else "unchanged")
        per = ", ".join(f"{k}: {v}" for k, v in self.mismatches.items() if v)
        return head + (f" ({per})" if per else "")


def spike_mismatches(a: Results, b: Results, dt: float) -> dict[str, int]:
    """Per population, the number of (neuron, step) spikes in one result and not the other."""
    out = {}
    for name in a.spikes:
        x = set(zip(a.spikes[name].indices.tolist(), a.spikes[name].steps(dt).tolist()))
        y = set(zip(b.spikes[name].indices.tolist(), b.spikes[name].steps(dt).tolist()))
        out[name] = len(x ^ y)
    return out


def fidelity_check(
    network: Network,
    duration_ms: float,
    seed: int = 0,
    target: str = "brian2:numpy",
    decode: Callable[[Results], Any] | None = None,
) -> FidelityCheck:
    """Simulate ``network`` and :func:`quantise` (``network``) on ``target``; compare spikes
    and, with ``decode(results) -> answers``, what the memory answers."""
    from spikemem.simulate import simulate

    fixed = quantise(network, seed=seed)
    a = simulate(network, duration_ms, target=target, seed=seed)
    b = simulate(fixed, duration_ms, target=target, seed=seed)
    check = FidelityCheck(target, duration_ms, spike_mismatches(a, b, network.dt), a, b)
    if decode is not None:
        check.float_answers, check.quantised_answers = decode(a), decode(b)
    return check
