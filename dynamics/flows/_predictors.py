r"""Closed-form predictors: Wp as a function of second-moment statistics, THEORY.md §6-§8.

Each predictor is named by what it computes. With $F = W X W^T$ (clean-data correlation of the
online output), $C = W (X + X') W^T$ (correlation of the predictor's input over both augmented
views, the expectation of T19's batch statistic) and $C_{to} = W_a X W^T$ (target-online
cross-correlation), and the eigenvalues $c_j$ of $C$ (or $f_j$ of $F$):

| name | Wp | reference |
|---|---|---|
| `power` | $(F)^\alpha$, unnormalized, from the clean-data correlation | (T21) [HLZ23] |
| `power_normalized` | $U\,\mathrm{diag}((c_j / \max_k c_k)^\alpha + \epsilon)\,U^T$ | §6 generalized power |
| `directpred` | the same with $\alpha = 1/2$ | (T20) [TCG21] |
| `directcopy` | $C / \|C\|_2 + \epsilon I$ ($\|\cdot\|_2$ = top eigenvalue of the PSD C) | §6 DirectCopy |
| `ridge_lstsq` | $C_{to} (C + \epsilon I)^{+}$ = argmin $E\|W_p z_1 - z_2\|^2 + \epsilon\|W_p\|_F^2$ | (T26) |
| `soft_projector` | $C (C + \epsilon I)^{+}$ | §8 |
| `inverse_sqrt` | $(C + \epsilon I)^{-1/2}$ (pseudo-inverse on the null space) | §8 symmetric orthonormalization |

The power family (`power`, `power_normalized`, `directpred`, `directcopy`) adds $\epsilon$
`"after_power"` ($v^\alpha + \epsilon$, T20 and [TCG21] code) or `"before_power"`
($(v + \epsilon)^\alpha$, [HLZ23] code), with $v$ the (normalized) eigenvalue; negative round-off
eigenvalues are clipped to 0 first. `ridge_lstsq` is written in T1's column convention,
$p = W_p z_1$ (samples as columns), so it is $C_{to} C_{oo}^{-1}$, the transpose of T26's
samples-as-rows form. Its exact form ($\epsilon = 0$) uses the pseudo-inverse.

Everything here is a plain function of the statistics: the flows call it at every evaluation of
the vector field and never differentiate the loss through it (the predictor enters the loss as a
constant, THEORY.md §7: "no gradient through it").
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, Float

from ..config import CLOSED_FORM_PREDICTORS, FIXED_PREDICTOR_ALPHA, POWER_PREDICTORS

__all__ = ["CLOSED_FORM_PREDICTORS", "PredictorStatistics", "expected_statistics", "feature_statistics", "sample_statistics",
           "closed_form_predictor", "mode_closed_form_predictor", "spectral_predictor"]


class PredictorStatistics(NamedTuple):
    """Second moments that the closed forms read (each n2 x n2).

    - `F`: $W X W^T$, clean-data correlation of the online output (T21's $W W^T$ under A2).
    - `C`: $W (X + X') W^T$, correlation of the predictor input over augmented views (T19).
    - `Cto`: $W_a X W^T = E[z_2 z_1^T]$, target-online cross-correlation (T26).
    """

    F: Float[Array, "n2 n2"]
    C: Float[Array, "n2 n2"]
    Cto: Float[Array, "n2 n2"]


def _sym(A: Array) -> Array:
    return 0.5 * (A + A.T)


def expected_statistics(W: Array, Wa: Array, X: Array, XS: Array) -> PredictorStatistics:
    r"""The statistics in expectation: $F = W X W^T$, $C = W (X+X') W^T$, $C_{to} = W_a X W^T$."""
    return PredictorStatistics(_sym(W @ X @ W.T), _sym(W @ XS @ W.T), Wa @ X @ W.T)


def feature_statistics(z1: Float[Array, "b n2"], z2: Float[Array, "b n2"], za: Float[Array, "b n2"]
                       ) -> PredictorStatistics:
    r"""The statistics as means over rows (samples): online outputs of the first views `z1`, of the
    second views `z2`, and target outputs of the second views `za`:
    $F = \mathrm{sym}(\overline{z_1 z_2^T})$, $C = \mathrm{sym}(\overline{z_1 z_1^T})$,
    $C_{to} = \overline{z_a z_1^T}$. The linear simulator (`sample_statistics`) and the training
    bridge (features of a network) both call this."""
    n = z1.shape[0]
    return PredictorStatistics(_sym(z1.T @ z2) / n, _sym(z1.T @ z1) / n, za.T @ z1 / n)


def sample_statistics(W: Array, Wa: Array, x1: Float[Array, "b n1"], x2: Float[Array, "b n1"]
                      ) -> PredictorStatistics:
    r"""The statistics as means over view pairs (rows): $C = \overline{z_1 z_1^T}$ with $z = W x$,
    $F = \mathrm{sym}(\overline{z_1 z_2^T})$, $C_{to} = \overline{(W_a x_2)(W x_1)^T}$
    (`feature_statistics` of $z_1 = W x_1$, $z_2 = W x_2$, $z_a = W_a x_2$).

    With the pairs in both orders (as `expectation="sampled"` and T19 use them) $C$ averages both
    views; its expectation is $W(X+X')W^T$, that of $F$ is $W X W^T$ and that of $C_{to}$ is $W_a X W^T$.
    """
    return feature_statistics(x1 @ W.T, x2 @ W.T, x2 @ Wa.T)


def _cutoff(values: Array) -> Array:
    """Pseudo-inverse threshold: n * machine epsilon * the largest |value| over the last axis (numpy's
    `pinv` rule)."""
    scale = jnp.max(jnp.abs(values), axis=-1, keepdims=True)
    return values.shape[-1] * jnp.finfo(values.dtype).eps * scale


def _pinv_values(values: Array) -> Array:
    keep = values > _cutoff(values)
    return jnp.where(keep, 1.0 / jnp.where(keep, values, 1.0), 0.0)


def spectral_predictor(kind: str, values: Float[Array, " m"], alpha: Array, eps: Array,
                       eps_convention: str = "after_power") -> Float[Array, " m"]:
    r"""The predictor's eigenvalues as a function of the statistic's eigenvalues `values` ($f_j$
    for `power`, $c_j$ otherwise; not used by `ridge_lstsq`), on the last axis (leading axes are
    batch axes). See the module table; `directpred`
    and `directcopy` use their own power (1/2, 1) whatever `alpha` says."""
    v = jnp.clip(values, 0.0, None)
    alpha = FIXED_PREDICTOR_ALPHA.get(kind, alpha)
    if kind in POWER_PREDICTORS:
        if kind != "power":
            v = v / jnp.maximum(jnp.max(v, axis=-1, keepdims=True), jnp.finfo(v.dtype).tiny)
        if eps_convention == "before_power":
            return (v + eps) ** alpha
        return v**alpha + eps
    if kind == "soft_projector":
        return v * _pinv_values(v + eps)
    if kind == "inverse_sqrt":
        return jnp.sqrt(_pinv_values(v + eps))
    raise ValueError(f"predictor = {kind!r}: not a spectral closed form")


def _from_eigh(A: Array, fn) -> Array:
    vals, vecs = jnp.linalg.eigh(_sym(A))
    return (vecs * fn(vals)) @ vecs.T


def closed_form_predictor(kind: str, stats: PredictorStatistics, alpha: Array, eps: Array,
                          eps_convention: str = "after_power") -> Float[Array, "n2 n2"]:
    r"""Wp of the closed form `kind` (module table) from `stats` (a `PredictorStatistics`).

    **Arguments:** `kind`, one of `CLOSED_FORM_PREDICTORS`; `alpha` the power (`power` and
    `power_normalized` only: `directpred` and `directcopy` fix it at 1/2 and 1); `eps` >= 0;
    `eps_convention` "after_power" or "before_power".

    **Returns:** the n2 x n2 predictor (symmetric except for `ridge_lstsq` with an EMA target).
    """
    if kind not in CLOSED_FORM_PREDICTORS:
        raise ValueError(f"predictor = {kind!r}: must be one of {', '.join(CLOSED_FORM_PREDICTORS)}")
    if kind == "power":
        return _from_eigh(stats.F, lambda v: spectral_predictor(kind, v, alpha, eps, eps_convention))
    if kind == "directcopy" and eps_convention == "after_power":
        # No eigendecomposition of the matrix itself: C / ||C||_2 + eps I (||C||_2 = top eigenvalue).
        top = jnp.maximum(jnp.max(jnp.linalg.eigvalsh(stats.C)), jnp.finfo(stats.C.dtype).tiny)
        eye = jnp.eye(stats.C.shape[0], dtype=stats.C.dtype)
        return _sym(stats.C) / top + eps * eye
    if kind == "ridge_lstsq":
        eye = jnp.eye(stats.C.shape[0], dtype=stats.C.dtype)
        return stats.Cto @ _from_eigh(stats.C + eps * eye, _pinv_values)
    return _from_eigh(stats.C, lambda v: spectral_predictor(kind, v, alpha, eps, eps_convention))


def mode_closed_form_predictor(kind: str, f: Float[Array, " m"], c: Float[Array, " m"],
                               cto: Float[Array, " m"], alpha: Array, eps: Array,
                               eps_convention: str = "after_power") -> Float[Array, " m"]:
    r"""The eigenmode form of `closed_form_predictor`: per-mode $f_j = \lambda_{d,j} w_j^2$,
    $c_j = \lambda_{s,j} w_j^2$, $c_{to,j} = \lambda_{d,j} w_{a,j} w_j$ in, predictor eigenvalues
    $p_j$ out (normalizations take the maximum over the modes given)."""
    if kind not in CLOSED_FORM_PREDICTORS:
        raise ValueError(f"predictor = {kind!r}: must be one of {', '.join(CLOSED_FORM_PREDICTORS)}")
    if kind == "power":
        return spectral_predictor(kind, f, alpha, eps, eps_convention)
    if kind == "ridge_lstsq":
        return cto * _pinv_values(jnp.clip(c, 0.0, None) + eps)
    return spectral_predictor(kind, c, alpha, eps, eps_convention)
