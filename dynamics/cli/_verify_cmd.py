"""`ssl-dynamics verify`: report whether a sweep store is complete and intact, chunk by chunk."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import ConfigError

__all__ = ["add_verify_parser", "run_verify"]

DESCRIPTION = """Check a sweep store without changing it: for every group, each chunk is done and
intact (every variable's region readable and equal to the checksum recorded when the chunk was
finished), not computed (an interrupted sweep), or corrupt (a chunk file deleted, damaged or
rewritten); damaged array metadata and coordinates are reported too. `ssl-dynamics sweep --resume`
with the same settings repairs what this reports (it recomputes exactly the chunks that fail).
Exit status: 0 every group complete and intact; 1 a chunk is not computed or corrupt, or metadata
is damaged or unreadable; 2 the path is not a zarr store with groups, or bad arguments."""


def add_verify_parser(subparsers) -> None:
    parser = subparsers.add_parser("verify", help="check a sweep store's integrity (exit 0 intact, 1 not)",
                                   description=DESCRIPTION)
    parser.add_argument("store", metavar="STORE.zarr", help="a sweep store written by ssl-dynamics sweep")
    parser.add_argument("--group", help="check only this group (default: every group)")
    parser.set_defaults(handler=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    from ..sweep import inspect_group, sweep_groups

    path = Path(args.store)
    if not path.is_dir():
        raise ConfigError("store", str(path), "must be an existing sweep store (a .zarr folder)")
    groups = sweep_groups(path)
    if args.group is not None:
        if args.group not in groups:
            raise ConfigError("group", args.group, f"is not a group of {path}; groups: {', '.join(groups) or 'none'}")
        groups = [args.group]
    if not groups:
        raise ConfigError("store", str(path), "holds no zarr group; not a sweep store")
    intact = True
    for group in groups:
        report = inspect_group(path, group)
        print(report.summary())
        for line in report.details():
            print(line)
        intact &= report.ok
    print(f"{path}: {'intact' if intact else 'NOT intact; ssl-dynamics sweep --resume (same settings) repairs it'}")
    return 0 if intact else 1
