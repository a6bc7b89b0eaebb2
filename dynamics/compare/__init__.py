"""Theory against reality: the linear theory's prediction of a training run, and the difference, in numbers."""

from ._compare import COMPARE_THRESHOLDS as COMPARE_THRESHOLDS
from ._compare import COMPARE_TOLERANCES as COMPARE_TOLERANCES
from ._compare import OUTCOMES as OUTCOMES
from ._compare import Comparison as Comparison
from ._compare import classify as classify
from ._compare import compare as compare
from ._predict import MAPPED_RATES as MAPPED_RATES
from ._predict import ModeInputs as ModeInputs
from ._predict import mode_inputs as mode_inputs
from ._predict import predict_modes as predict_modes
from ._figures import plot_comparison as plot_comparison
from ._figures import plot_error_against_setting as plot_error_against_setting
from ._preflight import preflight as preflight
from ._report import comparison_table as comparison_table
from ._report import differing_setting as differing_setting
from ._report import read_run as read_run
from ._report import write_summary as write_summary
