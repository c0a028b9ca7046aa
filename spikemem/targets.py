"""Registry of targets: every place a network can run or be sent.

Each module in ``spikemem.hardware`` that defines ``TARGET`` (a :class:`TargetInfo`)
is a target; adding one is adding one file. Target modules import their third-party
library lazily, so discovering them is cheap.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass, field
from types import ModuleType

from .errors import TargetNotInstalled, ValidationError

#: Columns of the capability matrix (``spikemem targets``).
FEATURES = (
    "IF_curr_exp",
    "IF_cond_exp",
    "integration=exact",
    "integration=spinnaker",
    "STDP online",
    "STDP deferred",
    "gated learning",
    "Poisson",
    "FromList",
    "record v",
    "record weight",
    "run",
    "export",
)


@dataclass(frozen=True)
class TargetInfo:
    """What a target is, what it needs and what it supports."""

    name: str
    description: str
    requires: tuple[str, ...]
    install_hint: str
    features: frozenset[str] = field(default_factory=frozenset)
    variants: tuple[str, ...] = ()

    @property
    def installed(self) -> bool:
        return all(importlib.util.find_spec(mod) is not None for mod in self.requires)

    def supports(self, feature: str) -> bool:
        return feature in self.features


def _hardware_modules() -> list[ModuleType]:
    import spikemem.hardware as hw

    mods = []
    for info in pkgutil.iter_modules(hw.__path__):
        if info.name.startswith("_"):
            continue
        mods.append(importlib.import_module(f"spikemem.hardware.{info.name}"))
    return mods


def all_targets() -> dict[str, tuple[TargetInfo, ModuleType]]:
    """Every registered target by name."""
    found: dict[str, tuple[TargetInfo, ModuleType]] = {}
    for mod in _hardware_modules():
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
