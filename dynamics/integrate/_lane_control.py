"""Step-size control of `solve_lanes`, per lane: the PI controller and the stiffness switch between
the explicit pair and ROS34PW2 (the controllers' half, as diffrax's `_step_size_controller/`).
Elementwise functions of (B,) lane arrays, traced into the compiled kernels of `_lane_kernel`."""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["pi_step_size", "stiffness_switch"]

# PI step-size control (Gustafsson 1991, ACM TOMS 17:533-554; Hairer & Wanner II, Sec. IV.2):
# h_new = h * safety * err^(-0.7/k) * err_prev^(0.4/k), k = order of the error estimate + 1 (5 for
# the explicit pairs, 3 for ROS34PW2); after a rejection err^(-1/k), never growing.
_SAFETY, _FACMIN, _FACMAX = 0.9, 0.2, 10.0
# Stiffness switching (after DOPRI5's stiffness detection, Hairer & Wanner II, Sec. IV.2): an explicit
# step is "stiff" when h * rho > 3 (rho = |f(y7) - f(y6)| / |y7 - y6|, both stages at t + h; Tsit5's
# real stability interval is about [-3.5, 0]); 15 stiff accepted steps, without 6 calm ones in a row
# in between, move the lane to ROS34PW2. A Rosenbrock lane goes back after 15 accepted steps in a row
# with h |J|_inf < 1.5, where the explicit pair would be well inside its stability region.
_STIFF_HRHO, _STIFF_COUNT, _CALM_RESET = 3.0, 15, 6
_CALM_HJ, _CALM_COUNT = 1.5, 15


def pi_step_size(k_err: float, h, h_prop, n2, finite, log_err, clipped, accept, reject):
    r"""The next proposed step of every lane after an attempt of size `h`: PI control on the squared
    RMS error norm `n2` of the attempt (its log kept in `log_err` as the PI memory), with exponent
    order `k_err`; a clipped step (one that landed on a save time or t_max) keeps its proposal
    `h_prop` when that is larger. Factors in float32 (vectorized log/exp; they only steer the step).

    **Returns:** `(h_new, log_norm)`: the new proposal and log of the attempt's error norm.
    """
    alpha, beta, expo_reject = 0.7 / k_err, 0.4 / k_err, 1.0 / k_err
    dtype = h.dtype
    log_norm = 0.5 * jnp.log(jnp.clip(jnp.where(finite, n2, 1e20), 1e-20, 1e20).astype(jnp.float32))
    fac_acc = jnp.clip(_SAFETY * jnp.exp(-alpha * log_norm + beta * log_err), _FACMIN, _FACMAX)
    fac_rej = jnp.clip(_SAFETY * jnp.exp(-expo_reject * log_norm), _FACMIN, _SAFETY)
    h_acc = h * fac_acc.astype(dtype)
    h_acc = jnp.where(clipped, jnp.maximum(h_acc, h_prop), h_acc)  # a clipped step keeps the proposal
    h_new = jnp.where(accept, h_acc, jnp.where(reject, h * fac_rej.astype(dtype), h_prop))
    return h_new, log_norm


def stiffness_switch(explicit: bool, accept, signal, stiff, calm, switching):
    """Stiffness bookkeeping of the lanes of one method after an attempt: for the explicit pair
    `signal` says whether the accepted step looked stiff (h rho > `_STIFF_HRHO`), for ROS34PW2 it is
    h |J|_inf. `switching` (a runtime bool) is False unless the method is "auto".

    **Returns:** `(switch, stiff, calm)`: the lanes that change method now, and the counters (reset
    to 0 where a lane switches).
    """
    if explicit:
        stiff = jnp.where(accept & signal, stiff + 1, stiff)
        calm = jnp.where(accept, jnp.where(signal, 0, calm + 1), calm)
        stiff = jnp.where(calm >= _CALM_RESET, 0, stiff)
        switch = stiff >= _STIFF_COUNT
    else:
        calm = jnp.where(accept, jnp.where(signal < _CALM_HJ, calm + 1, 0), calm)
        switch = calm >= _CALM_COUNT
    switch = switch & switching
    return switch, jnp.where(switch, 0, stiff), jnp.where(switch, 0, calm)
