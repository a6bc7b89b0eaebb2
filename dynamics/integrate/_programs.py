"""Stored solve programs: `solve`'s traced and lowered program kept on disk with `jax.export`.

JAX's persistent compilation cache keeps XLA's compiled code between processes, but it finds an entry
by the lowered program, so every new process still traces diffrax's solve (most of a small command's
start-up). Here the lowered program itself is stored (`jax.export.Exported.serialize`), under a key
naming everything the trace depends on; a later process with the same key deserializes it and calls it
without tracing, and without importing diffrax.

What the key holds (`program_key`): the vector field's module and name; the solver and `max_steps`;
the state and argument pytrees' structure, the shape and dtype of every array leaf and the value of
every other leaf; the save times' shape and dtype; whether float64 is on; the backend and device kind;
the JAX flags that change a trace; the versions of jax, jaxlib, diffrax, equinox, lineax, optimistix,
jaxtyping and numpy; equinox's `EQX_ON_ERROR`; and a digest of this package's source files. So an edited
or upgraded installation traces again. Not covered, hence refused: vector fields defined outside this
package, closures and partials, leaves that are neither arrays nor plain numbers / strings, tracing
contexts (`jit`, `vmap`). A change made at run time (monkeypatching a flow) is not seen: run without the
cache then (`--no-compile-cache`).

A file that cannot be read, or whose stored key differs from the one asked for, is traced again and
replaced; a program that cannot be exported (equinox's runtime checks compile to host callbacks when
`EQX_ON_ERROR=raise`, which `jax.export` refuses) or stored runs as an ordinary solve.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import json
import os
from pathlib import Path
from typing import Any, Callable

import jax
import numpy as np

from ..config import atomic_write
from ._trajectory import Trajectory

__all__ = ["program_key", "program_path", "solve_stored", "PROGRAM_SUFFIX"]

#: The stored program files' suffix, and the first bytes of every file (with the format number).
PROGRAM_SUFFIX = ".jaxexport"
_MAGIC = b"ssl-dynamics solve program 1\n"
_PACKAGE = __name__.split(".")[0]
_DISTRIBUTIONS = ("jax", "jaxlib", "diffrax", "equinox", "lineax", "optimistix", "jaxtyping", "numpy")
# JAX flags whose value can change a traced or lowered program.
_TRACE_FLAGS = ("jax_default_matmul_precision", "jax_numpy_rank_promotion", "jax_numpy_dtype_promotion",
                "jax_default_prng_impl", "jax_enable_custom_prng", "jax_threefry_partitionable",
                "jax_enable_checks", "jax_debug_nans", "jax_debug_infs")
_PLAIN = (bool, int, float, str, type(None))


@functools.lru_cache(maxsize=1)
def _source_digest() -> str:
    """sha256 over this package's Python files (relative path and content), computed once a process."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    out = {}
    for name in _DISTRIBUTIONS:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def _eqx_on_error() -> str:
    import equinox._errors as eqx_errors  # pinned equinox 0.13.8: where EQX_ON_ERROR is read

    return str(getattr(eqx_errors, "EQX_ON_ERROR", os.environ.get("EQX_ON_ERROR", "raise")))


def _is_array(leaf: Any) -> bool:
    return isinstance(leaf, (jax.Array, np.ndarray, np.generic))


def _aval(leaf: Any) -> tuple[tuple[int, ...], str]:
    return tuple(int(n) for n in np.shape(leaf)), str(np.dtype(leaf.dtype))


def program_key(vector_field: Callable, y0: Any, args: Any, ts: Any, controls: tuple, *, solver: str,
                max_steps: int) -> dict | None:
    """The key of the stored program for this solve (a JSON-able dict), or None when the solve cannot
    be named safely (see the module docstring: what is covered, what is refused)."""
    if not inspect.isfunction(vector_field) or vector_field.__closure__:
        return None
    module = getattr(vector_field, "__module__", "") or ""
    if module != _PACKAGE and not module.startswith(_PACKAGE + "."):
        return None
    if jax.config.jax_disable_jit or _eqx_on_error() == "raise":
        return None  # equinox's checks under "raise" are host callbacks, which jax.export refuses
    if not all(_is_array(leaf) for leaf in jax.tree_util.tree_leaves(y0)):
        return None
    leaves, treedef = jax.tree_util.tree_flatten((y0, args))
    tree = str(treedef)
    if " at 0x" in tree:  # a static field without a stable repr: the key would not name it
        return None
    inputs, static = [], []
    for k, leaf in enumerate(leaves):
        if isinstance(leaf, jax.core.Tracer):
            return None
        if _is_array(leaf):
            inputs.append(_aval(leaf))
        elif isinstance(leaf, _PLAIN):
            static.append([k, type(leaf).__name__, repr(leaf)])
        else:
            return None
    if any(isinstance(a, jax.core.Tracer) for a in (ts, *controls)):
        return None
    device = jax.devices()[0]
    return {
        "function": f"{module}.{vector_field.__qualname__}",
        "solver": solver,
        "max_steps": int(max_steps),
        "tree": tree,
        "inputs": inputs,
        "static": static,
        "ts": _aval(ts),
        "controls": [_aval(a) for a in controls],
        "float64": str(jax.dtypes.canonicalize_dtype(np.float64)) == "float64",
        "backend": f"{device.platform}:{device.device_kind}",
        "flags": {name: repr(getattr(jax.config, name, None)) for name in _TRACE_FLAGS},
        "versions": _versions(),
        "eqx_on_error": _eqx_on_error(),
        "source": _source_digest(),
    }


