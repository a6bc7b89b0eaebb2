"""Read settings from TOML files and matrices from .npy / text files."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from ._config import MATRIX_FIELDS, Config
from ._errors import ConfigError

__all__ = ["load_matrix", "read_config_file", "config_from_file"]


def load_matrix(field: str, path: str | Path, base: Path | None = None) -> list[list[float]]:
    """Read a matrix for `field` from a `.npy` file or a whitespace-separated text file."""
    p = Path(path)
    if base is not None and not p.is_absolute():
        p = base / p
    if not p.exists():
        raise ConfigError(field, str(path), "must name an existing .npy or text file")
    if p.is_dir():
        raise ConfigError(field, str(path), "is a folder; name a .npy or text file")
    try:
        arr = np.load(p) if p.suffix == ".npy" else np.loadtxt(p, ndmin=2)
    except (ValueError, OSError, UnicodeDecodeError, EOFError) as err:
        raise ConfigError(field, str(path), f"could not be read as a matrix ({err})") from None
    if not isinstance(arr, np.ndarray):  # e.g. an .npz archive
        raise ConfigError(field, str(path), "must hold one matrix (a .npy array or a text file)")
    if arr.dtype.kind not in "iuf":
        kind = "complex numbers (the imaginary part would be lost)" if arr.dtype.kind == "c" else \
            f"dtype {arr.dtype}"
        raise ConfigError(field, str(path), f"must hold real numbers; found {kind}")
    arr = np.asarray(arr, dtype=float)
    if arr.ndim != 2:
        raise ConfigError(field, str(path), f"must hold a 2-D matrix, found {arr.ndim}-D")
    return arr.tolist()


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The key/value pairs of a flat TOML settings file, with matrix paths resolved.

    Keys are `Config` field names (`alpha_p`; the CLI spelling `alpha-p` is accepted too). A matrix
    key may hold a nested list or a path to a .npy / text file, relative to the TOML file.
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError("config", str(path), "must name an existing TOML file")
    if p.is_dir():
        raise ConfigError("config", str(path), "is a folder; name a TOML file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError("config", str(path), f"is not UTF-8 text, as TOML requires ({err.reason} at byte "
                          f"{err.start})") from None
    except OSError as err:
        raise ConfigError("config", str(path), f"could not be read ({err.strerror})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("config", str(path), f"is not valid TOML ({err})") from None
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if isinstance(value, dict):
            raise ConfigError(key, "a table", "settings files are flat: key = value lines only")
        if name in MATRIX_FIELDS and isinstance(value, str):
            value = load_matrix(name, value, base=p.parent)
        values[name] = value
    return values


def config_from_file(path: str | Path, **overrides: Any) -> Config:
    """A `Config` from a TOML file, with keyword overrides applied on top."""
    values = read_config_file(path)
    values.update(overrides)
    return Config.from_dict(values)
