"""BYOL augmentations (`dynamics.bridge.augment`) against direct NumPy computations.

Each single op is compared with an independent reference written here (explicit loops for the
bilinear resize with half-pixel centres, PIL's and jax.image's resize, `colorsys` per pixel for
HSV, an explicit 2-D convolution with reflect padding for the blur, torchvision's crop-box rule
transcribed as a loop) on tiny images, and whole views with a NumPy composition of those
references under the drawn parameters. Outputs are float32 and references float64: the tolerance
is 1e-5 unless stated (float32 epsilon is 1.2e-7; a view chains up to ~20 roundings, and clipping
and the solarize threshold are continuous, so rounding never gets amplified).

Compilation dominates the run time, so shapes are shared: the pipeline compiles once, for a flat
batch of 400 36x36 images to 8x8 views (the recipe's numbers are traced, so every recipe, and
`byol_views` on 200 images x 2 views, reuse that one compilation), and its sampler once.
"""

from __future__ import annotations

import colorsys
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

jax.config.update("jax_enable_x64", True)

from dynamics import ConfigError  # noqa: E402
from dynamics.bridge.augment import (  # noqa: E402
    BYOL_VIEW_1,
    BYOL_VIEW_2,
    ViewRecipe,
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    augment_view,
    blur_kernel_size,
    byol_views,
    color_jitter,
    crop_box_from_draws,
    flip_left_right,
    gaussian_blur,
    hsv_to_rgb,
    normalize,
    resized_crop,
    rgb_to_grayscale,
    rgb_to_hsv,
    sample_crop_box,
    sample_view_params,
    solarize,
)
from dynamics.bridge.augment._recipe import recipe_knobs  # noqa: E402

TOL = 1e-5
LUMA = np.array([0.299, 0.587, 0.114])


def _image(h: int = 6, w: int = 5, c: int = 3, seed: int = 0) -> np.ndarray:
    """A float64 image in [0, 1] with some exact 0, 1, gray and tied-channel pixels."""
    x = np.random.default_rng(seed).uniform(size=(h, w, c))
    if c == 3:
        x[0, 0] = [0.0, 0.0, 0.0]
        x[0, 1] = [1.0, 1.0, 1.0]
        x[1, 0] = [0.4, 0.4, 0.4]          # gray
        x[1, 1] = [0.9, 0.9, 0.2]          # r = g max
        x[2, 0] = [0.3, 0.8, 0.8]          # g = b max
        x[2, 1] = [1.0, 0.0, 0.0]          # pure red
    return x


def _f32(x: np.ndarray) -> jax.Array:
    return jnp.asarray(x, jnp.float32)


def _close(actual, expected, tol: float = TOL) -> None:
    actual = np.asarray(actual)
    assert actual.dtype == np.float32
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol)


# =============================================================================================
# references
def _ref_resize_antialiased(crop: np.ndarray, out: int) -> np.ndarray:
    """PIL's bilinear filter on the cropped image: output pixel o has centre (o + 1/2) s in input
    coordinates (s = n_in / out), input pixel i (centre i + 1/2) gets weight
    max(0, 1 - |i + 1/2 - centre| / max(s, 1)), normalised (weights by explicit loops)."""
    def weights(n_in: int) -> np.ndarray:
        s = n_in / out
        support = max(s, 1.0)
        w = np.zeros((out, n_in))
        for o in range(out):
            centre = (o + 0.5) * s
            for i in range(n_in):
                w[o, i] = max(0.0, 1.0 - abs(i + 0.5 - centre) / support)
            w[o] /= w[o].sum()
        return w
    return np.einsum("oi,pj,ijc->opc", weights(crop.shape[0]), weights(crop.shape[1]), crop)


def _ref_resize_bilinear(crop: np.ndarray, out: int) -> np.ndarray:
    """Plain bilinear upsampling with half-pixel centres and edge clamping (torch
    `interpolate(mode="bilinear", align_corners=False)`), by explicit loops."""
    def source(o: int, n_in: int) -> tuple[int, int, float]:
        x = max((o + 0.5) * n_in / out - 0.5, 0.0)
        i0 = min(int(math.floor(x)), n_in - 1)
        return i0, min(i0 + 1, n_in - 1), x - i0
    result = np.zeros((out, out, crop.shape[2]))
    for o in range(out):
        i0, i1, ly = source(o, crop.shape[0])
        for p in range(out):
            j0, j1, lx = source(p, crop.shape[1])
            result[o, p] = ((1 - ly) * ((1 - lx) * crop[i0, j0] + lx * crop[i0, j1])
                            + ly * ((1 - lx) * crop[i1, j0] + lx * crop[i1, j1]))
    return result


