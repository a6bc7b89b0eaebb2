"""Eigenvalue-trajectory figure: lines at the simulated values, failed runs flagged."""

import numpy as np
import pytest

from dynamics import Config, simulate, sweep
from dynamics.plots import (
    plane_fixed_points,
    plot_eigenvalue_trajectories,
    plot_final_map,
    plot_outcome_map,
    plot_phase_portrait_ema,
    save_figure,
)
from dynamics.plots._portrait import classify


def test_trajectory_plot_draws_the_simulated_values(tmp_path):
    ds = simulate(Config(model="modes", n1=3, n2=3, p0=[0.1, 0.5, 1.0], s0=[0.01, 0.25, 1.0], t_max=30.0,
                         n_save=11))
    fig = plot_eigenvalue_trajectories(ds)
    ax_F, ax_Wp, ax_tau = fig.axes[:3]
    np.testing.assert_allclose(ax_F.lines[1].get_ydata(), ds.eig_F.values[:, 1])
    np.testing.assert_allclose(ax_Wp.lines[2].get_ydata(), ds.eig_Wp.values[:, 2])
    assert "tau" in ax_tau.get_title()
    assert "STATUS" not in fig._suptitle.get_text()
    path = save_figure(fig, tmp_path / "traj.png")
    assert path.stat().st_size > 10_000


def test_failed_run_is_flagged_and_not_drawn_past_the_stop():
    ds = simulate(Config(n1=3, n2=2, max_steps=5, t_max=100.0, n_save=11))
    fig = plot_eigenvalue_trajectories(ds)
    assert "MAX_STEPS" in fig._suptitle.get_text()
    n_reached = int(ds.reached.sum())
    assert len(fig.axes[0].lines[0].get_xdata()) == n_reached < ds.sizes["time"]


def test_fixed_point_lines_sit_at_T17():
    """sigma2 = 0.5, eta = 0.01: p*_+ = 0.6565 and s* = p*_+^2 / alpha_p on the parabola."""
    ds = simulate(Config(model="modes", n1=2, n2=2, p0=[0.5, 1.0], s0=[0.25, 1.0], t_max=10.0, n_save=5))
    fig = plot_eigenvalue_trajectories(ds)
    p_line = [ln for ln in fig.axes[1].lines if "p^*_+" in ln.get_label()][0]
    s_line = [ln for ln in fig.axes[0].lines if "s^*" in ln.get_label()][0]
    p_plus = (1 + np.sqrt(1 - 4 * 0.01 * 1.5)) / 3.0
    assert p_line.get_ydata()[0] == pytest.approx(p_plus, rel=1e-12)
    assert p_plus == pytest.approx(0.6565, abs=1e-4)
    assert s_line.get_ydata()[0] == pytest.approx(p_plus**2, rel=1e-12)


def test_plane_fixed_points_are_classified_as_THEORY_section_5():
    """(p*_-, s*) is a saddle with Jacobian eigenvalues -0.02 and +0.00985 at sigma2 = 0.5,
    eta = 0.01 (THEORY.md §5); p*_+ and the origin are stable; at eta = 0 the line is non-hyperbolic."""
    points = {round(fp.p, 5): fp for fp in plane_fixed_points(0.5, 0.01)}
    saddle = points[0.01015]
    assert saddle.kind == "saddle"
    np.testing.assert_allclose(saddle.eigenvalues, (-0.02, 0.00985), atol=5e-6)
    assert points[0.65651].kind == "stable" and points[0.0].kind == "stable"
    assert classify(np.array([0.0, -1.0])) == "non-hyperbolic"


def test_outcome_map_colours_known_cells(tmp_path):
    """SimSiam modes over eta: below eta* = 1/6 the cell is fixed_point (1), above collapsed (0)."""
    base = Config(model="modes", n1=2, n2=2, target="online", s0=[0.04, 1.0], p0=[0.2, 1.0], t_max=1500.0)
    ds = sweep(base, ["beta=list:0.1,1", "eta=list:0.02,0.1,0.2"], progress=False)
    fig = plot_outcome_map(ds)
    grid = np.asarray(fig.axes[1].collections[0].get_array()).reshape(3, 2)  # rows: eta, cols: beta
    np.testing.assert_array_equal(grid, [[1, 1], [1, 1], [0, 0]])
    save_figure(fig, tmp_path / "o.png")
    final = plot_final_map(ds, "s_final")
    assert final.axes[0].get_title().startswith("mode 0")
    # a collapsed mode's round-off eigenvalue (<= 0) with status ok is drawn at the floor, not grey;
    # a cell whose status is not ok is grey (masked)
    ds2 = ds.copy(deep=True)
    ds2["s_final"][{"beta": 0, "eta": 2}] = -1e-16
    ds2["mode_status"][{"beta": 1, "eta": 2}] = 2
    cells = np.ma.asarray(plot_final_map(ds2, "s_final").axes[0].collections[0].get_array()).reshape(3, 2)
    assert not cells.mask[2, 0] and cells[2, 0] == cells.min()
    assert cells.mask[2, 1] and not cells.mask[:2].any()
    save_figure(plot_phase_portrait_ema(0.5, 0.02, 0.05, starts=[(0.2, 0.0)]), tmp_path / "ema.png")
    assert (tmp_path / "ema.png").stat().st_size > 10_000


