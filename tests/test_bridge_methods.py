"""Every paper's method in the training bridge (issue #15): IsoLoss on the closed-form predictors, ER-BYOL,
DISSL, CISSL. Each loss against a direct NumPy evaluation on a tiny batch and its identities (IsoLoss: the
online output receives dL/dp; ER: the reconstruction is (kappa/2) x BYOL's normalized loss + a constant;
DISSL: lambda >= 1 + beta is reported), each closed form selected by name, the per-method defaults, and one
tiny epoch of every method on `synthetic` with the simulator's quantities logged.

Tolerances: float64 losses agree with NumPy to 1e-10 relative (a few roundings in sums of O(10) terms);
the bridge's cosine floor (1e-6 of the RMS norm) moves a cosine by ~5e-13 relative, far below that.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import ive, log_softmax, logsumexp, softmax

from dynamics import ConfigError
from dynamics.bridge import TrainConfig, train
from dynamics.bridge._heads import HEAD_KEYS, init_heads
from dynamics.bridge._losses import er_training_loss, isoloss_training_loss, issl_training_loss, training_loss
from dynamics.bridge._step import _closed_form_wp
from dynamics.cli._main import main
from dynamics.config import CLOSED_FORM_PREDICTORS, DEFAULT_PREDICTOR_EPS
from dynamics.flows import PredictorStatistics, closed_form_predictor, feature_statistics, isoloss
from dynamics.issl import ISSLWeights
from dynamics.results import read_netcdf

RTOL = 1e-10
#: A tiny network and data set: 2 steps of 128 (one epoch of 256 vectors), no probes.
TINY = dict(dataset="synthetic", input_dim=16, model="mlp", batch_size=128, synthetic_train=256, synthetic_test=128,
            feature_dim=16, projector_hidden=32, projector_dim=8, predictor_hidden=16, probe_size=64, knn_k=10,
            online_probe=False, linear_probe=False, epochs=1)


def _batch(seed: int, b: int = 6, d: int = 4) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    f, t = rng.normal(size=(b, d)), rng.normal(size=(b, d))
    A = rng.normal(size=(d, d))
    return f, t, A @ A.T / d + 0.1 * np.eye(d)          # a symmetric positive predictor Wp


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _log_vmf_c(d: int, kappa: float) -> float:
    """log C_d(kappa) = (d/2 - 1) log kappa - (d/2) log 2 pi - log I_{d/2-1}(kappa) (scipy's ive)."""
    nu = d / 2 - 1
    return nu * math.log(kappa) - (d / 2) * math.log(2 * math.pi) - (math.log(ive(nu, kappa)) + kappa)


# ---------------------------------------------------------------------------------------------- IsoLoss
@pytest.mark.parametrize("base", ["euclidean", "cosine"])
def test_isoloss_gives_the_online_output_dL_dp_and_the_plain_loss_does_not(base):
    f, t, Wp = _batch(0)
    B = len(f)
    p = f @ Wp.T
    if base == "euclidean":                                     # d/dp of mean 1/2 |p - t|^2
        dL_dp = (p - t) / B
    else:                                                       # d/dp of mean (2 - 2 cos(p, t))
        pn, tn = np.linalg.norm(p, axis=1, keepdims=True), np.linalg.norm(t, axis=1, keepdims=True)
        cos = np.sum(p * t, axis=1, keepdims=True) / (pn * tn)
        dL_dp = -2.0 / B * (t / (pn * tn) - cos * p / pn**2)

    def iso(f_):
        return isoloss_training_loss(base, jax.lax.stop_gradient(f_) @ Wp.T, f_, t)

    value, grad = jax.value_and_grad(iso)(jnp.asarray(f))
    np.testing.assert_allclose(float(value), float(training_loss(base, p, t)), rtol=RTOL)   # same value
    np.testing.assert_allclose(np.asarray(grad), dL_dp, rtol=1e-8, atol=1e-14)            # (T23)'s identity
    plain = jax.grad(lambda f_: training_loss(base, f_ @ Wp.T, t))(jnp.asarray(f))
    np.testing.assert_allclose(np.asarray(plain), dL_dp @ Wp, rtol=1e-8, atol=1e-14)        # Wp^T dL/dp
    assert np.max(np.abs(np.asarray(plain) - dL_dp)) > 1e-2 * np.max(np.abs(dL_dp))


@pytest.mark.parametrize("base, tol", [("euclidean", 1e-12), ("cosine", 3e-3)])
def test_isoloss_gradient_is_the_simulators(base, tol):
    # the simulator's IsoLoss (dynamics.flows.isoloss), whose cosine loss is -cos (half of 2 - 2 cos) with
    # its norms floored at 1% of their RMS (ours: 1e-6): that floor moves the cosine gradient by up to 1.4e-3
    # of its largest entry here (measured), so the cosine case is compared at 3e-3 of it
    f, t, Wp = _batch(1)
    ours = jax.grad(lambda f_: isoloss_training_loss(base, jax.lax.stop_gradient(f_) @ Wp.T, f_, t))(jnp.asarray(f))
    sim = jax.grad(lambda f_: jnp.mean(isoloss(base, f_, jnp.asarray(t), jnp.asarray(Wp))))(jnp.asarray(f))
    expected = (2.0 if base == "cosine" else 1.0) * np.asarray(sim)
    np.testing.assert_allclose(np.asarray(ours), expected, rtol=0, atol=tol * np.max(np.abs(expected)))


def test_every_closed_form_predictor_is_selected_by_name_from_an_ema_of_the_correlation():
    rng = np.random.default_rng(2)
    f1, f2, g1, g2 = (rng.normal(size=(32, 4)) @ np.diag([2.0, 1.0, 0.5, 0.1]) for _ in range(4))
    old = PredictorStatistics(*(np.eye(4) * s for s in (0.3, 0.5, 0.2)))
    state = SimpleNamespace(step=jnp.int32(3), pred_stats=old, Wp=jnp.zeros((4, 4)))
    for name in CLOSED_FORM_PREDICTORS:
        config = TrainConfig(method="isoloss", predictor=name, dataset="synthetic", model="mlp")
        assert config.method_spec.predictor == name and config.predictor_eps_convention == "before_power"
        spec = SimpleNamespace(nets=SimpleNamespace(predictor_kind=name), rho=config.rho, predictor_freq=1,
                               predictor_alpha=config.predictor_alpha_effective,
                               predictor_eps=config.predictor_eps_effective, eps_convention="before_power")
        stats, Wp = _closed_form_wp(spec, state, *(jnp.asarray(a) for a in (f1, f2, g1, g2)))
        batch = feature_statistics(np.concatenate([f1, f2]), np.concatenate([f2, f1]), np.concatenate([g2, g1]))
        ema = PredictorStatistics(*(0.998 * o + 0.002 * np.asarray(n) for o, n in zip(old, batch)))  # T19
        for a, b in zip(stats, ema):
            np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12)
        # alpha and eps enter the step as float32 scalars (0.1 -> 0.10000000149): 1e-7 relative
        expected = closed_form_predictor(name, ema, 0.5, DEFAULT_PREDICTOR_EPS[name], "before_power")
        np.testing.assert_allclose(np.asarray(Wp), np.asarray(expected), rtol=1e-7, atol=1e-12)
        if name in ("directpred", "directcopy"):      # [HLZ23]'s recipe in NumPy: ((c / max c) + eps)^alpha
            c, U = np.linalg.eigh(0.5 * (ema.C + ema.C.T))
            alpha = 0.5 if name == "directpred" else 1.0
            direct = (U * (np.clip(c, 0, None) / c.max() + DEFAULT_PREDICTOR_EPS[name]) ** alpha) @ U.T
            np.testing.assert_allclose(np.asarray(Wp), direct, rtol=1e-7, atol=1e-12)


