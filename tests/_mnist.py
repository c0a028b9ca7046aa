"""Small MNIST folders in the real IDX format, for the reader's and the experiment's tests."""

from __future__ import annotations

import gzip

import numpy as np

from spikemem import mnist


def write_small_mnist(folder, n_train: int = 40, n_test: int = 12, gz: bool = False, seed: int = 0):
    """Four IDX files as MNIST ships them (images 28 x 28 uint8, labels 0-9), written byte by byte
    here from the format's definition (magic 0x00000803 / 0x00000801, big-endian sizes)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        image_name, label_name = mnist.FILES[split]
        image_bytes = b"\x00\x00\x08\x03" + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + images.tobytes()
        label_bytes = b"\x00\x00\x08\x01" + n.to_bytes(4, "big") + labels.tobytes()
        for name, payload in ((image_name, image_bytes), (label_name, label_bytes)):
            if gz:
                with gzip.open(folder / f"{name}.gz", "wb") as fh:
                    fh.write(payload)
            else:
                (folder / name).write_bytes(payload)
        data[split] = (images, labels)
    return data
