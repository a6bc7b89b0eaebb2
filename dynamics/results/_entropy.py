r"""`kernel_entropy` over time: the vMF kernel entropy (T28) of the normalized online embeddings, added
to every simulation result (THEORY.md §9 [RBR23]; the estimator is `dynamics.objectives.kernel_entropy`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import Config, data_statistics

__all__ = ["KERNEL_ENTROPY_SETTINGS", "kernel_entropy_series", "mode_weight_matrix"]

#: Settings of the `kernel_entropy` diagnostic: kappa (T28's default), number of fixed inputs, the
#: input kind (augmented views, the online branch's input) and the seed of the inputs (common
#: random numbers: every run with the same data statistics sees the same inputs).
KERNEL_ENTROPY_SETTINGS = {"kappa": 10.0, "n_samples": 512, "inputs": "view", "key": 0}


def kernel_entropy_series(config: Config, W: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    r"""$\hat H(\{W(t) x_i / \|W(t) x_i\|\}_i)$ at every saved time (leading axis of `W`, n2 x n1
    each; NaN where W is not finite), with the inputs $x_i$ drawn once by
    `dynamics.objectives.entropy_inputs` from `config`'s data statistics. For the eigenmode model
    pass $W = \mathrm{diag}(w) Q_{:, :m}^T$ in the data basis Q (`mode_weight_matrix`).

    **Returns:** the values (float64) and the variable's attributes (settings and `theory`).
    """
    import jax
    import jax.numpy as jnp

    from ..objectives import embedding_entropy, entropy_inputs  # imports stochastic, which imports results

    s = KERNEL_ENTROPY_SETTINGS
    with jax.enable_x64(True):
        x = entropy_inputs(config, s["n_samples"], key=jax.random.key(s["key"]), inputs=s["inputs"])
        values = np.asarray(embedding_entropy(jnp.asarray(W, jnp.float64), jnp.asarray(x), s["kappa"]),
                            dtype=np.float64)
    attrs = {"long_name": "vMF kernel entropy of normalized embeddings W x (T28)", "units": "nats",
             "kappa": s["kappa"], "n_samples": s["n_samples"], "inputs": s["inputs"], "input_key": s["key"],
             "theory": "T28"}
    return values, attrs


def mode_weight_matrix(config: Config, w: np.ndarray) -> np.ndarray:
    """The online weights of an eigenmode run as matrices, diag(w_j) Q[:, :m]^T (time x m x n1)."""
    basis = data_statistics(config).basis
    return w[..., :, None] * basis[:, : w.shape[-1]].T
