"""Vector fields `f(t, y, args)`: the full-matrix flow (T2)-(T5) and the eigenmode flow (T11)-(T13b)."""

from ._build import flow_args as flow_args
from ._build import gradient_path as gradient_path
from ._build import initial_modes as initial_modes
from ._build import initial_state as initial_state
from ._build import mode_args as mode_args
from ._full import byol_flow as byol_flow
from ._full import expected_loss as expected_loss
from ._full import prediction_residual as prediction_residual
from ._modes import mode_flow as mode_flow
from ._modes import mode_loss as mode_loss
from ._modes import mode_weight_flow as mode_weight_flow
from ._modes import modes_to_weights as modes_to_weights
from ._modes import weights_to_modes as weights_to_modes
from ._state import BYOLState as BYOLState
from ._state import FlowArgs as FlowArgs
from ._state import GradientPath as GradientPath
from ._state import ModeArgs as ModeArgs
from ._state import ModeState as ModeState
from ._state import ModeWeights as ModeWeights
