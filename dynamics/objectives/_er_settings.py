"""`ERSettings`: the frozen, validated choices of an ER / normalized-BYOL run on the linear model."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..config import ConfigError

__all__ = ["ERSettings", "ER_CHOICES"]

#: Allowed values of the string-valued fields of `ERSettings`.
ER_CHOICES: dict[str, tuple[str, ...]] = {
    "objective": ("er", "byol"),
    "batches": ("fixed", "fresh"),
}


@dataclass(frozen=True)
class ERSettings:
    r"""What `simulate_er` minimizes and how it samples, THEORY.md §9 (T27)-(T28) [RBR23].

    - `objective`: `"er"` minimizes $\mathrm{rec} - \hat H$ (vMF reconstruction of the normalized
      target from the normalized prediction, minus the kernel entropy (T28) of the normalized
      online projections $W x_1$ of the batch); `"byol"` minimizes $\mathrm{rec}$ alone, i.e.
      $(\kappa/2)$ times BYOL's normalized loss plus a constant.
    - `kappa`: vMF concentration $\kappa > 0$ (default 10, as in [RBR23]).
    - `plugin`: use the plug-in (density-weighted) entropy estimate (default False: the average).
    - `batches`: `"fixed"` draws one batch of views from the key and reuses it every step (a
      sampled expected flow: the same key gives the same batch for every setting, i.e. common
      random numbers across a sweep); `"fresh"` draws a new batch every step (minibatch SGD), the
      sequence again fixed by the key.
    - `eval_samples`: number k of fixed view pairs (drawn once from the key) on which the saved
      diagnostics `kernel_entropy`, `reconstruction` and `er_objective` are evaluated (>= 2).

    **Raises:** `ConfigError` naming the field, the value and the allowed range.
    """

    objective: str = "er"
    kappa: float = 10.0
    plugin: bool = False
    batches: str = "fixed"
    eval_samples: int = 512

    def __post_init__(self) -> None:
        for name, allowed in ER_CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(name, getattr(self, name), f"must be one of {', '.join(allowed)}")
        k = self.kappa
        if isinstance(k, bool) or not isinstance(k, (int, float)) or not math.isfinite(k) or not k > 0:
            raise ConfigError("kappa", k, "must be a finite number > 0 (vMF concentration, T28)")
        object.__setattr__(self, "kappa", float(k))
        if not isinstance(self.plugin, bool):
            raise ConfigError("plugin", self.plugin, "must be True or False")
        n = self.eval_samples
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ConfigError("eval_samples", n, "must be an integer >= 2 (points of the kernel estimate)")

    def replace(self, **changes: Any) -> ERSettings:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def flat_attrs(self) -> dict[str, Any]:
        """The settings as `er_*` file attributes (numbers and strings only)."""
        return {"er_objective": self.objective, "er_kappa": self.kappa, "er_plugin": int(self.plugin),
                "er_batches": self.batches, "er_eval_samples": self.eval_samples}
