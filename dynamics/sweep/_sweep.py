"""`sweep`: integrate a product grid of configurations, chunk by chunk, resumably."""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import xarray as xr

from ..config import Config, ConfigError, check_output_folder, check_size, save_times, sweep_bytes
from ..integrate import status_flag_attrs
from ..results import theory_equations
from ._axes import Axis, make_axes
from ._chunk import INTEGRATORS, compute_chunk, resolve_integrator
from ._grid import Grid
from ._outcome import outcome_flag_attrs
from ._integrity import inspect_group, mark_done, repair_group
from ._store import (base_attrs, check_resumable, consolidate, create_store, grid_coords, open_done, read_store,
                     sweep_theory, write_region)
from ._summary import NotConvergedWarning, convergence_note

__all__ = ["sweep", "check_sweep", "DEFAULT_POINTS_PER_CHUNK"]

DEFAULT_POINTS_PER_CHUNK = 4096


def _prepare(base: Config, axes, n_save: int, points_per_chunk: int, seed: int) -> tuple[Grid, np.ndarray]:
    if isinstance(n_save, bool) or not isinstance(n_save, int) or n_save < 2:
        raise ConfigError("n_save", n_save, "must be an integer >= 2")
    if isinstance(points_per_chunk, bool) or not isinstance(points_per_chunk, int) or points_per_chunk < 1:
        raise ConfigError("points_per_chunk", points_per_chunk, "must be an integer >= 1")
    base = base.replace(n_save=n_save, save_spacing="log")
    axis_list = make_axes(base, axes, seed=seed)
    grid = Grid.with_target_chunk(base, axis_list, points_per_chunk)
    shape = " x ".join(str(n) for n in grid.shape)
    check_size("sweep", sweep_bytes(grid.base, grid.size, points_per_chunk),
               f"{grid.size} grid points ({shape}), n_save = {n_save}, n2 = {base.n2}, n1 = {base.n1}",
               "use fewer axis points, a smaller n_save, n1 or n2, or split the sweep")
    return grid, save_times(base)


def _check_out(path: Path, group: str, resume: bool, overwrite: bool) -> None:
    check_output_folder(path, suffix=".zarr")
    if (path / group).exists() and not resume and not overwrite:
        raise ConfigError("out", str(path), f"already holds a sweep group {group!r}; pass --resume to continue "
                          "it or --overwrite to replace it")


def check_sweep(base: Config, axes: Mapping[str, Sequence[Any]] | Sequence[Axis | str], *,
                out: str | Path | None = None, group: str | None = None, n_save: int = 64,
                points_per_chunk: int = DEFAULT_POINTS_PER_CHUNK, resume: bool = False, overwrite: bool = False,
                seed: int = 0, integrator: str = "auto") -> None:
    """Every check `sweep` makes before it computes anything (settings, axes and their
    combinations, the size guard, the output store), without computing: run it on every job of a
    command before the first one starts.

    **Raises:** `ConfigError` naming the problem.
    """
    if integrator not in INTEGRATORS:
        raise ConfigError("integrator", integrator, f"must be one of {', '.join(INTEGRATORS)}")
    grid, _ = _prepare(base, axes, n_save, points_per_chunk, seed)
    if out is not None:
        _check_out(Path(out), group or grid.base.model, resume, overwrite)


def _task(path: str, group: str, base_json: str, axes: list[tuple], rows_per_chunk: int, ts: list[float],
          integrator: str, chunk: int) -> int:
    """One chunk on a Dask worker: rebuild the grid, compute, write the region. Returns the chunk."""
    grid = Grid(Config.from_json(base_json), [Axis(n, np.asarray(v, dtype=object if d == "O" else d), s)
                                              for n, v, d, s in axes], rows_per_chunk)
    write_region(Path(path), group, grid, chunk, compute_chunk(grid, chunk, np.asarray(ts), integrator))
    return chunk


