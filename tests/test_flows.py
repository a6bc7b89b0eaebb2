"""The hand-written vector fields against independent references: autodiff of the loss (T1), the
closed forms T5 and T8, and the scalar case of the matrix flow for the eigenmode flow (T11-T13b)."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dynamics.flows import (
    BYOLState,
    FlowArgs,
    GradientPath,
    ModeArgs,
    ModeState,
    byol_flow,
    expected_loss,
    mode_flow,
    mode_loss,
)

PATHS = list(itertools.product(("ema", "online"), ("target", "none", "online"), ("trained", "symmetric", "identity")))


def _random_problem(seed, n1=5, n2=3, path=GradientPath()):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n1, n1))
    X = A @ A.T / n1 + 0.1 * np.eye(n1)
    B = rng.standard_normal((n1, n1))
    Xp = B @ B.T / n1 * 0.3
    W = rng.standard_normal((n2, n1))
    Wp = rng.standard_normal((n2, n2))
    Wa = rng.standard_normal((n2, n1))
    args = FlowArgs(X=jnp.asarray(X), XS=jnp.asarray(X + Xp), alpha_p=jnp.asarray(1.7), beta=jnp.asarray(0.3),
                    eta=jnp.asarray(0.05), eta_p=jnp.asarray(0.02), path=path)
    return BYOLState(jnp.asarray(W), jnp.asarray(Wp), jnp.asarray(Wa)), args


@pytest.mark.parametrize("target, stop_gradient, predictor", PATHS)
def test_byol_flow_equals_minus_gradient_of_loss_T1(target, stop_gradient, predictor):
    """d(W, Wp)/dt = -grad of J (T1) with the stop-gradient placed per the settings, plus decay."""
    y, args = _random_problem(0, path=GradientPath(target, stop_gradient, predictor))
    W, Wp = y.W, (jnp.eye(3) if predictor == "identity" else y.Wp)
    Wa = W if target == "online" else y.Wa
    J = lambda W_, Wp_, Wa_: expected_loss(W_, Wp_, Wa_, args.X, args.XS)  # noqa: E731
    dJ_dW, dJ_dWp, dJ_dWa = jax.grad(J, argnums=(0, 1, 2))(W, Wp, Wa)
    ref_W = -args.eta * W
    ref_Wp = -args.eta_p * Wp
    if stop_gradient != "online":
        ref_W = ref_W - dJ_dW
        g = -args.alpha_p * dJ_dWp
        ref_Wp = ref_Wp + (0.5 * (g + g.T) if predictor == "symmetric" else g)
    if stop_gradient != "target":
        ref_W = ref_W - dJ_dWa  # the target branch's gradient routed into W
    if predictor == "identity":
        ref_Wp = jnp.zeros_like(Wp)
    out = byol_flow(0.0, BYOLState(W, Wp, y.Wa), args)
    # float64 round-off of O(10) numbers: 1e-12 absolute
    np.testing.assert_allclose(out.W, ref_W, atol=1e-12)
    np.testing.assert_allclose(out.Wp, ref_Wp, atol=1e-12)
    ref_Wa = out.W if target == "online" else args.beta * (W - y.Wa)
    np.testing.assert_allclose(out.Wa, ref_Wa, atol=1e-12)


def test_no_stop_gradient_simsiam_is_T5():
    """(T5): dW/dt = -(Wp^T Wp + I) W X' - (Wp - I)^T (Wp - I) W X - eta W."""
    y, args = _random_problem(1, path=GradientPath("online", "none", "trained"))
    W, Wp = y.W, y.Wp
    Xp = args.XS - args.X
    I = jnp.eye(3)
    ref = -(Wp.T @ Wp + I) @ W @ Xp - (Wp - I).T @ (Wp - I) @ W @ args.X - args.eta * W
    np.testing.assert_allclose(byol_flow(0.0, y, args).W, ref, atol=1e-12)


