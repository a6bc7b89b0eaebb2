"""Discrete minibatch SGD on two-layer linear BYOL: the stochastic counterpart of the flow (T2)-(T5).

`simulate_sgd(config, SGDSettings(...), key=...)` samples views with the moments X, X' of THEORY.md
§1, takes `jax.grad` of the minibatch loss (T1) with the stop-gradient of the config's gradient
path, steps with optax SGD (momentum, coupled or decoupled weight decay, own predictor learning
rate) and an EMA target, and returns the result schema at flow times given by `discrete_to_flow`.
`simulate_er(config, settings, ERSettings(...), key=...)` trains the same network with the same
optimizer on the ER objective of `dynamics.objectives` (T27)-(T28).
"""

from ._gradient import Params as Params
from ._gradient import minibatch_gradients as minibatch_gradients
from ._gradient import minibatch_loss as minibatch_loss
from ._er import er_minibatch_gradients as er_minibatch_gradients
from ._er import simulate_er as simulate_er
from ._settings import SGDSettings as SGDSettings
from ._sgd import PredictorHyper as PredictorHyper
from ._sgd import SGDHyper as SGDHyper
from ._sgd import set_closed_form_predictor as set_closed_form_predictor
from ._sgd import sgd_optimizer as sgd_optimizer
from ._sgd import sgd_step as sgd_step
from ._sgd import simulate_sgd as simulate_sgd
from ..flows import ViewFactors as ViewFactors  # the views live beside the flows' view-pair sample
from ..flows import sample_views as sample_views
from ..flows import view_factors as view_factors
