"""The zarr store of a sweep: created once with fixed chunking, filled region by region, with a
`chunk_done` flag per chunk written after its data (so an interrupted chunk is recomputed)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
import zarr

from .._version import __version__
from ..config import ConfigError
from ..integrate import status_flag_attrs
from ._grid import Grid
from ._outcome import OUTCOME_THRESHOLDS, outcome_flag_attrs

__all__ = ["signature", "create_store", "open_done", "write_region", "mark_done", "read_store", "check_resumable"]

_FLAGGED = {"status": status_flag_attrs, "mode_status": status_flag_attrs, "outcome": outcome_flag_attrs}


def signature(grid: Grid, ts: np.ndarray, integrator: str) -> str:
    """Hash of everything that fixes the numbers in the store: base config, axes, chunking, times
    and the integrator."""
    payload = json.dumps({
        "integrator": integrator,
        "config": grid.base.to_json(),
        "axes": [[a.name, [str(v) for v in a.values]] for a in grid.axes],
        "rows_per_chunk": grid.rows_per_chunk,
        "time": [float(t) for t in ts],
    }, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _coord(values: np.ndarray) -> np.ndarray:
    return values.astype(str) if values.dtype == object else values


def create_store(path: Path, group: str, grid: Grid, ts: np.ndarray, example: dict[str, tuple],
                 attrs: dict[str, Any]) -> None:
    """Write the store's metadata (no data): every variable with its dims, dtype and chunks."""
    coords: dict[str, Any] = {a.name: _coord(a.values) for a in grid.axes}
    coords["time"] = ts
    coords["mode"] = np.arange(grid.base.n2)
    data_vars = {}
    for name, (trailing, arr) in example.items():
        dims = tuple(grid.names) + tuple(trailing)
        shape = grid.shape + arr.shape[len(grid.shape):]
        chunks = (grid.rows_per_chunk,) + shape[1:]
        fill = np.nan if np.issubdtype(arr.dtype, np.floating) else 0
        data = da.full(shape, fill, dtype=arr.dtype, chunks=chunks)
        data_vars[name] = xr.Variable(dims, data, attrs=_FLAGGED[name]() if name in _FLAGGED else {})
    data_vars["chunk_done"] = xr.Variable(("chunk",), da.zeros(grid.n_chunks, dtype=np.int8, chunks=1),
                                          attrs={"long_name": "1 where the chunk's data is complete"})
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    encoding = {name: {"chunks": ds[name].data.chunksize} for name in data_vars}
    ds.to_zarr(path, group=group, mode="w", compute=False, encoding=encoding, consolidated=False)
    # xarray writes the coordinates and leaves data arrays empty (fill values) with compute=False


def _group(path: Path, group: str, mode: str = "r+") -> zarr.Group:
    return zarr.open_group(str(path), mode=mode, path=group)


def open_done(path: Path, group: str) -> np.ndarray:
    return np.asarray(_group(path, group, "r")["chunk_done"][:])


def check_resumable(path: Path, group: str, expected_signature: str) -> None:
    """Refuse to resume a store written by a different sweep."""
    try:
        attrs = dict(_group(path, group, "r").attrs)
    except Exception as err:  # noqa: BLE001 - any unreadable store is refused the same way
        raise ConfigError("out", str(path), f"exists but is not a readable sweep store ({err})") from None
    if attrs.get("sweep_signature") != expected_signature:
        raise ConfigError("resume", str(path), "the store was written by a different sweep (base config, axes, "
                          "chunking, times or integrator differ); use a new --out or --overwrite")


def write_region(path: Path, group: str, grid: Grid, chunk: int, values: dict[str, tuple]) -> None:
    """Write one chunk's arrays into their region (first-axis slab)."""
    root = _group(path, group)
    rows = grid.chunk_rows(chunk)
    for name, (_, arr) in values.items():
        root[name][rows.start:rows.stop] = arr


def mark_done(path: Path, group: str, chunk: int) -> None:
    _group(path, group)["chunk_done"][chunk] = 1


def read_store(path: Path, group: str) -> xr.Dataset:
    """Load a sweep group fully into memory."""
    with xr.open_zarr(path, group=group, consolidated=False) as ds:
        return ds.load()


def base_attrs(grid: Grid, ts: np.ndarray, theory: str, integrator: str) -> dict[str, Any]:
    attrs = dict(grid.base.flat_attrs())
    attrs.update(
        config_json=grid.base.to_json(),
        dynamics_version=__version__,
        theory=theory,
        swept=" ".join(grid.names),
        axes_json=json.dumps([[a.name, a.spec, [str(v) for v in a.values]] for a in grid.axes]),
        rows_per_chunk=grid.rows_per_chunk,
        n_chunks=grid.n_chunks,
        outcome_thresholds=json.dumps(OUTCOME_THRESHOLDS),
        integrator=integrator,
        sweep_signature=signature(grid, ts, integrator),
    )
    return attrs
