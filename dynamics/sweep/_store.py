"""The zarr store of a sweep: created once with fixed chunking, filled region by region, with a
checksum and a `chunk_done` flag per chunk written after its data (so an interrupted or damaged
chunk is recomputed; see `_integrity`)."""

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
from ._integrity import BOOKKEEPING, DIGEST_SIZE, inspect_group, record_metadata
from ._outcome import OUTCOME_THRESHOLDS, Outcome, outcome_flag_attrs

__all__ = ["signature", "create_store", "open_done", "write_region", "read_store", "check_resumable",
           "grid_coords", "NOT_COMPUTED_STATUS", "STORE_ATTRS"]

_FLAGGED = {"status": status_flag_attrs, "mode_status": status_flag_attrs, "outcome": outcome_flag_attrs}
#: `status` / `mode_status` of a cell that was never computed, as `read_store` returns it.
NOT_COMPUTED_STATUS = -1
#: Bookkeeping attributes of the group that `read_store` leaves out of the returned dataset.
STORE_ATTRS = ("array_metadata_json", "data_variables", "coords_sha256")


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
    # names are stored as variable-length strings (zarr's fixed-length UTF-32 has no v3 specification)
    return np.asarray([str(v) for v in values], dtype=object) if values.dtype == object else values


def grid_coords(grid: Grid, ts: np.ndarray) -> dict[str, np.ndarray]:
    """The coordinates of a sweep: one per axis, `time` and `mode`."""
    coords: dict[str, Any] = {a.name: _coord(a.values) for a in grid.axes}
    coords["time"] = np.asarray(ts)
    coords["mode"] = np.arange(grid.base.n2)
    return coords


def create_store(path: Path, group: str, grid: Grid, ts: np.ndarray, example: dict[str, tuple],
                 attrs: dict[str, Any]) -> None:
    """Write the store's metadata (no data): every variable with its dims, dtype and chunks, the
    bookkeeping arrays `chunk_done` and `chunk_checksum`, and the copies `_integrity` repairs from."""
    coords = grid_coords(grid, ts)
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
    data_vars["chunk_checksum"] = xr.Variable(
        ("chunk", "digest"), da.zeros((grid.n_chunks, DIGEST_SIZE), dtype=np.uint8, chunks=(1, DIGEST_SIZE)),
        attrs={"long_name": "sha256 of every data variable's region of the chunk, written before chunk_done"})
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    encoding = {name: {"chunks": ds[name].data.chunksize} for name in data_vars}
    ds.to_zarr(path, group=group, mode="w", compute=False, encoding=encoding, consolidated=False)
    # xarray writes the coordinates and leaves data arrays empty (fill values) with compute=False
    record_metadata(path, group, list(example), list(coords))


def _group(path: Path, group: str, mode: str = "r+") -> zarr.Group:
    return zarr.open_group(str(path), mode=mode, path=group)


def open_done(path: Path, group: str) -> np.ndarray:
    """The done flags of a group (a flag that cannot be read counts as not done)."""
    arr = _group(path, group, "r")["chunk_done"]
    out = np.zeros(arr.shape[0], dtype=np.int8)
    for chunk in range(arr.shape[0]):
        try:
            out[chunk] = arr[chunk]
        except Exception:  # noqa: BLE001 - a damaged flag means: compute again
            out[chunk] = 0
    return out


def check_resumable(path: Path, group: str, expected_signature: str) -> None:
    """Refuse to resume a store written by a different sweep."""
    meta = path / group / "zarr.json"
    try:
        attrs = json.loads(meta.read_text()).get("attributes", {})
    except Exception as err:  # noqa: BLE001 - any unreadable store is refused the same way
        raise ConfigError("out", str(path), f"exists but is not a readable sweep store ({type(err).__name__}); "
                          "the store is too damaged to repair, use --overwrite to start it again") from None
    if attrs.get("sweep_signature") != expected_signature:
        raise ConfigError("resume", str(path), "the store was written by a different sweep (base config, axes, "
                          "chunking, times or integrator differ); use a new --out or --overwrite")


def write_region(path: Path, group: str, grid: Grid, chunk: int, values: dict[str, tuple]) -> None:
    """Write one chunk's arrays into their region (first-axis slab)."""
    root = _group(path, group)
    rows = grid.chunk_rows(chunk)
    for name, (_, arr) in values.items():
        root[name][rows.start:rows.stop] = arr


def _not_computed_value(name: str, dtype: np.dtype) -> Any:
    if name == "outcome":
        return int(Outcome.not_computed)
    if np.issubdtype(dtype, np.floating):
        return np.nan
    if np.issubdtype(dtype, np.signedinteger):
        return NOT_COMPUTED_STATUS
    return None  # booleans: stored as float with NaN


def read_store(path: str | Path, group: str) -> xr.Dataset:
    """Load a sweep group into memory, every cell proven or marked missing.

    Only chunks that are done and pass their checksum are read; every other cell is missing: NaN for
    float variables, `Outcome.not_computed` for `outcome`, `NOT_COMPUTED_STATUS` (-1) for the other
    integer variables (`status`, `mode_status`), NaN for boolean ones (then stored as float). The
    attribute `not_computed` counts the missing grid cells and `not_computed_chunks` lists their
    chunks; the bookkeeping arrays are left out except `chunk_done`.

    **Raises:** `ConfigError` when the group is not a readable sweep group or its metadata is
    damaged (`ssl-dynamics sweep --resume` repairs it; `ssl-dynamics verify` reports it).
    """
    path = Path(path)
    report = inspect_group(path, group, keep=True)
    where = f"{path}/{group}" if group else str(path)
    if report.fatal:
        raise ConfigError("file", where, f"is not a readable sweep store: {report.fatal}")
    if report.metadata:
        damaged = ", ".join(f"{k} ({v})" for k, v in sorted(report.metadata.items()))
        raise ConfigError("file", where, f"has damaged metadata: {damaged}; run ssl-dynamics sweep --resume with "
                          "the same settings to repair it (ssl-dynamics verify reports the damage)")
    with xr.open_zarr(path, group=group, consolidated=False, chunks=None) as lazy:
        ds = lazy.drop_vars(list(lazy.data_vars)).load()  # the coordinates (checked by inspect_group)
        variables = {name: (lazy[name].dims, lazy[name].shape, lazy[name].dtype, dict(lazy[name].attrs))
                     for name in lazy.data_vars if name not in BOOKKEEPING}
        done_attrs = dict(lazy["chunk_done"].attrs)
    missing = [c for c in range(report.n_chunks) if c not in report.arrays]
    ds["chunk_done"] = ("chunk", np.asarray([1 if c in report.arrays else 0 for c in range(report.n_chunks)],
                                            dtype=np.int8), done_attrs)
    for name, (dims, shape, dtype, attrs) in variables.items():
        fill = _not_computed_value(name, dtype)
        out_dtype = dtype if fill is not None else np.float64
        data = np.full(shape, np.nan if fill is None else fill, dtype=out_dtype)
        for chunk, arrays in report.arrays.items():
            rows = report.rows(chunk)
            data[rows.start:rows.stop] = arrays[name]
        ds[name] = (dims, data, attrs)
    n_missing = sum(report.rows(c).stop - report.rows(c).start for c in missing)
    inner = int(np.prod([ds.sizes[d] for d in ds.attrs.get("swept", "").split()[1:]], dtype=np.int64))
    for key in STORE_ATTRS:
        ds.attrs.pop(key, None)
    ds.attrs["not_computed"] = int(n_missing * inner)
    ds.attrs["not_computed_chunks"] = json.dumps(missing)
    return ds


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
