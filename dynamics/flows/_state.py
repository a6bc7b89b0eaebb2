"""State pytrees of the flows and the settings they read (THEORY.md §1, §5)."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
from jaxtyping import Array, Float

from ..config import POWER_PREDICTORS

__all__ = ["BYOLState", "ModeState", "ModeWeights", "GradientPath", "FlowArgs", "ModeArgs"]


class BYOLState(NamedTuple):
    """Weights of two-layer linear BYOL (T1): online `W` (n2 x n1), predictor `Wp` (n2 x n2),
    target `Wa` (n2 x n1)."""

    W: Float[Array, "n2 n1"]
    Wp: Float[Array, "n2 n2"]
    Wa: Float[Array, "n2 n1"]


class ModeState(NamedTuple):
    """One entry per eigenmode j (T11)-(T13): predictor eigenvalue `p`, eigenvalue `s` = w_j^2 of
    W W^T, and `tau` = w_{a,j} / w_j."""

    p: Float[Array, " m"]
    s: Float[Array, " m"]
    tau: Float[Array, " m"]


class ModeWeights(NamedTuple):
    """One entry per eigenmode j in the weight coordinates of (T13b): predictor eigenvalue `p`
    (= w_p), online singular value `w` and target singular value `wa`; s = w^2, tau = wa / w."""

    p: Float[Array, " m"]
    w: Float[Array, " m"]
    wa: Float[Array, " m"]


class GradientPath(eqx.Module):
    """Static choices that select the vector field (no arrays, so jit specializes on them).

    - `target`: "ema" (T4) or "online" (SimSiam, Wa = W).
    - `stop_gradient`: "target" (T2-T3), "none" (both branches carry gradient; T5 when Wa = W),
      "online" (only the target branch carries gradient; the wrong-side ablation of §7).
    - `predictor`: "trained" (T2), "symmetric" (T2 symmetrized, A3 of Thm 3), "identity" (Wp = I),
      or one of the closed forms of `dynamics.flows.CLOSED_FORM_PREDICTORS` (T20, T21, T26, §6-§8),
      recomputed from the weights at every evaluation, with no gradient through it.
    - `loss`: "euclidean" (T1), "cosine" (§7), "isoloss_euclidean", "isoloss_cosine" (IsoLoss of
      §7: the online output z1 receives the gradient that the prediction p receives).
    - `expectation`: how the expected flow is formed: "exact" (closed-form moments, Euclidean
      losses), "sampled" (a fixed sample of view pairs in `FlowArgs.x1`, `x2`, autodiff of the
      sampled loss) or "mean_field" (cosine losses, norms replaced by their root-mean-square values;
      T25 under A2 with the power predictor).
    - `eps_convention`: where the closed-form power predictors add epsilon: "after_power" (T20,
      [TCG21] code) or "before_power" ([HLZ23] code).
    """

    target: str = eqx.field(static=True, default="ema")
    stop_gradient: str = eqx.field(static=True, default="target")
    predictor: str = eqx.field(static=True, default="trained")
    loss: str = eqx.field(static=True, default="euclidean")
    expectation: str = eqx.field(static=True, default="exact")
    eps_convention: str = eqx.field(static=True, default="after_power")

    @property
    def online_branch_has_gradient(self) -> bool:
        return self.stop_gradient != "online"

    @property
    def target_branch_has_gradient(self) -> bool:
        return self.stop_gradient != "target"

    @property
    def predictor_is_trained(self) -> bool:
        """True for "trained" and "symmetric": Wp follows its own gradient flow (T2)."""
        return self.predictor in ("trained", "symmetric")

    @property
    def predictor_is_closed_form(self) -> bool:
        """True when Wp is a function of the weights (T20, T21, T26, §8), not a state variable."""
        return self.predictor not in ("trained", "symmetric", "identity")

    @property
    def isoloss(self) -> bool:
        """True for the IsoLoss variants (§7, T23): z1 receives dL/dp instead of Wp^T dL/dp."""
        return self.loss.startswith("isoloss_")

    @property
    def base_loss(self) -> str:
        """"euclidean" or "cosine": the per-sample loss that the IsoLoss variants are built on."""
        return self.loss.removeprefix("isoloss_")


class FlowArgs(eqx.Module):
    """Arguments of the full-matrix flow (T2)-(T5): data moments `X` and `XS` = X + X', rates
    `alpha_p`, `beta`, `eta`, `eta_p` (arrays, so they can be vmapped), and the static `path`.

    Optional (None unless the path needs them; `flow_args(config)` fills them in):
    `predictor_alpha`, `predictor_eps` (the power and epsilon of a closed-form predictor) and
    `x1`, `x2` (the fixed sample of view pairs, rows, for `expectation="sampled"`).
    """

    X: Float[Array, "n1 n1"]
    XS: Float[Array, "n1 n1"]
    alpha_p: Float[Array, ""]
    beta: Float[Array, ""]
    eta: Float[Array, ""]
    eta_p: Float[Array, ""]
    path: GradientPath = GradientPath()
    predictor_alpha: Float[Array, ""] | None = None
    predictor_eps: Float[Array, ""] | None = None
    x1: Float[Array, "samples n1"] | None = None
    x2: Float[Array, "samples n1"] | None = None

    def __check_init__(self):
        _check_predictor_params(self, "FlowArgs", "flow_args")
        if self.path.expectation == "sampled" and (self.x1 is None or self.x2 is None):
            raise ValueError("expectation = 'sampled' needs FlowArgs.x1 and x2 (the view-pair sample); build the"
                             " arguments with dynamics.flows.flow_args(config)")


class ModeArgs(eqx.Module):
    """Arguments of the eigenmode flow (T11)-(T13)/(T13b): per-mode eigenvalues `lam_d` of X and
    `lam_s` of X + X' (under A2: 1 and 1 + sigma^2), rates, and the static `path`; optional
    `predictor_alpha`, `predictor_eps` for a closed-form predictor (as in `FlowArgs`)."""

    lam_d: Float[Array, " m"]
    lam_s: Float[Array, " m"]
    alpha_p: Float[Array, ""]
    beta: Float[Array, ""]
    eta: Float[Array, ""]
    eta_p: Float[Array, ""]
    path: GradientPath = GradientPath()
    predictor_alpha: Float[Array, ""] | None = None
    predictor_eps: Float[Array, ""] | None = None

    def __check_init__(self):
        _check_predictor_params(self, "ModeArgs", "mode_args")


def _check_predictor_params(args: FlowArgs | ModeArgs, name: str, builder: str) -> None:
    """A closed-form predictor needs its epsilon, and a power predictor its power, as arguments."""
    path = args.path
    if path.predictor_is_closed_form and (
            args.predictor_eps is None or (path.predictor in POWER_PREDICTORS and args.predictor_alpha is None)):
        raise ValueError(f"predictor = {path.predictor!r} needs {name}.predictor_alpha and predictor_eps;"
                         f" build the arguments with dynamics.flows.{builder}(config)")
