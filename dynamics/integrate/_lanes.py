"""Lane-adaptive batched integration of many small independent ODE systems.

`jax.vmap(diffeqsolve)` makes every trajectory of a batch wait for the slowest one. `solve_lanes`
steps all lanes of a block in lockstep inside a compiled loop of `chunk_steps` step attempts, but each
lane keeps its own time, step size, PI controller, method and status; between chunks the host drops
finished lanes and re-packs the running ones into full blocks, so the work is proportional to the
sum of the lanes' step counts rather than to (lanes x the slowest lane's steps).

Methods: explicit 5(4) pairs (Tsit5, Dopri5) and a 3(2) Rosenbrock-W pair (ROS34PW2) for stiff lanes;
"auto" starts every lane explicit and moves a lane to the Rosenbrock method when its steps are
limited by stability rather than accuracy (and back when they no longer are).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, Float, PyTree

from ._status import Status

__all__ = ["LaneSolution", "LANE_METHODS", "solve_lanes"]

_RUNNING = -1  # internal status code of a lane that is still being integrated
_EXPLICIT, _ROSENBROCK = 0, 1  # per-lane method (the `mode` row)

# ---------------------------------------------------------------------------------------------------
# Explicit embedded Runge-Kutta pairs of order 5(4), both FSAL: the last row of `a` is b, so stage 7
# is f(t + h, y_new) and becomes stage 1 of the next step. `e` = b - b_hat (the error weights).


class _Tableau(NamedTuple):
    c: tuple
    a: tuple  # rows 2..7 of the lower-triangular Butcher matrix
    e: tuple  # 7 error weights


# Tsitouras (2011), Comput. Math. Appl. 62:770-775; the digits are those of diffrax's `tsit5.py`.
_TSIT5 = _Tableau(
    c=(0.0, 0.161, 0.327, 0.9, 0.9800255409045096857298102862870245954942137979563024768854764293221195950761080302604,
       1.0, 1.0),
    a=(
        (0.161,),
        (-0.8480655492356988544426874250230774675121177393430391537369234245294192976164141156943e-2,
         0.3354806554923569885444268742502307746751211773934303915373692342452941929761641411569),
        (2.897153057105493432130432594192938764924887287701866490314866693455023795137503079289,
         -6.359448489975074843148159912383825625952700647415626703305928850207288721235210244366,
         4.362295432869581411017727318190886861027813359713760212991062156752264926097707165077),
        (5.325864828439256604428877920840511317836476253097040101202360397727981648835607691791,
         -11.74888356406282787774717033978577296188744178259862899288666928009020615663593781589,
         7.495539342889836208304604784564358155658679161518186721010132816213648793440552049753,
         -0.9249506636175524925650207933207191611349983406029535244034750452930469056411389539635e-1),
        (5.861455442946420028659251486982647890394337666164814434818157239052507339770711679748,
         -12.92096931784710929170611868178335939541780751955743459166312250439928519268343184452,
         8.159367898576158643180400794539253485181918321135053305748355423955009222648673734986,
         -0.7158497328140099722453054252582973869127213147363544882721139659546372402303777878835e-1,
         -0.2826905039406838290900305721271224146717633626879770007617876201276764571291579142206e-1),
        (0.9646076681806522951816731316512876333711995238157997181903319145764851595234062815396e-1,
         0.01,
         0.4798896504144995747752495322905965199130404621990332488332634944254542060153074523509,
         1.379008574103741893192274821856872770756462643091360525934940067397245698027561293331,
         -3.290069515436080679901047585711363850115683290894936158531296799594813811049925401677,
         2.324710524099773982415355918398765796109060233222962411944060046314465391054716027841),
    ),
    e=(0.9646076681806522951816731316512876333711995238157997181903319145764851595234062815396e-1
       - 0.9468075576583945807478876255758922856117527357724631226139574065785592789071067303271e-1,
       0.01 - 0.9183565540343253096776363936645313759813746240984095238905939532922955247253608687270e-2,
       0.4798896504144995747752495322905965199130404621990332488332634944254542060153074523509
       - 0.4877705284247615707855642599631228241516691959761363774365216240304071651579571959813,
       1.379008574103741893192274821856872770756462643091360525934940067397245698027561293331
       - 1.234297566930478985655109673884237654035539930748192848315425833500484878378061439761,
       -3.290069515436080679901047585711363850115683290894936158531296799594813811049925401677
       + 2.707712349983525454881109975059321670689605166938197378763992255714444407154902012702,
       2.324710524099773982415355918398765796109060233222962411944060046314465391054716027841
       - 1.866628418170587035753719399566211498666255505244122593996591602841258328965767580089,
       -1 / 66),
)

# Dormand & Prince (1980), J. Comput. Appl. Math. 6:19-26; Hairer, Norsett & Wanner I, Sec. II.5.
_DOPRI5 = _Tableau(
    c=(0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0),
    a=(
        (1 / 5,),
        (3 / 40, 9 / 40),
        (44 / 45, -56 / 15, 32 / 9),
        (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
        (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
        (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
    ),
    e=(71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40),
)


class _RosTableau(NamedTuple):
    """A Rosenbrock(-W) method in the transformed variables u_i = sum_j Gamma_ij k_j (Hairer &
    Wanner, Solving ODEs II, Sec. IV.7): with W = 1/(h gamma) - J,

    W u_i = f(t + alpha_i h, y + sum_{j<i} a_ij u_j) + sum_{j<i} (c_ij / h) u_j,
    y_new = y + sum_j m_j u_j,  error = sum_j e_j u_j.
    """

    gamma: float
    alpha: tuple  # stage times
    a: tuple  # (s, s) strictly lower
    c: tuple  # (s, s) strictly lower
    m: tuple
    e: tuple


def _transformed(A, G, b, b_hat) -> _RosTableau:
    A, G = np.asarray(A, float), np.asarray(G, float)
    G_inv = np.linalg.inv(G)
    c = -np.tril(G_inv, -1)
    b, b_hat = np.asarray(b, float), np.asarray(b_hat, float)

    def as_tuple(x):
        return tuple(as_tuple(row) for row in x) if np.ndim(x) == 2 else tuple(float(v) for v in x)
    return _RosTableau(float(G[0, 0]), as_tuple(A.sum(axis=1)), as_tuple(np.tril(A @ G_inv, -1)), as_tuple(c),
                       as_tuple(b @ G_inv), as_tuple((b - b_hat) @ G_inv))


# ROS34PW2: Rang & Angermann (2005), BIT 45:761-787 (the digits of PETSc's TSROSWRA34PW2).
# Four stages, order 3 (also as a W-method, i.e. with any approximation of the Jacobian), embedded
# order 2, L-stable and stiffly accurate.
_ROS34PW2 = _transformed(
    A=[[0, 0, 0, 0],
       [8.7173304301691801e-01, 0, 0, 0],
       [8.4457060015369423e-01, -1.1299064236484185e-01, 0, 0],
       [0, 0, 1.0, 0]],
    G=[[4.3586652150845900e-01, 0, 0, 0],
       [-8.7173304301691801e-01, 4.3586652150845900e-01, 0, 0],
       [-9.0338057013044082e-01, 5.4180672388095326e-02, 4.3586652150845900e-01, 0],
       [2.4212380706095346e-01, -1.2232505839045147e+00, 5.4526025533510214e-01, 4.3586652150845900e-01]],
    b=[2.4212380706095346e-01, -1.2232505839045147e+00, 1.5452602553351020e+00, 4.3586652150845900e-01],
    b_hat=[3.7810903145819369e-01, -9.6042292212423178e-02, 5.0000000000000000e-01, 2.1793326075422950e-01])

LANE_METHODS = ("auto", "tsit5", "dopri5", "ros34pw2")
_EXPLICIT_TABLEAUS = {"tsit5": _TSIT5, "dopri5": _DOPRI5}

# PI step-size control (Gustafsson 1991, ACM TOMS 17:533-554; Hairer & Wanner II, Sec. IV.2):
# h_new = h * safety * err^(-0.7/k) * err_prev^(0.4/k), k = order of the error estimate + 1 (5 for
# the explicit pairs, 3 for ROS34PW2); after a rejection err^(-1/k), never growing.
_SAFETY, _FACMIN, _FACMAX = 0.9, 0.2, 10.0
_SLOTS = 8  # save slots per lane and chunk (see `_chunk_block`)
_GROUP = 8  # blocks per dispatch (`_chunk_fn`)
_FULL_JACOBIAN_MAX = 8  # Rosenbrock: exact Jacobian and LU up to this many components, diagonal above
# Stiffness switching (after DOPRI5's stiffness detection, Hairer & Wanner II, Sec. IV.2): an explicit
# step is "stiff" when h * rho > 3 (rho = |f(y7) - f(y6)| / |y7 - y6|, both stages at t + h; Tsit5's
# real stability interval is about [-3.5, 0]); 15 stiff accepted steps, without 6 calm ones in a row
# in between, move the lane to ROS34PW2. A Rosenbrock lane goes back after 15 accepted steps in a row
# with h |J|_inf < 1.5, where the explicit pair would be well inside its stability region.
_STIFF_HRHO, _STIFF_COUNT, _CALM_RESET = 3.0, 15, 6
_CALM_HJ, _CALM_COUNT = 1.5, 15


class LaneSolution(NamedTuple):
    r"""What `solve_lanes` returns: numpy arrays in the original lane order (leading axis = lanes).

    - `ys_final`: state pytree at `t_final` (the last accepted point).
    - `ys_saved`: state pytree with axes (lane, save time, ...) at `save_ts` (None without
      `save_ts`); NaN at save times the lane did not reach.
    - `save_ts`: the save times (or None).
    - `t_final`: time of `ys_final`: `t_max` for `ok` lanes, where the lane stopped otherwise.
    - `status`: a `Status` code per lane (int32).
    - `num_steps`: accepted steps; `num_rejected`: rejected steps (their sum is what `max_steps`
      bounds); `num_stiff_steps`: accepted steps taken by the Rosenbrock method.
    - `t_converged`: the last accepted step end $t_n$ at which the relative rate
      $r(t_n) = \max_i |f_i(t_n, y_n)| / \max(|y_{n,i}|, 10^{-8})$ exceeded `converge_rtol` (so
      $r \le$ `converge_rtol` at every later step end); `t0` if it never did; `inf` if it still
      exceeds it at `t_max`; NaN for lanes that are not `ok`, and for all lanes when
      `converge_rtol` is None. Resolution: one step.
    """

    ys_final: PyTree
    ys_saved: PyTree | None
    save_ts: np.ndarray | None
    t_final: np.ndarray
    status: np.ndarray
    num_steps: np.ndarray
    num_rejected: np.ndarray
    num_stiff_steps: np.ndarray
    t_converged: np.ndarray


# ---------------------------------------------------------------------------------------------------
# Packed state of a block of B lanes. Lanes are the LAST axis everywhere (XLA's CPU loops vectorize
# over the minor axis), and a lane's components are stacked into one (D, B) array, so one stage of a
# step is one compiled loop over D x B elements instead of D loops.
#   F (float, (5 + 2D, B)): t, t_end, h (next proposed step), t_conv, log_err (PI memory), y, f(t, y)
#   I (int32, (8, B)): code (_RUNNING or a Status), accepted, rejected, index of the next save time,
#                      method (_EXPLICIT/_ROSENBROCK), stiff and calm counters, Rosenbrock steps
_T, _TEND, _H, _TCONV, _LOGERR, _Y = range(6)
_CODE, _NACC, _NREJ, _SAVE, _MODE, _STIFF, _CALM, _NROS = range(8)


class _Consts(NamedTuple):
    rtol: Array
    atol: Array
    threshold: Array
    converge_rtol: Array
    max_steps: Array
    span: Array
    save_table: Array  # save_ts followed by +inf
    one: Array  # a runtime 1.0 (see `_keep`)
    switching: Array  # bool: "auto" (a runtime flag, so that all methods share the compiled kernels)


class _Static(NamedTuple):
    """Everything the compiled kernels specialize on (hashable; a jit static argument)."""

    vector_field: Callable
    explicit: _Tableau
    y_def: Any
    y_shapes: tuple
    args_def: Any  # treedef of the array part of args
    lane_flags: tuple  # per array leaf of args: True = one value per lane, False = shared
    lane_layout: tuple  # per per-lane leaf: (is packed into F's trailing rows, per-lane shape)
    args_static: Any  # the non-array part of args (eqx.partition)
    track_conv: bool
    slots: int


class _ById:
    """Hashes an unhashable static object by identity (it then recompiles for every new object)."""

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self):
        return id(self.obj)

    def __eq__(self, other):
        return isinstance(other, _ById) and other.obj is self.obj


class _Key:
    """A static jit argument whose hash is computed once (hashing an `eqx.Module` per call costs
    ~50 us, paid at every block dispatch)."""

    __slots__ = ("value", "_hash")

    def __init__(self, value):
        self.value, self._hash = value, hash(value)

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return isinstance(other, _Key) and (other.value is self.value or other.value == self.value)


def _static_part(args_static):
    try:
        hash(args_static)
        return args_static
    except TypeError:
        return _ById(args_static)


def _field(static: _Static, arg_rows, args_extra, args_shared):
    """f(t, Y) on packed (D, B) states: the one-lane vector field, vmapped over the last axis.
    Per-lane args come as packed rows (floating leaves) and a list (the others)."""
    args_static = static.args_static.obj if isinstance(static.args_static, _ById) else static.args_static
    args_lane, start, extra = [], 0, iter(args_extra)
    for packed, shape in static.lane_layout:
        if packed:
            size = math.prod(shape)
            args_lane.append(arg_rows[start:start + size].reshape(shape + arg_rows.shape[-1:]))
            start += size
        else:
            args_lane.append(next(extra))

    def one_lane(t, y, lane_leaves):
        lane_it, shared_it = iter(lane_leaves), iter(args_shared)
        leaves = [next(lane_it) if flag else next(shared_it) for flag in static.lane_flags]
        args = eqx.combine(jax.tree_util.tree_unflatten(static.args_def, leaves), args_static)
        return static.vector_field(t, y, args)

    batched = jax.vmap(one_lane, in_axes=(0, -1, -1), out_axes=-1)

    def f(t, Y):
        return _pack(batched(t, _unpack(static, Y), list(args_lane)), Y.shape[-1])
    return f


def _unpack(static: _Static, Y):
    leaves, start = [], 0
    for shape in static.y_shapes:
        size = math.prod(shape)
        leaves.append(Y[start:start + size].reshape(shape + Y.shape[-1:]))
        start += size
    return jax.tree_util.tree_unflatten(static.y_def, leaves)


def _pack(tree, lanes: int):
    rows = [jnp.reshape(leaf, (-1, lanes)) for leaf in jax.tree_util.tree_leaves(tree)]
    return rows[0] if len(rows) == 1 else jnp.concatenate(rows, axis=0)


def _keep(x, one):
    """x / 1.0 with a runtime 1.0: exact, and XLA treats a division as expensive, so it computes and
    stores x once instead of fusing (recomputing) its whole producer chain into every consumer.
    Without it an unrolled step is recomputed by each of the ~15 carried outputs."""
    return x / one


def _combine(y, h, ks, coeffs):
    """y + h * sum_j coeffs[j] * ks[j] (zero coefficients skipped, fixed summation order)."""
    terms = [cj * k for cj, k in zip(coeffs, ks) if cj != 0.0]
    if not terms:
        return y
    acc = terms[0]
    for term in terms[1:]:
        acc = acc + term
    return y + h * acc


def _rel_rate(Fv, Y):
    return jnp.max(jnp.abs(Fv) / jnp.maximum(jnp.abs(Y), 1e-8), axis=0)


@functools.partial(jax.jit, static_argnums=0)
def _init_fn(key: _Key, Y0, t_end, t0, h0, save_next, mode, arg_rows, args_extra, args_shared, consts: _Consts):
    """f(t0, y0), the first step (`h0` if > 0, else the starting-step heuristic of Hairer, Norsett &
    Wanner I, Sec. II.4, as in diffrax) and the initial status of a block -> (F, I)."""
    static = key.value
    f = _field(static, arg_rows, args_extra, args_shared)
    n = Y0.shape[0]
    t = jnp.broadcast_to(t0, t_end.shape).astype(t_end.dtype)
    F0 = f(t, Y0)
    scale = consts.atol + consts.rtol * jnp.abs(Y0)

    def norm(X):
        return jnp.sqrt(jnp.sum(jnp.square(X / scale), axis=0) / n)

    d0, d1 = norm(Y0), norm(F0)
    small = (d0 < 1e-5) | (d1 < 1e-5)
    hh = jnp.where(small, 1e-6, 0.01 * d0 / jnp.where(small, 1.0, d1))
    hh = jnp.minimum(hh, t_end - t)
    F1 = f(t + hh, Y0 + hh * F0)
    d2 = norm(F1 - F0) / hh
    dmax = jnp.maximum(d1, d2)
    tiny = ~(dmax > 1e-15)
    h1 = jnp.where(tiny, jnp.maximum(1e-6, hh * 1e-3), (0.01 / jnp.where(tiny, 1.0, dmax)) ** (1.0 / 5.0))
    h = jnp.where(h0 > 0, h0, jnp.minimum(100 * hh, h1))
    h = jnp.where(jnp.isfinite(h) & (h > 0), h, consts.span * 1e-6)
    finite = jnp.all(jnp.isfinite(Y0) & jnp.isfinite(F0), axis=0)
    big = jnp.max(jnp.abs(Y0), axis=0) > consts.threshold
    code = jnp.where(~finite, int(Status.nonfinite), jnp.where(
        big, int(Status.diverged), jnp.where(t_end <= t, int(Status.ok), _RUNNING))).astype(jnp.int32)
    t_conv = jnp.where(_rel_rate(F0, Y0) > consts.converge_rtol, t, -jnp.inf)
    zeros = jnp.zeros_like(t)
    F = jnp.concatenate([jnp.stack([t, t_end, h, t_conv, zeros]), Y0, F0])
    iz = jnp.zeros(t.shape, jnp.int32)
    return F, jnp.stack([code, iz, iz, save_next, mode, iz, iz, iz])


# ---------------------------------------------------------------------------------------------------
# One step attempt of every lane of a block (the caller masks lanes that must not move).


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


@functools.partial(jax.jit, static_argnums=(0, 1))
def _chunk_fn(key: _Key, kind: int, F, I, args_extra, args_shared, consts: _Consts, n_iter):
    """`_chunk_block` on `_GROUP` blocks, one after the other (one dispatch from the host per group).
    Arrays come and go lane-last, with the group's lanes side by side: (rows, _GROUP * B)."""
    def split(x):  # (..., G * B) -> (G, ..., B)
        return jnp.moveaxis(x.reshape(x.shape[:-1] + (_GROUP, -1)), -2, 0)

    def join(x):  # (G, ..., B) -> (..., G * B)
        x = jnp.moveaxis(x, 0, -2)
        return x.reshape(x.shape[:-2] + (-1,))

    out = lax.map(lambda blk: _chunk_block(key.value, kind, *blk, args_shared, consts, n_iter),
                  (split(F), split(I), [split(x) for x in args_extra]))
    return tuple(join(x) for x in out)


