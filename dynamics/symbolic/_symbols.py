"""The sympy symbols of THEORY.md, one per quantity, and the gradient-path choices they depend on."""

from __future__ import annotations

from typing import NamedTuple

import sympy as sp

from ..config import ConfigError

__all__ = ["PARAMETERS", "LATEX_NAMES", "Path", "as_path", "symbol"]

# Rates and data moments. Declared positive: generic (symbolic) results hold on the open parameter
# region, and the boundary cases (eta = 0, r = 0, sigma2 = 0) are handled by substituting numbers
# before solving (see `fixed_points(..., values=...)`).
sigma2 = sp.Symbol("sigma2", positive=True)  # augmentation variance, X' = sigma2 I (A2)
eta = sp.Symbol("eta", positive=True)  # weight decay on W (T3)
eta_p = sp.Symbol("eta_p", positive=True)  # weight decay on Wp (T2)
alpha_p = sp.Symbol("alpha_p", positive=True)  # predictor relative learning rate (T2)
beta = sp.Symbol("beta", positive=True)  # EMA rate (T4)
lam_d = sp.Symbol("lam_d", positive=True)  # mode eigenvalue of X (T13b)
lam_s = sp.Symbol("lam_s", positive=True)  # mode eigenvalue of X + X' (T13b)
alpha = sp.Symbol("alpha", positive=True)  # closed-form predictor power, Wp = (W W^T)^alpha (T21)
r = sp.Symbol("r", positive=True)  # weight decay with a closed-form predictor (HLZ23, §7)
# Mode state: predictor eigenvalue p, s = w^2, tau = w_a / w (T11-T13); lam = w^2 for T21-T23.
p = sp.Symbol("p", real=True)
s = sp.Symbol("s", nonnegative=True)
tau = sp.Symbol("tau", positive=True)
lam = sp.Symbol("lambda", nonnegative=True)
# Scalar weights of one mode (T13b): online w > 0 (the sign of w is a symmetry), predictor, target.
w = sp.Symbol("w", positive=True)
w_p = sp.Symbol("w_p", real=True)
w_a = sp.Symbol("w_a", real=True)
t = sp.Symbol("t", nonnegative=True)

PARAMETERS: dict[str, sp.Symbol] = {
    "sigma2": sigma2, "eta": eta, "eta_p": eta_p, "alpha_p": alpha_p, "beta": beta,
    "lam_d": lam_d, "lam_s": lam_s, "alpha": alpha, "r": r, "tau": tau,
}
"""Parameter name (as in `Config`, `ModeArgs` and the CLI flags) -> sympy symbol."""

LATEX_NAMES: dict[sp.Symbol, str] = {
    sigma2: r"\sigma^2", eta: r"\eta", eta_p: r"\eta_p", alpha_p: r"\alpha_p", beta: r"\beta",
    lam_d: r"\lambda_d", lam_s: r"\lambda_s", alpha: r"\alpha", r: "r", p: "p", s: "s", tau: r"\tau",
    lam: r"\lambda", w: "w", w_p: "w_p", w_a: "w_a", t: "t",
}
"""How each symbol is written in LaTeX (THEORY.md's notation)."""


def symbol(name: str) -> sp.Symbol:
    """The symbol of a parameter or state variable by its name (`"sigma2"`, `"p"`, ...)."""
    table = {**PARAMETERS, "p": p, "s": s, "lambda": lam, "w": w, "w_p": w_p, "w_a": w_a, "t": t}
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"name = {name!r}: must be one of {', '.join(table)}") from None


_CHOICES = {
    "target": ("ema", "online"),
    "stop_gradient": ("target", "none", "online"),
    "predictor": ("trained", "symmetric", "identity"),
    "loss": ("euclidean", "isoloss_euclidean"),
}
_WHY = {
    "predictor": " (closed-form predictors are reduced per mode by closed_form_system, T21-T23)",
    "loss": " (the cosine losses are not polynomial: see cosine_sample_gradient for T24)",
}


class Path(NamedTuple):
    """The gradient path of `dynamics.flows.GradientPath` as plain strings (hashable, so derivations
    can be cached on it): `target`, `stop_gradient`, `predictor` and `loss` ("euclidean", T1, or
    "isoloss_euclidean": z1 receives dL/dp, §7)."""

    target: str = "ema"
    stop_gradient: str = "target"
    predictor: str = "trained"
    loss: str = "euclidean"

    @property
    def online_branch_has_gradient(self) -> bool:
        return self.stop_gradient != "online"

    @property
    def target_branch_has_gradient(self) -> bool:
        return self.stop_gradient != "target"

    @property
    def isoloss(self) -> bool:
        return self.loss == "isoloss_euclidean"


def as_path(predictor="trained", target: str = "ema", stop_gradient: str = "target",
            loss: str = "euclidean") -> Path:
    """A validated `Path` from strings, or from a `GradientPath` / `Path` passed first.

    **Raises:** `dynamics.config.ConfigError` naming the field if a choice is not derived here
    (unknown, a closed-form predictor, a cosine loss, or an expectation other than "exact").
    """
    if not isinstance(predictor, str):  # a GradientPath or a Path
        path = predictor
        expectation = getattr(path, "expectation", "exact")
        if expectation != "exact":
            raise ConfigError("expectation", expectation, "the symbolic layer derives the exact expectation only")
        target, stop_gradient = path.target, path.stop_gradient
        predictor, loss = path.predictor, getattr(path, "loss", "euclidean")
    chosen = Path(target, stop_gradient, predictor, loss)
    for field, value in chosen._asdict().items():
        if value not in _CHOICES[field]:
            raise ConfigError(field, value, f"must be one of {', '.join(_CHOICES[field])}{_WHY.get(field, '')}")
    return chosen
