"""The full-matrix gradient flow of two-layer linear BYOL, THEORY.md (T2)-(T5) [TCG21 Sec. 2], with the
losses and closed-form predictors of §6-§8."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._losses import mean_field_descent, sampled_descent
from ._predictors import closed_form_predictor, expected_statistics, sample_statistics
from ._state import BYOLState, FlowArgs

__all__ = ["byol_flow", "prediction_residual", "expected_loss", "exact_descent", "predictor_in_use",
           "predictor_record"]


def prediction_residual(W: Array, Wp: Array, Wa: Array, args: FlowArgs) -> Float[Array, "n2 n1"]:
    r"""$R = W_a X - W_p W (X + X')$, minus the gradient of (T1) with respect to the prediction,
    contracted with the online input; T2 and T3 are $\alpha_p R W^T$ and $W_p^T R$."""
    return Wa @ args.X - Wp @ W @ args.XS


def predictor_in_use(W: Array, Wp: Array, Wa: Array, args: FlowArgs) -> Float[Array, "n2 n2"]:
    r"""The predictor that the flow applies: the state's Wp (trained / symmetric), the identity, or
    the closed form `args.path.predictor` of the statistics of W and Wa (THEORY.md §6-§8) — in
    expectation ($W X W^T$, $W (X+X') W^T$, $W_a X W^T$), or over the fixed sample for
    `expectation="sampled"` (so that every expectation in a sampled run is the same sample mean).
    `Wa` is the target in use (W itself for SimSiam)."""
    path = args.path
    if path.predictor == "identity":
        return jnp.eye(Wp.shape[0], dtype=Wp.dtype)
    if not path.predictor_is_closed_form:
        return Wp
    if path.expectation == "sampled":
        stats = sample_statistics(W, Wa, _samples(args)[0], _samples(args)[1])
    else:
        stats = expected_statistics(W, Wa, args.X, args.XS)
    return closed_form_predictor(path.predictor, stats, args.predictor_alpha, args.predictor_eps,
                                 path.eps_convention)


def _samples(args: FlowArgs) -> tuple[Array, Array]:
    return args.x1, args.x2  # present for expectation="sampled" (`FlowArgs.__check_init__`)


def exact_descent(W: Array, Wp: Array, Wa: Array, args: FlowArgs) -> tuple[Array, Array]:
    r"""The Euclidean losses' expected descent directions $(\dot W, G_p)$ before weight decay,
    $\alpha_p$ and symmetrization: with $R$ = `prediction_residual`, online branch $W_p^T R$ (T3) or
    $R$ (IsoLoss, T23) and $G_p = R W^T$ (T2); target branch $W_p W X - W_a (X+X')$."""
    path = args.path
    dW = jnp.zeros_like(W)
    dWp = jnp.zeros_like(Wp)
    if path.online_branch_has_gradient:
        R = prediction_residual(W, Wp, Wa, args)
        dW = dW + (R if path.isoloss else Wp.T @ R)
        dWp = R @ W.T
    if path.target_branch_has_gradient:
        dW = dW + Wp @ W @ args.X - Wa @ args.XS
    return dW, dWp


def byol_flow(t: Float[Array, ""], y: BYOLState, args: FlowArgs) -> BYOLState:
    r"""d(W, Wp, Wa)/dt, THEORY.md (T2)-(T4), and (T5) without stop-gradient [TCG21 Sec. 2];
    the losses and closed-form predictors of §6-§8 (T19-T26) through `args.path`.

    Euclidean loss, exact expectation ($R = W_a X - W_p W (X+X')$):

    - online branch (unless `stop_gradient="online"`): $\dot W \mathrel{+}= W_p^T R$ (T3) and
      $\dot W_p \mathrel{+}= \alpha_p R W^T$ (T2); IsoLoss: $\dot W \mathrel{+}= R$ (T23);
    - target branch (unless `stop_gradient="target"`): $\dot W \mathrel{+}= W_p W X - W_a (X+X')$,
      i.e. $-\partial J/\partial W_a$ routed into W; with $W_a = W$ the sum is (T5);
    - weight decay: $-\eta W$, $-\eta_p W_p$;
    - predictor "symmetric": the Wp gradient is symmetrized (A3 of Thm 3); "identity": Wp = I fixed;
    - target "ema": $\dot W_a = \beta (W - W_a)$ (T4); "online": $W_a \equiv W$ (SimSiam), so
      $\dot W_a = \dot W$.

    `expectation="sampled"` replaces the closed-form moments by autodiff of the loss over the fixed
    sample `args.x1`, `args.x2` (`sampled_descent`); `"mean_field"` uses `mean_field_descent`
    (cosine losses). A closed-form predictor (`predictor_in_use`) is recomputed from W (and Wa) at
    every evaluation and enters the loss as a constant: no gradient flows through it, and the
    state's Wp is a record that does not move ($\dot W_p = 0$); `dynamics.simulate` reports the
    closed form at the saved times in its place (`predictor_record`).

    A pure function of `(t, y, args)`, so it drops into `diffrax.ODETerm`; jit/vmap friendly.
    """
    path = args.path
    W = y.W
    Wa = W if path.target == "online" else y.Wa
    Wp = predictor_in_use(W, y.Wp, Wa, args)
    if path.expectation == "sampled":
        x1, x2 = _samples(args)
        gW, gWp = sampled_descent(W, Wp, Wa, x1, x2, path)
    elif path.expectation == "mean_field":
        gW, gWp = mean_field_descent(W, Wp, Wa, args.X, args.XS, path)
    else:
        gW, gWp = exact_descent(W, Wp, Wa, args)
    dW = gW - args.eta * W
    if path.predictor_is_trained:
        grad_p = args.alpha_p * gWp
        if path.predictor == "symmetric":
            grad_p = 0.5 * (grad_p + grad_p.T)
        dWp = grad_p - args.eta_p * y.Wp
    else:
        dWp = jnp.zeros_like(y.Wp)
    dWa = dW if path.target == "online" else args.beta * (W - y.Wa)
    return BYOLState(dW, dWp, dWa)


def predictor_record(W: Array, Wp: Array, Wa: Array, args: FlowArgs) -> Float[Array, "... n2 n2"]:
    """The predictor actually applied at saved states (leading axes are batch axes): the closed form
    for closed-form predictors, the identity for "identity", else `Wp` unchanged. `Wa` is the
    state's target (ignored for SimSiam)."""
    path = args.path
    if not (path.predictor_is_closed_form or path.predictor == "identity"):
        return Wp
    single = lambda W_, Wp_, Wa_: predictor_in_use(  # noqa: E731
        W_, Wp_, W_ if path.target == "online" else Wa_, args)
    fn = single
    for _ in range(W.ndim - 2):
        fn = jax.vmap(fn)
    return fn(W, Wp, Wa)


def expected_loss(W: Array, Wp: Array, Wa: Array, X: Array, XS: Array) -> Float[Array, ""]:
    r"""The objective (T1) in expectation: $J = \tfrac12 E\|W_p W x_1 - W_a x_2\|^2$
    $= \tfrac12 \mathrm{tr}(W_p W (X+X') W^T W_p^T) - \mathrm{tr}(W_p W X W_a^T)
    + \tfrac12 \mathrm{tr}(W_a (X+X') W_a^T)$, using $E[x_1 x_1^T] = E[x_2 x_2^T] = X + X'$ and
    $E[x_1 x_2^T] = X$. No stop-gradient is applied here: callers place it."""
    P = Wp @ W
    return (0.5 * jnp.sum((P @ XS) * P) - jnp.sum((P @ X) * Wa) + 0.5 * jnp.sum((Wa @ XS) * Wa))
