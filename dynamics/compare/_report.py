"""Reading runs and reporting comparisons: a table on stdout, a JSON summary, figures."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import xarray as xr

from ..config import ConfigError
from ..results import atomic_write, read_netcdf

__all__ = ["read_run", "comparison_table", "write_summary", "differing_setting"]


def read_run(path: str | Path) -> xr.Dataset:
    """The log of a run directory (`RUN_DIR/log.nc`) or a log file.

    **Raises:** `ConfigError` naming the path when it is missing or not a readable training log."""
    path = Path(path)
    file = path / "log.nc" if path.is_dir() else path
    if not file.exists():
        raise ConfigError("run", str(path), "must be a run directory of ssl-dynamics train (holding log.nc) or its"
                          " log.nc")
    try:
        log = read_netcdf(file)
    except Exception as err:  # noqa: BLE001 - netCDF4/HDF5 raise many kinds on a file that is not netCDF
        raise ConfigError("run", str(file), f"is not a readable netCDF file ({type(err).__name__})") from None
    if "train_config_json" not in log.attrs:
        raise ConfigError("run", str(file), "is not a training log of ssl-dynamics train (no train_config_json;"
                          " a simulation or another program's file?)")
    return log


def _fmt(x: Any, spec: str = ".3g") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return format(x, spec) if isinstance(x, (int, float)) else str(x)


def comparison_table(summaries: Sequence[dict[str, Any]]) -> str:
    """One row per run: errors, rank correlation, outcomes, collapse, the theorem checks, the verdict."""
    head = ("run", "method/model", "rows", "rel.err", "log.err", "rank.corr", "outcomes", "collapse m/p",
            "T1 slope(R2)", "T3 rate m/p", "verdict")
    lines = []
    for s in summaries:
        collapse = f"{'Y' if s['run_collapsed_measured'] else 'N'}/{'Y' if s['run_collapsed_predicted'] else 'N'}"
        verdict = ("PREDICTED" if s["predicted"] else "NOT PREDICTED") + (" (partial)" if s["partial"] else "")
        lines.append((str(s["run"]), f"{s['method']}/{s['model']}", str(s["rows"]), _fmt(s["median_relative_error"]),
                      _fmt(s["median_log_error"]), _fmt(s["rank_correlation"], ".2f"),
                      _fmt(s["outcome_agreement"], ".0%"), collapse,
                      f"{_fmt(s['theorem1_slope'], '.2f')}({_fmt(s['theorem1_r2'], '.2f')})",
                      f"{_fmt(s['theorem3_measured_rate'])}/{_fmt(s['theorem3_predicted_rate'])}", verdict))
    widths = [max(len(h), *(len(r[k]) for r in lines)) for k, h in enumerate(head)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in lines]
    return "\n".join(out)


def write_summary(path: str | Path, summaries: Sequence[dict[str, Any]], header: dict[str, Any]) -> Path:
    """The JSON summary, written atomically."""
    text = json.dumps({**header, "runs": list(summaries)}, indent=1, default=_jsonable)
    return atomic_write(path, lambda tmp: tmp.write_text(text), suffix=".json")


def _jsonable(x: Any) -> Any:
    if hasattr(x, "item"):
        return x.item()
    return str(x)


def differing_setting(logs: Sequence[xr.Dataset]) -> tuple[str | None, list[Any]]:
    """The first training setting whose value differs between the runs (None when they agree)."""
    configs = [json.loads(log.attrs["train_config_json"]) for log in logs]
    for key in sorted(configs[0]):
        values = [c.get(key) for c in configs]
        if any(v != values[0] for v in values) and key not in ("seed",):
            return key, values
    return None, []