def _ref_blur(image: np.ndarray, sigma: float, k: int) -> np.ndarray:
    """Explicit 2-D convolution with the outer product of the normalised 1-D Gaussian taps,
    after numpy reflect padding."""
    x = np.arange(k) - (k - 1) / 2
    taps = np.exp(-x ** 2 / (2 * sigma ** 2))
    taps /= taps.sum()
    kernel = np.outer(taps, taps)
    r = k // 2
    padded = np.pad(image, ((r, r), (r, r), (0, 0)), mode="reflect")
    out = np.zeros_like(image)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            out[i, j] = np.einsum("ab,abc->c", kernel, padded[i:i + k, j:j + k])
    return out


def _ref_hue(image: np.ndarray, delta: float) -> np.ndarray:
    if image.shape[-1] == 1:
        return image
    out = np.empty_like(image)
    for idx in np.ndindex(image.shape[:2]):
        h, s, v = colorsys.rgb_to_hsv(*image[idx])
        out[idx] = colorsys.hsv_to_rgb((h + delta) % 1.0, s, v)
    return np.clip(out, 0, 1)


def _ref_gray(image: np.ndarray) -> np.ndarray:
    return image[..., 0] if image.shape[-1] == 1 else image @ LUMA


def _ref_jitter(image: np.ndarray, factors, hue: float, order) -> np.ndarray:
    """torchvision's ColorJitter ops in the given order (0 brightness, 1 contrast, 2 saturation,
    3 hue), each clipped; saturation and hue skipped on 1 channel."""
    x = image
    for op in np.asarray(order):
        if op == 0:
            x = np.clip(factors[0] * x, 0, 1)
        elif op == 1:
            x = np.clip(factors[1] * x + (1 - factors[1]) * _ref_gray(x).mean(), 0, 1)
        elif op == 2 and x.shape[-1] == 3:
            x = np.clip(factors[2] * x + (1 - factors[2]) * _ref_gray(x)[..., None], 0, 1)
        elif op == 3:
            x = _ref_hue(x, hue)
    return x


def _ref_view(image_u8: np.ndarray, params, out_size: int) -> np.ndarray:
    """One view by the NumPy references, with Python control flow on the drawn parameters."""
    p = jax.tree.map(np.asarray, params)
    x = np.asarray(image_u8, np.float64) / 255.0
    t, l, h, w = int(p.top), int(p.left), int(p.height), int(p.width)
    x = _ref_resize_antialiased(x[t:t + h, l:l + w], out_size)
    if p.flip:
        x = x[:, ::-1]
    if p.jitter:
        x = _ref_jitter(x, p.factors.astype(np.float64), float(p.hue), p.order)
    if p.grayscale and x.shape[-1] == 3:
        x = np.repeat(_ref_gray(x)[..., None], 3, axis=-1)
    if p.blur:
        x = _ref_blur(x, float(p.sigma), blur_kernel_size(out_size))
    if p.solarize:
        x = np.where(x < 0.5, x, 1 - x)
    return np.clip(x, 0, 1)


def _ref_crop_box(height: int, width: int, area_frac, log_ratio, u_top: float, u_left: float,
                  ratio) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop.get_params, with its random draws given."""
    area = height * width
    for a, lr in zip(area_frac, log_ratio):
        target = area * a
        aspect = math.exp(lr)
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return int(u_top * (height - h + 1)), int(u_left * (width - w + 1)), h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w = width
        h = int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        h = height
        w = int(round(h * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


# =============================================================================================
# compiled once per module (shapes are shared across tests to keep the compilations few)
_CROP = jax.jit(resized_crop, static_argnums=5)
_BLUR = jax.jit(jax.vmap(gaussian_blur, in_axes=(None, 0, None)), static_argnums=2)
_SAMPLE = jax.jit(jax.vmap(sample_view_params, in_axes=(0, None, None, None)), static_argnums=(2, 3))


def _sample(keys: jax.Array, recipe: ViewRecipe, side: int):
    """Per-sample parameters of a recipe; the recipe's numbers are traced (one compilation)."""
    return _SAMPLE(keys, recipe_knobs(recipe), side, side)


