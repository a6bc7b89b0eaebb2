"""`ssl-dynamics simulate`: integrate one configuration, write a netCDF file and a PNG beside it."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..config import Config, check_derived_not_given, check_unused_not_given, check_output_file, read_config_file
from ._options import add_config_flags, collect_config_values

__all__ = ["add_simulate_parser", "run_simulate"]

DESCRIPTION = """Integrate two-layer linear BYOL / SimSiam (T2-T5 of docs/theory.md, or the eigenmodes T11-T13b
with --model modes) and write the trajectory in the shared result schema (netCDF) plus a PNG of the
eigenvalue trajectories beside it. The same settings reach the sampled simulators: --discrete (minibatch
SGD), --objective er / rec (entropy + reconstruction, T27-T28) and --model issl (DISSL T29 / CISSL).
Settings come from --config FILE.toml, overridden by flags."""


def add_simulate_parser(subparsers) -> None:
    parser = subparsers.add_parser("simulate", help="integrate one configuration", description=DESCRIPTION)
    parser.add_argument("--config", metavar="FILE.toml", help="flat TOML file of settings (keys as the flags, _ for -)")
    parser.add_argument("--out", default="run.nc", metavar="FILE.nc", help="result file (default: run.nc)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing result file (default: refuse)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG beside the result file")
    parser.add_argument("--log-time", action="store_true", help="log-scaled time axis in the PNG")
    add_config_flags(parser)
    parser.set_defaults(handler=run_simulate)


def build_config(args: argparse.Namespace) -> Config:
    """File values first, then command-line flags on top; validated (raises ConfigError)."""
    values = read_config_file(args.config) if args.config else {}
    values.update(collect_config_values(args))
    check_derived_not_given(values)
    config = Config.from_dict(values)
    check_unused_not_given(values, config)
    return config


def run_simulate(args: argparse.Namespace) -> int:
    config = build_config(args)
    out = check_output_file(Path(args.out), suffixes=(".nc",), overwrite=args.overwrite)
    from .._simulate import simulate
    from ..integrate import STATUS_MESSAGES, Status
    from ..results import write_netcdf

    start = time.perf_counter()
    print(f"simulate: {config.simulator} model={config.model} objective={config.objective} n1={config.n1} n2={config.n2} t_max={config.t_max:g} "
          f"solver={config.solver} ...", file=sys.stderr, flush=True)
    from ._cache import program_cache_dir

    ds = simulate(config, program_cache=program_cache_dir(args))
    write_netcdf(ds, out)
    status = Status(int(ds["status"].values))
    print(f"wrote {out} ({time.perf_counter() - start:.1f} s, {ds.attrs['num_steps']} steps, status {status.name}: "
          f"{STATUS_MESSAGES[status]})", file=sys.stderr)
    if not args.no_plot:
        from ..plots import plot_eigenvalue_trajectories, save_figure

        png = save_figure(plot_eigenvalue_trajectories(ds, log_time=args.log_time), out.with_suffix(".png"))
        print(f"wrote {png}", file=sys.stderr)
    return 0 if status == Status.ok else 1
