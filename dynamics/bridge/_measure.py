r"""What a training run logs, under the simulator's names (the bridge to the theory).

On a fixed probe set (`probe_size` inputs, `probe_views` fixed augmentations of each, the same at every
logging step) the online tower's predictor inputs $f_a$ (view a) and the target's $g_a$ give

- $\hat F = \mathrm{sym}\,\overline{f_a f_b^T}$ over pairs of different views $a \ne b$: the correlation
  of the augmentation-averaged representation, whose expectation for a linear network is
  $W X W^T$, the simulator's F (T8); `eig_F` are its eigenvalues (descending) and $u_j$ its eigenvectors;
- $\hat C = \overline{f_a f_a^T}$ (same view; $W(X+X')W^T$ for a linear network): `eig_C` $= u_j^T \hat C u_j$,
  so `eig_C / eig_F` estimates $\lambda_s / \lambda_d$ per mode (T13b);
- `tau` $= u_j^T \overline{g_b f_a^T} u_j / $ `eig_F`$_j$ (the simulator's per-mode target ratio);
- the predictor's matrix $W_p$ (linear and closed-form predictors; for an MLP predictor its least-squares
  linear fit on the probe set, $W_p = \overline{p f^T}(\hat C + \delta I)^{-1}$ with a tiny ridge $\delta$):
  `eig_Wp` (eigenvalues of its symmetric part), `p` $= u_j^T W_p u_j$, `commutator` $\|[\hat F, W_p]\|_F$ (Theorem 3), `commutator_relative` (divided by
  $\|\hat F\|_F \|W_p\|_F$) and `alignment` $= \|\mathrm{diag}(U^T W_s U)\|^2 / \|W_s\|_F^2$ with
  $W_s$ the symmetric part (1 when $W_p$ is diagonal in F's eigenbasis, about 1/d for a random one);
- `balance_residual` (T6) for the layer feeding the predictor, $\tilde W = [W\ b]$:
  $\|\tilde W\tilde W^T - \alpha_p^{-1} W_p^T W_p - e^{-2\eta t} G(0)\|_F / \|\tilde W(0)\tilde W(0)^T\|_F$
  (meaningful for a trained linear predictor with the decay of Theorem 1);
- `eig_F_initial_basis` $= u_j(0)^T \hat F u_j(0)$: each initial mode followed in time (the eigenmode
  model keeps the eigenvectors fixed, T11-T13), which `compare` ranks against its prediction;
- `effective_rank` and `participation_ratio` of `eig_F` (the simulator's functions), and
  `kernel_entropy`, the vMF kernel entropy (T28, kappa = 10) of the normalized $f$ of the first view.

BatchNorm runs in training mode on the probe batch (the statistics the predictor sees in training),
and its updated running averages are discarded. Evaluation: weighted kNN (k = 200, T = 0.1) on
L2-normalized encoder features of clean inputs, the online probe's test accuracy, and at the end an
offline logistic-regression probe on frozen features (scikit-learn).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..objectives import kernel_entropy
from ..results import commutator_norm, effective_rank, participation_ratio
from ._networks import Networks, TrainState, last_layer, predictor_apply, predictor_matrix, tower_apply

__all__ = ["make_measure", "spectral_row", "make_features", "all_features", "knn_accuracy", "probe_accuracy",
           "linear_probe", "balance_residual",
           "ENTROPY_POINTS", "KERNEL_KAPPA"]

#: Points of the kernel-entropy estimate (T28) and its kappa (the simulator's settings).
ENTROPY_POINTS = 512
KERNEL_KAPPA = 10.0


def make_measure(nets: Networks, target: str) -> Callable[[TrainState, jax.Array], dict[str, jax.Array]]:
    """A jitted `measure(state, probe_views) -> dict` of the probe-set matrices (see the module text)."""

    def measure(state: TrainState, views: jax.Array) -> dict[str, jax.Array]:
        n_views = views.shape[0]
        fs, gs = [], []
        for a in range(n_views):
            (_, f), _ = tower_apply(nets.tower_graph, state.params["tower"], state.stats["tower"], views[a])
            fs.append(f)
            if target == "ema":
                (_, g), _ = tower_apply(nets.tower_graph, state.target_params, state.target_stats, views[a])
                gs.append(g)
            else:
                gs.append(f)
        n = fs[0].shape[0]
        pairs = [(a, b) for a in range(n_views) for b in range(n_views) if a != b]
        F = sum(fs[a].T @ fs[b] for a, b in pairs) / (n * len(pairs))
        C = sum(f.T @ f for f in fs) / (n * n_views)
        Cta = sum(gs[b].T @ fs[a] for a, b in pairs) / (n * len(pairs))
        Wp = predictor_matrix(nets, state.params, state.Wp)
        if Wp is None:  # an MLP predictor: its least-squares linear fit on the probe set
            preds = [predictor_apply(nets, state.params["predictor"], state.stats["predictor"], state.Wp, f)[0]
                     for f in fs]
            Cpf = sum(p.T @ f for p, f in zip(preds, fs)) / (n * n_views)
            ridge = 1e-6 * jnp.trace(C) / C.shape[0] + 1e-12
            Wp = jnp.linalg.solve(C + ridge * jnp.eye(C.shape[0]), Cpf.T).T
        Wlast = last_layer(state.params, nets)
        out = {"F": 0.5 * (F + F.T), "C": 0.5 * (C + C.T), "Cta": Cta,
               "entropy": kernel_entropy(fs[0][:ENTROPY_POINTS], KERNEL_KAPPA)}
        if Wp is not None:
            out["Wp"] = Wp
        if Wlast is not None:
            out["G"] = Wlast @ Wlast.T
        return out

    return jax.jit(measure)


def spectral_row(m: dict[str, np.ndarray], alpha_p: float, balance: bool = True,
                 U0: np.ndarray | None = None) -> dict[str, Any]:
    """Host-side spectra and diagnostics of one `measure` result (numpy, float64); `balance`: whether
    Theorem 1's Gram difference applies (a trained linear predictor); `U0`: the eigenvectors of the
    first row's F^ (None: this is the first row), for `eig_F_initial_basis`. The row's eigenvectors
    are returned as `U`."""
    F = np.asarray(m["F"], np.float64)
    if not all(np.all(np.isfinite(np.asarray(v))) for v in m.values()):
        return _nonfinite_row(m, U0)
    s, U = np.linalg.eigh(F)
    s, U = s[::-1], U[:, ::-1]
    U0 = U if U0 is None else U0
    row: dict[str, Any] = {"eig_F": s, "eig_C": np.einsum("ij,ik,kj->j", U, np.asarray(m["C"], np.float64), U),
                           "eig_F_initial_basis": np.einsum("ij,ik,kj->j", U0, F, U0), "U": U}
    cross = np.einsum("ij,ik,kj->j", U, np.asarray(m["Cta"], np.float64), U)
    smax = max(float(np.max(np.abs(s))), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        row["tau"] = np.where(s > 1e-8 * smax, cross / s, np.nan)
    row["effective_rank"] = float(effective_rank(s))
    row["participation_ratio"] = float(participation_ratio(s))
    row["kernel_entropy"] = float(m["entropy"])
    if "Wp" in m:
        Wp = np.asarray(m["Wp"], np.float64)
        sym = 0.5 * (Wp + Wp.T)
        row["eig_Wp"] = np.linalg.eigvalsh(sym)[::-1]
        row["p"] = np.einsum("ij,ik,kj->j", U, Wp, U)
        comm = float(commutator_norm(F, Wp))
        row["commutator"] = comm
        row["commutator_relative"] = comm / max(np.linalg.norm(F) * np.linalg.norm(Wp), 1e-300)
        diag = np.einsum("ij,ik,kj->j", U, sym, U)
        row["alignment"] = float(np.sum(diag**2) / max(np.sum(sym**2), 1e-300))
        if "G" in m and balance:
            G = np.asarray(m["G"], np.float64)
            row["balance_gram"] = G - Wp.T @ Wp / alpha_p
            row["balance_ref"] = float(np.linalg.norm(G))
    return row


def _nonfinite_row(m: dict[str, np.ndarray], U0: np.ndarray | None) -> dict[str, Any]:
    """The row of a measurement with a non-finite entry (a diverged network): every quantity NaN, so that
    the caller marks the run `nonfinite` instead of failing inside an eigensolver."""
    d = np.asarray(m["F"]).shape[0]
    nan_vec = np.full(d, np.nan)
    row: dict[str, Any] = {"eig_F": nan_vec, "eig_C": nan_vec, "eig_F_initial_basis": nan_vec, "tau": nan_vec,
                           "U": np.eye(d) if U0 is None else U0, "effective_rank": math.nan,
                           "participation_ratio": math.nan, "kernel_entropy": math.nan}
    if "Wp" in m:
        row.update(eig_Wp=nan_vec, p=nan_vec, commutator=math.nan, commutator_relative=math.nan, alignment=math.nan)
    return row


def make_features(nets: Networks, clean: Callable[[jax.Array], jax.Array]) -> Callable[..., jax.Array]:
    """A jitted `features(state, x) -> h`: encoder features of clean inputs (BatchNorm on its running
    averages; `clean` turns stored inputs into normalized network inputs)."""

    def features(state: TrainState, x: jax.Array) -> jax.Array:
        (h, _), _ = tower_apply(nets.tower_eval_graph, state.params["tower"], state.stats["tower"], clean(x))
        return h

    return jax.jit(features)


def all_features(features: Callable, state: TrainState, x: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Features of every row of `x` in chunks (the last chunk padded, so one shape compiles)."""
    out = []
    for start in range(0, len(x), chunk):
        part = x[start:start + chunk]
        pad = chunk - len(part) if len(x) > chunk else 0
        if pad:
            part = np.concatenate([part, np.repeat(part[-1:], pad, axis=0)])
        out.append(np.asarray(features(state, jnp.asarray(part)))[:chunk - pad])
    return np.concatenate(out).astype(np.float32)


