"""The zarr store of a sweep: created once with fixed chunking, filled region by region, with a
checksum and a `chunk_done` flag per chunk written after its data (so an interrupted or damaged
chunk is recomputed; see `_integrity`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

if TYPE_CHECKING:  # zarr is imported where it is used (it is slow to import)
    import zarr

from .._version import __version__
from ..config import ConfigError
from ..integrate import status_flag_attrs
from ._grid import Grid
from ._integrity import BOOKKEEPING, DIGEST_SIZE, inspect_group, record_metadata
from ._outcome import OUTCOME_THRESHOLDS, Outcome, outcome_flag_attrs

__all__ = ["signature", "create_store", "open_done", "write_region", "read_store", "check_resumable",
           "grid_coords", "consolidate", "NOT_COMPUTED_STATUS", "STORE_ATTRS"]

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
    import dask.array as da  # imported here: dask and zarr are slow to import and only stores need them

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
    consolidate(path)  # the metadata is final now: chunks only add data


#: Attributes of the store's root group (which holds no data, only the groups).
ROOT_NOTE = ("a sweep store of ssl-dynamics: the data are in the groups listed in `groups` (the root holds none). "
             "Open one with dynamics.open_sweep(path, group=NAME), which reads only complete, checksummed chunks "
             "and marks the rest not computed; xarray.open_zarr(path, group=NAME) and "
             "xarray.open_datatree(path, engine='zarr') read the raw arrays.")


def consolidate(path: Path) -> None:
    """Describe the store at its root (the list of groups and how to open them) and write zarr's
    consolidated metadata there, so that `xarray.open_zarr(path, group=...)` opens it in one read
    and without a warning. Called when a group is created (its metadata is final then) and when a
    sweep finishes. Never fails a sweep: if the store cannot be consolidated (another group damaged),
    any consolidated metadata is removed instead, so that no reader sees a stale copy; the groups'
    own metadata (which `read_store`, `--resume` and `verify` use) is not touched."""
    import warnings

    import zarr

    from ._integrity import sweep_groups

    try:
        root = zarr.open_group(str(path), mode="a", use_consolidated=False)
        root.attrs.update({"description": ROOT_NOTE, "groups": sweep_groups(path)})
        with warnings.catch_warnings():  # zarr: "consolidated metadata is not part of the v3 specification"
            warnings.simplefilter("ignore")
            zarr.consolidate_metadata(str(path))
    except Exception:  # noqa: BLE001 - a damaged group elsewhere in the store: drop the copy
        meta_file = path / "zarr.json"
        try:
            meta = json.loads(meta_file.read_text())
            if meta.pop("consolidated_metadata", None) is not None:
                meta_file.write_text(json.dumps(meta, indent=2))
        except Exception:  # noqa: BLE001
            pass


def _group(path: Path, group: str, mode: str = "r+") -> zarr.Group:
    import zarr

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
        if name in ("status", "mode_status") and "flag_values" in attrs and NOT_COMPUTED_STATUS not in attrs["flag_values"]:
            attrs = {**attrs, "flag_values": [NOT_COMPUTED_STATUS] + list(attrs["flag_values"]),
                     "flag_meanings": "not_computed " + attrs["flag_meanings"]}
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
    for key in ds.attrs.get("swept", "").split():  # stores written before swept fields left the attributes
        ds.attrs.pop(key, None)
    ds.attrs["not_computed"] = int(n_missing * inner)
    ds.attrs["not_computed_chunks"] = json.dumps(missing)
    return ds


#: Attributes computed from several fields: dropped when one of those fields is swept.
_DERIVED_ATTRS = {"eta_p_effective": ("eta", "eta_p"), "predictor_alpha_effective": ("predictor", "predictor_alpha"),
                  "predictor_eps_effective": ("predictor", "predictor_eps")}
#: Fields that choose the equations a cell integrates (`theory_equations`).
_PATH_AXES = ("target", "stop_gradient", "predictor", "loss", "expectation")
CONFIG_NOTE = ("config_json is the base configuration; a cell's configuration is the base with the fields named in "
               "`swept` set to the cell's coordinates. The flat attributes hold only settings shared by every cell.")


def varying_attrs(grid: Grid) -> set[str]:
    """Flat attributes of the base config that do not hold for every cell: the swept fields and
    every attribute that changes with one of them (e.g. `eta_p_effective` when `eta` is swept)."""
    names = set(grid.names)
    base = grid.base.flat_attrs()
    varying = set(names) | {key for key, fields in _DERIVED_ATTRS.items() if names & set(fields)}
    for axis in grid.axes:
        for value in axis.values:
            try:
                other = grid.base.replace(**{axis.name: value.item() if hasattr(value, "item") else value}).flat_attrs()
            except Exception:  # noqa: BLE001 - a value valid only with another axis: the map above covers it
                continue
            varying |= {key for key, v in other.items() if base.get(key) != v}
    return varying


def sweep_theory(grid: Grid, theory_equations) -> str:
    """The equation numbers integrated anywhere in the grid: the base's, joined with those of every
    value of the axes that choose the equations (target, predictor, loss, ...)."""
    import itertools

    path_axes = [a for a in grid.axes if a.name in _PATH_AXES]
    seen: list[str] = []
    combos = itertools.islice(itertools.product(*[list(a.values) for a in path_axes]), 256)
    for combo in combos:
        try:
            config = grid.base.replace(**{a.name: str(v) for a, v in zip(path_axes, combo)})
        except Exception:  # noqa: BLE001 - an invalid combination is refused elsewhere
            continue
        for eq in theory_equations(config).split():
            if eq not in seen:
                seen.append(eq)
    return " ".join(seen) if seen else theory_equations(grid.base)


def base_attrs(grid: Grid, ts: np.ndarray, theory: str, integrator: str) -> dict[str, Any]:
    """The attributes of a sweep: the settings shared by every cell (flat), the base configuration
    (`config_json`, with `config_note`), the axes, chunking, outcome thresholds, integrator and
    signature. A swept field is a coordinate, never also an attribute."""
    varying = varying_attrs(grid)
    attrs = {k: v for k, v in grid.base.flat_attrs().items() if k not in varying}
    attrs.update(
        config_json=grid.base.to_json(),
        config_note=CONFIG_NOTE,
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
