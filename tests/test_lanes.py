"""`solve_lanes`: lane-adaptive batched integration against diffrax and closed forms; per-lane status;
bit-for-bit independence of compaction, chunking and batch composition."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dynamics.flows import ModeArgs, ModeState, mode_flow
from dynamics.integrate import Status, solve, solve_lanes

# One block size and one number of save times everywhere: each (vector field, options, shapes)
# compiles once per session.
BLOCK = dict(block_size=64)


def _saves(t_max):
    return np.linspace(0.0, t_max, 9)


def _random_mode_lanes(n, seed):
    """EMA target, trained predictor, sigma^2 = 0.5: beta log-uniform in [1e-3, 10], eta in
    [0, 0.2]; starts on, above and below the parabola s = p^2 / alpha_p (recovering and collapsing
    lanes), tau0 = 0 for a third of them."""
    rng = np.random.default_rng(seed)
    beta = 10.0 ** rng.uniform(-3, 1, n)
    eta = rng.uniform(0, 0.2, n)
    alpha_p = rng.uniform(0.5, 2.0, n)
    p0 = 10.0 ** rng.uniform(-2, 0, n)
    s0 = p0**2 / alpha_p * rng.choice([1.0, 4.0, 0.25], n)
    tau0 = np.where(rng.random(n) < 1 / 3, 0.0, rng.uniform(0, 1.5, n))
    args = ModeArgs(lam_d=np.ones((n, 1)), lam_s=np.full((n, 1), 1.5), alpha_p=alpha_p, beta=beta, eta=eta,
                    eta_p=eta)
    return ModeState(p0[:, None], s0[:, None], tau0[:, None]), args


def _stack(tree):
    return np.concatenate([np.asarray(leaf).reshape(leaf.shape[0], -1) for leaf in jax.tree_util.tree_leaves(tree)],
                          axis=1)


@pytest.fixture(scope="module")
def mode_reference():
    """160 random lanes to t = 50, diffrax Tsit5 at rtol 1e-10 (vmapped `solve`), saved at 9 times."""
    y0, args = _random_mode_lanes(160, seed=0)
    ts = jnp.asarray(_saves(50.0))
    ref = jax.vmap(lambda y, a: solve(mode_flow, y, a, ts, rtol=1e-10, atol=1e-13))(
        jax.tree_util.tree_map(jnp.asarray, y0), jax.tree_util.tree_map(jnp.asarray, args))
    return y0, args, np.concatenate([np.asarray(leaf) for leaf in ref.ys], axis=-1), np.asarray(ref.status)


@pytest.mark.parametrize("method", ["auto", "ros34pw2"])
def test_final_states_match_diffrax_on_random_mode_lanes(mode_reference, method):
    """At rtol 1e-9 every lane agrees with diffrax (rtol 1e-10) to 1e-6 relative + 1e-9 absolute, at
    t_max and at the save times: the global error of either is ~1e-8 here, and the margin covers its
    growth along the unstable directions near the collapse separatrix (T17)."""
    y0, args, ref, ref_status = mode_reference
    assert np.all(ref_status == Status.ok)
    sol = solve_lanes(mode_flow, y0, args, 50.0, method=method, rtol=1e-9, atol=1e-12, save_ts=_saves(50.0),
                      **BLOCK)
    assert np.all(sol.status == Status.ok)
    assert np.all(sol.t_final == 50.0)
    np.testing.assert_allclose(_stack(sol.ys_final), ref[:, -1], rtol=1e-6, atol=1e-9)
    saved = np.concatenate([leaf for leaf in sol.ys_saved], axis=-1)
    np.testing.assert_allclose(saved, ref, rtol=1e-6, atol=1e-9)


def test_auto_moves_stiff_lanes_to_rosenbrock_and_takes_fewer_steps():
    """With beta = 10 (T13: tau relaxes at rate ~beta) Tsit5's steps are bounded by stability, h <~
    3.5 / beta, i.e. > 1000 steps to t = 400; "auto" detects it and finishes those lanes with the
    L-stable ROS34PW2, whose steps grow as the lanes settle, in < 1/5 of that, and agrees with a
    tight reference to the tolerance (rtol 1e-6)."""
    n = 64
    args = ModeArgs(lam_d=np.ones((n, 1)), lam_s=np.full((n, 1), 1.5), alpha_p=np.ones(n),
                    beta=np.full(n, 10.0), eta=np.linspace(0, 0.02, n), eta_p=np.linspace(0, 0.02, n))
    y0 = ModeState(np.full((n, 1), 0.3), np.full((n, 1), 0.09), np.zeros((n, 1)))
    auto = solve_lanes(mode_flow, y0, args, 400.0, rtol=1e-6, save_ts=_saves(400.0), **BLOCK)
    ref = solve_lanes(mode_flow, y0, args, 400.0, method="ros34pw2", rtol=1e-9, atol=1e-12, save_ts=_saves(400.0),
                      **BLOCK)
    assert np.all(auto.status == Status.ok)
    assert np.all(auto.num_stiff_steps > 0) and np.all(ref.num_stiff_steps == ref.num_steps)
    assert auto.num_steps.max() < 400 * 10.0 / 3.5 / 5  # Tsit5 would need >= 400 beta / 3.5
    np.testing.assert_allclose(_stack(auto.ys_final), _stack(ref.ys_final), rtol=1e-4, atol=1e-9)


# A toy field shared by the status tests (one compilation): dy/dt = -k y + a y^2, plus a term that is
# NaN once t > c (0 * sqrt(c - t)).
def toy(t, y, args):
    k, a, c = args
    return -k * y + a * y * y + 0.0 * jnp.sqrt(c - t)


TOY = dict(method="tsit5", rtol=1e-10, atol=1e-14, max_steps=5000, divergence_threshold=1e6,
           converge_rtol=1e-4, save_ts=np.linspace(0.0, 2.0, 9), **BLOCK)


def _toy(k, a, c, t_max, y0=1.0, dtype=np.float64, **kw):
    n = len(k)
    args = tuple(np.asarray(v, dtype) for v in (k, a, c))
    return solve_lanes(toy, np.full((n, 1), y0, dtype), args, np.asarray(t_max, dtype), **{**TOY, **kw})


@pytest.mark.parametrize("method", ["tsit5", "dopri5"])
def test_exponential_decay_matches_exp_minus_kt_at_the_end_and_at_save_times(method):
    """dy/dt = -k y: y(t) = exp(-k t) at t_max and at every save time (steps land exactly on them)."""
    k = np.geomspace(0.01, 3.0, 20)
    sol = _toy(k, np.zeros(20), np.full(20, 1e30), 2.0, method=method)
    assert np.all(sol.status == Status.ok)
    np.testing.assert_allclose(sol.ys_final[:, 0], np.exp(-2.0 * k), rtol=1e-9)
    np.testing.assert_allclose(sol.ys_saved[:, :, 0], np.exp(-np.outer(k, sol.save_ts)), rtol=1e-9)


def test_blow_up_lane_is_diverged_and_its_neighbours_are_ok():
    """dy/dt = y^2 from 1 blows up at t = 1: the lane stops with `diverged` just before, where y first
    passes 1e6, on the exact solution y = 1 / (1 - t) (checked as the time 1 - 1/y it implies: a
    relative error in y is amplified by 1 / (1 - t) = 1e6 near the pole); the decaying lanes around
    it are unaffected."""
    sol = _toy(k=[1.0, 0.0, 1.0], a=[0.0, 1.0, 0.0], c=[1e30] * 3, t_max=2.0)
    assert list(sol.status) == [Status.ok, Status.diverged, Status.ok]
    y, t = sol.ys_final[1, 0], sol.t_final[1]
    assert 1e6 < y < 1e7 and 1 - 1e-6 < t < 1.0
    assert abs((1 - 1 / y) - t) < 1e-10
    np.testing.assert_allclose(sol.ys_final[[0, 2], 0], np.exp(-2.0), rtol=1e-9)
    assert np.isfinite(sol.ys_saved[1, 3, 0]) and np.all(np.isnan(sol.ys_saved[1, 4:, 0]))  # t >= 1 not reached


def test_nan_lanes_are_nonfinite_and_their_neighbours_are_ok():
    """A field that turns NaN at t = 1.5 cannot be stepped past it: the steps shrink until they
    collapse and the lane is `nonfinite` (stopped before 1.5); a NaN parameter fails at t0."""
    sol = _toy(k=[1.0, 1.0, np.nan, 1.0], a=[0.0] * 4, c=[1e30, 1.5, 1e30, 1e30], t_max=2.0)
    assert list(sol.status) == [Status.ok, Status.nonfinite, Status.nonfinite, Status.ok]
    assert 1.4 < sol.t_final[1] <= 1.5 and sol.t_final[2] == 0.0
    np.testing.assert_allclose(sol.ys_final[1, 0], np.exp(-sol.t_final[1]), rtol=1e-9)


def test_max_steps_is_reported_and_counts_attempts():
    """k = 1 up to t = 1e5 needs > 1e5 / 3.5 explicit steps (stability): the budget of 5000 attempts
    runs out; the short lane next to it finishes."""
    sol = _toy(k=[1.0, 1.0], a=[0.0, 0.0], c=[1e30, 1e30], t_max=[1e5, 2.0])
    assert list(sol.status) == [Status.max_steps, Status.ok]
    assert sol.num_steps[0] + sol.num_rejected[0] == 5000
    assert 0 < sol.t_final[0] < 1e5


def test_time_to_converge_is_where_the_relative_rate_drops_below_converge_rtol():
    """dy/dt = -k y from 1: the rate k |y| / max(|y|, 1e-8) equals k until y = 1e-8, then decays, so
    it drops below 1e-4 at t* = ln(k / 1e-12) / k; a lane with k < 1e-4 never exceeds it (t0), a lane
    still above it at t_max gives inf."""
    k = np.array([1.0, 2.0, 1e-5, 0.1])
    sol = _toy(k, np.zeros(4), np.full(4, 1e30), 40.0)
    t_star = np.log(k[:2] / 1e-12) / k[:2]
    assert np.all((sol.t_converged[:2] <= t_star) & (sol.t_converged[:2] > t_star - 0.5))
    assert sol.t_converged[2] == 0.0 and sol.t_converged[3] == np.inf


def test_compaction_and_chunk_length_do_not_change_any_bit():
    """Re-packing finished lanes out of the blocks, and the chunk length, only change which lanes
    share a compiled loop, never a lane's own arithmetic."""
    y0, args = _random_mode_lanes(200, seed=1)
    runs = [solve_lanes(mode_flow, y0, args, 200.0, rtol=1e-7, compact=compact, chunk_steps=chunk,
                        save_ts=_saves(200.0), **BLOCK)
            for compact, chunk in ((True, 64), (False, 64), (True, 7))]
    for other in runs[1:]:
        for name in ("t_final", "status", "num_steps", "num_rejected", "num_stiff_steps"):
            np.testing.assert_array_equal(getattr(other, name), getattr(runs[0], name))
        np.testing.assert_array_equal(_stack(other.ys_final), _stack(runs[0].ys_final))
        for a, b in zip(other.ys_saved, runs[0].ys_saved):
            np.testing.assert_array_equal(a, b)
    assert runs[0].num_stiff_steps.sum() > 0  # both methods took part


