"""The saved time grid of a run (`Config.t_max`, `n_save`, `save_spacing`)."""

from __future__ import annotations

import numpy as np

from ._config import Config

__all__ = ["save_times"]


def save_times(config: Config) -> np.ndarray:
    """The saved time grid: `n_save` points, linear from 0 or log-spaced from t_max * 1e-4 (with 0
    prepended) up to `t_max`."""
    if config.save_spacing == "linear":
        return np.linspace(0.0, config.t_max, config.n_save)
    return np.concatenate([[0.0], np.geomspace(config.t_max * 1e-4, config.t_max, config.n_save - 1)])
