"""`ssl-dynamics plot`: figures from a result file (.nc) or a sweep store (.zarr)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import ConfigError, check_output_folder

__all__ = ["add_plot_parser", "run_plot"]

RUN_KINDS = ("trajectories", "portrait", "compare")
COMPARE_VARIABLES = ("eig_F", "eig_Wp", "tau", "relative_rate", "p", "s")
SWEEP_KINDS = ("outcome", "final", "time_to_converge")


def add_plot_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "plot", help="draw figures from a result file or sweep store",
        description="Figures from simulate results (.nc: trajectories, portrait; several .nc files: compare, "
                    "one panel per run) or sweep stores (.zarr: outcome, final, time_to_converge). Writes "
                    "DIR/<name>_<kind>.<format>; a comparison DIR/<name>_compare.<format>, <name> from --name "
                    "or the files' names.")
    parser.add_argument("file", nargs="+", help=".nc results of simulate or .zarr stores of sweep (not mixed)")
    parser.add_argument("--kind", action="append", choices=RUN_KINDS + SWEEP_KINDS,
                        help="figure kind (repeatable; default: all kinds for the file type)")
    parser.add_argument("--out", default=".", metavar="DIR", help="output folder (default: .)")
    parser.add_argument("--group", help="sweep group (default: every group in the store)")
    parser.add_argument("--format", action="append", choices=("png", "pdf", "svg"),
                        help="file format (repeatable; default png)")
    parser.add_argument("--log-time", action="store_true", help="log time axis for trajectories")
    parser.add_argument("--linear-time", action="store_true",
                        help="linear time axis for compare (default: log time)")
    parser.add_argument("--log-y", action="store_true", help="log scale for eig(F) in trajectories")
    parser.add_argument("--variable", action="append", choices=COMPARE_VARIABLES,
                        help="compare: variable per row of panels (repeatable; default eig_F)")
    parser.add_argument("--name", help="compare: output name (default: the files' names joined by _vs_)")
    parser.add_argument("--x", help="sweep axis on the x axis (default: the first swept axis)")
    parser.add_argument("--y", help="sweep axis on the y axis (default: the second swept axis)")
    parser.set_defaults(handler=run_plot)


def run_plot(args: argparse.Namespace) -> int:
    paths = [Path(f) for f in args.file]
    for path in paths:
        if not path.exists():
            raise ConfigError("file", str(path), "must be an existing .nc result or .zarr sweep store")
    suffixes = {path.suffix for path in paths}
    if len(suffixes) > 1:
        raise ConfigError("file", " ".join(map(str, paths)), "mixes .nc results and .zarr stores; plot them apart")
    out = check_output_folder(args.out)
    formats = args.format or ["png"]
    written: list[Path] = []

    def save(fig, name):
        for fmt in formats:
            written.append(save_figure(fig if fmt == formats[-1] else _copy(fig), out / f"{name}.{fmt}"))

    from ..plots import save_figure

    suffix = suffixes.pop()
    if suffix == ".nc":
        _plot_results(paths, args, save)
    elif suffix == ".zarr":
        for path in paths:
            _plot_store(path, args, save)
    else:
        raise ConfigError("file", str(paths[0]), "must end in .nc (simulate) or .zarr (sweep)")
    for p in written:
        print(f"wrote {p}", file=sys.stderr)
    return 0


def _plot_results(paths: list[Path], args: argparse.Namespace, save) -> None:
    from ..plots import plot_eigenvalue_trajectories, plot_mechanism_comparison, plot_phase_portrait

    kinds = args.kind or (["compare"] if len(paths) > 1 else ["trajectories", "portrait"])
    bad = [k for k in kinds if k not in RUN_KINDS]
    if bad:
        raise ConfigError("kind", bad[0], f"for a .nc result must be one of {', '.join(RUN_KINDS)}")
    datasets = {path: _read_result(path) for path in paths}
    for kind in kinds:
        if kind == "compare":
            stems = [path.stem for path in paths]
            name = args.name or ("_vs_".join(stems) if len("_vs_".join(stems)) <= 60
                                 else f"{stems[0]}_and_{len(stems) - 1}_more")
            fig = plot_mechanism_comparison(list(datasets.values()), args.variable or ["eig_F"],
                                            log_time=not args.linear_time)
            save(fig, f"{name}_compare")
            continue
        for path, ds in datasets.items():
            if kind == "trajectories":
                save(plot_eigenvalue_trajectories(ds, log_time=args.log_time, log_y=args.log_y),
                     f"{path.stem}_trajectories")
                continue
            a = ds.attrs
            if a.get("data") != "isotropic":
                raise ConfigError("kind", "portrait", "needs a run with isotropic data (the plane of T11-T12)")
            starts = []
            if "s" in ds and "p" in ds and a.get("model") == "modes":
                starts = list(zip(ds.p.values[0].tolist(), ds.s.values[0].tolist()))
            pmax = max([1.2 / (1 + float(a["sigma2"]))] + [1.1 * p for p, _ in starts])
            smax = max([pmax**2 / float(a["alpha_p"]) * 1.5] + [1.1 * s for _, s in starts])
            save(plot_phase_portrait(float(a["sigma2"]), float(a["eta"]), alpha_p=float(a["alpha_p"]),
                                     p_range=(-0.05 * pmax, pmax), s_range=(0.0, smax), starts=starts,
                                     t_max=float(a["t_max"])), f"{path.stem}_portrait")


def _read_result(path: Path):
    """A simulate result, or a `ConfigError` naming the file when it is not one."""
    from ..config import Config
    from ..results import read_netcdf

    if path.is_dir():
        raise ConfigError("file", str(path), "is a folder, not a .nc result of ssl-dynamics simulate")
    try:
        ds = read_netcdf(path)
    except Exception as err:  # noqa: BLE001 - netCDF4/HDF5 raise many kinds on a file that is not netCDF
        raise ConfigError("file", str(path), f"is not a readable netCDF file ({type(err).__name__})") from None
    try:
        Config.from_dataset(ds)
    except ConfigError as err:
        raise ConfigError("file", str(path), f"is not a result of ssl-dynamics simulate ({err})") from None
    missing = [name for name in ("time", "status") if name not in ds.variables]
    if missing:
        raise ConfigError("file", str(path), f"is not a result of ssl-dynamics simulate (no {', '.join(missing)})")
    return ds


def _plot_store(path: Path, args: argparse.Namespace, save) -> None:
    from ..plots import plot_final_map, plot_outcome_map
    from ..sweep._integrity import sweep_groups
    from ..sweep._store import read_store

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


def _check_axes(ds, args: argparse.Namespace, where: str) -> None:
    """--x / --y must name two different swept axes (the defaults: the first two)."""
    from ..plots._phase import phase_axes

    try:
        phase_axes(ds, args.x, args.y)
    except ConfigError as err:
        raise ConfigError(err.field, err.value, f"{err.allowed} (store {where})") from None


def _copy(fig):
    """Figures are closed after saving; render the same figure to several formats by pickling."""
    import pickle

    return pickle.loads(pickle.dumps(fig))