# ---------------------------------------------------------------------------------------------- ER
def test_er_loss_is_numpy_rec_minus_kernel_entropy_and_rec_is_scaled_byol():
    kappa = 10.0
    f1, t2, _ = _batch(3, b=5, d=6)
    f2, t1, _ = _batch(4, b=5, d=6)
    p1, p2 = f1 @ np.diag(np.arange(1, 7.0)), f2 + 0.3
    log_c = _log_vmf_c(6, kappa)

    def rec(p, t):
        return float(np.mean(-kappa * np.sum(_unit(p) * _unit(t), axis=1)) - log_c)

    def entropy(z):                                       # (T28): -log mean_j C exp(kappa z_i.z_j), self included
        zn = _unit(z)
        return float(np.mean(-log_c - logsumexp(kappa * zn @ zn.T, axis=1) + math.log(len(z))))

    expected = 0.5 * (rec(p1, t2) - entropy(f1) + rec(p2, t1) - entropy(f2))
    got = float(er_training_loss(*(jnp.asarray(a) for a in (p1, p2, t1, t2, f1, f2)), kappa))
    np.testing.assert_allclose(got, expected, rtol=RTOL)
    # BYOL's normalized loss mean |p^ - t^|^2 = 2 - 2 cos (the bridge's cosine loss): rec = (kappa/2) L + const
    consts = [rec(p, t) - kappa / 2 * float(training_loss("cosine", p, t)) for p, t in ((p1, t2), (p2, t1))]
    np.testing.assert_allclose(consts, -kappa - log_c, rtol=RTOL)


