"""The command line's caches between calls: JAX's persistent compilation cache (XLA programs) and the
stored solve programs (`jax.export`, `dynamics.integrate.solve(program_cache=...)`) beside it."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["compile_cache_dir", "use_compile_cache", "program_cache_dir"]


def compile_cache_dir() -> Path:
    """The persistent compilation cache folder of the command line: `$SSL_DYNAMICS_CACHE`, else
    `$XDG_CACHE_HOME/ssl-dynamics/jax` (`~/.cache/ssl-dynamics/jax`)."""
    if os.environ.get("SSL_DYNAMICS_CACHE"):
        return Path(os.environ["SSL_DYNAMICS_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ssl-dynamics" / "jax"


def program_cache_dir(args: argparse.Namespace) -> Path | None:
    """Where the command line keeps traced solve programs (`jax.export`, see `dynamics.integrate.solve`):
    the folder `programs` inside the compilation cache folder in use; None with `--no-compile-cache` or
    when no cache folder is set."""
    if getattr(args, "no_compile_cache", False):
        return None
    import jax

    folder = jax.config.jax_compilation_cache_dir
    return Path(folder) / "programs" if folder else None


def use_compile_cache(jax) -> None:
    """Keep compiled XLA programs between calls (an entry point's choice; the library never sets it):
    a repeated command with the same shapes skips compilation. `JAX_COMPILATION_CACHE_DIR`, when set,
    names the folder instead. Every program is stored (a command compiles some twenty small ones).

    Programs that carry equinox's runtime checks as host callbacks cannot be stored, so the command line
    sets equinox's `EQX_ON_ERROR` to `nan` unless the environment sets it: such a check then gives NaN
    instead of raising, which the solvers' status codes report as `nonfinite` (their own failures are
    statuses already, `throw=False`); inputs are validated before any work."""
    if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        try:
            folder = compile_cache_dir()
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return  # an unwritable home: run without the cache
        jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if "EQX_ON_ERROR" not in os.environ:
        # equinox reads EQX_ON_ERROR when it is imported (before this entry point runs): set its copy
        import equinox._errors as eqx_errors  # pinned equinox 0.13.8

        if getattr(eqx_errors, "EQX_ON_ERROR", None) == "raise":
            eqx_errors.EQX_ON_ERROR = "nan"
