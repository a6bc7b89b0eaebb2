"""Small helpers of every paper's claims: the seeds of a claim and the mean ± standard error over them."""

from __future__ import annotations

import math

import numpy as np

from ._registry import Context

__all__ = ["seeds", "mean_se", "finite_max"]


def seeds(ctx: Context, quick: int, full: int) -> list[int]:
    """`quick` consecutive seeds from `ctx.seed` in the quick subset, `full` otherwise."""
    return [ctx.seed + i for i in range(quick if ctx.quick else full)]


def mean_se(values) -> tuple[float, float]:
    """The mean of `values` and its standard error (sample standard deviation / √n; 0 for one value)."""
    v = np.asarray(values, np.float64)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else 0.0


def finite_max(x) -> float:
    """The largest entry of `x`, or NaN when any entry is not finite."""
    x = np.asarray(x, dtype=float)
    return float(np.max(x)) if np.all(np.isfinite(x)) else float("nan")
