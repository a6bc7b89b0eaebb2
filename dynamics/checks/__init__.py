"""Theory claims as numerical experiments with verdicts (`ssl-dynamics check`).

Each claim is one function decorated with `claim(...)` that runs a small experiment and returns
`Evidence` (measured, predicted, tolerance, comparison); `run` executes claims and returns
`ClaimResult`s. Claims live in one module per paper: `_claims_tcg21` (THEORY.md §1-§5),
`_claims_hlz23` (§7), `_claims_rtt23` (§8), `_claims_rbr23` (§9), `_claims_dhel22` (§10).
"""

from ._registry import COMPARISONS as COMPARISONS
from ._registry import Claim as Claim
from ._registry import Context as Context
from ._registry import Evidence as Evidence
from ._registry import claim as claim
from ._registry import registry as registry
from ._registry import verdict as verdict
from ._figures import claim_figure as claim_figure
from ._figures import write_figures as write_figures
from ._report import format_table as format_table
from ._report import progress_line as progress_line
from ._report import report_header as report_header
from ._report import write_report as write_report
from ._run import ClaimResult as ClaimResult
from ._run import run as run
from ._run import select as select

from . import _claims_tcg21  # noqa: E402,F401  (registers the claims)
from . import _claims_hlz23  # noqa: E402,F401
from . import _claims_rtt23  # noqa: E402,F401
from . import _claims_rbr23  # noqa: E402,F401
from . import _claims_dhel22  # noqa: E402,F401
