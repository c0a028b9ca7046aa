"""MNIST from disk: the four IDX files, plain or gzipped, as the dataset ships them.

No dataset is downloaded; a user who has MNIST points spikemem at its folder. Accepted
layouts: the four files in the folder itself, or in ``MNIST/raw/`` under it (torchvision's
layout), each named as distributed (``train-images-idx3-ubyte`` and so on), optionally with
``.gz``. The IDX format: a big-endian header (two zero bytes, the type code ``0x08`` for
unsigned bytes, the number of dimensions, then each dimension as a 32-bit integer) and the
data in C order. Images are 28 × 28 unsigned bytes, labels single bytes 0-9.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikemem.errors import ValidationError

#: The files of each split, images then labels, as distributed.
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_EXPECTED = (
    "a folder holding MNIST's train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte "
    "and t10k-labels-idx1-ubyte (each may end in .gz), directly or in MNIST/raw/"
)


@dataclass(frozen=True)
class Split:
    """One split: ``images`` ``[n, 28, 28]`` uint8 and ``labels`` ``[n]`` uint8."""

    images: np.ndarray
    labels: np.ndarray


def find(folder: str | os.PathLike[str], field: str = "folder") -> dict[str, Path]:
    """The four files' paths under ``folder``; a :class:`ValidationError` naming ``field`` if
    the folder or any file is missing."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ValidationError(field, str(folder), _EXPECTED)
    for base in (root, root / "MNIST" / "raw"):
        paths = {}
        for name in (n for pair in FILES.values() for n in pair):
            hit = next((base / f for f in (name, name + ".gz") if (base / f).is_file()), None)
            if hit is not None:
                paths[name] = hit
        if len(paths) == 4:
            return paths
    raise ValidationError(field, str(folder), _EXPECTED)


def read_idx(path: str | os.PathLike[str], field: str = "path") -> np.ndarray:
    """One IDX file of unsigned bytes (plain or gzipped) as an array of its stated shape."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise ValidationError(field, str(path), f"a readable IDX file ({exc})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValidationError(field, str(path), "an IDX file of unsigned bytes (header 00 00 08 <dims>)")
    header = 4 + 4 * data[3]
    if len(data) < header:
        raise ValidationError(field, str(path), "an IDX file with its whole header (cut short)")
    shape = tuple(int(d) for d in np.frombuffer(data[4:header], dtype=">u4"))
    body = np.frombuffer(data, dtype=np.uint8, offset=header)
    if body.size != int(np.prod(shape)):
        raise ValidationError(field, str(path), f"an IDX file whose data fills its shape {shape} ({body.size} bytes)")
    return body.reshape(shape)


def load(folder: str | os.PathLike[str], field: str = "folder") -> dict[str, Split]:
    """MNIST's train and test splits from ``folder`` (layouts in the module docstring),
    checked: 28 × 28 images, one label 0-9 per image."""
    paths = find(folder, field)
    out = {}
    for split, (images_name, labels_name) in FILES.items():
        images = read_idx(paths[images_name], field)
        labels = read_idx(paths[labels_name], field)
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValidationError(field, str(paths[images_name]), f"28 × 28 images, not shape {images.shape}")
        if labels.shape != (len(images),) or labels.max(initial=0) > 9:
            raise ValidationError(
                field, str(paths[labels_name]), f"{len(images)} labels 0-9, one per image of {images_name}"
            )
        out[split] = Split(images, labels)
    return out


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` (uint8) as an IDX file, gzipped if ``path`` ends in ``.gz`` (for tests
    and for cutting a small MNIST)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as fh:
        fh.write(header + array.tobytes())
