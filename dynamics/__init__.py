"""ssl-dynamics: learning dynamics of non-contrastive self-supervised learning (BYOL, SimSiam, ...).

The public API in one place: `simulate` (one run), `sweep` (a grid of runs), `Config`,
`open_run` / `open_sweep` (read a result file / a sweep store); subpackages (`config`, `flows`,
`integrate`, `stochastic`, `sweep`, `results`, `plots`, `symbolic`, `theory`, `cli`) hold the
pieces. Equations are cited by their number (T1-T29) in the project's theory document,
docs/theory.md; `dynamics.theory` ships them (`ssl-dynamics theory show T17`).
"""

from . import config as config
from . import flows as flows
from . import integrate as integrate
from . import results as results
from . import stochastic as stochastic
from . import symbolic as symbolic
from . import theory as theory
from ._simulate import simulate as simulate
from ._version import __version__ as __version__
from .config import Config as Config
from .config import ConfigError as ConfigError
from .config import discrete_to_flow as discrete_to_flow
from .config import save_times as save_times
from .integrate import Status as Status
from .results import open_run as open_run
from .sweep import open_sweep as open_sweep
from .sweep import sweep as sweep  # the function; `dynamics.sweep.*` names stay importable