def _key_text(key: dict) -> bytes:
    return json.dumps(key, sort_keys=True, separators=(",", ":")).encode()


def _header(key_text: bytes) -> bytes:
    """A stored file's first bytes: the format line, the key's length (8 bytes) and the key."""
    return _MAGIC + len(key_text).to_bytes(8, "little") + key_text


def program_path(folder: Path, key: dict) -> Path:
    """The file of the program stored under `key` in `folder` (named by the key's sha256)."""
    return Path(folder) / (hashlib.sha256(_key_text(key)).hexdigest()[:32] + PROGRAM_SUFFIX)


def _read(path: Path, key_text: bytes):
    """The stored program at `path` if its stored key is exactly `key_text`, else None."""
    from jax import export

    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head = _header(key_text)
    if not blob.startswith(head):
        return None
    try:
        return export.deserialize(bytearray(blob[len(head):]))
    except Exception:  # a truncated or foreign file: trace again and replace it
        return None


def _write(path: Path, key_text: bytes, exported) -> None:
    """Write atomically (`atomic_write`); a failure only skips storing."""
    try:
        blob = _header(key_text) + bytes(exported.serialize())
        atomic_write(path, lambda tmp: tmp.write_bytes(blob))
    except (OSError, ImportError):
        pass


def _export(traced_solve: Callable, vector_field: Callable, y0: Any, args: Any, ts: Any, controls: tuple, *,
            solver: str, max_steps: int):
    """`jax.export` of the solve as a function of the array leaves only (the other leaves are fixed)."""
    from jax import export

    leaves, treedef = jax.tree_util.tree_flatten((y0, args))
    array_at = [k for k, leaf in enumerate(leaves) if _is_array(leaf)]

    def flat_solve(ts_, rtol, atol, threshold, *arrays):
        filled = list(leaves)
        for k, value in zip(array_at, arrays):
            filled[k] = value
        y0_, args_ = jax.tree_util.tree_unflatten(treedef, filled)
        traj = traced_solve(vector_field, y0_, args_, ts_, solver, rtol, atol, max_steps, threshold)
        return (traj.ts, *jax.tree_util.tree_leaves(traj.ys), traj.status, traj.reached, traj.num_steps)

    specs = [jax.ShapeDtypeStruct(np.shape(a), a.dtype) for a in (ts, *controls, *(leaves[k] for k in array_at))]
    return export.export(jax.jit(flat_solve))(*specs)


def solve_stored(folder: Path, traced_solve: Callable, vector_field: Callable, y0: Any, args: Any, ts: Any,
                 controls: tuple, *, solver: str, max_steps: int):
    """`traced_solve(vector_field, y0, args, ts, solver, rtol, atol, max_steps, threshold)` through the
    program stored in `folder` under `program_key` (exported and stored first when absent).

    **Returns:** the `Trajectory`, or None when this solve cannot use a stored program (the caller then
    runs `traced_solve` itself).
    """
    key = program_key(vector_field, y0, args, ts, controls, solver=solver, max_steps=max_steps)
    if key is None:
        return None
    key_text = _key_text(key)
    path = program_path(folder, key)
    exported = _read(path, key_text)
    if exported is None:
        try:
            exported = _export(traced_solve, vector_field, y0, args, ts, controls, solver=solver,
                               max_steps=max_steps)
        except Exception:  # e.g. host callbacks (EQX_ON_ERROR=raise): not exportable, solve as usual
            return None
        _write(path, key_text, exported)
    leaves, y_tree = jax.tree_util.tree_flatten(y0)
    arrays = [leaf for leaf in jax.tree_util.tree_leaves((y0, args)) if _is_array(leaf)]
    out = exported.call(ts, *controls, *arrays)
    n = len(leaves)
    ys = jax.tree_util.tree_unflatten(y_tree, out[1:1 + n])
    return Trajectory(out[0], ys, out[1 + n], out[2 + n], out[3 + n])
