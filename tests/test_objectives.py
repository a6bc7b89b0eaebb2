"""Entropy + reconstruction (`dynamics.objectives`), THEORY.md §9 (T27)-(T28) [RBR23], against
independent references: mpmath's Bessel function at 40 digits, the closed forms of C_2 and C_3,
the moment E[exp(kappa u^T z)] of the uniform distribution on the sphere, direct (non-log-space)
density sums, scipy.stats.entropy, autodiff of BYOL's normalized loss, the analytic solution of
the flow without stop-gradient (T3 remark) and the fixed point (T17).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import scipy.stats
from scipy.special import gammaln, ive, logsumexp

jax.config.update("jax_enable_x64", True)

import dynamics  # noqa: E402
from dynamics import Config, ConfigError, Status  # noqa: E402
from dynamics.objectives import (  # noqa: E402
    ERSettings,
    batch_mean_entropy,
    discrete_er_loss,
    discrete_reconstruction,
    entropy_inputs,
    er_loss,
    kernel_entropy,
    kernel_log_densities,
    log_bessel_iv,
    log_vmf_normalizer,
    trajectory_kernel_entropy,
    vmf_reconstruction,
)
from dynamics.stochastic import SGDSettings, simulate_er  # noqa: E402

KAPPA = 10.0


def _mp_log_c(d: int, kappa: float) -> float:
    mpmath.mp.dps = 40
    nu = mpmath.mpf(d) / 2 - 1
    k = mpmath.mpf(kappa)
    log_i = mpmath.log(mpmath.besseli(nu, k))
    return float(nu * mpmath.log(k) - (mpmath.mpf(d) / 2) * mpmath.log(2 * mpmath.pi) - log_i)


def _gaussian(seed, *shape):
    # numpy's generator for test data (jax.random would compile a sampler per shape)
    return np.random.default_rng(seed).standard_normal(shape)


def _unit_rows(seed, k, d):
    z = _gaussian(seed, k, d)
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def _collapsed(d):
    """The lower end of (T28): every point at one location, l_i = -kappa - log C_d(kappa) exactly."""
    return -KAPPA - log_vmf_normalizer(d, KAPPA)


# ------------------------------------------------------------------------------ log C_d(kappa)
@pytest.mark.parametrize("d", [1, 2, 3, 16, 101, 102, 103, 128, 480, 512, 1000, 4096])
def test_log_vmf_normalizer_matches_mpmath_up_to_d_4096(d):
    kappas = np.array([1e-3, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4])
    got = log_vmf_normalizer(d, kappas)
    ref = np.array([_mp_log_c(d, k) for k in kappas])
    # The Debye expansion (orders >= 50) truncates at O(nu^-5): at most 4e-12 relative in log I at
    # nu = 50 (checked in the next test); float64 round-off of the O(1e4) terms adds ~1e-12
    # relative. 2e-11 relative to max(1, |log C|) covers both with a 5x margin.
    np.testing.assert_allclose(got, ref, rtol=2e-11, atol=2e-11)


def test_log_bessel_iv_is_continuous_across_the_method_switch_at_order_50():
    # Orders 49.5 (ive branch) and 50 (Debye branch) and their neighbours against mpmath at 40
    # digits, over arguments where the truncation error is largest (z = x/nu ~ 0.3-3).
    mpmath.mp.dps = 40
    worst = 0.0
    for nu in (49.0, 49.5, 50.0, 50.5, 51.0):
        for x in (5.0, 15.0, 30.0, 60.0, 150.0):
            ref = float(mpmath.log(mpmath.besseli(nu, x)))
            worst = max(worst, abs(float(log_bessel_iv(nu, x)) - ref) / max(1.0, abs(ref)))
    assert worst < 1e-11  # measured 3.5e-12 (Debye at nu = 50, x = 30)


def test_log_c_512_at_kappa_10_is_867_8705_where_scaled_bessel_underflows():
    """THEORY.md T28's number, and the underflow it warns about."""
    assert abs(log_vmf_normalizer(512, KAPPA) - 867.8705) < 5e-5  # THEORY.md quotes 4 decimals
    # scipy's exponentially scaled Bessel function is 0 at d = 482 for kappa = 10 (nu = 240), so the
    # textbook formula gives +inf there; below it, the two agree.
    assert ive(482 / 2 - 1, KAPPA) == 0.0 and ive(480 / 2 - 1, KAPPA) > 0.0
    for d in (16, 128, 300, 480):
        log_i = math.log(ive(d / 2 - 1, KAPPA)) + KAPPA
        naive = (d / 2 - 1) * math.log(KAPPA) - (d / 2) * math.log(2 * math.pi) - log_i
        assert abs(log_vmf_normalizer(d, KAPPA) - naive) < 1e-9 * max(1.0, abs(naive))


