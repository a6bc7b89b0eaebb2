"""Solvers: diffrax (adaptive, jit/vmap) and a scipy `solve_ivp` reference; per-trajectory status."""

from ._diffrax import SOLVERS as SOLVERS
from ._trajectory import Trajectory as Trajectory
from ._diffrax import solve as solve
from ._diffrax import state_max_abs as state_max_abs
from ._batch import shard_batch as shard_batch
from ._batch import solve_batch as solve_batch
from ._lanes import LANE_METHODS as LANE_METHODS
from ._lanes import LaneSolution as LaneSolution
from ._lanes import solve_lanes as solve_lanes
from ._scipy import SCIPY_METHODS as SCIPY_METHODS
from ._scipy import solve_scipy as solve_scipy
from ._status import STATUS_MESSAGES as STATUS_MESSAGES
from ._status import Status as Status
from ._status import status_flag_attrs as status_flag_attrs
