"""Tuning: sweeps over parameter grids on any executor, and config profiles in YAML.

See ``docs/tuning.md``. Not imported by ``import storylab`` (it needs pandas and tqdm).
"""

from storylab.tuning.cache import CacheError, SweepCache
from storylab.tuning.grid import child_seeds, expand_grid, plan_runs
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
from storylab.tuning.sweep import sweep

__all__ = [
    "PROFILES",
    "CacheError",
    "Profile",
    "SweepCache",
    "child_seeds",
    "config_from_flat",
    "expand_grid",
    "flatten_config",
    "load_profile",
    "plan_runs",
    "profile_name",
    "read_profile",
    "save_profile",
    "sweep",
]