# ---------------------------------------------------------------------------------------------- DISSL, CISSL
def _heads(dim: int, K: int, H: int) -> dict:
    return {k: np.asarray(v, np.float64) for k, v in init_heads(dim, K, H, seed=5).items()}


def _teacher(h: dict, z: np.ndarray) -> np.ndarray:
    return np.maximum(z @ h["W1"].T + h["b1"], 0) @ h["W2"].T + h["b2"]


def _student(h: dict, z: np.ndarray) -> np.ndarray:
    return z @ h["A"].T + h["b"]


def test_heads_start_as_the_simulators_heads():
    heads = init_heads(8, 32, 16, seed=0)
    assert [heads[k].shape for k in HEAD_KEYS] == [(32, 8), (32,), (16, 8), (16,), (32, 16), (32,)]
    for k in ("b", "b1", "b2"):
        assert not np.any(np.asarray(heads[k]))
    for k, fan_in in (("A", 8), ("W1", 8), ("W2", 16)):          # N(0, 1/fan-in): std within 15%
        assert abs(np.std(np.asarray(heads[k])) * math.sqrt(fan_in) - 1) < 0.15


def test_dissl_loss_matches_numpy_and_reports_its_condition():
    lam, beta, Tt, Ts = 2.3, 0.8, 0.5, 1.0
    z1, z2, _ = _batch(6, b=5, d=4)
    h = _heads(4, 7, 6)
    B = len(z1)
    z = np.concatenate([z1, z2])
    t, log_t = softmax(_teacher(h, z) / Tt, axis=1), log_softmax(_teacher(h, z) / Tt, axis=1)
    log_s = log_softmax(_student(h, z) / Ts, axis=1)
    other = np.concatenate([np.arange(B, 2 * B), np.arange(B)])

    def marginal_entropy(p):
        m = p.mean(axis=0)
        return -np.sum(m * np.log(m))

    expected = (np.mean(-np.sum(t * log_s[other], axis=1)) - lam * 0.5 * (marginal_entropy(t[:B]) + marginal_entropy(
        t[B:])) + beta * np.mean(-np.sum(t * log_t[other], axis=1)))
    weights = ISSLWeights(lam, beta, 0.07, Tt, Ts)
    got, parts = issl_training_loss("dissl", {k: jnp.asarray(v) for k, v in h.items()}, jnp.asarray(z1),
                                    jnp.asarray(z2), weights)
    np.testing.assert_allclose(float(got), expected, rtol=RTOL)
    assert 0 < float(parts["marginal_entropy"]) <= math.log(7) + 1e-12
    config = TrainConfig(method="dissl", dataset="synthetic", model="mlp")
    assert config.dissl_condition_holds and config.method_attrs()["dissl_condition_holds"] == 1   # 2.3 >= 1.8
    weak = config.replace(dissl_lambda=1.5)
    assert not weak.dissl_condition_holds
    assert weak.method_attrs()["dissl_condition"].startswith("lambda >= 1 + beta fails")


