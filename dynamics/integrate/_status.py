"""Per-trajectory outcome of a solve: a status code instead of an exception (also under vmap)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Status", "STATUS_MESSAGES", "status_flag_attrs"]


class Status(IntEnum):
    """Outcome of integrating one trajectory.

    - `ok` (0): reached `t_max` within tolerance.
    - `max_steps` (1): the solver used `max_steps` steps before `t_max`; raise `max_steps` or loosen
      `rtol`/`atol`. Values after the last reached time are NaN.
    - `diverged` (2): the state's largest entry passed `divergence_threshold`; the run was stopped
      there. Values after that time are NaN.
    - `nonfinite` (3): the state or its derivative became NaN/inf, or the solver could not continue
      (step size collapsed). Values after the last finite time are NaN.
    """

    ok = 0
    max_steps = 1
    diverged = 2
    nonfinite = 3


STATUS_MESSAGES = {
    Status.ok: "reached t_max",
    Status.max_steps: "stopped after max_steps solver steps before t_max; raise max_steps or loosen rtol/atol, or, "
                      "if the flow is stiff (e.g. a large alpha_p or beta), use --solver scipy-radau or scipy-lsoda",
    Status.diverged: "the state passed divergence_threshold; the trajectory diverges",
    Status.nonfinite: "the state became non-finite or the solver step size collapsed; if the flow is stiff (e.g. a "
                      "large alpha_p or beta), use --solver scipy-radau or scipy-lsoda",
}


def status_flag_attrs() -> dict:
    """CF-convention attributes describing the integer `status` variable of a result file."""
    return {
        "flag_values": [int(s) for s in Status],
        "flag_meanings": " ".join(s.name for s in Status),
        "long_name": "per-trajectory solver outcome",
    }
