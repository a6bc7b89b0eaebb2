"""`ssl-dynamics check`: every theory claim of docs/theory.md as a numerical experiment with a verdict
(`dynamics.checks`)."""

from __future__ import annotations

import argparse
import sys
import time

from ..config import ConfigError

__all__ = ["add_check_parser", "run_check"]

DESCRIPTION = """Run the registered theory claims (dynamics.checks): each is a small numerical experiment
whose measurement is compared with an independent prediction (a closed form of docs/theory.md, the symbolic
layer, a second integrator). Prints one line per claim as it finishes (stderr), then the verdict table
(its last column: the claim's statement, or what the measured number is where it is compared with 0;
--verbose adds the whole statement, the measured quantity, the detail and the tolerance's reason under
each row); writes check-report.json (or --report PATH) and, with --figures DIR, one PNG per claim.
Exit status: 0 when every claim passes, 1 when any fails, 2 on bad input."""


def add_check_parser(subparsers) -> None:
    parser = subparsers.add_parser("check", help="check every theory claim numerically (verdict table)",
                                   description=DESCRIPTION)
    parser.add_argument("--list", action="store_true", help="list the claims (id, source, quick, statement) and exit")
    parser.add_argument("--only", nargs="+", metavar="ID",
                        help="claim ids, or prefixes ending in '.' (e.g. tcg21. or tcg21.thm1.)")
    parser.add_argument("--quick", action="store_true", help="only the quick subset, at its small sizes")
    parser.add_argument("--seed", type=int, default=0, help="base seed of every experiment (default: 0)")
    parser.add_argument("--report", default="check-report.json", metavar="PATH",
                        help="JSON report (default: ./check-report.json)")
    parser.add_argument("--figures", metavar="DIR", help="write one PNG per claim into DIR")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="under each row of the table: the whole statement, what is measured, the experiment's "
                             "detail and the reason for the tolerance")
    parser.set_defaults(handler=run_check)


def _list(claims) -> int:
    width = max((len(c.id) for c in claims), default=0)
    src = max((len(c.source) for c in claims), default=0)
    for c in claims:
        print(f"{c.id:<{width}}  {c.source:<{src}}  {'quick' if c.quick else 'full '}  {c.statement}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from .. import checks

    if args.seed < 0:
        raise ConfigError("seed", args.seed, "must be >= 0")
    try:
        chosen = checks.select(args.only, quick=args.quick)
    except ValueError as err:  # an unknown claim id: the message names it
        raise ConfigError("--only", " ".join(args.only), str(err)) from None
    if args.list:
        return _list(chosen)
    if not chosen:
        raise ConfigError("--only", " ".join(args.only or []), "selects no claim in the quick subset; drop --quick")

    def progress(result, index, total):
        print(checks.progress_line(result, index, total), file=sys.stderr, flush=True)

    start = time.perf_counter()
    results = checks.run([c.id for c in chosen], quick=args.quick, seed=args.seed, on_result=progress)
    total = time.perf_counter() - start
    print(checks.format_table(results, verbose=args.verbose))
    header = checks.report_header(seed=args.seed, quick=args.quick, total_seconds=total, claims=args.only)
    path = checks.write_report(results, header, args.report)
    print(f"report: {path}", file=sys.stderr)
    if args.figures:
        written = checks.write_figures(results, args.figures)
        print(f"figures: {len(written)} PNG files in {args.figures}", file=sys.stderr)
    return 0 if all(r.passed for r in results) else 1
