"""diffrax against the scipy reference integrator, and per-trajectory status (never an exception)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamics import Config, Status, simulate
from dynamics.flows import byol_flow, flow_args, initial_state
from dynamics.integrate import solve, solve_scipy


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.sampled_from([(3, 2), (4, 4)]),
    target=st.sampled_from(["ema", "online"]),
    seed=st.integers(0, 10_000),
    sigma2=st.floats(0.0, 1.0),
    eta=st.floats(0.0, 0.1),
    beta=st.floats(0.05, 2.0),
    alpha_p=st.floats(0.3, 3.0),
)
def test_diffrax_and_scipy_agree_on_random_configurations(shape, target, seed, sigma2, eta, beta, alpha_p):
    """Tsit5 (diffrax) and DOP853 (scipy), both at rtol 1e-10: two independent integrators agree to
    1e-6 relative at t = 20 (each is accurate to ~1e-9; the margin covers error growth along
    unstable directions over the run)."""
    n1, n2 = shape
    cfg = Config(n1=n1, n2=n2, target=target, seed=seed, sigma2=sigma2, eta=eta, beta=beta, alpha_p=alpha_p,
                 t_max=20.0, n_save=5, rtol=1e-10, atol=1e-12)
    a = simulate(cfg)
    b = simulate(cfg.replace(solver="scipy-dop853"))
    assert int(a.status) == int(b.status) == 0
    for name in ("W", "Wp", "Wa"):
        scale = max(1.0, float(np.abs(b[name].values).max()))
        np.testing.assert_allclose(a[name].values, b[name].values, atol=1e-6 * scale)


def test_modes_model_diffrax_and_scipy_agree():
    cfg = Config(model="modes", n1=4, n2=4, sigma2=0.5, eta=0.01, beta=0.3, p0=[0.05, 0.2, 0.5, 1.0],
                 s0=[0.01, 0.1, 0.3, 2.0], tau0=0.0, t_max=200.0, rtol=1e-10, atol=1e-12)
    a, b = simulate(cfg), simulate(cfg.replace(solver="scipy-rk45"))
    for name in ("p", "s", "tau"):
        np.testing.assert_allclose(a[name].values, b[name].values, atol=1e-6)


def _wrong_side_config(**changes):
    # Wrong-side stop-gradient (section 7): Wp gets no gradient, so Wp = 3 I stays and
    # dW/dt = (Wp - (1 + sigma2)) W = 1.5 W grows without bound.
    n = 2
    base = dict(n1=n, n2=n, target="online", stop_gradient="online", init="given", eta=0.0,
                W0=np.eye(n).tolist(), Wp0=(3 * np.eye(n)).tolist(), t_max=50.0, n_save=51)
    base.update(changes)
    return Config(**base)


def test_divergent_trajectory_is_marked_and_truncated():
    ds = simulate(_wrong_side_config())
    assert Status(int(ds.status)) == Status.diverged
    reached = ds.reached.values
    assert reached[0] and not reached[-1]
    assert np.all(np.isnan(ds.W.values[~reached]))
    assert np.all(np.isfinite(ds.W.values[reached]))
    t_cross = np.log(1e6) / 1.5  # |W| = e^{1.5 t} reaches the threshold 1e6 at t = 9.21
    assert ds.time.values[reached][-1] == pytest.approx(t_cross, abs=1.01)
    scipy_ds = simulate(_wrong_side_config(solver="scipy-dop853"))
    assert Status(int(scipy_ds.status)) == Status.diverged


def test_max_steps_is_reported_not_raised():
    ds = simulate(Config(n1=3, n2=2, max_steps=5, t_max=100.0))
    assert Status(int(ds.status)) == Status.max_steps
    assert not ds.reached.values[-1]


def _nan_after_one(t, y, args):
    return jnp.where(t > 1.0, jnp.nan, -y)


def test_nonfinite_vector_field_is_reported():
    traj = solve(_nan_after_one, jnp.ones(3), None, jnp.linspace(0.0, 5.0, 6), max_steps=2000)
    assert Status(int(traj.status)) == Status.nonfinite
    assert bool(traj.reached[0]) and not bool(traj.reached[-1])


def test_one_divergent_lane_does_not_poison_a_vmapped_batch():
    cfg = _wrong_side_config(init="given")
    args = jax.tree_util.tree_map(jnp.asarray, flow_args(cfg))
    y0 = jax.tree_util.tree_map(jnp.asarray, initial_state(cfg))
    scales = jnp.array([-1.0, 0.0, 1.0])  # Wp0 = 3 I * scale: only scale 1 diverges
    batch = jax.tree_util.tree_map(lambda a: jnp.stack([a, a, a]), y0)
    batch = batch._replace(Wp=batch.Wp * scales[:, None, None])
    ts = jnp.linspace(0.0, 50.0, 11)
    traj = jax.vmap(lambda y: solve(byol_flow, y, args, ts))(batch)
    assert [Status(int(s)) for s in traj.status] == [Status.ok, Status.ok, Status.diverged]
    assert np.all(np.isfinite(np.asarray(traj.ys.W[:2])))


def test_scipy_reference_matches_closed_form_exponential():
    """A linear field with a known solution checks the scipy path independently of the flows."""
    ts = np.linspace(0.0, 2.0, 5)
    traj = solve_scipy(lambda t, y, a: -a * y, jnp.ones(2), jnp.asarray(0.7), ts, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(traj.ys[:, 0], np.exp(-0.7 * ts), rtol=1e-8)


def test_config_solver_choices_are_the_integrators_solvers():
    # one list of solver names: what `Config` accepts is exactly what `dynamics.integrate` can run
    from dynamics.config import CHOICES
    from dynamics.integrate import SCIPY_METHODS, SOLVERS

    assert CHOICES["solver"] == (*SOLVERS, *SCIPY_METHODS)
