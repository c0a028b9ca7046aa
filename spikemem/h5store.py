"""Exact storage of plain nested data (dicts, lists, numbers, strings, arrays) in HDF5.

The structure is stored as JSON (Python's float repr round-trips every double
exactly) in an attribute, and each numpy array as its own dataset, referenced from
the JSON by ``{"__array__": index}``. Files are written atomically: to a temporary
name in the target folder, flushed, then renamed over the target.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .errors import ValidationError
from .outputs import replacing


def write_tree(group: h5py.Group, attr: str, tree: Any) -> None:
    """Store ``tree`` under ``group``: JSON in ``group.attrs[attr]``, arrays in ``group/attr__arrays``."""
    arrays: list[np.ndarray] = []

    def encode(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): encode(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        if isinstance(value, np.ndarray):
            arrays.append(value)
            return {"__array__": len(arrays) - 1}
        if isinstance(value, np.generic):
            return value.item()
        return value

    text = json.dumps(encode(tree), allow_nan=False)
    group.attrs[attr] = text
    store = group.create_group(f"{attr}__arrays")
    for k, arr in enumerate(arrays):
        store.create_dataset(str(k), data=arr)


def read_tree(group: h5py.Group, attr: str) -> Any:
    """Inverse of :func:`write_tree`."""
    if attr not in group.attrs:
        raise ValidationError("file", group.file.filename, f"an HDF5 file written by spikemem (no '{attr}' record)")
    store = group[f"{attr}__arrays"]

    def decode(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"__array__"}:
                return store[str(value["__array__"])][()]
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    return decode(json.loads(group.attrs[attr]))


@contextmanager
def atomic_h5(path: str | os.PathLike[str]) -> Iterator[h5py.File]:
    """Open a temporary HDF5 file beside ``path``; rename it to ``path`` only on success.

    If the body raises (or the process is interrupted or terminated), ``path`` keeps its
    previous content and the temporary file is removed (:func:`spikemem.outputs.replacing`).
    """
    target = Path(path)
    if not target.absolute().parent.is_dir():
        raise ValidationError("path", str(path), "a file in an existing folder")
    with replacing(target) as tmp:
        with h5py.File(tmp, "w") as fh:
            yield fh
            fh.flush()
        with open(tmp, "rb") as fh_raw:
            os.fsync(fh_raw.fileno())


def write_atomically(path: str | os.PathLike[str], fill: Callable[[h5py.File], None]) -> None:
    """Create ``path`` with ``fill(file)`` atomically (see :func:`atomic_h5`)."""
    with atomic_h5(path) as fh:
        fill(fh)