@pytest.mark.parametrize("kappa", [0.01, 1.0, 10.0, 300.0])
def test_log_vmf_normalizer_closed_forms_d2_d3(kappa):
    # d = 3: C_3 = kappa / (4 pi sinh kappa); d = 2: C_2 = 1 / (2 pi I_0(kappa)) (the von Mises
    # circle). log sinh in a stable form; I_0 from scipy's ive (no underflow at d = 2).
    log_sinh = kappa + math.log1p(-math.exp(-2 * kappa)) - math.log(2.0)
    ref3 = math.log(kappa) - math.log(4 * math.pi) - log_sinh
    assert abs(log_vmf_normalizer(3, kappa) - ref3) < 1e-12 * max(1, kappa)
    ref2 = -math.log(2 * math.pi) - (math.log(ive(0, kappa)) + kappa)
    assert abs(log_vmf_normalizer(2, kappa) - ref2) < 1e-12 * max(1, kappa)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_log_vmf_normalizer_rejects_bad_kappa(bad):
    with pytest.raises(ConfigError, match="kappa"):
        log_vmf_normalizer(8, bad)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_log_vmf_normalizer_rejects_bad_dimension(bad):
    with pytest.raises(ConfigError, match="^d = "):
        log_vmf_normalizer(bad, 1.0)


# ------------------------------------------------------------------------------ kernel entropy (T28)
def _uniform_sphere_moment(d: int, kappa: float) -> float:
    """E[exp(kappa u^T z)] for z uniform on S^{d-1}: Gamma(d/2) (2/kappa)^{d/2-1} I_{d/2-1}(kappa)."""
    nu = d / 2 - 1
    return math.exp(gammaln(d / 2) + nu * math.log(2 / kappa) + math.log(ive(nu, kappa)) + kappa)


@pytest.mark.parametrize("d, theory_range", [(128, 6.21), (16, 5.93)])
def test_kernel_entropy_of_random_unit_vectors_matches_the_uniform_sphere_moment(d, theory_range):
    """k = 512 random unit vectors, kappa = 10 (THEORY.md T28): H ~ -130.5 at d = 128; the dynamic
    range H(spread) - H(collapsed) is 6.21 at d = 128 and 5.93 at d = 16, below log 512 = 6.24."""
    k = 512
    z = _unit_rows(3, k, d)
    H = float(kernel_entropy(jnp.asarray(z), KAPPA))
    # Law of large numbers: sum_j exp(kappa z_i.z_j) = e^kappa + (k-1) M_d(kappa) up to a relative
    # fluctuation ~ sqrt(Var/(k-1))/mean: 0.16% at d = 128, ~2% at d = 16 per row, averaged over 512
    # rows (and Jensen's bias is second order): 0.02 nats covers it (measured 0.004 at d = 16).
    ref = -log_vmf_normalizer(d, KAPPA) - math.log((math.exp(KAPPA) + (k - 1) * _uniform_sphere_moment(d, KAPPA)) / k)
    assert abs(H - ref) < 0.02
    dynamic_range = H - _collapsed(d)
    assert abs(dynamic_range - theory_range) < 0.03  # THEORY.md's two decimals, other random draws
    assert dynamic_range < math.log(k)
    if d == 128:
        assert abs(H - (-130.5)) < 0.1  # THEORY.md: "H ~ -130.5 for random unit vectors at d = 128"


