r"""JAX vector fields generated from the derived systems (`sympy.lambdify` with the jax printer).

The generated functions have the signature `f(t, y, args)` of `dynamics.integrate.solve`, are pure
and jit/vmap friendly:

- `derived_mode_flow`: drop-in for `dynamics.flows.mode_flow` (T11-T13b): `ModeState` in and out,
  `ModeArgs` (lam_d, lam_s, alpha_p, beta, eta, eta_p; the static `path` selects the derived system);
- `mode_vector_field(predictor, target, stop_gradient)`: the same for one fixed gradient path;
- `flow_vector_field(..., n1, n2)`: drop-in for `dynamics.flows.byol_flow` (T2-T5) at explicit sizes;
- `jax_vector_field(system)`: any `ModeSystem`, state a tuple in `system.state` order, args a mapping
  from parameter names to values.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Mapping

import sympy as sp

from ._derive import derive_flow
from ._modes import mode_system
from ._symbols import Path, alpha_p, as_path, beta, eta, eta_p
from ._system import ModeSystem

__all__ = ["jax_vector_field", "mode_vector_field", "derived_mode_flow", "flow_vector_field"]


def _broadcast(values, like):
    import jax.numpy as jnp

    dtype = jnp.result_type(*like)
    shape = jnp.broadcast_shapes(*(jnp.shape(x) for x in like))
    return tuple(jnp.broadcast_to(jnp.asarray(v, dtype=dtype), shape) for v in values)


@lru_cache(maxsize=None)
def _lambdified(system: ModeSystem) -> Callable:
    return sp.lambdify([list(system.state), list(system.params)], list(system.rhs), modules="jax", cse=True)


def jax_vector_field(system: ModeSystem) -> Callable[[Any, tuple, Mapping], tuple]:
    r"""`f(t, y, args)` for a `ModeSystem`: `y` a tuple of arrays in `system.state` order, `args` a
    mapping from parameter names (`"sigma2"`, `"eta"`, ...) to arrays; returns the tuple of
    derivatives, broadcast to the state's shape."""
    fn = _lambdified(system)
    names = [q.name for q in system.params]

    def vector_field(t, y, args):
        state = tuple(y)
        out = fn(list(state), [args[name] for name in names])
        return _broadcast(out, state + tuple(args[name] for name in names))

    vector_field.__doc__ = f"Generated from the derived {system.name} system ({system.theory}): {system.description}."
    return vector_field


@lru_cache(maxsize=None)
def _mode_field(path: Path) -> Callable:
    from ..flows import ModeState

    system = mode_system(path)
    fn = _lambdified(system)

    def vector_field(t, y, args):
        if as_path(args.path) != path:
            raise ValueError(f"args.path = {args.path}: this vector field was generated for {path}")
        params = [getattr(args, q.name) for q in system.params]  # lam_d, lam_s, alpha_p, beta, eta, eta_p
        out = fn([y.p, y.s, y.tau], params)
        return ModeState(*_broadcast(out, (y.p, y.s, y.tau, args.lam_d, args.lam_s)))

    vector_field.__doc__ = (f"d(p, s, tau)/dt generated from the derived mode system for {path} "
                            "(T11-T13b); a drop-in for dynamics.flows.mode_flow.")
    return vector_field


def mode_vector_field(predictor: str = "trained", target="ema", stop_gradient: str = "target") -> Callable:
    r"""The derived (T11)-(T13b) as `f(t, y: ModeState, args: ModeArgs) -> ModeState` for one gradient
    path (cached); raises `ValueError` if `args.path` is a different path."""
    return _mode_field(as_path(predictor, target, stop_gradient))


def derived_mode_flow(t, y, args):
    r"""d(p, s, tau)/dt, THEORY.md (T11)-(T13b), generated from the sympy derivation for the static
    `args.path`: the same signature and semantics as `dynamics.flows.mode_flow`, so it drops into
    `dynamics.integrate.solve` and `jax.jit(jax.vmap(...))`."""
    return _mode_field(as_path(args.path))(t, y, args)


@lru_cache(maxsize=None)
def _flow_field(path: Path, n1: int, n2: int) -> Callable:
    from ..flows import BYOLState

    flow = derive_flow(path, n1=n1, n2=n2)
    weights = list(flow.W) + list(flow.Wp) + ([] if path.target == "online" else list(flow.Wa))
    data = list(flow.X) + list(flow.Xprime)
    rates = [alpha_p, beta, eta, eta_p]
    exprs = [list(flow.dW), list(flow.dWp), list(flow.dWa)]
    fn = sp.lambdify([weights, data, rates], exprs, modules="jax", cse=True)

    def vector_field(t, y, args):
        import jax.numpy as jnp

        if as_path(args.path) != path:
            raise ValueError(f"args.path = {args.path}: this vector field was generated for {path}")
        W = jnp.asarray(y.W)
        entries = [W.reshape(-1), jnp.asarray(y.Wp).reshape(-1)]
        if path.target != "online":
            entries.append(jnp.asarray(y.Wa).reshape(-1))
        flat = jnp.concatenate(entries)
        X = jnp.asarray(args.X)
        Xprime = jnp.asarray(args.XS) - X
        dW, dWp, dWa = fn(list(flat), list(X.reshape(-1)) + list(Xprime.reshape(-1)),
                          [args.alpha_p, args.beta, args.eta, args.eta_p])
        as_matrix = lambda entries, rows, cols: jnp.stack(  # noqa: E731
            _broadcast(entries, (W[0, 0],))).reshape(rows, cols)
        return BYOLState(as_matrix(dW, n2, n1), as_matrix(dWp, n2, n2), as_matrix(dWa, n2, n1))

    vector_field.__doc__ = f"d(W, Wp, Wa)/dt generated from the derivation of (T2)-(T5) for {path}, n1={n1}, n2={n2}."
    return vector_field


def flow_vector_field(predictor: str = "trained", target="ema", stop_gradient: str = "target", *,
                      n1: int = 2, n2: int = 2) -> Callable:
    r"""The derived (T2)-(T5) as `f(t, y: BYOLState, args: FlowArgs) -> BYOLState` for explicit sizes
    (1-3), a drop-in for `dynamics.flows.byol_flow` (X' is read as `args.XS - args.X`)."""
    from ._derive import _check_size

    _check_size("n1", n1)
    _check_size("n2", n2)
    return _flow_field(as_path(predictor, target, stop_gradient), n1, n2)
