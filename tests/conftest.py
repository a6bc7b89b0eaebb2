"""Tests run in float64 (tolerances below 1e-6 need it); JAX's x64 switch is set once here.

Compiled programs are shared through JAX's persistent compilation cache in a folder of this session
(also for the command-line subprocesses, through the environment): many tests build the same programs
again (a training step per `train` call, the CLI in a fresh interpreter), and XLA compilation dominates
their time on a small CPU.

equinox's runtime checks return NaN (`EQX_ON_ERROR=nan`, set before equinox is imported), as under the
command line, which the tests also call in this process: without it the first in-process command would
switch the setting halfway through the session, and the programs traced before and after would differ
(stored solve programs, `dynamics.integrate._programs`, need programs without host callbacks).
"""

import os
import tempfile

os.environ.setdefault("EQX_ON_ERROR", "nan")

import equinox._errors as _eqx_errors  # noqa: E402  (pinned equinox 0.13.8)
import jax  # noqa: E402

# a pytest plugin may have imported equinox before this file: set the copy it reads as well
_eqx_errors.EQX_ON_ERROR = os.environ["EQX_ON_ERROR"]

_CACHE = tempfile.mkdtemp(prefix="ssl-dynamics-test-jax-cache-")
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", _CACHE)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.1")
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update("jax_persistent_cache_min_compile_time_secs",
                  float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]))