def _chunk_block(static: _Static, kind: int, F, I, args_extra, args_shared, consts: _Consts, n_iter):
    """Up to `n_iter` step attempts, with the method `kind`, for every running lane of a block whose
    method is `kind` -> (F, I, saved, n_saved).

    Saving: each lane has `static.slots` save slots per chunk; a step that would land on a save
    time while the lane's slots are full is not taken (the lane waits for the next chunk). A lane
    that switches method also waits. Waiting never changes a lane's result.
    """
    D = sum(math.prod(shape) for shape in static.y_shapes)
    F, arg_rows = F[:_Y + 2 * D], F[_Y + 2 * D:]  # state rows, per-lane arg rows
    f = _field(static, arg_rows, args_extra, args_shared)
    slots = static.slots
    dtype = F.dtype
    eps = float(jnp.finfo(dtype).eps)
    one = consts.one
    k_err = 5.0 if kind == _EXPLICIT else 3.0
    alpha, beta, expo_reject = 0.7 / k_err, 0.4 / k_err, 1.0 / k_err
    t_end = F[_TEND]
    buf = jnp.full((max(slots, 1), D) + t_end.shape, jnp.nan, dtype)
    count = jnp.zeros(t_end.shape, jnp.int32)
    slot_ids = jnp.arange(max(slots, 1), dtype=jnp.int32)[:, None, None]
    mine = (I[_CODE] == _RUNNING) & (I[_MODE] == kind)  # lanes this kernel may step

    def cond(carry):
        i, _, I, _, _ = carry
        return (i < n_iter) & jnp.any((I[_CODE] == _RUNNING) & (I[_MODE] == kind))

    def body(carry):
        # The carry is the packed (F, I): each is written by one compiled loop per iteration.
        i, F, I, buf, count = carry
        t, h_prop, t_conv, log_err = F[_T], F[_H], F[_TCONV], F[_LOGERR].astype(jnp.float32)
        Y, Fv = F[_Y:_Y + D], F[_Y + D:]
        code, n_acc, n_rej, save_next, mode, stiff, calm, n_ros = (I[r] for r in range(8))
        running = (code == _RUNNING) & (mode == kind)
        to_end = t_end - t
        if slots:
            t_save = consts.save_table[save_next]
            to_save = t_save - t
            hit_save = to_save <= jnp.minimum(h_prop, to_end)
            hit_end = (to_end <= h_prop) & ~(hit_save & (to_save < to_end))
            h = jnp.where(hit_save, to_save, jnp.where(hit_end, to_end, h_prop))
            t_next = jnp.where(hit_save, t_save, jnp.where(hit_end, t_end, t + h))
            live = running & ~(hit_save & (count >= slots))
            clipped = hit_save | hit_end
        else:
            hit_end = clipped = to_end <= h_prop
            h = jnp.where(hit_end, to_end, h_prop)
            t_next = jnp.where(hit_end, t_end, t + h)
            live = running

        if kind == _EXPLICIT:
            # (Stage 7 is f(t + h, y_new); t + h and t_next differ by a rounding when a save time or
            # t_max is hit, which only a non-autonomous field could tell.)
            Y_new, F_new, err, stiff_step = _explicit_step(static, f, t, h, Y, Fv, one)
            F_here = Fv
        else:
            Y_new, F_here, err, h_jac = _rosenbrock_step(static, f, t, h, Y, one)
            F_new = Fv  # f(t, y) is refreshed after the loop
        scale = consts.atol + consts.rtol * jnp.maximum(jnp.abs(Y), jnp.abs(Y_new))
        n2 = _keep(jnp.mean(jnp.square(err / scale), axis=0), one)  # squared RMS norm
        finite = jnp.isfinite(n2)
        accept = live & (n2 <= 1.0)
        reject = live & ~accept

        # PI control; factors in float32 (vectorized log/exp; they only steer the step size).
        log_norm = 0.5 * jnp.log(jnp.clip(jnp.where(finite, n2, 1e20), 1e-20, 1e20).astype(jnp.float32))
        fac_acc = jnp.clip(_SAFETY * jnp.exp(-alpha * log_norm + beta * log_err), _FACMIN, _FACMAX)
        fac_rej = jnp.clip(_SAFETY * jnp.exp(-expo_reject * log_norm), _FACMIN, _SAFETY)
        h_acc = h * fac_acc.astype(dtype)
        h_acc = jnp.where(clipped, jnp.maximum(h_acc, h_prop), h_acc)  # a clipped step keeps the proposal
        h_new = jnp.where(accept, h_acc, jnp.where(reject, h * fac_rej.astype(dtype), h_prop))

        if static.track_conv:
            if kind == _EXPLICIT:
                t_conv = jnp.where(accept & (_rel_rate(F_new, Y_new) > consts.converge_rtol), t_next, t_conv)
            else:  # the rate at the step's start (the last accepted point); the end is seen next time
                t_conv = jnp.where(live & (_rel_rate(F_here, Y) > consts.converge_rtol), t, t_conv)
        n_acc = n_acc + accept.astype(jnp.int32)
        n_rej = n_rej + reject.astype(jnp.int32)
        if kind == _ROSENBROCK:
            n_ros = n_ros + accept.astype(jnp.int32)
        log_err = jnp.where(accept, log_norm, log_err)
        if slots:
            saved = accept & hit_save
            buf = jnp.where(saved & (count == slot_ids), Y_new[None], buf)
            count = count + saved.astype(jnp.int32)
            save_next = save_next + saved.astype(jnp.int32)

        # Stiffness bookkeeping (the method switches only for "auto").
        if kind == _EXPLICIT:
            stiff = jnp.where(accept & stiff_step, stiff + 1, stiff)
            calm = jnp.where(accept, jnp.where(stiff_step, 0, calm + 1), calm)
            stiff = jnp.where(calm >= _CALM_RESET, 0, stiff)
            switch = stiff >= _STIFF_COUNT
        else:
            calm = jnp.where(accept, jnp.where(h_jac < _CALM_HJ, calm + 1, 0), calm)
            switch = calm >= _CALM_COUNT
        switch = switch & consts.switching
        mode = jnp.where(switch, 1 - kind, mode)
        stiff = jnp.where(switch, 0, stiff)
        calm = jnp.where(switch, 0, calm)
        log_err = jnp.where(switch, 0.0, log_err)

        dtmin = 8 * eps * jnp.abs(t) + 1e-14 * consts.span
        done = accept & (t_next >= t_end)
        big = accept & (jnp.max(jnp.abs(Y_new), axis=0) > consts.threshold)
        collapsed = live & ~done & (h_new < dtmin)
        out_of_steps = live & ~done & (n_acc + n_rej >= consts.max_steps)
        code = jnp.where(big, int(Status.diverged), jnp.where(
            collapsed, int(Status.nonfinite), jnp.where(
                done, int(Status.ok), jnp.where(out_of_steps, int(Status.max_steps), code)))).astype(jnp.int32)
        F = jnp.concatenate([jnp.stack([jnp.where(accept, t_next, t), t_end, h_new, t_conv, log_err.astype(dtype)]),
                             jnp.where(accept, Y_new, Y), jnp.where(accept, F_new, Fv)])
        I = jnp.stack([code, n_acc, n_rej, save_next, mode, stiff, calm, n_ros])
        return i + 1, F, I, buf, count

    _, F, I, buf, count = lax.while_loop(cond, body, (jnp.asarray(0, jnp.int32), F, I, buf, count))
    if kind == _ROSENBROCK:  # keep the row f(t, y) valid (FSAL for the explicit method)
        t, Y = F[_T], F[_Y:_Y + D]
        F_end = f(t, Y)
        t_conv = F[_TCONV]
        if static.track_conv:
            t_conv = jnp.where(mine & (_rel_rate(F_end, Y) > consts.converge_rtol), t, t_conv)
        F = jnp.concatenate([F[:_TCONV], t_conv[None], F[_LOGERR:_Y + D], jnp.where(mine, F_end, F[_Y + D:])])
    return F, I, buf, count