def test_a_lane_does_not_depend_on_the_other_lanes_of_the_batch():
    """Resumable sweeps: 10 lanes alone (one padded block) and shuffled into 300 others (other blocks,
    other positions, other block neighbours) give the same bits."""
    y0, args = _random_mode_lanes(310, seed=2)
    take = lambda tree, idx: jax.tree_util.tree_map(lambda leaf: leaf[idx], tree)  # noqa: E731
    alone = solve_lanes(mode_flow, take(y0, slice(0, 10)), take(args, slice(0, 10)), 200.0, rtol=1e-7,
                        save_ts=_saves(200.0), **BLOCK)
    perm = np.random.default_rng(3).permutation(310)
    mixed = solve_lanes(mode_flow, take(y0, perm), take(args, perm), 200.0, rtol=1e-7, save_ts=_saves(200.0), **BLOCK)
    where = np.argsort(perm)[:10]
    np.testing.assert_array_equal(_stack(take(mixed.ys_final, where)), _stack(alone.ys_final))
    np.testing.assert_array_equal(mixed.num_steps[where], alone.num_steps)


def test_float32_lanes_agree_with_float64():
    sol64 = _toy(k=[0.5, 2.0], a=[0.1, 0.0], c=[1e30, 1e30], t_max=2.0)
    sol32 = _toy(k=[0.5, 2.0], a=[0.1, 0.0], c=[1e30, 1e30], t_max=2.0, dtype=np.float32, rtol=1e-5, atol=1e-7)
    assert sol32.ys_final.dtype == np.float32 and np.all(sol32.status == Status.ok)
    np.testing.assert_allclose(sol32.ys_final, sol64.ys_final, rtol=1e-4)


def test_bad_arguments_are_rejected_with_the_name():
    y0, args = _random_mode_lanes(4, seed=4)
    with pytest.raises(ValueError, match="method"):
        solve_lanes(mode_flow, y0, args, 1.0, method="rk4")
    with pytest.raises(ValueError, match="lane axis"):
        solve_lanes(mode_flow, y0, ModeArgs(lam_d=np.ones((3, 1)), lam_s=np.ones((4, 1)), alpha_p=np.ones(4),
                                            beta=np.ones(4), eta=np.ones(4), eta_p=np.ones(4)), 1.0)
    with pytest.raises(ValueError, match="save_ts"):
        solve_lanes(mode_flow, y0, args, 1.0, save_ts=[0.5, 0.2])
