"""Command-line interface (`ssl-dynamics`)."""

import sys

from ._main import build_parser as build_parser
from ._main import main as _main


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point; exits with the command's status."""
    sys.exit(_main(argv))
