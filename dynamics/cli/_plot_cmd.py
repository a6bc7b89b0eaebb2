"""`ssl-dynamics plot`: figures from result files (.nc: simulations and training logs) or sweep stores (.zarr)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import ConfigError, check_output_folder

__all__ = ["add_plot_parser", "run_plot"]

RUN_KINDS = ("trajectories", "portrait", "compare")
COMPARE_VARIABLES = ("eig_F", "eig_Wp", "tau", "relative_rate", "p", "s", "effective_rank", "kernel_entropy",
                     "participation_ratio", "knn_accuracy", "loss")
SWEEP_KINDS = ("outcome", "final", "time_to_converge")
DEFAULT_DPI = 150


def add_plot_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "plot", help="draw figures from a result file, training log or sweep store",
        description="Figures from simulate results and training logs (.nc: trajectories, portrait; several .nc "
                    "files: compare, one panel per run on one flow-time axis) or sweep stores (.zarr: outcome, "
                    "final, time_to_converge). Writes DIR/<name>_<kind>.<format>; a comparison "
                    "DIR/<name>_compare.<format>, <name> from --name or the files' names.")
    parser.add_argument("file", nargs="+", help=".nc results of simulate or logs of train (RUN_DIR/log.nc), or "
                                                ".zarr stores of sweep (not mixed)")
    parser.add_argument("--kind", action="append", choices=RUN_KINDS + SWEEP_KINDS,
                        help="figure kind (repeatable; default: all kinds for the file type)")
    parser.add_argument("--out", default=".", metavar="DIR", help="output folder (default: .)")
    parser.add_argument("--group", help="sweep group (default: every group in the store)")
    parser.add_argument("--format", action="append", choices=("png", "pdf", "svg"),
                        help="file format (repeatable; default png)")
    look = parser.add_argument_group("every kind")
    look.add_argument("--dpi", type=float, default=DEFAULT_DPI, help=f"resolution of PNGs (default {DEFAULT_DPI})")
    look.add_argument("--size", metavar="WxH", help="figure size in inches, e.g. 8x5 (default: per kind)")
    look.add_argument("--font-scale", type=float, default=1.0, metavar="F",
                      help="multiply every font size by F (default 1: no text below 9 pt)")
    runs = parser.add_argument_group("trajectories and compare")
    runs.add_argument("--log-time", action="store_true",
                      help="log time axis for trajectories (a run saved from t = 0 on a linear grid keeps its start)")
    runs.add_argument("--linear-time", action="store_true", help="linear time axis for compare (default: log time)")
    runs.add_argument("--log-y", action="store_true", help="log scale for eig(F) in trajectories")
    runs.add_argument("--variable", action="append", choices=COMPARE_VARIABLES,
                      help="compare: variable per row of panels (repeatable; default eig_F)")
    runs.add_argument("--label", action="append", metavar="TEXT",
                      help="compare: panel title per file, in the order of the files (repeatable; default: the "
                           "settings that differ)")
    runs.add_argument("--name", help="compare: output name (default: the files' names joined by _vs_)")
    portrait = parser.add_argument_group("portrait")
    portrait.add_argument("--tau", type=float, help="portrait: the fixed tau of the plane (default 1)")
    portrait.add_argument("--eta", metavar="ETA[,ETA...]",
                          help="portrait: weight decay of the plane; several values give panels side by side "
                               "(default: the run's)")
    portrait.add_argument("--p-range", metavar="LO,HI", help="portrait: limits of the p axis")
    portrait.add_argument("--s-range", metavar="LO,HI", help="portrait: limits of the s axis")
    portrait.add_argument("--inset", choices=("auto", "on", "off"), default="auto",
                          help="portrait: zoom on the origin showing the collapse basin (default auto: when the "
                               "basin is small)")
    sweeps = parser.add_argument_group("sweep stores")
    sweeps.add_argument("--x", help="sweep axis on the x axis (default: the first swept axis other than seed)")
    sweeps.add_argument("--y", help="sweep axis on the y axis (default: the next one; a seed axis is averaged)")
    parser.set_defaults(handler=run_plot)


def _pair(text: str | None, field: str, sep: str = ",", positive: bool = False) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = text.lower().replace("x", sep).split(sep) if field == "size" else text.split(sep)
    try:
        lo, hi = (float(v) for v in parts)
    except ValueError:
        example = "8x5" if field == "size" else "0,1"
        raise ConfigError(field, text, f"must be two numbers, e.g. {example}") from None
    if positive and not (lo > 0 and hi > 0):
        raise ConfigError(field, text, "must be two positive numbers (inches)")
    if not positive and not hi > lo:
        raise ConfigError(field, text, "must be LO,HI with LO < HI")
    return lo, hi


def _etas(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError("eta", text, "must be one or more numbers >= 0, comma-separated") from None
    if not values or any(v < 0 for v in values):
        raise ConfigError("eta", text, "must be one or more numbers >= 0, comma-separated")
    return values


def run_plot(args: argparse.Namespace) -> int:
    paths = [Path(f) for f in args.file]
    paths = [p / "log.nc" if p.is_dir() and p.suffix != ".zarr" and (p / "log.nc").exists() else p for p in paths]
    for path in paths:
        if not path.exists():
            raise ConfigError("file", str(path), "must be an existing .nc result or log, or a .zarr sweep store")
    suffixes = {path.suffix for path in paths}
    if len(suffixes) > 1:
        raise ConfigError("file", " ".join(map(str, paths)), "mixes .nc results and .zarr stores; plot them apart")
    if not args.dpi > 0:
        raise ConfigError("dpi", args.dpi, "must be > 0")
    if not args.font_scale > 0:
        raise ConfigError("font-scale", args.font_scale, "must be > 0")
    size = _pair(args.size, "size", positive=True)
    out = check_output_folder(args.out)
    formats = args.format or ["png"]
    written: list[Path] = []

    def save(fig, name):
        from ..plots import save_figure
        from ..plots import finish_figure

        finish_figure(fig, size=size, font_scale=args.font_scale)
        for fmt in formats:  # the same figure, rendered once per format
            written.append(save_figure(fig, out / f"{name}.{fmt}", dpi=args.dpi))

    suffix = suffixes.pop()
    if suffix == ".nc":
        _plot_results(paths, args, save)
    elif suffix == ".zarr":
        for path in paths:
            _plot_store(path, args, save)
    else:
        raise ConfigError("file", str(paths[0]), "must end in .nc (simulate, train) or .zarr (sweep)")
    for p in written:
        print(f"wrote {p}", file=sys.stderr)
    return 0


def _stem(path: Path) -> str:
    """A file's name for outputs: a training log `RUN/log.nc` is named after its run folder."""
    return path.parent.name if path.name == "log.nc" and path.parent.name else path.stem


