r"""The methods of the training bridge and what each fixes: target, predictor, loss, per-method
defaults, and what its run means on the simulator's time axis (its flow mapping).

Plain data (no JAX), read by `TrainConfig`. A method is a family of losses on the two views' online
projections $f_1, f_2$ (the predictor input, the tower's output):

| method | family | target | predictor | loss | theory |
|---|---|---|---|---|---|
| `byol` | predictive | EMA | MLP (linear for linear encoders) | $2 - 2\cos$ | T1-T5 |
| `simsiam` | predictive | online | as BYOL | $2 - 2\cos$ | T5 |
| `directpred` | predictive | EMA | closed form (T20) from an EMA (rate 0.3) of $C$ | $2 - 2\cos$ | T19-T20 |
| `directcopy` | predictive | EMA | $C / \|C\|_2 + \epsilon I$ (§6) | $2 - 2\cos$ | §6 |
| `isoloss` | predictive | EMA | DirectPred, $\epsilon$ before the power, EMA rate 0.998 / 0.5 | IsoLoss of $2 - 2\cos$ | T23 |
| `er-byol` | ER | EMA | as BYOL | vMF reconstruction $-$ kernel entropy, $\kappa = 10$ | T27-T28 |
| `dissl` | ISSL | none | none: MLP teacher, linear student, K prototypes | (T29), $\lambda = 2.3$, $\beta = 0.8$ | T29 |
| `cissl` | ISSL | none | none: linear student, MLP teacher heads | contrastive, self pair kept, $\tau = 0.07$ | §10 |

The predictive methods have the linear theory's flow (THEORY.md §1: $t \mathrel{+}= k\,a_k / (1 - \mu)$
with $k$ the loss scale, 2 for BYOL's cosine loss and its IsoLoss, 1 for the Euclidean ones); ER, DISSL
and CISSL have no flow counterpart: their time axis is the same sum with $k = 1$ (for ER the convention
of `dynamics.stochastic.simulate_er`, whose objective is the same function), and their logs say
`flow_mapping = "none (...)"`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MethodDefaults", "METHOD_DEFAULTS", "METHODS", "PREDICTIVE", "ER_METHODS", "ISSL_METHODS",
           "ISOLOSS_LOSSES", "LOSSES", "default_rho", "default_eps_convention", "default_prototypes",
           "default_head_hidden", "flow_mapping", "theory_tags"]

#: Per-sample losses of the predictive methods: the simulator's names (`dynamics.config.LOSSES`).
LOSSES = ("euclidean", "cosine", "isoloss_euclidean", "isoloss_cosine")
ISOLOSS_LOSSES = ("isoloss_euclidean", "isoloss_cosine")


@dataclass(frozen=True)
class MethodDefaults:
    """What a method fixes (each overridable by its `TrainConfig` field where the method has the axis).

    - `family`: `predictive` (a prediction of a target, the linear theory's family), `er` (entropy +
      reconstruction on a predictive architecture) or `issl` (heads on both views, no target);
    - `target`: `ema`, `online`, or None (no target network: ISSL);
    - `predictor`: a predictor name, None (per model: `mlp`, `linear` for the linear encoders) or
      `none` (no predictor: ISSL);
    - `loss`: the loss name recorded in the log (`loss_name`);
    - `summary`: one line for the documentation and the command line.
    """

    family: str
    target: str | None
    predictor: str | None
    loss: str
    summary: str


METHOD_DEFAULTS: dict[str, MethodDefaults] = {
    "byol": MethodDefaults("predictive", "ema", None, "cosine", "EMA target, MLP predictor, 2 - 2 cos"),
    "simsiam": MethodDefaults("predictive", "online", None, "cosine", "the online network is the target"),
    "directpred": MethodDefaults("predictive", "ema", "directpred", "cosine",
                                 "closed-form predictor (T20) from an EMA of the input correlation"),
    "directcopy": MethodDefaults("predictive", "ema", "directcopy", "cosine", "Wp = C / ||C||_2 + eps I (§6)"),
    "isoloss": MethodDefaults("predictive", "ema", "directpred", "isoloss_cosine",
                              "IsoLoss (T23): the online output receives dL/dp; HLZ23's predictor recipe"),
    "er-byol": MethodDefaults("er", "ema", None, "er", "vMF reconstruction - kernel entropy (T27-T28)"),
    "dissl": MethodDefaults("issl", None, "none", "dissl", "distillation with maximality and determinism (T29)"),
    "cissl": MethodDefaults("issl", None, "none", "cissl", "contrastive with asymmetric heads (§10)"),
}
METHODS = tuple(METHOD_DEFAULTS)
PREDICTIVE = tuple(m for m, d in METHOD_DEFAULTS.items() if d.family == "predictive")
ER_METHODS = tuple(m for m, d in METHOD_DEFAULTS.items() if d.family == "er")
ISSL_METHODS = tuple(m for m, d in METHOD_DEFAULTS.items() if d.family == "issl")

#: EMA rate of the closed-form predictor's statistics (T19): DirectPred's recommended 0.3, and
#: [HLZ23]'s recipe for IsoLoss: 0.998 with an EMA target, 0.5 without (THEORY.md §7).
RHO_DEFAULT = 0.3
RHO_ISOLOSS = {"ema": 0.998, "online": 0.5}
#: DISSL prototypes: [DHEL22]'s 16384 on CIFAR-sized data; 256 on the small data sets (digits:
#: 1 797 images of 10 classes; synthetic), about a batch of them. CISSL's embedding width: 128.
PROTOTYPES_LARGE = 16384
PROTOTYPES_SMALL = 256
CISSL_DIM = 128
SMALL_DATASETS = ("digits", "synthetic")
#: Hidden units of the DISSL / CISSL teacher MLP: 2048 for ResNet-18, 256 for the CPU models.
HEAD_HIDDEN = {"resnet18": 2048}
HEAD_HIDDEN_DEFAULT = 256


def default_rho(method: str, target: str) -> float:
    """The EMA rate of the closed-form predictor statistics when `rho` is unset."""
    return RHO_ISOLOSS[target] if method == "isoloss" else RHO_DEFAULT


def default_eps_convention(method: str) -> str:
    """Where a power predictor adds epsilon when unset: before the power for IsoLoss ([HLZ23] code),
    after it otherwise (T20, [TCG21] code)."""
    return "before_power" if method == "isoloss" else "after_power"


def default_prototypes(method: str, dataset: str) -> int | None:
    """Head outputs when `n_prototypes` is unset: DISSL's K, CISSL's embedding width (None: no heads)."""
    if method == "dissl":
        return PROTOTYPES_SMALL if dataset in SMALL_DATASETS else PROTOTYPES_LARGE
    if method == "cissl":
        return CISSL_DIM
    return None


def default_head_hidden(method: str, model: str) -> int | None:
    """Hidden units of the teacher MLP when `head_hidden` is unset (None: no heads)."""
    return HEAD_HIDDEN.get(model, HEAD_HIDDEN_DEFAULT) if method in ISSL_METHODS else None


#: What the time axis means per family (the `flow_mapping` attribute of a run's log).
_MAPPED = ("THEORY.md §1 per step: t += k lr_k / (1 - mu), beta_k = (1 - gamma_k)(1 - mu) / (k lr_k),"
           " eta = wd / k, alpha_p = predictor_lr_mult")
_NONE = {
    "er": "none (rec - H (T27-T28) has no linear-theory flow; time t += lr_k / (1 - mu), k = 1, the convention"
          " of dynamics.stochastic.simulate_er)",
    "issl": "none (DISSL / CISSL (T29, §10) have no linear-theory flow; time t += lr_k / (1 - mu), k = 1;"
            " dynamics.issl trains the same objectives on a linear encoder)",
}


def flow_mapping(method: str, optimizer: str) -> str:
    """The run's `flow_mapping` attribute: THEORY.md §1's map for the predictive methods (approximate
    under LARS), `none (...)` with the time axis' meaning for ER, DISSL and CISSL."""
    family = METHOD_DEFAULTS[method].family
    if family in _NONE:
        return _NONE[family]
    return "approximate (lars: per-layer trust ratios)" if optimizer == "lars" else _MAPPED


_THEORY = {"predictive": "T1 T2 T3 T4 (mapped rates) T6 T8 T13b T19 T20 T28",
           "er": "T27 T28 (objective); T8 T28 (measured)",
           "issl": "§10 (objective); T8 T28 (measured)"}


def theory_tags(method: str, loss: str) -> str:
    """THEORY.md equations a run's log refers to (its `theory` attribute)."""
    if method == "dissl":
        return "T29 (objective); T8 T28 (measured)"
    tags = _THEORY[METHOD_DEFAULTS[method].family]
    return tags + " T21 T23" if loss in ISOLOSS_LOSSES else tags
