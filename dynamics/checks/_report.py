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

__all__ = ["format_number", "format_table", "report_header", "report_dict", "write_report",
           "claim_figure", "write_figures", "progress_line"]

_TABLE_COLUMNS = ("claim", "source", "measured", "predicted", "tolerance", "verdict", "s")


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


def _row(result: ClaimResult) -> tuple[str, ...]:
    ev = result.evidence
    measured = "-" if ev is None else format_number(ev.measured)
    if ev is not None and ev.stderr is not None:
        measured += f" ± {format_number(ev.stderr)}"
    tolerance = "-" if ev is None else f"{ev.compare} {format_number(ev.tolerance)}"
    return (result.id, result.claim.source, measured, "-" if ev is None else format_number(ev.predicted),
            tolerance, _verdict(result), f"{result.seconds:.1f}")


def format_table(results: Sequence[ClaimResult]) -> str:
    """The verdict table (one row per claim, then a summary line); errors are listed below it."""
    rows = [_TABLE_COLUMNS] + [_row(r) for r in results]
    widths = [max(len(row[k]) for row in rows) for k in range(len(_TABLE_COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    failed = [r for r in results if not r.passed]
    total = sum(r.seconds for r in results)
    lines.append(f"{len(results) - len(failed)}/{len(results)} claims passed in {total:.1f} s")
    for r in results:
        if r.error is not None:
            lines.append(f"  {r.id}: {r.error}")
    return "\n".join(lines)


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
    from ..results._io import atomic_write

    text = json.dumps(report_dict(results, header), indent=2, allow_nan=False, default=_json_default)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text + "\n"), suffix=".json")


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def claim_figure(result: ClaimResult):
    """A matplotlib figure for one claim: its `Evidence.series` (log y when `log_y`), else measured
    (with its standard error) against predicted ± tolerance. Title: id and verdict."""
    from ..plots._style import subplots

    fig, ax = subplots(figsize=(6.0, 4.0), constrained_layout=False)
    ev = result.evidence
    colour = "tab:green" if result.passed else "tab:red"
    if ev is None:
        ax.text(0.5, 0.5, f"error:\n{result.error}", ha="center", va="center", wrap=True, color="tab:red",
                transform=ax.transAxes, fontsize=8)
        ax.set_axis_off()
    elif ev.series:
        for label, (x, y) in ev.series.items():
            x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
            if ev.log_y:
                y = np.where(y > 0, y, np.nan)
            ax.plot(x, y, marker="o" if x.size <= 12 else None, label=label)
        if ev.log_y:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
        ax.set_xlabel(ev.detail[:90], fontsize=7)
    else:
        lo, hi = _band(ev)
        ax.axhspan(lo, hi, color="0.85", label=f"predicted, {ev.compare} tolerance {format_number(ev.tolerance)}")
        ax.axhline(ev.predicted, color="k", lw=1)
        yerr = None if ev.stderr is None else [float(ev.stderr)]
        ax.errorbar([0.0], [float(ev.measured)], yerr=yerr, fmt="o", color=colour, capsize=4, label="measured")
        ax.set_xlim(-1, 1)
        ax.set_xticks([])
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.legend(fontsize=8)
        ax.set_xlabel(ev.detail[:90], fontsize=7)
    ax.set_title(f"{result.id}: {'PASS' if result.passed else 'FAIL'}", color=colour, fontsize=10)
    fig.tight_layout()
    return fig


def _band(ev) -> tuple[float, float]:
    p, tol = float(ev.predicted), float(ev.tolerance)
    width = {"abs": tol, "rel": tol * abs(p)}.get(ev.compare)
    if width is not None:
        lo, hi = p - width, p + width
    elif ev.compare == "le":
        lo, hi = min(p + tol, float(ev.measured)) - abs(p) - 1.0, p + tol
    else:
        lo, hi = p - tol, max(p - tol, float(ev.measured)) + abs(p) + 1.0
    if hi <= lo:
        hi = lo + 1e-12
    return lo, hi


def figure_name(claim_id: str) -> str:
    """File name of a claim's figure: the id with anything but letters, digits, '.', '_' and '-' replaced."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", claim_id) + ".png"


def write_figures(results: Sequence[ClaimResult], folder: str | Path) -> list[Path]:
    """One PNG per claim in `folder` (`<claim id>.png`), each written atomically."""
    from ..plots import save_figure

    folder = Path(folder)
    written = []
    for r in results:
        written.append(save_figure(claim_figure(r), folder / figure_name(r.id)))
    return written
