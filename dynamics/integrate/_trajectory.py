"""What a solve returns: `Trajectory` (shared by the diffrax, stored-program and scipy paths)."""

from __future__ import annotations

from typing import NamedTuple

from jaxtyping import Array, Bool, Float, Int, PyTree

__all__ = ["Trajectory"]


class Trajectory(NamedTuple):
    """What a solve returns.

    - `ts`: the requested save times.
    - `ys`: the state pytree with a leading time axis; entries after the trajectory stopped are NaN.
    - `status`: a `Status` code (int array; one per trajectory under vmap).
    - `reached`: boolean mask over `ts`, True where the state was actually computed.
    - `num_steps`: accepted solver steps (function evaluations for the scipy path).
    """

    ts: Float[Array, " time"]
    ys: PyTree
    status: Int[Array, ""]
    reached: Bool[Array, " time"]
    num_steps: Int[Array, ""]
