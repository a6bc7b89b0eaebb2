"""Frozen, validated settings: `Config`, the data statistics it defines, the discrete-training map."""

from ._config import CHOICES as CHOICES
from ._config import CLOSED_FORM_PREDICTORS as CLOSED_FORM_PREDICTORS
from ._config import DEFAULT_PREDICTOR_ALPHA as DEFAULT_PREDICTOR_ALPHA
from ._config import DEFAULT_PREDICTOR_EPS as DEFAULT_PREDICTOR_EPS
from ._config import FIXED_PREDICTOR_ALPHA as FIXED_PREDICTOR_ALPHA
from ._config import LOSSES as LOSSES
from ._config import POWER_PREDICTORS as POWER_PREDICTORS
from ._config import MATRIX_FIELDS as MATRIX_FIELDS
from ._config import VECTOR_FIELDS as VECTOR_FIELDS
from ._config import Config as Config
from ._data import DataStatistics as DataStatistics
from ._data import data_statistics as data_statistics
from ._data import random_orthogonal as random_orthogonal
from ._discrete import FlowRates as FlowRates
from ._discrete import discrete_to_flow as discrete_to_flow
from ._errors import ConfigError as ConfigError
from ._files import config_from_file as config_from_file
from ._files import load_matrix as load_matrix
from ._files import read_config_file as read_config_file