def test_cissl_loss_matches_numpy_with_the_self_pair_kept():
    tau = 0.07
    z1, z2, _ = _batch(7, b=4, d=4)
    h = _heads(4, 5, 6)
    B = len(z1)
    z = np.concatenate([z1, z2])
    logits = _unit(_student(h, z)) @ _unit(_teacher(h, z)).T / tau          # all 2B columns, self included
    log_q = log_softmax(logits, axis=1)
    i = np.arange(2 * B)
    expected = np.mean(-0.5 * (log_q[i, i] + log_q[i, (i + B) % (2 * B)]))
    got, _ = issl_training_loss("cissl", {k: jnp.asarray(v) for k, v in h.items()}, jnp.asarray(z1), jnp.asarray(z2),
                                ISSLWeights(2.3, 0.8, tau, 0.5, 1.0))
    np.testing.assert_allclose(float(got), expected, rtol=RTOL)


# ---------------------------------------------------------------------------------------------- defaults
def test_each_method_has_its_documented_defaults_and_refuses_axes_it_lacks():
    iso = TrainConfig(method="isoloss")
    spec = iso.method_spec
    assert (spec.target, spec.predictor, spec.loss) == ("ema", "directpred", "isoloss_cosine")
    assert (iso.rho, iso.predictor_eps_convention, iso.loss_scale) == (0.998, "before_power", 2.0)
    assert iso.replace(target="online").rho == 0.5                          # re-resolved without EMA
    assert iso.replace(rho=0.9, target="online").rho == 0.9
    assert TrainConfig(method="isoloss", loss="isoloss_euclidean").loss_scale == 1.0
    assert (TrainConfig().rho, TrainConfig().predictor_eps_convention) == (0.3, "after_power")
    er = TrainConfig(method="er-byol")
    assert (er.er_kappa, er.method_spec.target, er.method_spec.loss) == (10.0, "ema", "er")
    assert TrainConfig(method="dissl").n_prototypes == 256                    # digits: small data
    dissl = TrainConfig(method="dissl", dataset="cifar10", model="resnet18", data_dir="/tmp")
    assert (dissl.n_prototypes, dissl.head_hidden, dissl.widths[2]) == (16384, 2048, 0)
    assert (dissl.dissl_lambda, dissl.dissl_beta, dissl.teacher_temperature, dissl.student_temperature) == (
        2.3, 0.8, 0.5, 1.0)
    spec = dissl.method_spec
    assert (spec.target, spec.stop_gradient, spec.predictor, spec.loss) == ("online", False, "none", "dissl")
    cissl = TrainConfig(method="cissl")
    assert (cissl.cissl_temperature, cissl.n_prototypes) == (0.07, 128)
    for method in ("er-byol", "dissl", "cissl"):
        assert cissl.replace(method=method).method_attrs()["flow_mapping"].startswith("none (")
    assert iso.method_attrs()["flow_mapping"].startswith("THEORY.md §1")
    assert TrainConfig.from_json(dissl.to_json()) == dissl
    for changes, field in ((dict(method="isoloss", loss="cosine"), "loss"), (dict(method="dissl", target="ema"),
                           "target"), (dict(method="cissl", predictor="mlp"), "predictor"),
                           (dict(method="er-byol", loss="euclidean"), "loss"), (dict(n_prototypes=64), "n_prototypes"),
                           (dict(method="dissl", n_prototypes=1), "n_prototypes"),
                           (dict(method="er-byol", er_kappa=0.0), "er_kappa")):
        with pytest.raises(ConfigError, match=f"^{field} = "):
            TrainConfig(**changes)


