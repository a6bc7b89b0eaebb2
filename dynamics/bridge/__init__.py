"""The training bridge: real networks trained with the simulator's methods, logged under its names.

`train(TrainConfig(...))` pre-trains a network (ResNet-18, a small ResNet, an MLP or the theory's
linear encoder) with BYOL, SimSiam, DirectPred, DirectCopy, IsoLoss, ER-BYOL, DISSL or CISSL (and the
ablations) and returns its log,
an xarray Dataset whose variables (`eig_F`, `eig_Wp`, `tau`, `commutator`, `balance_residual`,
`effective_rank`, `kernel_entropy`, ...) and time axis (flow time, THEORY.md §1) are the simulator's,
so a training run and a simulation overlay with no conversion.

The training modules (flax, optax, orbax) are imported on first use of `train`, so that importing
`TrainConfig` (e.g. to build the command line) stays cheap.
"""

from typing import Any

from ._config import METHODS as METHODS
from ._config import MODELS as MODELS
from ._config import TRAIN_CHOICES as TRAIN_CHOICES
from ._config import TrainConfig as TrainConfig

_LAZY = {"train": "._train", "RUN_FILES": "._train", "LONG_NAMES": "._log", "flow_config": "._flow",
         "training_config": "._flow",
         # the pieces of a training step that `dynamics.compare`'s preflight and the CLI reuse
         "prepare_run": "._train", "build_log": "._log", "spectral_row": "._measure", "replicate": "._parallel",
         "to_host": "._parallel", "initialize_distributed": "._parallel"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["METHODS", "MODELS", "TRAIN_CHOICES", "TrainConfig", "train", "RUN_FILES", "LONG_NAMES", "flow_config",
           "training_config", "prepare_run", "build_log", "spectral_row", "replicate", "to_host", "initialize_distributed"]
