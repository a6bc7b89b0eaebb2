"""Tests run in float64 (tolerances below 1e-6 need it); JAX's x64 switch is set once here."""

import jax

jax.config.update("jax_enable_x64", True)
