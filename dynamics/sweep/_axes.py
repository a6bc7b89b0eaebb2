"""Sweep axes: `name=kind:spec` strings (`geom`, `lin`, `list`, `rand`) -> named value arrays."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from ..config import (CHOICES, CROSS_CHECKED, MATRIX_FIELDS, MAX_AXIS_POINTS, MAX_SEED, SAMPLED_FIELDS, VECTOR_FIELDS,
                      Config, ConfigError, deciding_fields, format_bytes, unused_reason)

__all__ = ["Axis", "parse_axis", "make_axes", "UNSWEEPABLE", "UNSWEEPABLE_REASONS", "sweepable_fields"]

_SHAPES = "it changes array shapes, the data layout or the solver"
_SHARED = ("every point of a sweep shares one time grid and one integrator setting; run one sweep per {name} "
           "value (set --{flag} in the base config)")
#: Why each field cannot be a grid axis. Shape fields change array shapes, the data layout or the solver;
#: the shared fields (`t_max`, `rtol`, `atol`, `divergence_threshold`) are one setting of the saved times
#: and of the batched integrator for all points, so a swept value would be silently ignored.
UNSWEEPABLE_REASONS: dict[str, str] = {
    **{name: _SHAPES for name in ("model", "n1", "n2", "n_save", "save_spacing", "dtype", "solver", "max_steps",
                                   "data", "init", "basis", "n_samples") + MATRIX_FIELDS + VECTOR_FIELDS},
    **{name: "a setting of the sampled simulators: sweep it around a base config that runs one (--discrete, "
             "--objective er/rec or --model issl)" for name in SAMPLED_FIELDS},
    **{name: "it changes which simulator runs (or a yes/no setting of one); run one sweep per value"
       for name in ("objective", "discrete", "decoupled", "plugin")},
    **{name: _SHARED.format(name=name, flag=name.replace("_", "-"))
       for name in ("t_max", "rtol", "atol", "divergence_threshold")},
}
#: Fields that cannot be grid axes (see `UNSWEEPABLE_REASONS`).
UNSWEEPABLE = tuple(UNSWEEPABLE_REASONS)

_INT_FIELDS = {f.name for f in dataclasses.fields(Config) if f.type in ("int", int, "int | None")}


class Axis(NamedTuple):
    """One grid axis: a `Config` field name and its values (numbers, or strings for choices)."""

    name: str
    values: np.ndarray
    spec: str


def sweepable_fields() -> list[str]:
    """The `Config` fields that may be grid axes of the flow's sweeps (every field not in `UNSWEEPABLE`;
    a sweep of a sampled simulator also takes the settings of `SAMPLED_FIELDS` but "decoupled" and
    "plugin", see `dynamics.sweep.sweep_sampled`)."""
    return [f.name for f in dataclasses.fields(Config) if f.name not in UNSWEEPABLE]


def _field_name(raw: str, sampled: bool = False) -> str:
    name = raw.strip().replace("-", "_")
    known = {f.name for f in dataclasses.fields(Config)}
    if name not in known:
        raise ConfigError("param", raw, f"unknown setting; sweepable: {', '.join(sorted(sweepable_fields()))}")
    if sampled and name in SAMPLED_FIELDS and name not in ("decoupled", "plugin"):
        return name
    if name in UNSWEEPABLE:
        reason = UNSWEEPABLE_REASONS[name]
        hint = "" if name in ("t_max", "rtol", "atol", "divergence_threshold") else "; set it in the base config instead"
        raise ConfigError("param", raw, f"{name} cannot be swept ({reason}){hint}")
    return name


def _number(field: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(field, text, "must be a number") from None


def _count(field: str, text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise ConfigError(field, text, "the number of points must be an integer >= 1") from None
    if n < 1:
        raise ConfigError(field, text, "the number of points must be an integer >= 1")
    if n > MAX_AXIS_POINTS:
        raise ConfigError(field, text, f"an axis of {n:.3g} points would hold {format_bytes(8 * n)} of values "
                          f"alone; at most {MAX_AXIS_POINTS:.0e} points per axis")
    return n


def parse_axis(text: str, *, seed: int = 0, sampled: bool = False) -> Axis:
    """Parse `name=kind:spec`.

    - `geom:lo:hi:n`: n log-spaced values, both endpoints included (lo, hi > 0);
    - `lin:lo:hi:n`: n evenly spaced values, endpoints included;
    - `list:v1,v2,...`: the given values (numbers, or strings for choice fields such as `target`);
    - `rand:lo:hi:n[:log]`: n uniform (or log-uniform) draws, sorted, from a generator seeded by `seed`
      and the field name (reproducible).

    `sampled=True` also accepts the settings of the sampled simulators (`sweep_sampled`).

    **Raises:** `ConfigError` naming the parameter and what is allowed.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError("axis_seed", seed, "must be an integer from 0 to 2**32 - 1")
    if "=" not in text:
        raise ConfigError("param", text, "must look like name=kind:spec, e.g. beta=geom:1e-3:10:64")
    raw_name, spec = text.split("=", 1)
    name = _field_name(raw_name, sampled)
    kind, _, rest = spec.partition(":")
    parts = rest.split(":") if rest else []
    if kind in ("geom", "lin"):
        if len(parts) != 3:
            raise ConfigError(name, spec, f"{kind} axes are {kind}:lo:hi:n")
        lo, hi, n = _number(name, parts[0]), _number(name, parts[1]), _count(name, parts[2])
        if kind == "geom":
            if not (lo > 0 and hi > 0):
                raise ConfigError(name, spec, "geom axes need lo > 0 and hi > 0")
            values = np.geomspace(lo, hi, n)
        else:
            values = np.linspace(lo, hi, n)
        if n == 1 and lo != hi:
            raise ConfigError(name, spec, "one point needs lo == hi")
    elif kind == "list":
        items = [v.strip() for v in rest.split(",") if v.strip()]
        if len(items) > MAX_AXIS_POINTS:
            raise ConfigError(name, f"{len(items)} values", f"at most {MAX_AXIS_POINTS:.0e} points per axis")
        if not items:
            raise ConfigError(name, spec, "list axes need at least one value: list:v1,v2,...")
        if name in CHOICES:
            values = np.asarray(items, dtype=object)
        else:
            values = np.asarray([_number(name, v) for v in items])
    elif kind == "rand":
        if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "log"):
            raise ConfigError(name, spec, "rand axes are rand:lo:hi:n or rand:lo:hi:n:log")
        lo, hi, n = _number(name, parts[0]), _number(name, parts[1]), _count(name, parts[2])
        if not hi >= lo:
            raise ConfigError(name, spec, "rand axes need hi >= lo")
        rng = np.random.default_rng([seed, sum(map(ord, name))])
        if len(parts) == 4:
            if not lo > 0:
                raise ConfigError(name, spec, "log-uniform draws need lo > 0")
            values = np.exp(rng.uniform(np.log(lo), np.log(hi), n))
        else:
            values = rng.uniform(lo, hi, n)
        values = np.sort(values)
    else:
        raise ConfigError(name, spec, "axis kind must be geom, lin, list or rand")
    return Axis(name, _typed(name, values), spec)


