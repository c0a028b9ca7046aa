"""Connectors: which pre neuron connects to which post neuron.

Every connector resolves to explicit index arrays in spikemem (``connect``), so all
targets build the very same synapses. ``FromList`` also carries per-synapse weights
and delays.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from . import _checks as chk
from ._node import Node
from .errors import ValidationError


@dataclass(frozen=True)
class Connections:
    """Resolved synapses: pre index ``i``, post index ``j``; per-synapse weight/delay or None."""

    i: np.ndarray
    j: np.ndarray
    weight: np.ndarray | None = None
    delay: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.i)


class Connector(Node):
    """Base class; subclasses implement ``connect``."""

    def connect(self, n_pre: int, n_post: int, seed: int) -> Connections:
        raise NotImplementedError

    def count(self, n_pre: int, n_post: int, seed: int) -> int:
        """Number of synapses, without building index arrays where a closed form exists."""
        return len(self.connect(n_pre, n_post, seed))

    def expected_count(self, n_pre: int, n_post: int) -> float:
        """Number of synapses to expect, without drawing or building anything (a random
        connector's mean): what a memory estimate reads."""
        return float(self.count(n_pre, n_post, 0))


@dataclass(frozen=True, init=False, eq=False)
class OneToOne(Connector):
    """Neuron ``k`` of the pre population to neuron ``k`` of the post population (same sizes)."""

    def count(self, n_pre: int, n_post: int, seed: int) -> int:
        return n_pre

    def connect(self, n_pre: int, n_post: int, seed: int) -> Connections:
        k = np.arange(n_pre, dtype=np.int64)
        return Connections(k, k.copy())


@dataclass(frozen=True, init=False, eq=False)
class AllToAll(Connector):
    """Every pre neuron to every post neuron; ``allow_self_connections=False`` skips i == j."""

    allow_self_connections: bool = True

    def _validate(self) -> None:
        if not isinstance(self.allow_self_connections, (bool, np.bool_)):
            raise ValidationError("AllToAll.allow_self_connections", self.allow_self_connections, "True or False")
        self._set("allow_self_connections", bool(self.allow_self_connections))

    def count(self, n_pre: int, n_post: int, seed: int) -> int:
        return n_pre * n_post - (0 if self.allow_self_connections else min(n_pre, n_post))

    def connect(self, n_pre: int, n_post: int, seed: int) -> Connections:
        i, j = np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij")
        i, j = i.ravel().astype(np.int64), j.ravel().astype(np.int64)
        if not self.allow_self_connections:
            keep = i != j
            i, j = i[keep], j[keep]
        return Connections(i, j)


@dataclass(frozen=True, init=False, eq=False)
class FixedProbability(Connector):
    """Each pair connects independently with probability ``p_connect``.

    ``seed`` fixes the draw; ``None`` derives it from the ``simulate`` seed and the
    projection name.
    """

    p_connect: float = 0.1
    allow_self_connections: bool = True
    seed: int | None = None

    def _validate(self) -> None:
        p = chk.finite("FixedProbability.p_connect", self.p_connect)
        if not 0.0 <= p <= 1.0:
            raise ValidationError("FixedProbability.p_connect", self.p_connect, "a probability in [0, 1]")
        self._set("p_connect", p)
        if not isinstance(self.allow_self_connections, (bool, np.bool_)):
            raise ValidationError(
                "FixedProbability.allow_self_connections", self.allow_self_connections, "True or False"
            )
        self._set("allow_self_connections", bool(self.allow_self_connections))
        if self.seed is not None:
            self._set("seed", chk.count("FixedProbability.seed", self.seed, minimum=0))

    def expected_count(self, n_pre: int, n_post: int) -> float:
        pairs = n_pre * n_post - (0 if self.allow_self_connections else min(n_pre, n_post))
        return self.p_connect * pairs

    def connect(self, n_pre: int, n_post: int, seed: int) -> Connections:
        rng = np.random.default_rng(self.seed if self.seed is not None else seed)
        mask = rng.random((n_pre, n_post)) < self.p_connect
        if not self.allow_self_connections:
            np.fill_diagonal(mask, False)
        i, j = np.nonzero(mask)
        return Connections(i.astype(np.int64), j.astype(np.int64))


@dataclass(frozen=True, init=False, eq=False)
class FromList(Connector):
    """Explicit synapses: rows of ``(i, j)`` or ``(i, j, weight, delay_ms)``.

    With four columns each synapse has its own weight and delay, overriding the
    synapse type's defaults.
    """

    conn_list: np.ndarray = None  # type: ignore[assignment]

    def _validate(self) -> None:
        try:
            arr = np.array(self.conn_list, dtype=np.float64, copy=True)
        except (TypeError, ValueError):
            raise ValidationError(
                "FromList.conn_list", self.conn_list, "rows of (i, j) or (i, j, weight, delay)"
            ) from None
        if arr.size == 0:
            arr = arr.reshape(0, 2)
        if arr.ndim != 2 or arr.shape[1] not in (2, 4):
            raise ValidationError("FromList.conn_list", f"array of shape {arr.shape}", "shape (n, 2) or (n, 4)")
        if not np.all(np.isfinite(arr)):
            bad = int(np.argwhere(~np.isfinite(arr))[0][0])
            raise ValidationError(f"FromList.conn_list[{bad}]", tuple(arr[bad]), "finite indices, weights and delays")
        idx = arr[:, :2]
        if np.any(idx < 0) or np.any(idx != np.round(idx)):
            bad = int(np.argwhere((idx < 0) | (idx != np.round(idx)))[0][0])
            raise ValidationError(f"FromList.conn_list[{bad}]", tuple(arr[bad]), "non-negative integer indices i, j")
        arr.setflags(write=False)
        self._set("conn_list", arr)

    @property
    def has_weights(self) -> bool:
        return self.conn_list.shape[1] == 4

    def connect(self, n_pre: int, n_post: int, seed: int) -> Connections:
        arr = self.conn_list
        i, j = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)
        if self.has_weights:
            return Connections(i, j, arr[:, 2].copy(), arr[:, 3].copy())
        return Connections(i, j)


