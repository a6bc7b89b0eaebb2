"""The claim registry: each theory claim is one decorated function that runs a small numerical
experiment and returns its `Evidence`; the registry turns evidence into a verdict.

```python
@claim("tcg21.thm1.flow", source="T6", paper="TCG21", quick=True,
       tolerance_reason="float64, rtol 1e-10: the residual is integrator error")
def theorem1_under_the_flow(ctx: Context) -> Evidence:
    ...
    return Evidence(measured=residual, predicted=0.0, tolerance=1e-8, compare="abs")
```
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Literal

__all__ = ["COMPARISONS", "Claim", "Context", "Evidence", "claim", "registry", "verdict"]

Comparison = Literal["abs", "rel", "le", "ge"]
COMPARISONS: dict[str, str] = {
    "abs": "|measured - predicted| <= tolerance",
    "rel": "|measured - predicted| <= tolerance * |predicted|",
    "le": "measured <= predicted + tolerance (an upper bound)",
    "ge": "measured >= predicted - tolerance (a lower bound)",
}


@dataclasses.dataclass(frozen=True)
class Context:
    """What a claim's experiment may depend on: the base `seed` of its random draws and `quick`
    (the smaller sizes that the test suite runs). Nothing else is global."""

    seed: int = 0
    quick: bool = False


@dataclasses.dataclass(frozen=True)
class Evidence:
    """What one experiment measured and what the theory predicts for it.

    **Arguments:**
    - `measured`, `predicted`: the two numbers compared (a monotone comparison is measured as, e.g.,
      the fraction of ordered pairs in the predicted order, predicted 1).
    - `tolerance`: the allowed gap, in the sense of `compare` (see `COMPARISONS`).
    - `compare`: "abs", "rel", "le" or "ge".
    - `stderr`: the standard error of `measured` for stochastic claims (mean over seeds), else None.
    - `detail`: one line for the report (what was measured, at which settings).
    - `series`: optional named 1-D arrays (x, y pairs as `{"label": (x, y)}`) that the claim's figure
      draws; without it the figure shows measured against predicted ± tolerance.
    """

    measured: float
    predicted: float
    tolerance: float
    compare: Comparison = "abs"
    stderr: float | None = None
    detail: str = ""
    series: dict[str, tuple[Any, Any]] | None = None
    log_y: bool = False

    def __post_init__(self) -> None:
        if self.compare not in COMPARISONS:
            raise ValueError(f"Evidence.compare must be one of {sorted(COMPARISONS)}, got {self.compare!r}")
        if not self.tolerance >= 0:
            raise ValueError(f"Evidence.tolerance must be >= 0, got {self.tolerance!r}")


def verdict(evidence: Evidence) -> bool:
    """True when `evidence.measured` agrees with `evidence.predicted` within its tolerance; a
    non-finite measurement never passes."""
    m, p, tol = float(evidence.measured), float(evidence.predicted), float(evidence.tolerance)
    if not (math.isfinite(m) and math.isfinite(p)):
        return False
    if evidence.compare == "abs":
        return abs(m - p) <= tol
    if evidence.compare == "rel":
        return abs(m - p) <= tol * abs(p)
    if evidence.compare == "le":
        return m <= p + tol
    return m >= p - tol


@dataclasses.dataclass(frozen=True)
class Claim:
    """A registered claim: `id` (paper.topic.detail), `source` (THEORY.md equation or section),
    `paper` tag, `statement` (first docstring line of the function), `tolerance_reason`, whether it is
    in the `quick` subset, and the experiment `run(ctx) -> Evidence`."""

    id: str
    source: str
    paper: str
    statement: str
    tolerance_reason: str
    quick: bool
    run: Callable[[Context], Evidence]


_REGISTRY: dict[str, Claim] = {}


def claim(id: str, *, source: str, paper: str, tolerance_reason: str, quick: bool = False):
    """Register the decorated experiment `fn(ctx: Context) -> Evidence` as claim `id`."""

    def register(fn: Callable[[Context], Evidence]) -> Callable[[Context], Evidence]:
        if id in _REGISTRY:
            raise ValueError(f"claim id {id!r} is registered twice")
        statement = (fn.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ").strip()
        if not statement:
            raise ValueError(f"claim {id!r} needs a docstring whose first paragraph states the claim")
        _REGISTRY[id] = Claim(id, source, paper, " ".join(statement.split()), tolerance_reason, quick, fn)
        return fn

    return register


def registry() -> dict[str, Claim]:
    """Every registered claim, by id (importing `dynamics.checks` registers the built-in ones)."""
    return dict(_REGISTRY)
