r"""Gaussian blur of one image with a traced sigma and a static, odd kernel size (separable, reflect
padding), and the kernel-size rule of the recipe."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["gaussian_blur", "gaussian_kernel1d", "blur_kernel_size"]


def blur_kernel_size(side: int) -> int:
    r"""The static blur kernel size for images of `side` pixels: the smallest odd integer >= 10% of
    the side, and at least 3 (23 at 224 px as in BYOL, 11 at 96, 7 at 64, 5 at 32, 3 at 16).

    BYOL's code takes side // 10 made odd by 2 (side // 20) + 1, which is the same at 224 px
    (23) but 3 at 32 px: a 3-tap kernel truncates any $\sigma \gtrsim 1$ to a nearly flat box
    filter, so $\sigma \in [1, 2]$ would all blur alike. Rounding up keeps more of the Gaussian
    on small images (at 32 px, 5 taps cover $\pm 1\sigma$ at $\sigma = 2$).
    """
    if isinstance(side, bool) or not isinstance(side, int) or side < 1:
        raise ValueError(f"side = {side!r}: must be an int >= 1")
    size = -(-side // 10)          # ceil(side / 10)
    size += 1 - size % 2           # next odd
    return max(3, size)


def gaussian_kernel1d(sigma: jax.Array | float, kernel_size: int, dtype=jnp.float32) -> jax.Array:
    r"""Normalised taps $w_i \propto \exp(-x_i^2 / (2\sigma^2))$ at $x_i = i - (k-1)/2$,
    i = 0..k-1 (torchvision's `_get_gaussian_kernel1d`)."""
    x = jnp.arange(kernel_size, dtype=dtype) - (kernel_size - 1) / 2
    sigma = jnp.asarray(sigma, dtype)
    taps = jnp.exp(-0.5 * (x / sigma) ** 2)
    return taps / jnp.sum(taps)


def gaussian_blur(image: jax.Array, sigma: jax.Array | float, kernel_size: int) -> jax.Array:
    r"""Gaussian blur: $y = K * x$ with the 2-D kernel $K_{ij} = w_i w_j$ of `gaussian_kernel1d`,
    applied separably (rows, then columns), each channel alone, after reflect padding by
    k // 2 pixels (mirror without repeating the edge, `numpy.pad(mode="reflect")`, torchvision's
    `gaussian_blur`).

    **Arguments:** `image` (H, W, C) float; `sigma` > 0 (may be traced); `kernel_size`: a static
    odd int with kernel_size // 2 < min(H, W) (reflect padding needs it).

    **Returns:** an array of the image's shape and dtype.
    """
    return blur_axes(image, sigma, kernel_size, axes=(0, 1))


def blur_axes(image: jax.Array, sigma: jax.Array | float, kernel_size: int,
              axes: tuple[int, int]) -> jax.Array:
    """`gaussian_blur` over the two spatial `axes` (rows, columns) of any layout."""
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1 \
            or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size = {kernel_size!r}: must be an odd int >= 1")
    half = kernel_size // 2
    smallest = min(image.shape[a] for a in axes)
    if half >= smallest:
        raise ValueError(f"kernel_size = {kernel_size}: reflect padding needs kernel_size // 2 < "
                         f"min(H, W) = {smallest}")
    taps = gaussian_kernel1d(sigma, kernel_size, image.dtype)
    for axis in axes:
        size = image.shape[axis]
        widths = [(0, 0)] * image.ndim
        widths[axis] = (half, half)
        padded = jnp.pad(image, widths, mode="reflect")
        image = sum(taps[i] * lax.slice_in_dim(padded, i, i + size, axis=axis)
                    for i in range(kernel_size))
    return image