@dataclass(frozen=True, init=False, eq=False)
class Blocks(Connector):
    """Block-diagonal copies of ``inner``: ``copies`` independent networks side by side.

    With ``a = n_pre / copies`` and ``b = n_post / copies``, pre neuron ``c*a + k``
    connects to post neuron ``c*b + l`` exactly when ``inner`` connects ``k`` to ``l``
    (``0 <= c < copies``). Every copy gets the same inner pattern; synapses are ordered
    copy by copy. Used by :func:`spikemem.batch.stack` to run many trials in one run.
    """

    inner: Connector = None  # type: ignore[assignment]
    copies: int = 1

    def _validate(self) -> None:
        if not isinstance(self.inner, Connector) or isinstance(self.inner, Blocks):
            raise ValidationError(
                "Blocks.inner", self.inner, "a connector (OneToOne, AllToAll, FixedProbability, FromList), not Blocks"
            )
        self._set("copies", chk.count("Blocks.copies", self.copies))

    def block_sizes(self, n_pre: int, n_post: int, field: str = "Blocks") -> tuple[int, int]:
        """``(n_pre / copies, n_post / copies)``; ValidationError unless both divide evenly."""
        for n, end in ((n_pre, "pre"), (n_post, "post")):
            if n % self.copies:
                raise ValidationError(f"{field}.copies", self.copies, f"a divisor of the {end} size {n}")
        a, b = n_pre // self.copies, n_post // self.copies
        if isinstance(self.inner, OneToOne) and a != b:
            raise ValidationError(f"{field}.inner", "OneToOne", f"blocks of equal size (pre {a}, post {b})")
        if isinstance(self.inner, FromList) and len(self.inner.conn_list):
            top = self.inner.conn_list[:, :2].max(axis=0)
            if top[0] >= a or top[1] >= b:
                raise ValidationError(
                    f"{field}.inner.conn_list", tuple(top), f"indices below the block sizes ({a}, {b})"
                )
        return a, b

    def count(self, n_pre: int, n_post: int, seed: int) -> int:
        a, b = self.block_sizes(n_pre, n_post)
        return self.copies * self.inner.count(a, b, seed)

    def expected_count(self, n_pre: int, n_post: int) -> float:
        a, b = self.block_sizes(n_pre, n_post)
        return self.copies * self.inner.expected_count(a, b)

    def connect(self, n_pre: int, n_post: int, seed: int) -> Connections:
        a, b = self.block_sizes(n_pre, n_post)
        one = self.inner.connect(a, b, seed)
        offset = np.arange(self.copies, dtype=np.int64)[:, None]
        i = (one.i[None, :] + offset * a).ravel()
        j = (one.j[None, :] + offset * b).ravel()
        weight = None if one.weight is None else np.tile(one.weight, self.copies)
        delay = None if one.delay is None else np.tile(one.delay, self.copies)
        return Connections(i, j, weight, delay)


def projection_seed(seed: int, name: str) -> int:
    """A per-projection seed derived from the run seed and the projection's name."""
    return (int(seed) * 1_000_003 + zlib.crc32(name.encode())) % (2**32)
