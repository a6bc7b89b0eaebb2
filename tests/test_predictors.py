"""Closed-form predictors (THEORY.md §6-§8) against independent references: matrix functions from scipy,
least squares from numpy, the scalar eigenvalue ODEs of §7 (T22, T23, the ablations) integrated by
scipy from the formulas typed here, and the table of outcomes of §7-§8.

Integrations of the eigenmode model use the scipy DOP853 reference solver, which only compiles the
vector field (the diffrax solve compiles for seconds per gradient path); the full model goes through
diffrax once."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import fractional_matrix_power

from dynamics import Config, ConfigError, simulate
from dynamics.cli._main import main
from dynamics.config import CLOSED_FORM_PREDICTORS, data_statistics
from dynamics.flows import (BYOLState, GradientPath, PredictorStatistics, closed_form_predictor,
                            expected_statistics, mode_closed_form_predictor, sample_statistics)
from dynamics.stochastic import PredictorHyper, SGDSettings, set_closed_form_predictor, simulate_sgd
from dynamics.results import effective_rank, participation_ratio, projector_distance, read_netcdf, spectrum_outcome

SIGMA2 = 0.5
TIGHT = dict(rtol=1e-10, atol=1e-12)


def _modes(**kw) -> Config:
    base = dict(model="modes", n1=4, n2=4, target="online", eta=0.0, sigma2=SIGMA2, solver="scipy-dop853", **TIGHT)
    base.update(kw)
    return Config(**base)


def _scalar_reference(rate, lam0, ts):
    """Integrate d lambda/dt = rate(lambda) for each mode with scipy (rtol 1e-11)."""
    sol = solve_ivp(lambda t, y: rate(y), (0.0, ts[-1]), np.asarray(lam0, float), t_eval=ts, method="DOP853",
                    rtol=1e-11, atol=1e-14)
    return sol.y.T


# ------------------------------------------------------------------ the closed forms themselves
def _random_stats(seed, n1=5, n2=3):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n1, n1))
    X = A @ A.T / n1 + 0.2 * np.eye(n1)
    Xp = 0.3 * np.eye(n1)
    W, Wa = rng.standard_normal((n2, n1)), rng.standard_normal((n2, n1))
    st = expected_statistics(*(jnp.asarray(a) for a in (W, Wa, X, X + Xp)))
    return st, W, Wa, X, Xp


_POWER_FAMILY = ("power", "power_normalized", "directpred", "directcopy")


@pytest.mark.parametrize("kind, convention",
                         [(k, "after_power") for k in CLOSED_FORM_PREDICTORS]
                         + [(k, "before_power") for k in CLOSED_FORM_PREDICTORS if k in _POWER_FAMILY])
def test_closed_form_matches_its_matrix_formula(kind, convention):
    """Each closed form against scipy's `fractional_matrix_power` / numpy inverses of the statistics
    F = W X W^T, C = W (X+X') W^T, C_to = Wa X W^T (1e-10: well-conditioned 3 x 3 matrices). The
    epsilon convention (before / after the power) only exists for the power family."""
    st, W, Wa, X, Xp = _random_stats(0)
    F, C, Cto = (np.asarray(m) for m in st)
    alpha = {"directpred": 0.5, "directcopy": 1.0}.get(kind, 0.7)
    eps = 0.15
    I = np.eye(3)
    mpow = lambda A, a: np.real(fractional_matrix_power(A, a))  # noqa: E731
    after = convention == "after_power"
    Cn = C / np.linalg.norm(C, 2)
    ref = {
        "power": (mpow(F, alpha) + eps * I) if after else mpow(F + eps * I, alpha),
        "power_normalized": (mpow(Cn, alpha) + eps * I) if after else mpow(Cn + eps * I, alpha),
        "directpred": (mpow(Cn, 0.5) + eps * I) if after else mpow(Cn + eps * I, 0.5),
        "directcopy": Cn + eps * I,
        "ridge_lstsq": Cto @ np.linalg.inv(C + eps * I),
        "soft_projector": C @ np.linalg.inv(C + eps * I),
        "inverse_sqrt": mpow(C + eps * I, -0.5),
    }[kind]
    got = closed_form_predictor(kind, st, jnp.asarray(alpha), jnp.asarray(eps), convention)
    np.testing.assert_allclose(got, ref, atol=1e-10)


def test_directpred_is_T20_and_directcopy_needs_no_eigendecomposition():
    """T20: p_j = sqrt(s_j / max s) + eps in F-hat's eigenbasis; DirectCopy = C/||C||_2 + eps I is
    the alpha = 1 member of the family (1e-12)."""
    st, *_ = _random_stats(1)
    C = np.asarray(st.C)
    s, U = np.linalg.eigh(C)
    ref = (U * (np.sqrt(s / s.max()) + 0.1)) @ U.T
    np.testing.assert_allclose(closed_form_predictor("directpred", st, jnp.asarray(0.5), jnp.asarray(0.1)), ref,
                               atol=1e-12)
    np.testing.assert_allclose(closed_form_predictor("directcopy", st, jnp.asarray(1.0), jnp.asarray(0.25)),
                               closed_form_predictor("power_normalized", st, jnp.asarray(1.0), jnp.asarray(0.25)),
                               atol=1e-12)


@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_ridge_lstsq_is_the_least_squares_predictor_T26(eps):
    """T26 with samples as rows: Wp*^T = argmin ||Z_o B - Z_t||^2 + eps B_rows ||B||^2 (numpy lstsq on
    the ridge-augmented system); in T1's column convention Wp = C_to (C_oo + eps I)^{-1}. Also a
    rank-deficient Z_o (n2 > n1) with eps = 0: the pseudo-inverse solution (1e-9)."""
    rng = np.random.default_rng(3)
    for n1, n2 in ((5, 3), (2, 3)):
        W, Wa = rng.standard_normal((n2, n1)), rng.standard_normal((n2, n1))
        x1, x2 = rng.standard_normal((40, n1)), rng.standard_normal((40, n1))
        st = sample_statistics(*(jnp.asarray(a) for a in (W, Wa, x1, x2)))
        Zo, Zt = x1 @ W.T, x2 @ Wa.T
        A = np.vstack([Zo, np.sqrt(eps * len(Zo)) * np.eye(n2)])
        b = np.vstack([Zt, np.zeros((n2, n2))])
        rows = np.linalg.lstsq(A, b, rcond=None)[0]
        got = closed_form_predictor("ridge_lstsq", st, jnp.asarray(0.0), jnp.asarray(eps))
        if n2 > n1 and eps == 0.0:  # minimum-norm solution: Z_t^T Z_o (Z_o^T Z_o)^+ / B
            np.testing.assert_allclose(got, (Zt.T @ Zo) @ np.linalg.pinv(Zo.T @ Zo), atol=1e-9)
        else:
            np.testing.assert_allclose(got, rows.T, atol=1e-9)


@pytest.mark.parametrize("kind", CLOSED_FORM_PREDICTORS)
def test_mode_form_is_the_diagonal_of_the_matrix_form(kind):
    """Aligned weights (W, Wa diagonal in the data basis): the eigenmode closed form equals the diagonal
    of the matrix closed form (1e-12)."""
    lam_d, lam_s = np.array([2.0, 1.0, 0.5]), np.array([2.4, 1.7, 0.6])
    w, wa = np.array([0.9, 0.4, 1.3]), np.array([0.8, 0.5, 1.0])
    st = PredictorStatistics(*(jnp.asarray(np.diag(v)) for v in (lam_d * w**2, lam_s * w**2, lam_d * wa * w)))
    full = closed_form_predictor(kind, st, jnp.asarray(0.6), jnp.asarray(0.2))
    modes = mode_closed_form_predictor(kind, *(jnp.asarray(v) for v in (lam_d * w**2, lam_s * w**2, lam_d * wa * w)),
                                       jnp.asarray(0.6), jnp.asarray(0.2))
    np.testing.assert_allclose(np.diag(np.asarray(full)), modes, atol=1e-12)
    np.testing.assert_allclose(np.asarray(full) - np.diag(np.diag(np.asarray(full))), 0.0, atol=1e-12)


FORMS = [(loss, expectation) for loss, expectation in (("euclidean", "exact"), ("isoloss_euclidean", "exact"),
                                                      ("cosine", "mean_field"), ("isoloss_cosine", "mean_field"))]


@pytest.mark.parametrize("loss, expectation", FORMS)
@pytest.mark.parametrize("predictor", CLOSED_FORM_PREDICTORS + ("trained",))
def test_matrix_flow_started_aligned_is_the_eigenmode_flow(predictor, loss, expectation):
    """Two implementations: `byol_flow` at W = diag(w) Q^T, Wa = diag(wa) Q^T (non-isotropic spectrum,
    random basis Q, EMA target, a stop-gradient ablation) equals `mode_weight_flow` on (p, w, wa),
    mode by mode, and stays aligned (1e-12)."""
    from dynamics.flows import ModeWeights, byol_flow, flow_args, mode_args, mode_weight_flow

    common = dict(n1=3, n2=3, data="spectrum", x_eigs=(2.0, 1.0, 0.5), xprime_eigs=(0.5, 0.2, 0.3), target="ema",
                  stop_gradient="none", predictor=predictor, loss=loss, expectation=expectation, eta=0.02,
                  alpha_p=1.3, beta=0.4)
    full = Config(**common, basis="random", data_seed=3)
    modes = Config(**common, model="modes")
    Q = np.asarray(data_statistics(full).basis)
    p, w, wa = np.array([0.7, 0.4, 1.1]), np.array([0.9, 0.3, 1.2]), np.array([0.8, 0.5, 0.6])
    # rows of W are w_j q_j^T, so F = W X W^T is diagonal in output space and so is the predictor
    y = BYOLState(jnp.asarray(w[:, None] * Q.T), jnp.asarray(np.diag(p)), jnp.asarray(wa[:, None] * Q.T))
    d_full = byol_flow(0.0, y, jax.tree_util.tree_map(jnp.asarray, flow_args(full)))
    d_mode = mode_weight_flow(0.0, ModeWeights(*(jnp.asarray(a) for a in (p, w, wa))),
                              jax.tree_util.tree_map(jnp.asarray, mode_args(modes)))
    dW = np.asarray(d_full.W) @ Q  # back to the data basis: diagonal
    np.testing.assert_allclose(np.diag(dW), d_mode.w, atol=1e-12)
    np.testing.assert_allclose(dW - np.diag(np.diag(dW)), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.diag(np.asarray(d_full.Wp)), d_mode.p, atol=1e-12)
    np.testing.assert_allclose(np.diag(np.asarray(d_full.Wa) @ Q), d_mode.wa, atol=1e-12)


def test_recorded_predictor_is_the_closed_form_at_every_saved_time():
    """The result's p of a DirectPred run is T20 of the saved spectrum at each time, normalized per
    time (not over the whole run): p_j = sqrt(c_j / max c) + eps with c = (1+s2) s (1e-12)."""
    ds = simulate(_modes(predictor="directpred", s0=(0.05, 0.5, 2.0), n1=3, n2=3, t_max=2.0, n_save=5))
    c = 1.5 * ds.s.values
    np.testing.assert_allclose(ds.p.values, np.sqrt(c / c.max(axis=1, keepdims=True)) + 0.1, atol=1e-12)
    assert "directpred" in ds.attrs["predictor_record"] and "T20" in ds.attrs["theory"]


# ------------------------------------------------------------------ §7 acceptance: T22, T23
@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_power_predictor_every_mode_reaches_lambda_star_T22(alpha):
    """Wp = (W W^T)^alpha, Euclidean loss: d lambda/dt = 2 lambda^(1+alpha) [1 - (1+s2) lambda^alpha]
    (T22), integrated by scipy from the formula; every mode, from below and above, ends at
    lambda* = (1+s2)^(-1/alpha) (rel 1e-6 at t = 600; the trajectory within 1e-6 of T22)."""
    lam0 = (0.01, 0.1, 1.0, 5.0)
    ds = simulate(_modes(predictor="power", predictor_alpha=alpha, s0=lam0, t_max=600.0, n_save=31,
                         save_spacing="log"))
    assert int(ds.status) == 0
    ts = ds.time.values
    ref = _scalar_reference(lambda l: 2 * l ** (1 + alpha) * (1 - (1 + SIGMA2) * l**alpha), lam0, ts)
    np.testing.assert_allclose(ds.s.values, ref, rtol=1e-6, atol=1e-12)
    star = (1 + SIGMA2) ** (-1 / alpha)
    np.testing.assert_allclose(ds.s.values[-1], star, rtol=1e-6)
    np.testing.assert_allclose(ds.p.values[-1], star**alpha, rtol=1e-6)  # the recorded closed form
    assert "T22" in ds.attrs["theory"]


def test_full_model_power_predictor_is_isotropic_and_aligned():
    """The matrix flow from a random W: every eigenvalue of F reaches lambda* = 1/1.5 (alpha = 1), the
    saved Wp is the closed form (eig_Wp = lambda*), [F, Wp] = 0 and Wp is a multiple of a projector
    (projector_distance 0): integrator tolerance 1e-10 relative, so 1e-6."""
    ds = simulate(Config(n1=6, n2=4, target="online", predictor="power", predictor_alpha=1.0, eta=0.0,
                         sigma2=SIGMA2, t_max=300.0, n_save=4, seed=2, solver="scipy-dop853", **TIGHT))
    assert int(ds.status) == 0
    np.testing.assert_allclose(ds.eig_F.values[-1], 1 / 1.5, rtol=1e-6)
    np.testing.assert_allclose(ds.eig_Wp.values[-1], 1 / 1.5, rtol=1e-6)
    assert float(ds.commutator.max()) < 1e-8
    assert float(ds.projector_distance[-1]) < 1e-6 and float(ds.projector_distance[0]) > 0.05
    assert float(ds.participation_ratio[-1]) == pytest.approx(4.0, rel=1e-6)


def test_isoloss_reaches_lambda_star_with_uniform_relative_rates_T23():
    """IsoLoss: d log(lambda)/dt = 2 [1 - (1+s2) lambda^alpha] (T23), ~2 for every small mode, where
    the Euclidean loss's rate 2 lambda^alpha [1 - (1+s2) lambda^alpha] (T22) is proportional to
    lambda^alpha. Early slopes measured over [0, 0.005] (log-spaced saves) against the formulas at
    lambda(0) (1e-3 relative: the rates change by O(t) over the window); IsoLoss recruits every mode
    to lambda* by t = 50 (1e-6), while the smallest Euclidean mode has not left 0."""
    lam0 = (1e-6, 1e-4, 1e-2)
    common = dict(n1=3, n2=3, predictor="power", predictor_alpha=0.5, s0=lam0, t_max=50.0, n_save=21,
                  save_spacing="log")
    iso = simulate(_modes(loss="isoloss_euclidean", **common))
    euc = simulate(_modes(**common))
    l0 = np.array(lam0)
    t1 = iso.time.values[1]
    slope = lambda ds: (np.log(ds.s.values[1]) - np.log(l0)) / t1  # noqa: E731
    np.testing.assert_allclose(slope(iso), 2 * (1 - 1.5 * np.sqrt(l0)), rtol=1e-3)
    np.testing.assert_allclose(slope(euc), 2 * np.sqrt(l0) * (1 - 1.5 * np.sqrt(l0)), rtol=1e-3)
    assert np.ptp(slope(iso)) / np.mean(slope(iso)) < 0.2  # uniform
    assert slope(euc)[2] / slope(euc)[0] > 50  # Euclidean: 100x apart (sqrt of 1e4)
    np.testing.assert_allclose(iso.s.values[-1], 1.5**-2, rtol=1e-6)
    assert euc.s.values[-1][0] < 1e-5
    assert "T23" in iso.attrs["theory"]


# ------------------------------------------------------------------ §7 ablations
def test_no_stop_gradient_collapses():
    """d lambda/dt = -2 lambda [(1+s2)(1 + lambda^(2 alpha)) - 2 lambda^alpha] < 0 for s2 > 0 (§7):
    the run follows the formula (1e-6) and every mode collapses."""
    lam0 = (0.1, 1.0, 4.0)
    ds = simulate(_modes(n1=3, n2=3, predictor="power", predictor_alpha=1.0, stop_gradient="none", s0=lam0,
                         t_max=30.0, n_save=11))
    rate = lambda l: -2 * l * (1.5 * (1 + l**2) - 2 * l)  # noqa: E731
    # atol 1e-12: the reference itself wanders by ~1e-13 around 0 once collapsed
    np.testing.assert_allclose(ds.s.values, _scalar_reference(rate, lam0, ds.time.values), rtol=1e-6, atol=1e-12)
    assert np.all(ds.s.values[-1] < 1e-8)
    assert spectrum_outcome(ds.eig_F.values).label == "collapses"


def test_wrong_side_stop_gradient_diverges_above_threshold_and_collapses_below():
    """Stop-gradient on the online side: d lambda/dt = 2 lambda [lambda^alpha - (1+s2)] (§7); with
    alpha = 1 modes above 1.5 blow up (the run stops as diverged) and modes below shrink. The
    trajectory follows the formula until the stop (1e-6)."""
    lam0 = (0.5, 1.4, 1.6, 3.0)
    ds = simulate(_modes(predictor="power", predictor_alpha=1.0, stop_gradient="online", s0=lam0, t_max=20.0,
                         n_save=201, divergence_threshold=1e3))
    assert ds.attrs["status_name"] == "diverged"
    n = int(ds.reached.sum())
    s = ds.s.values[:n]
    ref = _scalar_reference(lambda l: 2 * l * (l - 1.5), lam0, ds.time.values[:n])
    np.testing.assert_allclose(s, ref, rtol=1e-6)
    assert np.all(np.diff(s[:, :2], axis=0) < 0) and np.all(np.diff(s[:, 2:], axis=0) > 0)


def test_no_predictor_collapses_at_rate_2_sigma2():
    """Wp = I: lambda(t) = lambda(0) exp(-2 s2 t) (§7), to the solver's tolerance (1e-8)."""
    lam0 = (0.1, 1.0, 4.0)
    ds = simulate(_modes(n1=3, n2=3, predictor="identity", s0=lam0, t_max=10.0, n_save=6))
    ref = np.outer(np.exp(-2 * SIGMA2 * ds.time.values), lam0)
    np.testing.assert_allclose(ds.s.values, ref, rtol=1e-8)


def test_weight_decay_above_threshold_collapses_euclidean_but_not_isoloss():
    """r > 1/(4(1+s2)) = 1/6: every mode collapses with the Euclidean loss; IsoLoss settles at
    lambda* = ((1 - r)/(1 + s2))^(1/alpha) for every mode (r < 1). Below the threshold the Euclidean
    modes above a_-^(1/alpha) go to a_+^(1/alpha) and those below collapse (§7, compare T17)."""
    alpha, lam0 = 0.5, (0.001, 0.1, 1.0, 3.0)
    r_star = 1 / (4 * 1.5)
    common = dict(predictor="power", predictor_alpha=alpha, s0=lam0, t_max=400.0, n_save=5, save_spacing="log")
    euc = simulate(_modes(eta=1.1 * r_star, **common))
    assert np.all(euc.s.values[-1] < 1e-10)
    iso = simulate(_modes(eta=1.1 * r_star, loss="isoloss_euclidean", **common))
    np.testing.assert_allclose(iso.s.values[-1], ((1 - 1.1 * r_star) / 1.5) ** (1 / alpha), rtol=1e-6)
    r = 0.5 * r_star
    a_minus, a_plus = ((1 + sign * np.sqrt(1 - 4 * r * 1.5)) / 3.0 for sign in (-1, 1))
    below = simulate(_modes(eta=r, **common))
    final = below.s.values[-1]
    alive = np.asarray(lam0) > a_minus ** (1 / alpha)
    assert not alive[0] and alive[1:].all()
    np.testing.assert_allclose(final[alive], a_plus ** (1 / alpha), rtol=1e-6)
    assert final[0] < 1e-10


# ------------------------------------------------------------------ §7-§8 table
LAM0 = (0.02, 0.2, 1.0, 3.0)
# Euclidean, exact (eigenmode model): THEORY.md where it states the outcome, our measurement elsewhere.
EUCLIDEAN = {
    "power": "learns",  # T22: lambda* = (1+s2)^(-1/alpha)
    "power_normalized": "collapses",  # §7 note: rate 2 s2
    "directpred": "collapses",  # §7-§8
    "directcopy": "collapses",  # measured (alpha = 1 member of the normalized family)
    "ridge_lstsq": "stalls",  # §8: exact least squares gives dW/dt = 0
    "soft_projector": "learns",  # measured; level eps / (s2 (1+s2)) (our derivation)
    "inverse_sqrt": "diverges",  # §8: unstable fixed point; the mode above grows, the rest collapse
}
# cosine loss: mean field (T25 generalized) and the sampled expected flow (measured).
COSINE_MEAN_FIELD = {k: "learns" for k in CLOSED_FORM_PREDICTORS} | {"ridge_lstsq": "stalls",
                                                                     "inverse_sqrt": "collapses to rank 1"}
COSINE_SAMPLED = {k: "learns" for k in CLOSED_FORM_PREDICTORS} | {"inverse_sqrt": "collapses to rank 1"}


@pytest.mark.parametrize("predictor", CLOSED_FORM_PREDICTORS)
def test_table_euclidean(predictor):
    """The Euclidean column of the table (experiments/RESULTS.md), with the levels THEORY.md or our
    derivation give: soft projector lambda* = eps/(s2 (1+s2)); inverse_sqrt's unstable point
    lambda_u = ((1+s2)^2 - eps)/(1+s2), modes above it grow and below it collapse."""
    ds = simulate(_modes(predictor=predictor, s0=LAM0, t_max=200.0, n_save=21, save_spacing="log",
                         predictor_eps=0.1 if predictor == "inverse_sqrt" else None))
    out = spectrum_outcome(ds.eig_F.values, int(ds.status))
    assert out.label == EUCLIDEAN[predictor]
    final = out.final
    if predictor == "power":
        np.testing.assert_allclose(final, 1.5**-2, rtol=1e-6)
    elif predictor == "soft_projector":
        np.testing.assert_allclose(final, 0.1 / (SIGMA2 * 1.5), rtol=1e-6)
    elif predictor == "ridge_lstsq":
        np.testing.assert_allclose(final, LAM0, rtol=1e-9)
    elif predictor == "inverse_sqrt":
        lam_u = (1.5**2 - 0.1) / 1.5
        above = np.asarray(LAM0) > lam_u
        assert np.all(final[above] > 100 * np.asarray(LAM0)[above]) and np.all(final[~above] < 1e-8)
    else:
        # e^{-200} in exact arithmetic; atol 1e-12 on w = sqrt(s) leaves s at ~1e-24 or below
        assert np.all(final < 1e-20)


@pytest.mark.parametrize("predictor", CLOSED_FORM_PREDICTORS)
def test_table_cosine_mean_field(predictor):
    """The cosine / mean-field column: trace conserved (1e-8), isotropic at tr/M where it learns
    (1e-5 at t = 1000: the soft projector's Wp is nearly saturated, c/(c + eps) ~ 0.94, so its
    restoring force is weak and it settles last)."""
    t_max = 200.0 if predictor == "inverse_sqrt" else 1000.0  # rank one early; the rest is stiff
    ds = simulate(_modes(predictor=predictor, s0=LAM0, loss="cosine", expectation="mean_field", t_max=t_max,
                         n_save=5, save_spacing="log"))
    out = spectrum_outcome(ds.eig_F.values, int(ds.status))
    assert out.label == COSINE_MEAN_FIELD[predictor]
    tr = ds.s.values.sum(axis=1)
    assert np.max(np.abs(tr / sum(LAM0) - 1)) < 1e-8
    if out.label == "learns":
        np.testing.assert_allclose(out.final, sum(LAM0) / 4, rtol=1e-5)
    if predictor == "inverse_sqrt":
        assert out.final.max() == pytest.approx(sum(LAM0), rel=1e-8)


@pytest.mark.parametrize("predictor", CLOSED_FORM_PREDICTORS)
def test_table_cosine_sampled(predictor):
    """The cosine / sampled column (M = N = 4, 512 moment-matched pairs, measured outcomes): trace
    conserved (1e-7); the learning predictors approach isotropy (effective rank > 3.5 from 2.1,
    sampling error and slow settling allowed; ridge_lstsq's Wp ~ I/(1+s2) only drifts slowly, unlike
    the mean field's exact stall); inverse_sqrt concentrates the trace in one mode (99% by t = 20,
    all of it by t = 40 (measured); the last stretch is stiff, so the test stops at 20)."""
    ds = simulate(Config(n1=4, n2=4, init="given", W0=np.diag(np.sqrt(LAM0)).tolist(), target="online",
                         predictor=predictor, eta=0.0, sigma2=SIGMA2, loss="cosine", expectation="sampled",
                         n_samples=512, t_max=20.0 if predictor == "inverse_sqrt" else 200.0, n_save=5,
                         save_spacing="log", solver="scipy-dop853"))
    out = spectrum_outcome(ds.eig_F.values, int(ds.status))
    if predictor == "inverse_sqrt":
        assert out.label.startswith("collapses to rank") and out.final.max() > 0.99 * sum(LAM0)
    else:
        assert out.label == COSINE_SAMPLED[predictor]
    tr = ds.eig_F.values.sum(axis=1)
    assert np.max(np.abs(tr / sum(LAM0) - 1)) < 1e-7
    erank = float(ds.effective_rank[-1])
    if predictor == "inverse_sqrt":
        assert erank < 1.05
    elif predictor == "ridge_lstsq":
        assert 2.5 < erank < 3.99
    else:
        assert erank > 3.5


# ------------------------------------------------------------------ discrete training (T19-T20)
def test_ema_statistics_and_update_period_of_a_closed_form_predictor():
    """`set_closed_form_predictor` against numpy: step 0 takes the batch statistics (both view
    orders), later steps the EMA rho S + (1 - rho) S_batch (T19), and Wp is reset only when
    step % freq == 0 (1e-12)."""
    rng = np.random.default_rng(5)
    W = jnp.asarray(rng.standard_normal((3, 4)))
    state = BYOLState(W, jnp.eye(3), W)
    path = GradientPath("online", "target", "directpred")
    hyper = PredictorHyper(jnp.asarray(0.3), jnp.asarray(0.5), jnp.asarray(0.1), jnp.asarray(2))
    zeros = jnp.zeros((3, 3))
    stats = PredictorStatistics(zeros, zeros, zeros)
    batches = [tuple(jnp.asarray(rng.standard_normal((16, 4))) for _ in range(2)) for _ in range(3)]

    def batch_C(x1, x2):
        z = np.concatenate([np.asarray(x1), np.asarray(x2)]) @ np.asarray(W).T
        return z.T @ z / len(z)

    ema = None
    for step, (x1, x2) in enumerate(batches):
        new_state, stats = set_closed_form_predictor(state, stats, jnp.asarray(step), x1, x2, hyper, path)
        ema = batch_C(x1, x2) if ema is None else 0.3 * ema + 0.7 * batch_C(x1, x2)
        np.testing.assert_allclose(stats.C, ema, atol=1e-12)
        if step % 2 == 0:
            s, U = np.linalg.eigh(ema)
            np.testing.assert_allclose(new_state.Wp, (U * (np.sqrt(s / s.max()) + 0.1)) @ U.T, atol=1e-12)
        else:
            np.testing.assert_allclose(new_state.Wp, state.Wp, atol=0.0)
        state = new_state


def test_sgd_with_the_power_predictor_reaches_lambda_star():
    """Discrete SGD with Wp = power closed form of EMA minibatch statistics (rho = 0.3, every 10
    steps): the spectrum of F ends near lambda* = (1+s2)^-2 = 0.444 (T22; 10%: minibatch noise at
    lr 0.05, batch 256), and the saved Wp only changes at multiples of 10 steps."""
    cfg = Config(n1=4, n2=3, target="online", predictor="power", eta=0.0, sigma2=SIGMA2, seed=0)
    settings = SGDSettings(0.05, steps=1500, batch_size=256, save_every=5, rho=0.3, predictor_freq=10)
    ds = simulate_sgd(cfg, settings, key=jax.random.key(0))
    assert int(ds.status) == 0 and ds.attrs["sgd_predictor_freq"] == 10
    np.testing.assert_allclose(ds.eig_F.values[-1], 1.5**-2, rtol=0.1)
    Wp = ds.Wp.values  # saved k >= 1 holds the Wp used by step 5k - 1: set at step 0, 0, 10, 10, 20, ...
    np.testing.assert_array_equal(Wp[1], Wp[2])
    np.testing.assert_array_equal(Wp[3], Wp[4])
    assert np.max(np.abs(Wp[3] - Wp[2])) > 0
    assert "EMA" in ds.attrs["predictor_record"]


# ------------------------------------------------------------------ diagnostics, config, CLI
def test_shape_diagnostics_on_hand_spectra():
    """effective rank, participation ratio and projector distance of hand-made spectra."""
    iso, rank1 = np.array([2.0, 2.0, 2.0, 2.0]), np.array([3.0, 0.0, 0.0, 0.0])
    assert effective_rank(iso) == pytest.approx(4.0) and effective_rank(rank1) == pytest.approx(1.0)
    assert participation_ratio(iso) == pytest.approx(4.0) and participation_ratio(rank1) == pytest.approx(1.0)
    lam = np.array([1.0, 1.0, 2.0])  # q = (1/4, 1/4, 1/2): exp(H) = exp(1.5 log 2) = 2^1.5
    assert effective_rank(lam) == pytest.approx(2**1.5)
    assert participation_ratio(lam) == pytest.approx(16 / 6)
    assert projector_distance(np.array([2.0, 2.0, 0.0])) == 0.0
    assert projector_distance(np.array([1.0, 0.5, 0.25])) == pytest.approx((0 + 0.5 + 0.25) / 3)
    assert np.isnan(projector_distance(np.array([0.0, -1.0])))


@pytest.mark.parametrize("changes, field", [
    ({"predictor": "banana"}, "predictor"),
    ({"loss": "l1"}, "loss"),
    ({"expectation": "monte_carlo"}, "expectation"),
    ({"loss": "cosine"}, "expectation"),
    ({"loss": "euclidean", "expectation": "mean_field"}, "expectation"),
    ({"model": "modes", "n1": 2, "n2": 2, "loss": "cosine", "expectation": "sampled"}, "expectation"),
    ({"loss": "cosine", "expectation": "sampled", "n_samples": 10}, "n_samples"),
    ({"n_samples": 0}, "n_samples"),
    ({"sample_seed": -1}, "sample_seed"),
    ({"predictor": "power", "predictor_alpha": 0.0}, "predictor_alpha"),
    ({"predictor": "power", "predictor_alpha": float("nan")}, "predictor_alpha"),
    ({"predictor_alpha": 0.5}, "predictor_alpha"),
    ({"predictor": "directpred", "predictor_alpha": 1.0}, "predictor_alpha"),
    ({"predictor": "directcopy", "predictor_alpha": 0.5}, "predictor_alpha"),
    ({"predictor": "ridge_lstsq", "predictor_alpha": 0.5}, "predictor_alpha"),
    ({"predictor": "power", "predictor_eps": -0.1}, "predictor_eps"),
    ({"predictor": "trained", "predictor_eps": 0.1}, "predictor_eps"),
    ({"predictor": "soft_projector", "predictor_eps_convention": "before_power"}, "predictor_eps_convention"),
    ({"predictor": "power", "predictor_eps_convention": "middle"}, "predictor_eps_convention"),
])
def test_bad_predictor_or_loss_setting_names_the_field(changes, field):
    with pytest.raises(ConfigError, match=rf"^{field} = ") as info:
        Config(**changes)
    assert info.value.field == field


def test_predictor_defaults_are_recorded():
    cfg = Config(predictor="directpred")
    assert (cfg.predictor_alpha_effective, cfg.predictor_eps_effective) == (0.5, 0.1)
    attrs = cfg.flat_attrs()
    assert attrs["predictor_eps_effective"] == 0.1 and attrs["predictor_eps_convention"] == "after_power"
    assert Config().flat_attrs()["predictor_alpha_effective"] == "unset"
    assert Config(predictor="directcopy").predictor_alpha_effective == 1.0
    # init='given' needs no Wp0 for a closed-form predictor
    Config(init="given", n1=2, n2=2, W0=((1.0, 0.0), (0.0, 1.0)), predictor="soft_projector")


def test_cli_flags_and_toml_set_the_new_fields(tmp_path):
    """Every new field works as a flag and as a TOML key; the result file records them."""
    out = tmp_path / "flags.nc"
    code = main(["simulate", "--model", "modes", "--n1", "3", "--n2", "3", "--target", "online", "--predictor",
                 "power_normalized", "--predictor-alpha", "0.7", "--predictor-eps", "0.05",
                 "--predictor-eps-convention", "before_power", "--loss", "cosine", "--expectation", "mean_field",
                 "--t-max", "5", "--n-save", "3", "--solver", "scipy-dop853", "--no-plot", "--out", str(out)])
    assert code == 0
    ds = read_netcdf(out)
    cfg = Config.from_dataset(ds)
    assert (cfg.predictor, cfg.predictor_alpha, cfg.predictor_eps, cfg.predictor_eps_convention, cfg.loss,
            cfg.expectation) == ("power_normalized", 0.7, 0.05, "before_power", "cosine", "mean_field")
    for name in ("commutator", "effective_rank", "participation_ratio", "projector_distance"):
        assert name in ds
    toml = tmp_path / "cfg.toml"
    toml.write_text('n1 = 3\nn2 = 2\ntarget = "online"\npredictor = "directpred"\nloss = "isoloss_cosine"\n'
                    'expectation = "sampled"\nn_samples = 16\nsample_seed = 4\nt_max = 1.0\nn_save = 2\n'
                    'solver = "scipy-dop853"\n')
    out2 = tmp_path / "toml.nc"
    assert main(["simulate", "--config", str(toml), "--no-plot", "--out", str(out2)]) == 0
    ds2 = read_netcdf(out2)
    assert (ds2.attrs["n_samples"], ds2.attrs["sample_seed"], ds2.attrs["loss"]) == (16, 4, "isoloss_cosine")
    assert ds2.attrs["flow_expectation"].startswith("sampled") and "directpred" in ds2.attrs["predictor_record"]
    assert main(["simulate", "--loss", "cosine", "--out", str(tmp_path / "bad.nc")]) == 2
    assert not (tmp_path / "bad.nc").exists()
