"""Figures from result Datasets (matplotlib, headless): pure functions returning `Figure`s."""

from ._phase import eta_threshold as eta_threshold
from ._phase import plot_final_map as plot_final_map
from ._phase import plot_outcome_map as plot_outcome_map
from ._portrait import collapse_basin as collapse_basin
from ._portrait import plane_fixed_points as plane_fixed_points
from ._portrait import plot_phase_portrait as plot_phase_portrait
from ._portrait import plot_phase_portrait_ema as plot_phase_portrait_ema
from ._save import save_figure as save_figure
from ._trajectories import plot_eigenvalue_trajectories as plot_eigenvalue_trajectories
from ._trajectories import predicted_fixed_point as predicted_fixed_point
