r"""Colour ops on one image with values in [0, 1], deterministic given their parameters.

The public ops take (H, W, C) images (channels last, as flax); each is a thin wrapper around a
planar twin (`*_planar`, on (C, H, W)) that the batched pipeline calls directly, because XLA on
CPU runs these per-pixel channel mixes 2-3x faster on contiguous channel planes than on an
interleaved channel axis of size 3.

Conventions (torchvision's `ColorJitter` on float tensors, which the BYOL recipe follows in
solo-learn; BYOL's TensorFlow code differs where noted):

- every op ends with a clip to [0, 1];
- brightness is multiplicative, $x f$ (TensorFlow's `adjust_brightness` adds a delta instead);
- contrast blends with the scalar mean of the grayscale image (TensorFlow's `adjust_contrast`
  uses each channel's own mean);
- saturation blends with the grayscale image;
- hue shifts the HSV hue by `delta` turns (HSV round trip, as `colorsys`);
- grayscale uses the ITU-R 601-2 luma weights 0.299, 0.587, 0.114 (PIL's `convert("L")`;
  torchvision's tensor path uses 0.2989 for red).

On 1-channel images the saturation, hue and grayscale ops are the identity, and contrast blends
with the image's own mean.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

__all__ = ["adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
           "rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb", "solarize"]

LUMA_WEIGHTS = (0.299, 0.587, 0.114)
"""ITU-R 601-2 luma weights of R, G, B."""


def channels_first(image: jax.Array) -> jax.Array:
    """(..., H, W, C) -> (..., C, H, W)."""
    return jnp.moveaxis(image, -1, -3)


def channels_last(image: jax.Array) -> jax.Array:
    """(..., C, H, W) -> (..., H, W, C)."""
    return jnp.moveaxis(image, -3, -1)


def _on_planes(planar: Callable[..., jax.Array], image: jax.Array, *args) -> jax.Array:
    return channels_last(planar(channels_first(image), *args))


# ---------------------------------------------------------------------- planar (C, H, W) ops
def luma_planar(image: jax.Array) -> jax.Array:
    """The grayscale plane $0.299 R + 0.587 G + 0.114 B$, (1, H, W); 1 channel: as is."""
    if image.shape[0] == 1:
        return image
    return LUMA_WEIGHTS[0] * image[0:1] + LUMA_WEIGHTS[1] * image[1:2] + LUMA_WEIGHTS[2] * image[2:3]


def gray_mean_planar(image: jax.Array) -> jax.Array:
    r"""The mean over all pixels of the grayscale image, as $\sum_c w_c \bar x_c$ (the luma of the
    channel means: the same number up to rounding)."""
    means = jnp.mean(image, axis=(1, 2))
    if image.shape[0] == 1:
        return means[0]
    return LUMA_WEIGHTS[0] * means[0] + LUMA_WEIGHTS[1] * means[1] + LUMA_WEIGHTS[2] * means[2]


def blend(image: jax.Array, target: jax.Array, factor: jax.Array | float) -> jax.Array:
    r"""$\mathrm{clip}(f x + (1 - f) t, 0, 1)$: torchvision's `_blend` (f = 1 returns x exactly)."""
    factor = jnp.asarray(factor, image.dtype)
    return jnp.clip(factor * image + (1.0 - factor) * target, 0.0, 1.0)


def adjust_contrast_planar(image: jax.Array, factor: jax.Array | float) -> jax.Array:
    return blend(image, gray_mean_planar(image), factor)


def adjust_saturation_planar(image: jax.Array, factor: jax.Array | float) -> jax.Array:
    if image.shape[0] == 1:
        return image
    return blend(image, luma_planar(image), factor)


def rgb_to_hsv_planar(image: jax.Array) -> jax.Array:
    r, g, b = image[0], image[1], image[2]
    maxc = jnp.maximum(jnp.maximum(r, g), b)
    minc = jnp.minimum(jnp.minimum(r, g), b)
    chroma = maxc - minc
    gray = chroma == 0
    s = jnp.where(maxc > 0, chroma / jnp.where(maxc > 0, maxc, 1.0), 0.0)
    safe = jnp.where(gray, 1.0, chroma)
    rc, gc, bc = (maxc - r) / safe, (maxc - g) / safe, (maxc - b) / safe
    # The sector is chosen by comparing the channels with each other (r first, then g, as colorsys),
    # not by `maxc == r`: XLA may fuse and recompute r, g, b with different roundings, and an
    # equality test against a recomputed max can then fail for every channel. The sector formulas
    # agree at ties, so a near-tie decided either way costs only rounding.
    r_max = (r >= g) & (r >= b)
    g_max = ~r_max & (g >= b)
    h = jnp.where(r_max, bc - gc, jnp.where(g_max, 2.0 + rc - bc, 4.0 + gc - rc))
    h = h / 6.0  # in [-1/6, 5/6]: mod 1 by one shift
    h = jnp.where(gray, 0.0, jnp.where(h < 0.0, h + 1.0, h))
    return jnp.stack([h, s, maxc])


def hsv_to_rgb_planar(image: jax.Array) -> jax.Array:
    h, s, v = image[0:1], image[1:2], image[2:3]
    h = h - jnp.floor(h)  # mod 1, without jnp.mod (a slow scalar fmod on CPU)
    k = jnp.asarray([5.0, 3.0, 1.0], image.dtype).reshape(3, 1, 1) + 6.0 * h  # in [1, 13)
    k = jnp.where(k >= 6.0, k - 6.0, k)
    k = jnp.where(k >= 6.0, k - 6.0, k)  # h rounded up to 1.0
    return v - v * s * jnp.clip(jnp.minimum(k, 4.0 - k), 0.0, 1.0)


