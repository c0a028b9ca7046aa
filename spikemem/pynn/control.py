"""``setup``, ``run``, ``reset``, ``end`` and the state queries of the PyNN API."""

from __future__ import annotations

import os
from typing import Any

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.recording import get_io

from .. import _checks as chk
from ..errors import ValidationError
from ..targets import resolve
from . import simulator


def configure(
    dialect: str,
    semantics: str,
    timestep: float,
    min_delay: float | str,
    target: str,
    seed: int,
    extra: dict[str, Any],
) -> int:
    """Set the state up for a new script (what both dialects' ``setup`` do)."""
    chk.one_of("setup.semantics", semantics, simulator.SEMANTICS)
    timestep = chk.positive("setup.timestep", timestep)
    if not isinstance(target, str):
        raise ValidationError("setup.target", target, "a target name such as 'brian2', 'brian2:numpy', 'pynn:nest'")
    resolve(target)  # an unknown target is refused here, before the script builds anything
    max_delay = extra.pop("max_delay", DEFAULT_MAX_DELAY)
    for key in ("rank", "num_processes"):
        extra.pop(key, None)
    common.setup(timestep, min_delay, max_delay=max_delay)
    state = simulator.state
    state.clear()
    state.dt = timestep
    state.min_delay = min_delay
    state.max_delay = max_delay
    state.dialect = dialect
    state.semantics = semantics
    state.target = target
    state.seed = chk.seed("setup.seed", seed)
    state.options = dict(extra)
    return 0


def setup(
    timestep: float = DEFAULT_TIMESTEP,
    min_delay: float | str = DEFAULT_MIN_DELAY,
    target: str = "brian2",
    seed: int = 0,
    **extra_params: Any,
) -> int:
    """Start a new PyNN script on spikemem (PyNN's ``setup``); any earlier network is dropped.

    Parameters
    ----------
    timestep
        The network's time step ``dt`` (ms).
    min_delay
        PyNN's minimum delay (ms) or ``"auto"`` (one time step), the default delay of synapses.
    target
        The spikemem target every ``run()`` simulates on (``spikemem targets`` lists them):
        ``"brian2"`` (default), ``"brian2:numpy"``, ``"cuda"``, ``"norse"``, ``"pynn:nest"``, ...
    seed
        Seeds spikemem's random draws (Poisson sources); PyNN's own RNGs seed the connectors.
    **extra_params
        ``max_delay`` (PyNN's), and any option of the target, passed to ``spikemem.simulate``.

    Returns
    -------
    int
        The MPI rank, 0.
    """
    return configure("pynn", "exact", timestep, min_delay, target, seed, dict(extra_params))


def end(compatible_output: bool = True) -> None:
    """Write what ``record(..., to_file=...)`` asked for, then forget the network."""
    state = simulator.state
    for population, variables, filename in state.write_on_end:
        population.write_data(get_io(filename), variables)
    state.write_on_end = []
    state.clear()


def export(out: str | os.PathLike[str], duration_ms: float, target: str | None = None, **options: Any) -> Any:
    """Lower what the script built and hand it to a target's ``export`` instead of running it.

    For targets that generate a project rather than run here, e.g. ``export("proj", 90.0,
    target="cuda")`` writes brian2cuda's CUDA project (``compile=True`` also runs nvcc), to be run
    on a GPU machine. As ``run(duration_ms)`` would, the project simulates one step more than
    ``duration_ms`` (:mod:`.running`).

    Parameters
    ----------
    out
        Where the target writes (a file or a folder, as ``spikemem targets`` says).
    duration_ms
        The simulated time the script would ``run()`` (ms, > 0).
    target
        An exporting target (``spikemem targets``); default: the one given to ``setup``.
    **options
        The target's export options.

    Returns
    -------
    Any
        What the target's ``export`` returns (the project folder for ``cuda``).
    """
    from .lowering import lower

    state = simulator.state
    duration_ms = chk.positive("export.duration_ms", duration_ms)
    info, module, _ = resolve(target or state.target)
    if not info.supports("export"):
        raise ValidationError("export.target", info.name, "a target that exports (`spikemem targets`)")
    network = lower(state).network
    return module.export(network, out, duration_ms=duration_ms + network.dt, **options)


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = common.build_state_queries(
    simulator
)
