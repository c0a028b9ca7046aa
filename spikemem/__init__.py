"""spikemem: spiking memory circuits defined once, run on every simulator and chip.

The description language (cells, sources, connectors, synapses, ``Network``) is plain
data; ``simulate`` lowers it to a target (Brian2 by default) and returns ``Results``.
"""

import os as _os

from .cells import IF_cond_exp, IF_curr_delta, IF_curr_exp
from .connectors import AllToAll, Blocks, FixedProbability, FromList, OneToOne
from .currents import DCSource, Injection, StepCurrentSource
from .errors import SpikememError, TargetNotInstalled, UnsupportedFeature, ValidationError
from .io import load_network, save_network
from .network import Network, Population, Probe, Projection, SpikeSource
from .results import Results, SpikeTrains, Trace, load_results
from .simulate import simulate
from .sources import Poisson, SpikeTimes
from .synapses import STDP, Gate, GatedWrite, Static, TsodyksMarkram

__version__ = "0.1.0"

__all__ = [
    "AllToAll",
    "Blocks",
    "DCSource",
    "FixedProbability",
    "FromList",
    "IF_cond_exp",
    "IF_curr_delta",
    "IF_curr_exp",
    "Injection",
    "Network",
    "OneToOne",
    "Poisson",
    "Population",
    "Probe",
    "Projection",
    "Results",
    "STDP",
    "Gate",
    "GatedWrite",
    "SpikeSource",
    "SpikeTimes",
    "SpikeTrains",
    "SpikememError",
    "Static",
    "StepCurrentSource",
    "TargetNotInstalled",
    "Trace",
    "TsodyksMarkram",
    "UnsupportedFeature",
    "ValidationError",
    "load_network",
    "load_results",
    "save_network",
    "simulate",
]

# Installed, `spikemem.models`, `.hardware` and `.experiments` come from the folders that
# pyproject.toml maps into the package. Imported straight from a source checkout (e.g.
# `python -m pytest` in the repository root), find those folders beside this one.
_checkout = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.isfile(_os.path.join(_checkout, "pyproject.toml")) and all(
    _os.path.isfile(_os.path.join(_checkout, sub, "__init__.py")) for sub in ("models", "hardware", "experiments")
):
    __path__.append(_checkout)  # noqa: F821 - the package's own search path
