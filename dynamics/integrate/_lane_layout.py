"""The packed block of lanes that the compiled kernels of `solve_lanes` step: its row layout, the
constants and static settings the kernels specialize on, and the one-lane vector field vmapped over
a block's packed (D, B) state."""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from ._lane_tableaus import _Tableau

__all__ = ["_Consts", "_Static", "_Key", "_field", "_unpack", "_pack", "_keep", "_combine", "_rel_rate"]

_RUNNING = -1  # internal status code of a lane that is still being integrated
_EXPLICIT, _ROSENBROCK = 0, 1  # per-lane integration method (the `_METHOD` row)
_SLOTS = 8  # save slots per lane and chunk (see `_chunk_block`)
_GROUP = 8  # blocks per dispatch (`_chunk_fn`)

# Packed state of a block of B lanes. Lanes are the LAST axis everywhere (XLA's CPU loops vectorize
# over the minor axis), and a lane's components are stacked into one (D, B) array, so one stage of a
# step is one compiled loop over D x B elements instead of D loops.
#   F (float, (5 + 2D, B)): t, t_end, h (next proposed step), t_conv, log_err (PI memory), y, f(t, y)
#   I (int32, (8, B)): code (_RUNNING or a Status), accepted, rejected, index of the next save time,
#                      method (_EXPLICIT/_ROSENBROCK), stiff and calm counters, Rosenbrock steps
_T, _TEND, _H, _TCONV, _LOGERR, _Y = range(6)
_CODE, _NACC, _NREJ, _SAVE, _METHOD, _STIFF, _CALM, _NROS = range(8)


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
