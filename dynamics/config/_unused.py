"""Settings given for a run that the run never reads, refused rather than ignored.

A setting that changes nothing would otherwise pass silently: `--model issl --beta 0.3` (ISSL has no EMA
rate), `--discrete --rtol 1e-6` (minibatch SGD integrates no ODE), `--data-seed 3` with isotropic data,
`--sample-seed 2` with the exact expectation, `--seed` for the eigenmode flow (its initial state is
given), and a sweep over any of
them would give the same run at every value. (`beta` for SimSiam, W_a = W, is accepted: a SimSiam phase
diagram over (beta, eta) is drawn on purpose beside BYOL's.) `unused_reason` says why a field is not read by the run a
config describes; the command line checks the settings it was given (`check_unused_not_given`) and
sweeps check their axes (`dynamics.sweep.make_axes`).
"""

from __future__ import annotations

from typing import Any

from ._config import Config
from ._errors import ConfigError
from ._reach import ISSL_FIELDS, ISSL_SHARED_FIELDS, SAMPLED_FIELDS

__all__ = ["unused_reason", "deciding_fields", "check_unused_not_given"]

# The ODE solver's settings: no sampled simulator reads them.
_SOLVER_FIELDS = ("solver", "rtol", "atol", "max_steps")
# What the ISSL simulator reads of a Config besides the sampled fields (`dynamics._sampled.issl_settings`):
# its data are its class-structured inputs, its network its own, its time axis derived.
_ISSL_READS = ("model", "objective", "discrete", "n1", "n2", "init_scale", "seed", "t_max", "n_save",
               "save_spacing") + ISSL_SHARED_FIELDS + ISSL_FIELDS

#: The fields whose values decide whether a field is read (a sweep over both cannot be judged from
#: its base config).
_DECIDED_BY = {"basis": ("data",), "data_seed": ("data", "basis"), "n_samples": ("expectation", "loss"),
               "sample_seed": ("expectation", "loss"), "seed": ("init",)}


def deciding_fields(name: str) -> tuple[str, ...]:
    """The fields whose values decide whether `name` is read (besides the simulator's own fields)."""
    return _DECIDED_BY.get(name, ()) + ("model", "objective", "discrete")


def unused_reason(name: str, config: Config) -> str | None:
    """Why the run that `config` describes never reads the field `name`, or None when it reads it.
    (Sampled fields of another simulator are refused by `Config` itself.)"""
    simulator = config.simulator
    if simulator == "issl":
        if name not in _ISSL_READS + SAMPLED_FIELDS:
            return ("is not used by the issl simulator (it trains on its own class-structured data, not the "
                    "linear model's flow)")
        return None
    if simulator in ("sgd", "er") and name in _SOLVER_FIELDS + ("n_samples", "sample_seed"):
        return (f"is not used by the {simulator} simulator (it takes sampled training steps: no ODE solver, no "
                "fixed sample of the expectation)")
    if name == "basis" and config.data != "spectrum":
        return f"is only used with data='spectrum' (data = {config.data!r})"
    if name == "data_seed" and not (config.data == "spectrum" and config.basis == "random"):
        return "is only used with data='spectrum' and basis='random' (it draws the random basis)"
    if name in ("n_samples", "sample_seed") and config.expectation != "sampled":
        return f"is only used with expectation='sampled' (expectation = {config.expectation!r})"
    if name == "sample_seed" and config.loss == "euclidean":
        return ("changes nothing with loss='euclidean': the sample is whitened to the exact moments, and the "
                "Euclidean flow depends on the moments alone")
    if name == "seed" and simulator == "flow" and (config.model == "modes" or config.init == "given"):
        return ("is not used by this flow: its initial state is given (p0, s0 of model='modes', or W0 with "
                "init='given'), nothing is drawn")
    return None


def check_unused_not_given(values: dict[str, Any], config: Config) -> None:
    """Refuse settings given (command line or settings file) that the run of `config` never reads.

    **Raises:** `ConfigError` naming the first such field.
    """
    for name, value in values.items():
        reason = unused_reason(name, config)
        if reason is not None:
            raise ConfigError(name, value, reason + ": leave it out")