def test_kernel_entropy_extremes_are_closed_forms():
    d, k = 6, 64
    u = np.zeros(d)
    u[0] = 1.0
    # All points equal: l_i = -kappa - log C exactly (the lower end of the range).
    same = jnp.asarray(np.tile(u, (k, 1)) * 3.7)  # rows are normalized inside
    assert abs(float(kernel_entropy(same, KAPPA)) - _collapsed(d)) < 1e-12 * abs(_collapsed(d))
    # k/2 points at +u and k/2 at -u: l_i = -log C - log((e^kappa + e^-kappa)/2).
    anti = jnp.asarray(np.vstack([np.tile(u, (k // 2, 1)), np.tile(-u, (k // 2, 1))]))
    ref = -log_vmf_normalizer(d, KAPPA) - math.log(math.cosh(KAPPA))
    assert abs(float(kernel_entropy(anti, KAPPA)) - ref) < 1e-12 * abs(ref)
    assert abs(float(kernel_entropy(anti, KAPPA, plugin=True)) - ref) < 1e-12 * abs(ref)  # equal weights


def test_kernel_entropy_direct_density_sum_average_and_plugin():
    """Against the density computed without logs at d = 3, where C_3 = kappa / (4 pi sinh kappa)."""
    kappa, k = 4.0, 40
    z = _unit_rows(5, k, 3)
    c3 = kappa / (4 * math.pi * math.sinh(kappa))
    p = np.mean(c3 * np.exp(kappa * z @ z.T), axis=1)  # KDE at each point, self term included
    ref_avg = float(np.mean(-np.log(p)))
    ref_plugin = float(np.sum(p * -np.log(p)) / np.sum(p))  # weights softmax(-l) = p / sum p
    scaled = jnp.asarray(z * np.linspace(0.5, 3.0, k)[:, None])  # the estimator normalizes rows
    assert abs(float(kernel_entropy(scaled, kappa)) - ref_avg) < 1e-12
    assert abs(float(kernel_entropy(scaled, kappa, plugin=True)) - ref_plugin) < 1e-12
    np.testing.assert_allclose(np.asarray(kernel_log_densities(scaled, kappa)), -np.log(p), rtol=1e-12)


def test_kernel_entropy_range_is_at_most_log_k_for_any_points():
    # l_i lies in [-kappa - log C, log k - kappa - log C] for any configuration (self term alone
    # bounds the sum below by e^kappa, every term is at most e^kappa); checked on clustered,
    # spread and random configurations at several d.
    for seed, d, k in [(0, 2, 10), (1, 5, 100), (2, 50, 33), (3, 700, 64)]:
        z = _gaussian(seed, k, d)
        z[: k // 3] = z[0]  # a cluster
        ell = np.asarray(kernel_log_densities(jnp.asarray(z), KAPPA))
        low = _collapsed(d)
        assert np.all(ell >= low - 1e-9 * abs(low)) and np.all(ell <= low + math.log(k) + 1e-9 * abs(low))


# ------------------------------------------------------------------------------ reconstruction
def test_byol_normalized_loss_equals_vmf_reconstruction_up_to_kappa_half_and_a_constant():
    """rec = (kappa/2) L_BYOL - kappa - log C_d(kappa), since ||a - b||^2 = 2 - 2 a.b for unit vectors;
    the identity holds for the value and (autodiff) for the gradients in both inputs."""
    d, k = 12, 30
    z1, z2 = (jnp.asarray(_gaussian(seed, k, d) * 2.0) for seed in (11, 12))

    def byol(a, b):
        a = a / jnp.linalg.norm(a, axis=1, keepdims=True)
        b = b / jnp.linalg.norm(b, axis=1, keepdims=True)
        return jnp.mean(jnp.sum((a - b) ** 2, axis=1))

    byol = jax.jit(byol)
    const = -KAPPA - log_vmf_normalizer(d, KAPPA)
    rec = float(vmf_reconstruction(z1, z2, KAPPA))
    assert abs(rec - (KAPPA / 2 * float(byol(z1, z2)) + const)) < 1e-12 * abs(const)
    g_rec = jax.jit(jax.grad(vmf_reconstruction, argnums=(0, 1)), static_argnums=2)(z1, z2, KAPPA)
    g_byol = jax.jit(jax.grad(byol, argnums=(0, 1)))(z1, z2)
    for a, b in zip(g_rec, g_byol):
        np.testing.assert_allclose(np.asarray(a), KAPPA / 2 * np.asarray(b), rtol=1e-11, atol=1e-14)
    # The ER objective is rec - H on the online projections (T27).
    z3 = z1 + 0.1
    assert float(er_loss(z1, z2, z3, KAPPA)) == pytest.approx(
        float(vmf_reconstruction(z1, z2, KAPPA)) - float(kernel_entropy(z3, KAPPA)), rel=1e-14)


def test_discrete_entropy_and_reconstruction_against_scipy():
    k, K = 50, 7
    logits = _gaussian(2, 2, k, K) * 2.0
    p = np.exp(logits - logsumexp(logits, axis=-1, keepdims=True))
    # scipy.stats.entropy normalizes and sums -p log p; cross-entropy = H(p) + KL(p || q).
    assert abs(float(batch_mean_entropy(jnp.asarray(p[0]))) - scipy.stats.entropy(p[0].mean(0))) < 1e-13
    ce = np.mean([scipy.stats.entropy(a) + scipy.stats.entropy(a, b) for a, b in zip(p[0], p[1])])
    ce_rev = np.mean([scipy.stats.entropy(b) + scipy.stats.entropy(b, a) for a, b in zip(p[0], p[1])])
    assert abs(float(discrete_reconstruction(jnp.asarray(p[0]), jnp.asarray(p[1]), symmetric=False)) - ce) < 1e-12
    assert abs(float(discrete_reconstruction(jnp.asarray(p[0]), jnp.asarray(p[1]))) - 0.5 * (ce + ce_rev)) < 1e-12
    assert float(discrete_er_loss(jnp.asarray(p[0]), jnp.asarray(p[1]), jnp.asarray(p[0]))) == pytest.approx(
        0.5 * (ce + ce_rev) - scipy.stats.entropy(p[0].mean(0)), rel=1e-12)
    # Equipartition gives log K, one shared one-hot gives 0 (THEORY.md §9).
    equipartition = jnp.asarray(np.eye(K)[np.arange(3 * K) % K])
    assert float(batch_mean_entropy(equipartition)) == pytest.approx(math.log(K), rel=1e-12)
    assert float(batch_mean_entropy(jnp.asarray(np.tile(np.eye(K)[0], (k, 1))))) == 0.0


# ------------------------------------------------------------------------------ along BYOL flows
# DOP853 with a negligible atol keeps relative accuracy while W decays by many orders of magnitude
# (a direction is meaningless once |W| < atol).
FLOW = Config(n1=8, n2=4, sigma2=0.5, eta=0.01, seed=0, solver="scipy-dop853", rtol=1e-10, atol=1e-30,
              t_max=60.0, n_save=31)
N_ENTROPY = 256


def _entropy(ds, **kwargs):
    return trajectory_kernel_entropy(ds, key=jax.random.key(0), n_samples=N_ENTROPY, **kwargs).values


def test_kernel_entropy_is_exactly_constant_without_stopgrad_when_Wp_is_identity():
    """No stop-gradient, Wp = I, Wa = W: dW/dt = -(2 sigma^2 + eta) W (THEORY.md §3 remark), every
    mode shrinks at one rate, so the normalized embeddings, hence H, never change."""
    cfg = FLOW.replace(stop_gradient="none", predictor="identity", target="online", t_max=20.0, n_save=11)
    ds = dynamics.simulate(cfg)
    assert int(ds.status) == Status.ok
    W = ds.W.values
    scale = np.einsum("tij,ij->t", W, W[0]) / np.sum(W[0] ** 2)  # W(t) = scale(t) W(0) ...
    residual = np.max(np.abs(W - scale[:, None, None] * W[0]) / scale[:, None, None])
    assert residual < 1e-12  # ... exactly (measured 4e-15: an RK step maps W to a multiple of W)
    # ... with scale(t) = exp(-(2 sigma^2 + eta) t); DOP853 at rtol 1e-10 (measured 1.5e-10)
    np.testing.assert_allclose(scale, np.exp(-(2 * cfg.sigma2 + cfg.eta) * ds.time.values), rtol=1e-8)
    H = _entropy(ds)
    assert np.max(np.abs(H - H[0])) < 1e-10  # only round-off of the normalization remains
    # Negative control: anisotropic X' shrinks the modes at different rates, and H changes.
    aniso = cfg.replace(data="spectrum", x_eigs=(1.0,) * 8, xprime_eigs=tuple(np.linspace(0.1, 1.0, 8)))
    H_aniso = _entropy(dynamics.simulate(aniso))
    assert np.max(np.abs(H_aniso - H_aniso[0])) > 0.5


def test_kernel_entropy_falls_to_two_antipodal_clusters_without_stopgrad_when_Wp_is_trained():
    """No stop-gradient with a trained predictor (T5): W collapses onto one direction, so the
    embeddings form two antipodal clusters and H reaches its closed form for that configuration."""
    cfg = FLOW.replace(stop_gradient="none", target="online", t_max=100.0, n_save=26)
    ds = dynamics.simulate(cfg)
    H = _entropy(ds)
    W = ds.W.values[-1]
    sv = np.linalg.svd(W, compute_uv=False)
    assert sv[1] < 1e-5 * sv[0]  # numerically rank one (measured ratio 2e-6; |W| ~ 1e-40)
    x = entropy_inputs(cfg, N_ENTROPY, key=jax.random.key(0))
    u = np.linalg.svd(W)[0][:, 0]
    plus = (x @ W.T @ u) > 0
    n_plus = int(plus.sum())
    n = N_ENTROPY
    log_c = log_vmf_normalizer(cfg.n2, KAPPA)
    same = np.where(plus, n_plus, n - n_plus)
    ell = -log_c - np.log((same * np.exp(KAPPA) + (n - same) * np.exp(-KAPPA)) / n)
    assert abs(H[-1] - ell.mean()) < 1e-4  # the residual second direction (2e-6) moves H by ~1e-5
    # It falls from the random-init value by most of the dynamic range (log k = 5.55 here).
    assert H[0] - H[-1] > 0.4 * math.log(n)  # measured 0.48 log k


def test_kernel_entropy_stays_in_a_band_during_byol_and_ends_isotropic_at_T17():
    """BYOL (stop-gradient, EMA, trained predictor, eta = 0.01): H dips while one small mode is slow
    to grow, then every mode reaches s* = p*_+^2 (T17, alpha_p = 1) and H is that of isotropic
    embeddings of the same inputs."""
    cfg = FLOW.replace(t_max=400.0, n_save=41)
    ds = dynamics.simulate(cfg)
    H = _entropy(ds)
    p_plus = (1 + math.sqrt(1 - 4 * cfg.eta * (1 + cfg.sigma2))) / (2 * (1 + cfg.sigma2))  # T17, tau = 1
    np.testing.assert_allclose(ds.eig_F.values[-1], p_plus**2, rtol=0.01)  # measured 0.3%
    W = ds.W.values[-1]
    vals, vecs = np.linalg.eigh(W @ W.T)
    W_iso = (vecs / np.sqrt(vals)) @ vecs.T @ W  # (W W^T)^{-1/2} W: same row space, isotropic
    x = entropy_inputs(cfg, N_ENTROPY, key=jax.random.key(0))
    H_iso = float(kernel_entropy(jnp.asarray(x @ W_iso.T), KAPPA))
    assert abs(H[-1] - H_iso) < 0.01  # residual anisotropy 0.3% in eig_F
    low = _collapsed(cfg.n2)
    band = (H - low) / math.log(N_ENTROPY)  # 0 = collapsed, 1 = the bound log k
    assert band.min() > 0.45  # measured 0.50 (the dip), against 0.125 = log 2 / log k after T5
    assert band.max() <= (H_iso - low) / math.log(N_ENTROPY) + 0.01


def test_trajectory_kernel_entropy_reports_its_settings_and_rejects_bad_input():
    ds = dynamics.simulate(FLOW.replace(t_max=1.0, n_save=3))
    H = trajectory_kernel_entropy(ds, key=jax.random.key(1), n_samples=16, plugin=True, inputs="clean")
    assert H.dims == ("time",) and H.attrs["kappa"] == KAPPA and H.attrs["plugin"] == 1
    with pytest.raises(ConfigError, match="inputs"):
        trajectory_kernel_entropy(ds, key=jax.random.key(1), inputs="noisy")
    with pytest.raises(ConfigError, match="n_samples"):
        trajectory_kernel_entropy(ds, key=jax.random.key(1), n_samples=1)
    with pytest.raises(ConfigError, match="kappa"):
        trajectory_kernel_entropy(ds, key=jax.random.key(1), kappa=-1.0)
    with pytest.raises(ConfigError, match="^W = "):
        trajectory_kernel_entropy(ds.drop_vars("W"), key=jax.random.key(1))


# ------------------------------------------------------------------------------ ER on the linear model
ER_CONFIG = Config(n1=8, n2=4, sigma2=0.5, seed=0, predictor="identity")  # no predictor, EMA target
ER_SGD = SGDSettings(0.05, steps=1500, batch_size=256, ema_momentum=0.99, save_every=100)


@pytest.fixture(scope="module")
def er_runs():
    er = ERSettings(eval_samples=N_ENTROPY)
    return {obj: simulate_er(ER_CONFIG, ER_SGD, er.replace(objective=obj), key=jax.random.key(1))
            for obj in ("er", "byol")}


def _uniform_reference(d: int, k: int, n_draws: int = 16) -> tuple[float, float]:
    """H of k isotropic Gaussian directions in d dimensions: mean and std over independent draws."""
    vals = [float(kernel_entropy(jnp.asarray(_gaussian(100 + s, k, d)), KAPPA)) for s in range(n_draws)]
    return float(np.mean(vals)), float(np.std(vals))


def test_er_keeps_the_entropy_that_normalized_byol_without_predictor_loses(er_runs):
    """[RBR23]: ER maximizes entropy; BYOL's normalized loss without a predictor lets it fall."""
    er, byol = er_runs["er"], er_runs["byol"]
    for ds in (er, byol):
        assert int(ds.status) == Status.ok and bool(ds.reached.all())
    ref, spread = _uniform_reference(ER_CONFIG.n2, N_ENTROPY)
    # ER ends at the entropy of isotropic embeddings (the maximum for Gaussian inputs): within
    # 4 std of the estimator over draws (4 x 0.015) plus 0.05 for the pull of the reconstruction
    # term away from isotropy (final eig_F ratios >= 0.5; measured |difference| 0.03).
    assert abs(float(er.kernel_entropy[-1]) - ref) < 4 * spread + 0.05
    assert float(er.kernel_entropy.min()) > float(er.kernel_entropy[0]) - 0.05
    # Normalized BYOL with Wp = I: the entropy falls by more than 0.1 log k (measured 0.17 log k,
    # still falling; ER's rose by 0.04 log k), while its spectrum spreads (eig_F ratio 0.004).
    assert float(byol.kernel_entropy[0] - byol.kernel_entropy[-1]) > 0.1 * math.log(N_ENTROPY)
    np.testing.assert_allclose(er.er_objective.values, er.reconstruction.values - er.kernel_entropy.values)


def test_simulate_er_returns_the_result_schema_with_flow_time(er_runs):
    ds = er_runs["er"]
    rates = ER_SGD.flow_rates()
    np.testing.assert_allclose(ds.time.values, np.arange(16) * 100 * rates.time_per_step)
    assert ds.attrs["simulator"] == "er" and ds.attrs["expected_flow"] == "sampled"
    assert ds.attrs["er_objective"] == "er" and "T28" in ds.attrs["theory"]
    back = Config.from_dataset(ds)
    assert back.beta == pytest.approx(rates.beta) and back.predictor == "identity"
    for name in ("W", "Wp", "Wa", "eig_F", "loss", "kernel_entropy", "reconstruction"):
        assert name in ds and np.all(np.isfinite(ds[name].values))
    # Wp = I stays fixed (predictor "identity")
    np.testing.assert_array_equal(ds.Wp.values, np.broadcast_to(np.eye(4), ds.Wp.shape))


@pytest.mark.parametrize("changes, field", [
    ({"objective": "simclr"}, "objective"), ({"kappa": 0.0}, "kappa"), ({"kappa": float("nan")}, "kappa"),
    ({"batches": "some"}, "batches"), ({"eval_samples": 1}, "eval_samples"), ({"plugin": 1}, "plugin"),
])
def test_er_settings_errors_name_the_field(changes, field):
    with pytest.raises(ConfigError, match=f"^{field} = "):
        ERSettings(**changes)


def test_simulate_er_rejects_the_mode_model():
    with pytest.raises(ConfigError, match="^model = "):
        simulate_er(Config(model="modes", n1=4, n2=4), ER_SGD, key=jax.random.key(0))
