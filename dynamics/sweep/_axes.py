"""Sweep axes: `name=kind:spec` strings (`geom`, `lin`, `list`, `rand`) -> named value arrays."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from ..config import CHOICES, MATRIX_FIELDS, VECTOR_FIELDS, Config, ConfigError

__all__ = ["Axis", "parse_axis", "make_axes", "UNSWEEPABLE"]

#: Fields whose value changes array shapes or the solver itself; they cannot be grid axes.
UNSWEEPABLE = ("model", "n1", "n2", "n_save", "save_spacing", "dtype", "solver", "max_steps", "data", "init",
               "basis") + MATRIX_FIELDS + VECTOR_FIELDS

_INT_FIELDS = {f.name for f in dataclasses.fields(Config) if f.type in ("int", int)}


class Axis(NamedTuple):
    """One grid axis: a `Config` field name and its values (numbers, or strings for choices)."""

    name: str
    values: np.ndarray
    spec: str


def _field_name(raw: str) -> str:
    name = raw.strip().replace("-", "_")
    known = {f.name for f in dataclasses.fields(Config)}
    if name not in known:
        raise ConfigError("param", raw, f"unknown setting; sweepable: {', '.join(sorted(known - set(UNSWEEPABLE)))}")
    if name in UNSWEEPABLE:
        raise ConfigError("param", raw, "cannot be swept (it changes array shapes, the data layout or the solver); "
                          "set it in the base config instead")
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
    return n


def parse_axis(text: str, *, seed: int = 0) -> Axis:
    """Parse `name=kind:spec`.

    - `geom:lo:hi:n`: n log-spaced values, both endpoints included (lo, hi > 0);
    - `lin:lo:hi:n`: n evenly spaced values, endpoints included;
    - `list:v1,v2,...`: the given values (numbers, or strings for choice fields such as `target`);
    - `rand:lo:hi:n[:log]`: n uniform (or log-uniform) draws, sorted, from a generator seeded by `seed`
      and the field name (reproducible).

    **Raises:** `ConfigError` naming the parameter and what is allowed.
    """
    if "=" not in text:
        raise ConfigError("param", text, "must look like name=kind:spec, e.g. beta=geom:1e-3:10:64")
    raw_name, spec = text.split("=", 1)
    name = _field_name(raw_name)
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
        return np.asarray([str(v) for v in values], dtype=object)
    if name in _INT_FIELDS:
        if not np.all(values == np.round(values)):
            raise ConfigError(name, values.tolist(), "must be integers")
        return values.astype(np.int64)
    return values.astype(np.float64)


def make_axes(base: Config, axes: Mapping[str, Sequence[Any]] | Sequence[Axis | str], *, seed: int = 0) -> list[Axis]:
    """Normalize user axes (a mapping name -> values, or `Axis` / axis strings) and validate every
    value against `base` (each value must give a valid `Config`)."""
    if isinstance(axes, Mapping):
        out = [Axis(_field_name(k), _typed(_field_name(k), np.asarray(list(v), dtype=object if any(
            isinstance(x, str) for x in v) else float)), "values") for k, v in axes.items()]
    else:
        out = [parse_axis(a, seed=seed) if isinstance(a, str) else a for a in axes]
    names = [a.name for a in out]
    if len(set(names)) != len(names):
        raise ConfigError("param", names, "each field may be swept once")
    if not out:
        raise ConfigError("param", [], "a sweep needs at least one axis")
    for axis in out:
        if axis.values.size == 0:
            raise ConfigError(axis.name, [], "an axis needs at least one value")
        for value in axis.values:
            base.replace(**{axis.name: value.item() if hasattr(value, "item") else value})
    return out
