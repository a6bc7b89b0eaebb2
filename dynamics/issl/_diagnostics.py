r"""Diagnostics of an encoder on class-structured data, THEORY.md §10 [DHEL22]: invariance
(`within_class_var`), dimension (`rank`), the simplex ETF geometry (`etf_distance`), linear probes."""

from __future__ import annotations

import numpy as np

from ..config import ConfigError
from ._data import ClassData

__all__ = ["class_codes", "within_class_var", "code_rank", "etf_distance", "simplex_etf_gram",
           "linear_probe_fit", "linear_probe_accuracy"]


def class_codes(W: np.ndarray, data: ClassData) -> np.ndarray:
    r"""The code of each class, $z_c = W\mu_c$ (C x n2): the encoder's output on the class centre,
    which is also the class mean of the codes (the noise has mean zero)."""
    return np.asarray(data.centres, np.float64) @ np.asarray(W, np.float64).T


def within_class_var(W: np.ndarray, data: ClassData) -> float:
    r"""Fraction of the code variance that lies within classes, in [0, 1] (0: invariant encoder).

    Exact for the data model: within $= \sigma^2 \|WB\|_F^2$ (expected $\|z - z_c\|^2$),
    between $= \frac1C\sum_c \|z_c - \bar z\|^2$; returns within / (within + between), NaN when
    both vanish (W = 0)."""
    W = np.asarray(W, np.float64)
    within = float(data.noise_scale) ** 2 * float(np.sum((W @ np.asarray(data.noise_basis)) ** 2))
    codes = class_codes(W, data)
    between = float(np.mean(np.sum((codes - codes.mean(0)) ** 2, axis=1)))
    total = within + between
    return within / total if total > 0 else float("nan")


def code_rank(codes: np.ndarray, rtol: float = 1e-3) -> int:
    r"""Numerical rank of the centred class codes $z_c - \bar z$: the number of singular values
    above `rtol` times the largest (0 for identical codes). Condition (iii) of [DHEL22 Thm 1]
    asks for C - 1. Returns -1 when a code is not finite."""
    centred = np.asarray(codes, np.float64) - np.mean(codes, axis=0)
    if not np.all(np.isfinite(centred)):
        return -1
    sv = np.linalg.svd(centred, compute_uv=False)
    if sv.size == 0 or sv[0] == 0:
        return 0
    return int(np.sum(sv > rtol * sv[0]))


def simplex_etf_gram(C: int) -> np.ndarray:
    r"""Cosine Gram matrix of a simplex ETF with C vertices: 1 on the diagonal, $-1/(C-1)$ off it."""
    return (C / (C - 1)) * np.eye(C) - np.ones((C, C)) / (C - 1)


def etf_distance(codes: np.ndarray) -> float:
    r"""Distance of the class codes to a simplex equiangular tight frame, THEORY.md §10 [DHEL22]:
    centre the codes ($z_c - \bar z$), normalize each to unit length, form the cosine Gram matrix
    G and return $\|G - G^*\|_F / \|G^*\|_F$ with $G^*$ = `simplex_etf_gram(C)`
    ($\|G^*\|_F^2 = C^2/(C-1)$). 0 exactly for an ETF; NaN if a centred code is zero."""
    codes = np.asarray(codes, np.float64)
    C = codes.shape[0]
    if C < 2:
        raise ConfigError("codes", f"{C} class", "etf_distance needs at least 2 classes")
    centred = codes - codes.mean(axis=0)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    if np.any(norms == 0):
        return float("nan")
    unit = centred / norms
    target = simplex_etf_gram(C)
    return float(np.linalg.norm(unit @ unit.T - target) / np.linalg.norm(target))


def linear_probe_fit(z: np.ndarray, labels: np.ndarray, n_classes: int, ridge: float = 1e-8
                     ) -> np.ndarray:
    r"""Least-squares linear probe with bias on frozen codes: $\arg\min_V \|[z, 1] V - Y\|^2 +
    \epsilon\|V\|^2$ with one-hot targets Y (n x C); solved by `lstsq` on the ridge-augmented
    system, so rank-deficient codes are fine. Returns V ((n2 + 1) x C); predict with
    argmax of $[z, 1] V$."""
    z = np.asarray(z, np.float64)
    n = z.shape[0]
    features = np.hstack([z, np.ones((n, 1))])
    Y = np.eye(n_classes)[np.asarray(labels)]
    if ridge > 0:
        features = np.vstack([features, np.sqrt(ridge) * np.eye(features.shape[1])])
        Y = np.vstack([Y, np.zeros((features.shape[1], n_classes))])
    return np.linalg.lstsq(features, Y, rcond=None)[0]


def linear_probe_accuracy(z_train: np.ndarray, y_train: np.ndarray, z_test: np.ndarray, y_test: np.ndarray,
                          n_classes: int | None = None, ridge: float = 1e-8) -> float:
    r"""Accuracy on (`z_test`, `y_test`) of the least-squares probe (`linear_probe_fit`) trained on
    (`z_train`, `y_train`). Labels are integers in [0, n_classes); any task that is a function of
    the class (e.g. a binary relabeling of the classes) is a valid label vector."""
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if n_classes is None:
        n_classes = int(max(y_train.max(), y_test.max())) + 1
    V = linear_probe_fit(z_train, y_train, n_classes, ridge)
    z_test = np.asarray(z_test, np.float64)
    pred = np.argmax(np.hstack([z_test, np.ones((z_test.shape[0], 1))]) @ V, axis=1)
    return float(np.mean(pred == y_test))
