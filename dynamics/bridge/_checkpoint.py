"""Checkpoints of a training run (orbax): the whole `TrainState` and the log so far, every N steps.

The state holds the online, predictor, target and probe parameters, BatchNorm statistics, optimizer
states, the closed-form predictor's statistics and the step; the run's randomness (data order and
augmentation keys) is a function of (seed, step), so a restored state continues bit for bit. The
JSON metadata holds the configuration (a checkpoint of another configuration is refused) and the log
rows written so far, so an interrupted run loses at most the steps since its last checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax

from ..config import ConfigError

__all__ = ["Checkpointer"]


class Checkpointer:
    """An orbax `CheckpointManager` in `directory` keeping the last `keep` checkpoints."""

    def __init__(self, directory: str | Path, keep: int, config_json: str):
        import orbax.checkpoint as ocp

        self._ocp = ocp
        self.directory = Path(directory).resolve()
        self.config_json = config_json
        self.manager = ocp.CheckpointManager(self.directory, options=ocp.CheckpointManagerOptions(
            max_to_keep=keep, create=True, enable_async_checkpointing=False))

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def save(self, step: int, state: Any, meta: dict[str, Any]) -> None:
        """Write the state and the metadata (with the configuration) for `step`."""
        ocp = self._ocp
        meta = {**meta, "config_json": self.config_json}
        self.manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                        meta=ocp.args.JsonSave(meta)), force=True)
        self.manager.wait_until_finished()

    def restore(self, abstract_state: Any) -> tuple[Any, dict[str, Any]]:
        """The latest checkpoint's state (shaped like `abstract_state`) and metadata.

        **Raises:** `ConfigError` naming the settings that differ when the checkpoint belongs to another
        configuration, or when there is no checkpoint."""
        ocp = self._ocp
        step = self.manager.latest_step()
        if step is None:
            raise ConfigError("resume", str(self.directory), "holds no checkpoint to resume")
        meta = self.manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
        if meta.get("config_json") != self.config_json:
            theirs, ours = json.loads(meta.get("config_json", "{}")), json.loads(self.config_json)
            diff = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
            raise ConfigError("resume", str(self.directory), "the checkpoint belongs to another configuration"
                              f" (differs in: {', '.join(diff) or 'format'}); use a new --out or --overwrite")
        abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, abstract_state)
        restored = self.manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract)))
        return restored.state, meta

    def close(self) -> None:
        self.manager.close()
