"""One step attempt of every lane of a packed block (the caller masks lanes that must not move):
the explicit 5(4) pairs with their stiffness test, and ROS34PW2 with its Jacobian and LU."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._lane_control import _STIFF_HRHO
from ._lane_layout import _Static, _combine, _keep
from ._lane_tableaus import _ROS34PW2

__all__ = ["_explicit_step", "_rosenbrock_step"]

_FULL_JACOBIAN_MAX = 8  # Rosenbrock: exact Jacobian and LU up to this many components, diagonal above


def _explicit_step(static: _Static, f, t, h, Y, Fv, one):
    """-> (y_new, f(t + h, y_new), error estimate, whether the step looks stiff)."""
    c, a, e = static.explicit
    ks, Ys = [Fv], [Y]
    for i in range(1, 7):
        Ys.append(_keep(_combine(Y, h, ks, a[i - 1]), one))  # stored once, read by f's components
        ks.append(_keep(f(t + c[i] * h, Ys[-1]), one))
    err = h * sum(ej * k for ej, k in zip(e, ks) if ej != 0.0)
    # stiffness: h rho > 3, with rho from the last two stages (both at t + h)
    num = jnp.sum(jnp.square(ks[6] - ks[5]), axis=0)
    den = jnp.sum(jnp.square(Ys[6] - Ys[5]), axis=0)
    return Ys[6], ks[6], err, h * h * num > _STIFF_HRHO**2 * den


def _lu(M, one):
    """LU factors (no pivoting) of per-lane D x D matrices given as nested lists of (B,) arrays; the
    diagonal holds 1/U_ii. A zero pivot gives inf/NaN, which rejects the step (a smaller step makes
    1/(h gamma) - J diagonally dominant)."""
    D = len(M)
    M = [list(row) for row in M]
    for k in range(D):
        M[k][k] = _keep(1.0 / M[k][k], one)
        for i in range(k + 1, D):
            M[i][k] = _keep(M[i][k] * M[k][k], one)
            for j in range(k + 1, D):
                M[i][j] = M[i][j] - M[i][k] * M[k][j]
    return M


def _lu_solve(LU, r):
    D = len(LU)
    z = []
    for i in range(D):
        zi = r[i]
        for j in range(i):
            zi = zi - LU[i][j] * z[j]
        z.append(zi)
    x = [None] * D
    for i in reversed(range(D)):
        xi = z[i]
        for j in range(i + 1, D):
            xi = xi - LU[i][j] * x[j]
        x[i] = xi * LU[i][i]
    return jnp.stack(x)


def _rosenbrock_step(static: _Static, f, t, h, Y, one):
    """ROS34PW2 step -> (y_new, f(t, y), error, h |J|_inf). Exact Jacobian (forward mode) and LU up
    to `_FULL_JACOBIAN_MAX` components; above, its diagonal (the method is a W-method: any
    approximation keeps order 3, only stability suffers)."""
    tab = _ROS34PW2
    D = Y.shape[0]
    tangents = jnp.broadcast_to(jnp.eye(D, dtype=Y.dtype)[:, :, None], (D,) + Y.shape)
    f0, cols = jax.vmap(lambda v: jax.jvp(lambda y: f(t, y), (Y,), (v,)), out_axes=(None, 0))(tangents)
    f0, cols = _keep(f0, one), _keep(cols, one)  # cols[j, i] = df_i / dy_j
    g = 1.0 / (h * tab.gamma)
    if D <= _FULL_JACOBIAN_MAX:
        LU = _lu([[(g if i == j else 0.0) - cols[j, i] for j in range(D)] for i in range(D)], one)
        solve = lambda r: _keep(_lu_solve(LU, list(r)), one)  # noqa: E731
        h_jac = h * jnp.max(jnp.stack([sum(jnp.abs(cols[j, i]) for j in range(D)) for i in range(D)]), axis=0)
    else:
        diag = jnp.stack([cols[i, i] for i in range(D)])
        inv = _keep(1.0 / (g - diag), one)
        solve = lambda r: _keep(r * inv, one)  # noqa: E731
        h_jac = h * jnp.max(jnp.abs(diag), axis=0)
    us = []
    for i in range(len(tab.m)):
        if i == 0:
            Fi = f0
        else:
            Yi = _keep(Y + sum(tab.a[i][j] * us[j] for j in range(i) if tab.a[i][j] != 0.0), one)
            Fi = f(t + tab.alpha[i] * h, Yi)
        rhs = Fi + sum((tab.c[i][j] / h) * us[j] for j in range(i) if tab.c[i][j] != 0.0)
        us.append(solve(rhs))
    Y_new = _keep(Y + sum(mj * u for mj, u in zip(tab.m, us)), one)
    err = sum(ej * u for ej, u in zip(tab.e, us))
    return Y_new, f0, err, h_jac