# =============================================================================================
# geometry
_CROP_3 = jax.jit(jax.vmap(lambda image, b: resized_crop(image, b[0], b[1], b[2], b[3], 3),
                           in_axes=(None, 0)))


def test_resized_crop_matches_loops_up_and_down():
    image = _image(6, 5)
    # upsampling a 3x4 crop to 7: plain bilinear == the antialiased filter
    up = _CROP(_f32(image), 2, 1, 3, 4, 7)
    crop = image[2:5, 1:5]
    _close(up, _ref_resize_bilinear(crop, 7))
    _close(up, _ref_resize_antialiased(crop, 7))
    # to 3 (mostly downsampling: the triangle widened to s pixels), boxes traced under vmap
    boxes = np.array([[0, 0, 6, 5], [1, 0, 5, 4], [2, 1, 3, 4], [1, 2, 2, 2], [5, 4, 1, 1]])
    out = _CROP_3(_f32(image), jnp.asarray(boxes))
    for b, (t, l, h, w) in enumerate(boxes):
        _close(out[b], _ref_resize_antialiased(image[t:t + h, l:l + w], 3))


def test_resized_crop_matches_pil_and_jax_image():
    image = _image(6, 5, seed=3)
    crop = image[1:5, 1:4]                      # 4x3, to 7 (up) and 3 (down)
    ours = {7: np.asarray(_CROP(_f32(image), 1, 1, 4, 3, 7)),
            3: np.asarray(_CROP_3(_f32(image), jnp.asarray([[1, 1, 4, 3]]))[0])}
    for out in (7, 3):
        ref = jax.image.resize(_f32(crop), (out, out, 3), "linear", antialias=True)
        _close(ours[out], np.asarray(ref))
    PIL = pytest.importorskip("PIL.Image")
    for out in (7, 3):
        for c in range(3):
            pil = PIL.fromarray(crop[..., c].astype(np.float32), mode="F")
            ref = np.asarray(pil.resize((out, out), PIL.BILINEAR), dtype=np.float64)
            np.testing.assert_allclose(ours[out][..., c], ref, atol=TOL)


def test_flip_left_right():
    image = _image(6, 5)
    np.testing.assert_array_equal(np.asarray(flip_left_right(_f32(image))),
                                  image[:, ::-1].astype(np.float32))


def test_crop_box_from_draws_is_torchvision_rule():
    height, width, n = 6, 5, 400
    boxes_of = jax.jit(jax.vmap(
        lambda a, lr, p, ratio: crop_box_from_draws(height, width, a, lr, p[0], p[1], ratio),
        in_axes=(0, 0, 0, None)))
    rng = np.random.default_rng(1)
    checked = fallbacks = 0
    for scale, ratio in (((0.08, 1.0), (3 / 4, 4 / 3)), ((0.3, 1.0), (1 / 5, 5.0))):
        area = rng.uniform(*scale, size=(n, 10)).astype(np.float32)
        log_r = rng.uniform(np.log(ratio[0]), np.log(ratio[1]), size=(n, 10)).astype(np.float32)
        pos = rng.uniform(size=(n, 2)).astype(np.float32)
        boxes = np.stack([np.asarray(b) for b in boxes_of(area, log_r, pos, jnp.asarray(ratio))], axis=1)
        for s in range(n):
            a, lr, p = area[s].astype(np.float64), log_r[s].astype(np.float64), pos[s].astype(np.float64)
            sides = np.sqrt(height * width * a * np.exp(np.stack([lr, -lr])))
            if np.any(np.abs(sides % 1 - 0.5) < 1e-4):
                continue  # float32 vs float64 rounding could differ at a .5 tie
            expected = _ref_crop_box(height, width, a, lr, p[0], p[1], ratio)
            assert tuple(boxes[s]) == expected, (scale, ratio, s)
            checked += 1
            fallbacks += expected == _ref_crop_box(height, width, [], [], 0, 0, ratio)
    assert checked > 0.95 * 2 * n and fallbacks > 10
    # the three fallbacks in closed form (no try fits: full area, aspect 1.9 gives w = 8 > 5)
    no_fit = (jnp.ones((3, 10)), jnp.full((3, 10), np.log(1.9)), jnp.full((3, 2), 0.5))
    for ratio, box in (((2.0, 3.0), (2, 0, 2, 5)),    # W/H < 2: w = 5, h = round(5 / 2) = 2
                       ((0.2, 0.5), (0, 1, 6, 3)),    # W/H > 0.5: h = 6, w = round(6 * 0.5) = 3
                       ((0.5, 2.0), (0, 0, 6, 5))):   # W/H in range: the whole image
        got = boxes_of(*no_fit, jnp.asarray(ratio))
        assert tuple(int(v[0]) for v in got) == box == _ref_crop_box(height, width, [], [], 0, 0, ratio)


