"""`TrainConfig`: the frozen, validated settings of one training run of the bridge.

Every field is a plain scalar, string or tuple, so a `TrainConfig` round-trips through TOML, JSON and
the attributes of the run's log. Method names follow the simulator: a run is a `target` (EMA or the
online network itself), a `stop_gradient` switch, a `predictor` (trained linear / symmetric / MLP,
the identity, or one of the simulator's closed forms) and a `loss` (Euclidean (T1), cosine or their
IsoLoss (§7)); ER (T27-T28), DISSL (T29) and CISSL (§10) add their own objectives (`_methods.py`).

Length: over 400 lines on purpose: `TrainConfig` holds every field and its check in one frozen class, like
`dynamics.config.Config`; the method table is in `_methods.py`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

from ..config import CLOSED_FORM_PREDICTORS, DEFAULT_PREDICTOR_EPS, FIXED_PREDICTOR_ALPHA, POWER_PREDICTORS
from ..config import ConfigError, FlowRates, discrete_to_flow
from ._methods import (ER_METHODS, ISOLOSS_LOSSES, ISSL_METHODS, LOSSES, METHOD_DEFAULTS, METHODS,
                       default_eps_convention, default_head_hidden, default_prototypes, default_rho, flow_mapping,
                       theory_tags)

__all__ = ["TrainConfig", "METHODS", "MODELS", "TRAIN_CHOICES", "MethodSpec", "SIZE_DEFAULTS"]

MODELS = ("resnet18", "resnet-small", "mlp", "deep-linear", "linear")
#: Trained predictors; "identity" is no predictor; the closed forms are the simulator's.
TRAINED_PREDICTORS = ("linear", "symmetric", "mlp")

TRAIN_CHOICES: dict[str, tuple[str, ...]] = {
    "dataset": ("digits", "cifar10", "stl10", "synthetic"),
    "method": METHODS,
    "model": MODELS,
    "stem": ("auto", "cifar", "stl"),
    "predictor": ("auto",) + TRAINED_PREDICTORS + ("identity",) + CLOSED_FORM_PREDICTORS,
    "target": ("auto", "ema", "online"),
    "loss": ("auto",) + LOSSES,
    "predictor_eps_convention": ("auto", "after_power", "before_power"),
    "optimizer": ("sgd", "lars"),
    "lr_schedule": ("cosine", "constant"),
    "ema_schedule": ("cosine", "constant"),
    "augment": ("auto", "byol", "light", "additive", "none"),
    "precision": ("auto", "float32", "bfloat16"),
    "synthetic_basis": ("identity", "random"),
    "predictor_init": ("random", "identity"),
}

#: Fields whose unset value ("auto" / None) is resolved per method when the config is built (so the
#: stored config, its JSON and the log's attributes hold the values used); `replace` resolves them again.
_AUTO_FIELDS = {"rho": None, "predictor_eps_convention": "auto", "n_prototypes": None, "head_hidden": None}

#: Per-model defaults of the widths: (encoder feature dim, projector hidden, projector out, predictor hidden).
#: resnet18 follows solo-learn's CIFAR BYOL (4096 -> 256, predictor 4096); the small models are sized for
#: a CPU; the linear encoder has no projector (the theory's network: W then Wp).
SIZE_DEFAULTS = {
    "resnet18": (512, 4096, 256, 4096),
    "resnet-small": (64, 256, 64, 256),
    "mlp": (128, 256, 64, 256),
    "deep-linear": (4, 0, 0, 0),
    "linear": (4, 0, 0, 0),
}


class MethodSpec:
    """What a method resolves to: target, stop-gradient, predictor, loss (the simulator's axes)."""

    def __init__(self, target: str, stop_gradient: bool, predictor: str, loss: str):
        self.target, self.stop_gradient, self.predictor, self.loss = target, stop_gradient, predictor, loss

    def __repr__(self) -> str:  # pragma: no cover - display only
        return (f"MethodSpec(target={self.target!r}, stop_gradient={self.stop_gradient}, "
                f"predictor={self.predictor!r}, loss={self.loss!r})")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (`dynamics.bridge.train`, `ssl-dynamics train`).

    **Data**: `dataset` (`digits`, the default, needs no files; `cifar10` / `stl10` read the official
    archives from `data_dir`, `download` fetches them, `verify` checks their md5s; `synthetic`: Gaussian
    vectors of dimension `input_dim` with X = Q diag(`x_eigs`) Q^T and additive views of covariance
    X' = Q diag(`xprime_eigs`) Q^T (or `sigma2` I), Q from `synthetic_basis` / `data_seed`, so the linear
    theory's statistics are known exactly; with `synthetic_image_size` = s the vectors (input_dim = 3 s^2)
    are read as s x s RGB images by the ResNets); `image_size` (digits: 16; others native); `max_unlabeled`
    (STL-10's unlabeled images used, None = all); `augment` (`byol`: BYOL's asymmetric recipe; `light`: the
    same with crops of at least 40% and no blur or solarize; `additive`: noise of covariance X' for synthetic
    vectors; `none`; `auto`: `light` on digits, `byol` on other images, `additive` on vectors);
    `projector_output_bn` (a BatchNorm without scale and offset after the projector; unset: on for digits).

    **Network**: `model` (`resnet18`, `resnet-small`, `mlp`, `deep-linear`, `linear`), `stem` (`cifar`: 3x3 stride 1, no
    max-pool; `stl`: 7x7 stride 2 + max-pool; `auto` picks by image size), `feature_dim` (the encoder's
    output for `mlp` / `linear`), `projector_hidden`, `projector_dim` (0 = no projector), `predictor_hidden`
    (0 = per-model default); unset widths take `SIZE_DEFAULTS[model]`. A linear predictor starts from
    `predictor_init` = `random` (N(0, s^2/d) entries) or `identity` (s I: already aligned with F, the
    decoupled initial condition of THEORY.md §5), s = `predictor_init_scale`.

    **Method**: `method` (`byol`: EMA target, MLP predictor, cosine loss; `simsiam`: the online network is
    the target; `directpred` / `directcopy`: BYOL with the closed-form predictor of (T20) / §6 computed
    from an EMA (rate `rho`) of the predictor-input correlation every `predictor_freq` steps; `isoloss`:
    DirectPred's architecture with IsoLoss (§7, T23) of the cosine loss and [HLZ23]'s predictor recipe;
    `er-byol`: BYOL's architecture with the ER objective (T27)-(T28); `dissl` (T29) / `cissl` (§10):
    heads on both views of the online network, no target, no stop-gradient, no predictor; see
    `dynamics.bridge._methods`), and the overrides `target` (`ema` | `online`), `predictor` (`linear`,
    `symmetric`, `mlp`, `identity` = no predictor, or a closed form: `power_normalized`, `directpred`,
    `directcopy`, `ridge_lstsq`, `soft_projector`, `inverse_sqrt`, `power`), `loss` (`euclidean` (T1),
    `cosine`: BYOL's 2 - 2 cos, or their IsoLoss `isoloss_euclidean`, `isoloss_cosine`: the online output
    receives the gradient of the prediction; `isoloss` needs one of these two, ER / DISSL / CISSL fix
    their own), `stop_gradient` (False: the target branch carries gradient too, routed into the online
    network; DISSL and CISSL never stop gradients), `predictor_alpha`, `predictor_eps`,
    `predictor_eps_convention` (the simulator's closed-form settings; `auto`: before the power for
    `isoloss`, [HLZ23] code, after it otherwise) and `rho` (unset: 0.3; `isoloss`: 0.998 with an EMA
    target, 0.5 without, THEORY.md §7).

    **Objectives of ER, DISSL, CISSL**: `er_kappa` (the vMF concentration of both the reconstruction and
    the kernel entropy, 10); `n_prototypes` (the heads' outputs: DISSL's K, unset = 16384 on CIFAR-sized
    data and 256 on `digits` / `synthetic`; CISSL's embedding width, unset = 128), `head_hidden` (the
    teacher MLP's hidden units, unset = 2048 for ResNet-18, 256 otherwise), `dissl_lambda` (2.3),
    `dissl_beta` (0.8; the log records whether lambda >= 1 + beta holds, not enforced),
    `teacher_temperature` (0.5), `student_temperature` (1.0), `cissl_temperature` (tau, 0.07). DISSL and
    CISSL default to no projector (`projector_dim` unset = 0): the heads read the encoder's features,
    the representation the probes see.

    **Optimization**: `optimizer` (`sgd`: heavy-ball SGD with coupled weight decay, PyTorch's convention;
    `lars`: optax's LARS), `lr` (peak), `momentum`, `weight_decay`, `predictor_lr_mult` (the predictor's
    learning rate is lr x this: alpha_p), `predictor_weight_decay` (unset: `weight_decay`), `lr_schedule`
    (`cosine` with `warmup_epochs` of linear warm-up, or `constant`), `ema_momentum` (gamma, the base of
    BYOL's schedule), `ema_schedule` (`cosine`: 1 - (1 - gamma)(cos(pi k/K) + 1)/2, or `constant`),
    `lars_trust`, `batch_size`, `epochs`, `steps` (overrides `epochs` when set), `precision` (`auto`:
    bfloat16 compute on a GPU, float32 on a CPU; master weights are float32), `seed`.

    **Logging**: `log_every` (steps; 0 = about 8 times per epoch), `probe_size` (images of the fixed
    probe set), `probe_views` (fixed augmentations per probe image, >= 2), `eval_every` (epochs between
    kNN / online-probe evaluations; 0 = only at the end), `knn_k`, `knn_temperature`, `online_probe`,
    `linear_probe` (the offline logistic probe at the end), `checkpoint_every` (steps; 0 = every epoch),
    `keep_checkpoints`.

    **Raises:** `ConfigError` (a `ValueError`) naming the field, the value and the allowed range.
    """

    # data
    dataset: str = "digits"
    data_dir: str | None = None
    download: bool = False
    verify: bool = True
    image_size: int | None = None
    max_unlabeled: int | None = None
    augment: str = "auto"
    input_dim: int = 8
    x_eigs: tuple[float, ...] | None = None
    xprime_eigs: tuple[float, ...] | None = None
    sigma2: float = 0.5
    synthetic_basis: str = "identity"
    data_seed: int = 0
    synthetic_train: int = 8192
    synthetic_test: int = 2048
    synthetic_classes: int = 4
    synthetic_image_size: int | None = None
    # network
    model: str = "resnet-small"
    stem: str = "auto"
    feature_dim: int | None = None
    projector_hidden: int | None = None
    projector_dim: int | None = None
    projector_output_bn: bool | None = None
    predictor_hidden: int | None = None
    predictor_init: str = "random"
    predictor_init_scale: float = 1.0
    # method
    method: str = "byol"
    target: str = "auto"
    predictor: str = "auto"
    loss: str = "auto"
    stop_gradient: bool = True
    predictor_alpha: float | None = None
    predictor_eps: float | None = None
    predictor_eps_convention: str = "auto"
    rho: float | None = None
    predictor_freq: int = 1
    # objectives of ER, DISSL, CISSL
    er_kappa: float = 10.0
    n_prototypes: int | None = None
    head_hidden: int | None = None
    dissl_lambda: float = 2.3
    dissl_beta: float = 0.8
    teacher_temperature: float = 0.5
    student_temperature: float = 1.0
    cissl_temperature: float = 0.07
    # optimization
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 4e-4
    predictor_lr_mult: float = 1.0
    predictor_weight_decay: float | None = None
    lr_schedule: str = "cosine"
    warmup_epochs: float = 0.0
    ema_momentum: float = 0.99
    ema_schedule: str = "cosine"
    lars_trust: float = 0.001
    batch_size: int = 256
    epochs: int = 40
    steps: int | None = None
    precision: str = "auto"
    seed: int = 0
    # logging, evaluation, checkpoints
    log_every: int = 0
    probe_size: int = 512
    probe_views: int = 2
    eval_every: int = 0
    knn_k: int = 200
    knn_temperature: float = 0.1
    online_probe: bool = True
    linear_probe: bool = True
    checkpoint_every: int = 0
    keep_checkpoints: int = 2

    # ------------------------------------------------------------------ validation
    def __post_init__(self) -> None:
        for name, allowed in TRAIN_CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(name, getattr(self, name), f"must be one of {', '.join(allowed)}")
        if self.projector_output_bn is not None and not isinstance(self.projector_output_bn, bool):
            raise ConfigError("projector_output_bn", self.projector_output_bn, "must be true, false or unset")
        for name in ("download", "verify", "stop_gradient", "online_probe", "linear_probe"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(name, getattr(self, name), "must be true or false")
        for name, lo in (("input_dim", 1), ("synthetic_train", 16), ("synthetic_test", 2), ("synthetic_classes", 2),
                         ("predictor_freq", 1), ("batch_size", 2), ("epochs", 1), ("probe_size", 8),
                         ("probe_views", 2), ("knn_k", 1), ("keep_checkpoints", 1)):
            _int(self, name, lo)
        for name, lo in (("log_every", 0), ("eval_every", 0), ("checkpoint_every", 0), ("seed", 0),
                         ("data_seed", 0)):
            _int(self, name, lo)
        for name, lo in (("image_size", 4), ("max_unlabeled", 0), ("feature_dim", 1), ("projector_hidden", 1),
                         ("projector_dim", 0), ("predictor_hidden", 1), ("steps", 1)):
            if getattr(self, name) is not None:
                _int(self, name, lo)
        if self.data_dir is not None and not isinstance(self.data_dir, str):
            raise ConfigError("data_dir", self.data_dir, "must be a folder path (a string)")
        _float(self, "sigma2", 0.0, why="variance of the additive views of synthetic data")
        _float(self, "predictor_init_scale", 0.0, open_=True, why="scale of the linear predictor's initial weights")
        _float(self, "lr", 0.0, open_=True, why="peak learning rate")
        _float(self, "momentum", 0.0, 1.0, hi_open=True, why="heavy-ball momentum, in [0, 1)")
        _float(self, "weight_decay", 0.0, why="coupled weight decay")
        _float(self, "predictor_lr_mult", 0.0, open_=True, why="predictor lr / lr, alpha_p")
        if self.predictor_weight_decay is not None:
            _float(self, "predictor_weight_decay", 0.0, why="weight decay of the predictor")
        _float(self, "warmup_epochs", 0.0, why="linear warm-up length")
        _float(self, "ema_momentum", 0.0, 1.0, why="EMA momentum gamma, in [0, 1]")
        _float(self, "lars_trust", 0.0, open_=True, why="LARS trust coefficient")
        _float(self, "er_kappa", 0.0, open_=True, why="vMF concentration kappa (T27-T28)")
        _float(self, "dissl_lambda", 0.0, why="weight of DISSL's maximality term (T29)")
        _float(self, "dissl_beta", 0.0, why="weight of DISSL's determinism term (T29)")
        for name in ("teacher_temperature", "student_temperature", "cissl_temperature"):
            _float(self, name, 0.0, open_=True, why="softmax temperature")
        _float(self, "knn_temperature", 0.0, open_=True, why="kNN softmax temperature")
        for name in ("x_eigs", "xprime_eigs"):
            value = getattr(self, name)
            if value is not None:
                try:
                    vec = tuple(float(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
                except (TypeError, ValueError):
                    raise ConfigError(name, value, "must be a list of numbers") from None
                if len(vec) != self.input_dim:
                    raise ConfigError(name, f"length {len(vec)}", f"must have length input_dim = {self.input_dim}")
                low = 0.0 if name == "xprime_eigs" else None
                if not all(math.isfinite(v) for v in vec) or (low is None and not all(v > 0 for v in vec)) or (
                        low is not None and not all(v >= 0 for v in vec)):
                    raise ConfigError(name, value, "eigenvalues must be finite and > 0 (X) / >= 0 (X')")
                object.__setattr__(self, name, vec)
        if self.dataset != "synthetic" and (self.x_eigs is not None or self.xprime_eigs is not None):
            raise ConfigError("x_eigs", "given", "is only used with dataset='synthetic'")
        self._check_method_axes()
        self._resolve_auto()
        if self.rho is not None:
            _float(self, "rho", 0.0, 1.0, hi_open=True, why="EMA momentum of the predictor statistics (T19)")
        self._check_method()

    def _check_method_axes(self) -> None:
        """The overrides each method has: ER / DISSL / CISSL fix their loss, DISSL / CISSL have no target
        and no predictor, IsoLoss needs an IsoLoss loss."""
        if self.method in ER_METHODS + ISSL_METHODS and self.loss != "auto":
            raise ConfigError("loss", self.loss, f"method {self.method!r} fixes its objective; leave loss at auto")
        if self.method in ISSL_METHODS:
            for name in ("target", "predictor"):
                if getattr(self, name) != "auto":
                    raise ConfigError(name, getattr(self, name), f"method {self.method!r} has no target network"
                                      " and no predictor (heads on both views of the online network)")
        if self.method == "isoloss" and self.loss not in ("auto",) + ISOLOSS_LOSSES:
            raise ConfigError("loss", self.loss, "method 'isoloss' needs isoloss_euclidean or isoloss_cosine (for"
                              " the plain loss use method directpred or directcopy)")
        for name in ("n_prototypes", "head_hidden"):
            value = getattr(self, name)
            if value is not None:
                _int(self, name, 2 if name == "n_prototypes" else 1)
                if self.method not in ISSL_METHODS:
                    raise ConfigError(name, value, "is only used with method dissl or cissl")

    def _resolve_auto(self) -> None:
        auto = frozenset(name for name, unset in _AUTO_FIELDS.items() if getattr(self, name) == unset)
        object.__setattr__(self, "_auto", auto)
        values = {"rho": default_rho(self.method, self.method_spec.target),
                  "predictor_eps_convention": default_eps_convention(self.method),
                  "n_prototypes": default_prototypes(self.method, self.dataset),
                  "head_hidden": default_head_hidden(self.method, self.model)}
        for name in auto:
            object.__setattr__(self, name, values[name])

    def _check_method(self) -> None:
        spec = self.method_spec
        if self.augment == "additive" and self.dataset != "synthetic":
            raise ConfigError("augment", "additive", "additive views of known covariance need dataset='synthetic'")
        if self.dataset == "synthetic" and self.augment in ("byol", "light"):
            raise ConfigError("augment", self.augment, "the synthetic vectors take additive views (augment='additive')")
        if self.synthetic_image_size is not None:
            _int(self, "synthetic_image_size", 4)
            if self.dataset != "synthetic":
                raise ConfigError("synthetic_image_size", self.synthetic_image_size, "is only used with"
                                  " dataset='synthetic'")
            if self.input_dim != 3 * self.synthetic_image_size**2:
                raise ConfigError("input_dim", self.input_dim, f"must be 3 x synthetic_image_size^2 ="
                                  f" {3 * self.synthetic_image_size**2} (the vectors are RGB images)")
        if self.model in ("resnet18", "resnet-small") and self.dataset == "synthetic" and not self.synthetic_image_size:
            raise ConfigError("model", self.model, "synthetic data are vectors: use model='mlp', 'deep-linear' or"
                              " 'linear', or set synthetic_image_size to read them as images")
        if self.predictor_alpha is not None:
            _float(self, "predictor_alpha", 0.0, open_=True, why="power of the closed-form predictor")
            if spec.predictor not in POWER_PREDICTORS:
                raise ConfigError("predictor_alpha", self.predictor_alpha,
                                  f"is only used with predictor in {', '.join(POWER_PREDICTORS)}")
            fixed = FIXED_PREDICTOR_ALPHA.get(spec.predictor)
            if fixed is not None and self.predictor_alpha != fixed:
                raise ConfigError("predictor_alpha", self.predictor_alpha,
                                  f"predictor={spec.predictor!r} fixes alpha = {fixed:g}")
        if self.predictor_eps is not None:
            _float(self, "predictor_eps", 0.0, why="epsilon of the closed-form predictor")
            if spec.predictor not in CLOSED_FORM_PREDICTORS:
                raise ConfigError("predictor_eps", self.predictor_eps, "is only used with a closed-form predictor")
        if self.model in ("resnet18", "resnet-small") and self.feature_dim is not None:
            raise ConfigError("feature_dim", self.feature_dim, "is set by the ResNet's width (mlp and linear only)")
        if not spec.stop_gradient and spec.target == "ema" and spec.predictor in CLOSED_FORM_PREDICTORS:
            raise ConfigError("stop_gradient", False, "a closed-form predictor run without stop-gradient is not"
                              " defined here; use a trained predictor")

    # ------------------------------------------------------------------ derived values
    @property
    def method_spec(self) -> MethodSpec:
        """The method with its overrides applied (target, stop-gradient, predictor, loss). DISSL and CISSL
        read as the simulator's axes would: the online network on both sides (`target="online"`), no
        stop-gradient, no predictor (`"none"`), their own loss."""
        defaults = METHOD_DEFAULTS[self.method]
        if defaults.family == "issl":
            return MethodSpec("online", False, "none", defaults.loss)
        target, predictor, loss = defaults.target, defaults.predictor, defaults.loss
        if self.target != "auto":
            target = self.target
        if self.predictor != "auto":
            predictor = self.predictor
        elif predictor is None:
            predictor = "linear" if self.model in ("linear", "deep-linear") else "mlp"
        if self.loss != "auto":
            loss = self.loss
        return MethodSpec(target, self.stop_gradient, predictor, loss)

    @property
    def method_family(self) -> str:
        """`predictive`, `er` or `issl` (`dynamics.bridge._methods`)."""
        return METHOD_DEFAULTS[self.method].family

    @property
    def dissl_condition_holds(self) -> bool:
        r"""[DHEL22]'s condition on (T29)'s weights, $\lambda \ge 1 + \beta$ (reported, not enforced)."""
        return self.dissl_lambda >= 1.0 + self.dissl_beta

    def method_attrs(self) -> dict[str, Any]:
        """Log attributes of the method: `flow_mapping` (THEORY.md §1's map, or `none (...)` for the
        methods without a linear-theory flow), `theory`, `method_family`, and for DISSL
        `dissl_condition` / `dissl_condition_holds`."""
        out: dict[str, Any] = {"flow_mapping": flow_mapping(self.method, self.optimizer),
                               "theory": theory_tags(self.method, self.method_spec.loss),
                               "method_family": self.method_family}
        if self.method == "dissl":
            holds = self.dissl_condition_holds
            out["dissl_condition"] = (f"lambda >= 1 + beta {'holds' if holds else 'fails'}: {self.dissl_lambda:g}"
                                      f" {'>=' if holds else '<'} {1.0 + self.dissl_beta:g}")
            out["dissl_condition_holds"] = int(holds)
        return out

    @property
    def projector_output_bn_effective(self) -> bool:
        """Whether the projector ends with a BatchNorm without scale and offset: `projector_output_bn`, or
        when unset on `digits` only (there the projections' shared mean direction otherwise lets the
        predictor output a constant and BYOL stalls; measured, see README)."""
        return self.dataset == "digits" if self.projector_output_bn is None else self.projector_output_bn

    @property
    def widths(self) -> tuple[int, int, int, int]:
        """(encoder feature dim, projector hidden, projector out (0: none), predictor hidden)."""
        feat, hidden, out, pred = SIZE_DEFAULTS[self.model]
        if self.feature_dim is not None:
            feat = self.feature_dim
        if self.projector_hidden is not None:
            hidden = self.projector_hidden
        if self.projector_dim is not None:
            out = self.projector_dim
        elif self.method in ISSL_METHODS:
            out = 0  # the heads read the encoder's features (the representation)
        if out and not hidden:
            hidden = 256
        if self.predictor_hidden is not None:
            pred = self.predictor_hidden
        if not pred:
            pred = 256
        return feat, hidden, out, pred

    @property
    def projector_dim_effective(self) -> int:
        return self.widths[2]

    @property
    def predictor_dim(self) -> int:
        """Width of the predictor's input, f (the projector's output, or the encoder's without one)."""
        feat, _, out, _ = self.widths
        return out or feat

    @property
    def predictor_alpha_effective(self) -> float:
        spec = self.method_spec
        if spec.predictor in FIXED_PREDICTOR_ALPHA:
            return FIXED_PREDICTOR_ALPHA[spec.predictor]
        return 0.5 if self.predictor_alpha is None else self.predictor_alpha

    @property
    def predictor_eps_effective(self) -> float:
        spec = self.method_spec
        if spec.predictor not in CLOSED_FORM_PREDICTORS:
            return 0.0
        return DEFAULT_PREDICTOR_EPS[spec.predictor] if self.predictor_eps is None else self.predictor_eps

    @property
    def predictor_weight_decay_effective(self) -> float:
        return self.weight_decay if self.predictor_weight_decay is None else self.predictor_weight_decay

    @property
    def loss_scale(self) -> float:
        """Gradient of the training loss over that of the simulator's loss of the same name: BYOL's
        cosine loss 2 - 2 cos (and its IsoLoss) has twice the gradient of the simulator's -cos (§7);
        Euclidean and its IsoLoss: 1. ER, DISSL and CISSL have no flow counterpart: 1 (their time axis is
        the sum of lr_k / (1 - mu), `flow_mapping` says so)."""
        return 2.0 if self.method_spec.loss in ("cosine", "isoloss_cosine") else 1.0

    def flow_rates(self, lr: float | None = None, ema_momentum: float | None = None) -> FlowRates:
        """The flow rates (T2)-(T4) this run follows at learning rate `lr` and EMA momentum
        `ema_momentum` (default: the peak lr and the base momentum), with THEORY.md §1's map
        (`dynamics.discrete_to_flow`) applied to the simulator's loss: a loss with `loss_scale` k has
        gradient k times the simulator's, so the effective learning rate is k lr and the coupled decay
        wd / k. SimSiam targets (`target="online"`, also DISSL and CISSL) have no EMA: beta is reported as
        inf. For ER, DISSL and CISSL these are the optimizer's rates on the k = 1 time axis, not the rates of
        a flow the run follows (`method_attrs()["flow_mapping"]`)."""
        k = self.loss_scale
        lr = self.lr if lr is None else lr
        gamma = self.ema_momentum if ema_momentum is None else ema_momentum
        rates = discrete_to_flow(k * lr, momentum=self.momentum, ema_momentum=gamma,
                                 weight_decay=self.weight_decay / k, predictor_lr=k * lr * self.predictor_lr_mult,
                                 predictor_weight_decay=self.predictor_weight_decay_effective / k)
        if self.method_spec.target == "online":
            rates = rates._replace(beta=math.inf)
        return rates

    # ------------------------------------------------------------------ conversion
    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with `changes` (validated again); fields that were unset and resolved per method
        (`rho`, `predictor_eps_convention`, `n_prototypes`, `head_hidden`) are resolved again for the new
        method / target unless `changes` sets them."""
        unset = {name: _AUTO_FIELDS[name] for name in getattr(self, "_auto", ()) if name not in changes}
        return dataclasses.replace(self, **{**unset, **changes})

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def flat_attrs(self) -> dict[str, Any]:
        """Scalar fields for netCDF attributes (None as "unset", booleans as 0/1, vectors omitted)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                continue
            out[f"train_{f.name}"] = "unset" if value is None else (int(value) if isinstance(value, bool) else value)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        for key in values:
            if key not in known:
                raise ConfigError(str(key), values[key], f"unknown training setting; known: {', '.join(sorted(known))}")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        return cls.from_dict(json.loads(text))


def _int(obj: TrainConfig, name: str, lo: int) -> None:
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value != int(value):
        raise ConfigError(name, value, "must be an integer")
    if int(value) < lo:
        raise ConfigError(name, value, f"must be an integer >= {lo}")
    if int(value) >= 2**31:
        raise ConfigError(name, value, "must be < 2**31")
    object.__setattr__(obj, name, int(value))


def _float(obj: TrainConfig, name: str, lo: float | None = None, hi: float | None = None, *, open_: bool = False,
           hi_open: bool = False, why: str = "") -> None:
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(name, value, f"must be a finite number ({why})")
    value = float(value)
    if lo is not None and not (value > lo if open_ else value >= lo):
        raise ConfigError(name, value, f"must be {'>' if open_ else '>='} {lo:g} ({why})")
    if hi is not None and not (value < hi if hi_open else value <= hi):
        raise ConfigError(name, value, f"must be {'<' if hi_open else '<='} {hi:g} ({why})")
    object.__setattr__(obj, name, value)
