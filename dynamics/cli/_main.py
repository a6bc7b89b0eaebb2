"""The `ssl-dynamics` command: a thin layer over the library."""

from __future__ import annotations

import argparse
import os
import sys

from .._version import __version__
from ..config import ConfigError
from ._cache import use_compile_cache
from ._check_cmd import add_check_parser
from ._compare_cmd import add_compare_parser
from ._options import join_negative_values
from ._plot_cmd import add_plot_parser
from ._simulate_cmd import add_simulate_parser
from ._theory_cmd import add_theory_parser
from ._train_cmd import add_train_parser
from ._sweep_cmd import add_sweep_parser
from ._verify_cmd import add_verify_parser

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssl-dynamics",
        description="Learning-dynamics simulator for non-contrastive SSL (BYOL, SimSiam, DirectPred).",
    )
    parser.add_argument("--version", action="version", version=f"ssl-dynamics {__version__}")
    parser.add_argument("--no-compile-cache", action="store_true",
                        help="do not use JAX's persistent compilation cache nor the stored solve programs in its "
                             "programs/ folder (default folder: $SSL_DYNAMICS_CACHE, else "
                             "~/.cache/ssl-dynamics/jax; JAX_COMPILATION_CACHE_DIR wins)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_simulate_parser(sub)
    add_theory_parser(sub)
    add_sweep_parser(sub)
    add_plot_parser(sub)
    add_check_parser(sub)
    add_verify_parser(sub)
    add_train_parser(sub)
    add_compare_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point. Exit status: 0 success, 1 a trajectory did not finish ok, 2 bad input."""
    raw = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(join_negative_values(raw))
    import jax

    jax.config.update("jax_enable_x64", True)  # entry point: float64 unless --dtype float32
    if not args.no_compile_cache:
        use_compile_cache(jax)
    try:
        return int(args.handler(args))
    except ConfigError as err:
        print(f"ssl-dynamics {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (`ssl-dynamics theory show | head`)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's final flush does not fail again
        return 0


if __name__ == "__main__":
    sys.exit(main())
