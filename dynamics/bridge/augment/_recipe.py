"""`ViewRecipe`: the frozen, validated parameters of one augmented view (BYOL's asymmetric recipe)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from ...config import ConfigError

__all__ = ["ViewRecipe", "BYOL_VIEW_1", "BYOL_VIEW_2"]


@dataclass(frozen=True)
class ViewRecipe:
    r"""The random augmentations of one view, applied in this order (BYOL, Grill et al. 2020, Table 6).

    1. Random resized crop: area fraction $\sim U$(`crop_scale`), log aspect ratio (width/height)
       $\sim U(\log r_0, \log r_1)$ with (r_0, r_1) = `crop_ratio`; 10 tries, else a central crop
       (torchvision's rule, see `sample_crop_box`); bilinear resize to the output size.
    2. Horizontal flip with probability `flip_p`.
    3. Colour jitter with probability `jitter_p`: brightness factor $\sim U(\max(0, 1-b), 1+b)$,
       contrast factor $\sim U(\max(0, 1-c), 1+c)$, saturation factor $\sim U(\max(0, 1-s), 1+s)$,
       hue shift $\sim U(-h, h)$ turns, applied in a uniformly random order (torchvision's
       `ColorJitter` conventions; see `adjust_brightness` etc.).
    4. Grayscale with probability `grayscale_p`.
    5. Gaussian blur with probability `blur_p`, $\sigma \sim U$(`blur_sigma`).
    6. Solarize with probability `solarize_p`.

    **Arguments:** the fields below; tuples are (low, high) with low <= high.

    - `crop_scale`: area fraction range, in (0, 1] (default (0.08, 1.0)).
    - `crop_ratio`: aspect-ratio range (width / height), > 0 (default (3/4, 4/3)).
    - `flip_p`, `jitter_p`, `grayscale_p`, `blur_p`, `solarize_p`: probabilities in [0, 1].
    - `brightness`, `contrast`, `saturation`: jitter strengths >= 0; `hue`: in [0, 0.5] turns.
    - `blur_sigma`: range of the blur's standard deviation in output pixels, > 0 (default (0.1, 2.0)).

    solo-learn's CIFAR recipe turns the blur off in both views (blur_p = 0, e.g.
    `dataclasses.replace(BYOL_VIEW_2, blur_p=0.0)`); its crops resize bicubically, BYOL's table
    and this module bilinearly.

    Hashable and registered as a JAX static pytree (no leaves), so it can be passed to `jax.jit`
    as an ordinary or static argument. Lists are stored as tuples and numbers as floats.

    **Raises:** `ConfigError` (a `ValueError`) naming the field, the value and the allowed range.
    """

    crop_scale: tuple[float, float] = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    jitter_p: float = 0.8
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.2
    hue: float = 0.1
    grayscale_p: float = 0.2
    blur_p: float = 1.0
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    solarize_p: float = 0.0

    def __post_init__(self) -> None:
        _pair(self, "crop_scale", lo=0.0, hi=1.0, why="area fraction range, in (0, 1]")
        _pair(self, "crop_ratio", lo=0.0, hi=None, why="aspect ratio (width/height) range, > 0")
        _pair(self, "blur_sigma", lo=0.0, hi=None, why="blur standard deviation range in pixels, > 0")
        for name in ("flip_p", "jitter_p", "grayscale_p", "blur_p", "solarize_p"):
            _number(self, name, lo=0.0, hi=1.0, why="a probability, in [0, 1]")
        for name in ("brightness", "contrast", "saturation"):
            _number(self, name, lo=0.0, hi=None, why="jitter strength, >= 0")
        _number(self, "hue", lo=0.0, hi=0.5, why="hue jitter in turns, in [0, 0.5]")


class Knobs(NamedTuple):
    """The numbers of a `ViewRecipe` as float32 arrays: traced inside the pipeline, so that every
    recipe shares one compiled function (and two views can run as one batch)."""

    crop_scale: jax.Array   # (2,)
    crop_ratio: jax.Array   # (2,)
    flip_p: jax.Array
    jitter_p: jax.Array
    brightness: jax.Array
    contrast: jax.Array
    saturation: jax.Array
    hue: jax.Array
    grayscale_p: jax.Array
    blur_p: jax.Array
    blur_sigma: jax.Array   # (2,)
    solarize_p: jax.Array


def recipe_knobs(recipe: ViewRecipe) -> Knobs:
    """`Knobs` holding the recipe's numbers (float32)."""
    return Knobs(*(jnp.asarray(getattr(recipe, name), dtype=jnp.float32) for name in Knobs._fields))


# ---------------------------------------------------------------------- validation helpers
def _value(name: str, value: Any, why: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, value, f"must be a number ({why})")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(name, value, f"must be finite ({why})")
    return value


def _number(obj: ViewRecipe, name: str, lo: float, hi: float | None, why: str) -> None:
    value = getattr(obj, name)
    number = _value(name, value, why)
    if number < lo or (hi is not None and number > hi):
        raise ConfigError(name, value, f"must be {why}")
    object.__setattr__(obj, name, number)


def _pair(obj: ViewRecipe, name: str, lo: float, hi: float | None, why: str) -> None:
    """A (low, high) pair with lo < low <= high (<= hi)."""
    value = getattr(obj, name)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConfigError(name, value, f"must be a pair (low, high): {why}")
    low, high = (_value(name, v, why) for v in value)
    if not (lo < low <= high) or (hi is not None and high > hi):
        raise ConfigError(name, value, f"must be (low, high) with low <= high: {why}")
    object.__setattr__(obj, name, (low, high))


jax.tree_util.register_static(ViewRecipe)

BYOL_VIEW_1 = ViewRecipe(blur_p=1.0, solarize_p=0.0)
"""BYOL's first view: always blurred, never solarized."""

BYOL_VIEW_2 = ViewRecipe(blur_p=0.1, solarize_p=0.2)
"""BYOL's second view: blurred with probability 0.1, solarized with probability 0.2."""
