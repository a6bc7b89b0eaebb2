"""Figures people would publish (issue 17): what can be checked of a picture on small data.

Phase diagrams (the analytic lines at their T17 values and where the data change, integer colour bars,
cells that never cross eta*, collapsed and never-converged cells drawn apart, seeds summarized),
trajectories (palette, one legend that covers nothing, collapse marks, tau limits, the start of a
linear grid on a log axis), portraits (fixed points, basin, projection, warnings, several eta), training
logs (plotted like a simulation, compared on flow time), the command's look options and the claim
figures of `check --figures`; every figure keeps its text on the canvas at 9 pt or more."""

import json

import matplotlib.colors as mcolors
import numpy as np
import pytest
import xarray as xr

from dynamics import Config, simulate, sweep
from dynamics.cli._main import main
from dynamics.plots import (
    axis_edges,
    collapse_basin,
    finish_figure,
    mode_colors,
    plot_eigenvalue_trajectories,
    plot_final_map,
    plot_mechanism_comparison,
    plot_outcome_map,
    plot_run_portrait,
    smallest_font,
    survival_edges,
    texts_outside_canvas,
)
from dynamics.results import write_netcdf

SIGMA2 = 0.5
ETA_STAR = 1.0 / (4.0 * (1.0 + SIGMA2))
#: scipy's DOP853: no compilation, each run well under a second here
FAST = dict(model="modes", sigma2=SIGMA2, solver="scipy-dop853")


def _clean(fig, min_font=9.0):
    """No text off the canvas, nothing below `min_font` points."""
    assert texts_outside_canvas(fig) == []  # draws the figure
    assert smallest_font(fig, draw=False) >= min_font


def _lines(ax, prefix):
    return [ln for ln in ax.lines if (ln.get_gid() or "").startswith(prefix)]


def _coordinate(line, which="y"):
    data = line.get_ydata() if which == "y" else line.get_xdata()
    return float(data[0])


# ------------------------------------------------------------------------------------ phase diagrams
P0 = (0.1, 0.6)  # mode 0 below 1/(2(1+sigma2)) = 1/3: edge eta = p0 (1 - 1.5 p0) = 0.085; mode 1: eta*


@pytest.fixture(scope="module")
def simsiam_sweep():
    """SimSiam (tau = 1 exactly), modes on the parabola: the T17 edges hold at every beta."""
    base = Config(model="modes", n1=2, n2=2, target="online", sigma2=SIGMA2, p0=P0, s0=tuple(p**2 for p in P0),
                  t_max=1500.0)
    return sweep(base, ["beta=list:0.1,1", "eta=lin:0:0.2:9"], progress=False)


def test_outcome_map_draws_T17_edges_where_the_data_change(simsiam_sweep):
    ds = simsiam_sweep
    edge0 = P0[0] * (1.0 - (1.0 + SIGMA2) * P0[0])
    assert survival_edges(ds) == pytest.approx([edge0, ETA_STAR], rel=1e-12)
    fig = plot_outcome_map(ds)
    ax0, ax1, ax_count = fig.axes[:3]
    for ax in (ax0, ax1, ax_count):
        (star,) = _lines(ax, "eta_star")
        assert _coordinate(star) == pytest.approx(ETA_STAR, rel=1e-12)
    (edge,) = _lines(ax0, "survival_edge:0")
    assert _coordinate(edge) == pytest.approx(edge0, rel=1e-12)
    assert not _lines(ax1, "survival_edge")  # p0 = 0.6 > 1/3: its edge is eta* itself
    # the data change where the lines are: mode 0 alive just below its edge, collapsed just above
    etas = ds.eta.values
    codes = np.asarray(ax0.collections[0].get_array()).reshape(len(etas), 2)
    below, above = etas[etas < edge0].max(), etas[etas > edge0].min()
    assert (codes[list(etas).index(below)] != 0).all() and (codes[list(etas).index(above)] == 0).all()
    # cell edges: eta* and the mode's edge are cell boundaries, so no cell crosses them
    y_edges = ax0.collections[0].get_coordinates()[:, 0, 1]
    assert np.any(np.isclose(y_edges, ETA_STAR, rtol=1e-12)) and np.any(np.isclose(y_edges, edge0, rtol=1e-12))
    for k, eta in enumerate(etas):  # the cell of a value below a line ends at or below it
        top = y_edges[k + 1]
        for line_value in (ETA_STAR, edge0):
            if eta < line_value:
                assert top <= line_value + 1e-15
    # the surviving-mode map has a discrete colour bar with integer ticks 0..2
    cbar = fig.axes[-1]
    ticks = cbar.get_yticks()
    assert list(ticks) == [0, 1, 2]
    assert [t.get_text() for t in cbar.get_yticklabels()] == ["0", "1", "2"]
    assert len(np.unique(ax_count.collections[0].get_array())) <= 3
    _clean(fig)


