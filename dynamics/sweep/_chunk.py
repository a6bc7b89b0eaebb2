"""Compute one chunk of a sweep grid: build the lanes, integrate them in batches, summarize."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..config import CLOSED_FORM_PREDICTORS, Config
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
    weights_to_modes,
)
from ..integrate import SOLVERS, shard_batch, solve, solve_lanes
from ..results import full_diagnostics
from ._grid import Grid
from ._outcome import OUTCOME_THRESHOLDS, classify_modes, time_to_converge

__all__ = ["compute_chunk", "integrate_batch", "resolve_integrator", "INTEGRATORS", "DATA_FIELDS", "INIT_FIELDS",
           "PATH_FIELDS"]

#: How a sweep integrates its lanes (see `integrate_batch`); "auto" (the default) is "lanes" for the
#: eigenmode model and "diffrax" for the full model (`resolve_integrator`).
INTEGRATORS = ("auto", "lanes", "diffrax")

DATA_FIELDS = ("data", "sigma2", "x_eigs", "xprime_eigs", "basis", "data_seed", "X", "Xprime", "n1", "n2")
INIT_FIELDS = ("init", "init_scale", "init_scale_p", "seed", "tau0", "p0", "s0", "tau0_modes", "alpha_p",
               "predictor", "target", "W0", "Wp0", "Wa0", "n1", "n2")
PATH_FIELDS = ("target", "stop_gradient", "predictor", "loss", "expectation", "predictor_eps_convention")
PREDICTOR_FIELDS = ("predictor", "predictor_alpha", "predictor_eps")
#: Fields the view-pair sample of `expectation="sampled"` depends on (`flow_args`).
SAMPLE_FIELDS = DATA_FIELDS + ("expectation", "n_samples", "sample_seed")
#: Lanes per device below which a lanes batch is not split over several devices (one block).
_MIN_LANES_PER_DEVICE = 256


def _rates(grid: Grid, chunk: int) -> dict[str, np.ndarray]:
    out = {name: grid.per_point(chunk, {name}, lambda c, n=name: getattr(c, n)).astype(float)
           for name in ("alpha_p", "beta", "eta")}
    out["eta_p"] = grid.per_point(chunk, {"eta", "eta_p"}, lambda c: c.eta_p_effective).astype(float)
    return out


def _groups(paths: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    flat = paths.reshape(-1)
    by_id: dict[int, tuple] = {}  # `per_point` repeats one object per distinct path: read each once
    for p in flat:
        if id(p) not in by_id:
            by_id[id(p)] = (p.target, p.stop_gradient, p.predictor, p.loss, p.expectation, p.eps_convention)
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(flat):
        groups.setdefault(by_id[id(p)], []).append(i)
    return [(flat[idx[0]], np.asarray(idx)) for idx in groups.values()]


@eqx.filter_jit
def _batched(vector_field, y0, args, ts, solver, rtol, atol, max_steps, threshold):
    return jax.vmap(lambda y, a: solve(vector_field, y, a, ts, solver=solver, rtol=rtol, atol=atol,
                                       max_steps=max_steps, divergence_threshold=threshold))(y0, args)


def resolve_integrator(integrator: str, model: str) -> str:
    """"auto" -> "lanes" for `model="modes"` (3-component lanes: `solve_lanes` is ~30x faster than
    `jit(vmap(diffrax))` on the main job), "diffrax" for `model="full"` (matrix lanes: vmapped
    batched matmuls beat `solve_lanes`' lane-minor layout; measured 4.4 s against 6.7 s on the
    main job's 12 x 12 grid, both steady state); "lanes" and "diffrax" are kept."""
    if integrator not in INTEGRATORS:
        raise ValueError(f"integrator = {integrator!r}: must be one of {', '.join(INTEGRATORS)}")
    if integrator == "auto":
        return "lanes" if model == "modes" else "diffrax"
    return integrator


def _take(tree, idx):
    """The lanes `idx` of every leaf with a lane axis (0-d leaves are shared by all lanes)."""
    return jax.tree_util.tree_map(lambda a: a[idx] if np.ndim(a) else a, tree)


def _integrate_diffrax(vector_field, y0, args, ts: np.ndarray, config: Config, dtype):
    n_lanes = len(jax.tree_util.tree_leaves(y0)[0])
    (y0, args), _ = shard_batch((y0, args), n_lanes)
    traj = _batched(vector_field, y0, args, jnp.asarray(ts, dtype), config.solver if
                    config.solver in SOLVERS else "tsit5", config.rtol, config.atol,
                    config.max_steps, config.divergence_threshold)
    ys = jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=np.float64)[:n_lanes], traj.ys)
    return ys, np.asarray(traj.status)[:n_lanes]