# ---------------------------------------------------------------------------------------------- training
@pytest.mark.parametrize("settings", [
    dict(method="isoloss"),                                                    # cosine, EMA, DirectPred
    dict(method="isoloss", loss="isoloss_euclidean", target="online", predictor="directcopy"),
    dict(method="er-byol"),
    dict(method="dissl", n_prototypes=32, head_hidden=16),
    dict(method="cissl", n_prototypes=16, head_hidden=16),
], ids=["isoloss-cosine-ema", "isoloss-euclidean-online", "er-byol", "dissl", "cissl"])
def test_every_method_trains_a_tiny_epoch_and_logs_the_simulators_quantities(settings):
    config = TrainConfig(**TINY, **settings)
    log = train(config, progress=False)
    assert log.attrs["status_name"] == "ok" and np.isfinite(log.loss.values[-1])
    for name in ("eig_F", "effective_rank", "kernel_entropy", "knn_accuracy"):
        assert np.all(np.isfinite(log[name].values[-1])), name
    assert log.attrs["loss_name"] == config.method_spec.loss and log.attrs["method_family"] == config.method_family
    mapped = not log.attrs["flow_mapping"].startswith("none (")
    assert mapped == (config.method == "isoloss")
    assert log.attrs["train_rho"] == (0.998 if settings.get("target") != "online" else 0.5) or not mapped
    if config.method == "dissl":
        assert log.attrs["dissl_condition_holds"] == 1 and log.attrs["stop_gradient"] == "false"
    moved = np.abs(log.eig_F.values[-1] - log.eig_F.values[0]).max() / log.eig_F.values[0].max()
    assert moved > 1e-4                                                         # the network trained


def test_dissl_heads_are_parameters_the_optimizer_trains():
    from dynamics.bridge._parallel import replicate, shard_batch
    from dynamics.bridge._train import prepare_run

    run = prepare_run(TrainConfig(**TINY, method="dissl", n_prototypes=32, head_hidden=16))
    with jax.enable_x64(False):
        state = replicate(run.state0, run.mesh)
        before = {k: np.array(state.params["heads"][k]) for k in HEAD_KEYS}
        new, metrics = run.step_fn(state, run.data, run.labels, shard_batch(run.batch_indices(0), run.mesh), run.key)
    assert set(new.params) == {"tower", "predictor", "heads"} and np.isfinite(float(metrics["loss"]))
    for k in HEAD_KEYS:                                    # every head tensor took an SGD step
        assert np.max(np.abs(np.asarray(new.params["heads"][k]) - before[k])) > 0, k


def test_train_command_offers_the_new_methods(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--dataset", "synthetic", "--input-dim", "16", "--model", "mlp", "--batch-size", "128",
            "--synthetic-train", "256", "--synthetic-test", "128", "--feature-dim", "16", "--projector-hidden", "32",
            "--projector-dim", "8", "--probe-size", "64", "--knn-k", "10", "--no-online-probe", "--no-linear-probe",
            "--epochs", "1", "--method", "cissl", "--n-prototypes", "16", "--head-hidden", "16", "--quiet",
            "--out", str(out)]
    assert main(args) == 0
    log = read_netcdf(out / "log.nc")
    assert log.attrs["train_method"] == "cissl" and log.attrs["train_cissl_temperature"] == 0.07
    assert log.attrs["predictor"] == "none" and log.attrs["flow_mapping"].startswith("none (")
