"""Figures from result Datasets (matplotlib, headless): pure functions returning `Figure`s."""

from ._phase import eta_threshold as eta_threshold
from ._phase import plot_final_map as plot_final_map
from ._phase import plot_outcome_map as plot_outcome_map
from ._save import save_figure as save_figure
from ._trajectories import plot_eigenvalue_trajectories as plot_eigenvalue_trajectories
