"""`ssl-dynamics sweep`: a product grid over any config fields, into a chunked, resumable zarr store."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from ..config import Config, ConfigError, check_derived_not_given, check_unused_not_given, read_config_file, selects_sampled
from ._options import add_config_flags, collect_config_values

__all__ = ["add_sweep_parser", "run_sweep"]

DESCRIPTION = """Integrate a product grid of configurations (every --param adds an axis) and write a
chunked zarr store plus phase-diagram PNGs beside it. With no --param it runs the default main job:
EMA rate x weight decay for the eigenmode model (group 'modes') and a coarser full-matrix grid
(group 'full'); see README. Axis syntax: geom:lo:hi:n, lin:lo:hi:n, list:v1,v2,..., rand:lo:hi:n[:log].
A base config of a sampled simulator (--discrete, --objective er/rec, --model issl) runs one training per
grid point into the group sgd / er / issl; a seed axis adds <name>_mean and <name>_sem (standard error)."""


def add_sweep_parser(subparsers) -> None:
    parser = subparsers.add_parser("sweep", help="sweep a grid of configurations (the main job)",
                                   description=DESCRIPTION)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=KIND:SPEC",
                        help="an axis, e.g. beta=geom:1e-3:10:64 (repeat for a product grid)")
    parser.add_argument("--config", metavar="FILE.toml", help="base settings (flags below override them)")
    parser.add_argument("--out", default="sweep.zarr", metavar="DIR.zarr", help="zarr store (default: sweep.zarr)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted store (or start it)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing store group")
    parser.add_argument("--points-per-chunk", type=int, default=4096, help="grid points per chunk (default 4096)")
    parser.add_argument("--workers", type=int, help="run chunks on a local Dask cluster of N worker processes")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run chunks on a running Dask scheduler")
    parser.add_argument("--integrator", choices=("auto", "lanes", "diffrax"), default="auto",
                        help="lanes: solve_lanes, each trajectory with its own step size and method; diffrax: "
                             "jit(vmap(diffeqsolve)) with --solver, the accuracy reference; auto (default): lanes "
                             "for --model modes, diffrax for --model full")
    parser.add_argument("--axis-seed", type=int, default=0, help="seed of rand: axes (default 0)")
    parser.add_argument("--no-plot", action="store_true", help="skip the phase-diagram PNGs")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_flags(parser)
    parser.set_defaults(handler=run_sweep)


def run_sweep(args: argparse.Namespace) -> int:
    from ..sweep import sweep
    from ..sweep import main_jobs

    out = Path(args.out)
    if args.workers is not None and args.workers < 1:
        raise ConfigError("workers", args.workers, "must be >= 1")
    overrides = collect_config_values(args)
    values = read_config_file(args.config) if args.config else {}
    values.update(overrides)
    check_derived_not_given(values)
    given = dict(values)
    if selects_sampled(values):  # (a flow sweep's overrides are validated with each job's base below)
        base = Config.from_dict(values)
        check_unused_not_given(values, base)
        return _run_sampled(args, base, out)
    n_save = overrides.pop("n_save", 64)
    overrides.pop("save_spacing", None)
    if args.param:
        values = read_config_file(args.config) if args.config else {}
        values.update(overrides)
        base = Config.from_dict(values)
        jobs = [(base.model, base, args.param)]
    else:
        if args.config or overrides:
            jobs = [(j.group, Config.from_dict({**j.base.to_dict(), **(read_config_file(args.config) if args.config
                     else {}), **overrides}), j.axes) for j in main_jobs()]
        else:
            jobs = [(j.group, j.base, j.axes) for j in main_jobs()]
    # validate every job (settings, axes, size, output store) before any work
    from ..sweep import check_sweep

    for group, base, axes in jobs:
        check_unused_not_given(given, base)
        check_sweep(base, axes, out=out, group=group, n_save=n_save, points_per_chunk=args.points_per_chunk,
                    resume=args.resume, overwrite=args.overwrite, seed=args.axis_seed, integrator=args.integrator)
    from ..sweep import NotConvergedWarning, convergence_note

    start = time.perf_counter()
    worst = 0
    for group, base, axes in jobs:
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # said in the summary below instead
            warnings.simplefilter("ignore", NotConvergedWarning)
            ds = sweep(base, axes, out=out, group=group, n_save=n_save, points_per_chunk=args.points_per_chunk,
                       resume=args.resume, overwrite=args.overwrite, scheduler=args.scheduler, workers=args.workers,
                       progress=not args.quiet, seed=args.axis_seed, integrator=args.integrator)
        bad = int((ds["status"].values != 0).sum())
        counts = ", ".join(f"{n} {name}" for name, n in ds["outcome"].flags.counts().items() if n)
        print(f"sweep {group}: {int(ds['status'].size)} points in {time.perf_counter() - t0:.1f} s -> {out}/{group}"
              f" ({bad} with solver status not ok; outcomes per (point, mode): {counts})", file=sys.stderr)
        note = convergence_note(ds)
        if note:
            print(f"sweep {group}: warning: {note}", file=sys.stderr)
        worst = max(worst, 1 if bad else 0)
        if not args.no_plot and len(ds.attrs.get("swept", "").split()) >= 2:
            from ..plots import plot_final_map, plot_outcome_map, save_figure

            stem = out.with_suffix("")
            final = "s_final" if "s_final" in ds else "eig_F_final"
            for kind, fig in (("outcome", plot_outcome_map(ds)), (final, plot_final_map(ds, final)),
                              ("time_to_converge", plot_final_map(ds, "time_to_converge"))):
                png = save_figure(fig, Path(f"{stem}_{group}_{kind}.png"))
                print(f"wrote {png}", file=sys.stderr)
    print(f"done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


def _run_sampled(args: argparse.Namespace, base: Config, out: Path) -> int:
    """A sweep of a sampled simulator (discrete, er/rec, issl): one run per grid point (`sweep_sampled`)."""
    from ..sweep import check_sweep_sampled, sweep_sampled

    if not args.param:
        raise ConfigError("param", [], f"a sweep of the {base.simulator} simulator needs at least one --param axis "
                          "(e.g. seed=list:0,1,2)")
    for name in ("workers", "scheduler"):
        if getattr(args, name) is not None:
            raise ConfigError(name, getattr(args, name), f"is for the flow's chunked sweeps; the {base.simulator} "
                              "simulator runs its points one after another")
    check_sweep_sampled(base, args.param, out=out, group=base.simulator, resume=args.resume,
                        overwrite=args.overwrite, seed=args.axis_seed)
    start = time.perf_counter()
    ds = sweep_sampled(base, args.param, out=out, group=base.simulator, overwrite=args.overwrite,
                       resume=args.resume, progress=not args.quiet, seed=args.axis_seed)
    bad = int((ds["status"].values != 0).sum())
    summary = " (mean and standard error over seeds: <name>_mean, <name>_sem)" if "seed" in ds.dims else ""
    print(f"sweep {base.simulator}: {int(ds['status'].size)} runs in {time.perf_counter() - start:.1f} s -> "
          f"{out}/{base.simulator} ({bad} with status not ok){summary}", file=sys.stderr)
    return 1 if bad else 0