def test_sample_crop_box_statistics():
    # the boxes of 4000 views of 36x36 images (the pipeline's sampler: `sample_crop_box`'s rule)
    side = IN
    draws = [_sample(jax.random.split(jax.random.key(7 + i), BATCH), BYOL_VIEW_1, side) for i in range(10)]
    top, left, h, w = (np.concatenate([np.asarray(getattr(d, name)) for d in draws])
                       for name in ("top", "left", "height", "width"))
    assert np.all((h >= 1) & (w >= 1) & (top >= 0) & (left >= 0))
    assert np.all((top + h <= side) & (left + w <= side))
    frac = h * w / side ** 2
    aspect = np.log(w / h)
    # rounding w and h to integers moves the area by at most ~(h + w)/2 pixels and the log aspect by
    # about 1/(2 min(h, w)): allow that slack around (0.08, 1) and (log 3/4, log 4/3)
    slack_area = (h + w + 1) / 2 / side ** 2
    slack_ratio = 1.0 / np.minimum(h, w)
    assert np.all(frac >= 0.08 - slack_area) and np.all(frac <= 1.0)
    assert np.all(np.abs(aspect) <= np.log(4 / 3) + slack_ratio)
    # the draws fill the ranges: small and large crops, both aspect directions (a square image
    # truncates both alike), positions spread
    assert frac.min() < 0.1 and frac.max() > 0.9
    assert abs(aspect.mean()) < 0.02 and aspect.min() < -0.25 and aspect.max() > 0.25
    # area fraction ~ U(0.08, 1) truncated where the box does not fit: mean a bit below 0.54
    assert 0.40 < frac.mean() < 0.56
    room = side - h
    assert abs(np.mean(top[room > 0] / room[room > 0]) - 0.5) < 0.03
    # the public sampler: a box inside the image
    t, l, bh, bw = (int(v) for v in sample_crop_box(jax.random.key(1), 7, 5))
    assert 0 <= t and 0 <= l and 1 <= bh and 1 <= bw and t + bh <= 7 and l + bw <= 5


# =============================================================================================
# colour
def test_brightness_contrast_saturation_against_numpy():
    image = _image(6, 5)
    gray = image @ LUMA
    factors = jnp.asarray([0.0, 0.6, 1.0, 1.4], jnp.float32)
    ops = {op: jax.jit(jax.vmap(op, in_axes=(None, 0)))(_f32(image), factors)
           for op in (adjust_brightness, adjust_contrast, adjust_saturation)}
    for i, f in enumerate(np.asarray(factors, np.float64)):
        _close(ops[adjust_brightness][i], np.clip(image * f, 0, 1))
        _close(ops[adjust_contrast][i], np.clip(f * image + (1 - f) * gray.mean(), 0, 1))
        _close(ops[adjust_saturation][i], np.clip(f * image + (1 - f) * gray[..., None], 0, 1))
        if f == 1.0:   # factor 1 is the exact identity
            for out in ops.values():
                np.testing.assert_array_equal(np.asarray(out[i]), image.astype(np.float32))