def test_axis_edges_are_geometric_on_a_log_axis_and_snap_to_a_boundary():
    ds = xr.Dataset(coords={"beta": np.geomspace(1e-3, 10, 5), "eta": np.linspace(0, 0.2, 5)})
    beta = axis_edges(ds, "beta")
    np.testing.assert_allclose(beta[1:-1], np.sqrt(ds.beta.values[1:] * ds.beta.values[:-1]))
    eta = axis_edges(ds, "eta", breaks=(ETA_STAR,))
    assert ETA_STAR in eta and np.all(np.diff(eta) > 0)


def test_final_map_scale_ignores_the_collapse_floor_and_marks_never_converged(simsiam_sweep):
    ds = simsiam_sweep.copy(deep=True)
    fig = plot_final_map(ds, "s_final")
    mesh = fig.axes[0].collections[0]
    alive = ds.s_final.values[ds.outcome.values != 0]
    assert mesh.norm.vmin == pytest.approx(alive.min()) and mesh.norm.vmax == pytest.approx(alive.max())
    cells = np.ma.asarray(mesh.get_array()).reshape(ds.sizes["eta"], ds.sizes["beta"])
    collapsed = ds.outcome.sel(mode=0).transpose("eta", "beta").values == 0
    assert collapsed.any() and np.all(cells[collapsed] < mesh.norm.vmin)  # below the scale: drawn apart
    assert mesh.cmap.get_under()[:3] == pytest.approx(mcolors.to_rgb("white"))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(label.startswith("collapsed") for label in labels)
    _clean(fig)
    # a mode still moving at t_max is hatched in the time-to-converge map, not coloured as slow
    ds["outcome"][{"beta": 0, "eta": 0, "mode": 1}] = 3
    fig = plot_final_map(ds, "time_to_converge")
    hatched = [c for c in fig.axes[1].collections if c.get_hatch() == "///"]
    assert len(hatched) == 1 and np.ma.count(hatched[0].get_array()) == 1
    assert any("never converged" in t.get_text() for t in fig.legends[0].get_texts())


def _with_seeds(ds: xr.Dataset, n: int = 3) -> xr.Dataset:
    """`ds` repeated over a `seed` axis, seed k's s_final scaled by (1 + k/10) and, in seed 2, one
    mode's outcome flipped (the seeds then disagree there)."""
    copies = []
    for k in range(n):
        c = ds.copy(deep=True)
        c["s_final"] = c["s_final"] * (1 + k / 10)
        if k == 2:
            c["outcome"][{"beta": 0, "eta": 1, "mode": 0}] = 0
        copies.append(c)
    out = xr.concat(copies, dim=xr.DataArray(np.arange(n), dims="seed", name="seed"))
    out.attrs = dict(ds.attrs, swept=ds.attrs["swept"] + " seed")
    return out


