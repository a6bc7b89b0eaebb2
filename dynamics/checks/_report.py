"""Reports of a check run: the verdict table, `check-report.json` and one figure per claim."""

from __future__ import annotations

import datetime
import json
import platform
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from ._run import ClaimResult

__all__ = ["format_number", "format_table", "measured_quantity", "report_header", "report_dict", "write_report",
           "progress_line"]

_TABLE_COLUMNS = ("claim", "source", "measured", "predicted", "tolerance", "verdict", "s", "what")
#: Width of the last column (the claim's statement, or what is measured) in the default table.
WHAT_WIDTH = 90


def format_number(x: float | None) -> str:
    """A number in at most 10 characters: 4 significant digits, "-" for None."""
    if x is None:
        return "-"
    x = float(x)
    if not np.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}"
    return f"{x:.3e}"


def _verdict(result: ClaimResult) -> str:
    if result.error is not None:
        return "FAIL (error)"
    return "PASS" if result.passed else "FAIL"


def _plain(text: str) -> str:
    """Docstring text on one line, with its LaTeX (`$...$`) made plain: commands such as `\\hat`,
    `\\rm` and their braces dropped; code quotes removed."""

    def math(m: re.Match) -> str:
        inner = re.sub(r"\\(?:rm|mathrm|hat|bar|tilde|operatorname)\b\s*", "", m.group(1))
        inner = re.sub(r"\\([A-Za-z]+)", r"\1", inner.replace("\\|", "‖"))  # \log -> log, \| -> ‖
        return inner.replace("{", "").replace("}", "")

    text = re.sub(r"\$([^$]*)\$", math, text).replace("`", "")
    return " ".join(text.split())


def measured_quantity(claim) -> str:
    """What a claim's `measured` number is, from the "Measured: ..." sentence of its experiment's
    docstring ("" when the docstring has none)."""
    doc = " ".join((getattr(claim.run, "__doc__", None) or "").split())
    m = re.search(r"Measured:\s*(.+?)(?:\.\s+(?=[A-Z(`$\[])|\.$|$)", doc)
    return _plain(m.group(1)).rstrip(".;") if m else ""


def _compares_with_zero(result: ClaimResult) -> bool:
    ev = result.evidence
    return ev is not None and float(ev.predicted) == 0.0


def _what(result: ClaimResult) -> str:
    """The last column: for a row whose prediction is 0 (an error, residual or gap compared with 0),
    what that number is; otherwise the claim's statement."""
    if _compares_with_zero(result):
        quantity = measured_quantity(result.claim)
        return f"measured = {quantity}" if quantity else f"measured = the error of: {result.claim.statement}"
    return result.claim.statement


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _row(result: ClaimResult, what_width: int | None) -> tuple[str, ...]:
    ev = result.evidence
    measured = "-" if ev is None else format_number(ev.measured)
    if ev is not None and ev.stderr is not None:
        measured += f" ± {format_number(ev.stderr)}"
    tolerance = "-" if ev is None else f"{ev.compare} {format_number(ev.tolerance)}"
    what = _what(result)
    return (result.id, result.claim.source, measured, "-" if ev is None else format_number(ev.predicted),
            tolerance, _verdict(result), f"{result.seconds:.1f}", what if what_width is None else _clip(what, what_width))


def format_table(results: Sequence[ClaimResult], *, verbose: bool = False) -> str:
    """The verdict table (one row per claim, then a summary line); errors are listed below it.

    The last column, `what`, is the claim's statement, or, for a row whose prediction is 0 (an
    error, residual or gap that must stay within the tolerance of 0), what that measured number is
    (`measured_quantity`), cut at `WHAT_WIDTH` characters. With `verbose`, every row is followed by
    the whole statement, what is measured, the experiment's detail and the reason for the tolerance."""
    rows = [_TABLE_COLUMNS] + [_row(r, None if verbose else WHAT_WIDTH) for r in results]
    if verbose:
        rows = [row[:-1] for row in rows]
    n = len(rows[0])
    widths = [max(len(row[k]) for row in rows) for k in range(n)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows[:1]]
    lines.append("  ".join("-" * w for w in widths))
    for result, row in zip(results, rows[1:]):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if verbose:
            lines += _details(result)
    failed = [r for r in results if not r.passed]
    total = sum(r.seconds for r in results)
    lines.append(f"{len(results) - len(failed)}/{len(results)} claims passed in {total:.1f} s")
    for r in results:
        if r.error is not None:
            lines.append(f"  {r.id}: {r.error}")
    return "\n".join(lines)


def _details(result: ClaimResult) -> list[str]:
    import textwrap

    ev = result.evidence
    parts = [("claim", result.claim.statement)]
    quantity = measured_quantity(result.claim)
    if quantity:
        parts.append(("measured", quantity))
    if ev is not None:
        parts.append(("compared", f"{COMPARISON_WORDS[ev.compare]} (tolerance {format_number(ev.tolerance)})"))
        if ev.detail:
            parts.append(("detail", ev.detail))
    parts.append(("tolerance", result.claim.tolerance_reason))
    out = []
    for label, text in parts:
        out += textwrap.wrap(" ".join(str(text).split()), width=110, initial_indent=f"    {label + ':':<11}",
                             subsequent_indent=" " * 15, break_long_words=False, break_on_hyphens=False)
    return out + [""]


#: How `verbose` tables read each comparison.
COMPARISON_WORDS = {"abs": "|measured − predicted| ≤ tolerance", "rel": "|measured − predicted| ≤ tolerance·|predicted|",
                    "le": "measured ≤ predicted + tolerance", "ge": "measured ≥ predicted − tolerance"}


def progress_line(result: ClaimResult, index: int, total: int) -> str:
    """One line per finished claim: `[k/n] PASS id (seconds)`."""
    width = len(str(total))
    return f"[{index + 1:>{width}}/{total}] {_verdict(result):<4} {result.id} ({result.seconds:.1f} s)"


def report_header(*, seed: int, quick: bool, total_seconds: float, claims: Sequence[str] | None = None) -> dict:
    """The header of `check-report.json`: package version, seed, quick, date, machine, total time."""
    from .._version import __version__
    import jax

    return {
        "dynamics_version": __version__, "seed": int(seed), "quick": bool(quick),
        "selection": None if claims is None else list(claims),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "jax": jax.__version__,
                    "jax_devices": [str(d) for d in jax.devices()]},
        "total_seconds": round(float(total_seconds), 3),
    }


def report_dict(results: Sequence[ClaimResult], header: dict) -> dict:
    """`header` plus the counts and the rows `ClaimResult.as_dict()`."""
    passed = sum(r.passed for r in results)
    return {**header, "n_claims": len(results), "n_passed": passed, "n_failed": len(results) - passed,
            "claims": [_json_safe(r.as_dict()) for r in results]}


def _json_safe(row: dict) -> dict:
    """Non-finite numbers (a failed measurement) as the strings "nan", "inf", "-inf" (strict JSON)."""
    return {k: (str(v) if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}


def write_report(results: Sequence[ClaimResult], header: dict, path: str | Path) -> Path:
    """Write the JSON report to `path` atomically (temporary file, then rename)."""
    from ..results import atomic_write

    text = json.dumps(report_dict(results, header), indent=2, allow_nan=False, default=_json_default)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text + "\n"), suffix=".json")


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")