# ---------------------------------------------------------------------------------------------------
# Host driver


def _pow2_at_least(n: int) -> int:
    return 1 << max(0, int(n - 1).bit_length())


def solve_lanes(
    vector_field: Callable[[Any, PyTree, Any], PyTree],
    y0: PyTree,
    args: Any,
    t_max: float | Float[Array, " lanes"],
    *,
    t0: float = 0.0,
    save_ts: Float[Array, " time"] | None = None,
    method: str = "auto",
    rtol: float = 1e-7,
    atol: float = 1e-10,
    max_steps: int = 100_000,
    divergence_threshold: float = 1e6,
    converge_rtol: float | None = None,
    dt0: float | None = None,
    args_axes: Any = "auto",
    chunk_steps: int = 64,
    block_size: int | None = None,
    min_block_size: int | None = None,
    compact: bool = True,
) -> LaneSolution:
    r"""Integrate $dy/dt = f(t, y, args)$ for many independent lanes, each with its own step size.

    Every lane has its own time, step size, PI controller, method and status; the lanes of a block
    are stepped in lockstep inside one compiled loop of `chunk_steps` step attempts (a finished or
    failed lane is frozen). Between chunks, finished lanes are dropped and the running ones re-packed
    into full blocks, so the cost is proportional to the sum of the lanes' step counts, not to
    (lanes x the slowest lane's steps) as with `jax.vmap(diffeqsolve)`.

    **Arguments:**

    - `vector_field`: a pure `f(t, y, args)` for ONE lane (e.g. `mode_flow`); it is `jax.vmap`ped.
    - `y0`: initial state pytree; every leaf has a leading lane axis (e.g. `ModeState` with leaves of
      shape (lanes, 1): one mode per lane).
    - `args`: argument pytree: per-lane leaves have the leading lane axis (e.g. `ModeArgs` with
      `beta` of shape (lanes,)), shared leaves do not (see `args_axes`); non-array leaves (the
      `path`) are static.
    - `t_max`: end time, a scalar or one per lane.

    **Other arguments:**

    - `t0`: start time, shared. `save_ts`: strictly increasing save times in [t0, max t_max]; each
      lane's step is shortened to land exactly on them (no interpolation).
    - `method`: "tsit5" (Tsitouras 2011) or "dopri5" (Dormand & Prince 1980), explicit 5(4) pairs;
      "ros34pw2" (Rang & Angermann 2005), a linearly implicit 3(2) Rosenbrock-W pair, L-stable, with
      the exact Jacobian by forward mode (its diagonal above 8 components); "auto" (default): Tsit5,
      and per lane ROS34PW2 while the lane is stiff (see `_STIFF_HRHO`; a lane whose explicit steps
      are limited by stability rather than accuracy).
    - `rtol`, `atol`: a step is accepted when the RMS over the lane's components of
      err / (atol + rtol max(|y_n|, |y_{n+1}|)) is <= 1 (diffrax's norm); PI step-size control per
      lane (Hairer & Wanner II, Sec. IV.2; safety 0.9, factors in [0.2, 10]). `dt0`: first step
      (default: Hairer's starting-step heuristic per lane).
    - `max_steps`: budget of step attempts (accepted + rejected) per lane.
    - `divergence_threshold`: a lane whose largest |y_i| passes it after an accepted step stops with
      `diverged` (y_final is that state). A non-finite error estimate rejects the step; a lane whose
      step then collapses below 8 eps |t| + 1e-14 (t_max - t0), or whose initial state or
      derivative is non-finite, stops with `nonfinite`.
    - `converge_rtol`: enables `t_converged` (see `LaneSolution`).
    - `args_axes`: a pytree prefix of `args` like `jax.vmap`'s `in_axes`: 0 where a leaf has the
      leading lane axis, None where it is shared by all lanes. "auto": 0-d leaves are shared, all
      others per lane. Shared leaves cost no memory traffic per lane.
    - `chunk_steps`: step attempts per compiled chunk between two compactions.
    - `block_size`: lanes per compiled block, a power of two (default 256 on CPU, where a block's
      working set stays in the L2 cache, 65536 on accelerators), or the smallest power of two >= 64
      that holds all lanes if that is less. `min_block_size`: if given, blocks shrink to the smallest
      power of two >= it that holds the running lanes once few remain (one compilation per size;
      default: no shrinking, so one size per call and two compiled kernels).
    - `compact`: if False, blocks are fixed ranges of the original lane order, each run until all its
      lanes stop (the reference for tests; same results, slower).

    **Returns:** a `LaneSolution` in the original lane order. Never raises on a bad lane: read
    `status`. `solve_lanes` itself is a host loop (the compaction needs concrete values), so it is
    not traced by `jax.jit`/`jax.vmap`; its compiled kernels run on the default device.

    **Reproducibility:** a lane is stepped by elementwise arithmetic only, and waiting (a full save
    buffer, a method switch, the end of a chunk) never changes its sequence of steps, so its result
    does not depend on the other lanes of the batch, on `compact` or `chunk_steps`, nor on where it
    lands in a block. Blocks of different sizes are different compiled programs; on CPU they give
    identical bits in our tests, which is up to the compiler.
    """
    if method not in LANE_METHODS:
        raise ValueError(f"method = {method!r}: must be one of {', '.join(LANE_METHODS)}")
    if not (rtol > 0 and atol >= 0):
        raise ValueError(f"rtol = {rtol}, atol = {atol}: need rtol > 0 and atol >= 0")
    if not (chunk_steps >= 1 and max_steps >= 1):
        raise ValueError(f"chunk_steps = {chunk_steps}, max_steps = {max_steps}: must be >= 1")
    if block_size is None:
        block_size = 256 if jax.default_backend() == "cpu" else 65536
    for name, value in (("block_size", block_size), ("min_block_size", min_block_size or 1)):
        if value < 1 or value & (value - 1):
            raise ValueError(f"{name} = {value}: must be a power of two")

    # State: lane-first leaves -> packed (D, n) rows.
    y_leaves, y_def = jax.tree_util.tree_flatten(y0)
    if not y_leaves:
        raise ValueError("y0 has no array leaves")
    y_leaves = [np.asarray(leaf) for leaf in y_leaves]
    dtype = np.result_type(*y_leaves)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"y0 must be floating point; got {dtype}")
    n = y_leaves[0].shape[0] if y_leaves[0].ndim else 0
    if n < 1 or any(leaf.ndim < 1 or leaf.shape[0] != n for leaf in y_leaves):
        raise ValueError(f"every leaf of y0 needs the same leading lane axis; got shapes "
                         f"{[leaf.shape for leaf in y_leaves]}")
    y_shapes = tuple(leaf.shape[1:] for leaf in y_leaves)
    Y0 = np.concatenate([leaf.reshape(n, -1).T.astype(dtype) for leaf in y_leaves], axis=0)
    D = Y0.shape[0]

    # Args: array leaves split into per-lane (lane axis moved last) and shared ones.
    args_dyn, args_static = eqx.partition(args, eqx.is_array_like)
    a_leaves, args_def = jax.tree_util.tree_flatten(args_dyn)
    a_leaves = [np.asarray(leaf) for leaf in a_leaves]
    if isinstance(args_axes, str) and args_axes == "auto":
        flags = [leaf.ndim > 0 for leaf in a_leaves]
    else:
        axes = jax.tree_util.tree_map(lambda ax, sub: jax.tree_util.tree_map(lambda _: ax, sub),
                                      args_axes, args_dyn, is_leaf=lambda x: x is None)
        flags = [ax is not None for ax in jax.tree_util.tree_leaves(axes, is_leaf=lambda x: x is None)]
        if len(flags) != len(a_leaves):
            raise ValueError("args_axes must be a pytree prefix of args with 0 or None at its leaves")
    bad = [leaf.shape for leaf, flag in zip(a_leaves, flags) if flag and (leaf.ndim < 1 or leaf.shape[0] != n)]
    if bad:
        raise ValueError(f"per-lane leaves of args need the leading lane axis of length {n}; got {bad}")

    def as_dtype(leaf):
        return leaf.astype(dtype) if np.issubdtype(leaf.dtype, np.floating) else leaf

    args_lane = [np.moveaxis(as_dtype(leaf), 0, -1) for leaf, flag in zip(a_leaves, flags) if flag]
    lane_layout = tuple((np.issubdtype(leaf.dtype, np.floating), leaf.shape[:-1]) for leaf in args_lane)
    arg_rows = np.concatenate([np.zeros((0, n), dtype)] + [leaf.reshape(-1, n) for leaf, (packed, _) in
                                                           zip(args_lane, lane_layout) if packed])
    args_extra = [np.ascontiguousarray(leaf) for leaf, (packed, _) in zip(args_lane, lane_layout) if not packed]
    args_shared = [jnp.asarray(as_dtype(leaf)) for leaf, flag in zip(a_leaves, flags) if not flag]

    t_end = np.broadcast_to(np.asarray(t_max, dtype), (n,)).copy()
    if not np.all(t_end >= t0):
        raise ValueError(f"t_max must be >= t0 = {t0} for every lane")
    n_save = 0
    if save_ts is not None:
        save_ts = np.asarray(save_ts, dtype).reshape(-1)
        n_save = save_ts.size
        if n_save == 0 or np.any(np.diff(save_ts) <= 0) or save_ts[0] < t0 or save_ts[-1] > t_end.max():
            raise ValueError(f"save_ts must be strictly increasing within [t0, max t_max] = [{t0}, {t_end.max()}]; "
                             f"got {save_ts}")

    explicit = _EXPLICIT_TABLEAUS["dopri5" if method == "dopri5" else "tsit5"]
    key = _Key(_Static(vector_field, explicit, y_def, y_shapes, args_def, tuple(flags),
                       lane_layout, _static_part(args_static), converge_rtol is not None, min(_SLOTS, n_save)))
    slots = key.value.slots
    span = float(t_end.max() - t0) or 1.0
    consts = jax.tree_util.tree_map(jnp.asarray, _Consts(
        rtol=np.asarray(rtol, dtype), atol=np.asarray(atol, dtype),
        threshold=np.asarray(divergence_threshold, dtype),
        converge_rtol=np.asarray(np.inf if converge_rtol is None else converge_rtol, dtype),
        max_steps=np.asarray(min(max_steps, 2**31 - 1), np.int32), span=np.asarray(span, dtype),
        save_table=np.concatenate([save_ts if n_save else np.zeros(0, dtype), [np.inf]]).astype(dtype),
        one=np.asarray(1.0, dtype), switching=np.asarray(method == "auto")))

    at_start = int(np.searchsorted(save_ts, t0, side="right")) if n_save else 0
    saved = None
    if n_save:
        saved = np.full((n, n_save, D), np.nan, dtype)
        saved[:, :at_start] = Y0.T[:, None]

    first_size = min(block_size, max(64, _pow2_at_least(n)))

    def size_for(count: int) -> int:
        if min_block_size is None:
            return first_size
        return min(first_size, max(min_block_size, _pow2_at_least(count)))

    def blocks_of(indices: np.ndarray, size: int):
        """(lanes, padded lanes) per block; padding repeats the first lane and is frozen."""
        for start in range(0, indices.size, size):
            idx = indices[start:start + size]
            yield idx, (np.concatenate([idx, np.full(size - idx.size, idx[0])]) if idx.size < size else idx)

    def extra(padded):
        return [leaf[..., padded] for leaf in args_extra]

    # Initial step sizes and status, block by block.
    I_all = None
    pending = []
    h0 = jnp.asarray(-1.0 if dt0 is None else dt0, dtype)
    mode0 = _ROSENBROCK if method == "ros34pw2" else _EXPLICIT
    for idx, padded in blocks_of(np.arange(n), size_for(n)):
        pending.append((idx, _init_fn(key, Y0[:, padded], t_end[padded], jnp.asarray(t0, dtype), h0,
                                      np.full(padded.size, at_start, np.int32), np.full(padded.size, mode0, np.int32),
                                      arg_rows[:, padded], extra(padded), args_shared, consts)))
    n_state = _Y + 2 * D
    F_all = np.empty((n_state + arg_rows.shape[0], n), dtype)  # state rows, then per-lane arg rows
    F_all[n_state:] = arg_rows
    for idx, (F, I) in pending:
        if I_all is None:
            I_all = np.empty((I.shape[0], n), np.int32)
        F_all[:n_state, idx] = np.asarray(F)[:, :idx.size]
        I_all[:, idx] = np.asarray(I)[:, :idx.size]

    # Chunks: the running lanes of each method are packed into blocks, integrated, scattered back.
    fixed = None if compact else [np.arange(s0, min(s0 + first_size, n)) for s0 in range(0, n, first_size)]
    n_iter = jnp.asarray(chunk_steps, jnp.int32)
    while True:
        running = I_all[_CODE] == _RUNNING
        if not running.any():
            break
        pending = []
        for kind in (_EXPLICIT, _ROSENBROCK):
            mine = running & (I_all[_MODE] == kind)
            work = []  # (lanes to scatter back, their positions in the block, the block's lanes)
            if compact:  # lanes with similar remaining work (steps ~ (t_end - t) / h) share a block
                lanes = np.flatnonzero(mine)
                lanes = lanes[np.argsort((F_all[_TEND, lanes] - F_all[_T, lanes]) / F_all[_H, lanes], kind="stable")]
                work = [(idx, np.arange(idx.size), padded) for idx, padded in blocks_of(lanes, size_for(lanes.size))]
            else:  # the other lanes of the range ride along, frozen (not this method, or stopped)
                for r in fixed:
                    if mine[r].any():
                        pos = np.flatnonzero(mine[r])
                        work.append((r[pos], pos, next(blocks_of(r, first_size))[1]))
            for g in range(0, len(work), _GROUP):
                group = work[g:g + _GROUP]
                B = group[0][2].size
                group += [(group[0][0][:0], group[0][1][:0], group[0][2])] * (_GROUP - len(group))  # all frozen
                lanes = np.concatenate([padded for _, _, padded in group])  # (_GROUP * B,)
                idx = np.concatenate([idx for idx, _, _ in group])  # lanes to scatter back ...
                pos = np.concatenate([b * B + pos for b, (_, pos, _) in enumerate(group)])  # ... and where they are
                I_g = I_all[:, lanes]
                frozen = np.ones(lanes.size, bool)  # padding, and lanes that ride along
                frozen[pos] = False
                I_g[_CODE, frozen & (I_g[_CODE] == _RUNNING)] = int(Status.ok)
                out = _chunk_fn(key, kind, F_all[:, lanes], I_g, [leaf[..., lanes] for leaf in args_extra],
                                args_shared, consts, n_iter)
                pending.append((idx, pos, I_g[_SAVE, pos], out))
        for idx, pos, first_save, out in pending:
            F_g, I_g, buf_g, count_g = (np.asarray(x) for x in out)
            F_all[:n_state, idx] = F_g[:, pos]
            I_all[:, idx] = I_g[:, pos]
            if saved is not None:
                count = count_g[pos]
                for k_slot in range(slots):
                    rows = np.flatnonzero(count > k_slot)
                    if rows.size == 0:
                        break
                    saved[idx[rows], first_save[rows] + k_slot] = buf_g[k_slot][:, pos[rows]].T

    return _solution(F_all[:n_state], I_all, saved, save_ts, y_def, y_shapes, t0, converge_rtol is not None)


