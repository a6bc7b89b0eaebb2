"""Symbolic layer (sympy): the flows, the eigenmode reduction, fixed points and stability, derived.

Everything here is *derived* from the loss (T1) and checked against THEORY.md and the hand-written
vector fields of `dynamics.flows`:

- `derive_flow`, `matrix_flow`: (T2)-(T5) from (T1) for each stop-gradient setting (entries, matrix form);
- `scalar_flow`, `mode_system`, `plane_system`, `parabola_system`, `closed_form_system`: (T11)-(T16),
  (T13b), (T22)-(T23) and the weight-decay forms of §7 by substitution into the derived flow;
- `isoloss_sample_gradient`, `cosine_sample_gradient`: per-sample gradients of §7, (T24);
- `balance_residual`, `mode_integral_residual`: Theorem 1 (T6) and (T14);
- `fixed_points`, `thresholds`, `stability`: (T17), eta*, lambda*, classification per system;
- `derived_mode_flow`, `mode_vector_field`, `flow_vector_field`, `jax_vector_field`: JAX code;
- `derived_equations`, `to_latex`, `to_text`: export.

sympy is imported on first use of any of these names, so `import dynamics` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the public API, one name per line (loaded lazily below)
    from ._codegen import derived_mode_flow as derived_mode_flow
    from ._codegen import flow_vector_field as flow_vector_field
    from ._codegen import jax_vector_field as jax_vector_field
    from ._codegen import mode_vector_field as mode_vector_field
    from ._derive import MatrixFlow as MatrixFlow
    from ._derive import MatrixFlowForm as MatrixFlowForm
    from ._derive import derive_flow as derive_flow
    from ._derive import expected_loss as expected_loss
    from ._derive import explicit as explicit
    from ._derive import matrix_flow as matrix_flow
    from ._fixed_points import FixedPoint as FixedPoint
    from ._fixed_points import fixed_points as fixed_points
    from ._fixed_points import thresholds as thresholds
    from ._invariants import balance_residual as balance_residual
    from ._invariants import mode_integral_residual as mode_integral_residual
    from ._latex import Equation as Equation
    from ._latex import derived_equations as derived_equations
    from ._latex import to_latex as to_latex
    from ._latex import to_text as to_text
    from ._losses import CosineGradient as CosineGradient
    from ._losses import IsoLossGradient as IsoLossGradient
    from ._losses import cosine_sample_gradient as cosine_sample_gradient
    from ._losses import isoloss_flow as isoloss_flow
    from ._losses import isoloss_sample_gradient as isoloss_sample_gradient
    from ._losses import isoloss_value_matches_T1 as isoloss_value_matches_T1
    from ._modes import SYSTEMS as SYSTEMS
    from ._numbers import MAGNITUDE_RANGE as MAGNITUDE_RANGE
    from ._numbers import format_number as format_number
    from ._modes import closed_form_system as closed_form_system
    from ._modes import decoupling_residual as decoupling_residual
    from ._modes import mode_system as mode_system
    from ._modes import named_system as named_system
    from ._modes import parabola_system as parabola_system
    from ._modes import plane_system as plane_system
    from ._modes import scalar_flow as scalar_flow
    from ._stability import CLASSIFICATIONS as CLASSIFICATIONS
    from ._stability import Stability as Stability
    from ._stability import stability as stability
    from ._symbols import PARAMETERS as PARAMETERS
    from ._symbols import Path as Path
    from ._symbols import symbol as symbol
    from ._system import ModeSystem as ModeSystem

_EXPORTS = {
    "derived_mode_flow": "_codegen", "flow_vector_field": "_codegen", "jax_vector_field": "_codegen",
    "mode_vector_field": "_codegen",
    "MatrixFlow": "_derive", "MatrixFlowForm": "_derive", "derive_flow": "_derive", "expected_loss": "_derive",
    "explicit": "_derive", "matrix_flow": "_derive",
    "FixedPoint": "_fixed_points", "fixed_points": "_fixed_points", "thresholds": "_fixed_points",
    "balance_residual": "_invariants", "mode_integral_residual": "_invariants",
    "Equation": "_latex", "derived_equations": "_latex", "to_latex": "_latex", "to_text": "_latex",
    "CosineGradient": "_losses", "IsoLossGradient": "_losses", "cosine_sample_gradient": "_losses",
    "isoloss_flow": "_losses", "isoloss_sample_gradient": "_losses", "isoloss_value_matches_T1": "_losses",
    "SYSTEMS": "_modes", "closed_form_system": "_modes", "decoupling_residual": "_modes",
    "mode_system": "_modes", "named_system": "_modes", "parabola_system": "_modes",
    "plane_system": "_modes", "scalar_flow": "_modes",
    "MAGNITUDE_RANGE": "_numbers", "format_number": "_numbers",
    "CLASSIFICATIONS": "_stability", "Stability": "_stability", "stability": "_stability",
    "PARAMETERS": "_symbols", "Path": "_symbols", "symbol": "_symbols",
    "ModeSystem": "_system",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
