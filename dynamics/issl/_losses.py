r"""The DISSL (T29) and CISSL objectives on the codes of two views, THEORY.md §10 [DHEL22]."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..objectives import batch_mean_entropy, normalize_rows
from ._model import ISSLParams, student_logits, teacher_logits
from ._settings import ISSLWeights

__all__ = ["dissl_loss", "cissl_loss", "issl_loss"]


def _cross_entropy(p: Array, log_q: Array) -> Array:
    return jnp.mean(-jnp.sum(p * log_q, axis=-1))


def dissl_loss(params: ISSLParams, z1: Float[Array, "B n2"], z2: Float[Array, "B n2"],
               weights: ISSLWeights) -> tuple[Float[Array, ""], dict[str, Array]]:
    r"""DISSL, THEORY.md (T29) [DHEL22 Sec. 5]: with teacher $t_v = \mathrm{softmax}(\mathrm{MLP}(z_v)/T_t)$
    and student $s_v = \mathrm{softmax}((Az_v + b)/T_s)$ for the views $v \in \{1, 2\}$,

    $$L = \mathrm{CE}(t_v, s_{v'}) - \lambda\, H\big(\tfrac1B\textstyle\sum_b t_{v,b}\big)
          + \beta\, \mathrm{CE}(t_v, t_{v'}),$$

    each term averaged over the batch and over the view orders ($v \ne v'$), no stop-gradient and no
    EMA. `weights` (an `ISSLWeights`, e.g. `ISSLSettings.weights()`) holds
    $\lambda$ = `lambda_maximality`, $\beta$ = `beta_det_inv`, $T_t$ = `temperature_teacher` and
    $T_s$ = `temperature_student`.

    **Returns:** the loss and a dict of its parts: `distillation` (first CE), `marginal_entropy`
    ($H$ of the batch-mean teacher, averaged over views), `det_inv` (second CE).
    """
    B = z1.shape[0]
    z = jnp.concatenate([z1, z2], axis=0)  # both views through each head at once
    log_t = jax.nn.log_softmax(teacher_logits(params, z) / weights.temperature_teacher)
    log_s = jax.nn.log_softmax(student_logits(params, z) / weights.temperature_student)
    t = jnp.exp(log_t)
    other = jnp.concatenate([jnp.arange(B, 2 * B), jnp.arange(B)])  # row of the other view
    distill = _cross_entropy(t, log_s[other])  # = mean over the two view orders
    det_inv = _cross_entropy(t, log_t[other])
    marginal = 0.5 * (batch_mean_entropy(t[:B]) + batch_mean_entropy(t[B:]))
    loss = distill - weights.lambda_maximality * marginal + weights.beta_det_inv * det_inv
    return loss, {"distillation": distill, "marginal_entropy": marginal, "det_inv": det_inv}


def cissl_loss(params: ISSLParams, z1: Float[Array, "B n2"], z2: Float[Array, "B n2"],
               weights: ISSLWeights) -> tuple[Float[Array, ""], dict[str, Array]]:
    r"""CISSL, THEORY.md §10 [DHEL22 Sec. 5]: contrastive with asymmetric heads. Stack the views,
    $z = [z_1; z_2]$ (2B rows); logits $\ell_{ij} = \hat s_i^T \hat t_j / \tau$ with the student
    $\hat s_i$ = unit-normalized $Az_i + b$ (linear) and the teacher $\hat t_j$ = unit-normalized
    MLP$(z_j)$, over all 2B columns (the self-pair $j = i$ kept); the target puts $\tfrac12$ on
    the self-pair and $\tfrac12$ on the other view of the same sample:

    $$L = \frac{1}{2B}\sum_i -\tfrac12\big[\log q_{i,i} + \log q_{i,\mathrm{pos}(i)}\big],
      \quad q_i = \mathrm{softmax}_j(\ell_{ij}).$$

    $\tau$ = `temperature`. (The [DHEL22] code also batch-normalizes the head outputs; omitted here.)

    **Returns:** the loss and `{"positive_logit": mean of the two target logits}`.
    """
    z = jnp.concatenate([z1, z2], axis=0)
    B = z1.shape[0]
    s = normalize_rows(student_logits(params, z))
    t = normalize_rows(teacher_logits(params, z))
    logits = s @ t.T / weights.temperature
    log_q = jax.nn.log_softmax(logits, axis=-1)
    idx = jnp.arange(2 * B)
    pos = (idx + B) % (2 * B)
    loss = jnp.mean(-0.5 * (log_q[idx, idx] + log_q[idx, pos]))
    return loss, {"positive_logit": jnp.mean(0.5 * (logits[idx, idx] + logits[idx, pos]))}


def issl_loss(params: ISSLParams, z1: Array, z2: Array, weights: ISSLWeights, objective: str = "dissl"
              ) -> tuple[Array, dict[str, Array]]:
    """`dissl_loss` or `cissl_loss`, by `objective` ("dissl" or "cissl")."""
    if objective == "dissl":
        return dissl_loss(params, z1, z2, weights)
    return cissl_loss(params, z1, z2, weights)
