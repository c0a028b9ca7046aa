r"""The cells of the description as pure torch step functions over ``(state, params)``.

Each cell advances by one step ``dt`` exactly as the ``brian2`` target advances it (the same
propagators and the same order of operations: leak, then threshold, then arriving input,
then reset), so float64 spike trains equal Brian2's. Units are the description's: mV, ms,
nA (current-based), µS (conductance-based).

* ``IF_curr_exp`` (exact): with :math:`u = v - v_{rest}`,
  :math:`u \leftarrow u\,p_{22} + i_E p_{21,E} - i_I p_{21,I} + i_{offset} r_{offset}`,
  :math:`i_X \leftarrow i_X p_{11,X}`, where :math:`p_{22} = e^{-dt/\tau_m}`,
  :math:`p_{11,X} = e^{-dt/\tau_X}`,
  :math:`p_{21,X} = \frac{\tau_X \tau_m}{c_m(\tau_m - \tau_X)}(p_{22} - p_{11,X})` and
  :math:`r_{offset} = \frac{\tau_m}{c_m}(1 - p_{22})` (NEST's ``iaf_psc_exp`` propagator).
* ``IF_cond_exp`` (exact): exponential Euler, as Brian2 integrates
  :math:`\dot v = A + B v` with :math:`A = v_{rest}/\tau_m + (g_E E_E + g_I E_I + i_{offset})/c_m`,
  :math:`B = -1/\tau_m - (g_E + g_I)/c_m`: :math:`v \leftarrow -A/B + (v + A/B) e^{B\,dt}`,
  :math:`g_X \leftarrow g_X e^{-dt/\tau_X}`; the membrane is not integrated for
  ``round(tau_refrac/dt)`` steps after a spike.
* ``IF_curr_delta`` (exact): :math:`u \leftarrow u\,p_{22} + i_{offset} r_{offset} + \Delta v`,
  where :math:`\Delta v` is the sum of the weights (mV) arriving in this step; the state is
  ``u`` itself (the membrane relative to rest, as NEST and the brian2 lowering keep it),
  spikes at :math:`u \ge v_{thresh} - v_{rest}`, resets to :math:`v_{reset} - v_{rest}`.

A current source injected into a cell (:mod:`spikemem.currents`) adds its amplitude
:math:`a_k` of the step to :math:`i_{offset}` (``i_inj`` of :func:`leak`).

Norse's own LIF cells integrate by forward Euler (:math:`v \leftarrow v + dt/\tau (\dots)`),
which is not the description's semantics, so the steps are plain torch; what is Norse's is
the surrogate gradient of the threshold (:func:`spike`, SuperSpike) and the state-tuple style.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch

from spikemem.cells import IF_cond_exp, IF_curr_delta, IF_curr_exp


def spike(x: torch.Tensor) -> torch.Tensor:
    """1 where ``x >= 0`` (the membrane at or above threshold), else 0; the gradient is
    Norse's SuperSpike surrogate, :math:`\\partial s / \\partial x = 1 / (|x| + 1)^2`.

    Norse's threshold fires at ``x > 0``; the description fires at ``v >= v_thresh``, so
    the equality case is added with no gradient of its own.
    """
    from norse.torch.functional.threshold import superspike_fn

    return superspike_fn(x, 100.0) + (x == 0).to(x.dtype).detach()


class Params(NamedTuple):
    """Per-neuron constants of a population's step, shaped ``[n]`` (broadcast over the batch)."""

    kind: str  # "curr", "cond" or "delta"
    v_rest: torch.Tensor
    v_reset: torch.Tensor  # in the state's coordinates (delta cells: relative to rest)
    v_thresh: torch.Tensor  # likewise
    n_refrac: int
    consts: dict[str, torch.Tensor]
    v_shift: float = 0.0  # the membrane potential is the state's v plus this (delta cells: v_rest)


class State(NamedTuple):
    """A population's state, each ``[B, n]``: the membrane, the two synaptic variables
    (currents, conductances, or unused for delta cells) and the refractory counter (steps
    left; for conductance cells, steps since the last spike)."""

    v: torch.Tensor
    syn_e: torch.Tensor
    syn_i: torch.Tensor
    refr: torch.Tensor


