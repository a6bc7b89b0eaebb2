"""Integrate a batch of initial states at once: `solve` vmapped, the batch split over devices; and the
one way a batch is padded to the device count and placed on a 1-D device mesh (`shard_batch`)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec
from jaxtyping import Array, Float, PyTree

from ._diffrax import solve
from ._trajectory import Trajectory

__all__ = ["solve_batch", "shard_batch"]


def _pad(tree: PyTree, pad: int) -> PyTree:
    """Every leaf's batch axis extended by `pad` copies of its last entry (numpy stays numpy)."""
    if not pad:
        return tree

    def one(leaf):
        xp = np if isinstance(leaf, np.ndarray) else jnp
        return xp.concatenate([leaf, xp.repeat(leaf[-1:], pad, axis=0)])

    return jax.tree_util.tree_map(one, tree)


def shard_batch(tree: PyTree, batch: int, devices: Sequence[jax.Device] | None = None) -> tuple[PyTree, int]:
    """Pad the leading (batch) axis of every leaf to a multiple of the device count with copies of
    the last entry (their results are to be dropped) and shard it over a 1-D device mesh
    (`jax.sharding.NamedSharding`), so a jitted `vmap` runs each device's block; a no-op on one
    device. **Returns:** the placed tree and the padded batch size."""
    devices = list(jax.devices() if devices is None else devices)
    if len(devices) == 1:
        return tree, batch
    padded = -(-batch // len(devices)) * len(devices)
    sharding = jax.sharding.NamedSharding(Mesh(np.asarray(devices), ("batch",)), PartitionSpec("batch"))
    tree = _pad(jax.tree_util.tree_map(np.asarray, tree), padded - batch)
    return jax.tree_util.tree_map(lambda a: jax.device_put(a, sharding), tree), padded


def solve_batch(
    vector_field: Callable[[Any, PyTree, Any], PyTree],
    y0s: PyTree,
    args: Any,
    ts: Float[Array, " time"],
    *,
    devices: Sequence[jax.Device] | None = None,
    chunk_size: int | None = None,
    **solve_kwargs: Any,
) -> Trajectory:
    r"""Integrate $dy/dt = f(t, y, args)$ from every initial state in `y0s`: `jax.vmap(solve)`.

    **Arguments:**

    - `vector_field`, `args`, `ts`: as for `solve` (`args` and `ts` are shared by the batch).
    - `y0s`: initial states stacked along a leading batch axis (every leaf has it).

    **Other arguments:**

    - `devices`: the batch is split into equal contiguous blocks, one per device, each integrated by
      its own vmapped solve (`jax.shard_map`, no communication). Default: every device of the default
      backend (one GPU, or as many CPU devices as `--xla_force_host_platform_device_count` made). The
      batch is padded to a multiple of the device count with copies of its last state; the copies
      are dropped from the result.
    - `chunk_size`: trajectories integrated together (one vmapped solve) on a device; the device's
      block is integrated chunk after chunk (`jax.lax.map(..., batch_size=chunk_size)`). Default:
      the whole block at once. On a CPU, small chunks keep the solver's working set in cache, and a
      chunk waits only for its own slowest trajectory.
    - `**solve_kwargs`: `solver`, `rtol`, `atol`, `max_steps`, `divergence_threshold` (see `solve`).

    **Returns:** a `Trajectory` whose leaves all have the leading batch axis (one `status` per
    trajectory). Each trajectory has its own step sizes, exactly as a single `solve` would take, but
    a vmapped block (or chunk) runs until its slowest trajectory is done.
    """
    devices = list(jax.devices() if devices is None else devices)
    if chunk_size is not None and not chunk_size >= 1:
        raise ValueError(f"chunk_size = {chunk_size!r}: must be a positive integer or None")
    leaves = jax.tree_util.tree_leaves(y0s)
    if not leaves:
        raise ValueError("y0s has no array leaves")
    batch = int(np.shape(leaves[0])[0])
    if any(int(np.shape(leaf)[0]) != batch for leaf in leaves):
        raise ValueError(f"every leaf of y0s must have the same leading batch size; got "
                         f"{[np.shape(leaf) for leaf in leaves]}")
    pad = -batch % len(devices)
    y0s = _pad(y0s, pad)
    mesh = Mesh(np.asarray(devices), ("batch",))
    out = _sharded_solve(vector_field, y0s, args, jnp.asarray(ts), mesh, chunk_size,
                         tuple(sorted(solve_kwargs.items())))
    return jax.tree_util.tree_map(lambda leaf: leaf[:batch], out) if pad else out


@eqx.filter_jit
def _sharded_solve(vector_field, y0s, args, ts, mesh, chunk_size, solve_kwargs):
    kwargs = dict(solve_kwargs)
    dynamic_args, static_args = eqx.partition(args, eqx.is_array)

    def block(y0_block, dynamic_args, ts):
        args = eqx.combine(dynamic_args, static_args)

        def one(y0):
            return solve(vector_field, y0, args, ts, **kwargs)

        if chunk_size is None:
            return jax.vmap(one)(y0_block)
        return jax.lax.map(one, y0_block, batch_size=chunk_size)

    batched, shared = PartitionSpec("batch"), PartitionSpec()
    return jax.shard_map(block, mesh=mesh, in_specs=(batched, shared, shared), out_specs=batched,
                         check_vma=False)(y0s, dynamic_args, ts)
