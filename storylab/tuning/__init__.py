"""Tuning: sweeps over parameter grids on any executor, plan objectives, config profiles.

The tuners live in submodules (they need the storyteller and the archives):
:mod:`storylab.tuning.costs`, :mod:`storylab.tuning.position`,
:mod:`storylab.tuning.extraction`, and :mod:`storylab.tuning.compose` turns their profiles
into composer options. See ``docs/tuning.md``. Not imported by ``import storylab``.
"""

from storylab.tuning.cache import CacheError, SweepCache
from storylab.tuning.grid import child_seeds, expand_grid, plan_runs
from storylab.tuning.objectives import (
    PLAN_METRICS,
    QUALITY_METRICS,
    action_variety,
    plan_metrics,
    plan_quality,
    summarize,
    trajectory_fit,
    trajectory_on_grid,
    trajectory_table,
)
from storylab.tuning.profiles import (
    PROFILES,
    Profile,
    config_from_flat,
    flatten_config,
    load_profile,
    profile_name,
    read_profile,
    save_profile,
)
from storylab.tuning.progress import progress_bar, show_progress
from storylab.tuning.sweep import sweep

__all__ = [
    "PLAN_METRICS",
    "PROFILES",
    "QUALITY_METRICS",
    "CacheError",
    "Profile",
    "SweepCache",
    "action_variety",
    "child_seeds",
    "config_from_flat",
    "expand_grid",
    "flatten_config",
    "load_profile",
    "plan_metrics",
    "plan_quality",
    "plan_runs",
    "profile_name",
    "progress_bar",
    "read_profile",
    "save_profile",
    "show_progress",
    "summarize",
    "sweep",
    "trajectory_fit",
    "trajectory_on_grid",
    "trajectory_table",
]