def adjust_hue_planar(image: jax.Array, delta: jax.Array | float) -> jax.Array:
    if image.shape[0] == 1:
        return image
    hsv = rgb_to_hsv_planar(image)
    hue = hsv[0:1] + delta
    hue = hue - jnp.floor(hue)  # mod 1 (jnp.mod is a slow scalar fmod on CPU)
    return jnp.clip(hsv_to_rgb_planar(jnp.concatenate([hue, hsv[1:]])), 0.0, 1.0)


def rgb_to_grayscale_planar(image: jax.Array) -> jax.Array:
    if image.shape[0] == 1:
        return image
    return jnp.broadcast_to(luma_planar(image), image.shape)


# ---------------------------------------------------------------------- public (H, W, C) ops
def adjust_brightness(image: jax.Array, factor: jax.Array | float) -> jax.Array:
    r"""Brightness: $\mathrm{clip}(x f, 0, 1)$ (multiplicative, torchvision's convention).

    **Arguments:** `image` (H, W, C) in [0, 1]; `factor` >= 0 (1: unchanged; the recipe draws it
    from $U(\max(0, 1-b), 1+b)$).

    **Returns:** an array of the image's shape and dtype.
    """
    return blend(image, jnp.zeros((), image.dtype), factor)


def adjust_contrast(image: jax.Array, factor: jax.Array | float) -> jax.Array:
    r"""Contrast: $\mathrm{clip}(f x + (1 - f) m, 0, 1)$ with m the mean over all pixels of the
    grayscale image (`rgb_to_grayscale`; for 1 channel, the image's mean) — torchvision's
    convention, one scalar m for all channels.

    **Arguments:** `image` (H, W, C) in [0, 1]; `factor` >= 0 (0: uniform gray m; 1: unchanged).

    **Returns:** an array of the image's shape and dtype.
    """
    return _on_planes(adjust_contrast_planar, image, factor)


def adjust_saturation(image: jax.Array, factor: jax.Array | float) -> jax.Array:
    r"""Saturation: $\mathrm{clip}(f x + (1 - f)\,\mathrm{gray}(x), 0, 1)$, gray the per-pixel luma
    (torchvision's convention). The identity on 1-channel images.

    **Arguments:** `image` (H, W, C) in [0, 1]; `factor` >= 0 (0: grayscale; 1: unchanged).

    **Returns:** an array of the image's shape and dtype.
    """
    return _on_planes(adjust_saturation_planar, image, factor)


def adjust_hue(image: jax.Array, delta: jax.Array | float) -> jax.Array:
    r"""Hue shift: to HSV, $h \leftarrow (h + \delta) \bmod 1$, back to RGB, clip to [0, 1].

    `delta` is in turns (torchvision's `hue_factor`; the recipe draws it from $U(-h, h)$, h <= 0.5).
    The identity on 1-channel images. Gray pixels (max = min) are unchanged.

    **Arguments:** `image` (H, W, C) in [0, 1]; `delta` in [-0.5, 0.5].

    **Returns:** an array of the image's shape and dtype.
    """
    return _on_planes(adjust_hue_planar, image, delta)


def rgb_to_grayscale(image: jax.Array) -> jax.Array:
    r"""Grayscale $0.299 R + 0.587 G + 0.114 B$ (ITU-R 601-2), replicated to 3 channels.

    **Arguments:** `image` (H, W, C), C = 3 (C = 1: returned unchanged).

    **Returns:** an array of the image's shape and dtype.
    """
    return _on_planes(rgb_to_grayscale_planar, image)


def rgb_to_hsv(image: jax.Array) -> jax.Array:
    r"""RGB to HSV as `colorsys.rgb_to_hsv`, per pixel: $v = \max$, $s = (\max - \min)/\max$ (0 when
    max = 0), hue in turns [0, 1) from the sector of the largest channel (0 for gray pixels).

    **Arguments:** `image` (H, W, 3) in [0, 1].

    **Returns:** (H, W, 3) with channels (h, s, v), each in [0, 1].
    """
    return _on_planes(rgb_to_hsv_planar, image)


def hsv_to_rgb(image: jax.Array) -> jax.Array:
    r"""HSV to RGB, the inverse of `rgb_to_hsv` (as `colorsys.hsv_to_rgb`), in the branch-free form
    channel$_n = v - v s \,\mathrm{clip}(\min(k, 4 - k), 0, 1)$, $k = (n + 6h) \bmod 6$, with
    n = 5, 3, 1 for R, G, B.

    **Arguments:** `image` (H, W, 3) with channels (h, s, v); h in turns (any real, taken mod 1).

    **Returns:** (H, W, 3) RGB.
    """
    return _on_planes(hsv_to_rgb_planar, image)


def solarize(image: jax.Array, threshold: jax.Array | float = 0.5) -> jax.Array:
    r"""Solarize: $x \mapsto x$ where $x <$ `threshold`, else $1 - x$ (torchvision, BYOL). Any
    layout.

    **Arguments:** `image` (H, W, C) in [0, 1]; `threshold` (default 0.5).

    **Returns:** an array of the image's shape and dtype.
    """
    return jnp.where(image < threshold, image, 1.0 - image)
