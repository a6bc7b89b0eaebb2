"""The size guard: refuse a run or a sweep whose arrays would not fit, before any work starts.

One estimate per kind of work (`run_bytes`, `sweep_bytes`) and one check (`check_size`), so
`simulate`, `sweep` and the axis parser all refuse the same way, with the estimate in the message.
"""

from __future__ import annotations

from typing import Protocol

from ._errors import ConfigError

__all__ = ["SIZE_LIMIT_BYTES", "MAX_AXIS_POINTS", "run_bytes", "point_result_bytes", "sweep_bytes",
           "check_size", "format_bytes"]

#: The most memory a single run or a whole sweep may plan to hold (16 GiB).
SIZE_LIMIT_BYTES = 16 * 2**30
#: The most values one sweep axis may have (its values are an array built before the grid).
MAX_AXIS_POINTS = 10**7

_FLOAT = 8  # bytes per float64


class Config(Protocol):
    """The fields of a `dynamics.config.Config` that the estimates read (structural type: this module
    sits below `_config`, which calls `check_size` while it validates)."""

    n1: int
    n2: int
    n_save: int
    n_samples: int
    model: str
    expectation: str


def format_bytes(n: float) -> str:
    """`n` bytes as a short human-readable string (`"1.5 GiB"`)."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def _data_bytes(config: Config) -> int:
    # X, X', their eigenbasis and a temporary, n1 x n1 each (`data_statistics`)
    return 4 * config.n1 * config.n1 * _FLOAT


def _sample_bytes(config: Config) -> int:
    # the view-pair sample: a (n_samples, 3 n1) draw, then x1 and x2 in both orders
    return 7 * config.n_samples * config.n1 * _FLOAT if config.expectation == "sampled" else 0


def _state_floats(config: Config) -> int:
    if config.model == "full":
        return 2 * config.n2 * config.n1 + config.n2 * config.n2  # W, Wa, Wp
    return 3 * config.n2  # p, w, wa per mode


def run_bytes(config: Config) -> int:
    """Estimated peak memory of one `simulate(config)`: the data statistics, the view-pair sample,
    and the saved trajectory held about three times (solver output, numpy copy, result)."""
    trajectory = 3 * config.n_save * _state_floats(config) * _FLOAT
    return _data_bytes(config) + _sample_bytes(config) + trajectory


def point_result_bytes(config: Config) -> int:
    """Bytes one grid point adds to a sweep's result: a few time series and final values per mode."""
    return (4 * config.n_save + 12) * config.n2 * _FLOAT


def sweep_bytes(config: Config, points: int, points_per_chunk: int) -> int:
    """Estimated peak memory of a sweep of `points` grid points around `config`: the whole result
    (it is loaded at the end) plus one chunk's working arrays (initial states, the view-pair sample
    per point, the saved trajectories and their diagnostics)."""
    chunk = min(points, points_per_chunk)
    per_point_work = 4 * config.n_save * _state_floats(config) * _FLOAT + _sample_bytes(config)
    if config.model == "full":
        per_point_work += 2 * config.n1 * config.n1 * _FLOAT  # X and X + X' per point
    return points * point_result_bytes(config) + chunk * per_point_work + _data_bytes(config)


def check_size(what: str, n_bytes: int, detail: str, fix: str) -> None:
    """Refuse work whose estimate `n_bytes` exceeds `SIZE_LIMIT_BYTES`.

    **Arguments:** `what` ("run", "sweep"), the estimate, `detail` (the sizes it comes from, e.g.
    "n1 = 100000000, n2 = 8") and `fix` (what to make smaller).

    **Raises:** `ConfigError` on the field `size`, with the estimate and the limit.
    """
    if n_bytes > SIZE_LIMIT_BYTES:
        raise ConfigError("size", f"about {format_bytes(n_bytes)}",
                          f"the {what} would hold about {format_bytes(n_bytes)} ({detail}); the limit is "
                          f"{format_bytes(SIZE_LIMIT_BYTES)}: {fix}")
