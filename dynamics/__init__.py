"""ssl-dynamics: learning dynamics of non-contrastive self-supervised learning (BYOL, SimSiam, ...).

The public API in one place: `simulate` (one run), `sweep` (a grid of runs), `Config`; subpackages
(`config`, `flows`, `integrate`, `stochastic`, `sweep`, `results`, `plots`, `symbolic`, `cli`) hold
the pieces. Equations are cited by their number in THEORY.md.
"""

from . import config as config
from . import flows as flows
from . import integrate as integrate
from . import results as results
from . import stochastic as stochastic
from . import symbolic as symbolic
from ._simulate import save_times as save_times
from ._simulate import simulate as simulate
from ._version import __version__ as __version__
from .config import Config as Config
from .config import ConfigError as ConfigError
from .config import discrete_to_flow as discrete_to_flow
from .integrate import Status as Status
from .sweep import sweep as sweep  # the function; `dynamics.sweep.*` names stay importable
