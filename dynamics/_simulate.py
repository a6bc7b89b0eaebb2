"""`simulate`: one configuration in, one result Dataset out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
import jax
import jax.numpy as jnp

from ._sampled import simulate_sampled
from .config import Config, save_times
from .flows import (ModeWeights, byol_flow, flow_args, initial_modes, initial_state, mode_args,
                    mode_predictor_record, mode_weight_flow, modes_to_weights, predictor_record, weights_to_modes)
from .integrate import SCIPY_METHODS, Trajectory, solve, solve_scipy
from .objectives import mode_weight_matrix, with_kernel_entropy
from .results import full_dataset, modes_dataset

__all__ = ["simulate"]


def _integrate(config: Config, vector_field, y0, args, ts: np.ndarray, program_cache: Path | None) -> Trajectory:
    if config.solver in SCIPY_METHODS:
        return solve_scipy(vector_field, y0, args, ts, method=config.solver, rtol=config.rtol,
                           atol=config.atol, divergence_threshold=config.divergence_threshold)
    to_jax = lambda tree: jax.tree_util.tree_map(jnp.asarray, tree)  # noqa: E731
    traj = solve(vector_field, to_jax(y0), to_jax(args), jnp.asarray(ts), solver=config.solver,
                 rtol=config.rtol, atol=config.atol, max_steps=config.max_steps,
                 divergence_threshold=config.divergence_threshold, program_cache=program_cache)
    return jax.tree_util.tree_map(np.asarray, traj)


def _record(fn, ys: tuple, current: np.ndarray, reached: np.ndarray, dtype) -> np.ndarray:
    """The predictor actually applied at the reached saved times (closed forms are recomputed from
    the saved weights; `fn` returns trained predictors unchanged); NaN after an early stop."""
    out = np.full_like(current, np.nan)
    if reached.any():
        rows = tuple(jnp.asarray(a[reached], dtype) for a in ys)
        out[reached] = np.asarray(fn(*rows), dtype=np.float64)
    return out


def simulate(config: Config, *, program_cache: Path | None = None) -> xr.Dataset:
    """Integrate the run that `config` describes and return it in the shared result schema.

    `model="full"`: the matrix flow `byol_flow` (T2)-(T5); `model="modes"`: the eigenmode flow
    (T11)-(T13b), integrated in the weight coordinates of (T13b) (`mode_weight_flow`, no
    singularity when a mode collapses) and reported as (p_j, s_j, tau_j). With `dtype="float64"` (the
    default) the solve runs inside `jax.enable_x64()`, a scoped switch that is restored on return;
    nothing global is changed.

    Closed-form predictors (THEORY.md §6-§8) are recomputed from the weights at every evaluation;
    the state's Wp (p) does not move, and the result's `Wp` / `eig_Wp` / `p` are the closed form
    recomputed from the saved weights, i.e. the predictor the flow applied (attribute
    `predictor_record`). How the expectation was formed is in the attribute `flow_expectation`.

    **Returns:** an `xarray.Dataset` (see README "Result schema"); its `status` says whether the
    trajectory reached `t_max` (`ok`), and values after an early stop are NaN.

    `program_cache`: a folder where the diffrax solve's traced program is kept between processes
    (`dynamics.integrate.solve`), so that the same shapes with new values skip tracing; the result is
    the same. The command line passes one inside its compilation cache folder. Not used by the scipy
    reference solvers or the sampled simulators.

    A config whose `simulator` is not "flow" (`discrete=True`, `objective` er / rec, or
    `model="issl"`) runs its sampled simulator instead (`dynamics._sampled.simulate_sampled`: minibatch
    SGD, ER or ISSL with the key `jax.random.key(config.seed)`), its result carrying the same config.

    **Raises:** `ConfigError` only through building `config`; a failed solve is reported in
    `status`, never raised.
    """
    if config.simulator != "flow":
        return simulate_sampled(config)
    dtype = np.float64 if config.dtype == "float64" else np.float32
    with jax.enable_x64(config.dtype == "float64"):
        ts = save_times(config).astype(dtype)
        if config.model == "full":
            args = flow_args(config, dtype)
            traj = _integrate(config, byol_flow, initial_state(config, dtype), args, ts, program_cache)
            W, Wp, Wa = (np.asarray(a, dtype=np.float64) for a in traj.ys)
            Wp = _record(lambda W_, Wp_, Wa_: predictor_record(W_, Wp_, Wa_, args), (W, Wp, Wa), Wp,
                         np.asarray(traj.reached), dtype)
            ds = full_dataset(config, ts=ts.astype(np.float64), W=W, Wp=Wp, Wa=Wa, X=np.asarray(args.X, np.float64),
                              XS=np.asarray(args.XS, np.float64), status=int(traj.status),
                              reached=np.asarray(traj.reached), num_steps=int(traj.num_steps))
            return with_kernel_entropy(ds, config=config, W=W)
        args = mode_args(config, dtype)
        y0 = jax.tree_util.tree_map(np.asarray, modes_to_weights(initial_modes(config, dtype)))
        traj = _integrate(config, mode_weight_flow, y0, args, ts, program_cache)
        p, w, wa = (np.asarray(a, dtype=np.float64) for a in traj.ys)
        p = _record(lambda *y: mode_predictor_record(ModeWeights(*y), args), (p, w, wa), p,
                    np.asarray(traj.reached), dtype)
        _, s, tau = weights_to_modes(ModeWeights(p, w, wa))
        ds = modes_dataset(config, ts=ts.astype(np.float64), p=p, s=s, tau=tau,
                           lam_d=np.asarray(args.lam_d, np.float64), lam_s=np.asarray(args.lam_s, np.float64),
                           status=int(traj.status), reached=np.asarray(traj.reached), num_steps=int(traj.num_steps))
        return with_kernel_entropy(ds, config=config, W=mode_weight_matrix(config, w))
