"""State pytrees of the flows and the settings they read (THEORY.md §1, §5)."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
from jaxtyping import Array, Float

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
    - `predictor`: "trained" (T2), "symmetric" (T2 symmetrized, A3 of Thm 3), "identity" (Wp = I).
    """

    target: str = eqx.field(static=True, default="ema")
    stop_gradient: str = eqx.field(static=True, default="target")
    predictor: str = eqx.field(static=True, default="trained")

    @property
    def online_branch_has_gradient(self) -> bool:
        return self.stop_gradient != "online"

    @property
    def target_branch_has_gradient(self) -> bool:
        return self.stop_gradient != "target"


class FlowArgs(eqx.Module):
    """Arguments of the full-matrix flow (T2)-(T5): data moments `X` and `XS` = X + X', rates
    `alpha_p`, `beta`, `eta`, `eta_p` (arrays, so they can be vmapped), and the static `path`."""

    X: Float[Array, "n1 n1"]
    XS: Float[Array, "n1 n1"]
    alpha_p: Float[Array, ""]
    beta: Float[Array, ""]
    eta: Float[Array, ""]
    eta_p: Float[Array, ""]
    path: GradientPath = GradientPath()


class ModeArgs(eqx.Module):
    """Arguments of the eigenmode flow (T11)-(T13)/(T13b): per-mode eigenvalues `lam_d` of X and
    `lam_s` of X + X' (under A2: 1 and 1 + sigma^2), rates, and the static `path`."""

    lam_d: Float[Array, " m"]
    lam_s: Float[Array, " m"]
    alpha_p: Float[Array, ""]
    beta: Float[Array, ""]
    eta: Float[Array, ""]
    eta_p: Float[Array, ""]
    path: GradientPath = GradientPath()