# ---------------------------------------------------------------- mechanism comparisons (figure 4)
import matplotlib.colors as mcolors  # noqa: E402
import xarray as xr  # noqa: E402

from dynamics.cli._main import main  # noqa: E402
from dynamics.plots import closed_form_levels, plot_mechanism_comparison  # noqa: E402
from dynamics.results import write_netcdf  # noqa: E402

LAMBDA0 = (0.02, 0.2, 1.0, 3.0)  # one mode on each side of lambda* = 0.444 and of 1 + sigma2 = 1.5
# the scipy reference integrator: no diffrax compilation, each run takes well under a second here
FAST = dict(model="modes", n1=4, n2=4, target="online", eta=0.0, sigma2=0.5, s0=LAMBDA0, predictor="power",
            t_max=300.0, n_save=61, save_spacing="log", solver="scipy-dop853")


@pytest.fixture(scope="module")
def mechanism_runs():
    settings = {"euclidean": {}, "isoloss": {"loss": "isoloss_euclidean"},
                "cosine": {"loss": "cosine", "expectation": "mean_field"}, "wrong_side": {"stop_gradient": "online"}}
    return {name: simulate(Config(**{**FAST, **kw})) for name, kw in settings.items()}


def _levels_on(ax, kind="stable"):
    return [ln for ln in ax.lines if (ln.get_gid() or "").endswith(kind) and ln.get_gid().startswith("level:")]


def _is_red(color) -> bool:
    r, g, b, _ = mcolors.to_rgba(color)
    return r > 0.7 and g < 0.2 and b < 0.2


def test_comparison_lines_sit_at_lambda_star_T22_T23_and_trace_T24(mechanism_runs, tmp_path):
    """alpha = 1/2, sigma2 = 0.5: lambda* = 1.5^-2 = 0.4444 for Euclidean (T22) and IsoLoss (T23), the
    cosine mean field keeps tr F / M = mean(LAMBDA0) = 1.055 (T24); each run also ends on its line."""
    runs = {k: mechanism_runs[k] for k in ("euclidean", "isoloss", "cosine")}
    fig = plot_mechanism_comparison(runs, ["eig_F", "eig_Wp"])
    expected = {"euclidean": 1.5**-2, "isoloss": 1.5**-2, "cosine": np.mean(LAMBDA0)}
    for col, (name, ds) in enumerate(runs.items()):
        ax_F, ax_Wp = fig.axes[col], fig.axes[3 + col]
        (line,) = _levels_on(ax_F)
        assert line.get_ydata()[0] == pytest.approx(expected[name], rel=1e-12)
        # rtol 1e-8 integration to t = 300: every mode within 1e-3 of the level (the slowest settles by t ~ 100)
        np.testing.assert_allclose(ds.eig_F.values[-1], expected[name], rtol=1e-3)
        np.testing.assert_allclose(ax_F.lines[2].get_ydata(), ds.eig_F.values[:, 2])  # the data, not a copy
        if name != "cosine":  # the predictor's level p* = lambda*^alpha = 1/(1+sigma2)
            assert _levels_on(ax_Wp)[0].get_ydata()[0] == pytest.approx(1 / 1.5, rel=1e-12)
        else:
            assert not _levels_on(ax_Wp) and not _levels_on(ax_Wp, "unstable")
        assert not any(_is_red(sp.get_edgecolor()) for sp in ax_F.spines.values())
    assert fig.axes[0].get_ylim() == fig.axes[2].get_ylim()  # shared axes
    assert save_figure(fig, tmp_path / "cmp.pdf").stat().st_size > 5_000


def test_comparison_frames_a_failed_run_in_red_and_stops_at_its_last_time(mechanism_runs):
    """The wrong-side stop-gradient (§7) diverges: its panel is red, titled with the status and drawn only
    up to the stop; its unstable level (1+sigma2)^(1/alpha) = 2.25 is dotted. The ok run is not marked."""
    wrong, ok = mechanism_runs["wrong_side"], mechanism_runs["euclidean"]
    assert int(wrong.status) != 0
    fig = plot_mechanism_comparison([ok, wrong])
    ax_ok, ax_bad = fig.axes[:2]
    assert "DIVERGED" in ax_bad.get_title() and _is_red(ax_bad.title.get_color())
    assert all(_is_red(sp.get_edgecolor()) for sp in ax_bad.spines.values())
    assert [ln for ln in ax_bad.lines if ln.get_gid() == "status:stop"]
    assert len(ax_bad.lines[0].get_xdata()) == int(wrong.reached.sum()) < wrong.sizes["time"]
    (unstable,) = _levels_on(ax_bad, "unstable")
    assert unstable.get_ydata()[0] == pytest.approx(1.5**2, rel=1e-12) and unstable.get_linestyle() == ":"
    assert "DIVERGED" not in ax_ok.get_title() and not [ln for ln in ax_ok.lines if ln.get_gid() == "status:stop"]
    assert "sg=online" in ax_bad.get_title() and "sg=target" in ax_ok.get_title()  # labels from the attrs