def _plot_results(paths: list[Path], args: argparse.Namespace, save) -> None:
    from ..plots import plot_eigenvalue_trajectories, plot_mechanism_comparison
    from ..plots import plot_run_portrait, portrait_support, portrait_warnings, run_paths
    from ..plots import is_training_log

    datasets = {path: _read_result(path) for path in paths}
    if args.kind:
        kinds = args.kind
    elif len(paths) > 1:
        kinds = ["compare"]
    else:
        ds = next(iter(datasets.values()))
        kinds = ["trajectories"] + ([] if is_training_log(ds) or portrait_support(ds) else ["portrait"])
    bad = [k for k in kinds if k not in RUN_KINDS]
    if bad:
        raise ConfigError("kind", bad[0], f"for a .nc result must be one of {', '.join(RUN_KINDS)}")
    if args.label is not None and len(args.label) != len(paths):
        raise ConfigError("label", args.label, f"needs one label per file ({len(paths)} files, "
                          f"{len(args.label)} labels)")
    p_range, s_range = _pair(args.p_range, "p-range"), _pair(args.s_range, "s-range")
    etas = _etas(args.eta)
    if "portrait" in kinds:  # every check before any figure
        for path, ds in datasets.items():
            reason = portrait_support(ds)
            if reason is not None:
                raise ConfigError("kind", "portrait", f"{path}: {reason}")
    for kind in kinds:
        if kind == "compare":
            stems = [_stem(path) for path in paths]
            name = args.name or ("_vs_".join(stems) if len("_vs_".join(stems)) <= 60
                                 else f"{stems[0]}_and_{len(stems) - 1}_more")
            runs = (dict(zip(args.label, datasets.values())) if args.label and len(set(args.label)) == len(paths)
                    else list(datasets.values()))
            if args.label and len(set(args.label)) != len(paths):
                raise ConfigError("label", args.label, "labels must differ from each other")
            try:
                fig = plot_mechanism_comparison(runs, args.variable or ["eig_F"], log_time=not args.linear_time)
            except ValueError as err:
                raise ConfigError("variable", args.variable, str(err)) from None
            save(fig, f"{name}_compare")
            continue
        for path, ds in datasets.items():
            if kind == "trajectories":
                save(plot_eigenvalue_trajectories(ds, log_time=args.log_time, log_y=args.log_y),
                     f"{_stem(path)}_trajectories")
                continue
            tau = 1.0 if args.tau is None else args.tau
            for line in portrait_warnings(ds, tau) + ([run_paths(ds)[1]] if run_paths(ds)[1] else []):
                print(f"{path}: {line}", file=sys.stderr)
            if is_training_log(ds):
                print(f"{path}: a training log on the plane of its flow rates (THEORY.md §1)", file=sys.stderr)
            save(plot_run_portrait(ds, tau=args.tau, eta=etas if etas is None or len(etas) > 1 else etas[0],
                                   p_range=p_range, s_range=s_range,
                                   inset={"auto": None, "on": True, "off": False}[args.inset]),
                 f"{_stem(path)}_portrait")


