"""Entropy + reconstruction (ER) objectives, THEORY.md §9 (T27)-(T28) [RBR23]: the vMF normalizer,
kernel and discrete entropy estimators, reconstruction terms, the ER minibatch loss of linear BYOL
and the `kernel_entropy` series of every result (its training, `simulate_er`, is in
`dynamics.stochastic`)."""

from ._bessel import log_bessel_iv as log_bessel_iv
from ._bessel import log_vmf_normalizer as log_vmf_normalizer
from ._entropy import batch_mean_entropy as batch_mean_entropy
from ._entropy import kernel_entropy as kernel_entropy
from ._entropy import kernel_log_densities as kernel_log_densities
from ._entropy import normalize_rows as normalize_rows
from ._reconstruction import discrete_er_loss as discrete_er_loss
from ._reconstruction import discrete_reconstruction as discrete_reconstruction
from ._reconstruction import er_loss as er_loss
from ._reconstruction import vmf_reconstruction as vmf_reconstruction
from ._trajectory import KERNEL_ENTROPY_SETTINGS as KERNEL_ENTROPY_SETTINGS
from ._trajectory import embedding_entropy as embedding_entropy
from ._trajectory import entropy_inputs as entropy_inputs
from ._trajectory import kernel_entropy_series as kernel_entropy_series
from ._trajectory import mode_weight_matrix as mode_weight_matrix
from ._trajectory import trajectory_kernel_entropy as trajectory_kernel_entropy
from ._trajectory import with_kernel_entropy as with_kernel_entropy
from ._er_linear import er_minibatch_loss as er_minibatch_loss
from ._er_settings import ER_CHOICES as ER_CHOICES
from ._er_settings import ERSettings as ERSettings
