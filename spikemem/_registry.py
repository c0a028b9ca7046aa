"""What the registries share: the public modules of a package, imported by name when asked."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType


def public_modules(package: str, packages_only: bool = False) -> Iterator[ModuleType]:
    """Each module (or, with ``packages_only``, each subpackage) of ``package`` whose name
    does not start with ``_``, imported."""
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_") and (info.ispkg or not packages_only):
            yield importlib.import_module(f"{package}.{info.name}")
