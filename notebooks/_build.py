"""Write the notebooks of this folder from the cell sources below (committed without outputs).

Run `python notebooks/_build.py` after editing a cell. Every notebook reads the environment
variable DYNAMICS_NOTEBOOK_SMALL: when it is "1" (as in the test suite) it runs a small version
that finishes in under 20 s on 2 CPU cores.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent
SETUP = '''import os
import jax
jax.config.update("jax_enable_x64", True)  # float64: the tolerances below need it
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from IPython.display import display
import dynamics
from dynamics import Config
SMALL = os.environ.get("DYNAMICS_NOTEBOOK_SMALL") == "1"   # small mode: the test suite runs this'''

NOTEBOOKS = {
    "01_quickstart": [
        ("md", "# Quickstart: one run of two-layer linear BYOL\n\nWe integrate the gradient flow (T2)-(T4) of "
               "THEORY.md for online W, predictor Wp and EMA target Wa, look at the spectra, and check "
               "Theorem 1 (T6) on the way. Set `DYNAMICS_NOTEBOOK_SMALL=1` for a fast run."),
        ("code", SETUP),
        ("code", '''config = Config(n1=16 if not SMALL else 6, n2=8 if not SMALL else 4, sigma2=0.5, alpha_p=1.0,
                beta=0.5, eta=0.01, t_max=200.0 if not SMALL else 60.0, n_save=101)
ds = dynamics.simulate(config)
print(ds.attrs["status_name"], "after", ds.attrs["num_steps"], "steps")
ds'''),
        ("md", "The final predictor eigenvalues of the surviving modes sit at the fixed point "
               "p*₊ = [1 + √(1 − 4η(1+σ²))]/(2(1+σ²)) of (T17) (0.6565 here), the others collapse."),
        ("code", '''from dynamics.plots import plot_eigenvalue_trajectories
fig = plot_eigenvalue_trajectories(ds)
display(fig)
p_plus = (1 + np.sqrt(1 - 4 * config.eta * (1 + config.sigma2))) / (2 * (1 + config.sigma2))
print("p*+ (T17) =", round(p_plus, 4), "; final eig_Wp:", np.round(ds.eig_Wp.values[-1], 4))'''),
        ("md", "Theorem 1: with η_p = η the balance W Wᵀ − α_p⁻¹ Wpᵀ Wp decays as e^{−2ηt} (T6); the "
               "relative residual stays at integrator tolerance."),
        ("code", '''print("max balance residual (T6):", float(ds.balance_residual.max()))
assert float(ds.balance_residual.max()) < 1e-7'''),
        ("md", "The result rebuilds its own configuration, so a figure can always be traced to its run:"),
        ("code", '''assert Config.from_dataset(ds) == config'''),
    ],
    "02_eigenmodes_and_fixed_points": [
        ("md", "# Eigenmodes and their fixed points\n\nWhen Wp and F = W X Wᵀ share eigenvectors every mode "
               "evolves on its own (T11)-(T13). On the invariant parabola s = p²/α_p (T14) a mode recovers to "
               "p*₊ if it starts above p*₋ and collapses below it (T16-T17). In the (p, s) plane p*₋ is a "
               "saddle whose stable manifold bounds the collapse basin."),
        ("code", SETUP),
        ("code", '''from dynamics.plots import plane_fixed_points, plot_phase_portrait
sigma2, eta = 0.5, 0.1
for fp in plane_fixed_points(sigma2, eta):
    print(f"p = {fp.p:.5f}, s = {fp.s:.5f}: {fp.kind} (Jacobian eigenvalues {fp.eigenvalues})")'''),
        ("code", '''starts = [(0.05, 0.05**2), (0.2, 0.2**2), (0.3, 0.5), (0.6, 0.02)]
fig = plot_phase_portrait(sigma2, eta, p_range=(-0.05, 0.7), s_range=(0.0, 0.6), starts=starts,
                          basin_resolution=30 if SMALL else 80, t_max=500.0)
display(fig)'''),
        ("md", "The same modes in the simulator (SimSiam, τ ≡ 1): the one started below p*₋ on the parabola "
               "collapses, the others reach p*₊."),
        ("code", '''p0 = [0.05, 0.2, 0.3, 0.6]
s0 = [0.05**2, 0.2**2, 0.5, 0.02]
ds = dynamics.simulate(Config(model="modes", n1=4, n2=4, target="online", sigma2=sigma2, eta=eta,
                              p0=p0, s0=s0, t_max=500.0, save_spacing="log", n_save=100))
p_minus, p_plus = [fp.p for fp in plane_fixed_points(sigma2, eta)][2], [fp.p for fp in plane_fixed_points(sigma2, eta)][1]
print("p*- =", round(p_minus, 4), " p*+ =", round(p_plus, 4))
print("final p:", np.round(ds.p.values[-1], 4))
assert ds.s.values[-1, 0] < 1e-6 and abs(ds.p.values[-1, 1] - p_plus) < 1e-4'''),
    ],
    "03_ema_weight_decay_sweep": [
        ("md", "# The main job: EMA rate × weight decay\n\nA sweep over β and η of the eigenmode model with an "
               "EMA target started at τ0 = 0. Above η* = 1/(4(1+σ²)) (T17) every mode collapses; below it, a "
               "slow EMA keeps τ small, raising p*₋ and trapping the small modes (observation #10)."),
        ("code", SETUP),
        ("code", '''from dynamics.sweep._defaults import main_jobs
job = main_jobs()[0]
axes = job.axes if not SMALL else ["beta=geom:1e-3:10:12", "eta=lin:0:0.2:12"]
print(job.base.p0, job.base.s0, axes)
ds = dynamics.sweep(job.base, axes, progress=False)
ds'''),
        ("code", '''from dynamics.plots import plot_outcome_map, eta_threshold
display(plot_outcome_map(ds))
above = ds.eta.values > eta_threshold(0.5)
print("modes alive above eta*:", int(((ds.outcome.values[:, above] != 0)).sum()))
assert np.all(ds.outcome.values[:, above] == 0)'''),
        ("md", "A slower EMA needs more time: the time for the largest mode to settle grows as β shrinks "
               "(observation #9)."),
        ("code", '''t = ds.time_to_converge.sel(eta=0.0, mode=3)
print(np.round(t.values, 1))
assert t.values[0] > t.values[-1]'''),
    ],
}


def build() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=[new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, HERE / f"{name}.ipynb")


if __name__ == "__main__":
    build()