def test_seed_sweeps_are_summarized_not_drawn_as_an_axis(simsiam_sweep):
    seeded = _with_seeds(simsiam_sweep)
    fig = plot_outcome_map(seeded)
    assert fig.axes[0].get_xlabel().startswith("EMA rate") and "seed" not in fig.axes[0].get_ylabel()
    assert len(_lines(fig.axes[0], "seeds_disagree")) == 1  # the flipped cell, majority shown
    assert "over 3 seeds" in fig._suptitle.get_text()
    # one axis besides the seeds: lines with a band over the seeds
    one_axis = seeded.isel(beta=0)
    one_axis.attrs["swept"] = "eta seed"
    fig = plot_final_map(one_axis, "s_final")
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("weight decay") and len(ax.lines) >= 2
    assert [c.get_gid() for c in ax.collections if (c.get_gid() or "").startswith("band")] == ["band:0", "band:1"]
    (star,) = _lines(ax, "eta_star")
    assert _coordinate(star, "x") == pytest.approx(ETA_STAR)
    _clean(fig)
    _clean(plot_outcome_map(one_axis))


# -------------------------------------------------------------------------------------- trajectories
@pytest.fixture(scope="module")
def ten_modes():
    """Ten modes on the parabola, EMA target from tau0 = 0 (a slow EMA traps the small ones), saved on a
    linear grid from t = 0."""
    s0 = tuple(np.geomspace(1e-4, 1.0, 10))
    return simulate(Config(**FAST, n1=10, n2=10, p0=tuple(np.sqrt(s0)), s0=s0, tau0=0.0, beta=0.05, eta=0.02,
                           t_max=400.0, n_save=201))


def test_trajectories_palette_legend_collapse_marks_and_tau_limits(ten_modes):
    ds = ten_modes
    fig = plot_eigenvalue_trajectories(ds)
    ax_F, ax_Wp, ax_tau = fig.axes[:3]
    colors = [ln.get_color() for ln in ax_F.lines[:10]]
    assert len({mcolors.to_hex(c) for c in colors}) == 10 and colors == list(mode_colors(10))
    # one legend, outside every panel
    assert len(fig.legends) == 1 and not any(ax.get_legend() for ax in fig.axes)
    _clean(fig)
    renderer = fig.canvas.get_renderer()
    box = fig.legends[0].get_window_extent(renderer)
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent(renderer))
    # collapse marks: large, above the lines, not clipped at the frame
    marks = _lines(ax_F, "collapse:")
    collapsed = [m for m in range(10) if "collapsed" in ax_F.lines[m].get_label()]
    assert collapsed and len(marks) == len(collapsed)
    for mark in marks:
        assert mark.get_markersize() >= 9 and not mark.get_clip_on() and mark.get_zorder() > ax_F.lines[0].get_zorder()
    # tau: not drawn after a collapse, and its range set by the surviving modes
    for m in collapsed:
        y = ax_tau.lines[m].get_ydata()
        assert np.isnan(y[-1])
    alive_tau = ds.tau.values[:, [m for m in range(10) if m not in collapsed]]
    assert ax_tau.get_ylim()[1] <= max(1.2, np.nanmax(alive_tau)) * 1.1


