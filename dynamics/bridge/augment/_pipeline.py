r"""The batched pipeline: per-sample parameters drawn from a `ViewRecipe`, applied in BYOL's order,
vmapped over the batch (and over the views of `byol_views`) and jit-compiled."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._blur import blur_axes, blur_kernel_size
from ._color import (adjust_hue_planar, blend, channels_first, channels_last, gray_mean_planar,
                     luma_planar, rgb_to_grayscale_planar, solarize)
from ._crop import CROP_ATTEMPTS, crop_box_from_uniforms, resized_crop_planar
from ._recipe import BYOL_VIEW_1, BYOL_VIEW_2, Knobs, ViewRecipe, recipe_knobs

__all__ = ["ViewParams", "JITTER_OPS", "sample_view_params", "apply_view_params", "color_jitter",
           "augment_view", "byol_views", "normalize"]

JITTER_OPS = ("brightness", "contrast", "saturation", "hue")
"""The colour-jitter ops by index, as used in `ViewParams.order`."""


class ViewParams(NamedTuple):
    """The random parameters of one view of one image (scalars unless noted)."""

    top: jax.Array          # int32 crop box
    left: jax.Array
    height: jax.Array
    width: jax.Array
    flip: jax.Array         # bool
    jitter: jax.Array       # bool: colour jitter applied
    factors: jax.Array      # (3,) float32: brightness, contrast, saturation factors
    hue: jax.Array          # float32 hue shift in turns
    order: jax.Array        # (4,) int32: a permutation of 0..3 indexing JITTER_OPS
    grayscale: jax.Array    # bool
    blur: jax.Array         # bool
    sigma: jax.Array        # float32 blur standard deviation (output pixels)
    solarize: jax.Array     # bool


def sample_view_params(key: jax.Array, recipe: ViewRecipe | Knobs, height: int, width: int
                       ) -> ViewParams:
    r"""Draw the parameters of one view of one (height x width) image.

    Crop box by the rule of `sample_crop_box`; each Bernoulli event independently with the recipe's
    probability; jitter factors $U(\max(0, 1 - b), 1 + b)$ for brightness, contrast, saturation,
    hue shift $U(-h, h)$, order a uniform permutation of the four ops; $\sigma \sim U$(blur_sigma).
    All parameters come from one vector of uniforms drawn whether or not their op is applied, so
    changing a probability changes only that op's event, never the other parameters.

    **Arguments:** `key`; `recipe`: a `ViewRecipe` or its `Knobs` (possibly traced); `height`,
    `width`: the input image size (static).

    **Returns:** a `ViewParams`.
    """
    knobs = recipe_knobs(recipe) if isinstance(recipe, ViewRecipe) else recipe
    # one draw of uniforms in [0, 1) for everything (a single threefry call compiles much faster)
    n_crop = 2 * CROP_ATTEMPTS + 2
    u = jax.random.uniform(key, (n_crop + 14,), jnp.float32)
    u_crop, u = u[:n_crop], u[n_crop:]
    top, left, h, w = crop_box_from_uniforms(height, width, u_crop, knobs.crop_scale, knobs.crop_ratio)
    strengths = jnp.stack([knobs.brightness, knobs.contrast, knobs.saturation])
    low = jnp.maximum(0.0, 1.0 - strengths)
    factors = low + (1.0 + strengths - low) * u[0:3]
    hue = knobs.hue * (2.0 * u[3] - 1.0)
    order = jnp.argsort(u[4:8]).astype(jnp.int32)  # argsort of i.i.d. uniforms: a uniform permutation
    sigma = knobs.blur_sigma[0] + (knobs.blur_sigma[1] - knobs.blur_sigma[0]) * u[8]
    # Bernoulli events: u < p (p = 0: never, p = 1: always)
    return ViewParams(
        top=top, left=left, height=h, width=w,
        flip=u[9] < knobs.flip_p,
        jitter=u[10] < knobs.jitter_p,
        factors=factors, hue=hue, order=order,
        grayscale=u[11] < knobs.grayscale_p,
        blur=u[12] < knobs.blur_p,
        sigma=sigma,
        solarize=u[13] < knobs.solarize_p,
    )


def color_jitter(image: jax.Array, factors: jax.Array, hue: jax.Array, order: jax.Array) -> jax.Array:
    r"""Brightness, contrast, saturation and hue (`adjust_brightness`, ...) in the given order.

    Equal to applying `JITTER_OPS[order[0]]`, then `JITTER_OPS[order[1]]`, ... with their
    parameters, each followed by its clip. Computed without branching on the order (so it stays
    cheap under `vmap`, where a `lax.switch` would run every branch): the three blend ops are all
    $\mathrm{clip}(f x + (1-f) t)$ with target t = 0, the gray mean or the gray image, so each of
    three slots before the hue and three after it runs one blend with the target and factor of the
    op in that slot, or the exact identity (brightness, f = 1) when the op sits on the other side
    of the hue; the (costly) HSV hue shift runs once. Cost: 6 blends + 1 hue shift, against
    16 ops for four `switch` slots. On 1-channel images saturation and hue are skipped.

    **Arguments:** `image` (H, W, C) in [0, 1]; `factors` (3,): brightness, contrast, saturation
    factors; `hue`: shift in turns (0 leaves the image untouched); `order` (4,): a permutation of
    0..3 indexing `JITTER_OPS`.

    **Returns:** an array of the image's shape and dtype.
    """
    return channels_last(color_jitter_planar(channels_first(image), factors, hue, order))


def color_jitter_planar(image: jax.Array, factors: jax.Array, hue: jax.Array, order: jax.Array
                        ) -> jax.Array:
    """`color_jitter` of a (C, H, W) image."""
    colour = image.shape[0] == 3
    factors = jnp.asarray(factors, image.dtype)
    if not colour:
        factors = factors.at[2].set(1.0)
    order = jnp.asarray(order, jnp.int32)
    hue_pos = jnp.argmax(order == 3)
    slots = jnp.arange(3)
    blend_ops = order[slots + (slots >= hue_pos)]  # the three blend ops, in order

    def blend_slots(x: jax.Array, active: jax.Array) -> jax.Array:
        for j in range(3):
            kind = jnp.where(active[j], blend_ops[j], 0)
            factor = jnp.where(active[j], factors[blend_ops[j]], 1.0)
            target = jnp.where(kind == 0, 0.0,
                               jnp.where(kind == 1, gray_mean_planar(x), luma_planar(x)))
            x = blend(x, target.astype(x.dtype), factor)
        return x

    x = blend_slots(image, slots < hue_pos)
    if colour:
        x = jnp.where(hue == 0, x, adjust_hue_planar(x, hue))
    return blend_slots(x, slots >= hue_pos)


def apply_view_params(image: jax.Array, params: ViewParams, out_size: int,
                      kernel_size: int | None = None) -> jax.Array:
    r"""Apply one view's parameters to one image, in BYOL's order: resized crop, flip, colour jitter,
    grayscale, Gaussian blur, solarize, and a final clip to [0, 1] (the resize and blur weights
    sum to 1 only up to rounding). Each random op is computed and then selected (`jnp.where`), as
    `vmap` would run every branch of a `lax.cond` anyway. Works on channel planes (C, H, W)
    between the crop and the end (faster on CPU; the same numbers as the public (H, W, C) ops).

    **Arguments:** `image` (H, W, C) float in [0, 1], C in {1, 3}; `params`: a `ViewParams`;
    `out_size`: static output side; `kernel_size`: static blur kernel size (default
    `blur_kernel_size(out_size)`).

    **Returns:** (out_size, out_size, C) in [0, 1].
    """
    kernel_size = blur_kernel_size(out_size) if kernel_size is None else kernel_size
    p = params
    x = resized_crop_planar(image, p.top, p.left, p.height, p.width, out_size)   # (C, out, out)
    x = jnp.where(p.flip, x[:, :, ::-1], x)
    x = jnp.where(p.jitter, color_jitter_planar(x, p.factors, p.hue, p.order), x)
    x = jnp.where(p.grayscale, rgb_to_grayscale_planar(x), x)
    x = jnp.where(p.blur, blur_axes(x, p.sigma, kernel_size, axes=(1, 2)), x)
    x = jnp.where(p.solarize, solarize(x), x)
    return channels_last(jnp.clip(x, 0.0, 1.0))


@partial(jax.jit, static_argnames=("out_size",))
def _augment(keys: jax.Array, images: jax.Array, knobs: Knobs, out_size: int) -> jax.Array:
    """keys (N,), images (N, H, W, C), knobs with leading axis N -> (N, out, out, C).

    Views and samples share one flat batch axis, so `augment_view` on B images and `byol_views`
    on B / 2 images run the same compiled function."""
    _, height, width, _ = images.shape
    if images.dtype == jnp.uint8:
        x = images.astype(jnp.float32) / 255.0
    else:
        x = images.astype(jnp.float32)

    def one(key: jax.Array, image: jax.Array, knob: Knobs) -> jax.Array:
        return apply_view_params(image, sample_view_params(key, knob, height, width), out_size)

    return jax.vmap(one)(keys, x, knobs)


def _check(images: jax.Array, out_size: int) -> None:
    if getattr(images, "ndim", None) != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images of shape {getattr(images, 'shape', None)}: must be (B, H, W, C) "
                         "with C = 1 or 3")
    if not (images.dtype == jnp.uint8 or jnp.issubdtype(images.dtype, jnp.floating)):
        raise ValueError(f"images of dtype {images.dtype}: must be uint8 (or float in [0, 1])")
    if isinstance(out_size, bool) or not isinstance(out_size, int) or out_size < 2:
        raise ValueError(f"out_size = {out_size!r}: must be an int >= 2")


def _per_sample(recipe: ViewRecipe, batch: int) -> Knobs:
    return jax.tree.map(lambda a: jnp.broadcast_to(a, (batch, *a.shape)), recipe_knobs(recipe))


def augment_view(key: jax.Array, images_uint8: jax.Array, recipe: ViewRecipe, out_size: int
                 ) -> jax.Array:
    r"""One random view of each image of a batch, by `recipe` (BYOL's order, see `ViewRecipe`).

    Sample b uses the key `jax.random.split(key, B)[b]` (`sample_view_params`), so the samples
    get independent parameters. Runs one jit-compiled, vmapped function; the recipe's numbers are
    traced inside it, so all recipes of a given batch shape and `out_size` share one compilation.
    Callable inside `jax.jit` with `recipe` and `out_size` static (`ViewRecipe` is a static pytree).

    **Arguments:** `key`: a PRNG key; `images_uint8`: (B, H, W, C) uint8 with C in {1, 3} (values
    / 255; a float batch in [0, 1] is used as is); `recipe`: a `ViewRecipe`; `out_size`: the
    output side (static int >= 2).

    **Returns:** (B, out_size, out_size, C) float32 in [0, 1] (not normalised: see `normalize`).
    """
    _check(images_uint8, out_size)
    if not isinstance(recipe, ViewRecipe):
        raise TypeError(f"recipe must be a ViewRecipe, got {type(recipe).__name__}")
    batch = images_uint8.shape[0]
    return _augment(jax.random.split(key, batch), images_uint8, _per_sample(recipe, batch),
                    out_size=out_size)


def byol_views(key: jax.Array, images_uint8: jax.Array, out_size: int,
               recipes: Sequence[ViewRecipe] = (BYOL_VIEW_1, BYOL_VIEW_2)) -> tuple[jax.Array, ...]:
    r"""BYOL's two asymmetric views of a batch (one view per recipe), computed in one vmapped call
    over the V x B (view, image) pairs.

    View v equals `augment_view(jax.random.split(key, len(recipes))[v], images_uint8, recipes[v],
    out_size)`.

    **Arguments:** `key`; `images_uint8` (B, H, W, C) uint8; `out_size`: static output side;
    `recipes`: the views' recipes (default `BYOL_VIEW_1`, `BYOL_VIEW_2`).

    **Returns:** a tuple with one (B, out_size, out_size, C) float32 array in [0, 1] per recipe.
    """
    _check(images_uint8, out_size)
    recipes = tuple(recipes)
    if not recipes or not all(isinstance(r, ViewRecipe) for r in recipes):
        raise TypeError("recipes must be a non-empty sequence of ViewRecipe")
    batch, n_views = images_uint8.shape[0], len(recipes)
    keys = jnp.concatenate([jax.random.split(k, batch) for k in jax.random.split(key, n_views)])
    knobs = jax.tree.map(lambda *leaves: jnp.concatenate(leaves),
                         *(_per_sample(r, batch) for r in recipes))
    images = jnp.concatenate([images_uint8] * n_views) if n_views > 1 else images_uint8
    views = _augment(keys, images, knobs, out_size=out_size)
    return tuple(views[v * batch:(v + 1) * batch] for v in range(n_views))


def normalize(x: jax.Array, mean: Sequence[float] | jax.Array, std: Sequence[float] | jax.Array
              ) -> jax.Array:
    r"""Per-channel standardisation $(x - \mu_c) / \sigma_c$ over the last axis.

    **Arguments:** `x` (..., C) float; `mean`, `std`: C numbers each (the dataset's channel mean
    and standard deviation on the [0, 1] scale; std > 0).

    **Returns:** an array of x's shape and dtype.
    """
    mean = jnp.asarray(mean, x.dtype)
    std = jnp.asarray(std, x.dtype)
    channels = x.shape[-1]
    for name, value in (("mean", mean), ("std", std)):
        if value.ndim > 1 or (value.ndim == 1 and value.shape[0] not in (1, channels)):
            raise ValueError(f"{name} of shape {value.shape}: must have {channels} entries")
    return (x - mean) / std