def params(cell: Any, dt: float, dtype: torch.dtype, device: Any) -> Params:
    """The step constants of ``cell`` at time step ``dt`` (ms)."""

    def const(value: float) -> torch.Tensor:
        return torch.as_tensor(value, dtype=dtype, device=device)

    common = {"v_rest": const(cell.v_rest), "v_reset": const(cell.v_reset), "v_thresh": const(cell.v_thresh)}
    n_refrac = round(cell.tau_refrac / dt)
    p22 = math.exp(-dt / cell.tau_m)
    r_offset = cell.tau_m / cell.cm * (1.0 - p22)
    if isinstance(cell, IF_curr_delta):
        relative = {
            "v_rest": const(cell.v_rest),
            "v_reset": const(cell.v_reset - cell.v_rest),
            "v_thresh": const(cell.v_thresh - cell.v_rest),
        }
        consts = {
            "p22": const(p22),
            "u_offset": const(cell.tau_m / cell.cm * (1.0 - p22) * cell.i_offset),
            "r_offset": const(r_offset),
        }
        return Params("delta", **relative, n_refrac=cell.refractory_steps(dt), consts=consts, v_shift=cell.v_rest)
    assert isinstance(cell, IF_curr_exp)
    if isinstance(cell, IF_cond_exp):
        consts = {
            "decay_e": const(math.exp(-dt / cell.tau_syn_E)),
            "decay_i": const(math.exp(-dt / cell.tau_syn_I)),
            "lio_10": const(cell.v_rest / cell.tau_m + cell.i_offset / cell.cm),
            "lio_5": const(cell.e_rev_E / cell.cm),
            "lio_6": const(cell.e_rev_I / cell.cm),
            "lio_9": const(1.0 / cell.cm),
            "lio_11": const(-1.0 / cell.tau_m),
            "dt": const(dt),
        }
        # Brian2 holds the membrane while (steps since the spike) < round((tau_refrac + dt) / dt)
        return Params("cond", **common, n_refrac=round((cell.tau_refrac + dt) / dt), consts=consts)
    consts = {"p22": const(p22), "lio_1": const(cell.v_rest + cell.i_offset * r_offset), "r_offset": const(r_offset)}
    for name, tau in (("e", cell.tau_syn_E), ("i", cell.tau_syn_I)):
        p11 = math.exp(-dt / tau)
        if math.isclose(tau, cell.tau_m, rel_tol=1e-9):
            p21 = dt / cell.cm * p22
        else:
            p21 = tau * cell.tau_m / (cell.cm * (cell.tau_m - tau)) * (p22 - p11)
        consts[f"p11_{name}"], consts[f"p21_{name}"] = const(p11), const(p21)
    return Params("curr", **common, n_refrac=n_refrac, consts=consts)


def initial_state(v0: torch.Tensor, batch: int, p: Params) -> State:
    """Rest: the initial membrane ``v0`` (``[n]``, mV) in every trial, no synaptic input, not refractory."""
    v = (v0 - p.v_shift if p.v_shift else v0).expand(batch, -1).clone()
    kind = p.kind
    zeros = torch.zeros_like(v)
    refr = torch.full_like(v, 1e9) if kind == "cond" else zeros.clone()  # cond: steps since the last spike
    return State(v, zeros, zeros.clone(), refr)


def leak(state: State, p: Params, delta_in: torch.Tensor | None = None, i_inj: torch.Tensor | None = None) -> State:
    """The step's update before the threshold (Brian2's ``groups`` slot): the membrane
    advances, synaptic variables decay; a delta cell adds ``delta_in`` (mV) arriving now;
    ``i_inj`` (nA, ``[n]``) is the current injected in this step."""
    c = p.consts
    v, syn_e, syn_i, refr = state
    if p.kind == "cond":
        since = refr + 1  # steps since the last spike, at this step
        held = since < p.n_refrac
        g_e, g_i = syn_e, syn_i
        b = c["lio_11"] - (c["lio_9"] * g_e + c["lio_9"] * g_i)
        drive = c["lio_10"] if i_inj is None else c["lio_10"] + c["lio_9"] * i_inj
        ba = (drive + (c["lio_5"] * g_e + c["lio_6"] * g_i)) / b
        v_new = torch.where(held, v, -ba + (ba + v) * torch.exp(c["dt"] * b))
        return State(v_new, g_e * c["decay_e"], g_i * c["decay_i"], since)
    held = refr > 0.5
    if p.kind == "curr":
        u = c["p22"] * (v - p.v_rest)
        free = (c["lio_1"] + (u + c["p21_e"] * syn_e)) - c["p21_i"] * syn_i
        syn_e, syn_i = syn_e * c["p11_e"], syn_i * c["p11_i"]
    else:
        free = v * c["p22"] + c["u_offset"]  # v is relative to rest here
        if delta_in is not None:
            free = free + delta_in
    if i_inj is not None:
        free = free + c["r_offset"] * i_inj
    v_new = torch.where(held, p.v_reset.expand_as(v), free)
    return State(v_new, syn_e, syn_i, (refr - 1).clamp(min=0))


def fire(state: State, p: Params) -> torch.Tensor:
    """The step's spikes (``[B, n]``, 0/1, differentiable through the surrogate)."""
    s = spike(state.v - p.v_thresh)
    if p.kind == "cond":
        s = s * (state.refr >= p.n_refrac).to(s.dtype)
    return s


def reset(state: State, s: torch.Tensor, p: Params) -> State:
    """After a spike: ``v = v_reset`` exactly and the refractory count restarts. No
    gradient flows through the reset (the "detached reset" of surrogate-gradient training:
    its term, ``-(v - v_reset)`` per spike, otherwise opposes and often outweighs the
    spike's own)."""
    fired = s.detach() > 0
    v = torch.where(fired, p.v_reset.expand_as(state.v), state.v)
    if p.kind == "cond":
        refr = torch.where(fired, torch.zeros_like(state.refr), state.refr)
    else:
        refr = torch.where(fired, torch.full_like(state.refr, float(p.n_refrac)), state.refr)
    return State(v, state.syn_e, state.syn_i, refr)
