"""Run registered claims and collect their verdicts (`dynamics.checks.run`)."""

from __future__ import annotations

import dataclasses
import time
import traceback
from typing import Callable, Iterable, Sequence

from ._registry import Claim, Context, Evidence, registry, verdict

__all__ = ["ClaimResult", "run", "select"]


@dataclasses.dataclass(frozen=True)
class ClaimResult:
    """One claim's outcome: its identity, the evidence (None when the experiment raised, with the
    error in `error`), the verdict `passed`, and the wall time in `seconds`."""

    claim: Claim
    evidence: Evidence | None
    passed: bool
    seconds: float
    error: str | None = None

    @property
    def id(self) -> str:
        return self.claim.id

    def as_dict(self) -> dict:
        """A JSON-ready record (the rows of `check-report.json`)."""
        ev = self.evidence
        return {
            "id": self.claim.id, "source": self.claim.source, "paper": self.claim.paper,
            "statement": self.claim.statement, "tolerance_reason": self.claim.tolerance_reason,
            "quick": self.claim.quick, "passed": self.passed, "seconds": round(self.seconds, 3),
            "measured": None if ev is None else float(ev.measured),
            "predicted": None if ev is None else float(ev.predicted),
            "tolerance": None if ev is None else float(ev.tolerance),
            "compare": None if ev is None else ev.compare,
            "stderr": None if ev is None or ev.stderr is None else float(ev.stderr),
            "detail": "" if ev is None else ev.detail, "error": self.error,
        }


def select(claims: Iterable[str] | None = None, *, quick: bool = False) -> list[Claim]:
    """The claims to run: those named in `claims` (ids, or id prefixes such as "tcg21." — an
    unknown name raises ValueError naming it), else all, restricted to the quick subset if `quick`."""
    table = registry()
    if claims is None:
        chosen = list(table.values())
    else:
        chosen, seen = [], set()
        for name in claims:
            hits = [c for i, c in table.items() if i == name or (name.endswith(".") and i.startswith(name))]
            if not hits:
                raise ValueError(f"unknown claim {name!r}; `ssl-dynamics check --list` shows the ids")
            chosen += [c for c in hits if c.id not in seen]
            seen.update(c.id for c in hits)
    return [c for c in chosen if c.quick or not quick]


def run(claims: Sequence[str] | None = None, *, quick: bool = False, seed: int = 0,
        on_result: Callable[[ClaimResult, int, int], None] | None = None) -> list[ClaimResult]:
    """Run claims and return one `ClaimResult` each, in registry order.

    **Arguments:**
    - `claims`: ids or id prefixes (ending in "."); None runs every claim.
    - `quick`: run only the quick subset, each at its small sizes (`Context.quick`).
    - `seed`: base seed handed to every experiment.
    - `on_result`: called as `on_result(result, index, total)` after each claim (progress).

    An experiment that raises fails its claim (the error is recorded); it never stops the run.
    Experiments run in float64 (inside `jax.enable_x64`).
    """
    import jax

    chosen = select(claims, quick=quick)
    ctx = Context(seed=seed, quick=quick)
    results: list[ClaimResult] = []
    for k, c in enumerate(chosen):
        start = time.perf_counter()
        try:
            with jax.enable_x64(True):
                ev = c.run(ctx)
            if not isinstance(ev, Evidence):
                raise TypeError(f"claim {c.id} returned {type(ev).__name__}, not Evidence")
            res = ClaimResult(c, ev, verdict(ev), time.perf_counter() - start)
        except Exception as err:  # a broken experiment is a failed claim, reported with its cause
            tb = traceback.format_exception_only(type(err), err)[-1].strip()
            res = ClaimResult(c, None, False, time.perf_counter() - start, error=tb)
        results.append(res)
        if on_result is not None:
            on_result(res, k, len(chosen))
    return results
