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
SMALL = os.environ.get("DYNAMICS_NOTEBOOK_SMALL") == "1"   # small mode: the test suite runs this
if not SMALL:   # display(fig) shows a PNG (dynamics.plots draws with Agg); small mode builds figures, skips the PNGs
    from matplotlib_inline.backend_inline import set_matplotlib_formats
    set_matplotlib_formats("png")'''

NOTEBOOKS = {
    "01_quickstart": [
        ("md", "# Quickstart: one run of two-layer linear BYOL\n\nWe integrate the gradient flow (T2)-(T4) "
               "(the equations are numbered as in the project's docs/theory.md; `ssl-dynamics theory show T2` "
               "prints one) for online W, predictor Wp and EMA target Wa, look at the spectra, and check "
               "Theorem 1 (T6) on the way. Set `DYNAMICS_NOTEBOOK_SMALL=1` for a fast run."),
        ("code", SETUP),
        ("code", '''config = Config(n1=16 if not SMALL else 6, n2=8 if not SMALL else 4, sigma2=0.5, alpha_p=1.0,
                beta=0.5, eta=0.01, t_max=200.0 if not SMALL else 60.0, n_save=101)
ds = dynamics.simulate(config)
print(ds.status.flags.label, "after", ds.attrs["num_steps"], "steps")   # the status flag by name
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
               "EMA target started at τ0 = 0. Above η* = 1/(4(1+σ²)) (T17) every mode collapses. Below it, a "
               "slow EMA keeps τ small for longer, which raises p*₋ and traps more modes (observation #10): the "
               "collapsed region reaches lower η at small β. The target catches up on the time scale 1/β, so the "
               "main job runs to t_max = 3·10⁴ (β·t_max ≥ 30 at its smallest β) and every cell settles."),
        ("code", SETUP),
        ("code", '''from dynamics.sweep import main_jobs
job = main_jobs()[0]
axes = job.axes if not SMALL else ["beta=geom:1e-3:10:12", "eta=lin:0:0.2:12"]
print(job.base.p0, job.base.s0, job.base.t_max, axes)
ds = dynamics.sweep(job.base, axes, progress=False)
print(ds.outcome.flags.counts())          # outcome per (point, mode), by name
ds'''),
        ("code", '''from dynamics.plots import plot_outcome_map, eta_threshold
display(plot_outcome_map(ds))
above = ds.eta > eta_threshold(0.5)
collapsed = ds.outcome.flags.mask("collapsed")
print("modes alive above eta*:", int((~collapsed).where(above, False).sum()))
assert bool(collapsed.where(above, True).all())'''),
        ("md", "A slower EMA needs more time: the time for the largest mode to settle grows as β shrinks "
               "(observation #9)."),
        ("code", '''t = ds.time_to_converge.sel(eta=0.0, mode=3)
print(np.round(t.values, 1))
assert t.values[0] > t.values[-1]'''),
        ("md", "Run length is not trapping. The same grid stopped at t_max = 1000 leaves cells at small β still "
               "moving: their outcome is `not_converged`, which says the run was too short, not where the mode "
               "ends. `dynamics.sweep` warns about it (`NotConvergedWarning`; here the note is printed instead) "
               "and names the t_max that would do."),
        ("code", '''import warnings
from dynamics.sweep import NotConvergedWarning, convergence_note
with warnings.catch_warnings():
    warnings.simplefilter("ignore", NotConvergedWarning)   # printed below instead
    short = dynamics.sweep(job.base.replace(t_max=1000.0), axes, progress=False)
stuck = short.outcome.flags.mask("not_converged")
print("not converged at t_max = 1000:", int(stuck.sum()), "cells, at beta <=", float(short.beta.where(stuck.any(["eta", "mode"])).max()))
print(convergence_note(short))
assert int(stuck.sum()) > 0 and not bool(ds.outcome.flags.mask("not_converged").any())'''),
    ],
    "04_implicit_variance_regularization": [
        ("md", "# Implicit variance regularization and IsoLoss [HLZ23]\n\nWith a closed-form predictor "
               "Wp = (W Wᵀ)^α (T21), recomputed from the weights and not trained, SimSiam with the Euclidean "
               "loss sends every eigenvalue of F = W Wᵀ to the same level λ* = (1+σ²)^(−1/α) (T22), whatever "
               "the initialization: an isotropic representation, implicit variance regularization. IsoLoss "
               "(T23) has the same λ* but grows every small mode at the same relative rate; the cosine loss "
               "conserves tr(W Wᵀ) (T24) and ends isotropic at tr/M (T25); a predictor normalized by its top "
               "eigenvalue collapses (docs/theory.md §7). The eigenmode model with isotropic data (A2) "
               "integrates all of it exactly; the figures put the theory's levels on the trajectories."),
        ("code", SETUP),
        ("code", '''from dynamics.plots import plot_mechanism_comparison, mode_values
sigma2, alpha = 0.5, 0.5
lam0 = (0.02, 0.2, 1.0, 3.0) if SMALL else tuple(np.geomspace(0.01, 4.0, 8))   # initial eigenvalues of F
base = dict(model="modes", n1=len(lam0), n2=len(lam0), target="online", eta=0.0, sigma2=sigma2, s0=lam0,
            predictor="power", predictor_alpha=alpha, t_max=300.0, n_save=121, save_spacing="log",
            solver="scipy-dop853")   # the scipy reference integrator: no compilation, fast for a few runs
runs = {
    "Euclidean (T22)": dynamics.simulate(Config(**base)),
    "IsoLoss (T23)": dynamics.simulate(Config(**base, loss="isoloss_euclidean")),
    "cosine, mean field (T24-T25)": dynamics.simulate(Config(**base, loss="cosine", expectation="mean_field")),
    "normalized predictor (§7 note)": dynamics.simulate(Config(**{**base, "predictor": "power_normalized"})),
}
print({name: ds.attrs["status_name"] for name, ds in runs.items()})'''),
        ("md", "Every mode of the Euclidean run, below and above, ends at λ* = (1+σ²)^(−1/α) = 0.444, and the "
               "predictor's eigenvalues at λ*^α = 1/(1+σ²). IsoLoss ends at the same level. The dashed lines are "
               "the closed forms (`dynamics.plots.closed_form_levels`), not fits."),
        ("code", '''lam_star = (1 + sigma2) ** (-1 / alpha)
for name in ("Euclidean (T22)", "IsoLoss (T23)"):
    final = runs[name].eig_F.values[-1]
    print(f"{name}: final eig F {np.round(final, 5)}  (lambda* = {lam_star:.5f})")
    assert np.allclose(final, lam_star, rtol=1e-3)
display(plot_mechanism_comparison(runs, ["eig_F", "eig_Wp"]))'''),
        ("md", "Why IsoLoss recruits small modes faster: the relative rate λ̇/λ is 2λ^α[1 − (1+σ²)λ^α] for the "
               "Euclidean loss (T22), which vanishes as λ → 0 (the eigenvalues act as learning-rate "
               "multipliers), but 2[1 − (1+σ²)λ^α] for IsoLoss (T23), which tends to 2. The measured rates "
               "(finite differences of log λ along the run) follow the formulas."),
        ("code", '''rates = {"Euclidean (T22)": lambda lam: 2 * lam**alpha * (1 - (1 + sigma2) * lam**alpha),
         "IsoLoss (T23)": lambda lam: 2 * (1 - (1 + sigma2) * lam**alpha)}
for name, formula in rates.items():
    t, rate = mode_values(runs[name], "relative_rate")
    lam = runs[name].eig_F.values
    k = np.searchsorted(t, 0.3)                     # an early time, the smallest mode still near lam0[0]
    print(f"{name}: smallest mode at t = {t[k]:.2f}: measured {rate[k, 0]:.4f}, formula {formula(lam[k, 0]):.4f}")
    assert abs(rate[k, 0] - formula(lam[k, 0])) < 0.01 * abs(formula(lam[k, 0]))
display(plot_mechanism_comparison({name: runs[name] for name in rates}, "relative_rate"))'''),
        ("md", "The cosine loss is blind to the scale of W, so the flow keeps tr F = Σλ_m fixed (T24); with the "
               "power predictor the spectrum ends isotropic at tr F(0)/M (T25), a level set by the "
               "initialization and not by σ²: a second run at σ² = 0.2 ends at the same place."),
        ("code", '''cos = runs["cosine, mean field (T24-T25)"]
trace = cos.eig_F.values.sum(axis=1)
print("tr F: start", trace[0], " max relative change", np.max(np.abs(trace / trace[0] - 1)))
assert np.max(np.abs(trace / trace[0] - 1)) < 1e-6
other = dynamics.simulate(Config(**{**base, "sigma2": 0.2}, loss="cosine", expectation="mean_field"))
for ds in (cos, other):
    print(f"sigma2 = {ds.attrs['sigma2']}: final eig F {np.round(ds.eig_F.values[-1], 5)}, tr/M = {np.mean(lam0):.5f}")
    assert np.allclose(ds.eig_F.values[-1], np.mean(lam0), rtol=1e-3)'''),
        ("md", "Normalize the predictor by its top eigenvalue (the deep-network recipe) and the Euclidean toy "
               "model collapses: the top mode sees p = 1 > 1/(1+σ²) and decays at the rate 2σ², the others "
               "follow (docs/theory.md §7; with ε > 0 the rate is 2(1+ε)[(1+σ²)(1+ε) − 1], §11)."),
        ("code", '''t, rate = mode_values(runs["normalized predictor (§7 note)"], "relative_rate")
top = rate[:, -1][np.isfinite(rate[:, -1])]
print("late relative rate of the top mode:", round(top[-1], 4), " -2 sigma2 =", -2 * sigma2)
assert abs(top[-1] + 2 * sigma2) < 1e-3
print("final eig F:", runs["normalized predictor (§7 note)"].eig_F.values[-1])'''),
        ("md", "The ablations of §7 side by side: without stop-gradient and without a predictor (Wp = I) every "
               "mode collapses; stop-gradient on the wrong side sends the modes above (1+σ²)^(1/α) (dotted, "
               "unstable) to infinity, and the run stops as diverged, framed in red."),
        ("code", '''ablations = {
    "stop-gradient on the target": runs["Euclidean (T22)"],
    "no stop-gradient": dynamics.simulate(Config(**base, stop_gradient="none")),
    "wrong side": dynamics.simulate(Config(**base, stop_gradient="online")),
    "no predictor (Wp = I)": dynamics.simulate(Config(**{**base, "predictor": "identity", "predictor_alpha": None})),
}
print({name: ds.attrs["status_name"] for name, ds in ablations.items()})
assert ablations["wrong side"].attrs["status_name"] == "diverged"
display(plot_mechanism_comparison(ablations))'''),
    ],
    "05_theory_vs_reality": [
        ("md", "# Theory vs reality: predict a training run, then measure the difference\n\n"
               "`dynamics.bridge.train` trains a network with BYOL and logs the simulator's quantities (the "
               "spectrum of F̂ = E[f fᵀ] of the predictor input, the predictor's eigenvalues, τ_j, ...) on the "
               "simulator's time axis (flow time, THEORY.md §1). `dynamics.compare` integrates the eigenmode "
               "model (T11)-(T13b) from the run's measured initial spectra with its mapped rates (nothing "
               "fitted) and reports the error. First the theory's own network (a linear encoder on Gaussian "
               "data with the theory's X and X'), then a ReLU MLP on the same data."),
        ("code", SETUP + '''
from dynamics.bridge import TrainConfig, train
from dynamics.compare import compare, comparison_table, plot_comparison, preflight
steps = 150 if SMALL else 1500'''),
        ("md", "Before training, the pre-flight prediction from the initial network and the data alone: "
               "σ² is estimated from the probe set (eig_C / eig_F), η* = 1/(4(1+σ²)) from (T17)."),
        ("code", '''linear = TrainConfig(dataset="synthetic", input_dim=8, model="linear", feature_dim=4, predictor="linear",
                     predictor_init="identity", predictor_init_scale=0.2, loss="euclidean", momentum=0.0,
                     weight_decay=0.04, lr_schedule="constant", ema_schedule="constant", ema_momentum=0.999,
                     lr=0.01 if not SMALL else 0.04, batch_size=1024, steps=steps, log_every=max(1, steps // 20),
                     online_probe=False, linear_probe=False)
before = preflight(linear)
print({k: before[k] for k in ("sigma2_estimate", "eta", "eta_star", "predicted_outcomes", "collapses")})'''),
        ("code", '''log = train(linear, progress=False)
comparison = compare(log, name="linear encoder")
print({k: comparison.summary[k] for k in ("median_relative_error", "rank_correlation", "outcome_agreement",
                                          "predicted")})
assert comparison.summary["predicted"]
display(plot_comparison(comparison))'''),
        ("md", "A deliberately wrong mapping (the EMA rate off by 10×) must not be predicted:"),
        ("code", '''wrong = compare(log, scale={"beta": 10.0}).summary
print("beta x 10:", round(wrong["median_relative_error"], 4), "predicted:", wrong["predicted"])
assert not wrong["predicted"]'''),
        ("md", "The same method on a ReLU MLP with BatchNorm and a projector: the theory's assumptions no longer "
               "hold, and the error table says by how much."),
        ("code", '''mlp = linear.replace(model="mlp", input_dim=16, feature_dim=None, projector_dim=8, projector_hidden=64,
                     batch_size=256, lr=0.01)
mlp_comparison = compare(train(mlp, progress=False), name="ReLU MLP")
print(comparison_table([comparison.summary, mlp_comparison.summary]))
display(plot_comparison(mlp_comparison))'''),
    ],
}


def build() -> None:
    """Write each notebook whose cells changed (a notebook with the same cells is left as it is, so its
    cell ids do not churn)."""
    for name, cells in NOTEBOOKS.items():
        path = HERE / f"{name}.ipynb"
        wanted = [("markdown" if kind == "md" else "code", src) for kind, src in cells]
        if path.exists():
            old = nbformat.read(path, as_version=4)
            if [(c.cell_type, c.source) for c in old.cells] == wanted:
                continue
        nb = new_notebook(cells=[new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, path)


if __name__ == "__main__":
    build()