def lane_parts(n_lanes: int, n_devices: int) -> list[np.ndarray]:
    """Contiguous parts of the lanes, one per device, each of at least 256 lanes (one CPU block)."""
    n_parts = max(1, min(n_devices, n_lanes // _MIN_LANES_PER_DEVICE))
    return np.array_split(np.arange(n_lanes), n_parts)


def _integrate_lanes(vector_field, y0, args, ts: np.ndarray, config: Config, dtype):
    n_lanes = len(jax.tree_util.tree_leaves(y0)[0])
    ts = np.asarray(ts, dtype)
    devices = jax.devices()
    parts = lane_parts(n_lanes, len(devices))
    n_parts = len(parts)

    # Above 8 components the Rosenbrock method of "auto" uses a diagonal Jacobian that costs one
    # evaluation per component and step; matrix lanes stay explicit.
    n_comp = sum(int(np.prod(np.shape(leaf)[1:])) for leaf in jax.tree_util.tree_leaves(y0))
    method = "auto" if n_comp <= 8 else "tsit5"

    def run(device, idx):  # jax's config contexts are per thread: set x64 again in each
        with jax.enable_x64(dtype == np.float64), jax.default_device(device):
            return solve_lanes(vector_field, _take(y0, idx), _take(args, idx), float(ts[-1]), t0=float(ts[0]),
                               save_ts=ts, method=method, rtol=config.rtol, atol=config.atol,
                               max_steps=config.max_steps, divergence_threshold=config.divergence_threshold)

    if n_parts == 1:
        sols = [run(devices[0], parts[0])]
    else:  # one host thread per device: the compiled chunks release the GIL
        with ThreadPoolExecutor(n_parts) as pool:
            sols = list(pool.map(run, devices[:n_parts], parts))
    ys = jax.tree_util.tree_map(lambda *leaves: np.concatenate(leaves).astype(np.float64),
                                *[sol.ys_saved for sol in sols])
    return ys, np.concatenate([sol.status for sol in sols])


def integrate_batch(vector_field, y0, args, ts: np.ndarray, config: Config, integrator: str = "lanes"):
    """Integrate lanes (leading axis of every leaf of `y0` and of the array fields of `args`) from
    `ts[0]` to `ts[-1]` at the config's `rtol`, `atol`, `max_steps` and `divergence_threshold`;
    returns (saved states at `ts`, time on axis 1, NaN after a lane stopped; `Status` per lane).

    - `integrator="lanes"`: `solve_lanes` (method "auto": Tsit5, ROS34PW2 on stiff lanes, for lanes
      of up to 8 components; Tsit5 above, e.g. the full model), each lane with its own step size,
      so a batch costs the sum of its lanes' steps. Its result for a lane does not depend on the
      other lanes of the batch. With several jax devices the lanes are split
      into contiguous parts of at least 256 lanes, one part per device, each run by its own host
      thread under `jax.default_device`: `solve_lanes` is a host loop that re-packs running lanes
      between compiled chunks, so it cannot be one `jax.sharding`-partitioned program.
    - `integrator="diffrax"`: `jit(vmap(solve))` with the config's diffrax `solver` (tsit5 for the
      scipy ones), the lane axis sharded over all devices with `jax.sharding` (`dynamics.integrate.shard_batch`); every
      lane of the batch takes as many steps as the slowest one. The accuracy reference.
    """
    if integrator not in ("lanes", "diffrax"):
        raise ValueError(f"integrator = {integrator!r}: must be lanes or diffrax")
    with jax.enable_x64(config.dtype == "float64"):
        dtype = np.float64 if config.dtype == "float64" else np.float32
        cast = lambda tree: jax.tree_util.tree_map(lambda a: np.asarray(a, dtype), tree)  # noqa: E731
        integrate = _integrate_lanes if integrator == "lanes" else _integrate_diffrax
        return integrate(vector_field, cast(y0), cast(args), ts, config, dtype)


def couples_modes(path) -> bool:
    """Whether the eigenmode flow couples the modes of a point (closed-form predictors normalize
    over the modes, the mean field sums over them): then a lane holds all modes of a point,
    otherwise one mode."""
    return path.expectation == "mean_field" or path.predictor in CLOSED_FORM_PREDICTORS


def _predictor_params(config: Config) -> list[float]:
    values = (config.predictor_alpha_effective, config.predictor_eps_effective)
    return [np.nan if v is None else float(v) for v in values]


def _sample_shape(config: Config) -> tuple[int, int]:
    """Shape of each half (x1 or x2) of the view-pair sample: both orders, 2 n_samples rows."""
    return (2 * config.n_samples, config.n1)


def _view_pairs(config: Config) -> np.ndarray:
    """The fixed view-pair sample (x1, x2) of a point (`flow_args`), zeros where the point's
    expectation is not sampled (its lanes never read them)."""
    if config.expectation != "sampled":
        return np.zeros((2,) + _sample_shape(config))
    args = flow_args(config)
    return np.stack([args.x1, args.x2])


def _modes_chunk(grid: Grid, chunk: int, ts: np.ndarray, integrator: str) -> dict[str, tuple]:
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
        if couples_modes(path):  # one lane per point, its m modes side by side
            shape, per_lane = (idx.size, m), lambda v: v.reshape(P)[idx]  # noqa: E731
            pred = grid.per_point(chunk, PREDICTOR_FIELDS, _predictor_params).reshape(P, 2)[idx]
            extra = {name: None if np.all(np.isnan(pred[:, k])) else pred[:, k]
                     for k, name in enumerate(("predictor_alpha", "predictor_eps"))}
        else:  # one lane per (point, mode)
            shape, per_lane, extra = (idx.size * m, 1), lambda v: np.repeat(v.reshape(P)[idx], m), {}  # noqa: E731
        y0 = ModeWeights(*(init[idx, k, :].reshape(shape) for k in range(3)))
        args = ModeArgs(lam_d=lam[idx, 0, :].reshape(shape), lam_s=lam[idx, 1, :].reshape(shape), path=path,
                        **{k: per_lane(v) for k, v in rates.items()}, **extra)
        saved, st = integrate_batch(mode_weight_flow, y0, args, ts, base, integrator)
        for k in range(3):
            ys[idx, :, k, :] = saved[k].reshape(idx.size, m, T).transpose(0, 2, 1) if shape[1] == 1 else saved[k]
        status[idx, :] = st.reshape(idx.size, -1)
    p, w, wa = ys[:, :, 0, :], ys[:, :, 1, :], ys[:, :, 2, :]
    _, s, tau = weights_to_modes(ModeWeights(p, w, wa))
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


def _full_chunk(grid: Grid, chunk: int, ts: np.ndarray, integrator: str) -> dict[str, tuple]:
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
    groups = _groups(paths)
    pred = grid.per_point(chunk, PREDICTOR_FIELDS, _predictor_params).reshape(P, 2)
    samples = None
    if any(path.expectation == "sampled" for path, _ in groups):
        samples = grid.per_point(chunk, SAMPLE_FIELDS, _view_pairs).reshape((P, 2) + _sample_shape(base))
    T = len(ts)
    W = np.full((P, T, n2, n1), np.nan)
    Wp = np.full((P, T, n2, n2), np.nan)
    Wa = np.full((P, T, n2, n1), np.nan)
    status = np.zeros(P, dtype=np.int8)
    for path, idx in groups:
        y0 = BYOLState(W0[idx], Wp0[idx], Wa0[idx])
        extra = {name: None if np.all(np.isnan(pred[idx, k])) else pred[idx, k]
                 for k, name in enumerate(("predictor_alpha", "predictor_eps"))}
        if path.expectation == "sampled":
            extra.update(x1=samples[idx, 0], x2=samples[idx, 1])
        args = FlowArgs(X=data[idx, 0], XS=data[idx, 1], path=path, **{k: v.reshape(P)[idx] for k, v in rates.items()},
                        **extra)
        saved, st = integrate_batch(byol_flow, y0, args, ts, base, integrator)
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


def compute_chunk(grid: Grid, chunk: int, ts: np.ndarray, integrator: str = "auto") -> dict[str, tuple]:
    """Variables of one chunk: name -> (trailing dims after the swept axes, array). `integrator`:
    see `resolve_integrator` and `integrate_batch`."""
    fn = _modes_chunk if grid.base.model == "modes" else _full_chunk
    return fn(grid, chunk, ts, resolve_integrator(integrator, grid.base.model))
