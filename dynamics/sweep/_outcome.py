"""What happened to each trajectory of a sweep: an `outcome` code beside the solver `status`."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

__all__ = ["Outcome", "OUTCOME_THRESHOLDS", "classify_modes", "time_to_converge", "outcome_flag_attrs",
           "stable_fixed_point"]


class Outcome(IntEnum):
    """Per mode (and per grid point):

    - `collapsed` (0): s_j(t_max) <= `collapse_s` (the mode died).
    - `fixed_point` (1): non-collapsed and at the stable fixed point p*_+ of (T17), generalized to
      lambda_s p^2 - tau lambda_d p + eta = 0 (T13b) with the final tau_j, within `fixed_point_rtol`.
    - `non_collapsed` (2): alive and converged, but not at p*_+ (e.g. the eta = 0 line of §5, or
      data the closed form does not cover).
    - `not_converged` (3): still moving at t_max: over the last saved interval p_j or s_j changed by
      more than `converged_rtol` (relative, floor `converged_floor`).
    - `diverged` (4): the solver status is `diverged`.
    - `failed` (5): the solver status is `nonfinite` or `max_steps`.
    - `not_computed` (6): never a trajectory's outcome: a cell of a store whose chunk is not done
      (an interrupted sweep) or failed its checksum, as `read_store` returns it.
    """

    collapsed = 0
    fixed_point = 1
    non_collapsed = 2
    not_converged = 3
    diverged = 4
    failed = 5
    not_computed = 6


#: Thresholds of `Outcome` (recorded in every sweep store's attributes).
OUTCOME_THRESHOLDS = {
    "collapse_s": 1e-6,
    "fixed_point_rtol": 1e-2,
    "converged_rtol": 1e-3,
    "converged_floor": 1e-6,
    "aligned_tol": 1e-3,
    "time_to_converge_rtol": 1e-2,
}


def outcome_flag_attrs() -> dict:
    return {"flag_values": [int(o) for o in Outcome], "flag_meanings": " ".join(o.name for o in Outcome),
            "long_name": "trajectory outcome per mode (see dynamics.sweep.Outcome)"}


def stable_fixed_point(tau: np.ndarray, lam_d: np.ndarray, lam_s: np.ndarray, eta: np.ndarray) -> np.ndarray:
    r"""$p^*_+ = [\tau\lambda_d + \sqrt{\tau^2\lambda_d^2 - 4\lambda_s\eta}] / (2\lambda_s)$ (T17 with
    (T13b)'s eigenvalues; NaN where the discriminant is negative, i.e. past the threshold eta*)."""
    with np.errstate(over="ignore", invalid="ignore"):  # tau of a collapsed mode can be huge (w_a / w, w -> 0)
        disc = (tau * lam_d) ** 2 - 4.0 * lam_s * eta
        return np.where(disc >= 0, (tau * lam_d + np.sqrt(np.maximum(disc, 0.0))) / (2.0 * lam_s), np.nan)


def time_to_converge(ts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """First saved time from which every later saved value stays within `time_to_converge_rtol`
    (relative, floor `converged_floor`) of the final value; `values` has time on axis -2 and the
    result drops it. NaN where the final value is NaN."""
    rtol, floor = OUTCOME_THRESHOLDS["time_to_converge_rtol"], OUTCOME_THRESHOLDS["converged_floor"]
    final = values[..., -1:, :]
    with np.errstate(invalid="ignore"):
        far = np.abs(values - final) > rtol * np.maximum(np.abs(final), floor)
    # index of the last time that is still far, +1; 0 when never far
    n = values.shape[-2]
    last_far = np.where(far.any(axis=-2), n - 1 - np.argmax(far[..., ::-1, :], axis=-2), -1)
    idx = np.clip(last_far + 1, 0, n - 1)
    out = ts[idx]
    return np.where(np.isfinite(final[..., 0, :]), out, np.nan)


def classify_modes(p: np.ndarray, s: np.ndarray, tau: np.ndarray, lam_d: np.ndarray, lam_s: np.ndarray,
                   eta: np.ndarray, status: np.ndarray, closed_form: np.ndarray | bool = True) -> np.ndarray:
    """Outcome per mode from saved trajectories (time on axis -2, mode on axis -1).

    `status` has the shape of the mode axis dropped or kept (it is broadcast); `eta` and the
    eigenvalues broadcast against the final values; `closed_form` says where the (T17) fixed point
    applies (False: alive and converged modes are `non_collapsed`).
    """
    th = OUTCOME_THRESHOLDS
    p_end, s_end, tau_end = p[..., -1, :], s[..., -1, :], tau[..., -1, :]
    p_prev, s_prev = p[..., -2, :], s[..., -2, :]
    status = np.broadcast_to(status, p_end.shape)
    with np.errstate(invalid="ignore"):
        moving = (np.abs(p_end - p_prev) > th["converged_rtol"] * np.maximum(np.abs(p_end), th["converged_floor"])) | (
            np.abs(s_end - s_prev) > th["converged_rtol"] * np.maximum(np.abs(s_end), th["converged_floor"]))
        p_star = stable_fixed_point(np.where(np.isfinite(tau_end), tau_end, 1.0), lam_d, lam_s, eta)
        at_star = np.abs(p_end - p_star) <= th["fixed_point_rtol"] * np.abs(p_star)
    out = np.full(p_end.shape, int(Outcome.non_collapsed), dtype=np.int8)
    out = np.where(at_star & closed_form, int(Outcome.fixed_point), out)
    out = np.where(moving, int(Outcome.not_converged), out)
    out = np.where(s_end <= th["collapse_s"], int(Outcome.collapsed), out)
    out = np.where(status == 2, int(Outcome.diverged), out)
    out = np.where((status == 1) | (status == 3), int(Outcome.failed), out)
    return out.astype(np.int8)