def test_no_predictor_remark_of_section_3():
    """Wp = I, Wa = W with stop-gradient: dW/dt = -W X' - eta W; without it: -2 W X' - eta W."""
    y, args = _random_problem(2, path=GradientPath("online", "target", "identity"))
    W = y.W
    Xp = args.XS - args.X
    y = BYOLState(W, jnp.eye(3), W)
    np.testing.assert_allclose(byol_flow(0.0, y, args).W, -W @ Xp - args.eta * W, atol=1e-12)
    args_none = FlowArgs(args.X, args.XS, args.alpha_p, args.beta, args.eta, args.eta_p,
                         GradientPath("online", "none", "identity"))
    np.testing.assert_allclose(byol_flow(0.0, y, args_none).W, -2 * W @ Xp - args.eta * W, atol=1e-12)


def test_symmetric_predictor_under_A1_A2_is_T8():
    """(T8): dWp/dt = -(alpha_p/2)(1+sigma2){Wp, F} + alpha_p tau F - eta Wp with Wa = tau W, X = I."""
    n, sigma2, tau = 4, 0.4, 0.7
    rng = np.random.default_rng(3)
    W = jnp.asarray(rng.standard_normal((n, n)))
    S = rng.standard_normal((n, n))
    Wp = jnp.asarray(S + S.T)
    args = FlowArgs(X=jnp.eye(n), XS=(1 + sigma2) * jnp.eye(n), alpha_p=jnp.asarray(1.3), beta=jnp.asarray(0.1),
                    eta=jnp.asarray(0.02), eta_p=jnp.asarray(0.02), path=GradientPath("ema", "target", "symmetric"))
    F = W @ W.T
    ref = -(args.alpha_p / 2) * (1 + sigma2) * (Wp @ F + F @ Wp) + args.alpha_p * tau * F - args.eta * Wp
    out = byol_flow(0.0, BYOLState(W, Wp, tau * W), args)
    np.testing.assert_allclose(out.Wp, ref, atol=1e-11)
    # and (T9) for F = W W^T
    dF = out.W @ W.T + W @ out.W.T
    ref_F = -(1 + sigma2) * (Wp @ Wp @ F + F @ Wp @ Wp) + tau * (Wp @ F + F @ Wp) - 2 * args.eta * F
    np.testing.assert_allclose(dF, ref_F, atol=1e-10)


@pytest.mark.parametrize("target, stop_gradient, predictor", PATHS)
def test_mode_flow_is_the_scalar_case_of_the_matrix_flow(target, stop_gradient, predictor):
    """(T11)-(T13b) are the n1 = n2 = 1 case of (T2)-(T4) with s = w^2, tau = w_a / w."""
    path = GradientPath(target, stop_gradient, predictor)
    rng = np.random.default_rng(4)
    lam_d, lam_s = 1.3, 1.9
    w, wp, wa = rng.uniform(0.3, 1.5, size=3)
    if predictor == "identity":
        wp = 1.0
    if target == "online":
        wa = w
    rates = dict(alpha_p=jnp.asarray(1.4), beta=jnp.asarray(0.35), eta=jnp.asarray(0.03), eta_p=jnp.asarray(0.01))
    full = byol_flow(0.0, BYOLState(jnp.full((1, 1), w), jnp.full((1, 1), wp), jnp.full((1, 1), wa)),
                     FlowArgs(X=jnp.full((1, 1), lam_d), XS=jnp.full((1, 1), lam_s), path=path, **rates))
    dw, dwp, dwa = (float(a[0, 0]) for a in full)
    margs = ModeArgs(lam_d=jnp.array([lam_d]), lam_s=jnp.array([lam_s]), path=path, **rates)
    y = ModeState(jnp.array([wp]), jnp.array([w * w]), jnp.array([wa / w]))
    out = mode_flow(0.0, y, margs)
    np.testing.assert_allclose(float(out.p[0]), dwp, atol=1e-13)
    np.testing.assert_allclose(float(out.s[0]), 2 * w * dw, atol=1e-13)
    np.testing.assert_allclose(float(out.tau[0]), (dwa * w - wa * dw) / w**2, atol=1e-13)
    loss_full = expected_loss(jnp.full((1, 1), w), jnp.full((1, 1), wp), jnp.full((1, 1), wa),
                              jnp.full((1, 1), lam_d), jnp.full((1, 1), lam_s))
    np.testing.assert_allclose(float(mode_loss(y, margs)), float(loss_full), rtol=1e-13)