def _typed(name: str, values: np.ndarray) -> np.ndarray:
    if name in CHOICES:
        bad = [v for v in values if v not in CHOICES[name]]
        if bad:
            raise ConfigError(name, bad[0], f"must be one of {', '.join(CHOICES[name])}")
        out = np.asarray([str(v) for v in values], dtype=object)
    else:
        try:
            numbers = values.astype(np.float64)
        except (TypeError, ValueError):
            raise ConfigError(name, values.tolist(), "must be numbers") from None
        if not np.all(np.isfinite(numbers)):
            raise ConfigError(name, values.tolist(), "must be finite numbers")
        if name in _INT_FIELDS:
            if not np.all(numbers == np.round(numbers)) or np.any(np.abs(numbers) >= 2.0**63):
                raise ConfigError(name, values.tolist(), "must be integers")
            out = numbers.astype(np.int64)
        else:
            out = numbers
    _check_distinct(name, out)
    return out


def _check_distinct(name: str, values: np.ndarray) -> None:
    """Refuse repeated axis values: two cells with one value would be one point drawn twice (and a
    coordinate that selects two cells)."""
    seen: set = set()
    for value in values.tolist():
        if value in seen:
            raise ConfigError(name, value, "appears twice on the axis; each axis value must be distinct")
        seen.add(value)


def make_axes(base: Config, axes: Mapping[str, Sequence[Any]] | Sequence[Axis | str], *, seed: int = 0) -> list[Axis]:
    """Normalize user axes (a mapping name -> values, or `Axis` / axis strings) and validate every
    value against `base` (each value must give a valid `Config`). A base that runs a sampled
    simulator also takes its settings (`SAMPLED_FIELDS`) as axes."""
    sampled = base.simulator != "flow"
    if isinstance(axes, Mapping):
        out = [Axis(_field_name(k, sampled), _typed(_field_name(k, sampled), _values_array(k, v)), "values")
               for k, v in axes.items()]
    else:
        out = [parse_axis(a, seed=seed, sampled=sampled) if isinstance(a, str) else
               Axis(_field_name(a.name, sampled), _typed(_field_name(a.name, sampled), np.asarray(a.values)), a.spec)
               for a in axes]
    names = [a.name for a in out]
    if len(set(names)) != len(names):
        raise ConfigError("param", names, "each field may be swept once")
    if not out:
        raise ConfigError("param", [], "a sweep needs at least one axis")
    for axis in out:
        if axis.values.size == 0:
            raise ConfigError(axis.name, [], "an axis needs at least one value")
        for value in axis.values:
            base.replace(**{axis.name: _plain(value)})
        reason = unused_reason(axis.name, base)
        if reason is not None and not set(deciding_fields(axis.name)) & set(names):
            raise ConfigError("param", axis.name, f"{axis.name} {reason}: sweeping it would give the same run at "
                              "every value")
    _check_combinations(base, out)
    return out


def _values_array(name: str, values: Sequence[Any]) -> np.ndarray:
    values = list(values)
    if len(values) > MAX_AXIS_POINTS:
        raise ConfigError(name, f"{len(values)} values", f"at most {MAX_AXIS_POINTS:.0e} points per axis")
    if any(isinstance(x, str) for x in values):
        return np.asarray(values, dtype=object)
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(name, values, "must be numbers (or names, for a choice field)") from None


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _check_combinations(base: Config, axes: list[Axis]) -> None:
    """Combinations of axes whose fields constrain each other must give a valid `Config`, so no grid
    point fails once the sweep has started (e.g. target=online with tau0 = 0.5, loss=cosine with
    expectation=exact): every combination of the choice axes, each with every value of each
    `CROSS_CHECKED` numeric axis (`Config`'s cross-field checks pair a choice with a choice or a
    number). The cost is (product of the choice axes) x (sum of the numeric axes), not the grid."""
    choices = [a for a in axes if a.name in CHOICES]
    numeric = [a for a in axes if a.name in CROSS_CHECKED and a.name not in CHOICES]
    if len(choices) + len(numeric) < 2:
        return
    for combo in itertools.product(*(a.values for a in choices)):
        fixed = {a.name: _plain(v) for a, v in zip(choices, combo)}
        base.replace(**fixed)
        for axis in numeric:
            for value in axis.values:
                base.replace(**fixed, **{axis.name: _plain(value)})
