"""Adaptive integration with diffrax, one status per trajectory (jit- and vmap-safe).

diffrax is imported when a solve is traced, not with this module: a command whose solve program is
already stored (`program_cache`) runs without loading it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

from ._status import Status
from ._trajectory import Trajectory

__all__ = ["Trajectory", "SOLVERS", "solve", "state_max_abs"]

#: The diffrax solvers by name (explicit Runge-Kutta pairs: Tsit5, Dopri5, Dopri8).
SOLVERS = ("tsit5", "dopri5", "dopri8")


def _solver_instance(name: str):
    import diffrax

    return {"tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5, "dopri8": diffrax.Dopri8}[name]()


def state_max_abs(y: PyTree) -> Float[Array, ""]:
    """Largest absolute entry over all leaves (NaN if any entry is NaN)."""
    leaves = jax.tree_util.tree_leaves(y)
    return jnp.max(jnp.stack([jnp.max(jnp.abs(leaf)) for leaf in leaves]))


class _StopOnBlowUp(eqx.Module):
    """Terminating event: the state has an entry above `threshold`, or a non-finite entry."""

    threshold: Float[Array, ""]

    def __call__(self, t, y, args, **kwargs):
        size = state_max_abs(y)
        return (size > self.threshold) | ~jnp.isfinite(size)


def solve(
    vector_field: Callable[[Any, PyTree, Any], PyTree],
    y0: PyTree,
    args: Any,
    ts: Float[Array, " time"],
    *,
    solver: str = "tsit5",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 200_000,
    divergence_threshold: float = 1e6,
    program_cache: Path | None = None,
) -> Trajectory:
    r"""Integrate $dy/dt = f(t, y, args)$ from `ts[0]` to `ts[-1]`, saving at `ts`.

    **Arguments:**

    - `vector_field`: a pure `f(t, y, args)` (e.g. `byol_flow`, `mode_flow`).
    - `y0`: initial state pytree; `args`: its arguments; `ts`: increasing save times.
    - `solver`: "tsit5", "dopri5" or "dopri8" (diffrax, PID step-size control with `rtol`, `atol`).
    - `max_steps`: solver step budget; `divergence_threshold`: a state entry larger than this stops
      the trajectory and marks it `diverged` (a terminating event, so one bad lane never poisons a
      vmapped batch).
    - `program_cache`: a folder where the traced program is kept (`jax.export`, see
      `dynamics.integrate._programs`), so that the same solve with new values in a new process skips
      tracing; XLA's compiled code is kept by JAX's own persistent compilation cache. Only for a
      vector field defined in this package, called eagerly (not under `jit` / `vmap`); otherwise,
      or when the program cannot be stored, the solve runs as without it, with the same result.

    **Returns:** a `Trajectory`. Never raises on a failed solve (`throw=False`): read `status`.

    Arrays are used in the dtype they come in; enable x64 before calling for float64.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver = {solver!r}: must be one of {', '.join(SOLVERS)}")
    ts = jnp.asarray(ts)
    # Tolerances and the threshold enter the compiled solve as arrays, so new values do not
    # recompile; only shapes, the vector field, the solver and max_steps are static.
    as_array = lambda v: jnp.asarray(v, dtype=ts.dtype)  # noqa: E731
    controls = (as_array(rtol), as_array(atol), as_array(divergence_threshold))
    if program_cache is not None:
        from ._programs import solve_stored

        traj = solve_stored(Path(program_cache), _solve_body, vector_field, y0, args, ts, controls, solver=solver,
                            max_steps=max_steps)
        if traj is not None:
            return traj
    rtol, atol, divergence_threshold = controls
    return _solve(vector_field, y0, args, ts, solver, rtol, atol, max_steps, divergence_threshold)


def _solve_body(vector_field, y0, args, ts, solver: str, rtol, atol, max_steps, divergence_threshold
                ) -> Trajectory:
    """The solve of `solve` (solver by name, max_steps static; tolerances and threshold arrays), to be
    traced: by `_solve` (jit) or by `jax.export` (a stored program, traced afresh)."""
    import diffrax

    stop = _StopOnBlowUp(divergence_threshold)
    # A NaN derivative makes every step fail its error test; the step then shrinks geometrically and
    # hits dtmin within ~25 rejections, which is reported as `nonfinite` (not as max_steps).
    dtmin = jnp.asarray(1e-14, dtype=ts.dtype) * (ts[-1] - ts[0])
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(vector_field),
        _solver_instance(solver),
        t0=ts[0],
        t1=ts[-1],
        dt0=None,
        y0=y0,
        args=args,
        saveat=diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts), diffrax.SubSaveAt(t1=True)]),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol, dtmin=dtmin),
        event=diffrax.Event(stop),
        max_steps=max_steps,
        throw=False,
    )
    ys, y_last = sol.ys
    t_last = sol.ts[1][0]
    # the initial state is known even when the first step fails (t_last is then not finite)
    reached = (sol.ts[0] <= t_last) | (jnp.arange(ts.shape[0]) == 0)
    size_last = state_max_abs(jax.tree_util.tree_map(lambda leaf: leaf[0], y_last))
    status = jnp.where(
        sol.result == diffrax.RESULTS.successful,
        Status.ok,
        jnp.where(
            sol.result == diffrax.RESULTS.max_steps_reached,
            Status.max_steps,
            jnp.where(
                (sol.result == diffrax.RESULTS.event_occurred) & jnp.isfinite(size_last),
                Status.diverged,
                Status.nonfinite,
            ),
        ),
    )
    ys = jax.tree_util.tree_map(
        lambda leaf: jnp.where(reached.reshape((-1,) + (1,) * (leaf.ndim - 1)), leaf, jnp.nan), ys)
    ys = jax.tree_util.tree_map(lambda leaf, first: leaf.at[0].set(jnp.asarray(first, leaf.dtype)), ys, y0)
    return Trajectory(ts, ys, status.astype(jnp.int32), reached, sol.stats["num_accepted_steps"])


_solve = eqx.filter_jit(_solve_body)
