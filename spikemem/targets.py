"""Registry of targets: every place a network can run or be sent.

A target lives in a room of its own, a subpackage of ``spikemem.hardware`` (as PyNN keeps
``pyNN/nest/`` and ``pyNN/brian2/``): the room's ``__init__.py`` names its target modules in
``TARGETS`` (module names inside the room), and each of those modules follows the
:class:`Target` protocol. Adding a target is adding one room; a room without ``TARGETS``
(the device physics in ``spikemem.hardware.devices``) holds no target. Target modules import
their third-party library lazily, so discovering them is cheap.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

from ._registry import public_modules
from .errors import TargetNotInstalled, UnsupportedFeature, ValidationError

#: The package whose rooms are searched for ``TARGETS`` (imported by name, when asked).
PACKAGE = "spikemem.hardware"

#: Columns of the capability matrix (``spikemem targets``).
FEATURES = (
    "IF_curr_exp",
    "IF_cond_exp",
    "IF_curr_delta",
    "integration=exact",
    "integration=spinnaker",
    "STDP online",
    "STDP deferred",
    "gated learning",
    "TsodyksMarkram",
    "Poisson",
    "FromList",
    "current sources",
    "record v",
    "record weight",
    "run",
    "export",
)


@dataclass(frozen=True)
class TargetInfo:
    """What a target is, what it needs, what it supports and which options it takes.

    ``options`` are the keyword options of the target's ``check``/``run`` and
    ``export_options`` those of its ``export`` (``--option KEY=VALUE`` on the command
    line); :func:`check_options` refuses any other. ``export_duration``: the target's
    ``export`` writes a run of a fixed length, so ``spikemem export`` hands it the model's
    default duration (``duration_ms``) unless ``--option duration_ms=...`` says otherwise.
    ``export_kind``: what ``export`` writes at its ``out`` path, a ``"file"`` or a
    ``"folder"``; ``export_beside``: the suffixes of the files it writes beside a file
    (``out`` with that suffix), so that every path is checked before anything is built.
    """

    name: str
    description: str
    requires: tuple[str, ...]
    install_hint: str
    features: frozenset[str] = field(default_factory=frozenset)
    variants: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    export_options: tuple[str, ...] = ()
    export_duration: bool = False
    export_kind: str = "file"
    export_beside: tuple[str, ...] = ()

    @property
    def installed(self) -> bool:
        return all(importlib.util.find_spec(mod) is not None for mod in self.requires)

    def supports(self, feature: str) -> bool:
        return feature in self.features


class Target(Protocol):
    """The interface of a target module (each module a room's ``TARGETS`` names).

    ``TARGET``
        its :class:`TargetInfo`: name, requirements, features, options.
    Where ``TARGET`` supports ``"run"``:

    ``check(network, variant=None, **options)``
        refuse, before anything is built, an option the target does not take
        (:func:`check_options`) and a semantics of ``network`` it cannot honour
        (:class:`~spikemem.errors.UnsupportedFeature`); returns nothing.
    ``run(network, duration_ms, seed=0, variant=None, progress=False, **options)``
        simulate and return :class:`~spikemem.results.Results` with provenance.

    Where ``TARGET`` supports ``"export"``:

    ``export(network, out, **export_options)``
        write the network for the simulator or chip (refusing, with the reason, what the
        format cannot express) and return what was written.
    """

    TARGET: TargetInfo


def check_options(info: TargetInfo, options: Mapping[str, Any], export: bool = False) -> None:
    """Refuse any option key that ``info.options`` (``info.export_options`` with
    ``export``) does not list, naming the allowed ones."""
    allowed = info.export_options if export else info.options
    what = f"an export to {info.name}" if export else f"target {info.name}"
    for key, value in options.items():
        if key not in allowed:
            listed = f"one of {', '.join(allowed)}" if allowed else "no option"
            raise ValidationError(f"option {key}", value, f"{listed} for {what}")


def check_runs(info: TargetInfo) -> None:
    """Refuse to simulate on a target that only exports."""
    if not info.supports("run"):
        raise UnsupportedFeature(
            info.name,
            "run",
            f"{info.name} only exports (an interchange format or a script, not a simulator): write it with "
            f"`spikemem export MODEL --target {info.name} --out PATH`",
        )


def target_modules() -> list[ModuleType]:
    """Every target module, room by room (only the modules the rooms' ``TARGETS`` name)."""
    mods = []
    for room in public_modules(PACKAGE, packages_only=True):
        for name in getattr(room, "TARGETS", ()):
            mods.append(importlib.import_module(f"{room.__name__}.{name}"))
    return mods


def all_targets() -> dict[str, tuple[TargetInfo, ModuleType]]:
    """Every registered target by name."""
    found: dict[str, tuple[TargetInfo, ModuleType]] = {}
    for mod in target_modules():
        info = getattr(mod, "TARGET", None)
        if isinstance(info, TargetInfo):
            found[info.name] = (info, mod)
    return dict(sorted(found.items()))


def resolve(target: str) -> tuple[TargetInfo, ModuleType, str | None]:
    """Split ``"name:variant"`` and return the target's info, module and variant."""
    if not isinstance(target, str) or not target:
        raise ValidationError("target", target, "a target name such as 'brian2' or 'brian2:cpp_standalone'")
    name, _, variant = target.partition(":")
    targets = all_targets()
    if name not in targets:
        raise ValidationError("target", target, "one of " + ", ".join(targets) + " (see `spikemem targets`)")
    info, mod = targets[name]
    if variant and info.variants and variant not in info.variants:
        raise ValidationError(
            "target", target, f"{name} or {name}:VARIANT with VARIANT one of " + ", ".join(info.variants)
        )
    if not info.installed:
        missing = [m for m in info.requires if importlib.util.find_spec(m) is None]
        raise TargetNotInstalled(name, ", ".join(missing), info.install_hint)
    return info, mod, variant or None


def exporters() -> dict[str, tuple[TargetInfo, ModuleType]]:
    """The targets that export (``spikemem export --target``), by name."""
    return {name: entry for name, entry in all_targets().items() if entry[0].supports("export")}
