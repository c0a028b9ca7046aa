"""PyNN's procedural API (``create``, ``connect``, ``record``) over spikemem's classes."""

from __future__ import annotations

from typing import Any

from pyNN import common
from pyNN.connectors import FixedProbabilityConnector

from . import simulator
from .populations import Population
from .projections import Projection
from .standardmodels import StaticSynapse

create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
record = common.build_record(simulator)


def record_v(source: Any, filename: str) -> Any:
    """Record ``v`` of ``source`` (a population, view or assembly) to ``filename`` at ``end()``."""
    return record(["v"], source, filename)
