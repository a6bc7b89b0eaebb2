r"""Worst-case risk of linear probes trained on n labels, by simulation, THEORY.md §10 Prop. 2
[DHEL22]: for a sample-optimal (idealized) encoder it is $(1 - 1/C)^n$."""

from __future__ import annotations

import itertools

import jax
import numpy as np
from jaxtyping import Array

from ..config import ConfigError

__all__ = ["worst_case_risk"]


def worst_case_risk(codes: np.ndarray, n_labels: int, *, key: Array, n_trials: int = 2000,
                    ridge: float = 1e-10) -> tuple[float, float]:
    r"""Monte Carlo estimate of the worst-case 0-1 risk over binary invariant tasks of a
    least-squares linear probe (with bias) trained on `n_labels` samples, THEORY.md §10 Prop. 2.

    Model: classes are uniform over C; an invariant encoder maps every input of class c to
    `codes[c]`. Each trial draws the classes of the n labelled samples; a task is a labeling
    $y \in \{0, 1\}^C$ of the classes. The probe is fitted to $\pm 1$ targets on the seen classes'
    codes and predicts by sign; the adversary labels every unseen class against the probe's
    prediction and picks the labeling of the seen classes (all $2^{s}$ are enumerated) that
    maximizes the errors, so the trial's risk is
    $\max_y \frac1C \#\{c : \mathrm{probe}_y(z_c) \ne y_c\}$. For codes on which every labeling
    of the seen classes is linearly realizable (affinely independent codes, e.g. a simplex ETF)
    only unseen classes are missed and the expectation is $(1 - 1/C)^n$.

    **Arguments:** `codes` (C x n2 class codes), `n_labels` (n >= 1), `key` (keyword-only; draws
    the classes), `n_trials`, `ridge` (tiny ridge on the probe, for rank-deficient designs).

    **Returns:** (mean risk, standard error of the mean) over the trials.

    **Raises:** `ConfigError` naming `n_labels`, `n_trials` or `codes`.
    """
    codes = np.asarray(codes, np.float64)
    C, n2 = codes.shape
    if C < 2 or C > 16:
        raise ConfigError("codes", f"{C} classes", "worst_case_risk enumerates labelings: needs 2 <= C <= 16")
    for name, value in (("n_labels", n_labels), ("n_trials", n_trials)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(name, value, "must be an integer >= 1")
    draws = np.asarray(jax.random.randint(key, (n_trials, n_labels), 0, C))
    features = np.hstack([codes, np.ones((C, 1))])
    risks = np.empty(n_trials)
    cache: dict[tuple[int, ...], float] = {}
    for t in range(n_trials):
        multiset = tuple(sorted(draws[t].tolist()))  # the probe depends on the draws only through it
        seen = tuple(sorted(set(multiset)))
        if multiset not in cache:
            cache[multiset] = _worst_seen_errors(features, np.asarray(multiset), seen, ridge)
        risks[t] = (cache[multiset] + (C - len(seen))) / C
    return float(risks.mean()), float(risks.std(ddof=1) / np.sqrt(n_trials)) if n_trials > 1 else 0.0


def _worst_seen_errors(features: np.ndarray, draw: np.ndarray, seen: tuple[int, ...], ridge: float) -> float:
    """Largest number of seen classes that the probe misclassifies, over their labelings."""
    X = features[draw]  # n x (n2 + 1): one row per labelled sample
    A = X.T @ X + ridge * np.eye(X.shape[1])
    index = {c: i for i, c in enumerate(seen)}
    labelings = np.array(list(itertools.product((-1.0, 1.0), repeat=len(seen))))  # L x s
    Y = labelings[:, [index[c] for c in draw]]  # L x n targets
    V = np.linalg.solve(A, X.T @ Y.T)  # (n2 + 1) x L
    pred = features[list(seen)] @ V  # s x L
    wrong = np.sign(pred) != labelings.T
    return float(wrong.sum(axis=0).max())