def _fake(config: Config, eig_F0=(1.0, 2.0)) -> xr.Dataset:
    """Only what `closed_form_levels` reads: the config and eig_F at t = 0."""
    attrs = {**config.flat_attrs(), "config_json": config.to_json(), "eta_p_effective": config.eta_p_effective}
    return xr.Dataset({"eig_F": (("time", "mode"), np.array([eig_F0]))}, attrs=attrs)


def _level_values(ds, variable="eig_F"):
    return [(round(lv.value, 12), lv.stable) for lv in closed_form_levels(ds) if lv.variable == variable]


def test_closed_form_levels_follow_THEORY_section_7_and_8():
    """Against the formulas as printed in THEORY.md §7 (weight decay, IsoLoss, ablations) and the
    per-predictor fixed points of experiments/RESULTS.md (soft projector, C^-1/2); none where a run can
    only collapse or tau is not at rest."""
    common = dict(model="modes", n1=2, n2=2, target="online", sigma2=0.5)
    base = dict(common, predictor="power", predictor_alpha=0.5)
    r, lam = 0.05, 1.5
    a_plus, a_minus = [(1 + sgn * np.sqrt(1 - 4 * r * lam)) / (2 * lam) for sgn in (1, -1)]
    assert _level_values(_fake(Config(**base, eta=r))) == [(round(a_plus**2, 12), True), (round(a_minus**2, 12), False)]
    assert _level_values(_fake(Config(**base, eta=r)), "eig_Wp") == [(round(a_plus, 12), True), (round(a_minus, 12), False)]
    iso = _fake(Config(**base, eta=r, loss="isoloss_euclidean"))
    assert _level_values(iso) == [(round(((1 - r) / lam) ** 2, 12), True)]
    assert _level_values(_fake(Config(**common, predictor="soft_projector", eta=0.0))) == [
        (round(0.1 / (0.5 * 1.5), 12), True)]
    assert _level_values(_fake(Config(**common, predictor="inverse_sqrt", eta=0.0))) == [
        (round((1.5**2 - 0.1) / 1.5, 12), False)]
    assert _level_values(_fake(Config(**base, eta=0.0, stop_gradient="online"))) == [(2.25, False)]
    assert _level_values(_fake(Config(**base, eta=0.0, loss="cosine", expectation="mean_field"))) == [(1.5, True)]
    for none in (Config(**base, eta=0.01, loss="cosine", expectation="mean_field"),  # weight decay shrinks tr F
                 Config(**common, predictor="directpred", eta=0.0),  # scale-free: collapses (§7 note)
                 Config(**common, predictor="ridge_lstsq", eta=0.0),  # stalls (§8)
                 Config(**base, eta=0.0, stop_gradient="none"),  # collapses (§7 ablations)
                 Config(**base, eta=0.2),  # past eta* = 1/6: everything collapses
                 Config(**{**base, "target": "ema"}, beta=0.0, eta=0.0)):  # tau frozen at tau0
        assert closed_form_levels(_fake(none)) == [], none


def test_trajectory_figure_marks_collapsed_modes_and_draws_T22():
    """SimSiam, trained predictor, sigma2 = 0.5, eta = 0.1: a mode started on the parabola below
    p*_- = 0.1225 (T17) collapses and is marked, the mode above is not; the power predictor's run gets
    the lambda* line of T22 on the eig(F) panel."""
    ds = simulate(Config(**{**FAST, "predictor": "trained", "n1": 2, "n2": 2, "p0": (0.05, 0.6),
                            "s0": (0.05**2, 0.6**2), "eta": 0.1}))
    fig = plot_eigenvalue_trajectories(ds, log_time=True, log_y=True)
    ax_F = fig.axes[0]
    assert [ln.get_label() for ln in ax_F.lines[:2]] == ["mode 0 (collapsed)", "mode 1"]
    assert [ln.get_gid() for ln in ax_F.lines if (ln.get_gid() or "").startswith("collapse")] == ["collapse:0"]
    assert ax_F.get_yscale() == "log" and ax_F.get_xscale() == "log"
    power = simulate(Config(**FAST))
    (line,) = _levels_on(plot_eigenvalue_trajectories(power).axes[0])
    assert line.get_ydata()[0] == pytest.approx(1.5**-2, rel=1e-12)


def test_plot_command_compares_result_files(mechanism_runs, tmp_path):
    paths = []
    for name in ("euclidean", "wrong_side"):
        paths.append(str(write_netcdf(mechanism_runs[name], tmp_path / f"{name}.nc")))
    out = tmp_path / "figs"
    assert main(["plot", *paths, "--kind", "compare", "--variable", "relative_rate", "--format", "png",
                 "--format", "svg", "--out", str(out)]) == 0
    for suffix in ("png", "svg"):
        assert (out / f"euclidean_vs_wrong_side_compare.{suffix}").stat().st_size > 5_000
    assert main(["plot", paths[0], str(tmp_path / "missing.nc"), "--kind", "compare", "--out", str(out)]) == 2
