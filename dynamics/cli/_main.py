"""The `ssl-dynamics` command: a thin layer over the library."""

from __future__ import annotations

import argparse
import sys

from .._version import __version__
from ..config import ConfigError
from ._check_cmd import add_check_parser
from ._plot_cmd import add_plot_parser
from ._simulate_cmd import add_simulate_parser
from ._theory_cmd import add_theory_parser
from ._sweep_cmd import add_sweep_parser

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssl-dynamics",
        description="Learning-dynamics simulator for non-contrastive SSL (BYOL, SimSiam, DirectPred).",
    )
    parser.add_argument("--version", action="version", version=f"ssl-dynamics {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_simulate_parser(sub)
    add_theory_parser(sub)
    add_sweep_parser(sub)
    add_plot_parser(sub)
    add_check_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point. Exit status: 0 success, 1 a trajectory did not finish ok, 2 bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    import jax

    jax.config.update("jax_enable_x64", True)  # entry point: float64 unless --dtype float32
    try:
        return int(args.handler(args))
    except ConfigError as err:
        print(f"ssl-dynamics {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
