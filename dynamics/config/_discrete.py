"""Map discrete training hyper-parameters to the gradient-flow rates (THEORY.md §1)."""

from __future__ import annotations

import math
from typing import NamedTuple

from ._errors import ConfigError

__all__ = ["FlowRates", "discrete_to_flow"]


class FlowRates(NamedTuple):
    """Rates of the flow (T2)-(T4) that a discrete run follows, and the flow time of one step.

    `time_per_step` is the effective learning rate a/(1 - mu): after k steps the discrete run sits
    at flow time t = k * time_per_step.
    """

    time_per_step: float
    alpha_p: float
    beta: float
    eta: float
    eta_p: float


def discrete_to_flow(
    lr: float,
    *,
    momentum: float = 0.0,
    ema_momentum: float = 0.0,
    weight_decay: float = 0.0,
    decoupled: bool = False,
    predictor_lr: float | None = None,
    predictor_weight_decay: float | None = None,
) -> FlowRates:
    r"""Flow rates of SGD (heavy-ball momentum, EMA target, weight decay), THEORY.md §1.

    With learning rate $a$, momentum $\mu$, EMA momentum $\gamma$, the effective rate is
    $a_\mathrm{eff} = a/(1-\mu)$ and $t = a_\mathrm{eff} k$, $\beta = (1-\gamma)/a_\mathrm{eff}$.
    Coupled (L2, PyTorch `weight_decay`) decay `wd` gives $\eta = wd$; decoupled decay that shrinks
    $\theta \leftarrow (1-d)\theta$ every step gives $\eta = d / a_\mathrm{eff}$. The predictor runs at
    learning rate $a\alpha_p$ (`predictor_lr`, default `lr`) so $\alpha_p$ = predictor_lr / lr; its
    coupled decay `wd_p` gives $\eta_p = \alpha_p\, wd_p$ (so `wd_p = wd / alpha_p` gives
    $\eta_p = \eta$, as Theorem 1 needs), decoupled $d_p$ gives $\eta_p = d_p / a_\mathrm{eff}$.
    `predictor_weight_decay` unset means the same `weight_decay` as the online network.

    Example ([TCG21] STL-10 code): `discrete_to_flow(0.03, momentum=0.9, ema_momentum=0.996,
    weight_decay=4e-4)` gives beta ~= 0.0133, eta = 4e-4.

    **Raises:** `ConfigError` naming the argument when a value is out of range.
    """
    _positive("lr", lr)
    if not 0.0 <= momentum < 1.0:
        raise ConfigError("momentum", momentum, "must be in [0, 1)")
    if not 0.0 <= ema_momentum <= 1.0:
        raise ConfigError("ema_momentum", ema_momentum, "must be in [0, 1]")
    if not (math.isfinite(weight_decay) and weight_decay >= 0.0):
        raise ConfigError("weight_decay", weight_decay, "must be >= 0")
    p_lr = lr if predictor_lr is None else predictor_lr
    _positive("predictor_lr", p_lr)
    p_wd = weight_decay if predictor_weight_decay is None else predictor_weight_decay
    if not (math.isfinite(p_wd) and p_wd >= 0.0):
        raise ConfigError("predictor_weight_decay", p_wd, "must be >= 0")
    a_eff = lr / (1.0 - momentum)
    alpha_p = p_lr / lr
    if decoupled:
        eta, eta_p = weight_decay / a_eff, p_wd / a_eff
    else:
        eta, eta_p = weight_decay, alpha_p * p_wd
    return FlowRates(a_eff, alpha_p, (1.0 - ema_momentum) / a_eff, eta, eta_p)


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ConfigError(name, value, "must be > 0")
