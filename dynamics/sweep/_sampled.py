"""Sweeps of the sampled simulators (minibatch SGD, ER, ISSL): one `simulate` call per grid point.

The flow's sweeps integrate many lanes at once (`compute_chunk`); a sampled run is a training loop,
so here every grid point is one `dynamics.simulate(config)` (compiled once for all points that share
the shapes: numbers such as lr, kappa or the seed are traced), and the summaries are gathered into one
Dataset with dims (swept axes..., save, mode). A `seed` axis adds, for every numeric variable, its
mean over the seeds (`<name>_mean`) and the standard error of that mean (`<name>_sem`: the sample
standard deviation, ddof = 1, over the finite values divided by the square root of their number; NaN
with fewer than two).
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import xarray as xr

from .._version import __version__
from ..config import Config, ConfigError, check_output_folder
from ..integrate import Status, status_flag_attrs
from ._axes import Axis, make_axes
from ._outcome import OUTCOME_THRESHOLDS, Outcome, outcome_flag_attrs
from ._point_log import PointLog, point_log_folder
from ._store import consolidate

__all__ = ["sweep_sampled", "check_sweep_sampled", "SAMPLED_UNSWEEPABLE", "seed_summary", "sampled_outcome"]

#: Fields a sampled sweep refuses as axes, with the reason (besides the flow's `UNSWEEPABLE`).
SAMPLED_UNSWEEPABLE = {
    **{name: "it is derived from the training settings (THEORY.md §1): sweep lr, momentum, ema_momentum or "
             "weight_decay instead" for name in ("alpha_p", "beta", "eta", "eta_p")},
    **{name: "it changes the saved grid shared by every point; set it in the base config"
       for name in ("steps", "save_every")},
    **{name: "it changes which simulator runs; run one sweep per value" for name in ("objective", "discrete")},
    **{name: "a yes/no setting; run one sweep per value" for name in ("decoupled", "plugin")},
}


def _axes(base: Config, axes, seed: int) -> list[Axis]:
    names = [a.split("=", 1)[0].strip().replace("-", "_") if isinstance(a, str) else
             (a.name if isinstance(a, Axis) else None) for a in (axes if not isinstance(axes, Mapping) else [])]
    names += [str(k).replace("-", "_") for k in axes] if isinstance(axes, Mapping) else []
    for name in names:
        if name in SAMPLED_UNSWEEPABLE:
            raise ConfigError("param", name, f"{name} cannot be swept for the {base.simulator} simulator "
                              f"({SAMPLED_UNSWEEPABLE[name]})")
    return make_axes(base, axes, seed=seed)


def _check_out(out: Path, group: str, resume: bool, overwrite: bool) -> None:
    if resume and overwrite:
        raise ConfigError("resume", True, "--resume continues a sweep and --overwrite starts it again: pass one")
    check_output_folder(out, suffix=".zarr")
    if (out / group).exists() and not overwrite and not resume:
        raise ConfigError("out", str(out), f"already holds a sweep group {group!r}; pass --overwrite to replace it "
                          "(or --resume to read it back)")


def _manifest(base: Config, axis_list: list[Axis], group: str) -> dict[str, Any]:
    """What names a sampled sweep: the base config, the axes with their values, the group, the version."""
    return {"base": base.to_json(), "group": group, "version": __version__,
            "axes": [[a.name, [repr(_plain(v)) for v in a.values]] for a in axis_list]}


def _finished(out: Path, group: str, manifest: dict[str, Any]) -> xr.Dataset:
    """The finished group of this sweep, read back for `resume`.

    **Raises:** `ConfigError` naming `resume` when the group holds another sweep."""
    ds = xr.open_zarr(out, group=group, consolidated=False).load()
    if ds.attrs.get("sweep_manifest") != json.dumps(manifest):
        raise ConfigError("resume", True, f"{out} group {group!r} holds a sweep with other settings or axes: pass "
                          "--overwrite to replace it")
    return ds


def check_sweep_sampled(base: Config, axes, *, out: str | Path | None = None, group: str | None = None,
                        resume: bool = False, overwrite: bool = False, seed: int = 0) -> None:
    """Every check `sweep_sampled` makes before it runs anything (axes, every value, the store).

    **Raises:** `ConfigError` naming the problem."""
    if base.simulator == "flow":
        raise ConfigError("simulator", "flow", "sweep_sampled is for discrete, er/rec and issl configs; use sweep")
    _axes(base, axes, seed)
    if out is not None:
        _check_out(Path(out), group or base.simulator, resume, overwrite)


def sampled_outcome(eig_F: np.ndarray, status: int) -> np.ndarray:
    """`Outcome` per mode of a sampled run from its spectrum (time x mode): `collapsed` when the final
    eigenvalue is at most `collapse_s` times the largest initial one, `not_converged` when it still
    changed by more than `converged_rtol` (relative) over the last saved interval, `non_collapsed`
    otherwise; `diverged` / `failed` from the status (the thresholds of the flow's sweeps)."""
    th = OUTCOME_THRESHOLDS
    lam = np.asarray(eig_F, dtype=float)
    rows = np.flatnonzero(np.all(np.isfinite(lam), axis=1))
    out = np.full(lam.shape[1], int(Outcome.non_collapsed), dtype=np.int8)
    if status == Status.diverged:
        return np.full_like(out, int(Outcome.diverged))
    if status != Status.ok or rows.size == 0:
        return np.full_like(out, int(Outcome.failed))
    final, prev = lam[rows[-1]], lam[rows[-2] if rows.size > 1 else rows[-1]]
    scale = max(float(np.max(np.abs(lam[rows[0]]))), 1e-300)
    moving = np.abs(final - prev) > th["converged_rtol"] * np.maximum(np.abs(final), th["converged_floor"] * scale)
    out = np.where(moving, int(Outcome.not_converged), out)
    out = np.where(final <= th["collapse_s"] * scale, int(Outcome.collapsed), out)
    return out.astype(np.int8)


def seed_summary(ds: xr.Dataset, dim: str = "seed") -> xr.Dataset:
    """Add `<name>_mean` and `<name>_sem` over `dim` for every floating-point variable that has it
    (not `time`, which the seed does not change):
    the mean of the finite values and the standard error of that mean, std(ddof=1) / sqrt(n) over the
    n finite values (NaN where n < 2)."""
    out = ds.copy()
    for name, da in ds.data_vars.items():
        if dim not in da.dims or not np.issubdtype(da.dtype, np.floating) or name == "time":
            continue
        values = np.moveaxis(np.asarray(da.values, dtype=float), da.dims.index(dim), -1)
        finite = np.isfinite(values)
        n = finite.sum(axis=-1)
        total = np.where(finite, values, 0.0).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n
            dev = np.where(finite, values - mean[..., None], 0.0)
            sem = np.sqrt((dev**2).sum(axis=-1) / (n - 1)) / np.sqrt(n)
        mean = np.where(n > 0, mean, np.nan)
        sem = np.where(n > 1, sem, np.nan)
        dims = tuple(d for d in da.dims if d != dim)
        long = da.attrs.get("long_name", name)
        out[f"{name}_mean"] = (dims, mean, {"long_name": f"{long}: mean over {dim}s"})
        out[f"{name}_sem"] = (dims, sem, {"long_name": f"{long}: standard error of the mean over {dim}s "
                                                       "(std, ddof=1, / sqrt(n finite))"})
    return out


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _point(ds: xr.Dataset, config: Config) -> dict[str, np.ndarray]:
    """What a sampled sweep keeps of one run: the spectrum, its final value and outcome, the status,
    the flow time, the optimizer step of every save and every numeric per-time variable."""
    status = int(ds["status"].values)
    point = {"eig_F": ds["eig_F"].values, "time": ds["time"].values, "eig_F_final": ds["eig_F"].values[-1],
             "status": np.int8(status), "outcome": sampled_outcome(ds["eig_F"].values, status),
             "step": np.asarray(ds["step"].values if "step" in ds.coords else
                                np.arange(ds.sizes["time"]) * config.save_every, dtype=np.int64)}
    for name, da in ds.data_vars.items():
        if da.dims == ("time",) and name != "reached" and np.issubdtype(da.dtype, np.number):
            point[name] = np.asarray(da.values, dtype=float)
    return point


def sweep_sampled(base: Config, axes: Mapping[str, Sequence[Any]] | Sequence[Axis | str], *,
                  out: str | Path | None = None, group: str | None = None, overwrite: bool = False,
                  resume: bool = False, progress: bool = True, seed: int = 0) -> xr.Dataset:
    """Run every configuration of the product grid `axes` around a sampled `base` (`base.simulator`
    sgd, er or issl), one `dynamics.simulate` call per point, and gather the results.

    **Returns:** a Dataset with dims (swept axes..., save, mode): `eig_F` (the spectrum of
    F = W X W^T at the saved states), every per-time numeric variable of the runs (`loss`,
    `kernel_entropy`, ...; ISSL: `probe_accuracy`, `etf_distance`, ...), `time` per point (flow
    time; it differs between points when lr or momentum is swept), coordinate `step` (optimizer
    steps at each save), `eig_F_final`, `outcome` per mode (`sampled_outcome`, flags as in the
    flow's sweeps), `status` per point; with a `seed` axis also the `_mean` / `_sem` summaries
    (`seed_summary`). Attributes: the base config (`config_json` and its fields), `swept`,
    `simulator`. With `out`, written to the zarr store `out` (group `group`, default the
    simulator's name) once every point is done; until then every finished point is kept beside the
    store (`dynamics.sweep._point_log`), so an interrupted sweep continues with `resume=True` and
    equals an uninterrupted one bit for bit (`resume` on a finished group reads it back).

    **Raises:** `ConfigError` for bad axes or store before anything runs.
    """
    from .._simulate import simulate
    from ._sweep import _Progress

    group = group or base.simulator
    check_sweep_sampled(base, axes, out=out, group=group, resume=resume, overwrite=overwrite, seed=seed)
    axis_list = _axes(base, axes, seed)
    shape = tuple(a.values.size for a in axis_list)
    manifest = _manifest(base, axis_list, group)
    log, done = None, {}
    if out is not None:
        if resume and (Path(out) / group).exists():
            return _finished(Path(out), group, manifest)
        log = PointLog(point_log_folder(Path(out), group), manifest)
        done = log.open(resume=resume, overwrite=overwrite)
    bar = _Progress(int(np.prod(shape)), f"sweep {group}", progress)
    bar.start(len(done))
    results: dict[str, np.ndarray] = {}
    try:
        for index in itertools.product(*(range(n) for n in shape)):
            point = done.get(index)
            if point is None:
                config = base.replace(**{a.name: _plain(a.values[i]) for a, i in zip(axis_list, index)})
                point = _point(simulate(config), config)
                if log is not None:
                    log.save(index, point)
                bar.update(1)
            for name, value in point.items():
                value = np.asarray(value)
                if name not in results:
                    results[name] = np.full(shape + value.shape, np.nan if value.dtype.kind == "f" else 0,
                                            dtype=value.dtype)
                results[name][index] = value
    finally:
        bar.close()
    steps = results.pop("step")[(0,) * len(shape)]
    names = tuple(a.name for a in axis_list)
    trailing = {"eig_F": ("save", "mode"), "eig_F_final": ("mode",), "outcome": ("mode",), "status": ()}
    data_vars = {name: (names + trailing.get(name, ("save",)), arr) for name, arr in results.items()}
    coords = {a.name: (a.values.astype(str) if a.values.dtype == object else a.values) for a in axis_list}
    coords.update(step=("save", np.asarray(steps, dtype=np.int64)), mode=np.arange(results["eig_F"].shape[-1]))
    attrs = {k: v for k, v in base.flat_attrs().items() if k not in names}
    attrs.update(config_json=base.to_json(), swept=" ".join(names), simulator=base.simulator,
                 sweep_kind="sampled", dynamics_version=__version__, sweep_manifest=json.dumps(manifest))
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    ds["status"].attrs.update(status_flag_attrs())
    ds["outcome"].attrs.update(outcome_flag_attrs())
    ds["time"].attrs["long_name"] = "flow time of each saved state (steps x lr/(1-momentum))"
    if "seed" in names:
        ds = seed_summary(ds, "seed")
    if out is not None:
        path = Path(out)
        if (path / group).exists():
            shutil.rmtree(path / group)
        ds.to_zarr(path, group=group, mode="w", consolidated=False)
        consolidate(path)  # xarray.open_zarr(path, group=...) opens it without a warning
        log.remove()
    return ds