def test_grayscale_and_solarize_against_numpy():
    image = _image(6, 5)
    gray = rgb_to_grayscale(_f32(image))
    assert gray.shape == image.shape
    _close(gray, np.repeat((image @ LUMA)[..., None], 3, axis=-1))
    _close(solarize(_f32(image)), np.where(image < 0.5, image, 1 - image))
    _close(solarize(_f32(image), 0.3), np.where(image < 0.3, image, 1 - image))


def test_hsv_round_trip_against_colorsys():
    image = _image(6, 5, seed=2)
    to_rgb = jax.jit(hsv_to_rgb)
    hsv = np.asarray(jax.jit(rgb_to_hsv)(_f32(image)))
    ref = np.array([colorsys.rgb_to_hsv(*p) for p in image.reshape(-1, 3)]).reshape(image.shape)
    _close(hsv, ref)
    back = np.array([colorsys.hsv_to_rgb(*p) for p in ref.reshape(-1, 3)]).reshape(image.shape)
    _close(to_rgb(_f32(ref)), back)
    _close(to_rgb(_f32(ref)), image)
    # hue is periodic: h and h + 1 give the same colour
    shifted = ref.copy()
    shifted[..., 0] += 1.0
    _close(to_rgb(_f32(shifted)), image)


def test_adjust_hue_against_colorsys():
    image = _image(6, 5, seed=4)
    # jitted and vmapped: the HSV sector choice must not depend on XLA's fusion
    deltas = np.array([-0.5, -0.1, -0.03, 0.0, 0.07, 0.1, 0.5])
    batched = jax.jit(jax.vmap(adjust_hue, in_axes=(None, 0)))(_f32(image), jnp.asarray(deltas, jnp.float32))
    for d, out in zip(deltas, batched):
        _close(out, _ref_hue(image, float(np.float32(d))))


def test_one_channel_colour_ops():
    image = _image(6, 5, c=1)
    x = _f32(image)
    for op, arg in ((adjust_saturation, 0.3), (adjust_hue, 0.2)):
        np.testing.assert_array_equal(np.asarray(op(x, arg)), np.asarray(x))
    np.testing.assert_array_equal(np.asarray(rgb_to_grayscale(x)), np.asarray(x))
    _close(adjust_contrast(x, 0.6), np.clip(0.6 * image + 0.4 * image.mean(), 0, 1))
    _close(adjust_brightness(x, 1.3), np.clip(1.3 * image, 0, 1))


def test_color_jitter_all_24_orders():
    image = _image(6, 5, seed=5)
    factors = np.array([1.35, 0.62, 1.18], np.float32)      # large enough to clip
    hue = np.float32(0.08)
    orders = np.array(list(itertools.permutations(range(4))), np.int32)
    fused = jax.jit(jax.vmap(color_jitter, in_axes=(None, None, None, 0)))(
        _f32(image), jnp.asarray(factors), hue, jnp.asarray(orders))
    for order, out in zip(orders, fused):
        _close(out, _ref_jitter(image, factors.astype(np.float64), float(hue), order))
    # the order matters (so the comparison is not vacuous)
    assert np.abs(np.asarray(fused[0]) - np.asarray(fused[-1])).max() > 0.01
    # 1 channel: brightness and contrast in their order; saturation and hue skipped
    gray = _image(6, 5, c=1, seed=5)
    fused = jax.jit(jax.vmap(color_jitter, in_axes=(None, None, None, 0)))(
        _f32(gray), jnp.asarray(factors), hue, jnp.asarray(orders[::5]))
    for order, out in zip(orders[::5], fused):
        _close(out, _ref_jitter(gray, factors.astype(np.float64), float(hue), order))


# =============================================================================================
# blur
def test_blur_kernel_size():
    assert [blur_kernel_size(s) for s in (8, 16, 32, 64, 96, 224)] == [3, 3, 5, 7, 11, 23]


def test_gaussian_blur_against_2d_convolution():
    image = _image(6, 5, seed=6)
    sigmas = np.array([0.1, 0.7, 2.0], np.float32)
    for k in (3, 5):
        out = _BLUR(_f32(image), jnp.asarray(sigmas), k)        # traced sigma under vmap
        for s, o in zip(sigmas, out):
            _close(o, _ref_blur(image, float(s), k))
    with pytest.raises(ValueError, match="odd"):
        gaussian_blur(_f32(image), 1.0, 4)
    with pytest.raises(ValueError, match="reflect"):
        gaussian_blur(_f32(image), 1.0, 11)


