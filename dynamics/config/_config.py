"""The frozen, validated settings of one simulation: `Config`.

Every field is a plain scalar, string or tuple, so a `Config` round-trips through TOML, JSON and the
attributes of a result file. Symbols follow THEORY.md: (T2)-(T4) for the rates, (T6) for the balanced
initialization, (T11)-(T13)/(T13b) for the eigenmode model.

Length: over 400 lines on purpose: `Config` holds every field and its check in one frozen class (equinox's
"all fields and `__init__` in one class"); the size guard, data statistics and file reading are apart.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

from ._errors import ConfigError, finite_float
from ._reach import BOOL_FIELDS, OBJECTIVES, SAMPLED_FIELDS, resolve_sampled, simulator_of
from ._size import check_size, run_bytes

__all__ = ["Config", "CHOICES", "MATRIX_FIELDS", "VECTOR_FIELDS", "CLOSED_FORM_PREDICTORS", "POWER_PREDICTORS",
           "FIXED_PREDICTOR_ALPHA", "DEFAULT_PREDICTOR_ALPHA", "DEFAULT_PREDICTOR_EPS", "LOSSES", "MAX_SEED",
           "MAX_COUNT", "CROSS_CHECKED"]

Matrix = tuple[tuple[float, ...], ...]
Vector = tuple[float, ...]

#: Closed-form predictors (THEORY.md §6-§8), named by what they compute (`dynamics.flows._predictors`).
CLOSED_FORM_PREDICTORS = ("power", "power_normalized", "directpred", "directcopy", "ridge_lstsq",
                          "soft_projector", "inverse_sqrt")
#: Closed forms that take a power alpha and an epsilon convention.
POWER_PREDICTORS = ("power", "power_normalized", "directpred", "directcopy")
#: Predictors whose power is fixed by their definition: DirectPred (T20) and DirectCopy (§6).
FIXED_PREDICTOR_ALPHA = {"directpred": 0.5, "directcopy": 1.0}
#: Power of `power` and `power_normalized` when `predictor_alpha` is unset.
DEFAULT_PREDICTOR_ALPHA = 0.5
#: Epsilon of each closed form when `predictor_eps` is unset: DirectPred 0.1 (T20, best on STL-10),
#: DirectCopy 0.25 (§6), the exact forms (0) for power, power_normalized and ridge_lstsq;
#: soft_projector 0.1 (eps sets its level, eps / (sigma2 (1 + sigma2)) under A2; eps = 0 would be the
#: hard projector onto the range, Wp = I there) and inverse_sqrt 0.1 (finite as a mode collapses).
DEFAULT_PREDICTOR_EPS = {"power": 0.0, "power_normalized": 0.0, "directpred": 0.1, "directcopy": 0.25,
                         "ridge_lstsq": 0.0, "soft_projector": 0.1, "inverse_sqrt": 0.1}
#: Losses (THEORY.md (T1), §7): Euclidean, cosine and their IsoLoss variants.
LOSSES = ("euclidean", "cosine", "isoloss_euclidean", "isoloss_cosine")

#: Allowed values of every string-valued field.
CHOICES: dict[str, tuple[str, ...]] = {
    "model": ("full", "modes", "issl"),
    "data": ("isotropic", "spectrum", "matrices"),
    "basis": ("identity", "random"),
    "target": ("ema", "online"),
    "stop_gradient": ("target", "none", "online"),
    "predictor": ("trained", "symmetric", "identity") + CLOSED_FORM_PREDICTORS,
    "predictor_eps_convention": ("after_power", "before_power"),
    "loss": LOSSES,
    "expectation": ("exact", "sampled", "mean_field"),
    "init": ("random", "balanced", "given"),
    "save_spacing": ("linear", "log"),
    "solver": ("tsit5", "dopri5", "dopri8", "scipy-rk45", "scipy-dop853", "scipy-radau", "scipy-lsoda"),
    "dtype": ("float64", "float32"),
    # the sampled simulators (unset allowed; `dynamics.config._reach`)
    "objective": OBJECTIVES,
    "batches": ("fixed", "fresh"),
    "optimizer": ("sgd", "adam"),
    "batch_classes": ("uniform", "distinct"),
}
#: Fields a flow run leaves at their defaults and does not write (`to_dict`, `flat_attrs`), so a flow
#: config's JSON, its result attributes and a sweep store's signature are those of before issue 16.
_SAMPLED_ONLY = ("objective",) + BOOL_FIELDS + SAMPLED_FIELDS
#: Choice fields that may be unset (None: the simulator's default, `resolve_sampled`).
_OPTIONAL_CHOICES = ("objective", "batches", "optimizer", "batch_classes")

#: Largest seed: seeds are stored as 64-bit attributes and fed to generators that take 32-bit seeds.
MAX_SEED = 2**32 - 1
#: Largest size or count (n1, n2, n_save, max_steps, n_samples): a 32-bit signed integer.
MAX_COUNT = 2**31 - 1

#: Numeric fields whose allowed values depend on another field's value (the checks of `_check_model`,
#: `_check_predictor`, `_check_loss`); a sweep validates each of their values with every combination of
#: the swept choice fields up front (other values one at a time). Keep it in step with the checks; a
#: check between two numeric fields would need the sweep's validation extended.
CROSS_CHECKED = ("tau0", "tau0_modes", "predictor_alpha", "predictor_eps", "n_samples", "n1", "n2")

#: Fields that hold a matrix (nested tuples); on the CLI they take a path to a .npy or text file.
MATRIX_FIELDS = ("X", "Xprime", "W0", "Wp0", "Wa0")
#: Fields that hold a vector; on the CLI they take comma-separated numbers.
VECTOR_FIELDS = ("x_eigs", "xprime_eigs", "p0", "s0", "tau0_modes")


@dataclass(frozen=True)
class Config:
    """Settings of one two-layer linear BYOL / SimSiam simulation (THEORY.md §1-§5).

    **Model and sizes**

    - `model`: `"full"` integrates the matrix flow (T2)-(T4) (or (T5) without stop-gradient);
      `"modes"` integrates the decoupled eigenmode system (T11)-(T13), generalized to per-mode data
      eigenvalues as in (T13b). Modes need `data` isotropic or spectrum and `n2 <= n1`.
    - `n1`, `n2`: input and output widths; W is n2 x n1, Wp is n2 x n2.

    **Data statistics** (X = E[x1 x2^T] symmetric positive definite, X' = augmentation covariance,
    positive semi-definite; X + X' = E[x1 x1^T])

    - `data="isotropic"`: X = I, X' = `sigma2` I (assumption A2).
    - `data="spectrum"`: X = Q diag(`x_eigs`) Q^T, X' = Q diag(`xprime_eigs`) Q^T (or `sigma2` I when
      `xprime_eigs` is unset), with Q the identity or a random orthogonal matrix (`basis`, `data_seed`).
    - `data="matrices"`: X and X' given as nested lists (`X`, `Xprime`).

    **Gradient path** (two independent settings)

    - `target`: `"ema"` (BYOL, Wa follows (T4) at rate `beta`) or `"online"` (SimSiam, Wa = W).
    - `stop_gradient`: `"target"` (the usual stop-gradient on the target branch, (T2)-(T3)), `"none"`
      (gradient flows through both branches into W; with `target="online"` this is (T5)), `"online"`
      (the "wrong side" ablation of §7: only the target branch carries gradient).
    - `predictor`: `"trained"` (T2 at relative rate `alpha_p`), `"symmetric"` (the T2 flow
      symmetrized, assumption A3 of Thm 3), `"identity"` (no predictor, Wp = I), or a closed form
      recomputed from the weights at every evaluation (no gradient through it; THEORY.md §6-§8):
      `"power"` (W X W^T)^alpha (T21), `"power_normalized"` (normalized spectral power of
      C = W (X+X') W^T plus eps), `"directpred"` (the same at alpha = 1/2, T20),
      `"directcopy"` (C/||C||_2 + eps I), `"ridge_lstsq"` (Wa X W^T (C + eps I)^+, T26 in the
      columns convention), `"soft_projector"` (C (C + eps I)^+), `"inverse_sqrt"` ((C + eps I)^{-1/2}).
    - `predictor_alpha` (power family only; unset = 0.5, fixed at 0.5 for directpred and 1 for
      directcopy), `predictor_eps` (>= 0; unset = `DEFAULT_PREDICTOR_EPS[predictor]`, see
      `predictor_eps_effective`), `predictor_eps_convention` (`"after_power"`: v^alpha + eps, T20 and
      [TCG21] code; `"before_power"`: (v + eps)^alpha, [HLZ23] code; power family only).

    **Loss and expectation** (THEORY.md §7)

    - `loss`: `"euclidean"` (T1), `"cosine"` (-p^T z2 / (||p|| ||z2||)), `"isoloss_euclidean"`,
      `"isoloss_cosine"` (IsoLoss: z1 receives the gradient dL/dp of the prediction, realized as a
      stop-gradient target; a trained predictor still follows dL/dWp).
    - `expectation`: `"exact"` (closed-form moments; Euclidean losses only), `"sampled"` (model
      full: autodiff of the loss on `n_samples` view pairs drawn once from `sample_seed`, used in
      both orders, common random numbers across runs) or `"mean_field"` (cosine losses: norms
      replaced by their root-mean-square values, T25 under A2 with the power predictor).

    **Rates**: `alpha_p` > 0 (predictor relative rate), `beta` >= 0 (EMA rate), `eta` >= 0 (weight
    decay on W), `eta_p` (weight decay on Wp; unset follows `eta`, see `eta_p_effective`).

    **Initialization** (`init`): `"random"` draws W with N(0, init_scale^2 / n1) entries and Wp with
    N(0, init_scale_p^2 / n2) entries (`seed`); `"balanced"` draws W likewise and sets
    Wp = sqrt(alpha_p) (W W^T)^{1/2}, so that C = 0 in (T6); `"given"` takes `W0`, `Wp0` (and
    optionally `Wa0`; `Wp0` is not needed for identity or closed-form predictors, whose Wp(0) is
    set from W(0)). Wa(0) = `tau0` W(0) unless `Wa0` is given. For `model="modes"` the initial
    (p_j, s_j, tau_j) are `p0`, `s0` and `tau0_modes` (default `tau0` for every mode); unset `s0` is
    init_scale^2 * geomspace(1e-2, 1, n2) and unset `p0` is sqrt(alpha_p s0) (on the parabola of T14)
    for `init="balanced"`, else init_scale_p * geomspace(1e-2, 1, n2).

    **Integration**: `t_max`, `n_save` saved times (`save_spacing` linear from 0 or log from
    t_max * 1e-4), `solver` (diffrax `tsit5`/`dopri5`/`dopri8` or the scipy `solve_ivp` reference
    methods `scipy-*`), `rtol` = 1e-8, `atol` = 1e-10, `max_steps`, `dtype` (float64 by default), and
    `divergence_threshold`: a trajectory whose state norm exceeds it is stopped and marked
    `diverged`.

    **The sampled simulators** (`simulator`; fields and defaults in `dynamics.config._reach`)

    - `discrete=True`: minibatch SGD on the full model (`dynamics.stochastic.simulate_sgd`) with
      `lr`, `steps`, `batch_size`, `momentum`, `ema_momentum`, `weight_decay`, `decoupled`,
      `predictor_lr`, `predictor_weight_decay`, `save_every`, `rho`, `predictor_freq`.
    - `objective="er"` (rec - H, T27-T28) or `"rec"` (the reconstruction alone): the same training
      settings plus `kappa`, `plugin`, `batches`, `eval_samples` (`dynamics.stochastic.simulate_er`).
    - `model="issl"`: `objective` `"dissl"` (T29) or `"cissl"`, `n_classes`, `n_prototypes`,
      `teacher_hidden`, `class_scale`, `noise_scale`, `lambda_maximality`, `beta_det_inv`, the
      temperatures, `optimizer`, `eval_per_class`, `batch_classes`, and `lr`, `momentum`,
      `weight_decay`, `steps`, `batch_size`, `save_every`, `n1`, `n2`, `init_scale`
      (`dynamics.issl.simulate_issl`).

    Unset fields take the simulator's default; the rates `alpha_p`, `beta`, `eta`, `eta_p` (SGD and
    ER, by `discrete_to_flow`), `t_max` = steps x lr/(1 - momentum), `n_save` = steps/save_every + 1
    and `save_spacing="linear"` are derived (THEORY.md §1), so the config holds every number the run
    used. The run's key is `jax.random.key(seed)`. A field a run does not use must stay unset.

    **Raises:** `ConfigError` (a `ValueError`) naming the field, the value and the allowed range.
    """

    model: str = "full"
    n1: int = 16
    n2: int = 8
    data: str = "isotropic"
    sigma2: float = 0.5
    x_eigs: Vector | None = None
    xprime_eigs: Vector | None = None
    basis: str = "identity"
    data_seed: int = 0
    X: Matrix | None = None
    Xprime: Matrix | None = None
    target: str = "ema"
    stop_gradient: str = "target"
    predictor: str = "trained"
    predictor_alpha: float | None = None
    predictor_eps: float | None = None
    predictor_eps_convention: str = "after_power"
    loss: str = "euclidean"
    expectation: str = "exact"
    n_samples: int = 4096
    sample_seed: int = 0
    alpha_p: float = 1.0
    beta: float = 0.5
    eta: float = 0.01
    eta_p: float | None = None
    init: str = "random"
    init_scale: float = 1.0
    init_scale_p: float | None = None
    seed: int = 0
    tau0: float = 1.0
    W0: Matrix | None = None
    Wp0: Matrix | None = None
    Wa0: Matrix | None = None
    p0: Vector | None = None
    s0: Vector | None = None
    tau0_modes: Vector | None = None
    t_max: float = 200.0
    n_save: int = 201
    save_spacing: str = "linear"
    solver: str = "tsit5"
    rtol: float = 1e-8
    atol: float = 1e-10
    max_steps: int = 200_000
    dtype: str = "float64"
    divergence_threshold: float = 1e6
    # the sampled simulators (issue 16; `dynamics.config._reach`): unset = the simulator's default
    objective: str | None = None
    discrete: bool = False
    lr: float | None = None
    steps: int | None = None
    batch_size: int | None = None
    momentum: float | None = None
    ema_momentum: float | None = None
    weight_decay: float | None = None
    decoupled: bool = False
    predictor_lr: float | None = None
    predictor_weight_decay: float | None = None
    save_every: int | None = None
    rho: float | None = None
    predictor_freq: int | None = None
    kappa: float | None = None
    plugin: bool = False
    batches: str | None = None
    eval_samples: int | None = None
    n_classes: int | None = None
    n_prototypes: int | None = None
    teacher_hidden: int | None = None
    class_scale: float | None = None
    noise_scale: float | None = None
    lambda_maximality: float | None = None
    beta_det_inv: float | None = None
    temperature: float | None = None
    temperature_teacher: float | None = None
    temperature_student: float | None = None
    optimizer: str | None = None
    eval_per_class: int | None = None
    batch_classes: str | None = None

    # ------------------------------------------------------------------ validation
    def __post_init__(self) -> None:
        for name in MATRIX_FIELDS:
            _set(self, name, _as_matrix(name, getattr(self, name)))
        for name in VECTOR_FIELDS:
            _set(self, name, _as_vector(name, getattr(self, name)))
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed and not (value is None and name in _OPTIONAL_CHOICES):
                raise ConfigError(name, value, f"must be one of {', '.join(allowed)}")
        for name in ("n1", "n2", "n_save", "max_steps", "n_samples"):
            _set(self, name, _as_int(name, getattr(self, name), minimum=1, maximum=MAX_COUNT))
        _set(self, "n_save", _as_int("n_save", self.n_save, minimum=2, maximum=MAX_COUNT))
        for name in ("seed", "data_seed", "sample_seed"):
            _set(self, name, _as_int(name, getattr(self, name), minimum=0, maximum=MAX_SEED))
        _check_float(self, "sigma2", lo=0.0, why="augmentation variance, X' = sigma2 I")
        _check_float(self, "alpha_p", lo=0.0, lo_open=True, why="predictor relative rate, T2")
        _check_float(self, "beta", lo=0.0, why="EMA rate, T4")
        _check_float(self, "eta", lo=0.0, why="weight decay on W, T3")
        if self.eta_p is not None:
            _check_float(self, "eta_p", lo=0.0, why="weight decay on Wp, T2")
        _check_float(self, "init_scale", lo=0.0, lo_open=True, why="scale of the random W(0)")
        if self.init_scale_p is not None:
            _check_float(self, "init_scale_p", lo=0.0, lo_open=True, why="scale of the random Wp(0)")
        _check_float(self, "tau0", why="Wa(0) = tau0 W(0)")
        _check_float(self, "t_max", lo=0.0, lo_open=True, why="end time of the flow")
        _check_float(self, "rtol", lo=0.0, lo_open=True, why="relative tolerance")
        _check_float(self, "atol", lo=0.0, lo_open=True, why="absolute tolerance")
        _check_float(self, "divergence_threshold", lo=0.0, lo_open=True, why="norm marking divergence")
        resolve_sampled(self)
        self._check_data()
        self._check_init()
        self._check_model()
        self._check_predictor()
        self._check_loss()
        self._check_size()

    def _check_data(self) -> None:
        n1 = self.n1
        if self.data == "spectrum":
            if self.x_eigs is None:
                raise ConfigError("x_eigs", None, "data='spectrum' needs x_eigs (n1 positive numbers)")
            _check_len("x_eigs", self.x_eigs, n1)
            if not all(v > 0 for v in self.x_eigs):
                raise ConfigError("x_eigs", self.x_eigs, "every eigenvalue of X must be > 0 (X is SPD)")
            if self.xprime_eigs is not None:
                _check_len("xprime_eigs", self.xprime_eigs, n1)
                if not all(v >= 0 for v in self.xprime_eigs):
                    raise ConfigError("xprime_eigs", self.xprime_eigs,
                                      "every eigenvalue of X' must be >= 0 (X' is PSD)")
        elif self.data == "matrices":
            import numpy as np

            for name, strict in (("X", True), ("Xprime", False)):
                value = getattr(self, name)
                if value is None:
                    raise ConfigError(name, None, f"data='matrices' needs {name} ({n1} x {n1})")
                mat = np.asarray(value, dtype=float)
                if mat.shape != (n1, n1):
                    raise ConfigError(name, f"shape {mat.shape}", f"must be {n1} x {n1} (n1 x n1)")
                scale = max(float(np.abs(mat).max()), 1e-300)
                if np.abs(mat - mat.T).max() > 1e-10 * scale:
                    raise ConfigError(name, f"max |{name} - {name}^T| = {np.abs(mat - mat.T).max():.3g}",
                                      "must be symmetric")
                low = float(np.linalg.eigvalsh(mat).min())
                if strict and not low > 0:
                    raise ConfigError(name, f"min eigenvalue {low:.3g}", "must be positive definite")
                if not strict and low < -1e-10 * scale:
                    raise ConfigError(name, f"min eigenvalue {low:.3g}", "must be positive semi-definite")
        for name in ("x_eigs", "xprime_eigs", "X", "Xprime"):
            used = {"spectrum": ("x_eigs", "xprime_eigs"), "matrices": ("X", "Xprime")}.get(self.data, ())
            if getattr(self, name) is not None and name not in used:
                raise ConfigError(name, "given", f"is only used with data={'spectrum' if 'eigs' in name else 'matrices'}"
                                  f" (data = {self.data!r})")

    def _check_init(self) -> None:
        if self.init == "given":
            if self.model == "modes":
                raise ConfigError("init", "given", "model='modes' takes p0, s0, tau0_modes instead")
            for name, shape in (("W0", (self.n2, self.n1)), ("Wp0", (self.n2, self.n2)),
                                ("Wa0", (self.n2, self.n1))):
                value = getattr(self, name)
                if value is None:
                    if name == "Wa0" or (name == "Wp0" and self.predictor not in ("trained", "symmetric")):
                        continue
                    raise ConfigError(name, None, f"init='given' needs {name} ({shape[0]} x {shape[1]})")
                got = (len(value), len(value[0]) if value else 0)
                if got != shape:
                    raise ConfigError(name, f"shape {got}", f"must be {shape[0]} x {shape[1]}")
        else:
            for name in ("W0", "Wp0", "Wa0"):
                if getattr(self, name) is not None:
                    raise ConfigError(name, "given", f"is only used with init='given' (init = {self.init!r})")

    def _check_model(self) -> None:
        if self.model == "modes":
            if self.data == "matrices":
                raise ConfigError("data", "matrices",
                                  "model='modes' needs data='isotropic' or 'spectrum' (a shared eigenbasis)")
            if self.n2 > self.n1:
                raise ConfigError("n2", self.n2, f"model='modes' needs n2 <= n1 = {self.n1}")
            for name in ("p0", "s0", "tau0_modes"):
                value = getattr(self, name)
                if value is not None:
                    _check_len(name, value, self.n2)
            if self.s0 is not None and not all(v >= 0 for v in self.s0):
                raise ConfigError("s0", self.s0, "every s_j(0) = w_j(0)^2 must be >= 0")
        else:
            for name in ("p0", "s0", "tau0_modes"):
                if getattr(self, name) is not None:
                    raise ConfigError(name, "given", "is only used with model='modes'")
        if self.target == "online" and self.tau0 != 1.0:
            raise ConfigError("tau0", self.tau0, "must be 1 with target='online' (SimSiam: Wa = W)")
        if self.target == "online" and self.tau0_modes is not None and any(v != 1.0 for v in self.tau0_modes):
            raise ConfigError("tau0_modes", self.tau0_modes, "must be all 1 with target='online'")

    def _check_predictor(self) -> None:
        closed = self.predictor in CLOSED_FORM_PREDICTORS
        if self.predictor_alpha is not None:
            _check_float(self, "predictor_alpha", lo=0.0, lo_open=True,
                         why="power of the closed-form predictor; alpha <= 0 has no stable non-zero fixed"
                             " point (§7), use predictor='identity' for alpha = 0")
            if self.predictor not in POWER_PREDICTORS:
                raise ConfigError("predictor_alpha", self.predictor_alpha,
                                  f"is only used with predictor in {', '.join(POWER_PREDICTORS)}"
                                  f" (predictor = {self.predictor!r})")
            fixed = FIXED_PREDICTOR_ALPHA.get(self.predictor)
            if fixed is not None and self.predictor_alpha != fixed:
                raise ConfigError("predictor_alpha", self.predictor_alpha,
                                  f"predictor={self.predictor!r} fixes alpha = {fixed:g}; use"
                                  " predictor='power_normalized' for another power")
        if self.predictor_eps is not None:
            _check_float(self, "predictor_eps", lo=0.0, why="epsilon of the closed-form predictor")
            if not closed:
                raise ConfigError("predictor_eps", self.predictor_eps,
                                  f"is only used with a closed-form predictor ({', '.join(CLOSED_FORM_PREDICTORS)});"
                                  f" predictor = {self.predictor!r}")
        if self.predictor_eps_convention != "after_power" and self.predictor not in POWER_PREDICTORS:
            raise ConfigError("predictor_eps_convention", self.predictor_eps_convention,
                              f"is only used with predictor in {', '.join(POWER_PREDICTORS)}"
                              f" (predictor = {self.predictor!r})")

    def _check_loss(self) -> None:
        euclidean = self.loss in ("euclidean", "isoloss_euclidean")
        if self.expectation == "exact" and not euclidean:
            raise ConfigError("expectation", "exact",
                              f"loss={self.loss!r} has no closed-form expectation: use expectation='sampled'"
                              " (model='full') or 'mean_field'")
        if self.expectation == "mean_field" and euclidean:
            raise ConfigError("expectation", "mean_field",
                              f"is for the cosine losses; loss={self.loss!r} has an exact expectation,"
                              " use expectation='exact'")
        if self.expectation == "sampled" and self.model != "full":
            raise ConfigError("expectation", "sampled",
                              "needs model='full' (the view pairs are sampled in input space); the"
                              " eigenmode model takes 'exact' or 'mean_field'")
        if self.expectation == "sampled" and self.n_samples < 3 * self.n1:
            raise ConfigError("n_samples", self.n_samples,
                              f"must be >= 3 n1 = {3 * self.n1} for expectation='sampled' (the sample's second"
                              " moments are matched to X and X' exactly)")

    def _check_size(self) -> None:
        detail = f"n1 = {self.n1}, n2 = {self.n2}, n_save = {self.n_save}, model = {self.model!r}"
        if self.expectation == "sampled":
            detail += f", n_samples = {self.n_samples}"
        check_size("run", run_bytes(self), detail, "make n1, n2, n_save or n_samples smaller")

    # ------------------------------------------------------------------ derived values
    @property
    def eta_p_effective(self) -> float:
        """Weight decay on Wp: `eta_p`, or `eta` when `eta_p` is unset (T2)."""
        return self.eta if self.eta_p is None else self.eta_p

    @property
    def predictor_alpha_effective(self) -> float | None:
        """Power of a power-family closed form: fixed for directpred (1/2) and directcopy (1), else
        `predictor_alpha` or `DEFAULT_PREDICTOR_ALPHA`; None for the other predictors."""
        if self.predictor not in POWER_PREDICTORS:
            return None
        if self.predictor in FIXED_PREDICTOR_ALPHA:
            return FIXED_PREDICTOR_ALPHA[self.predictor]
        return DEFAULT_PREDICTOR_ALPHA if self.predictor_alpha is None else self.predictor_alpha

    @property
    def predictor_eps_effective(self) -> float | None:
        """Epsilon of a closed form: `predictor_eps` or `DEFAULT_PREDICTOR_EPS[predictor]`; None
        for trained / symmetric / identity predictors."""
        if self.predictor not in CLOSED_FORM_PREDICTORS:
            return None
        return DEFAULT_PREDICTOR_EPS[self.predictor] if self.predictor_eps is None else self.predictor_eps

    @property
    def simulator(self) -> str:
        """Which simulator runs this config: "flow" (the ODE, `model` full or modes), "sgd" (minibatch
        SGD, `discrete=True`), "er" (`objective` er / rec) or "issl" (`model="issl"`)."""
        return simulator_of(self)

    @property
    def n_modes(self) -> int:
        """Number of eigenmodes: min(n1, n2) (the rank of F = W X W^T)."""
        return min(self.n1, self.n2)

    # ------------------------------------------------------------------ conversion
    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """All fields, tuples as lists (JSON-ready); a flow run leaves out the settings of the sampled
        simulators (all unset for it), so its JSON is that of a config without them."""
        out = {}
        flow = self.simulator == "flow"
        for f in dataclasses.fields(self):
            if flow and f.name in _SAMPLED_ONLY:
                continue  # unset / off / "byol" for every flow run
            out[f.name] = _to_plain(getattr(self, f.name))
        return out

    def to_json(self) -> str:
        """The whole configuration as one JSON string (stored in result files as `config_json`)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def flat_attrs(self) -> dict[str, Any]:
        """Scalar and string fields for file attributes (netCDF/zarr allow no None or nested lists).

        Unset optional scalars are written as the string ``"unset"``; vectors and matrices live in
        `config_json` only.
        """
        out: dict[str, Any] = {}
        flow = self.simulator == "flow"
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple) or (flow and f.name in _SAMPLED_ONLY):
                continue
            if value is None:
                if f.name in MATRIX_FIELDS or f.name in VECTOR_FIELDS:
                    continue
                value = "unset"
            out[f.name] = int(value) if isinstance(value, bool) else value  # netCDF has no booleans
        out["eta_p_effective"] = self.eta_p_effective
        for name in ("predictor_alpha_effective", "predictor_eps_effective"):
            value = getattr(self, name)
            out[name] = "unset" if value is None else value
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Config:
        """Build from a mapping, rejecting unknown keys with a clear message."""
        known = {f.name for f in dataclasses.fields(cls)}
        for key in values:
            if key not in known:
                close = [k for k in known if k.replace("_", "") == str(key).replace("_", "").replace("-", "")]
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(str(key), values[key], f"unknown setting{hint}; known: {', '.join(sorted(known))}")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> Config:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dataset(cls, ds: Any) -> Config:
        """Rebuild the configuration of a run from its result (xarray Dataset with `config_json`)."""
        if "config_json" not in ds.attrs:
            raise ConfigError("config_json", None, "the dataset has no config_json attribute; not a dynamics result")
        return cls.from_json(ds.attrs["config_json"])


