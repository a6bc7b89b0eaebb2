r"""Losses of the linear model and their expected gradients, THEORY.md (T1), §7 (T22)-(T25).

Per sample, with prediction $p = W_p z_1$, $z_1 = W x_1$ and target $z_2 = W_a x_2$:

- Euclidean (T1): $\ell = \tfrac12 \|p - z_2\|^2$;
- cosine (§7): $\ell = -p^T z_2 / (\|p\| \|z_2\|)$ (no factor 2: BYOL's $2 - 2\cos$ is twice this,
  so its flow is twice ours in time);
- IsoLoss of either (§7): the online output receives $\partial\ell/\partial p$ instead of
  $W_p^T \partial\ell/\partial p$. It is realized as a stop-gradient target,
  $L_{iso} = \tfrac12 \|z_1 - \mathrm{sg}(z_1 - \partial\ell/\partial p)\|^2$, so that
  $\partial L_{iso}/\partial z_1 = \partial\ell/\partial p$; for the Euclidean loss the target is
  THEORY's $z_2 - (W_p - I) z_1$ and $L_{iso} = \ell$ in value.

Three ways to form the expected flow (the `expectation` setting):

- exact (Euclidean losses; in `_full.py` / `_modes.py`): closed-form moments;
- `sampled_descent`: autodiff of the loss averaged over a fixed sample of view pairs;
- `mean_field_descent`: the cosine loss with $\|p\|$, $\|z_2\|$ replaced by their root-mean-square
  values and $E[(p^T z_2)\, p]$ by $E[p^T z_2]\, E[p]$; under A2 with the power predictor of (T21) and
  $W_a = W$ this is (T25) (and conserves tr(W W^T), T24).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._state import GradientPath

__all__ = ["COSINE_NORM_FLOOR", "euclidean_sample_loss", "cosine_sample_loss", "SAMPLE_LOSSES", "isoloss_target",
           "isoloss",
           "sampled_objective", "sampled_descent", "mean_field_descent"]


def euclidean_sample_loss(p: Float[Array, "b n2"], z2: Float[Array, "b n2"]) -> Float[Array, " b"]:
    r"""(T1) per sample: $\tfrac12 \|p - z_2\|^2$ (rows are samples)."""
    d = p - z2
    return 0.5 * jnp.sum(d * d, axis=-1)


#: Relative floor of the norms in `cosine_sample_loss` (our regularization, not from a paper).
COSINE_NORM_FLOOR = 1e-2


def _floored_norm(v: Array, floor: float) -> Array:
    mean_sq = jnp.mean(jnp.sum(v * v, axis=-1))
    return jnp.sqrt(jnp.sum(v * v, axis=-1) + floor**2 * mean_sq)


def cosine_sample_loss(p: Float[Array, "b n2"], z2: Float[Array, "b n2"], floor: float = COSINE_NORM_FLOOR
                       ) -> Float[Array, " b"]:
    r"""§7 per sample: $-p^T z_2 / (\|p\|_\delta \|z_2\|_\delta)$ (rows are samples), with the
    floored norm $\|v\|_\delta = (\|v\|^2 + \delta^2\, \overline{\|v\|^2})^{1/2}$, $\delta$ = `floor`
    times the root-mean-square norm over the rows (default `COSINE_NORM_FLOOR` = 1e-2; `floor=0` is
    the plain cosine).

    Why the floor: a finite sample has rows with $p \approx 0$ (inputs near the null space of W when
    n1 > n2), where the plain cosine's gradient ~ $1/\|p\|$ turns the sampled flow singular and an
    adaptive solver stalls. The floor is scale-covariant, so the loss stays of degree 0 in p (and in
    z2) as a whole: its gradient is still orthogonal to the online weights, the Euler identity
    behind (T24), and tr(W W^T) is conserved exactly. It changes the expected flow only through
    the rows with $\|p\| \lesssim \delta$ (a fraction ~ $\delta^{n_2}$ of a Gaussian sample).
    """
    dot = jnp.sum(p * z2, axis=-1)
    return -dot / (_floored_norm(p, floor) * _floored_norm(z2, floor))


#: Per-sample base losses by name.
SAMPLE_LOSSES: dict[str, Callable[[Array, Array], Array]] = {
    "euclidean": euclidean_sample_loss,
    "cosine": cosine_sample_loss,
}


def isoloss_target(base: str, z1: Float[Array, "b n2"], z2: Float[Array, "b n2"], Wp: Float[Array, "n2 n2"]
                   ) -> Float[Array, "b n2"]:
    r"""The IsoLoss target $t = z_1 - \partial\ell/\partial p$ at $p = W_p z_1$ (§7).

    Euclidean: $t = z_2 - (W_p - I) z_1$ (THEORY's form, written out). Cosine: by autodiff of the
    per-sample loss with respect to p. Rows are samples."""
    if base == "euclidean":
        eye = jnp.eye(Wp.shape[0], dtype=Wp.dtype)
        return z2 - z1 @ (Wp - eye).T
    loss = SAMPLE_LOSSES[base]
    grad_p = jax.grad(lambda p: jnp.sum(loss(p, z2)))(z1 @ Wp.T)
    return z1 - grad_p


def isoloss(base: str, z1: Float[Array, "b n2"], z2: Float[Array, "b n2"], Wp: Float[Array, "n2 n2"]
            ) -> Float[Array, " b"]:
    r"""IsoLoss per sample, $L_{iso} = \tfrac12 \|z_1 - \mathrm{sg}(t)\|^2$ with t from
    `isoloss_target`: $\partial L_{iso}/\partial z_1 = \partial\ell/\partial p$ (§7). No gradient
    reaches z2 or Wp through it."""
    t = jax.lax.stop_gradient(isoloss_target(base, z1, z2, Wp))
    d = z1 - t
    return 0.5 * jnp.sum(d * d, axis=-1)


def sampled_objective(W: Array, Wp: Array, Wa: Array, x1: Float[Array, "b n1"], x2: Float[Array, "b n1"],
                      path: GradientPath) -> Float[Array, ""]:
    r"""The loss `path.loss` averaged over the view pairs (rows of x1, x2), with the gradient routed
    as `byol_flow` documents. Its value is the mean base loss $\bar\ell$; its gradient is the flow.

    - target branch $z_2 = W_a x_2$ ($W_a \equiv W$ for `target="online"`): constant for
      `stop_gradient="target"`, otherwise straight-through $\mathrm{sg}(W_a) + W - \mathrm{sg}(W)$
      (the gradient for Wa is routed into W, as in T5);
    - online branch (unless `stop_gradient="online"`): $p = W_p W x_1$, differentiable in W and
      Wp; for IsoLoss the predictor still gets $\partial\ell/\partial W_p$ while W gets the IsoLoss
      gradient (`isoloss`), added as $L_{iso} - \mathrm{sg}(L_{iso})$ so the value is unchanged.

    `Wp` is the predictor in use; a closed form is passed as a constant (not differentiated).
    """
    sg = jax.lax.stop_gradient
    loss = SAMPLE_LOSSES[path.base_loss]
    target_weights = W if path.target == "online" else Wa
    if path.target_branch_has_gradient:
        target_weights = sg(target_weights) + (W - sg(W))
    else:
        target_weights = sg(target_weights)
    z2 = x2 @ target_weights.T
    if not path.isoloss:
        online = Wp @ W if path.online_branch_has_gradient else sg(Wp @ W)
        return jnp.mean(loss(x1 @ online.T, z2))
    online = Wp @ sg(W) if path.online_branch_has_gradient else sg(Wp @ W)
    value = loss(x1 @ online.T, z2)
    if path.online_branch_has_gradient:
        iso = isoloss(path.base_loss, x1 @ W.T, sg(z2), sg(Wp))
        value = value + iso - sg(iso)
    return jnp.mean(value)


def sampled_descent(W: Array, Wp: Array, Wa: Array, x1: Array, x2: Array, path: GradientPath
                    ) -> tuple[Float[Array, "n2 n1"], Float[Array, "n2 n2"]]:
    r"""$(-\partial\bar\ell/\partial W, -\partial\bar\ell/\partial W_p)$ of `sampled_objective` by
    `jax.grad` (no weight decay, no $\alpha_p$, no symmetrization: `byol_flow` adds them)."""
    gW, gWp = jax.grad(sampled_objective, argnums=(0, 1))(W, Wp, Wa, x1, x2, path)
    return -gW, -gWp


def mean_field_descent(W: Array, Wp: Array, Wa: Array, X: Array, XS: Array, path: GradientPath
                       ) -> tuple[Float[Array, "n2 n1"], Float[Array, "n2 n2"]]:
    r"""The mean-field expected descent direction of the cosine loss (and of its IsoLoss).

    With $P^2 = E\|p\|^2 = \mathrm{tr}(W_p W (X+X') W^T W_p^T)$, $Z^2 = E\|z_2\|^2 =
    \mathrm{tr}(W_a (X+X') W_a^T)$, $Q = E[p^T z_2] = \mathrm{tr}(W_p W X W_a^T)$ and
    $G = W_a X / (P Z) - Q\, W_p W (X+X') / (P^3 Z)$ ($= -E[\partial\ell/\partial p\, x_1^T]$ in the
    mean-field approximation):

    - online branch: $\dot W \mathrel{+}= W_p^T G$ (cosine) or $G$ (IsoLoss); $W_p$'s direction $G W^T$;
    - target branch (unless stopped): $\dot W \mathrel{+}= W_p W X / (P Z) - Q\, W_a (X+X') / (P Z^3)$.

    Under A2 with $W_p = (W W^T)^\alpha$ and $W_a = W$ the online part is
    $[W_p W - (S_1/S_2) W_p^2 W] / ((1+\sigma^2)\sqrt{S_0 S_2})$, i.e. (T25) per eigenvalue, and
    $\langle W, \dot W\rangle = 0$ (T24). For IsoLoss it is
    $[W - (S_1/S_2) W_p W] / ((1+\sigma^2)\sqrt{S_0 S_2})$: our derivation, not in THEORY.md, and
    it does not conserve tr(W W^T) (it grows by $2(S_0 - S_1^2/S_2)/D \ge 0$).
    `Wa` is the target in use (W itself for SimSiam).
    """
    P2 = jnp.sum((Wp @ W @ XS) * (Wp @ W))
    Z2 = jnp.sum((Wa @ XS) * Wa)
    Q = jnp.sum((Wp @ W @ X) * Wa)
    P, Z = jnp.sqrt(P2), jnp.sqrt(Z2)
    dW = jnp.zeros_like(W)
    dWp = jnp.zeros_like(Wp)
    if path.online_branch_has_gradient:
        G = Wa @ X / (P * Z) - Q * (Wp @ W @ XS) / (P**3 * Z)
        dW = dW + (G if path.isoloss else Wp.T @ G)
        dWp = G @ W.T
    if path.target_branch_has_gradient:
        dW = dW + Wp @ W @ X / (P * Z) - Q * (Wa @ XS) / (P * Z**3)
    return dW, dWp