# =============================================================================================
# recipe
def test_view_recipe_defaults_and_validation():
    assert BYOL_VIEW_1 == ViewRecipe() and BYOL_VIEW_1.blur_p == 1.0 and BYOL_VIEW_1.solarize_p == 0.0
    assert (BYOL_VIEW_2.blur_p, BYOL_VIEW_2.solarize_p) == (0.1, 0.2)
    assert ViewRecipe(crop_scale=[0.2, 1]).crop_scale == (0.2, 1.0)   # stored as a float tuple
    hash(BYOL_VIEW_2)
    assert jax.tree.leaves(BYOL_VIEW_2) == []                          # a static pytree
    assert float(jax.jit(lambda r, x: x * r.solarize_p)(BYOL_VIEW_2, 2.0)) == pytest.approx(0.4)
    bad = {"crop_scale": (0.5, 0.2), "crop_ratio": (0.0, 1.0), "flip_p": 1.5, "jitter_p": -0.1,
           "brightness": -0.4, "hue": 0.7, "grayscale_p": "0.2", "blur_p": float("nan"),
           "blur_sigma": (0.1,), "solarize_p": True}
    for field, value in bad.items():
        with pytest.raises(ConfigError, match=field) as info:
            ViewRecipe(**{field: value})
        assert info.value.field == field


# =============================================================================================
# the batched pipeline: one compilation for augment_view (every recipe) and byol_views
IN, SIDE, BATCH = 36, 8, 400   # input side (crops are mostly downsampled), output side, batch


@pytest.fixture(scope="module")
def batch_u8() -> jax.Array:
    return jnp.asarray(np.random.default_rng(8).integers(0, 256, (BATCH, IN, IN, 3)), jnp.uint8)


def test_augment_view_shape_range_determinism(batch_u8):
    key = jax.random.key(0)
    out = augment_view(key, batch_u8, BYOL_VIEW_2, SIDE)
    assert out.shape == (BATCH, SIDE, SIDE, 3) and out.dtype == jnp.float32
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    np.testing.assert_array_equal(np.asarray(out), np.asarray(augment_view(key, batch_u8, BYOL_VIEW_2, SIDE)))
    other = augment_view(jax.random.key(1), batch_u8, BYOL_VIEW_2, SIDE)
    assert np.abs(np.asarray(out) - np.asarray(other)).max(axis=(1, 2, 3)).min() > 0
    # per-sample independence: one image repeated gets different views (a few coincide: the same
    # full-image crop without jitter, blur or solarize happens at 8x8) ...
    same = jnp.broadcast_to(batch_u8[:1], (BATCH, IN, IN, 3))
    views = np.asarray(augment_view(key, same, BYOL_VIEW_2, SIDE)).reshape(BATCH, -1)
    assert len(np.unique(views.round(5), axis=0)) > 0.97 * BATCH
    # ... because sample b draws its parameters from split(key, B)[b]
    params = _sample(jax.random.split(key, BATCH), BYOL_VIEW_2, IN)
    boxes = np.stack([np.asarray(v) for v in params[:4]], axis=1)
    assert len(np.unique(boxes, axis=0)) > BATCH // 4
    assert len(np.unique(np.asarray(params.sigma))) == BATCH


@pytest.mark.parametrize("recipe", [BYOL_VIEW_1, ViewRecipe(blur_p=0.0, solarize_p=0.5, grayscale_p=0.5)],
                         ids=["view1", "no-blur"])
def test_augment_view_is_the_numpy_composition(batch_u8, recipe):
    key = jax.random.key(3)
    out = np.asarray(augment_view(key, batch_u8, recipe, SIDE))
    params = _sample(jax.random.split(key, BATCH), recipe, IN)
    assert np.all(np.asarray(params.blur) == (recipe.blur_p == 1.0))   # p = 1: always, p = 0: never
    flags = set()
    for b in range(16):
        p = jax.tree.map(lambda a: a[b], params)
        _close(out[b], _ref_view(np.asarray(batch_u8[b]), p, SIDE))
        flags.add((bool(p.flip), bool(p.jitter), bool(p.grayscale), bool(p.solarize)))
    assert len(flags) > 3                                      # several branches exercised


