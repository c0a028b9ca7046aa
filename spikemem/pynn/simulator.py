"""The simulator state of :mod:`spikemem.pynn`: what a PyNN script has built, and its last run.

PyNN keeps one ``state`` object per backend module (``pyNN.nest.simulator.state``); this is
spikemem's. It holds the dialect (``"pynn"`` or ``"spinnaker"``), the semantics the lowered
network uses, the spikemem target and its options, every population and projection created
since :func:`spikemem.pynn.setup`, and the :class:`~spikemem.results.Results` of the current
segment. Nothing here runs a simulator: :mod:`.running` does, when the script's time advances.
"""

from __future__ import annotations

from typing import Any

from pyNN import common

name = "spikemem"

#: Dialects: ``"pynn"`` is PyNN's documented API, ``"spinnaker"`` sPyNNaker's (module docstring of
#: :mod:`spikemem.pynn.spinnaker`).
DIALECTS = ("pynn", "spinnaker")
#: Semantics of the lowered network: ``"exact"`` (continuous-time cells, online STDP with axonal delay)
#: or ``"spinnaker"`` (sPyNNaker's discrete update and deferred STDP with dendritic delay, spec/ca3.md §7.1).
SEMANTICS = ("exact", "spinnaker")


class ID(int, common.IDMixin):
    """A cell's global id (PyNN's ``ID``): an int that knows its population."""

    def __init__(self, n: int) -> None:
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """The one state of the backend (module docstring)."""

    def __init__(self) -> None:
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay = "auto"
        self.max_delay = 10.0
        self.dialect = "pynn"
        self.semantics = "exact"
        self.target = "brian2"
        self.options: dict[str, Any] = {}
        self.seed = 0
        self.clear()

    def clear(self) -> None:
        """Forget every population, projection and recorder (``setup`` and ``end`` call it)."""
        self.recorders: set[Any] = set()
        self.populations: list[Any] = []
        self.projections: list[Any] = []
        self.current_sources: list[Any] = []
        self.id_counter = 0
        self.segment_counter = -1
        self.write_on_end: list[Any] = []
        self.weighed: set[Any] = set()  # plastic projections whose learned weights were asked for
        self.reset()

    def reset(self) -> None:
        """Back to ``t = 0`` in a new segment; the last run's results are dropped."""
        self.running = False
        self.t = 0.0
        self.t_start = 0.0
        self.results: Any = None
        self.lowered: Any = None
        self.segment_counter += 1

    def run_until(self, tstop: float) -> None:
        from .running import advance

        advance(self, float(tstop))
        self.t = float(tstop)
        self.running = True

    def run(self, simtime: float) -> None:
        self.run_until(self.t + simtime)


state = State()
