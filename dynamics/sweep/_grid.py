"""The product grid of a sweep, its fixed chunking, and per-point settings built without a Python
loop over every point (values are computed once per distinct combination of the relevant axes)."""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable, Iterable

import numpy as np

from ..config import Config
from ._axes import Axis

__all__ = ["Grid"]


class Grid:
    """A product grid over `axes` around `base`, chunked along the first axis.

    Chunk c covers first-axis indices [c * rows_per_chunk, (c + 1) * rows_per_chunk): a contiguous
    slab, so every chunk is one zarr region and its points are independent of every other chunk.
    """

    def __init__(self, base: Config, axes: list[Axis], rows_per_chunk: int):
        self.base = base
        self.axes = axes
        self.shape = tuple(len(a.values) for a in axes)
        self.rows_per_chunk = max(1, min(int(rows_per_chunk), self.shape[0]))
        self.n_chunks = math.ceil(self.shape[0] / self.rows_per_chunk)

    @classmethod
    def with_target_chunk(cls, base: Config, axes: list[Axis], points_per_chunk: int) -> Grid:
        """Choose rows per chunk so a chunk holds about `points_per_chunk` grid points."""
        inner = int(np.prod([len(a.values) for a in axes[1:]], dtype=np.int64)) if len(axes) > 1 else 1
        return cls(base, axes, max(1, points_per_chunk // max(inner, 1)))

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.axes]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def chunk_rows(self, chunk: int) -> slice:
        start = chunk * self.rows_per_chunk
        return slice(start, min(start + self.rows_per_chunk, self.shape[0]))

    def chunk_shape(self, chunk: int) -> tuple[int, ...]:
        rows = self.chunk_rows(chunk)
        return (rows.stop - rows.start,) + self.shape[1:]

    def config_at(self, index: Iterable[int]) -> Config:
        """The `Config` of one grid point (a multi-index)."""
        changes = {a.name: _plain(a.values[i]) for a, i in zip(self.axes, index)}
        return self.base.replace(**changes)

    def per_point(self, chunk: int, relevant: Iterable[str], fn: Callable[[Config], Any]) -> np.ndarray:
        """`fn(config)` for every point of `chunk`, shape chunk_shape + result shape.

        `fn` is evaluated once per distinct combination of the axes named in `relevant` (the fields
        `fn` reads) and broadcast over the others, so a 256 x 256 grid of rates costs 256 calls.
        """
        relevant = set(relevant)
        rows = self.chunk_rows(chunk)
        ranges = [range(rows.start, rows.stop) if k == 0 else range(len(a.values)) for k, a in enumerate(self.axes)]
        use = [k for k, a in enumerate(self.axes) if a.name in relevant]
        sub = [ranges[k] for k in use]
        results = []
        for combo in itertools.product(*sub):
            changes = {self.axes[k].name: _plain(self.axes[k].values[i]) for k, i in zip(use, combo)}
            results.append(fn(self.base.replace(**changes) if changes else self.base))
        first = np.asarray(results[0], dtype=object if isinstance(results[0], (str, tuple)) or not _numeric(
            results[0]) else None)
        if first.dtype == object:
            stacked = np.empty(len(results), dtype=object)
            stacked[:] = results
            extra: tuple[int, ...] = ()
        else:
            stacked = np.stack([np.asarray(r) for r in results])
            extra = stacked.shape[1:]
        stacked = stacked.reshape(tuple(len(r) for r in sub) + extra)
        # put the relevant axes back in grid order, with singleton axes for the others
        full_shape = tuple(len(r) for r in ranges)
        expanded_shape = tuple(full_shape[k] if k in use else 1 for k in range(len(ranges))) + extra
        out = np.broadcast_to(stacked.reshape(expanded_shape), full_shape + extra)
        return np.ascontiguousarray(out) if out.dtype != object else out.copy()


def _numeric(value: Any) -> bool:
    try:
        np.asarray(value, dtype=float)
        return True
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
