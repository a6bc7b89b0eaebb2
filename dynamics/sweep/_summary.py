"""What a finished sweep should tell its user: cells that are still moving at t_max.

A cell whose outcome is `not_converged` was still changing over the last saved interval: the run
was too short for it, which says nothing about where it ends (it is not a trap). When more than a
few percent of the computed cells are in that state, `sweep` warns (`NotConvergedWarning`) and
`ssl-dynamics sweep` says so in its summary, with the t_max that would let them finish.
"""

from __future__ import annotations

import json
import math

import numpy as np
import xarray as xr

from ._outcome import Outcome

__all__ = ["NOT_CONVERGED_WARN_FRACTION", "NotConvergedWarning", "convergence_note", "suggested_t_max"]

#: Warn when more than this fraction of the computed (point, mode) cells are not converged.
NOT_CONVERGED_WARN_FRACTION = 0.02
#: EMA time constants (1/beta) that a t_max should cover for the target to have caught up.
EMA_TIME_CONSTANTS = 30.0


class NotConvergedWarning(UserWarning):
    """More than `NOT_CONVERGED_WARN_FRACTION` of a sweep's cells are still moving at t_max."""


def _round_up(value: float) -> float:
    """`value` rounded up to one significant digit (27000 -> 30000)."""
    unit = 10.0 ** math.floor(math.log10(value))
    return math.ceil(value / unit - 1e-9) * unit


def _base(ds: xr.Dataset) -> dict:
    try:
        return json.loads(ds.attrs.get("config_json", "{}"))
    except (TypeError, ValueError):
        return {}


def suggested_t_max(ds: xr.Dataset) -> tuple[float, str]:
    """A t_max that would let the not-converged cells of `ds` settle, and why.

    With an EMA target the slowest process is usually the target catching up: tau_j relaxes on
    the time scale 1/beta, so the suggestion is `EMA_TIME_CONSTANTS / beta` for the smallest beta
    among the not-converged cells (rounded up to one digit; on the main job's grid, 30 / 1e-3 =
    30000 converges every cell). Otherwise, or when that is not longer than the run, ten times the
    run's t_max."""
    t_max = float(ds["time"].values[-1])
    stuck = ds["outcome"] == int(Outcome.not_converged)
    base = _base(ds)
    ema = ("target" in ds.coords and "ema" in [str(v) for v in ds["target"].values]) or (
        "target" not in ds.coords and base.get("target", ds.attrs.get("target")) == "ema")
    if ema and bool(stuck.any()):
        if "beta" in ds.coords:
            beta = float(ds["beta"].broadcast_like(stuck).where(stuck).min())
        else:
            beta = float(base.get("beta", ds.attrs.get("beta", np.nan)))
        if np.isfinite(beta) and beta > 0 and EMA_TIME_CONSTANTS / beta > t_max:
            return _round_up(EMA_TIME_CONSTANTS / beta), (
                f"the slowest EMA among them, beta = {beta:.3g}, relaxes on the time scale 1/beta = {1 / beta:.4g}")
    return _round_up(10.0 * t_max), "their slowest process is slow against t_max"


def convergence_note(ds: xr.Dataset, name: str | None = None) -> str | None:
    """One paragraph when more than `NOT_CONVERGED_WARN_FRACTION` of the computed cells of a
    sweep are `not_converged` (else None): how many, that it is the run length and not a trap, and
    the t_max that would do (`suggested_t_max`)."""
    if "outcome" not in ds or "time" not in ds.coords:
        return None
    outcome = ds["outcome"].values
    computed = int(np.sum(outcome != int(Outcome.not_computed)))
    stuck = int(np.sum(outcome == int(Outcome.not_converged)))
    if computed == 0 or stuck <= NOT_CONVERGED_WARN_FRACTION * computed:
        return None
    times = np.asarray(ds["time"].values, dtype=float)
    t_max = float(times[-1])
    suggestion, why = suggested_t_max(ds)
    cells = "(point, mode) cells" if "mode" in ds["outcome"].dims else "cells"
    text = (f"{name + ': ' if name else ''}{stuck} of {computed} {cells} ({100 * stuck / computed:.1f}%) are not "
            f"converged at t_max = {t_max:g}: they are still moving at the end of the run (the run is too short "
            f"for them; this is not a trap and not where they end); {why}. A t_max of about {suggestion:g} "
            f"(t_max={suggestion:g}, --t-max {suggestion:g}) would let them settle.")
    last = (times[-1] - times[-2]) / t_max if times.size >= 2 and t_max > 0 else 1.0
    if last > 0.5:  # convergence is judged over the last saved interval
        text += (f" Note: with {times.size} saved times the last saved interval, over which convergence is judged, "
                 f"spans {100 * last:.0f}% of the run; save more times (n_save, --n-save) to judge it.")
    return text