def _dask_client(scheduler: str | None, workers: int | None):
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def sweep(
    base: Config,
    axes: Mapping[str, Sequence[Any]] | Sequence[Axis | str],
    *,
    out: str | Path | None = None,
    group: str | None = None,
    n_save: int = 64,
    points_per_chunk: int = DEFAULT_POINTS_PER_CHUNK,
    resume: bool = False,
    overwrite: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = True,
    seed: int = 0,
    integrator: str = "auto",
) -> xr.Dataset:
    """Integrate every configuration of the product grid `axes` around `base`.

    **Arguments:**

    - `base`: the fixed settings (`model="modes"`: every (point, mode) is one lane of T11-T13b;
      `model="full"`: every point is one matrix flow T2-T5).
    - `axes`: `{"beta": values, "eta": values}` or axis strings such as `"beta=geom:1e-3:10:64"`
      (see `parse_axis`); several axes make a product grid, the first one is the chunked axis.
    - `out`: a zarr store (directory) to fill chunk by chunk; `group` inside it (default: the model).
      Without `out` everything stays in memory.
    - `n_save`: saved times per trajectory (log-spaced, with t = 0).
    - `points_per_chunk`: grid points per chunk; the chunking is fixed in the store.
    - `resume`: continue an existing store: every done chunk is verified first (each variable's
      region readable and equal to the sha256 recorded when the chunk was finished); damaged array
      metadata and coordinates are restored, and chunks not done or failing are (re)computed, each
      repair said on stderr. A store of a different sweep, or one whose group metadata is lost, is
      refused. Starts a new store when `out` does not exist.
    - `overwrite`: replace an existing store.
    - `scheduler` / `workers`: a Dask scheduler address, or the number of local worker processes;
      each worker computes chunks and writes its own zarr region.
    - `integrator`: "lanes": `solve_lanes`, every lane (a (point, mode) of the eigenmode model, or a
      point when the modes are coupled; a point of the full model) with its own step size, method
      (Tsit5, or the Rosenbrock ROS34PW2 while it is stiff) and status, so a batch costs the sum
      of its lanes' steps; with several jax devices the lanes are split over them, one host thread
      each. "diffrax": `jit(vmap(diffeqsolve))` with `base.solver`, sharded over the devices with
      `jax.sharding` (every lane of a batch takes the slowest lane's steps): the accuracy
      reference. "auto" (default): "lanes" for `model="modes"`, "diffrax" for `model="full"` (the
      faster of the two for each). Both use `base.rtol`, `base.atol`, `base.max_steps`; the
      resolved integrator is stored (`attrs["integrator"]`) and is part of the store's signature.

    **Returns:** an `xarray.Dataset` with dims (swept axes..., time, mode): trajectories (`p`, `s`,
    `tau` for modes; `eig_F`, `eig_Wp`, `p`, `tau` for full) at the saved times, final values,
    `time_to_converge`, `outcome` (see `Outcome`; `ds.outcome.flags.labels` gives the names) and
    `status` per point. Its attributes hold the settings shared by every cell; the base
    configuration is `config_json`, and a swept field is only a coordinate. With `out`, the
    store's metadata is consolidated (`xarray.open_zarr(out, group=...)` opens it directly;
    `dynamics.open_sweep(out)` reads it checked).

    **Warns:** `NotConvergedWarning` when more than 2% of the computed (point, mode) cells are
    still moving at t_max (`convergence_note`: the run is too short for them, with the t_max that
    would do).

    Fields that are one setting for the whole sweep (`t_max`, `rtol`, `atol`,
    `divergence_threshold`) and fields that change shapes are refused as axes (`UNSWEEPABLE`); every
    check (axes and their combinations, the size guard, the output store, which must be a `.zarr`
    folder in a writable place) runs before anything is computed (`check_sweep`).

    **Raises:** `ConfigError` for bad axes, a sweep too large for memory, or an incompatible store.
    """
    if integrator not in INTEGRATORS:
        raise ConfigError("integrator", integrator, f"must be one of {', '.join(INTEGRATORS)}")
    grid, ts = _prepare(base, axes, n_save, points_per_chunk, seed)
    integrator = resolve_integrator(integrator, grid.base.model)
    group = group or grid.base.model
    if out is not None:
        _check_out(Path(out), group, resume, overwrite)
    theory = sweep_theory(grid, theory_equations)
    bar = _Progress(grid.size, f"sweep {group}", progress)
    try:
        if out is None:
            ds = _in_memory(grid, ts, theory, bar, integrator)
        else:
            ds = _to_store(Path(out), group, grid, ts, theory, bar, resume, overwrite, scheduler, workers, integrator)
    finally:
        bar.close()
    note = convergence_note(ds, f"sweep {group}")
    if note:
        warnings.warn(note, NotConvergedWarning, stacklevel=2)
    return ds


