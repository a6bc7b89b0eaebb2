"""BYOL's asymmetric image augmentations in jax.numpy, batched on the device.

`byol_views(key, images_uint8, out_size)` turns a (B, H, W, C) uint8 batch into two float32 views
in [0, 1] by `BYOL_VIEW_1` / `BYOL_VIEW_2` (Grill et al. 2020, Table 6): random resized crop,
flip, colour jitter (torchvision's multiplicative conventions, random order), grayscale, Gaussian
blur, solarize; `normalize` standardises them. The single ops act on one image (H, W, C) with
explicit parameters and are vmappable.
"""

from ._blur import blur_kernel_size as blur_kernel_size
from ._blur import gaussian_blur as gaussian_blur
from ._blur import gaussian_kernel1d as gaussian_kernel1d
from ._color import adjust_brightness as adjust_brightness
from ._color import adjust_contrast as adjust_contrast
from ._color import adjust_hue as adjust_hue
from ._color import adjust_saturation as adjust_saturation
from ._color import hsv_to_rgb as hsv_to_rgb
from ._color import rgb_to_grayscale as rgb_to_grayscale
from ._color import rgb_to_hsv as rgb_to_hsv
from ._color import solarize as solarize
from ._crop import crop_box_from_draws as crop_box_from_draws
from ._crop import flip_left_right as flip_left_right
from ._crop import resized_crop as resized_crop
from ._crop import sample_crop_box as sample_crop_box
from ._pipeline import JITTER_OPS as JITTER_OPS
from ._pipeline import ViewParams as ViewParams
from ._pipeline import apply_view_params as apply_view_params
from ._pipeline import augment_view as augment_view
from ._pipeline import byol_views as byol_views
from ._pipeline import color_jitter as color_jitter
from ._pipeline import normalize as normalize
from ._pipeline import sample_view_params as sample_view_params
from ._recipe import BYOL_VIEW_1 as BYOL_VIEW_1
from ._recipe import BYOL_VIEW_2 as BYOL_VIEW_2
from ._recipe import ViewRecipe as ViewRecipe