def _solution(F_all, I_all, saved, save_ts, y_def, y_shapes, t0, track_conv) -> LaneSolution:
    n, D = F_all.shape[1], (F_all.shape[0] - _Y) // 2
    status = I_all[_CODE].astype(np.int32)
    ok = status == int(Status.ok)
    t_conv = np.full(n, np.nan, F_all.dtype)
    if track_conv:
        raw = F_all[_TCONV]
        t_conv = np.where(raw == -np.inf, t0, np.where(raw >= F_all[_TEND], np.inf, raw))
        t_conv = np.where(ok, t_conv, np.nan).astype(F_all.dtype)

    def unpack(rows_last):  # (..., D) -> pytree of (..., *shape)
        leaves, start = [], 0
        for shape in y_shapes:
            size = math.prod(shape)
            leaves.append(np.ascontiguousarray(rows_last[..., start:start + size]).reshape(
                rows_last.shape[:-1] + shape))
            start += size
        return jax.tree_util.tree_unflatten(y_def, leaves)

    return LaneSolution(
        ys_final=unpack(F_all[_Y:_Y + D].T), ys_saved=None if saved is None else unpack(saved),
        save_ts=save_ts, t_final=F_all[_T].copy(), status=status, num_steps=I_all[_NACC].copy(),
        num_rejected=I_all[_NREJ].copy(), num_stiff_steps=I_all[_NROS].copy(), t_converged=t_conv)