class _Progress:
    """A tqdm bar opened only once there is work to do (never for a resume with nothing left, nor
    before an error is raised)."""

    def __init__(self, total: int, desc: str, enabled: bool):
        self.total, self.desc, self.enabled, self.bar = total, desc, enabled, None

    def start(self, done: int = 0) -> None:
        if self.bar is None and self.enabled and done < self.total:
            # the plain text bar: tqdm.auto warns in a notebook without ipywidgets (and sweeps write to stderr)
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, initial=done, unit="traj", desc=self.desc, file=sys.stderr,
                            dynamic_ncols=True, smoothing=0.1)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _in_memory(grid: Grid, ts: np.ndarray, theory: str, bar, integrator: str) -> xr.Dataset:
    bar.start()
    parts = []
    for chunk in range(grid.n_chunks):
        parts.append(compute_chunk(grid, chunk, ts, integrator))
        bar.update(int(np.prod(grid.chunk_shape(chunk))))
    data_vars = {}
    for name, (trailing, _) in parts[0].items():
        arr = np.concatenate([p[name][1] for p in parts], axis=0)
        attrs = {"status": status_flag_attrs, "mode_status": status_flag_attrs, "outcome": outcome_flag_attrs}
        data_vars[name] = (tuple(grid.names) + tuple(trailing), arr, attrs[name]() if name in attrs else {})
    coords = {a.name: (a.values.astype(str) if a.values.dtype == object else a.values) for a in grid.axes}
    coords.update(time=ts, mode=np.arange(grid.base.n2))
    return xr.Dataset(data_vars, coords=coords, attrs=base_attrs(grid, ts, theory, integrator))


def _to_store(path: Path, group: str, grid: Grid, ts: np.ndarray, theory: str, bar, resume: bool, overwrite: bool,
              scheduler: str | None, workers: int | None, integrator: str) -> xr.Dataset:
    attrs = base_attrs(grid, ts, theory, integrator)
    exists = (path / group).exists()
    if exists and resume and not overwrite:
        check_resumable(path, group, attrs["sweep_signature"])
        report = inspect_group(path, group)
        repair_group(path, group, report, grid_coords(grid, ts),
                     lambda message: print(f"sweep {group}: {message}", file=sys.stderr))
        done = open_done(path, group)
    elif exists and not overwrite:
        raise ConfigError("out", str(path), f"already holds a sweep group {group!r}; pass --resume to continue "
                          "it or --overwrite to replace it")
    else:
        if exists:
            shutil.rmtree(path / group)
            consolidate(path)  # the root's copy of the metadata must not describe the removed group
        done = None
    if done is None:
        bar.start()
        first = compute_chunk(grid, 0, ts, integrator)
        create_store(path, group, grid, ts, first, attrs)
        write_region(path, group, grid, 0, first)
        mark_done(path, group, 0, grid.chunk_rows(0))
        bar.update(int(np.prod(grid.chunk_shape(0))))
        done = open_done(path, group)
    else:
        bar.start(sum(int(np.prod(grid.chunk_shape(c))) for c in np.flatnonzero(done)))
    todo = [int(c) for c in np.flatnonzero(done == 0)]
    if todo and (scheduler or workers):
        _run_dask(path, group, grid, ts, todo, bar, scheduler, workers, integrator)
    else:
        for chunk in todo:
            write_region(path, group, grid, chunk, compute_chunk(grid, chunk, ts, integrator))
            mark_done(path, group, chunk, grid.chunk_rows(chunk))
            bar.update(int(np.prod(grid.chunk_shape(chunk))))
    consolidate(path)
    return read_store(path, group)


def _run_dask(path: Path, group: str, grid: Grid, ts: np.ndarray, todo: list[int], bar, scheduler, workers,
              integrator: str) -> None:
    from dask.distributed import as_completed

    client, cluster = _dask_client(scheduler, workers)
    try:
        axes = [(a.name, a.values.tolist(), a.values.dtype.str if a.values.dtype != object else "O", a.spec)
                for a in grid.axes]
        futures = [client.submit(_task, str(path.resolve()), group, grid.base.to_json(), axes, grid.rows_per_chunk,
                                 ts.tolist(), integrator, chunk, pure=False) for chunk in todo]
        for future in as_completed(futures):
            chunk = future.result()
            mark_done(path, group, chunk, grid.chunk_rows(chunk))
            bar.update(int(np.prod(grid.chunk_shape(chunk))))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
