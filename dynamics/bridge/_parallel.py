"""Data parallelism with `jax.sharding`: one `data` mesh axis over every device of every process.

The batch (its indices, hence the gathered images and their views) is split over the `data` axis;
parameters, optimizer states and the device-resident dataset are replicated. Under `jax.jit` XLA
inserts the cross-device reductions, so BatchNorm statistics and gradients are global (flax's
`_compute_stats` documents this for batch-sharded inputs without an `axis_name`). Every array is
built with `jax.make_array_from_callback`, which also works when the mesh spans several processes
(`jax.distributed.initialize`, `initialize_distributed`): each process supplies the parts of the global
array that live on its own devices.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["make_mesh", "replicate", "shard_batch", "to_host", "initialize_distributed", "is_main_process"]


def make_mesh() -> Mesh:
    """A 1-D mesh named `data` over all devices (of all processes)."""
    return Mesh(np.asarray(jax.devices()), ("data",))


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Every leaf as a global array replicated on every device of `mesh`."""
    sharding = NamedSharding(mesh, PartitionSpec())

    def place(leaf):
        arr = np.asarray(leaf)
        return jax.make_array_from_callback(arr.shape, sharding, lambda index: arr[index])

    return jax.tree_util.tree_map(place, tree)


def shard_batch(array: np.ndarray, mesh: Mesh, axis: int = 0) -> jax.Array:
    """A global array split along `axis` over the `data` axis (every process passes the whole global
    array; only its own devices' parts are transferred)."""
    arr = np.asarray(array)
    sharding = NamedSharding(mesh, PartitionSpec(*([None] * axis + ["data"])))
    return jax.make_array_from_callback(arr.shape, sharding, lambda index: arr[index])


def to_host(tree: Any) -> Any:
    """Numpy copies of (replicated or sharded) global arrays, also across processes."""
    def fetch(x):
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            if x.sharding.is_fully_replicated:
                return np.asarray(x.addressable_data(0))
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(x, tiled=True))
        return np.asarray(x)

    return jax.tree_util.tree_map(fetch, tree)


def initialize_distributed(coordinator: str | None, num_processes: int | None, process_id: int | None) -> bool:
    """`jax.distributed.initialize` for a multi-process run, from the arguments or the usual environment
    (`JAX_COORDINATOR_ADDRESS`, `JAX_NUM_PROCESSES`, `JAX_PROCESS_ID`); on CPUs the collectives go through
    gloo. Returns whether a multi-process run was set up (nothing to do for one process)."""
    coordinator = coordinator or os.environ.get("JAX_COORDINATOR_ADDRESS")
    env_n, env_id = os.environ.get("JAX_NUM_PROCESSES"), os.environ.get("JAX_PROCESS_ID")
    num_processes = num_processes if num_processes is not None else (int(env_n) if env_n else None)
    process_id = process_id if process_id is not None else (int(env_id) if env_id else None)
    if coordinator is None and num_processes in (None, 1):
        return False
    if coordinator is None or num_processes is None or process_id is None:
        from ..config import ConfigError

        raise ConfigError("coordinator", coordinator, "a multi-process run needs --coordinator HOST:PORT,"
                          " --num-processes and --process-id (or JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES,"
                          " JAX_PROCESS_ID)")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes, process_id=process_id)
    return True


def is_main_process() -> bool:
    return jax.process_index() == 0