def test_isotropic_modes_are_T11_to_T13():
    """Under A2 (lambda_d = 1, lambda_s = 1 + sigma2) mode_flow is literally (T11)-(T13)."""
    sigma2, alpha_p, beta, eta = 0.5, 1.2, 0.4, 0.01
    p, s, tau = jnp.array([0.3, 0.8]), jnp.array([0.2, 1.1]), jnp.array([0.5, 1.3])
    args = ModeArgs(lam_d=jnp.ones(2), lam_s=jnp.full(2, 1 + sigma2), alpha_p=jnp.asarray(alpha_p),
                    beta=jnp.asarray(beta), eta=jnp.asarray(eta), eta_p=jnp.asarray(eta))
    out = mode_flow(0.0, ModeState(p, s, tau), args)
    dp = alpha_p * s * (tau - (1 + sigma2) * p) - eta * p
    ds = 2 * p * s * (tau - (1 + sigma2) * p) - 2 * eta * s
    dtau = beta * (1 - tau) - tau * ds / (2 * s)
    np.testing.assert_allclose(out.p, dp, atol=1e-14)
    np.testing.assert_allclose(out.s, ds, atol=1e-14)
    np.testing.assert_allclose(out.tau, dtau, atol=1e-14)


def test_expected_loss_matches_a_sampled_mean():
    """J in closed form (T1) against a Monte-Carlo mean over 400k sampled view pairs."""
    y, args = _random_problem(5)
    rng = np.random.default_rng(6)
    n1 = args.X.shape[0]
    X, Xp = np.asarray(args.X), np.asarray(args.XS - args.X)
    xbar = rng.standard_normal((400_000, n1)) @ np.linalg.cholesky(X).T
    root = np.linalg.cholesky(Xp + 1e-12 * np.eye(n1))
    x1 = xbar + rng.standard_normal(xbar.shape) @ root.T
    x2 = xbar + rng.standard_normal(xbar.shape) @ root.T
    r = x1 @ (np.asarray(y.Wp) @ np.asarray(y.W)).T - x2 @ np.asarray(y.Wa).T
    per = 0.5 * np.sum(r * r, axis=1)
    se = per.std() / np.sqrt(per.size)
    # 5 standard errors: a false failure has probability < 1e-6
    assert abs(per.mean() - float(expected_loss(y.W, y.Wp, y.Wa, args.X, args.XS))) < 5 * se


def test_flow_and_mode_args_check_their_invariants_when_built():
    # the arguments are refused when they are built (`__check_init__`), not when the flow is traced
    rates = {k: jnp.asarray(0.1) for k in ("alpha_p", "beta", "eta", "eta_p")}
    with pytest.raises(ValueError, match="predictor_alpha and predictor_eps"):
        FlowArgs(X=jnp.eye(2), XS=jnp.eye(2), path=GradientPath(predictor="directpred"), **rates)
    with pytest.raises(ValueError, match="predictor_alpha and predictor_eps"):
        ModeArgs(lam_d=jnp.ones(2), lam_s=jnp.ones(2), path=GradientPath(predictor="power"), predictor_eps=jnp.asarray(0.0),
                 **rates)
    with pytest.raises(ValueError, match="x1 and x2"):
        FlowArgs(X=jnp.eye(2), XS=jnp.eye(2), path=GradientPath(expectation="sampled"), **rates)
    # a complete set is accepted
    ModeArgs(lam_d=jnp.ones(2), lam_s=jnp.ones(2), path=GradientPath(predictor="power"), predictor_alpha=jnp.asarray(0.5),
             predictor_eps=jnp.asarray(0.0), **rates)
