"""Idealized representations on class-structured data, THEORY.md §10 [DHEL22]: the data model
(equivalence classes that augmentations move within), DISSL (T29) and CISSL on a linear encoder
with a linear student and an MLP teacher head, and the diagnostics of an ideal encoder."""

from ._data import ClassData as ClassData
from ._data import class_data as class_data
from ._data import class_data_from_gaussian as class_data_from_gaussian
from ._data import inputs_from_noise as inputs_from_noise
from ._data import sample_class_inputs as sample_class_inputs
from ._data import sample_class_views as sample_class_views
from ._diagnostics import class_codes as class_codes
from ._diagnostics import code_rank as code_rank
from ._diagnostics import etf_distance as etf_distance
from ._diagnostics import linear_probe_accuracy as linear_probe_accuracy
from ._diagnostics import linear_probe_fit as linear_probe_fit
from ._diagnostics import simplex_etf_gram as simplex_etf_gram
from ._diagnostics import within_class_var as within_class_var
from ._losses import cissl_loss as cissl_loss
from ._losses import dissl_loss as dissl_loss
from ._losses import issl_loss as issl_loss
from ._model import ISSLParams as ISSLParams
from ._model import encode as encode
from ._model import init_params as init_params
from ._model import n_random_weights as n_random_weights
from ._model import params_from_gaussian as params_from_gaussian
from ._model import student_logits as student_logits
from ._model import teacher_logits as teacher_logits
from ._risk import worst_case_risk as worst_case_risk
from ._settings import ISSL_CHOICES as ISSL_CHOICES
from ._settings import ISSLSettings as ISSLSettings
from ._settings import ISSLWeights as ISSLWeights
from ._simulate import probe_sample as probe_sample
from ._simulate import simulate_issl as simulate_issl
from ._train import issl_optimizer as issl_optimizer
from ._train import train_issl as train_issl