@partial(jax.jit, static_argnames=("k", "temperature"))
def _knn_scores(bank: jax.Array, bank_onehot: jax.Array, query: jax.Array, k: int, temperature: float):
    sims = query @ bank.T
    top, idx = jax.lax.top_k(sims, k)
    weights = jnp.exp(top / temperature)
    return jnp.einsum("qk,qkc->qc", weights, bank_onehot[idx])


def knn_accuracy(bank: np.ndarray, bank_y: np.ndarray, query: np.ndarray, query_y: np.ndarray, num_classes: int,
                 k: int = 200, temperature: float = 0.1) -> float:
    r"""Weighted kNN accuracy on L2-normalized features: each of the k most cosine-similar bank points votes
    for its class with weight $\exp(\mathrm{sim}/T)$ (the protocol of Wu et al. 2018, used by lightly)."""
    def normalize(z):
        return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)

    bank_n, query_n = normalize(np.asarray(bank, np.float32)), normalize(np.asarray(query, np.float32))
    k = min(k, len(bank_n))
    onehot = np.eye(num_classes, dtype=np.float32)[bank_y]
    correct = 0
    for start in range(0, len(query_n), 1024):
        scores = _knn_scores(jnp.asarray(bank_n), jnp.asarray(onehot), jnp.asarray(query_n[start:start + 1024]), k,
                             temperature)
        correct += int(np.sum(np.argmax(np.asarray(scores), 1) == query_y[start:start + 1024]))
    return correct / len(query_n)