def test_flip_p_one_always_flips(batch_u8):
    key = jax.random.key(4)
    never = augment_view(key, batch_u8, ViewRecipe(flip_p=0.0, solarize_p=0.2), SIDE)
    always = augment_view(key, batch_u8, ViewRecipe(flip_p=1.0, solarize_p=0.2), SIDE)
    # the other parameters are the same draws, and the later ops commute with the flip
    _close(always, np.asarray(never)[:, :, ::-1], tol=1e-5)
    assert np.abs(np.asarray(always) - np.asarray(never)).max() > 0.1


def test_solarize_frequency_of_view_2(batch_u8):
    # only solarize left random (p of BYOL_VIEW_2), full-image crop: each view is x or 1 - x
    recipe = ViewRecipe(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), flip_p=0.0, jitter_p=0.0,
                        grayscale_p=0.0, blur_p=0.0, solarize_p=BYOL_VIEW_2.solarize_p)
    flat = jnp.full_like(batch_u8, 204)                     # 0.8 everywhere: solarized to 0.2
    out = np.asarray(augment_view(jax.random.key(5), flat, recipe, SIDE))
    per_sample = out.reshape(BATCH, -1)
    assert np.all(np.isclose(per_sample, 0.2, atol=1e-6) | np.isclose(per_sample, 0.8, atol=1e-6))
    assert np.all(per_sample.max(axis=1) - per_sample.min(axis=1) < 1e-6)
    freq = np.mean(per_sample[:, 0] < 0.5)
    assert abs(freq - 0.2) < 4 * math.sqrt(0.2 * 0.8 / BATCH)
    # every event frequency of both BYOL views over 10 x 400 draws (4.5 binomial sd)
    for recipe in (BYOL_VIEW_1, BYOL_VIEW_2):
        draws = [_sample(jax.random.split(jax.random.key(100 + i), BATCH), recipe, IN) for i in range(10)]
        for name, p in (("flip", recipe.flip_p), ("jitter", recipe.jitter_p),
                        ("grayscale", recipe.grayscale_p), ("blur", recipe.blur_p),
                        ("solarize", recipe.solarize_p)):
            freq = float(np.mean([np.mean(np.asarray(getattr(d, name))) for d in draws]))
            assert abs(freq - p) <= 4.5 * math.sqrt(p * (1 - p) / (10 * BATCH)), name


def test_byol_views_against_numpy(batch_u8):
    # half the batch: V x B/2 = B (view, image) pairs, the compilation of augment_view above
    half = batch_u8[:BATCH // 2]
    key = jax.random.key(9)
    views = byol_views(key, half, SIDE)
    assert len(views) == 2 and all(v.shape == (BATCH // 2, SIDE, SIDE, 3) for v in views)
    # view v, sample b: the parameters of split(split(key, 2)[v], B/2)[b] under recipe v
    keys = jnp.concatenate([jax.random.split(k, BATCH // 2) for k in jax.random.split(key, 2)])
    for v, recipe in enumerate((BYOL_VIEW_1, BYOL_VIEW_2)):
        params = _sample(keys, recipe, IN)
        for b in range(6):
            p = jax.tree.map(lambda a: a[v * (BATCH // 2) + b], params)
            _close(views[v][b], _ref_view(np.asarray(half[b]), p, SIDE))


def test_normalize_and_input_checks(batch_u8):
    x = np.random.default_rng(12).uniform(size=(2, 4, 4, 3))
    mean, std = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)
    _close(normalize(_f32(x), mean, std), (x - np.array(mean)) / np.array(std))
    with pytest.raises(ValueError, match="mean"):
        normalize(_f32(x), (0.5, 0.5), std)
    with pytest.raises(ValueError, match="C = 1 or 3"):
        augment_view(jax.random.key(0), batch_u8[..., :2], BYOL_VIEW_1, SIDE)
    with pytest.raises(ValueError, match="out_size"):
        augment_view(jax.random.key(0), batch_u8, BYOL_VIEW_1, 1)
