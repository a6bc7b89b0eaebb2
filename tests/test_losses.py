"""Losses of THEORY.md §7 against independent references: autodiff identities of IsoLoss, the closed-form
Euclidean flow (T2)-(T5) for the sampled expectation, the Euler identity and trace conservation of the
cosine loss (T24), and the mean-field spectrum flow (T25) typed from THEORY.md.

Most integrations use the scipy DOP853 reference solver: it only compiles the vector field, which keeps
this file fast; one run goes through diffrax."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dynamics import Config, ConfigError, simulate
from dynamics.flows import (SAMPLE_LOSSES, BYOLState, ModeWeights, byol_flow, cosine_sample_loss,
                            euclidean_sample_loss, flow_args, initial_state, isoloss, isoloss_target,
                            mode_args, mode_weight_flow, view_pair_sample)

SIGMA2 = 0.5


def _z(seed, b=7, n=3):
    rng = np.random.default_rng(seed)
    return (jnp.asarray(rng.standard_normal((b, n))), jnp.asarray(rng.standard_normal((b, n))),
            jnp.asarray(rng.standard_normal((n, n))))


@pytest.mark.parametrize("base", ["euclidean", "cosine"])
def test_isoloss_gradient_for_z1_is_the_loss_gradient_for_the_prediction(base):
    """§7: dL_iso/dz1 = dL/dp at p = Wp z1, whereas T1's own gradient for z1 is Wp^T dL/dp. Both
    sides by jax autodiff; float64 round-off on O(1) numbers, so 1e-12."""
    z1, z2, Wp = _z(0)
    loss = SAMPLE_LOSSES[base]
    g_iso = jax.grad(lambda z: jnp.sum(isoloss(base, z, z2, Wp)))(z1)
    p = z1 @ Wp.T
    g_p = jax.grad(lambda q: jnp.sum(loss(q, z2)))(p)
    np.testing.assert_allclose(g_iso, g_p, atol=1e-12)
    g_own = jax.grad(lambda z: jnp.sum(loss(z @ Wp.T, z2)))(z1)
    np.testing.assert_allclose(g_own, g_p @ Wp, atol=1e-12)
    assert np.max(np.abs(g_own - g_iso)) > 0.1  # negative control: the two gradients differ
    # no gradient reaches z2 or Wp through IsoLoss
    assert np.max(np.abs(jax.grad(lambda t: jnp.sum(isoloss(base, z1, t, Wp)))(z2))) == 0.0
    assert np.max(np.abs(jax.grad(lambda w: jnp.sum(isoloss(base, z1, z2, w)))(Wp))) == 0.0


def test_euclidean_isoloss_is_THEORYs_target_and_has_the_loss_value():
    """L_iso = 1/2 ||z1 - sg(z2 - (Wp - I) z1)||^2 has the value of T1 (1e-12: round-off)."""
    z1, z2, Wp = _z(1)
    t = isoloss_target("euclidean", z1, z2, Wp)
    np.testing.assert_allclose(t, z2 - z1 @ (Wp - jnp.eye(3)).T, atol=1e-12)
    np.testing.assert_allclose(isoloss("euclidean", z1, z2, Wp), euclidean_sample_loss(z1 @ Wp.T, z2), atol=1e-12)


def test_cosine_loss_euler_identity_T24():
    """The cosine loss is of degree 0 in the online weights, with and without the norm floor, so
    <W, dL/dW> = 0 (autodiff; 1e-13 against gradients of size ~0.1)."""
    rng = np.random.default_rng(2)
    W, Wp = jnp.asarray(rng.standard_normal((3, 5))), jnp.asarray(rng.standard_normal((3, 3)))
    x1, x2 = jnp.asarray(rng.standard_normal((64, 5))), jnp.asarray(rng.standard_normal((64, 5)))
    for floor in (0.0, 1e-2):
        def f(W_, floor=floor):
            return jnp.mean(cosine_sample_loss(x1 @ (Wp @ W_).T, x2 @ jax.lax.stop_gradient(W_).T, floor))

        g = jax.grad(f)(W)
        assert float(jnp.linalg.norm(g)) > 1e-2
        assert abs(float(jnp.sum(W * g))) < 1e-13


def _state(seed, n1=4, n2=3):
    rng = np.random.default_rng(seed)
    return BYOLState(*(jnp.asarray(rng.standard_normal(s)) for s in ((n2, n1), (n2, n2), (n2, n1))))


PATHS = list(itertools.product(("ema", "online"), ("target", "none", "online"),
                               ("trained", "symmetric", "identity", "power", "ridge_lstsq"),
                               ("euclidean", "isoloss_euclidean")))


@pytest.mark.parametrize("target, stop_gradient, predictor, loss", PATHS)
def test_sampled_euclidean_flow_equals_the_closed_form_flow(target, stop_gradient, predictor, loss):
    """The sample is moment-matched (its second moments are exactly X, X'), so for the Euclidean
    losses the sampled expected flow is the closed-form one (T2)-(T5)/(T23), closed-form predictors
    included: zero sampling error, 1e-10 (float64 sums over 2 x 64 samples of O(10) terms)."""
    base = dict(n1=4, n2=3, data="spectrum", x_eigs=(2.0, 1.0, 0.5, 0.3), xprime_eigs=(0.3, 0.5, 0.2, 0.1),
                basis="random", target=target, stop_gradient=stop_gradient, predictor=predictor, loss=loss,
                alpha_p=1.3, beta=0.4, eta=0.02)
    if predictor == "power":
        base["predictor_alpha"] = 0.7
    exact = flow_args(Config(**base))
    sampled = flow_args(Config(**base, expectation="sampled", n_samples=64, sample_seed=3))
    y = _state(4)
    if target == "online":
        y = y._replace(Wa=y.W)
    a, b = byol_flow(0.0, y, exact), byol_flow(0.0, y, sampled)
    for u, v in zip(a, b):
        np.testing.assert_allclose(v, u, atol=1e-10)
    assert float(jnp.max(jnp.abs(a.W))) > 1e-2


def test_sample_is_moment_matched_with_common_random_numbers():
    """x1, x2 (both orders) have E[x1 x2^T] = X and E[x1 x1^T] = X + X' exactly (1e-12); the same
    seed gives the same standard normal draws whatever sigma^2 (common random numbers): the
    augmentation part x1 - xbar scales with sigma, so quadrupling sigma^2 doubles it."""
    X, Xp = np.diag([2.0, 1.0, 0.5]), 0.3 * np.eye(3)
    x1, x2 = view_pair_sample(X, Xp, 50, 7)
    n = x1.shape[0]
    np.testing.assert_allclose(x1.T @ x2 / n, X, atol=1e-12)
    np.testing.assert_allclose(x1.T @ x1 / n, X + Xp, atol=1e-12)
    clean, _ = view_pair_sample(X, 0.0 * Xp, 50, 7)
    wide, _ = view_pair_sample(X, 4.0 * Xp, 50, 7)
    np.testing.assert_allclose(wide - clean, 2.0 * (x1 - clean), atol=1e-12)
    z1, _ = view_pair_sample(X, Xp, 50, 8)
    assert np.max(np.abs(z1 - x1)) > 0.1
    with pytest.raises(ConfigError, match="^n_samples = "):
        Config(n1=8, loss="cosine", expectation="sampled", n_samples=20)


def test_sampled_euclidean_run_matches_exact_run():
    """Integrated, sampled and exact Euclidean runs of the trained predictor agree to the
    integrators' tolerance (rtol 1e-10 on O(1) weights: 1e-7), zero sampling error by construction."""
    base = dict(n1=4, n2=3, target="online", t_max=20.0, n_save=5, solver="scipy-dop853", rtol=1e-10, atol=1e-12)
    ds_e = simulate(Config(**base))
    ds_s = simulate(Config(**base, expectation="sampled", n_samples=256))
    np.testing.assert_allclose(ds_s.W.values, ds_e.W.values, atol=1e-7)
    assert ds_s.attrs["flow_expectation"].startswith("sampled") and ds_e.attrs["flow_expectation"].startswith("exact")


def _given_W0(lam0, n1):
    n2 = len(lam0)
    W0 = np.zeros((n2, n1))
    W0[np.arange(n2), np.arange(n2)] = np.sqrt(lam0)
    return W0.tolist()


LAM0 = (0.02, 0.2, 1.0, 3.0)


@pytest.fixture(scope="module")
def cosine_sampled_run():
    cfg = Config(n1=6, n2=4, init="given", W0=_given_W0(LAM0, 6), target="online", predictor="power", eta=0.0,
                 sigma2=SIGMA2, loss="cosine", expectation="sampled", n_samples=4096, t_max=400.0, n_save=21,
                 save_spacing="log", solver="scipy-dop853")
    return simulate(cfg)


def test_cosine_loss_conserves_trace_T24(cosine_sampled_run):
    """tr(W W^T) = sum(eig_F) is constant to the integrator's tolerance (rtol 1e-8 over ~1000 steps:
    1e-7 relative), while the spectrum itself changes by O(1)."""
    ds = cosine_sampled_run
    assert int(ds.status) == 0
    tr = ds.eig_F.values.sum(axis=1)
    assert np.max(np.abs(tr - sum(LAM0))) / sum(LAM0) < 1e-7
    assert np.max(np.abs(ds.eig_F.values[-1] - np.sort(LAM0)[::-1])) > 1.0


def test_cosine_loss_spectrum_ends_isotropic_at_trace_over_M(cosine_sampled_run):
    """M = 4 <= N = 6, all modes non-zero: every eigenvalue ends near tr/M = 1.055. The sampled
    flow's fixed point is isotropic up to sampling error: the vector field's error is ~0.27/sqrt(n)
    (measured at W = I), against a restoring rate ~0.13 per unit anisotropy near the isotropic point,
    so about 0.03 per eigenvalue at n = 4096; we allow 10% (measured: 5%). The exact statement is
    tested on the mean-field flow below."""
    ds = cosine_sampled_run
    final = ds.eig_F.values[-1]
    level = sum(LAM0) / 4
    np.testing.assert_allclose(final, level, rtol=0.10)
    assert float(ds.effective_rank[-1]) > 3.95  # 4 = isotropic
    assert float(ds.effective_rank[0]) < 2.5  # 2.12 for (0.02, 0.2, 1, 3)


def _t25(lam, alpha, sigma2):
    """(T25) typed from THEORY.md: d lambda_m / dt with S_k = sum lambda^(1 + k alpha)."""
    S0, S1, S2 = (np.sum(lam ** (1 + k * alpha)) for k in (0, 1, 2))
    return 2 * lam ** (1 + alpha) * (1 - lam**alpha * S1 / S2) / ((1 + sigma2) * np.sqrt(S0 * S2))


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_mean_field_mode_flow_is_T25(alpha):
    """The eigenmode mean-field flow, d lambda/dt = 2 w dw/dt, equals (T25) (1e-13)."""
    cfg = Config(model="modes", n1=4, n2=4, target="online", predictor="power", predictor_alpha=alpha, eta=0.0,
                 sigma2=SIGMA2, loss="cosine", expectation="mean_field")
    args = jax.tree_util.tree_map(jnp.asarray, mode_args(cfg))
    lam = np.array(LAM0)
    w = jnp.sqrt(jnp.asarray(lam))
    d = mode_weight_flow(0.0, ModeWeights(jnp.zeros(4), w, w), args)
    np.testing.assert_allclose(2 * np.asarray(w) * np.asarray(d.w), _t25(lam, alpha, SIGMA2), atol=1e-13)


@pytest.mark.parametrize("predictor, loss, expectation", [
    ("directpred", "euclidean", "exact"), ("ridge_lstsq", "isoloss_euclidean", "exact"),
    ("trained", "isoloss_euclidean", "exact"), ("power", "cosine", "mean_field"),
    ("trained", "isoloss_cosine", "mean_field")])
def test_mode_flow_is_the_weight_flow_in_p_s_tau(predictor, loss, expectation):
    """`mode_flow` (p, s, tau) and `mode_weight_flow` (p, w, wa) are separate implementations of the
    new options; with s = w^2, tau = wa/w: ds = 2 w dw, dtau = (dwa - tau dw)/w (1e-12)."""
    from dynamics.flows import ModeState, mode_flow

    cfg = Config(model="modes", n1=3, n2=3, data="spectrum", x_eigs=(2.0, 1.0, 0.5), target="ema", predictor=predictor,
                 loss=loss, expectation=expectation, stop_gradient="none", eta=0.03, beta=0.4, alpha_p=1.3)
    args = jax.tree_util.tree_map(jnp.asarray, mode_args(cfg))
    p, w, wa = jnp.asarray([0.7, 0.4, 1.1]), jnp.asarray([0.9, 0.3, 1.2]), jnp.asarray([0.8, 0.5, 0.6])
    dw = mode_weight_flow(0.0, ModeWeights(p, w, wa), args)
    dm = mode_flow(0.0, ModeState(p, w**2, wa / w), args)
    np.testing.assert_allclose(dm.s, 2 * w * dw.w, atol=1e-12)
    np.testing.assert_allclose(dm.tau, (dw.wa - (wa / w) * dw.w) / w, atol=1e-12)
    np.testing.assert_allclose(dm.p, dw.p, atol=1e-12)


def test_mean_field_full_flow_equals_mode_flow_when_aligned():
    """The matrix mean-field flow (`mean_field_descent`) at W = [diag(sqrt lambda), 0] is diagonal and
    equals the eigenmode mean-field flow (1e-13)."""
    common = dict(n1=6, n2=4, target="online", predictor="power", eta=0.0, sigma2=SIGMA2, loss="cosine",
                  expectation="mean_field")
    full = Config(**common, init="given", W0=_given_W0(LAM0, 6))
    args = jax.tree_util.tree_map(jnp.asarray, flow_args(full))
    y = jax.tree_util.tree_map(jnp.asarray, initial_state(full))
    dW = np.asarray(byol_flow(0.0, y, args).W)
    margs = jax.tree_util.tree_map(jnp.asarray, mode_args(full.replace(model="modes", n1=4, init="random", W0=None)))
    w = jnp.sqrt(jnp.asarray(LAM0))
    dw = np.asarray(mode_weight_flow(0.0, ModeWeights(jnp.zeros(4), w, w), margs).w)
    np.testing.assert_allclose(np.diag(dW[:, :4]), dw, atol=1e-13)
    np.testing.assert_allclose(dW - np.diag(np.diag(dW[:, :4])) @ np.eye(4, 6), 0.0, atol=1e-13)


def test_mean_field_run_conserves_trace_and_ends_isotropic():
    """(T24)-(T25): the mean-field flow keeps tr = 4.22 (1e-8 relative, integrator tolerance) and
    ends isotropic at tr/M (1e-6: converged by t = 400, measured)."""
    cfg = Config(model="modes", n1=4, n2=4, target="online", predictor="power", eta=0.0, sigma2=SIGMA2, s0=LAM0,
                 loss="cosine", expectation="mean_field", t_max=400.0, n_save=21, save_spacing="log",
                 solver="scipy-dop853")
    ds = simulate(cfg)
    tr = ds.s.values.sum(axis=1)
    assert np.max(np.abs(tr - sum(LAM0))) / sum(LAM0) < 1e-8
    np.testing.assert_allclose(ds.s.values[-1], sum(LAM0) / 4, rtol=1e-6)
    assert "T25" in ds.attrs["theory"] and ds.attrs["flow_expectation"].startswith("mean_field")


def test_sampled_cosine_is_integrated_by_diffrax_too():
    """The diffrax path (tsit5) integrates the sampled cosine flow: the trace is conserved to its
    tolerance (rtol 1e-8: 1e-6 relative over the run), and the recorded predictor is the closed form
    (eig_Wp = eig_F^alpha, 1e-10)."""
    cfg = Config(n1=4, n2=3, target="online", predictor="power", eta=0.0, sigma2=SIGMA2, loss="isoloss_cosine",
                 expectation="sampled", n_samples=64, t_max=5.0, n_save=3)
    ds = simulate(cfg)
    assert int(ds.status) == 0
    np.testing.assert_allclose(ds.eig_Wp.values, np.sqrt(np.clip(ds.eig_F.values, 0, None)), atol=1e-10)
    # isoloss_cosine does not conserve the trace (our mean-field derivation: it grows)
    tr = ds.eig_F.values.sum(axis=1)
    assert tr[-1] > tr[0]
