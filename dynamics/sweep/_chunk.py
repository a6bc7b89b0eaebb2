"""Compute one chunk of a sweep grid: build the lanes, integrate them in batches, summarize."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..config import Config
from ..flows import (
    FlowArgs,
    ModeArgs,
    ModeWeights,
    BYOLState,
    byol_flow,
    flow_args,
    gradient_path,
    initial_modes,
    initial_state,
    mode_args,
    mode_weight_flow,
    modes_to_weights,
)
from ..integrate import solve
from ..results import full_diagnostics
from ._grid import Grid
from ._outcome import OUTCOME_THRESHOLDS, classify_modes, time_to_converge

__all__ = ["compute_chunk", "DATA_FIELDS", "INIT_FIELDS", "PATH_FIELDS"]

DATA_FIELDS = ("data", "sigma2", "x_eigs", "xprime_eigs", "basis", "data_seed", "X", "Xprime", "n1", "n2")
INIT_FIELDS = ("init", "init_scale", "init_scale_p", "seed", "tau0", "p0", "s0", "tau0_modes", "alpha_p",
               "predictor", "target", "W0", "Wp0", "Wa0", "n1", "n2")
PATH_FIELDS = ("target", "stop_gradient", "predictor")


def _rates(grid: Grid, chunk: int) -> dict[str, np.ndarray]:
    out = {name: grid.per_point(chunk, {name}, lambda c, n=name: getattr(c, n)).astype(float)
           for name in ("alpha_p", "beta", "eta")}
    out["eta_p"] = grid.per_point(chunk, {"eta", "eta_p"}, lambda c: c.eta_p_effective).astype(float)
    return out


def _groups(paths: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    flat = paths.reshape(-1)
    keys = [(p.target, p.stop_gradient, p.predictor) for p in flat]
    groups: dict[tuple, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    return [(flat[idx[0]], np.asarray(idx)) for idx in groups.values()]


@eqx.filter_jit
def _batched(vector_field, y0, args, ts, solver, rtol, atol, max_steps, threshold):
    return jax.vmap(lambda y, a: solve(vector_field, y, a, ts, solver=solver, rtol=rtol, atol=atol,
                                       max_steps=max_steps, divergence_threshold=threshold))(y0, args)


def shard_lanes(tree, n_lanes: int):
    """Pad the lane axis to a multiple of the device count and shard it over a 1-D device mesh
    (`jax.sharding`); a no-op on one device. Returns the placed tree and the padded lane count."""
    devices = jax.devices()
    if len(devices) == 1:
        return tree, n_lanes
    padded = -(-n_lanes // len(devices)) * len(devices)
    mesh = jax.sharding.Mesh(np.asarray(devices), ("lanes",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("lanes"))

    def place(a):
        a = np.asarray(a)
        if padded != n_lanes:  # repeat the last lane; its result is dropped
            a = np.concatenate([a, np.repeat(a[-1:], padded - n_lanes, axis=0)])
        return jax.device_put(a, sharding)

    return jax.tree_util.tree_map(place, tree), padded


def integrate_batch(vector_field, y0, args, ts: np.ndarray, config: Config):
    """Integrate lanes (leading axis of every leaf of `y0` and the array fields of `args`) with
    `jit(vmap(solve))`, sharded over all devices when there are several; returns (saved states with
    time on axis 1, status per lane)."""
    with jax.enable_x64(config.dtype == "float64"):
        dtype = np.float64 if config.dtype == "float64" else np.float32
        n_lanes = len(jax.tree_util.tree_leaves(y0)[0])
        cast = lambda tree: jax.tree_util.tree_map(lambda a: np.asarray(a, dtype), tree)  # noqa: E731
        (y0, args), _ = shard_lanes((cast(y0), cast(args)), n_lanes)
        traj = _batched(vector_field, y0, args, jnp.asarray(ts, dtype), config.solver if
                        config.solver in ("tsit5", "dopri5", "dopri8") else "tsit5", config.rtol, config.atol,
                        config.max_steps, config.divergence_threshold)
        ys = jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=np.float64)[:n_lanes], traj.ys)
        return ys, np.asarray(traj.status)[:n_lanes]


def _modes_chunk(grid: Grid, chunk: int, ts: np.ndarray) -> dict[str, tuple]:
    base = grid.base
    cs, m = grid.chunk_shape(chunk), base.n2
    P = int(np.prod(cs))
    paths = grid.per_point(chunk, PATH_FIELDS, gradient_path).reshape(-1)
    lam = grid.per_point(chunk, DATA_FIELDS, lambda c: np.stack([mode_args(c).lam_d, mode_args(c).lam_s]))
    init = grid.per_point(chunk, INIT_FIELDS, lambda c: np.stack([np.asarray(a) for a in modes_to_weights(
        initial_modes(c))]))
    rates = _rates(grid, chunk)
    lam = lam.reshape(P, 2, m)
    init = init.reshape(P, 3, m)
    T = len(ts)
    ys = np.full((P, T, 3, m), np.nan)
    status = np.zeros((P, m), dtype=np.int8)
    for path, idx in _groups(paths):
        L = idx.size * m
        y0 = ModeWeights(*(init[idx, k, :].reshape(L, 1) for k in range(3)))
        args = ModeArgs(lam_d=lam[idx, 0, :].reshape(L, 1), lam_s=lam[idx, 1, :].reshape(L, 1),
                        path=path, **{k: np.repeat(v.reshape(P)[idx], m) for k, v in rates.items()})
        saved, st = integrate_batch(mode_weight_flow, y0, args, ts, base)
        for k in range(3):
            ys[idx, :, k, :] = saved[k].reshape(idx.size, m, T).transpose(0, 2, 1)
        status[idx, :] = st.reshape(idx.size, m)
    p, w, wa = ys[:, :, 0, :], ys[:, :, 1, :], ys[:, :, 2, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        s, tau = w**2, np.where(w != 0, wa / w, np.nan)
    eta = rates["eta"].reshape(P, 1)
    outcome = classify_modes(p, s, tau, lam[:, 0, :], lam[:, 1, :], eta, status)
    t_conv = np.fmax(time_to_converge(ts, p), time_to_converge(ts, s))
    lam_d = lam[:, 0, :]
    shape = lambda a: a.reshape(cs + a.shape[1:])  # noqa: E731
    point_status = status.max(axis=1)
    return {
        "p": (("time", "mode"), shape(p)),
        "s": (("time", "mode"), shape(s)),
        "tau": (("time", "mode"), shape(tau)),
        "eig_F_final": (("mode",), shape(lam_d * s[:, -1, :])),
        "p_final": (("mode",), shape(p[:, -1, :])),
        "s_final": (("mode",), shape(s[:, -1, :])),
        "tau_final": (("mode",), shape(tau[:, -1, :])),
        "time_to_converge": (("mode",), shape(t_conv)),
        "outcome": (("mode",), shape(outcome)),
        "mode_status": (("mode",), shape(status)),
        "status": ((), shape(point_status)),
    }


def _full_chunk(grid: Grid, chunk: int, ts: np.ndarray) -> dict[str, tuple]:
    base = grid.base
    cs, n1, n2 = grid.chunk_shape(chunk), base.n1, base.n2
    P = int(np.prod(cs))
    paths = grid.per_point(chunk, PATH_FIELDS, gradient_path).reshape(-1)
    data = grid.per_point(chunk, DATA_FIELDS, lambda c: np.stack([flow_args(c).X, flow_args(c).XS])).reshape(
        P, 2, n1, n1)
    W0 = grid.per_point(chunk, INIT_FIELDS + ("data_seed",), lambda c: initial_state(c).W).reshape(P, n2, n1)
    Wp0 = grid.per_point(chunk, INIT_FIELDS, lambda c: initial_state(c).Wp).reshape(P, n2, n2)
    Wa0 = grid.per_point(chunk, INIT_FIELDS, lambda c: initial_state(c).Wa).reshape(P, n2, n1)
    rates = _rates(grid, chunk)
    T = len(ts)
    W = np.full((P, T, n2, n1), np.nan)
    Wp = np.full((P, T, n2, n2), np.nan)
    Wa = np.full((P, T, n2, n1), np.nan)
    status = np.zeros(P, dtype=np.int8)
    for path, idx in _groups(paths):
        y0 = BYOLState(W0[idx], Wp0[idx], Wa0[idx])
        args = FlowArgs(X=data[idx, 0], XS=data[idx, 1], path=path, **{k: v.reshape(P)[idx] for k, v in rates.items()})
        saved, st = integrate_batch(byol_flow, y0, args, ts, base)
        W[idx], Wp[idx], Wa[idx] = saved.W, saved.Wp, saved.Wa
        status[idx] = st
    keys = ("eig_F", "eig_Wp", "p", "tau")
    diag = {k: np.full((P, T, n2), np.nan) for k in keys}
    commutator = np.full(P, np.nan)
    balance = np.full(P, np.nan)
    for i in range(P):
        ok = np.all(np.isfinite(W[i].reshape(T, -1)), axis=1) & np.all(np.isfinite(Wp[i].reshape(T, -1)), axis=1)
        n = int(ok.sum())
        if n == 0:
            continue
        d = full_diagnostics(W[i, :n], Wp[i, :n], Wa[i, :n], data[i, 0], data[i, 1], ts[:n],
                             rates["alpha_p"].reshape(P)[i], rates["eta"].reshape(P)[i])
        for k in keys:
            diag[k][i, :n] = d[k]
        balance[i] = d["balance_residual"][-1]
        F = W[i, n - 1] @ data[i, 0] @ W[i, n - 1].T
        S = 0.5 * (Wp[i, n - 1] + Wp[i, n - 1].T)
        denom = max(np.linalg.norm(F) * np.linalg.norm(S), 1e-300)
        commutator[i] = np.linalg.norm(F @ S - S @ F) / denom
    isotropic = base.data == "isotropic"
    sigma2 = grid.per_point(chunk, {"sigma2"}, lambda c: c.sigma2).reshape(P, 1).astype(float)
    eig_F, p, tau = diag["eig_F"], diag["p"], diag["tau"]
    outcome = classify_modes(p, eig_F, tau, 1.0, 1.0 + sigma2, rates["eta"].reshape(P, 1), status[:, None],
                             closed_form=isotropic)
    t_conv = np.fmax(time_to_converge(ts, eig_F), time_to_converge(ts, p))
    shape = lambda a: a.reshape(cs + a.shape[1:])  # noqa: E731
    return {
        "eig_F": (("time", "mode"), shape(eig_F)),
        "eig_Wp": (("time", "mode"), shape(diag["eig_Wp"])),
        "p": (("time", "mode"), shape(p)),
        "tau": (("time", "mode"), shape(tau)),
        "eig_F_final": (("mode",), shape(eig_F[:, -1])),
        "eig_Wp_final": (("mode",), shape(diag["eig_Wp"][:, -1])),
        "p_final": (("mode",), shape(p[:, -1])),
        "tau_final": (("mode",), shape(tau[:, -1])),
        "time_to_converge": (("mode",), shape(t_conv)),
        "outcome": (("mode",), shape(outcome)),
        "commutator": ((), shape(commutator)),
        "aligned": ((), shape(commutator <= OUTCOME_THRESHOLDS["aligned_tol"])),
        "balance_residual_final": ((), shape(balance)),
        "status": ((), shape(status)),
    }


def compute_chunk(grid: Grid, chunk: int, ts: np.ndarray) -> dict[str, tuple]:
    """Variables of one chunk: name -> (trailing dims after the swept axes, array)."""
    return _modes_chunk(grid, chunk, ts) if grid.base.model == "modes" else _full_chunk(grid, chunk, ts)