def test_log_time_keeps_the_start_of_a_linear_grid(ten_modes):
    fig = plot_eigenvalue_trajectories(ten_modes, log_time=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "symlog" and ax.get_xlim()[0] <= 0.0  # t = 0 on the axis, not masked
    assert ax.lines[0].get_xdata()[0] == 0.0
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks[0] == 0.0 and all(t >= ten_modes.time.values[1] for t in ticks[1:])  # no tick on top of 0
    _clean(fig)


# ----------------------------------------------------------------------------------------- portraits
@pytest.fixture(scope="module")
def simsiam_run():
    p0 = (0.005, 0.05, 0.5)
    return simulate(Config(**FAST, n1=3, n2=3, target="online", eta=0.01, p0=p0, s0=tuple(p**2 for p in p0),
                           t_max=300.0, n_save=101, save_spacing="log"))


def test_portrait_markers_basin_inset_and_mode_colours(simsiam_run):
    fig = plot_run_portrait(simsiam_run, basin_resolution=30)
    ax = fig.axes[0]
    p_minus = (1 - np.sqrt(1 - 4 * 0.01 * 1.5)) / 3.0  # T17: 0.01015
    (saddle,) = _lines(ax, "fixed_point:saddle")
    assert _coordinate(saddle, "x") == pytest.approx(p_minus, rel=1e-9)
    for mark in _lines(ax, "fixed_point"):
        assert not mark.get_clip_on()  # the origin on the lower frame is drawn whole
    insets = [c for c in ax.child_axes if "collapse basin" in c.get_title()]
    assert len(insets) == 1 and insets[0].get_xlim()[1] < 0.1 * ax.get_xlim()[1]
    assert _lines(insets[0], "fixed_point:saddle")
    runs = [ln for ln in ax.lines if ln.get_label().startswith("mode ")]
    assert [ln.get_color() for ln in runs] == list(mode_colors(3))
    np.testing.assert_allclose(runs[1].get_xdata(), simsiam_run.p.values[:, 1])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(t.startswith("mode 2") for t in legend) and any(t.startswith("collapse basin") for t in legend)
    assert "warning" not in fig._suptitle.get_text()  # SimSiam: tau = 1 throughout
    _clean(fig)


def test_collapse_basin_on_the_parabola_is_p_below_p_minus():
    """On the parabola s = p^2 (alpha_p = 1) a mode collapses iff p(0) < p*_- (T17)."""
    p_minus = (1 - np.sqrt(1 - 4 * 0.05 * 1.5)) / 3.0
    p = np.array([0.8, 0.95, 1.05, 1.25]) * p_minus
    basin = np.diag(collapse_basin(p, p**2, SIGMA2, 0.05))
    assert basin.tolist() == [True, True, False, False]


def test_portrait_of_an_ema_run_warns_and_draws_several_eta(ten_modes):
    fig = plot_run_portrait(ten_modes.isel(mode=[3, 6, 9]), eta=[0.02, 0.1], basin_resolution=24)
    main_axes = [ax for ax in fig.axes if ax.get_xlabel()]
    assert [ax.get_title() for ax in main_axes] == [r"$\eta$=0.02", r"$\eta$=0.1"]
    assert "tau_j moved between 0 and" in fig._suptitle.get_text()
    drawn = [[ln for ln in ax.lines if ln.get_label().startswith("mode ")] for ax in main_axes]
    assert [len(d) for d in drawn] == [3, 0]  # the run on the panel of its own eta
    _clean(fig)


def test_portrait_projects_a_network_on_the_eigenbasis_of_F(training_run):
    """A linear network (the matrix flow, here trained by the bridge on isotropic synthetic data): its
    modes are (u_j^T Wp u_j, eig_F_j), said so on the figure, never silently left out."""
    _, log = training_run
    fig = plot_run_portrait(log, basin_resolution=20, inset=False)
    runs = [ln for ln in fig.axes[0].lines if ln.get_label().startswith("mode ")]
    assert len(runs) == log.sizes["mode"]
    np.testing.assert_allclose(runs[0].get_ydata(), log.eig_F.values[:, 0])
    np.testing.assert_allclose(runs[0].get_xdata(), log.p.values[:, 0])
    assert "projected on the eigenbasis of F" in fig._suptitle.get_text()


# ------------------------------------------------------------------------------------ training logs
@pytest.fixture(scope="module")
def training_run(tmp_path_factory):
    from dynamics.bridge import TrainConfig, train

    out = tmp_path_factory.mktemp("train") / "byol_linear"
    log = train(TrainConfig(dataset="synthetic", input_dim=8, model="linear", feature_dim=4, predictor="linear",
                            loss="euclidean", steps=60, log_every=10, batch_size=256, online_probe=False,
                            linear_probe=False, lr_schedule="constant", ema_schedule="constant"),
                out=out, progress=False)
    return out, log


def test_a_training_log_is_drawn_like_a_simulation(training_run):
    _, log = training_run
    fig = plot_eigenvalue_trajectories(log, log_time=True)
    ax_F, ax_Wp, ax_tau = fig.axes[:3]
    np.testing.assert_allclose(ax_F.lines[2].get_ydata(), log.eig_F.values[:, 2])
    assert "tau" in ax_tau.get_title()
    assert not [ln for ln in ax_F.lines + ax_Wp.lines if (ln.get_gid() or "").startswith("level:")]  # no theory
    header = fig._suptitle.get_text()
    assert "BYOL" in header and "linear encoder" in header and "synthetic" in header and "epochs" in header
    tops = [c for c in ax_F.child_axes if c.get_xlabel() == "epoch"]
    assert len(tops) == 1
    _clean(fig)


def test_a_training_log_and_a_simulation_overlay_on_flow_time(training_run, simsiam_run):
    _, log = training_run
    variables = ["eig_F", "eig_Wp", "effective_rank", "kernel_entropy"]
    fig = plot_mechanism_comparison([log, simsiam_run], variables)
    axes = fig.axes[:8]
    assert axes[0].get_title().startswith("training: byol") and axes[1].get_title().startswith("simulation")
    assert axes[0].get_xlim() == axes[1].get_xlim()  # one flow-time axis
    for row in range(4):
        for col, ds in enumerate((log, simsiam_run)):
            line = axes[2 * row + col].lines[0]
            np.testing.assert_allclose(line.get_xdata(), ds.time.values)
    np.testing.assert_allclose(axes[4].lines[0].get_ydata(), log.effective_rank.values)
    assert not [ln for ln in axes[0].lines if (ln.get_gid() or "").startswith("level:")]  # no theory for the log
    assert [ln for ln in axes[1].lines if (ln.get_gid() or "").startswith("level:")]
    _clean(fig)


def test_plot_command_reads_training_logs_and_refuses_foreign_files(training_run, simsiam_run, tmp_path, capsys):
    run_dir, log = training_run
    figs = tmp_path / "figs"
    assert main(["plot", str(run_dir / "log.nc"), "--kind", "trajectories", "--dpi", "60", "--out", str(figs)]) == 0
    assert (figs / "byol_linear_trajectories.png").stat().st_size > 5_000
    sim = write_netcdf(simsiam_run, tmp_path / "sim.nc")
    assert main(["plot", str(run_dir), str(sim), "--kind", "compare", "--label", "network", "--label", "theory",
                 "--variable", "eig_F", "--variable", "kernel_entropy", "--dpi", "60", "--out", str(figs)]) == 0
    assert (figs / "byol_linear_vs_sim_compare.png").exists()
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(foreign)
    capsys.readouterr()
    assert main(["plot", str(foreign), "--out", str(figs)]) == 2
    assert "not a result of ssl-dynamics simulate or train" in capsys.readouterr().err
    assert main(["plot", str(run_dir / "log.nc"), str(sim), "--kind", "compare", "--label", "one",
                 "--out", str(figs)]) == 2


# --------------------------------------------------------------------------- compare and look options
def test_compare_titles_skip_settings_that_do_not_apply_and_limits_ignore_a_diverged_run(simsiam_run, ten_modes):
    """SimSiam beside BYOL: no beta in the shared title nor in SimSiam's label; a run that diverges does
    not set the y range of its row; reference lines carry their labels."""
    diverged = simsiam_run.copy(deep=True)  # as `simulate` returns a run stopped by divergence at t ~ 1
    stop = int(np.searchsorted(diverged.time.values, 1.0))
    diverged["eig_F"][{"time": stop}] = 1e7
    diverged["eig_F"][{"time": slice(stop + 1, None)}] = np.nan
    diverged["reached"][{"time": slice(stop + 1, None)}] = False
    diverged["status"] = diverged["status"] * 0 + 2
    diverged.attrs["stop_gradient"] = "online"
    fig = plot_mechanism_comparison([simsiam_run, ten_modes, diverged])
    assert r"\beta" not in fig._suptitle.get_text()
    labels = [ax.get_title() for ax in fig.axes[:3]]
    assert r"\beta" not in labels[0] and r"$\beta$=0.05" in labels[1]
    top = fig.axes[0].get_ylim()[1]
    ok_max = max(np.nanmax(simsiam_run.eig_F.values), np.nanmax(ten_modes.eig_F.values))
    assert top <= 2.5 * ok_max < np.nanmax(diverged.eig_F.values)  # the diverged run does not set the range
    labelled = {t.get_text() for t in fig.axes[0].texts if t.get_gid() == "level_label"}
    assert any("T17" in t for t in labelled) and any("collapse threshold" in t for t in labelled)
    _clean(fig)


def test_look_options_size_dpi_and_font_scale(simsiam_run, tmp_path):
    fig = finish_figure(plot_eigenvalue_trajectories(simsiam_run), size=(9.0, 4.0), font_scale=1.5)
    assert tuple(fig.get_size_inches()) == (9.0, 4.0)
    assert smallest_font(fig) >= 13.5
    path = write_netcdf(simsiam_run, tmp_path / "run.nc")
    out = tmp_path / "figs"
    assert main(["plot", str(path), "--kind", "trajectories", "--size", "6x3", "--dpi", "50",
                 "--font-scale", "0.8", "--out", str(out)]) == 0
    from PIL import Image

    with Image.open(out / "run_trajectories.png") as image:
        assert image.size == (300, 150)
    assert main(["plot", str(path), "--size", "6", "--out", str(out)]) == 2


# ---------------------------------------------------------------------------------- check --figures
def _result(claim_id, **evidence):
    from dynamics.checks import Evidence, registry
    from dynamics.checks._run import ClaimResult

    ev = Evidence(**evidence)
    from dynamics.checks import verdict

    return ClaimResult(registry()[claim_id], ev, verdict(ev), 0.1)


def test_claim_figures_have_axis_labels_whole_captions_and_no_flat_axes():
    from dynamics.checks import registry
    from dynamics.checks._figures import CLAIM_AXES, claim_figure

    assert set(CLAIM_AXES) <= set(registry())  # no stale ids
    t = np.linspace(0, 40, 50)
    series = claim_figure(_result("tcg21.thm1.flow", measured=6e-13, predicted=0.0, tolerance=1e-7,
                                  detail="x " * 200, series={"residual": (t, 1e-13 * np.exp(-t / 20))}, log_y=True))
    ax = series.axes[0]
    assert ax.get_xlabel() == "flow time $t$" and "residual" in ax.get_ylabel()
    assert "x x x" in series._supxlabel.get_text() and series._supxlabel.get_text().count("x") >= 200  # not cut
    _clean(series)
    # measured exactly at a prediction with no tolerance: a number line with a readable range
    exact = claim_figure(_result("tcg21.t17.threshold", measured=1.0, predicted=1.0, tolerance=0.0))
    ax = exact.axes[0]
    lo, hi = ax.get_xlim()
    assert hi - lo >= 0.1 and ax.get_xlabel()
    assert len({t.get_text() for t in ax.get_xticklabels() if t.get_text()}) >= 3
    _clean(exact)
    # seeds as a mean with a band
    seeds = {f"seed {k}": (t, 0.5 + 0.01 * k + 0 * t) for k in range(4)}
    band = claim_figure(_result("rbr23.byol.entropy_band", measured=0.01, predicted=0.0, tolerance=0.0,
                                compare="ge", series=seeds))
    labels = [x.get_text() for x in band.axes[0].get_legend().get_texts()]
    assert "range over 4 seeds" in labels and band.axes[0].get_ylim()[1] > band.axes[0].get_ylim()[0]
    _clean(band)
