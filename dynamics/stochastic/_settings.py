"""`SGDSettings`: the frozen, validated hyper-parameters of a discrete SGD run (THEORY.md §1)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import KW_ONLY, dataclass
from typing import Any

from ..config import Config, ConfigError, FlowRates, discrete_to_flow

__all__ = ["SGDSettings"]


@dataclass(frozen=True)
class SGDSettings:
    r"""Discrete training of two-layer linear BYOL with minibatch SGD (THEORY.md §1).

    Symbols as in THEORY.md §1: learning rate $a$ = `lr`, heavy-ball momentum $\mu$ = `momentum`,
    EMA momentum $\gamma$ = `ema_momentum`, weight decay `weight_decay`. One step is

    - $g \leftarrow \nabla_\theta \hat J$ (the minibatch loss (T1), stop-gradient per the
      `GradientPath`), plus $wd\,\theta$ when the decay is coupled (PyTorch `weight_decay`);
    - $b \leftarrow \mu b + g$, $\theta \leftarrow \theta - a b$ (PyTorch momentum convention,
      `optax.sgd(lr, momentum, nesterov=False)`); the predictor uses `predictor_lr`;
    - decoupled decay instead shrinks $\theta \leftarrow \theta - d\,\theta$ after the step
      (`decoupled=True`, $d$ = `weight_decay` / `predictor_weight_decay`);
    - target: $W_a \leftarrow \gamma W_a + (1-\gamma) W$ with the new W (or $W_a = W$ for
      `target="online"`).

    `discrete_to_flow` maps these to the rates of (T2)-(T4): $t = k a/(1-\mu)$,
    $\beta = (1-\gamma)(1-\mu)/a$, $\alpha_p$ = predictor_lr / lr, $\eta$ = wd (coupled) or
    $d(1-\mu)/a$ (decoupled); see `flow_rates`.

    **Main arguments:**

    - `lr`: learning rate $a > 0$ of W.
    - `steps`: number of SGD steps (>= 1).
    - `batch_size`: samples per step (>= 1; [TCG21] use 128).

    **Other arguments:**

    - `momentum`: $\mu \in [0, 1)$ (default 0).
    - `ema_momentum`: $\gamma \in [0, 1]$ (default 0.996 as in [TCG21]); ignored for `target="online"`.
    - `weight_decay`: >= 0 (default 0); with `decoupled=True` it is the per-step shrink fraction
      $d \in [0, 1]$.
    - `decoupled`: False (coupled L2 decay, added to the gradient) or True (see above).
    - `predictor_lr`: learning rate of Wp (> 0); None means `lr` ($\alpha_p = 1$).
    - `predictor_weight_decay`: decay of Wp; None means `weight_decay`. Theorem 1 (T6) needs
      `weight_decay / alpha_p` in the coupled case (then $\eta_p = \eta$).
    - `save_every`: save the state every this many steps; must divide `steps`. None means `steps`
      (only the initial and final states are saved).
    - `rho`: EMA momentum $\rho \in [0, 1)$ of the predictor-input statistics for closed-form
      predictors, (T19): $\hat F \leftarrow \rho \hat F + (1-\rho) \hat F_\mathrm{batch}$ (default 0.3,
      [TCG21]'s best on STL-10); the first step takes the batch value. Ignored for trained predictors.
    - `predictor_freq`: a closed-form predictor is set from the statistics every this many steps
      (>= 1; default 1, [TCG21] also use 5) and held fixed in between (it takes no SGD steps).

    **Raises:** `ConfigError` (a `ValueError`) naming the field, the value and the allowed range.
    """

    lr: float
    _: KW_ONLY
    steps: int
    batch_size: int = 128
    momentum: float = 0.0
    ema_momentum: float = 0.996
    weight_decay: float = 0.0
    decoupled: bool = False
    predictor_lr: float | None = None
    predictor_weight_decay: float | None = None
    save_every: int | None = None
    rho: float = 0.3
    predictor_freq: int = 1

    def __post_init__(self) -> None:
        _number(self, "lr", lo=0.0, lo_open=True, why="learning rate of W")
        _number(self, "momentum", lo=0.0, hi=1.0, hi_open=True, why="heavy-ball momentum, in [0, 1)")
        _number(self, "ema_momentum", lo=0.0, hi=1.0, why="EMA momentum gamma, in [0, 1]")
        if not isinstance(self.decoupled, bool):
            raise ConfigError("decoupled", self.decoupled, "must be True or False")
        hi_decay = 1.0 if self.decoupled else None  # decoupled: a per-step shrink fraction
        _number(self, "weight_decay", lo=0.0, hi=hi_decay, why="weight decay of W")
        if self.predictor_lr is not None:
            _number(self, "predictor_lr", lo=0.0, lo_open=True, why="learning rate of Wp")
        if self.predictor_weight_decay is not None:
            _number(self, "predictor_weight_decay", lo=0.0, hi=hi_decay, why="weight decay of Wp")
        _number(self, "rho", lo=0.0, hi=1.0, hi_open=True,
                why="EMA momentum of the predictor statistics (T19), in [0, 1)")
        for name in ("steps", "batch_size", "predictor_freq"):
            _integer(self, name, minimum=1)
        if self.save_every is not None:
            _integer(self, "save_every", minimum=1)
            if self.steps % self.save_every:
                raise ConfigError("save_every", self.save_every, f"must divide steps = {self.steps}")
        self.flow_rates()  # the map's own checks (same field names)

    # ------------------------------------------------------------------ derived values
    @property
    def save_interval(self) -> int:
        """Steps between saved states (`save_every`, or `steps` when unset)."""
        return self.steps if self.save_every is None else self.save_every

    @property
    def n_saves(self) -> int:
        """Number of saved states, the initial one included."""
        return self.steps // self.save_interval + 1

    @property
    def predictor_lr_effective(self) -> float:
        return self.lr if self.predictor_lr is None else self.predictor_lr

    @property
    def predictor_weight_decay_effective(self) -> float:
        return self.weight_decay if self.predictor_weight_decay is None else self.predictor_weight_decay

    def flow_rates(self) -> FlowRates:
        """`discrete_to_flow` of these settings: time_per_step, alpha_p, beta, eta, eta_p (THEORY.md §1)."""
        return discrete_to_flow(self.lr, momentum=self.momentum, ema_momentum=self.ema_momentum,
                                weight_decay=self.weight_decay, decoupled=self.decoupled,
                                predictor_lr=self.predictor_lr,
                                predictor_weight_decay=self.predictor_weight_decay)

    def flow_config(self, config: Config) -> Config:
        """The gradient-flow `Config` that a discrete run of these settings on `config` follows: its
        rates replaced by `flow_rates()` (THEORY.md §1), t_max = steps x time per step, and the
        linear save grid of the run (`n_saves` times). A config with `discrete=True` takes these
        settings as its own training fields instead (it derives the same rates and grid from them)."""
        if config.discrete:  # a config of a sampled run derives its rates from its own training settings
            return config.replace(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        rates = self.flow_rates()
        return config.replace(alpha_p=rates.alpha_p, beta=rates.beta, eta=rates.eta, eta_p=rates.eta_p,
                              t_max=self.steps * rates.time_per_step, n_save=self.n_saves,
                              save_spacing="linear")

    def replace(self, **changes: Any) -> SGDSettings:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def flat_attrs(self) -> dict[str, Any]:
        """The settings as `sgd_*` file attributes, and the flow rates they map to as `flow_*` and
        `time_per_step` (numbers only: netCDF allows no None or bool)."""
        rates = self.flow_rates()
        return {
            "flow_alpha_p": rates.alpha_p, "flow_beta": rates.beta, "flow_eta": rates.eta,
            "flow_eta_p": rates.eta_p, "time_per_step": rates.time_per_step,
            "sgd_lr": self.lr, "sgd_momentum": self.momentum, "sgd_ema_momentum": self.ema_momentum,
            "sgd_weight_decay": self.weight_decay, "sgd_decoupled": int(self.decoupled),
            "sgd_predictor_lr": self.predictor_lr_effective,
            "sgd_predictor_weight_decay": self.predictor_weight_decay_effective,
            "sgd_batch_size": self.batch_size, "sgd_steps": self.steps, "sgd_save_every": self.save_interval,
            "sgd_rho": self.rho, "sgd_predictor_freq": self.predictor_freq,
        }

    # ------------------------------------------------------------------ inverse map
    @classmethod
    def matching(cls, config: Config, lr: float, *, batch_size: int, momentum: float = 0.0,
                 decoupled: bool = False, save_every: int | None = None) -> SGDSettings:
        r"""Discrete settings whose flow rates (`discrete_to_flow`) are those of `config`.

        The inverse of THEORY.md §1's map, with $a_\mathrm{eff} = a/(1-\mu)$: predictor_lr =
        $\alpha_p a$, $\gamma = 1 - \beta a_\mathrm{eff}$, coupled wd = $\eta$ and
        wd_p = $\eta_p / \alpha_p$ (decoupled: $d = \eta a_\mathrm{eff}$, $d_p = \eta_p a_\mathrm{eff}$),
        and `steps` = round(t_max / a_eff), so the run ends at flow time steps * a_eff ~= `config.t_max`.

        **Raises:** `ConfigError` naming `lr` when $\beta a_\mathrm{eff} > 1$ (no EMA momentum in
        [0, 1] gives that rate) or a decoupled shrink fraction exceeds 1; naming `save_every` when
        it does not divide `steps`.
        """
        lr = _number_value("lr", lr, why="learning rate of W")
        if not 0.0 <= momentum < 1.0:
            raise ConfigError("momentum", momentum, "must be in [0, 1)")
        if not lr > 0.0:
            raise ConfigError("lr", lr, "must be > 0 (learning rate of W)")
        a_eff = lr / (1.0 - momentum)
        gamma = 1.0 - config.beta * a_eff
        if not gamma >= 0.0:
            raise ConfigError("lr", lr,
                              f"too large for beta = {config.beta:g}: needs lr/(1-momentum) <= 1/beta")
        if decoupled:
            wd, wd_p = config.eta * a_eff, config.eta_p_effective * a_eff
            if wd > 1.0 or wd_p > 1.0:
                raise ConfigError("lr", lr,
                                  "too large: the decoupled shrink fraction eta * lr/(1-momentum) exceeds 1")
        else:
            wd, wd_p = config.eta, config.eta_p_effective / config.alpha_p
        steps = max(1, round(config.t_max / a_eff))
        return cls(lr, steps=steps, batch_size=batch_size, momentum=momentum, ema_momentum=gamma,
                   weight_decay=wd, decoupled=decoupled, predictor_lr=config.alpha_p * lr,
                   predictor_weight_decay=wd_p, save_every=save_every)


# ---------------------------------------------------------------------- helpers
def _number_value(name: str, value: Any, why: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, value, f"must be a number ({why})")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(name, value, f"must be finite ({why})")
    return value


def _number(obj: SGDSettings, name: str, lo: float | None = None, hi: float | None = None,
            lo_open: bool = False, hi_open: bool = False, why: str = "") -> None:
    value = _number_value(name, getattr(obj, name), why)
    if lo is not None and not (value > lo if lo_open else value >= lo):
        raise ConfigError(name, value, f"must be {'>' if lo_open else '>='} {lo:g} ({why})")
    if hi is not None and not (value < hi if hi_open else value <= hi):
        raise ConfigError(name, value, f"must be {'<' if hi_open else '<='} {hi:g} ({why})")
    object.__setattr__(obj, name, value)


def _integer(obj: SGDSettings, name: str, minimum: int) -> None:
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ConfigError(name, value, "must be an integer")
    if int(value) < minimum:
        raise ConfigError(name, value, f"must be an integer >= {minimum}")
    object.__setattr__(obj, name, int(value))
