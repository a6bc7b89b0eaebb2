"""Reference integration with scipy `solve_ivp` (a second, independent integrator)."""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from functools import partial

from ._trajectory import Trajectory
from ._status import Status

__all__ = ["SCIPY_METHODS", "solve_scipy"]

SCIPY_METHODS = {"scipy-rk45": "RK45", "scipy-dop853": "DOP853", "scipy-radau": "Radau", "scipy-lsoda": "LSODA"}


@partial(jax.jit, static_argnums=(0, 1, 2))
def _flat_field(vector_field, treedef, shapes, t, flat, args):
    """f on a flat vector; compiled once per vector field and state structure (args are traced)."""
    pieces, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        pieces.append(flat[start:start + size].reshape(shape))
        start += size
    out = vector_field(t, jax.tree_util.tree_unflatten(treedef, pieces), args)
    return jnp.concatenate([jnp.ravel(leaf) for leaf in jax.tree_util.tree_leaves(out)])


def solve_scipy(
    vector_field: Callable[[Any, Any, Any], Any],
    y0: Any,
    args: Any,
    ts: np.ndarray,
    *,
    method: str = "DOP853",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    divergence_threshold: float = 1e6,
) -> Trajectory:
    """Integrate the same vector field with `scipy.integrate.solve_ivp` (float64, one trajectory).

    The pytree state is flattened; `f` is jit-compiled once and called from scipy. `method` is a
    `solve_ivp` method name ("RK45", "DOP853", "Radau", "LSODA") or a key of `SCIPY_METHODS`.
    Returns a `Trajectory` like `solve` (numpy arrays, NaN after a stop, a `Status` code).
    """
    from scipy.integrate import solve_ivp  # imported here: the reference solver is not on the CLI's start-up path

    method = SCIPY_METHODS.get(method, method)
    leaves, treedef = jax.tree_util.tree_flatten(y0)
    shapes = tuple(tuple(np.shape(leaf)) for leaf in leaves)
    flat0 = np.concatenate([np.ravel(np.asarray(leaf, dtype=np.float64)) for leaf in leaves])
    args = jax.tree_util.tree_map(jnp.asarray, args)

    def rhs(t, flat):
        return np.asarray(_flat_field(vector_field, treedef, shapes, t, flat, args))

    def too_big(t, flat):
        size = np.max(np.abs(flat))
        return divergence_threshold - size if np.isfinite(size) else -1.0

    too_big.terminal = True
    ts = np.asarray(ts, dtype=np.float64)
    with np.errstate(all="ignore"):
        sol = solve_ivp(rhs, (ts[0], ts[-1]), flat0, method=method, t_eval=ts, rtol=rtol, atol=atol,
                        events=too_big)
    out = np.full((len(ts), flat0.size), np.nan)
    n = sol.y.shape[1]
    out[:n] = sol.y.T
    reached = np.zeros(len(ts), dtype=bool)
    reached[:n] = True
    if sol.status == 0:
        status = Status.ok
    elif sol.status == 1:
        status = Status.diverged if np.all(np.isfinite(sol.y[:, -1] if n else flat0)) else Status.nonfinite
    else:
        status = Status.nonfinite
    if status == Status.ok and not np.all(np.isfinite(out)):
        status = Status.nonfinite
    pieces, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        pieces.append(out[:, start:start + size].reshape((len(ts),) + shape))
        start += size
    ys = jax.tree_util.tree_unflatten(treedef, pieces)
    return Trajectory(ts, ys, np.int32(status), reached, np.int64(sol.nfev))
