"""`ssl-dynamics compare`: the linear theory's prediction of training runs beside what the networks did."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..config import ConfigError

__all__ = ["add_compare_parser", "run_compare"]

DESCRIPTION = """Predict each training run (a RUN_DIR of ssl-dynamics train) from the linear theory: the
eigenmode model (T11)-(T13b) integrated from the run's measured initial spectra with its mapped rates
(THEORY.md §1; nothing fitted), then measure the difference: trajectory errors, rank correlation, outcome
agreement, Theorems 1 and 3. Writes DIR/compare.json, one overlay figure per run (measured solid,
predicted dashed) and, for several runs, the error against the setting that differs between them.
--before CONFIG predicts a configuration before any training. Exit status: 0 when every run is predicted
within the tolerances (COMPARE_TOLERANCES), 1 when one is not or stopped early (marked partial), 2 on
bad input."""


def add_compare_parser(subparsers) -> None:
    parser = subparsers.add_parser("compare", help="theory vs training: predict runs and measure the difference",
                                   description=DESCRIPTION)
    parser.add_argument("runs", nargs="*", metavar="RUN_DIR", help="run directories (or their log.nc files)")
    parser.add_argument("--out", default="compare", metavar="DIR", help="output folder (default: compare)")
    parser.add_argument("--before", metavar="CONFIG",
                        help="pre-flight: a TOML settings file (keys as in train) or a run's config.json")
    parser.add_argument("--scale", action="append", default=[], metavar="RATE=FACTOR",
                        help="multiply a mapped rate (alpha_p, beta, eta, eta_p, time): a deliberately wrong"
                             " mapping, for negative controls")
    parser.add_argument("--log-time", action="store_true", help="log time axis in the overlays")
    parser.add_argument("--no-plot", action="store_true", help="no figures")
    parser.set_defaults(handler=run_compare)


def _scales(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError("scale", item, "must look like RATE=FACTOR, e.g. beta=10") from None
    return out


def _preflight(args: argparse.Namespace) -> int:
    from ..bridge import TrainConfig
    from ..compare import preflight
    from ..config import read_config_file

    path = Path(args.before)
    if path.is_dir():
        path = path / "config.json"
    if not path.exists():
        raise ConfigError("before", str(args.before), "must name a TOML settings file or a run's config.json")
    if path.suffix == ".json":
        try:
            values = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ConfigError("before", str(path), f"is not valid JSON ({err})") from None
    else:
        values = read_config_file(path)
    config = TrainConfig.from_dict({k.replace("-", "_"): v for k, v in values.items()})
    start = time.perf_counter()
    result = preflight(config)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from ..results import atomic_write

    atomic_write(out / "preflight.json", lambda tmp: tmp.write_text(json.dumps(result, indent=1)), suffix=".json")
    counts = ", ".join(f"{n} {k}" for k, n in result["predicted_outcomes"].items() if n)
    print(f"pre-flight ({time.perf_counter() - start:.1f} s): {result['method']} {result['model']} on "
          f"{result['dataset']}, {result['epochs']:.0f} epochs = flow time {result['t_max']:.3g}")
    print(f"  rates: alpha_p {result['alpha_p']:.3g}, beta {result['beta_start']:.3g} (start), eta {result['eta']:.3g};"
          f" sigma^2 estimate {result['sigma2_estimate']:.3g}, eta* = {result['eta_star']:.3g}"
          f" ({'exceeded: every mode collapses' if result['eta_exceeds_eta_star'] else 'not exceeded'})")
    print(f"  predicted: {counts} of {result['modes']} modes; "
          f"{'the run COLLAPSES' if result['collapses'] else 'no collapse'}; the spectrum settles by t = "
          f"{result['settles_at_time']:.3g} (epoch {result['settles_at_epoch']:.1f})")
    print(f"wrote {out / 'preflight.json'}", file=sys.stderr)
    return 0


def run_compare(args: argparse.Namespace) -> int:
    if args.before:
        if args.runs:
            raise ConfigError("runs", args.runs, "--before predicts one configuration; give no run directories")
        return _preflight(args)
    if not args.runs:
        raise ConfigError("runs", [], "give at least one RUN_DIR (or --before CONFIG)")
    from ..compare import (comparison_table, compare, differing_setting, plot_comparison, plot_error_against_setting,
                           read_run, write_summary)
    from ..plots import save_figure

    scale = _scales(args.scale)
    logs = [read_run(path) for path in args.runs]          # every run read before any work
    names = [Path(p).stem if Path(p).suffix == ".nc" else Path(p).name for p in args.runs]
    comps = [compare(log, scale=scale, name=name) for log, name in zip(logs, names)]
    summaries = [c.summary for c in comps]
    print(comparison_table(summaries))
    out = Path(args.out)
    written = [write_summary(out / "compare.json", summaries, {"scale": scale, "tolerances": summaries[0]["tolerances"]})]
    if not args.no_plot:
        for comp, name in zip(comps, names):
            written.append(save_figure(plot_comparison(comp, log_time=args.log_time), out / f"{name}_compare.png"))
        setting, values = differing_setting(logs) if len(logs) > 1 else (None, [])
        if setting:
            written.append(save_figure(plot_error_against_setting(comps, setting, values),
                                       out / f"error_vs_{setting}.png"))
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0 if all(s["predicted"] and not s["partial"] for s in summaries) else 1
