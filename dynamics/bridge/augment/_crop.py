r"""Geometry: the random-resized-crop box sampler (torchvision's rule), the bilinear resized crop of
a traced box, and the horizontal flip. One image (H, W, C) at a time; vmappable."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["sample_crop_box", "crop_box_from_draws", "crop_box_from_uniforms", "resized_crop",
           "resized_crop_planar", "resize_weights",
           "flip_left_right", "CROP_ATTEMPTS"]

CROP_ATTEMPTS = 10
"""Draws of (area, aspect) tried before the central-crop fallback (torchvision, BYOL)."""


def sample_crop_box(key: jax.Array, height: int, width: int,
                    scale: Sequence[float] | jax.Array = (0.08, 1.0),
                    ratio: Sequence[float] | jax.Array = (3 / 4, 4 / 3),
                    ) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    r"""A random crop box as torchvision's `RandomResizedCrop.get_params`, all tries at once.

    Each of the `CROP_ATTEMPTS` = 10 tries draws an area fraction $a \sim U$(`scale`) and a log
    aspect ratio $\ell \sim U(\log r_0, \log r_1)$, and sets $w = \mathrm{round}(\sqrt{a H W e^\ell})$,
    $h = \mathrm{round}(\sqrt{a H W e^{-\ell}})$ (round half to even, as Python's `round`). The
    first try with $0 < w \le W$ and $0 < h \le H$ is taken, with top $\sim U\{0..H-h\}$ and
    left $\sim U\{0..W-w\}$. If none fits: the central crop of the largest box whose aspect ratio
    is W/H clamped to [r_0, r_1] (`crop_box_from_draws`).

    **Arguments:** `key`; `height`, `width`: the image size (static ints); `scale`: area fraction
    range; `ratio`: aspect ratio (width/height) range (floats or traced arrays).

    **Returns:** int32 scalars (top, left, h, w) of a box inside the image.
    """
    u = jax.random.uniform(key, (2 * CROP_ATTEMPTS + 2,), jnp.float32)
    return crop_box_from_uniforms(height, width, u, scale, ratio)


def crop_box_from_uniforms(height: int, width: int, u: jax.Array,
                           scale: Sequence[float] | jax.Array, ratio: Sequence[float] | jax.Array
                           ) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """`sample_crop_box` from 2 `CROP_ATTEMPTS` + 2 uniforms in [0, 1): area fractions, log
    ratios, top and left draws (one random draw for all, which compiles faster than several)."""
    scale = jnp.asarray(scale, jnp.float32)
    log_ratio = jnp.log(jnp.asarray(ratio, jnp.float32))
    n = CROP_ATTEMPTS
    area_frac = scale[0] + (scale[1] - scale[0]) * u[:n]
    log_r = log_ratio[0] + (log_ratio[1] - log_ratio[0]) * u[n:2 * n]
    u_top, u_left = u[2 * n], u[2 * n + 1]
    return crop_box_from_draws(height, width, area_frac, log_r, u_top, u_left, ratio)


def crop_box_from_draws(height: int, width: int, area_frac: jax.Array, log_ratio: jax.Array,
                        u_top: jax.Array, u_left: jax.Array,
                        ratio: Sequence[float] | jax.Array) -> tuple[jax.Array, ...]:
    r"""The box of `sample_crop_box` given its uniform draws (deterministic).

    **Arguments:** `height`, `width` (static); `area_frac`, `log_ratio`: the tries' draws (n,);
    `u_top`, `u_left` in [0, 1): the position draws, top = floor(u_top (H - h + 1)) (clipped to
    H - h); `ratio`: (r_0, r_1) for the fallback.

    **Returns:** int32 scalars (top, left, h, w). Fallback (no try fits): if W/H < r_0,
    w = W, h = round(W / r_0); if W/H > r_1, h = H, w = round(H r_1); else the whole image; the
    box is centred, top = (H - h) // 2, left = (W - w) // 2.
    """
    area = float(height * width)
    target = area * jnp.asarray(area_frac, jnp.float32)
    aspect = jnp.exp(jnp.asarray(log_ratio, jnp.float32))
    w_try = jnp.round(jnp.sqrt(target * aspect)).astype(jnp.int32)
    h_try = jnp.round(jnp.sqrt(target / aspect)).astype(jnp.int32)
    fits = (w_try > 0) & (w_try <= width) & (h_try > 0) & (h_try <= height)
    first = jnp.argmax(fits)
    found = jnp.any(fits)

    ratio = jnp.asarray(ratio, jnp.float32)
    in_ratio = width / height
    narrow = in_ratio < ratio[0]   # too tall: full width
    wide = in_ratio > ratio[1]     # too wide: full height
    w_fb = jnp.where(narrow, width, jnp.where(wide, jnp.round(height * ratio[1]), width))
    h_fb = jnp.where(narrow, jnp.round(width / ratio[0]), height)
    w_fb = jnp.clip(w_fb.astype(jnp.int32), 1, width)
    h_fb = jnp.clip(h_fb.astype(jnp.int32), 1, height)

    h = jnp.where(found, h_try[first], h_fb)
    w = jnp.where(found, w_try[first], w_fb)

    def position(u: jax.Array, room: jax.Array) -> jax.Array:  # U{0..room}
        drawn = jnp.floor(jnp.asarray(u, jnp.float32) * (room + 1).astype(jnp.float32))
        return jnp.minimum(drawn.astype(jnp.int32), room)

    top = jnp.where(found, position(u_top, height - h), (height - h) // 2)
    left = jnp.where(found, position(u_left, width - w), (width - w) // 2)
    return top, left, h, w


def resize_weights(size: int, start: jax.Array, length: jax.Array, out_size: int) -> jax.Array:
    r"""The (out_size, size) matrix of an antialiased bilinear resize of the window
    [start, start + length) of an axis of `size` pixels to `out_size` pixels.

    With $s$ = length / out_size, output pixel o samples the crop at the half-pixel-centre
    coordinate $c_o$ = start + (o + 1/2) s - 1/2, and input pixel i inside the window gets weight
    $\max(0, 1 - |i - c_o| / \max(s, 1))$, normalised over the window (pixels outside get 0).
    This is PIL's bilinear filter (and torchvision's `antialias=True`) applied to the cropped
    image: upsampling is plain bilinear with edge clamping (torch `align_corners=False`), and
    downsampling widens the triangle to $s$ pixels. Unlike `jax.image.scale_and_translate` on the
    whole image, pixels outside the crop never contribute.
    """
    start = jnp.asarray(start, jnp.float32)
    length = jnp.asarray(length, jnp.float32)
    step = length / out_size
    centres = start + (jnp.arange(out_size, dtype=jnp.float32) + 0.5) * step - 0.5
    pixels = jnp.arange(size, dtype=jnp.float32)
    weights = jnp.maximum(0.0, 1.0 - jnp.abs(pixels[None, :] - centres[:, None]) / jnp.maximum(step, 1.0))
    inside = (pixels >= start) & (pixels < start + length)
    weights = jnp.where(inside[None, :], weights, 0.0)
    return weights / jnp.sum(weights, axis=1, keepdims=True)


def resized_crop(image: jax.Array, top: jax.Array, left: jax.Array, height: jax.Array,
                 width: jax.Array, out_size: int) -> jax.Array:
    r"""Crop rows [top, top + height) and columns [left, left + width) and resize the crop to
    (out_size, out_size) with antialiased bilinear interpolation (`resize_weights`, half-pixel
    centres: torchvision's `resized_crop` with PIL or `antialias=True`). The box may be traced.

    **Arguments:** `image` (H, W, C) float; `top`, `left`, `height`, `width`: the box (ints,
    inside the image, height and width >= 1); `out_size`: static output side.

    **Returns:** (out_size, out_size, C), the image's float dtype.
    """
    rows = resize_weights(image.shape[0], top, height, out_size).astype(image.dtype)
    cols = resize_weights(image.shape[1], left, width, out_size).astype(image.dtype)
    out = jnp.einsum("oh,hwc->owc", rows, image, precision=lax.Precision.HIGHEST)
    return jnp.einsum("pw,owc->opc", cols, out, precision=lax.Precision.HIGHEST)


def resized_crop_planar(image: jax.Array, top: jax.Array, left: jax.Array, height: jax.Array,
                        width: jax.Array, out_size: int) -> jax.Array:
    """`resized_crop` of an (H, W, C) image, returned channels-first: (C, out_size, out_size)."""
    rows = resize_weights(image.shape[0], top, height, out_size).astype(image.dtype)
    cols = resize_weights(image.shape[1], left, width, out_size).astype(image.dtype)
    out = jnp.einsum("oh,hwc->cow", rows, image, precision=lax.Precision.HIGHEST)
    return jnp.einsum("pw,cow->cop", cols, out, precision=lax.Precision.HIGHEST)


def flip_left_right(image: jax.Array) -> jax.Array:
    """Mirror the columns: out[i, j] = image[i, W - 1 - j].

    **Arguments:** `image` (H, W, C). **Returns:** an array of the same shape.
    """
    return image[:, ::-1, :]
