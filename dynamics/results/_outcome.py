"""What a run did to its spectrum: learns / collapses / stalls / diverges (THEORY.md §7-§8 table)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..integrate import Status

__all__ = ["SpectrumOutcome", "spectrum_outcome", "OUTCOME_TOLERANCES"]

#: Thresholds of `spectrum_outcome`, relative to the largest initial eigenvalue of F.
OUTCOME_TOLERANCES = {"collapsed": 1e-6, "stalled": 1e-6, "diverging_growth": 10.0, "still_growing": 1e-3,
                      "converged": 1e-3}


class SpectrumOutcome(NamedTuple):
    """`label`: "diverges", "stalls", "collapses", "collapses to rank r" or "learns";
    `alive`, `collapsed`, `diverging`: numbers of modes; `converged`: the spectrum changed by less
    than 0.1% (relative) over the last saved interval; `final`: the last computed eigenvalues of F."""

    label: str
    alive: int
    collapsed: int
    diverging: int
    converged: bool
    final: np.ndarray


def spectrum_outcome(eig_F: np.ndarray, status: int = Status.ok) -> SpectrumOutcome:
    """Classify a trajectory of the eigenvalues of F = W X W^T (time x mode, NaN after an early stop).

    With `scale` = the largest initial eigenvalue and the thresholds of `OUTCOME_TOLERANCES`:

    - a mode is collapsed when its last value is <= 1e-6 scale, diverging when it is > 10 scale and
      still grew by more than 0.1% over the last saved interval;
    - label "diverges" when the solver stopped on divergence or some mode is diverging (the other
      modes' fate is in `collapsed` / `alive`); "stalls" when no eigenvalue moved by more than 1e-6
      scale; "collapses" when every mode collapsed; "collapses to rank r" when r modes are alive
      and the rest collapsed; "learns" when every mode is alive (whether it has settled is
      `converged`).
    """
    lam = np.asarray(eig_F, dtype=float)
    rows = np.flatnonzero(np.all(np.isfinite(lam), axis=1))
    last = rows[-1]
    prev = rows[-2] if rows.size > 1 else last
    scale = float(np.max(np.abs(lam[0])))
    final = lam[last]
    tol = OUTCOME_TOLERANCES
    collapsed = final <= tol["collapsed"] * scale
    growth = (final - lam[prev]) / np.maximum(np.abs(lam[prev]), 1e-300)
    diverging = (final > tol["diverging_growth"] * scale) & (growth > tol["still_growing"])
    change = np.max(np.abs(final - lam[prev])) / max(np.max(np.abs(final)), 1e-300)
    converged = bool(change < tol["converged"])
    n_alive = int(np.sum(~collapsed))
    if int(status) == Status.diverged or diverging.any():
        label = "diverges"
    elif np.max(np.abs(final - lam[0])) <= tol["stalled"] * scale:
        label = "stalls"
    elif n_alive == 0:
        label = "collapses"
    elif n_alive < lam.shape[1]:
        label = f"collapses to rank {n_alive}"
    else:
        label = "learns"
    return SpectrumOutcome(label, n_alive, int(collapsed.sum()), int(diverging.sum()), converged, final)
