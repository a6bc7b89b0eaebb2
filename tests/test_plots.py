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
    save_figure(plot_phase_portrait_ema(0.5, 0.02, 0.05, starts=[(0.2, 0.0)]), tmp_path / "ema.png")
    assert (tmp_path / "ema.png").stat().st_size > 10_000
