"""Lane-adaptive batched integration of many small independent ODE systems.

`jax.vmap(diffeqsolve)` makes every trajectory of a batch wait for the slowest one. `solve_lanes`
steps all lanes of a block in lockstep inside a compiled loop of `chunk_steps` step attempts, but each
lane keeps its own time, step size, PI controller, method and status; between chunks the host drops
finished lanes and re-packs the running ones into full blocks, so the work is proportional to the
sum of the lanes' step counts rather than to (lanes x the slowest lane's steps).

Methods: explicit 5(4) pairs (Tsit5, Dopri5) and a 3(2) Rosenbrock-W pair (ROS34PW2) for stiff lanes;
"auto" starts every lane explicit and moves a lane to the Rosenbrock method when its steps are
limited by stability rather than accuracy (and back when they no longer are).

Laid out as diffrax separates solvers from step-size controllers: `_lane_tableaus` (the methods'
coefficients), `_lane_steps` (one step attempt per method), `_lane_control` (PI control and the
stiffness switch), `_lane_layout` (the packed block the kernels step), `_lane_kernel` (the compiled
loops) and, here, the host loop that packs, dispatches and re-packs blocks (`solve_lanes`).
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from ._lane_kernel import _chunk_fn, _init_fn
from ._lane_layout import (_CODE, _EXPLICIT, _GROUP, _H, _METHOD, _NACC, _NREJ, _NROS, _ROSENBROCK, _RUNNING, _SAVE,
                           _SLOTS, _T, _TCONV, _TEND, _Y, _Consts, _Key, _Static, _static_part)
from ._lane_tableaus import _EXPLICIT_TABLEAUS
from ._status import Status

__all__ = ["LaneSolution", "LANE_METHODS", "solve_lanes"]

LANE_METHODS = ("auto", "tsit5", "dopri5", "ros34pw2")


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
      and per lane ROS34PW2 while the lane is stiff (see `_lane_control`; a lane whose explicit steps
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
    method0 = _ROSENBROCK if method == "ros34pw2" else _EXPLICIT
    for idx, padded in blocks_of(np.arange(n), size_for(n)):
        pending.append((idx, _init_fn(key, Y0[:, padded], t_end[padded], jnp.asarray(t0, dtype), h0,
                                      np.full(padded.size, at_start, np.int32), np.full(padded.size, method0, np.int32),
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
            mine = running & (I_all[_METHOD] == kind)
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
