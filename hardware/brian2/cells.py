"""Brian2 NeuronGroups of the description's cells (``IF_curr_exp``, ``IF_cond_exp``, ``IF_curr_delta``).

* ``exact`` current-based cells advance by the exact one-step propagator of the linear
  cell (:func:`propagator`, the one NEST's ``iaf_psc_exp`` uses), written out as a
  ``run_regularly`` so no symbolic solve is needed;
* ``exact`` conductance-based cells integrate their ODE by exponential Euler:

  .. math:: \\tau_m \\dot v = (v_{rest} - v) + \\tau_m (g_e (E_e - v) + g_i (E_i - v) + i_{offset}) / c_m,
            \\qquad \\tau_{syn,X} \\dot g_X = -g_X

* ``spinnaker`` cells take sPyNNaker's discrete 1 ms update: input arriving at step ``t``
  joins the currents before the update of step ``t``, then
  ``v ← α - e^{-dt/τ_m}(α - v)`` with ``α = v_rest + τ_m (i_e - i_i + i_offset) / c_m``.
* ``IF_curr_delta`` cells keep, as NEST's ``iaf_psc_delta`` does, the membrane relative to
  rest, :math:`u = v - v_{rest}` (mV), so that potentials and weights in whole mV compare
  with the threshold exactly (:func:`delta_group`):

  .. math:: u_k = \\lambda u_{k-1} + (1 - \\lambda)\\frac{\\tau_m}{c_m} i_{offset} + x_k,
            \\qquad \\lambda = e^{-dt/\\tau_m}

  where ``x_k`` (``v_in``) sums the signed weights (mV) the synapses delivered in the
  previous step's ``synapses`` slot; a spike when ``u >= v_thresh - v_rest``.

Current sources (:mod:`spikemem.currents`) join ``i_offset``: a group with ``K`` injections
holds one ``TimedArray`` ``inj_k`` of amplitudes (nA) per step and per-neuron factors ``m_k``
(1 where injection ``k`` reaches the neuron), and ``i_offset`` becomes
``i_offset + i_inj`` with ``i_inj = Σ_k m_k inj_k(t)`` read at the start of each step
(:func:`injection_equations`). A group without injections keeps exactly its code.

Refractoriness holds the membrane at ``v_reset`` for ``round(tau_refrac/dt)`` steps after
the spike step (``IF_curr_delta``: rounded up, ``IF_curr_delta.refractory_steps``). A cell that
receives a plasticity :class:`~spikemem.synapses.Gate` keeps the time until which its gate
is open (``gate_until``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spikemem.cells import Cell, IF_cond_exp, IF_curr_delta, IF_curr_exp
from spikemem.network import Population

# Continuous-time conductance-based cell (exponential Euler; the current-based cell is
# advanced by its exact propagator, see propagator). Parameters come from the namespace.
EXACT_COND = """
dv/dt = (v_rest - v)/tau_m + (g_e*(e_rev_e - v) + g_i*(e_rev_i - v) + i_offset)/c_m : volt (unless refractory)
dg_e/dt = -g_e/tau_syn_e : siemens
dg_i/dt = -g_i/tau_syn_i : siemens
"""
# The discrete sPyNNaker update (spec/ca3.md §7.1) runs as one run_regularly per step.
STEP_CURR = """
v : volt
i_e : amp
i_i : amp
refr : 1
"""
# A neuron that receives a plasticity Gate keeps the time until which its gate is open.
GATE_STATE = """
gate_until : second
"""
STEP_COND = """
v : volt
g_e : siemens
g_i : siemens
refr : 1
"""
# IF_curr_delta: the membrane relative to rest (mV), the input arriving this step (mV) and
# the refractory count; v itself is read from them.
DELTA = """
v_rel : 1
v_in : 1
refr : 1
v = (v_rest_mv + v_rel)*mV : volt
"""
# Its step: the exact leak, the offset current, then the arriving input (held while refractory).
DELTA_STEP = """
v_rel = int(refr > 0.5)*u_reset + int(refr <= 0.5)*(v_rel*p22 + u_offset + v_in)
v_in = 0
refr = clip(refr - 1, 0, n_refrac)
"""


def injection_equations(currents: list[Any], delta: bool) -> tuple[str, dict[str, Any]]:
    """The equations and namespace of the injected current ``i_inj`` of a group fed by the
    ``TimedArray`` objects ``currents`` (module docstring); nothing when there are none.
    ``delta``: ``i_inj`` as a number of nA (the delta cell's state is dimensionless)."""
    if not currents:
        return "", {}
    terms = " + ".join(f"m_{k}*inj_{k}(t)" for k in range(len(currents)))
    factors = "".join(f"m_{k} : 1 (constant)\n" for k in range(len(currents)))
    current = f"i_inj = {terms} : 1\n" if delta else f"i_inj = ({terms})*nA : amp\n"
    return factors + current, {f"inj_{k}": ta for k, ta in enumerate(currents)}


def _offset(currents: list[Any]) -> str:
    """The offset current in a group's code: ``i_offset``, or ``(i_offset + i_inj)`` where currents are injected."""
    return "(i_offset + i_inj)" if currents else "i_offset"


def namespace(b2: Any, cell: IF_curr_exp, dt: float) -> dict[str, Any]:
    """The cell's parameters as Brian2 quantities (and its decays for the discrete update)."""
    ns = {
        "c_m": cell.cm * b2.nF,
        "tau_m": cell.tau_m * b2.ms,
        "tau_syn_e": cell.tau_syn_E * b2.ms,
        "tau_syn_i": cell.tau_syn_I * b2.ms,
        "v_rest": cell.v_rest * b2.mV,
        "v_reset": cell.v_reset * b2.mV,
        "v_thresh": cell.v_thresh * b2.mV,
        "i_offset": cell.i_offset * b2.nA,
    }
    if isinstance(cell, IF_cond_exp):
        ns["e_rev_e"] = cell.e_rev_E * b2.mV
        ns["e_rev_i"] = cell.e_rev_I * b2.mV
    if cell.integration == "spinnaker":
        ns["decay_m"] = math.exp(-dt / cell.tau_m)
        ns["decay_e"] = math.exp(-dt / cell.tau_syn_E)
        ns["decay_i"] = math.exp(-dt / cell.tau_syn_I)
        ns["n_refrac"] = float(round(cell.tau_refrac / dt))
    return ns


def propagator(b2: Any, cell: IF_curr_exp, dt: float) -> dict[str, Any]:
    r"""Exact one-step propagator of the current-based cell (times in ms).

    .. math::

        u(t+h) = u\,e^{-h/\tau_m} + i_X \frac{\tau_s \tau_m}{c_m(\tau_m - \tau_s)}
                 (e^{-h/\tau_m} - e^{-h/\tau_s}) + i_{offset}\frac{\tau_m}{c_m}(1 - e^{-h/\tau_m}),
        \qquad i_X(t+h) = i_X e^{-h/\tau_s}

    with ``u = v - v_rest``; the limit ``h e^{-h/\tau}/c_m`` where ``tau_s == tau_m``.
    """
    p22 = math.exp(-dt / cell.tau_m)
    out = {
        "p22": p22,
        "n_refrac": float(round(cell.tau_refrac / dt)),
        "r_offset": cell.tau_m / cell.cm * (1.0 - p22) * b2.mV / b2.nA,
    }
    for name, tau in (("e", cell.tau_syn_E), ("i", cell.tau_syn_I)):
        p11 = math.exp(-dt / tau)
        if math.isclose(tau, cell.tau_m, rel_tol=1e-9):
            p21 = dt / cell.cm * p22
        else:
            p21 = tau * cell.tau_m / (cell.cm * (cell.tau_m - tau)) * (p22 - p11)
        out[f"p11_{name}"] = p11
        out[f"p21_{name}"] = p21 * b2.mV / b2.nA
    return out


def delta_namespace(cell: IF_curr_delta, dt: float) -> dict[str, float]:
    """Constants of the delta cell's step (potentials in mV relative to ``v_rest``)."""
    p22 = math.exp(-dt / cell.tau_m)
    return {
        "v_rest_mv": cell.v_rest,
        "p22": p22,
        "u_offset": cell.tau_m / cell.cm * (1.0 - p22) * cell.i_offset,
        "u_reset": cell.v_reset - cell.v_rest,
        "theta": cell.v_thresh - cell.v_rest,
        "n_refrac": float(cell.refractory_steps(dt)),
    }


def delta_group(
    b2: Any, pop: Population, step_name: str, dt: float, gated: bool = False, currents: list[Any] = ()
) -> Any:
    """The NeuronGroup of a population of ``IF_curr_delta`` cells (module docstring)."""
    injected, inj_ns = injection_equations(list(currents), delta=True)
    ns = delta_namespace(pop.cell, dt)
    step = DELTA_STEP
    if currents:
        ns["r_inj"] = pop.cell.tau_m / pop.cell.cm * (1.0 - ns["p22"])  # mV per nA held over a step
        step = step.replace("u_offset + v_in", "u_offset + r_inj*i_inj + v_in")
    group = b2.NeuronGroup(
        pop.size,
        DELTA + (GATE_STATE if gated else "") + injected,
        threshold="v_rel >= theta",
        reset="v_rel = u_reset\nrefr = n_refrac",
        namespace={**ns, **inj_ns},
        name=pop.name,
    )
    group.run_regularly(step, when="groups", name=step_name)
    group.refr = 0
    group.v_in = 0
    if gated:
        group.gate_until = -1 * b2.second
    return group


def set_initial_v(b2: Any, group: Any, cell: Cell, v0: float | np.ndarray) -> None:
    """Start ``group`` (cells ``cell``) at the potential ``v0`` (mV, one value or one per neuron)."""
    if isinstance(cell, IF_curr_delta):
        group.v_rel = np.asarray(v0, dtype=float) - cell.v_rest
    else:
        group.v = v0 * b2.mV


def cell_group(
    b2: Any, pop: Population, step_name: str, dt: float, gated: bool = False, currents: list[Any] = ()
) -> Any:
    """The NeuronGroup of ``pop`` (``step_name``: its per-step update, where it has one),
    fed by the current sources ``currents`` (``TimedArray`` objects, module docstring)."""
    cell = pop.cell
    currents = list(currents)
    if isinstance(cell, IF_curr_delta):
        return delta_group(b2, pop, step_name, dt, gated, currents)
    assert isinstance(cell, IF_curr_exp)
    cond = isinstance(cell, IF_cond_exp)
    injected, inj_ns = injection_equations(currents, delta=False)
    ns = {**namespace(b2, cell, dt), **inj_ns}
    offset = _offset(currents)
    gate = (GATE_STATE if gated else "") + injected
    if cell.integration == "exact" and not cond:
        group = b2.NeuronGroup(
            pop.size,
            STEP_CURR + gate,
            threshold="v >= v_thresh",
            reset="v = v_reset\nrefr = n_refrac",
            namespace={**ns, **propagator(b2, cell, dt)},
            name=pop.name,
        )
        # The exact solution of the linear current-based cell over one step (the
        # propagator NEST's iaf_psc_exp uses), written out so no symbolic solve is needed.
        group.run_regularly(
            "v = int(refr > 0.5)*v_reset + int(refr <= 0.5)*"
            f"(v_rest + (v - v_rest)*p22 + i_e*p21_e - i_i*p21_i + {offset}*r_offset)\n"
            "refr = clip(refr - 1, 0, n_refrac)\n"
            "i_e = i_e*p11_e\n"
            "i_i = i_i*p11_i\n",
            when="groups",
            name=step_name,
        )
        group.refr = 0
    elif cell.integration == "exact":
        group = b2.NeuronGroup(
            pop.size,
            EXACT_COND.replace("+ i_offset)", f"+ {offset})") + gate,
            threshold="v >= v_thresh",
            reset="v = v_reset",
            refractory=(cell.tau_refrac + dt) * b2.ms,
            method="exponential_euler",
            namespace=ns,
            name=pop.name,
        )
    else:
        group = b2.NeuronGroup(
            pop.size,
            (STEP_COND if cond else STEP_CURR) + gate,
            threshold="v >= v_thresh",
            reset="v = v_reset\nrefr = n_refrac",
            namespace=ns,
            name=pop.name,
        )
        if cond:
            drive = f"(g_e*(e_rev_e - v) + g_i*(e_rev_i - v) + {offset})*tau_m/c_m"
        else:
            drive = f"(i_e - i_i + {offset})*tau_m/c_m"
        alpha = f"(v_rest + {drive})"
        syn_e, syn_i = ("g_e", "g_i") if cond else ("i_e", "i_i")
        group.run_regularly(
            f"v = int(refr > 0.5)*v_reset + int(refr <= 0.5)*({alpha} - decay_m*({alpha} - v))\n"
            f"refr = clip(refr - 1, 0, n_refrac)\n"
            f"{syn_e} = {syn_e}*decay_e\n"
            f"{syn_i} = {syn_i}*decay_i\n",
            when="groups",
            name=step_name,
        )
        group.refr = 0
    if gated:
        group.gate_until = -1 * b2.second
    return group