# ---------------------------------------------------------------------- helpers
def _set(obj: Config, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _to_plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    return value


def _as_int(name: str, value: Any, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, value, "must be an integer")
    if isinstance(value, float) and not (math.isfinite(value) and value == int(value)):
        raise ConfigError(name, value, "must be an integer")
    if not minimum <= int(value) <= maximum:
        bound = "2**32 - 1" if maximum == MAX_SEED else "2**31 - 1"
        raise ConfigError(name, value, f"must be an integer from {minimum} to {bound}")
    return int(value)


def _check_float(obj: Config, name: str, lo: float | None = None, lo_open: bool = False, why: str = "") -> None:
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, value, f"must be a number ({why})")
    value = finite_float(name, value, why)
    if lo is not None:
        ok = value > lo if lo_open else value >= lo
        if not ok:
            raise ConfigError(name, value, f"must be {'>' if lo_open else '>='} {lo:g} ({why})")
    _set(obj, name, value)


def _check_len(name: str, value: tuple, n: int) -> None:
    if len(value) != n:
        raise ConfigError(name, f"length {len(value)}", f"must have length {n}")


def _as_vector(name: str, value: Any) -> Vector | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(name, value, "must be a list of numbers") from None
    if not all(math.isfinite(v) for v in out):
        raise ConfigError(name, value, "must contain finite numbers only")
    return out


def _as_matrix(name: str, value: Any) -> Matrix | None:
    if value is None:
        return None
    try:
        rows = tuple(tuple(float(v) for v in row) for row in value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(name, value, "must be a matrix (a list of equal-length lists of numbers)") from None
    if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) == 0:
        raise ConfigError(name, value, "must be a matrix (a list of equal-length lists of numbers)")
    if not all(math.isfinite(v) for r in rows for v in r):
        raise ConfigError(name, value, "must contain finite numbers only")
    return rows

