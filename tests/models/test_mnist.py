"""MNIST's IDX files read from disk (spikemem.mnist), on small files written in the real format."""

from __future__ import annotations

import numpy as np
import pytest
from _mnist import write_small_mnist

from spikemem import mnist
from spikemem.errors import ValidationError


@pytest.mark.parametrize("layout", ["flat", "gzip", "torchvision"])
def test_reads_the_four_files_in_every_layout(tmp_path, layout):
    folder = tmp_path / "MNIST" / "raw" if layout == "torchvision" else tmp_path
    written = write_small_mnist(folder, gz=layout != "flat")
    splits = mnist.load(tmp_path)
    for split, (images, labels) in written.items():
        np.testing.assert_array_equal(splits[split].images, images)
        np.testing.assert_array_equal(splits[split].labels, labels)
        assert splits[split].images.dtype == np.uint8


def test_write_idx_round_trips(tmp_path):
    a = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
    mnist.write_idx(tmp_path / "a.gz", a)
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / "a.gz"), a)


def test_missing_folder_or_file_is_named(tmp_path):
    with pytest.raises(ValidationError, match="t10k-labels-idx1-ubyte"):
        mnist.load(tmp_path / "nowhere", "--mnist")
    write_small_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(ValidationError, match="--mnist"):
        mnist.load(tmp_path, "--mnist")


def test_bad_contents_are_refused(tmp_path):
    write_small_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + (7).to_bytes(4, "big") + bytes(7))
    with pytest.raises(ValidationError, match="one per image"):
        mnist.load(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"PK\x03\x04 not an idx file")  # e.g. a zip put in its place
    with pytest.raises(ValidationError, match="IDX file of unsigned bytes"):
        mnist.load(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + (40).to_bytes(4, "big") + bytes(10))
    with pytest.raises(ValidationError, match="whole header|fills its shape"):
        mnist.load(tmp_path)
