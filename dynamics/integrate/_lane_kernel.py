"""The compiled kernels of `solve_lanes`: a block's first step and status (`_init_fn`) and up to
`chunk_steps` step attempts of its lanes (`_chunk_block`, `_GROUP` blocks per dispatch in
`_chunk_fn`): the step functions of `_lane_steps`, the error norm, the controllers of
`_lane_control`, saving, and each lane's status."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax import lax

from ._lane_control import pi_step_size, stiffness_switch
from ._lane_layout import (_CODE, _EXPLICIT, _GROUP, _H, _LOGERR, _METHOD, _ROSENBROCK, _RUNNING, _T, _TCONV, _TEND,
                           _Y, _Consts, _Key, _Static, _field, _keep, _rel_rate)
from ._lane_steps import _explicit_step, _rosenbrock_step
from ._status import Status

__all__ = ["_init_fn", "_chunk_fn"]


@functools.partial(jax.jit, static_argnums=0)
def _init_fn(key: _Key, Y0, t_end, t0, h0, save_next, method, arg_rows, args_extra, args_shared, consts: _Consts):
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
    return F, jnp.stack([code, iz, iz, save_next, method, iz, iz, iz])


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
    t_end = F[_TEND]
    buf = jnp.full((max(slots, 1), D) + t_end.shape, jnp.nan, dtype)
    count = jnp.zeros(t_end.shape, jnp.int32)
    slot_ids = jnp.arange(max(slots, 1), dtype=jnp.int32)[:, None, None]
    mine = (I[_CODE] == _RUNNING) & (I[_METHOD] == kind)  # lanes this kernel may step

    def cond(carry):
        i, _, I, _, _ = carry
        return (i < n_iter) & jnp.any((I[_CODE] == _RUNNING) & (I[_METHOD] == kind))

    def body(carry):
        # The carry is the packed (F, I): each is written by one compiled loop per iteration.
        i, F, I, buf, count = carry
        t, h_prop, t_conv, log_err = F[_T], F[_H], F[_TCONV], F[_LOGERR].astype(jnp.float32)
        Y, Fv = F[_Y:_Y + D], F[_Y + D:]
        code, n_acc, n_rej, save_next, method, stiff, calm, n_ros = (I[r] for r in range(8))
        running = (code == _RUNNING) & (method == kind)
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

        h_new, log_norm = pi_step_size(k_err, h, h_prop, n2, finite, log_err, clipped, accept, reject)

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
        switch, stiff, calm = stiffness_switch(kind == _EXPLICIT, accept, stiff_step if kind == _EXPLICIT else h_jac,
                                               stiff, calm, consts.switching)
        method = jnp.where(switch, 1 - kind, method)
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
        I = jnp.stack([code, n_acc, n_rej, save_next, method, stiff, calm, n_ros])
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
