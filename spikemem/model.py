"""Registry of models: the circuits ``spikemem export`` and ``spikemem models`` know.

Each module (or package) in ``spikemem.models`` may define ``MODELS``, a list of
:class:`Model`; adding a model is adding one file. A model declares its name, a line of
help, its own command-line options, a function from those options to a
:class:`~spikemem.network.Network`, the duration a run of it lasts by default, and
(optionally) the plot people look at for its results. The command line reaches models only
through this registry.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._registry import public_modules
from .errors import ValidationError

#: The package whose modules are searched for ``MODELS`` (imported by name, when asked).
PACKAGE = "spikemem.models"


def _no_options(parser: argparse.ArgumentParser) -> None:
    """A model without options of its own."""


@dataclass(frozen=True)
class Model:
    """A named model under ``spikemem export <name>``.

    ``network(args)`` builds the network from the options ``add_arguments`` declared;
    ``duration_ms(args)`` is how long a run of it lasts unless the user says otherwise;
    ``plot(results, path)``, where given, draws its results (a raster with its operations,
    say) to an image file.
    """

    name: str
    help: str
    network: Callable[[argparse.Namespace], Any]
    duration_ms: Callable[[argparse.Namespace], float]
    add_arguments: Callable[[argparse.ArgumentParser], None] = _no_options
    plot: Callable[[Any, str], None] | None = None

    def options(self) -> list[str]:
        """The model's own command-line options, as ``spikemem models`` lists them."""
        parser = argparse.ArgumentParser(add_help=False)
        self.add_arguments(parser)
        return [action.option_strings[-1] if action.option_strings else action.dest for action in parser._actions]


def all_models() -> dict[str, Model]:
    """Every registered model, by name."""
    found: dict[str, Model] = {}
    for module in public_modules(PACKAGE):
        for model in getattr(module, "MODELS", []):
            found[model.name] = model
    return dict(sorted(found.items()))


def get_model(name: str) -> Model:
    """The model called ``name``; an unknown name is refused with the known ones."""
    models = all_models()
    if name not in models:
        raise ValidationError("MODEL", name, "one of " + ", ".join(models) + " (see `spikemem models`)")
    return models[name]