def _read_result(path: Path):
    """A simulate result or a training log, or a `ConfigError` naming the file when it is neither."""
    from ..config import Config
    from ..results import read_netcdf

    if path.is_dir():
        raise ConfigError("file", str(path), "is a folder, not a .nc result of ssl-dynamics simulate or train")
    try:
        ds = read_netcdf(path)
    except Exception as err:  # noqa: BLE001 - netCDF4/HDF5 raise many kinds on a file that is not netCDF
        raise ConfigError("file", str(path), f"is not a readable netCDF file ({type(err).__name__})") from None
    if ds.attrs.get("simulator") == "bridge" or "train_config_json" in ds.attrs:
        from ..bridge import TrainConfig

        try:
            TrainConfig.from_json(ds.attrs["train_config_json"])
        except (KeyError, ValueError, TypeError) as err:
            raise ConfigError("file", str(path), f"is not a readable training log of ssl-dynamics train "
                              f"({type(err).__name__}: {err})") from None
        what = "a training log of ssl-dynamics train"
    else:
        try:
            Config.from_dataset(ds)
        except ConfigError as err:
            raise ConfigError("file", str(path), f"is not a result of ssl-dynamics simulate or train ({err})") from None
        what = "a result of ssl-dynamics simulate"
    missing = [name for name in ("time", "status", "eig_F") if name not in ds.variables]
    if missing:
        raise ConfigError("file", str(path), f"is not {what} (no {', '.join(missing)})")
    return ds


def _plot_store(path: Path, args: argparse.Namespace, save) -> None:
    from ..plots import plot_final_map, plot_outcome_map
    from ..sweep import read_store, sweep_groups

    kinds = args.kind or list(SWEEP_KINDS)
    bad = [k for k in kinds if k not in SWEEP_KINDS]
    if bad:
        raise ConfigError("kind", bad[0], f"for a .zarr store must be one of {', '.join(SWEEP_KINDS)}")
    if not path.is_dir():
        raise ConfigError("file", str(path), "is not a sweep store (a .zarr folder)")
    found = sweep_groups(path)
    if args.group is not None and args.group not in found:
        raise ConfigError("group", args.group, f"is not a group of {path}; groups: {', '.join(found) or 'none'}")
    groups = [args.group] if args.group else found
    if not groups:
        raise ConfigError("file", str(path), "holds no sweep group")
    sampled = [g for g in groups if _is_sampled(path, g)]
    if sampled:  # sweeps of the sampled simulators: final values over one axis
        _plot_sampled(path, sampled, args, save)
        groups = [g for g in groups if g not in sampled]
        if not groups:
            return
    stores = {group: read_store(path, group) for group in groups}  # every check before any figure
    for group, ds in stores.items():
        _check_axes(ds, args, f"{path}/{group}")
    for group, ds in stores.items():
        missing = int(ds.attrs.get("not_computed", 0))
        if missing:
            total = int(ds["status"].size)
            print(f"warning: {path}/{group}: {missing} of {total} cells not computed (chunks not done or failing "
                  "their checksum); drawn hatched. ssl-dynamics verify reports them, sweep --resume computes them",
                  file=sys.stderr)
        for kind in kinds:
            if kind == "outcome":
                fig = plot_outcome_map(ds, x=args.x, y=args.y)
            else:
                var = "time_to_converge" if kind == "time_to_converge" else (
                    "s_final" if "s_final" in ds else "eig_F_final")
                fig = plot_final_map(ds, var, x=args.x, y=args.y)
            save(fig, f"{path.stem}_{group}_{kind}")


def _is_sampled(path: Path, group: str) -> bool:
    """Whether a store group holds a sweep of the sampled simulators (`sweep_kind = "sampled"`)."""
    import json

    try:
        meta = json.loads((path / group / "zarr.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and (meta.get("attributes") or {}).get("sweep_kind") == "sampled"


def _plot_sampled(path: Path, groups: list[str], args: argparse.Namespace, save) -> None:
    """Kind `final` of a sampled sweep (`plot_sampled_sweep`); the other kinds are the flow's."""
    import xarray as xr

    from ..plots import plot_sampled_sweep

    kinds = args.kind or ["final"]
    if any(k != "final" for k in kinds):
        raise ConfigError("kind", [k for k in kinds if k != "final"][0],
                          "a sweep of the sampled simulators draws kind final (phase diagrams are the flow's)")
    stores = {g: xr.open_zarr(path, group=g).load() for g in groups}
    figures = {g: plot_sampled_sweep(ds, x=args.x) for g, ds in stores.items()}  # every check first
    for group, fig in figures.items():
        save(fig, f"{path.stem}_{group}_final")


def _check_axes(ds, args: argparse.Namespace, where: str) -> None:
    """--x / --y must name two different swept axes (the defaults: the first two other than seed)."""
    from ..plots import phase_axes

    try:
        phase_axes(ds, args.x, args.y)
    except ConfigError as err:
        raise ConfigError(err.field, err.value, f"{err.allowed} (store {where})") from None
