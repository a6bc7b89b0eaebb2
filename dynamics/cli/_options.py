"""Command-line flags generated from `Config`'s fields (one flag per config key, `-` for `_`)."""

from __future__ import annotations

import argparse
import dataclasses
import re
import typing
from typing import Any

from ..config import BOOL_FIELDS, CHOICES, MATRIX_FIELDS, VECTOR_FIELDS, Config, load_matrix

__all__ = ["add_config_flags", "collect_config_values", "join_negative_values"]

#: A value that starts like a negative number or a list of them: -1,1  -0.5  -1e-3,2  -.5
_NEGATIVE = re.compile(r"^-(\d|\.\d)[\d.eE+\-,]*$")

_HELP = {
    "model": "full (matrix flow T2-T5), modes (eigenmode flow T11-T13b) or issl (DISSL T29 / CISSL on class data)",
    "n1": "input width (W is n2 x n1)",
    "n2": "output width",
    "data": "isotropic (X=I, X'=sigma2 I), spectrum (x_eigs, xprime_eigs), matrices (X, Xprime)",
    "sigma2": "augmentation variance (X' = sigma2 I)",
    "alpha_p": "predictor relative learning rate (T2)",
    "beta": "EMA rate (T4)",
    "eta": "weight decay on W (T3)",
    "eta_p": "weight decay on Wp (T2); unset follows eta",
    "tau0": "Wa(0) = tau0 W(0)",
    "t_max": "end time of the flow",
    "n_save": "number of saved times",
    "solver": "diffrax tsit5/dopri5/dopri8 or scipy-rk45/dop853/radau/lsoda reference",
    "predictor": "trained (T2), symmetric (A3), identity (no predictor), or a closed form recomputed from W"
                 " (THEORY.md §6-§8): power (W X W^T)^alpha (T21), power_normalized / directpred (T20) /"
                 " directcopy (normalized spectral power of C = W(X+X')W^T), ridge_lstsq (T26),"
                 " soft_projector C(C+eps I)^-1, inverse_sqrt (C+eps I)^-1/2",
    "predictor_alpha": "power alpha of power / power_normalized; unset = 0.5 (directpred 0.5, directcopy 1 fixed)",
    "predictor_eps": "epsilon of a closed-form predictor; unset = its default (directpred 0.1, directcopy 0.25,"
                     " soft_projector and inverse_sqrt 0.1, others 0)",
    "predictor_eps_convention": "power family: eps after the power (T20, [TCG21]) or before it ([HLZ23])",
    "loss": "euclidean (T1), cosine, or their IsoLoss variants (z1 gets dL/dp; T23)",
    "expectation": "exact (euclidean losses), sampled (model full: fixed sample of view pairs) or mean_field"
                   " (cosine losses, T25)",
    "n_samples": "view pairs of the fixed sample for expectation=sampled (used in both orders)",
    "sample_seed": "seed of the fixed sample (common random numbers across runs)",
    "seed": "seed of W(0); a sampled run (discrete, er, issl) also draws its batches from jax.random.key(seed)",
    # the sampled simulators (unset: the simulator's default; THEORY.md §1 maps discrete settings to flow rates)
    "objective": "byol (the loss of --loss), er (entropy + reconstruction, T27-T28: rec - H), rec (the vMF "
                 "reconstruction alone), dissl (T29) / cissl with --model issl; unset: byol, or dissl for issl",
    "discrete": "minibatch SGD on the linear model instead of the flow; implied by --objective er/rec and --model "
                "issl. alpha_p, beta, eta, eta_p, t_max, n_save follow from the training settings",
    "lr": "learning rate of W (sgd/er default 0.01, issl 0.05)",
    "steps": "optimizer steps (sgd/er default round(t_max / (lr/(1-momentum))), issl 2000)",
    "batch_size": "view pairs per step (default 128)",
    "momentum": "heavy-ball momentum in [0, 1) (sgd/er default 0, issl 0.9)",
    "ema_momentum": "EMA momentum of the target in [0, 1] (default 0.996)",
    "weight_decay": "weight decay of W (sgd/er default 0, issl 3e-3)",
    "decoupled": "decoupled weight decay (a per-step shrink) instead of L2 added to the gradient",
    "predictor_lr": "learning rate of Wp (default: lr)",
    "predictor_weight_decay": "weight decay of Wp (default: weight_decay)",
    "save_every": "steps between saved states (default: about n_save saves; issl 200)",
    "rho": "EMA momentum of the closed-form predictor's statistics, T19 (default 0.3)",
    "predictor_freq": "steps between closed-form predictor updates (default 1)",
    "kappa": "vMF concentration of the ER objective, T28 (default 10)",
    "plugin": "ER: the plug-in (density-weighted) entropy estimate",
    "batches": "ER: fixed (one batch reused: a sampled expected flow) or fresh (default fixed)",
    "eval_samples": "ER: fixed view pairs for the saved entropy and reconstruction (default 512)",
    "n_classes": "ISSL: equivalence classes C (default 8; n1 >= C)",
    "n_prototypes": "ISSL: head outputs K (default 64)",
    "teacher_hidden": "ISSL: hidden units of the teacher MLP (default 64)",
    "class_scale": "ISSL: norm of the class centres (default 1)",
    "noise_scale": "ISSL: within-class augmentation noise (default 0.3)",
    "lambda_maximality": "ISSL: weight of the maximality term, T29 (default 2.3)",
    "beta_det_inv": "ISSL: weight of the determinism/invariance term, T29 (default 0.8)",
    "temperature": "ISSL: CISSL temperature (default 0.07)",
    "temperature_teacher": "ISSL: DISSL teacher temperature (default 0.5)",
    "temperature_student": "ISSL: DISSL student temperature (default 1)",
    "optimizer": "ISSL: sgd or adam (default sgd)",
    "eval_per_class": "ISSL: fixed samples per class for the probe (default 64)",
    "batch_classes": "ISSL: uniform or distinct classes in a batch (default uniform)",
}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _vector(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per `Config` field; unset flags are absent from the parsed namespace."""
    hints = typing.get_type_hints(Config)
    group = parser.add_argument_group("settings (each also a key of --config FILE.toml)")
    for f in dataclasses.fields(Config):
        name, kind = f.name, hints[f.name]
        help_text = _HELP.get(name, "")
        kwargs: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS}
        if name in BOOL_FIELDS:
            kwargs.update(action=argparse.BooleanOptionalAction, help=help_text)
            group.add_argument(_flag(name), **kwargs)
            continue
        if name in CHOICES:
            kwargs.update(choices=CHOICES[name])
        elif name in MATRIX_FIELDS:
            kwargs.update(metavar="FILE", help=f"{name} matrix from a .npy or text file")
            group.add_argument(_flag(name), **kwargs)
            continue
        elif name in VECTOR_FIELDS:
            kwargs.update(type=_vector, metavar="V1,V2,...")
        elif int in typing.get_args(kind) or kind is int:
            kwargs.update(type=int)
        else:
            kwargs.update(type=float)
        default = f.default
        if default is None and "default" in help_text:
            kwargs["help"] = help_text  # the simulator's default, said in the text
        elif help_text or default is not None:
            kwargs["help"] = f"{help_text} (default: {default})".strip()
        group.add_argument(_flag(name), **kwargs)


def collect_config_values(namespace: argparse.Namespace) -> dict[str, Any]:
    """The config keys the user set on the command line (matrices read from their files)."""
    names = {f.name for f in dataclasses.fields(Config)}
    values = {k: v for k, v in vars(namespace).items() if k in names}
    for name in MATRIX_FIELDS:
        if name in values:
            values[name] = load_matrix(name, values[name])
    return values




def join_negative_values(argv: list[str]) -> list[str]:
    """Let a flag take a value that starts with "-" as a separate word: `--s0 -1,1` becomes
    `--s0=-1,1` (argparse reads "-1,1" as an unknown flag otherwise). Only words that look like
    numbers or comma-separated lists of numbers are joined, never after a word holding "=", and never
    after "--"."""
    out: list[str] = []
    for word in argv:
        previous = out[-1] if out else ""
        if (_NEGATIVE.match(word) and previous.startswith("--") and "=" not in previous and previous != "--"
                and "--" not in out):
            out[-1] = f"{previous}={word}"
        else:
            out.append(word)
    return out
