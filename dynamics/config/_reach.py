"""The settings of `Config` that reach the sampled simulators (issue 16): minibatch SGD on the linear
model (`dynamics.stochastic`), entropy + reconstruction (`dynamics.objectives`, T27-T28) and ISSL
(`dynamics.issl`, T29).

Which simulator runs follows from three fields: `model="issl"` is ISSL; `objective="er"` (rec - H)
or `"rec"` (the reconstruction term alone, BYOL's normalized loss) is ER; `discrete=True` with the
BYOL objective is minibatch SGD on the loss of `loss`; anything else is the gradient flow.
`resolve_sampled` fills the unset fields with the simulator's defaults and derives the flow
rates and the time grid that the run follows (THEORY.md §1), so the config of a result names every
number it used and `Config.from_dataset` rebuilds it exactly.

The ranges here are those of `SGDSettings`, `ERSettings` and `ISSLSettings` (which check them again
when the simulators build them); the field names are the same, except ISSL's `learning_rate`,
which is `lr` here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ._discrete import discrete_to_flow
from ._errors import ConfigError, finite_float

if TYPE_CHECKING:
    from ._config import Config

__all__ = ["SIMULATORS", "OBJECTIVES", "SGD_FIELDS", "ER_FIELDS", "ISSL_FIELDS", "ISSL_SHARED_FIELDS",
           "SAMPLED_FIELDS", "BOOL_FIELDS", "SGD_DEFAULTS", "ER_DEFAULTS", "ISSL_DEFAULTS", "DERIVED_FIELDS",
           "simulator_of", "resolve_sampled", "selects_sampled", "check_derived_not_given"]

#: The simulators one `Config` can describe (`Config.simulator`).
SIMULATORS = ("flow", "sgd", "er", "issl")
#: Objectives per model family: BYOL's loss (the `loss` field), ER (`er`: rec - H, T27-T28) or its
#: reconstruction term alone (`rec`), and ISSL's DISSL (T29) / CISSL.
OBJECTIVES = ("byol", "er", "rec", "dissl", "cissl")
#: Discrete-training fields (`SGDSettings`), used by the sgd and er simulators.
SGD_FIELDS = ("lr", "steps", "batch_size", "momentum", "ema_momentum", "weight_decay", "decoupled", "predictor_lr",
              "predictor_weight_decay", "save_every", "rho", "predictor_freq")
#: ER fields (`ERSettings`; its `objective` is `objective` here).
ER_FIELDS = ("kappa", "plugin", "batches", "eval_samples")
#: ISSL fields (`ISSLSettings`; its `objective` is `objective`, `learning_rate` is `lr`, and n1, n2,
#: init_scale and seed are the shared fields).
ISSL_FIELDS = ("n_classes", "n_prototypes", "teacher_hidden", "class_scale", "noise_scale", "lambda_maximality",
               "beta_det_inv", "temperature", "temperature_teacher", "temperature_student", "optimizer",
               "eval_per_class", "batch_classes")
#: Training fields ISSL shares with SGD.
ISSL_SHARED_FIELDS = ("lr", "steps", "batch_size", "momentum", "weight_decay", "save_every")
#: Every field of this module (all unset, or False, for a flow run).
SAMPLED_FIELDS = SGD_FIELDS + ER_FIELDS + ISSL_FIELDS
#: Yes/no fields (flags `--discrete` / `--no-discrete` on the command line).
BOOL_FIELDS = ("discrete", "decoupled", "plugin")
#: Fields a sampled run derives from its training settings (THEORY.md §1): given with `discrete`, the
#: command line refuses them (`check_derived_not_given`).
DERIVED_FIELDS = ("alpha_p", "beta", "eta", "eta_p", "t_max", "n_save", "save_spacing")

SGD_DEFAULTS: dict[str, Any] = {"lr": 0.01, "batch_size": 128, "momentum": 0.0, "ema_momentum": 0.996,
                                "weight_decay": 0.0, "rho": 0.3, "predictor_freq": 1}
ER_DEFAULTS: dict[str, Any] = {"kappa": 10.0, "batches": "fixed", "eval_samples": 512}
#: `ISSLSettings`' defaults (a test keeps them equal).
ISSL_DEFAULTS: dict[str, Any] = {
    "n_classes": 8, "n_prototypes": 64, "teacher_hidden": 64, "class_scale": 1.0, "noise_scale": 0.3,
    "lambda_maximality": 2.3, "beta_det_inv": 0.8, "temperature": 0.07, "temperature_teacher": 0.5,
    "temperature_student": 1.0, "optimizer": "sgd", "eval_per_class": 64, "batch_classes": "uniform",
    "lr": 0.05, "momentum": 0.9, "weight_decay": 3e-3, "steps": 2000, "batch_size": 128, "save_every": 200}

# name -> (integer?, low, low open?, high, high open?, why)
_RANGES: dict[str, tuple] = {
    "lr": (False, 0.0, True, None, False, "learning rate"),
    "steps": (True, 1, False, None, False, "optimizer steps"),
    "batch_size": (True, 1, False, None, False, "samples per step"),
    "momentum": (False, 0.0, False, 1.0, True, "heavy-ball momentum"),
    "ema_momentum": (False, 0.0, False, 1.0, False, "EMA momentum gamma"),
    "weight_decay": (False, 0.0, False, None, False, "weight decay of W"),
    "predictor_lr": (False, 0.0, True, None, False, "learning rate of Wp"),
    "predictor_weight_decay": (False, 0.0, False, None, False, "weight decay of Wp"),
    "save_every": (True, 1, False, None, False, "steps between saved states"),
    "rho": (False, 0.0, False, 1.0, True, "EMA momentum of the predictor statistics, T19"),
    "predictor_freq": (True, 1, False, None, False, "steps between closed-form predictor updates"),
    "kappa": (False, 0.0, True, None, False, "vMF concentration, T28"),
    "eval_samples": (True, 2, False, None, False, "points of the kernel entropy estimate"),
    "n_classes": (True, 2, False, None, False, "number of equivalence classes C"),
    "n_prototypes": (True, 1, False, None, False, "head output width K"),
    "teacher_hidden": (True, 1, False, None, False, "hidden units of the teacher MLP"),
    "eval_per_class": (True, 1, False, None, False, "fixed evaluation samples per class"),
    "class_scale": (False, 0.0, True, None, False, "norm of the class centres"),
    "noise_scale": (False, 0.0, False, None, False, "within-class (augmentation) noise"),
    "lambda_maximality": (False, 0.0, False, None, False, "weight of the maximality term H(mean t), T29"),
    "beta_det_inv": (False, 0.0, False, None, False, "weight of the determinism/invariance term, T29"),
    "temperature": (False, 0.0, True, None, False, "CISSL softmax temperature"),
    "temperature_teacher": (False, 0.0, True, None, False, "DISSL teacher temperature"),
    "temperature_student": (False, 0.0, True, None, False, "DISSL student temperature"),
}
_CHOICE_FIELDS = {"batches": ("fixed", "fresh"), "optimizer": ("sgd", "adam"),
                  "batch_classes": ("uniform", "distinct")}
_ER_PREDICTORS = ("trained", "symmetric", "identity")


def simulator_of(config: Config) -> str:
    """"issl" for `model="issl"`, "er" for the ER objectives, "sgd" for `discrete=True`, else "flow"."""
    if config.model == "issl":
        return "issl"
    if config.objective in ("er", "rec"):
        return "er"
    return "sgd" if config.discrete else "flow"


def _set(config: Config, name: str, value: Any) -> None:
    object.__setattr__(config, name, value)


def _check_range(config: Config, name: str) -> None:
    value = getattr(config, name)
    if name in _CHOICE_FIELDS:
        if value not in _CHOICE_FIELDS[name]:
            raise ConfigError(name, value, f"must be one of {', '.join(_CHOICE_FIELDS[name])}")
        return
    integer, lo, lo_open, hi, hi_open, why = _RANGES[name]
    if name in ("weight_decay", "predictor_weight_decay") and config.decoupled:
        hi, why = 1.0, why + " (decoupled: a per-step shrink fraction in [0, 1])"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, value, f"must be {'an integer' if integer else 'a number'} ({why})")
    if integer:
        if isinstance(value, float) and not (math.isfinite(value) and value == int(value)):
            raise ConfigError(name, value, f"must be an integer ({why})")
        value = int(value)
        if not lo <= value <= 2**31 - 1:
            raise ConfigError(name, value, f"must be an integer from {lo} to 2**31 - 1 ({why})")
    else:
        value = finite_float(name, value, why)
        below = value <= lo if lo_open else value < lo
        above = hi is not None and (value >= hi if hi_open else value > hi)
        if below or above:
            low = f"{'(' if lo_open else '['}{lo:g}"
            high = f"{hi:g}{')' if hi_open else ']'}" if hi is not None else "inf)"
            raise ConfigError(name, value, f"must be in {low}, {high} ({why})")
    _set(config, name, value)


def _where(name: str) -> str:
    if name in ER_FIELDS:
        return "objective='er' or 'rec'"
    if name in ISSL_FIELDS:
        return "model='issl'"
    if name in ISSL_SHARED_FIELDS:
        return "discrete=true, objective='er'/'rec' or model='issl'"
    return "discrete=true or objective='er'/'rec'"


def resolve_sampled(config: Config) -> None:
    """Check the fields of this module against the simulator they select, fill unset ones with that
    simulator's defaults and, for a sampled run, set the flow rates and time grid it follows (in
    place, from `Config.__post_init__`).

    - sgd / er: `steps` unset is round(t_max / a_eff) with a_eff = lr / (1 - momentum); `save_every`
      unset is the largest divisor of `steps` giving at least `n_save` saved states; then
      (alpha_p, beta, eta, eta_p) = `discrete_to_flow(...)`, t_max = steps a_eff, n_save = steps /
      save_every + 1, save_spacing = "linear".
    - issl: t_max = steps a_eff (a_eff = lr / (1 - momentum) for SGD, lr for Adam), n_save and
      save_spacing as above; the flow rates are not used.

    **Raises:** `ConfigError` naming the field.
    """
    for name in ("discrete", "decoupled", "plugin"):
        if not isinstance(getattr(config, name), bool):
            raise ConfigError(name, getattr(config, name), "must be true or false")
    objective = config.objective
    if objective is None:
        objective = "dissl" if config.model == "issl" else "byol"
    if objective not in OBJECTIVES:
        raise ConfigError("objective", objective, f"must be one of {', '.join(OBJECTIVES)}")
    if config.model == "issl" and objective not in ("dissl", "cissl"):
        raise ConfigError("objective", objective, "model='issl' takes objective dissl (T29) or cissl")
    if config.model != "issl" and objective in ("dissl", "cissl"):
        raise ConfigError("objective", objective, f"is an ISSL objective: it needs model='issl' (model = "
                          f"{config.model!r}); the linear model takes byol, er or rec")
    _set(config, "objective", objective)
    if objective in ("er", "rec") or config.model == "issl":
        _set(config, "discrete", True)  # trained by sampled steps
    simulator = simulator_of(config)
    if simulator in ("sgd", "er") and config.model != "full":
        raise ConfigError("model", config.model, f"{'discrete=true' if simulator == 'sgd' else 'objective=' + repr(objective)}"
                          " trains the matrix network: needs model='full'")
    if simulator == "er":
        if config.predictor not in _ER_PREDICTORS:
            raise ConfigError("predictor", config.predictor,
                              f"objective={objective!r} supports predictor {', '.join(_ER_PREDICTORS)}")
        if config.loss != "euclidean" or config.expectation != "exact":
            field = "loss" if config.loss != "euclidean" else "expectation"
            raise ConfigError(field, getattr(config, field), f"is not used with objective={objective!r} (its loss is "
                              "the normalized vMF reconstruction, its expectation sampled): leave it at the default")
    used = {"flow": (), "sgd": SGD_FIELDS, "er": SGD_FIELDS + ER_FIELDS,
            "issl": ISSL_SHARED_FIELDS + ISSL_FIELDS}[simulator]
    for name in SAMPLED_FIELDS:
        value = getattr(config, name)
        if name not in used and value is not None and value is not False:
            raise ConfigError(name, value, f"is only used with {_where(name)} (this config runs the {simulator}"
                              " simulator)")
    if simulator == "flow":
        return
    defaults = {"sgd": SGD_DEFAULTS, "er": {**SGD_DEFAULTS, **ER_DEFAULTS}, "issl": ISSL_DEFAULTS}[simulator]
    for name in used:
        if name in BOOL_FIELDS:
            continue
        if getattr(config, name) is None:
            if name in defaults:
                _set(config, name, defaults[name])
            else:
                continue  # predictor_lr, predictor_weight_decay: unset follows lr / weight_decay; steps, save_every
        _check_range(config, name)
    if simulator == "issl":
        if config.n1 < config.n_classes:
            raise ConfigError("n1", config.n1, f"model='issl' needs n1 >= n_classes = {config.n_classes} (the class"
                              " centres are orthonormal)")
        if config.batch_size < 2:
            raise ConfigError("batch_size", config.batch_size, "must be an integer >= 2 (view pairs per step)")
        if config.batch_classes == "distinct" and config.batch_size > config.n_classes:
            raise ConfigError("batch_size", config.batch_size,
                              f"must be <= n_classes = {config.n_classes} with batch_classes='distinct'")
        a_eff = config.lr / (1.0 - config.momentum) if config.optimizer == "sgd" else config.lr
    else:
        a_eff = config.lr / (1.0 - config.momentum)
        if config.steps is None:
            _set(config, "steps", max(1, round(config.t_max / a_eff)))
            _check_range(config, "steps")
    if config.save_every is None:
        every = max(1, config.steps // (config.n_save - 1))
        while config.steps % every:
            every -= 1
        _set(config, "save_every", every)
    if config.steps % config.save_every:
        raise ConfigError("save_every", config.save_every, f"must divide steps = {config.steps}")
    if simulator != "issl":
        rates = discrete_to_flow(config.lr, momentum=config.momentum, ema_momentum=config.ema_momentum,
                                 weight_decay=config.weight_decay, decoupled=config.decoupled,
                                 predictor_lr=config.predictor_lr, predictor_weight_decay=config.predictor_weight_decay)
        for name in ("alpha_p", "beta", "eta", "eta_p"):
            _set(config, name, float(getattr(rates, name)))
    _set(config, "t_max", float(config.steps * a_eff))
    _set(config, "n_save", config.steps // config.save_every + 1)
    _set(config, "save_spacing", "linear")


def selects_sampled(values: dict[str, Any]) -> bool:
    """Whether settings given as a mapping (command line, settings file) select a sampled simulator:
    `discrete` true, an objective other than byol, or `model="issl"`."""
    return (values.get("discrete") is True or values.get("objective") not in (None, "byol")
            or values.get("model") == "issl")


def check_derived_not_given(values: dict[str, Any]) -> None:
    """Refuse, for a sampled run, settings the run derives from its training settings (THEORY.md §1),
    when they were given (command line or settings file): a given value would be replaced silently.
    `t_max` may be given while `steps` is not (it sets the number of steps), `n_save` while
    `save_every` is not.

    **Raises:** `ConfigError` naming the first such field.
    """
    if not selects_sampled(values):
        return
    issl = values.get("model") == "issl"
    for name in DERIVED_FIELDS:
        if name not in values:
            continue
        if name == "t_max" and "steps" not in values and not issl:
            continue
        if name == "n_save" and "save_every" not in values:
            continue
        if issl and name in ("alpha_p", "beta", "eta", "eta_p"):
            continue  # not read by ISSL at all: `config._unused` refuses them with that reason
        how = {"t_max": "steps x lr/(1-momentum)", "n_save": "steps / save_every + 1", "save_spacing": "linear"}.get(
            name, "discrete_to_flow(lr, momentum, ema_momentum, weight_decay, ...)")
        raise ConfigError(name, values[name], f"is derived for a sampled run ({how}, THEORY.md §1); set the training "
                          "settings (lr, momentum, ema_momentum, weight_decay, steps, save_every) instead")
