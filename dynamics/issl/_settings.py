"""`ISSLSettings`: the frozen, validated settings of an ISSL run (THEORY.md §10, (T29)) [DHEL22]."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..config import ConfigError

__all__ = ["ISSLSettings", "ISSLWeights", "ISSL_CHOICES"]

#: Allowed values of the string-valued fields of `ISSLSettings`.
ISSL_CHOICES: dict[str, tuple[str, ...]] = {
    "objective": ("dissl", "cissl"),
    "optimizer": ("sgd", "adam"),
    "batch_classes": ("uniform", "distinct"),
}


class ISSLWeights(NamedTuple):
    r"""The numeric weights of the objectives (numbers or traced scalars, so changing them does not
    recompile): DISSL's $\lambda$, $\beta$, teacher and student temperatures (T29), CISSL's $\tau$."""

    lambda_maximality: Any
    beta_det_inv: Any
    temperature: Any
    temperature_teacher: Any
    temperature_student: Any


@dataclass(frozen=True)
class ISSLSettings:
    r"""An ISSL run on class-structured data, THEORY.md §10 [DHEL22].

    **Data** (`class_data`): `n_classes` equivalence classes $C \ge 2$ with centres
    $\mu_c$ = `class_scale` times orthonormal vectors in a random C-dimensional subspace of
    $\mathbb R^{n_1}$ (`n1` $\ge C$); an augmentation moves an input within its class,
    $x = \mu_c + $ `noise_scale` $\cdot B\xi$, $\xi \sim N(0, I_{n_1 - C})$, with B an orthonormal
    basis of the complement of the centres' span. Two views of one sample share c.

    **Model**: linear encoder $z = Wx$, W is `n2` x `n1` (N(0, `init_scale`^2/n1) entries); a
    linear student head $z \mapsto Az + b$ and an MLP teacher head
    $z \mapsto W_2\,\mathrm{relu}(W_1 z + b_1) + b_2$ (`teacher_hidden` units), both with
    `n_prototypes` outputs (K prototypes for DISSL; the embedding width for CISSL).

    **Objective** (`objective`):

    - `"dissl"` (T29): $L = \mathrm{CE}(t_v, s_{v'}) - \lambda H(\overline{t_v}) + \beta\,\mathrm{CE}(t_v, t_{v'})$,
      views $v \ne v'$ averaged, teacher $t = \mathrm{softmax}(\mathrm{MLP}(z)/$`temperature_teacher`$)$,
      student $s = \mathrm{softmax}((Az+b)/$`temperature_student`$)$, $\lambda$ = `lambda_maximality`,
      $\beta$ = `beta_det_inv` (defaults 2.3, 0.8, 0.5, 1.0 as in [DHEL22]; its theory asks
      $\lambda \ge 1 + \beta$, which is not enforced so that ablations stay possible).
    - `"cissl"`: contrastive with asymmetric heads: logits
      $\widehat{(Az_i+b)}^T \widehat{\mathrm{MLP}(z_j)} / \tau$ over all 2B views of the batch (hats:
      unit normalization), self-pair kept, target $\tfrac12$ self + $\tfrac12$ other view,
      $\tau$ = `temperature` (0.07).

    **Training** (`issl_optimizer`): `optimizer="sgd"` (heavy-ball `momentum`, L2 `weight_decay`
    added to the gradient) or `"adam"` (decoupled AdamW decay), at `learning_rate`, for
    `steps` steps on fresh batches of `batch_size` view pairs drawn from the run's key (classes
    uniform with replacement, `batch_classes="uniform"`, or all different, `"distinct"`, which needs
    `batch_size` <= C: then no negative of a contrastive batch shares the anchor's class), saved
    every `save_every` steps (must divide `steps`); `eval_per_class` fixed samples per class
    for the saved probe accuracy and loss.

    **Defaults** (measured on this model, not from [DHEL22]): C = 8 classes with K = 64 prototypes
    (8 each: with equal prototype groups the symmetric optimum of (T29) has simplex-ETF class
    codes; K not a multiple of C leaves unequal groups and the codes settle away from the ETF);
    within-class noise 0.3 (with noise 1 the teacher often merges two classes into one group
    early on); SGD with momentum 0.9 and L2 decay 3e-3 (its fixed points are those of the
    regularized loss; Adam/AdamW drift towards other geometries and approach the ETF more slowly
    or not at all).

    **Raises:** `ConfigError` naming the field, the value and the allowed range.
    """

    objective: str = "dissl"
    n_classes: int = 8
    n1: int = 16
    n2: int = 8
    n_prototypes: int = 64
    teacher_hidden: int = 64
    class_scale: float = 1.0
    noise_scale: float = 0.3
    lambda_maximality: float = 2.3
    beta_det_inv: float = 0.8
    temperature: float = 0.07
    temperature_teacher: float = 0.5
    temperature_student: float = 1.0
    optimizer: str = "sgd"
    learning_rate: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 3e-3
    steps: int = 2000
    batch_size: int = 128
    save_every: int = 200
    init_scale: float = 1.0
    eval_per_class: int = 64
    batch_classes: str = "uniform"

    def __post_init__(self) -> None:
        for name, allowed in ISSL_CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(name, getattr(self, name), f"must be one of {', '.join(allowed)}")
        _integer(self, "n_classes", 2, "number of equivalence classes C")
        _integer(self, "n1", self.n_classes, "input width; the C class centres need n1 >= n_classes")
        for name, why in (("n2", "encoder output width"), ("n_prototypes", "head output width K"),
                          ("teacher_hidden", "hidden units of the teacher MLP"),
                          ("steps", "optimizer steps"), ("save_every", "steps between saves"),
                          ("eval_per_class", "fixed evaluation samples per class")):
            _integer(self, name, 1, why)
        _integer(self, "batch_size", 2, "view pairs per step")
        if self.batch_classes == "distinct" and self.batch_size > self.n_classes:
            raise ConfigError("batch_size", self.batch_size,
                              f"must be <= n_classes = {self.n_classes} with batch_classes='distinct'")
        if self.steps % self.save_every:
            raise ConfigError("save_every", self.save_every, f"must divide steps = {self.steps}")
        for name, why in (("class_scale", "norm of the class centres"),
                          ("temperature", "CISSL softmax temperature"),
                          ("temperature_teacher", "DISSL teacher temperature"),
                          ("temperature_student", "DISSL student temperature"),
                          ("learning_rate", "learning rate"), ("init_scale", "scale of W(0)")):
            _number(self, name, why, positive=True)
        for name, why in (("noise_scale", "within-class (augmentation) noise"),
                          ("lambda_maximality", "weight of the maximality term H(mean t), T29"),
                          ("beta_det_inv", "weight of the determinism/invariance term, T29"),
                          ("weight_decay", "weight decay")):
            _number(self, name, why, positive=False)
        _number(self, "momentum", "heavy-ball momentum in [0, 1)", positive=False)
        if not self.momentum < 1:
            raise ConfigError("momentum", self.momentum, "must be in [0, 1) (heavy-ball momentum)")

    def weights(self) -> ISSLWeights:
        """The objective weights as an `ISSLWeights` of floats."""
        return ISSLWeights(self.lambda_maximality, self.beta_det_inv, self.temperature,
                           self.temperature_teacher, self.temperature_student)

    @property
    def noise_dim(self) -> int:
        """Dimension n1 - C of the within-class (augmentation) subspace."""
        return self.n1 - self.n_classes

    @property
    def n_saves(self) -> int:
        """Saved states, the initial one included."""
        return self.steps // self.save_every + 1

    def replace(self, **changes: Any) -> ISSLSettings:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def flat_attrs(self) -> dict[str, Any]:
        """All fields as `issl_*` file attributes (numbers and strings only)."""
        return {f"issl_{f.name}": getattr(self, f.name) for f in dataclasses.fields(self)}


def _integer(obj: ISSLSettings, name: str, minimum: int, why: str) -> None:
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ConfigError(name, value, f"must be an integer ({why})")
    if int(value) < minimum:
        raise ConfigError(name, value, f"must be an integer >= {minimum} ({why})")
    object.__setattr__(obj, name, int(value))


def _number(obj: ISSLSettings, name: str, why: str, positive: bool) -> None:
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(name, value, f"must be a finite number ({why})")
    if (positive and not value > 0) or (not positive and not value >= 0):
        raise ConfigError(name, value, f"must be {'>' if positive else '>='} 0 ({why})")
    object.__setattr__(obj, name, float(value))