def probe_accuracy(probe: dict, h: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the online linear probe on features `h`."""
    logits = h @ np.asarray(probe["kernel"]) + np.asarray(probe["bias"])
    return float(np.mean(np.argmax(logits, 1) == y))


def linear_probe(train_h: np.ndarray, train_y: np.ndarray, test_h: np.ndarray, test_y: np.ndarray,
                 seed: int = 0) -> float:
    """Test accuracy of a logistic-regression probe on standardized frozen features (scikit-learn
    `LogisticRegression`, lbfgs, C = 1, up to 2000 iterations; the DirectPred code's protocol)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_h)
    clf = LogisticRegression(max_iter=2000, random_state=seed)
    with np.errstate(all="ignore"):
        clf.fit(scaler.transform(train_h), train_y)
        return float(clf.score(scaler.transform(test_h), test_y))


def balance_residual(grams: list[np.ndarray | None], times: np.ndarray, eta: float, ref: float) -> np.ndarray:
    r"""(T6) residual over the logged times from the Gram matrices $G(t) = \tilde W\tilde W^T -
    \alpha_p^{-1} W_p^T W_p$ of `spectral_row`: $\|G(t) - e^{-2\eta t} G(0)\|_F / $ `ref`, with `ref` =
    $\|\tilde W(0)\tilde W(0)^T\|_F$ (the simulator's normalization). NaN where not defined."""
    if not grams or grams[0] is None:
        return np.full(len(times), np.nan)
    g0 = grams[0]
    ref = max(float(ref), 1e-300)
    return np.asarray([np.linalg.norm(g - math.exp(-2.0 * eta * t) * g0) / ref if g is not None else np.nan
                       for g, t in zip(grams, times)])
