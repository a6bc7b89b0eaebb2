r"""`synthetic`: Gaussian vectors whose second moments are the linear theory's X and X' (THEORY.md §1).

The clean inputs $\bar x$ have correlation $X = Q\,\mathrm{diag}(\lambda)\,Q^T$ and every view adds
independent Gaussian noise of covariance $X' = Q\,\mathrm{diag}(\lambda')\,Q^T$, so $E[x_1 x_2^T] = X$
and $E[x_1 x_1^T] = X + X'$ exactly as in (T2)-(T4). The statistics come from the simulator's own
`dynamics.config.data_statistics` (isotropic when `x_eigs` is unset: X = I, X' = sigma2 I, the A2
assumption), so a training run and `dynamics.simulate` share them by construction.

- The pre-training set is whitened: its sample second moment is exactly X.
- The probe set is `dynamics.flows.view_pair_sample`'s moment-matched view pairs: over it
  $\overline{x_1 x_2^T} = X$ and $\overline{x_1 x_1^T} = X + X'$ exactly, so for the linear encoder the
  logged $\hat F$ is exactly $W X W^T$.
- Labels (for probes) are $\arg\max_c\, u_c^T \bar x$ over the first `synthetic_classes` basis vectors.
"""

from __future__ import annotations

import numpy as np

from ..config import Config, DataStatistics, data_statistics
from ..flows import psd_sqrt, view_pair_sample
from ._config import TrainConfig
from .data import Dataset

__all__ = ["synthetic_data_settings", "synthetic_statistics", "load_synthetic", "synthetic_probe_views"]


def synthetic_data_settings(config: TrainConfig) -> dict:
    """The simulator's `Config` data fields that describe the synthetic data of `config`."""
    if config.x_eigs is None and config.xprime_eigs is None:
        return {"n1": config.input_dim, "data": "isotropic", "sigma2": config.sigma2}
    x_eigs = config.x_eigs if config.x_eigs is not None else (1.0,) * config.input_dim
    return {"n1": config.input_dim, "data": "spectrum", "x_eigs": x_eigs, "xprime_eigs": config.xprime_eigs,
            "sigma2": config.sigma2, "basis": config.synthetic_basis, "data_seed": config.data_seed}


def synthetic_statistics(config: TrainConfig) -> DataStatistics:
    """X and X' of the synthetic data, built by the simulator's `data_statistics`."""
    return data_statistics(Config(n2=1, **synthetic_data_settings(config)))


def _whitened(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    g = rng.standard_normal((n, d))
    vals, vecs = np.linalg.eigh(g.T @ g / n)
    return g @ (vecs / np.sqrt(vals)) @ vecs.T


def _labels(x: np.ndarray, basis: np.ndarray, classes: int) -> np.ndarray:
    return np.argmax(x @ basis[:, :classes], axis=1).astype(np.int32)


def load_synthetic(config: TrainConfig) -> Dataset:
    """The synthetic dataset of `config` (float32 vectors; see the module docstring)."""
    stats = synthetic_statistics(config)
    d = config.input_dim
    if config.synthetic_classes > d:
        from ..config import ConfigError

        raise ConfigError("synthetic_classes", config.synthetic_classes, f"must be <= input_dim = {d}")
    rng = np.random.default_rng([config.data_seed, 7])
    LX = psd_sqrt(stats.X)
    train = _whitened(rng, config.synthetic_train, d) @ LX.T
    test = rng.standard_normal((config.synthetic_test, d)) @ LX.T
    basis = stats.basis if stats.basis is not None else np.linalg.eigh(stats.X)[1][:, ::-1]
    k = config.synthetic_classes
    return Dataset(name="synthetic", pretrain=train.astype(np.float32), train_x=train.astype(np.float32),
                   train_y=_labels(train, basis, k), test_x=test.astype(np.float32),
                   test_y=_labels(test, basis, k), num_classes=k, class_names=tuple(f"u{c}" for c in range(k)),
                   mean=(), std=(), source=f"generated (X, X' from data_statistics, seed {config.data_seed})",
                   verified=True)


def synthetic_probe_views(config: TrainConfig) -> np.ndarray:
    """Probe views (2, probe_size, input_dim): moment-matched pairs, so their cross moment is exactly X
    and their second moment exactly X + X' (`view_pair_sample`, seed `data_seed`)."""
    stats = synthetic_statistics(config)
    n = max(config.probe_size, 3 * config.input_dim)
    x1, x2 = view_pair_sample(stats.X, stats.Xprime, n, config.data_seed)
    return np.stack([x1[:n], x2[:n]]).astype(np.float32)
