"""Figures from result Datasets (matplotlib, headless): pure functions returning `Figure`s."""

from ._compare import mode_values as mode_values
from ._compare import plot_mechanism_comparison as plot_mechanism_comparison
from ._compare import run_labels as run_labels
from ._levels import Level as Level
from ._levels import closed_form_levels as closed_form_levels
from ._levels import predicted_fixed_point as predicted_fixed_point
from ._phase import eta_threshold as eta_threshold
from ._phase import plot_final_map as plot_final_map
from ._phase import plot_outcome_map as plot_outcome_map
from ._portrait import collapse_basin as collapse_basin
from ._portrait import plane_fixed_points as plane_fixed_points
from ._portrait import plot_phase_portrait as plot_phase_portrait
from ._portrait import plot_phase_portrait_ema as plot_phase_portrait_ema
from ._save import save_figure as save_figure
from ._style import mode_colors as mode_colors
from ._style import subplots as subplots
from ._trajectories import plot_eigenvalue_trajectories as plot_eigenvalue_trajectories
