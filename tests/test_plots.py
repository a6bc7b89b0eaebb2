"""Eigenvalue-trajectory figure: lines at the simulated values, failed runs flagged."""

import numpy as np

from dynamics import Config, simulate
from dynamics.plots import plot_eigenvalue_trajectories, save_figure


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
