r"""Closed-form levels of a run's spectra (THEORY.md §5, §7, §8): where eig(F) and eig(Wp) settle.

Under A2 (X = I, X' = sigma^2 I) and with tau at rest (SimSiam, or an EMA target with beta > 0, so
tau_j -> 1 at a fixed point), a mode of the Euclidean flow with stop-gradient on the target grows at
the relative rate (`dynamics.flows.mode_flow`)

$\dot\lambda / (2\lambda) = p(1 - (1+\sigma^2) p) - \eta$   (Euclidean; (T22) for the power predictor)
$\dot\lambda / (2\lambda) = 1 - (1+\sigma^2) p - \eta$       (IsoLoss; (T23))

so a mode that survives has its predictor eigenvalue at a root p*: p*_± = [1 ± sqrt(1 - 4η(1+σ²))]
/ (2(1+σ²)) (the tau = 1 case of (T17); §7's a_± with r = η) or, for IsoLoss, p* = (1-η)/(1+σ²).
A closed-form predictor that is a monotone function p(λ) of its own mode's eigenvalue (`power` on
F = W X W^T, `soft_projector` and `inverse_sqrt` on C = W (X + X') W^T = (1+σ²) F) then fixes λ* = p⁻¹(p*):
λ* = (1+σ²)^(-1/α) for `power` at η = 0 (T22, T23). Stability: the root of the Euclidean bracket at
p*_+ is stable for an increasing p(λ) and p*_- unstable; a decreasing p(λ) (`inverse_sqrt`) swaps
them. The normalized predictors (`power_normalized`, `directpred`, `directcopy`) are scale-free
(no isolated level: they collapse, §7 note) and `ridge_lstsq` at ε = 0 makes every λ a fixed point
(§8): no level is drawn for them.

Other levels: the trained predictor's (p*_+, s*) of (T17) (`predicted_fixed_point`); the wrong-side
stop-gradient's unstable λ_u = (1+σ²)^(1/α) (§7 ablations, power, η = 0); and, for the cosine loss at
η = 0, the conserved mean tr F(0)/M (T24), the level of the isotropic end point (T25).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import xarray as xr

from ..config import Config

__all__ = ["Level", "closed_form_levels", "predicted_fixed_point", "tau_at_rest"]


class Level(NamedTuple):
    """A horizontal line on the `variable` panel ("eig_F" or "eig_Wp") at `value`, drawn dashed when
    `stable` and dotted when not; `label` names the symbol, the value and the THEORY.md equation."""

    variable: str
    value: float
    label: str
    stable: bool


def tau_at_rest(config: Config) -> bool:
    """True when tau_j -> 1 at a fixed point: SimSiam (tau = 1), or an EMA target with beta > 0 (T13)."""
    return config.target == "online" or config.beta > 0.0


def predicted_fixed_point(attrs: dict) -> tuple[float, float] | None:
    """(p*, s*) that (T17) predicts for a run with isotropic data, the usual stop-gradient and a
    trained predictor under the Euclidean loss (T1), with tau -> 1 (EMA at rest, or SimSiam): p*_+ for
    eta > 0 (None past eta* = 1/(4(1+sigma2))), and p = 1/(1+sigma2) on the eta = 0 line (s* is then
    not fixed)."""
    if attrs.get("data") != "isotropic" or attrs.get("stop_gradient") != "target" or attrs.get(
            "predictor") not in ("trained", "symmetric") or attrs.get("loss", "euclidean") != "euclidean":
        return None
    sigma2, eta, alpha_p = float(attrs["sigma2"]), float(attrs["eta"]), float(attrs["alpha_p"])
    eta_p = float(attrs.get("eta_p_effective", eta))
    lam = 1.0 + sigma2
    if eta == 0.0:
        return 1.0 / lam, float("nan")
    disc = 1.0 - 4.0 * eta * lam
    if disc < 0:
        return None
    p = (1.0 + np.sqrt(disc)) / (2.0 * lam)
    return p, eta_p * p / (alpha_p * (1.0 - lam * p))


def _invert(config: Config, p: float) -> tuple[float | None, bool]:
    """(λ with p(λ) = p, whether p(λ) increases) for the per-mode closed forms; (None, ...) when p is
    not attained. p(λ) as in `dynamics.flows.spectral_predictor` with f = λ, c = (1+σ²) λ."""
    lam, eps = 1.0 + config.sigma2, config.predictor_eps_effective
    if config.predictor == "power":
        alpha = config.predictor_alpha_effective
        if config.predictor_eps_convention == "before_power":
            v = p ** (1.0 / alpha) - eps if p > 0 else -1.0
        else:
            v = (p - eps) ** (1.0 / alpha) if p > eps else -1.0
        return (v if v > 0 else None), True
    if config.predictor == "soft_projector":  # p = c / (c + eps)
        c = eps * p / (1.0 - p) if 0.0 < p < 1.0 and eps > 0 else -1.0
        return (c / lam if c > 0 else None), True
    if config.predictor == "inverse_sqrt":  # p = (c + eps)^(-1/2)
        c = p**-2 - eps if p > 0 else -1.0
        return (c / lam if c > 0 else None), False
    return None, True


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def closed_form_levels(ds: xr.Dataset) -> list[Level]:
    """The levels THEORY.md predicts for the spectra of the run `ds` (see the module docstring).

    **Arguments:** `ds`, a result of `dynamics.simulate` (its `config_json` is read; the cosine
    level also reads `eig_F` at t = 0).

    **Returns:** a list of `Level`s, empty where no closed form applies (non-isotropic data, tau not
    at rest, an ablation or predictor whose only end point is collapse, ...).
    """
    config = Config.from_dataset(ds)
    if config.data != "isotropic" or not tau_at_rest(config):
        return []
    lam, eta = 1.0 + config.sigma2, config.eta
    levels: list[Level] = []
    if config.loss == "cosine":
        if eta == 0.0:
            mean = float(np.mean(ds["eig_F"].values[0]))
            levels.append(Level("eig_F", mean, rf"tr$F(0)/M$ = {_fmt(mean)} (T24)", True))
        return levels
    if config.loss not in ("euclidean", "isoloss_euclidean"):
        return levels
    iso = config.loss == "isoloss_euclidean"
    if config.predictor in ("trained", "symmetric"):
        point = predicted_fixed_point(ds.attrs) if not iso else None
        if point is not None:
            p, s = point
            levels.append(Level("eig_Wp", p, rf"$p^*_+$ = {_fmt(p)} (T17)", True))
            if np.isfinite(s):
                levels.append(Level("eig_F", s, rf"$s^*$ = {_fmt(s)} (T17)", True))
        return levels
    if config.stop_gradient == "online" and config.predictor == "power" and not iso and eta == 0.0 \
            and config.predictor_eps_effective == 0.0:
        alpha = config.predictor_alpha_effective
        value = lam ** (1.0 / alpha)
        levels.append(Level("eig_F", value, rf"$\lambda_u=(1+\sigma^2)^{{1/\alpha}}$ = {_fmt(value)} (§7)", False))
        return levels
    if config.stop_gradient != "target" or config.predictor not in ("power", "soft_projector", "inverse_sqrt"):
        return levels
    if iso:
        eq = "T23" if config.predictor == "power" else "T23 root, §8"
        roots = [((1.0 - eta) / lam, True, r"$p^*=(1-\eta)/(1+\sigma^2)$", eq)] if eta < 1.0 else []
    else:
        disc = 1.0 - 4.0 * eta * lam
        if disc < 0:
            return levels  # past eta* every mode collapses (§7, compare T17)
        eq = ("T22" if eta == 0.0 else "§7, r = η") if config.predictor == "power" else "T17 root, §8"
        roots = [((1.0 + np.sqrt(disc)) / (2.0 * lam), True, r"$p^*_+$", eq)]
        if eta > 0.0:
            roots.append(((1.0 - np.sqrt(disc)) / (2.0 * lam), False, r"$p^*_-$", eq))
    exact_power = config.predictor == "power" and config.predictor_eps_effective == 0.0 and eta == 0.0
    for p, stable_if_increasing, symbol, eq in roots:
        value, increasing = _invert(config, p)
        stable = stable_if_increasing == increasing
        levels.append(Level("eig_Wp", p, f"{symbol} = {_fmt(p)} ({eq})", stable))
        if value is not None:
            name = r"$\lambda^*=(1+\sigma^2)^{-1/\alpha}$" if exact_power else (
                r"$\lambda^*$" if stable else r"$\lambda_u$")
            levels.append(Level("eig_F", value, f"{name} = {_fmt(value)} ({eq})", stable))
    return levels
