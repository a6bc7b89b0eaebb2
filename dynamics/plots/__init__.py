"""Figures from result Datasets (matplotlib, headless): pure functions returning `Figure`s.

Simulation results (`dynamics.simulate`) and training logs (`dynamics.bridge.train`) share the schema
(`time` = flow time, `mode`), so every run figure takes either; sweep stores give the phase diagrams."""

from ._compare import mode_values as mode_values
from ._compare import plot_mechanism_comparison as plot_mechanism_comparison
from ._compare import run_labels as run_labels
from ._levels import Level as Level
from ._levels import closed_form_levels as closed_form_levels
from ._levels import predicted_fixed_point as predicted_fixed_point
from ._phase import axis_edges as axis_edges
from ._phase import eta_threshold as eta_threshold
from ._phase import phase_axes as phase_axes
from ._phase import plot_final_map as plot_final_map
from ._phase import plot_outcome_map as plot_outcome_map
from ._phase import survival_edges as survival_edges
from ._portrait import RunPath as RunPath
from ._portrait import collapse_basin as collapse_basin
from ._portrait import plane_fixed_points as plane_fixed_points
from ._portrait import plot_phase_portrait as plot_phase_portrait
from ._portrait import plot_phase_portrait_ema as plot_phase_portrait_ema
from ._portrait import plot_run_portrait as plot_run_portrait
from ._portrait import portrait_support as portrait_support
from ._portrait import portrait_warnings as portrait_warnings
from ._portrait import run_paths as run_paths
from ._runinfo import is_training_log as is_training_log
from ._runinfo import run_header as run_header
from ._runinfo import run_settings as run_settings
from ._sampled_sweep import plot_sampled_sweep as plot_sampled_sweep
from ._save import save_figure as save_figure
from ._style import FONT as FONT
from ._style import finish_figure as finish_figure
from ._style import mode_colors as mode_colors
from ._style import smallest_font as smallest_font
from ._style import subplots as subplots
from ._style import texts_outside_canvas as texts_outside_canvas
from ._style import time_axis as time_axis
from ._style import wrap as wrap
from ._trajectories import plot_eigenvalue_trajectories as plot_eigenvalue_trajectories
