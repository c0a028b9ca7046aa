"""Base class of the frozen, validated description classes.

A node is a plain dataclass with no dynamics. Its constructor accepts the fields by
position or name, rejects unknown names with a :class:`ValidationError` (not a bare
``TypeError``), fills defaults, and calls ``_validate``. Nodes serialise to plain
dicts (``to_dict``/``node_from_dict``) which the HDF5 writer stores exactly.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, ClassVar

import numpy as np

from .errors import ValidationError

NODE_TYPES: dict[str, type[Node]] = {}
#: Where node types beyond the description's own live: the device models under synapses.
DEVICES = "spikemem.hardware.devices"


class Node:
    """Frozen, validated, data-only description element."""

    kind: ClassVar[str] = "node"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        NODE_TYPES[cls.__name__] = cls

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls_name = type(self).__name__
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        names = [f.name for f in fields]
        if len(args) > len(names):
            raise ValidationError(cls_name, args, f"at most {len(names)} positional values ({', '.join(names)})")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names:
                raise ValidationError(f"{cls_name}.{key}", value, "one of the parameters " + ", ".join(names))
            if key in values:
                raise ValidationError(f"{cls_name}.{key}", value, "given once, by position or by name")
            values[key] = value
        for f in fields:
            if f.name in values:
                continue
            if f.default is not dataclasses.MISSING:
                values[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                values[f.name] = f.default_factory()
            else:
                raise ValidationError(f"{cls_name}.{f.name}", None, "a value (this parameter is required)")
        for key, value in values.items():
            object.__setattr__(self, key, value)
        self._validate()

    def _validate(self) -> None:
        """Check and normalise fields (override); raise ValidationError on bad input."""

    def _set(self, key: str, value: Any) -> None:
        object.__setattr__(self, key, value)

    def replace(self, **changes: Any) -> Node:
        """A copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        values.update(changes)
        return type(self)(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with a ``type`` tag; nested nodes become dicts too."""
        out: dict[str, Any] = {"type": type(self).__name__}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            out[f.name] = _plain(getattr(self, f.name))
        return out

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            _equal(getattr(self, f.name), getattr(other, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))


def _plain(value: Any) -> Any:
    if isinstance(value, Node):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return bool(a == b)


def node_from_dict(data: dict[str, Any]) -> Node:
    """Rebuild a node from :meth:`Node.to_dict` output (nested nodes included)."""
    data = dict(data)
    type_name = data.pop("type", None)
    cls = NODE_TYPES.get(type_name)  # type: ignore[arg-type]
    if cls is None and isinstance(type_name, str):
        importlib.import_module(DEVICES).node_types()  # device models register their node types on import
        cls = NODE_TYPES.get(type_name)
    if cls is None:
        raise ValidationError("type", type_name, "a spikemem node type: " + ", ".join(sorted(NODE_TYPES)))
    kwargs = {}
    for key, value in data.items():
        if isinstance(value, dict) and "type" in value:
            value = node_from_dict(value)
        elif isinstance(value, list):
            value = tuple(node_from_dict(v) if isinstance(v, dict) and "type" in v else v for v in value)
        kwargs[key] = value
    return cls(**kwargs)
