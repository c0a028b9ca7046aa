"""``simulate``: run a network on a target and return its Results."""

from __future__ import annotations

from typing import Any

from . import _checks as chk
from . import budget
from .errors import ValidationError
from .network import Network
from .results import Results
from .targets import check_runs, resolve


def simulate(
    network: Network,
    duration_ms: float,
    target: str = "brian2",
    seed: int = 0,
    progress: bool = False,
    **options: Any,
) -> Results:
    """Simulate ``network`` for ``duration_ms`` on ``target``.

    Parameters
    ----------
    network
        The model description.
    duration_ms
        Simulated time in ms (> 0).
    target
        ``"brian2"`` (picks numpy for short runs, C++ standalone for long ones),
        ``"brian2:numpy"``, ``"brian2:cython"``, ``"brian2:cpp_standalone"``, or any
        target listed by ``spikemem targets``.
    seed
        Seeds every random draw (Poisson inputs, random connectivity). The same seed on
        the same target gives the same spikes.
    progress
        Show a progress bar where the target can.
    **options
        Target-specific options (see the target module).

    Raises
    ------
    ValidationError
        Bad arguments, or a run that would not fit this machine's memory
        (:mod:`spikemem.budget`); raised before anything runs.
    UnsupportedFeature
        The target cannot honour a semantics of the network; raised before anything runs.
    """
    if not isinstance(network, Network):
        raise ValidationError("network", type(network).__name__, "a spikemem Network")
    duration_ms = chk.positive("duration_ms", duration_ms)
    if duration_ms < network.dt:
        raise ValidationError("duration_ms", duration_ms, f"at least one time step ({network.dt} ms)")
    budget.check_steps("duration_ms", duration_ms, network.dt)
    seed = chk.seed("seed", seed)
    info, module, variant = resolve(target)
    check_runs(info)
    budget.check_network(network, duration_ms)
    module.check(network, variant=variant, **options)
    return module.run(network, duration_ms, seed=seed, variant=variant, progress=progress, **options)
