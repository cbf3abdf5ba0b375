"""A/B variants of a world: paired Monte-Carlo playthroughs through the sweep executor, and
the difference of each outcome metric from the baseline with a bootstrap confidence
interval.

Lives in tuning (above the world layer) because it runs on :func:`~storylab.tuning.sweep`.
Run ``r`` of every variant gets the same seed, and a playthrough draws its random numbers
per step from that seed (:mod:`storylab.world.montecarlo`), so the two sides of a pair see
the same dice: the paired differences carry the variant's effect with little noise.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd

from storylab._data import DataError
from storylab.tuning.grid import child_seeds
from storylab.tuning.sweep import RESULT_COLUMNS, sweep
from storylab.world.check import vary_world
from storylab.world.manifest import World
from storylab.world.montecarlo import playthrough

__all__ = ["bootstrap_ci", "compare_variants"]

_COLUMNS = ["variant", "metric", "mean", "baseline_mean", "diff", "ci_low", "ci_high", "runs"]


def _play_variant(
    variant: str,
    replicate: int,
    world_seed: int,
    *,
    worlds: dict[str, World],
    hours: float,
    step_hours: float,
) -> dict[str, float]:
    """One playthrough of one variant (``replicate`` pairs it with the other variants')."""
    return playthrough(worlds[variant], world_seed, hours=hours, step_hours=step_hours)


def bootstrap_ci(
    diffs: np.ndarray, *, level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``diffs`` (paired differences).

    >>> bootstrap_ci(np.zeros(5))
    (0.0, 0.0)
    """
    diffs = np.asarray(diffs, dtype=float)
    if diffs.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, diffs.size, size=(resamples, diffs.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def compare_variants(
    world: World,
    variants: Mapping[str, Mapping[str, Any]],
    *,
    runs: int = 20,
    seed: int = 0,
    baseline: str | None = None,
    hours: float = 12.0,
    step_hours: float = 2.0,
    metrics: list[str] | None = None,
    level: float = 0.95,
    resamples: int = 2000,
    executor: Executor | None = None,
    workers: int = 2,
    progress: bool = True,
) -> pd.DataFrame:
    """Compare variants of ``world`` by paired random playthroughs.

    Parameters
    ----------
    world : World
    variants : mapping
        Variant name -> changes by dotted path (``{"npcs.captain.personality.extraversion":
        0.9}``; ``{}`` is the world as it is). Every variant is validated before any run.
    runs : int
        Paired playthroughs per variant.
    seed : int
        Root of the runs' seeds and of the bootstrap.
    baseline : str, optional
        The variant the others are compared with (default: the first).
    hours, step_hours : float
        Length of a playthrough and the time between the player's visits.
    metrics : list of str, optional
        Metrics to report (default: all of :func:`~storylab.world.montecarlo.playthrough`).
    level, resamples : float, int
        Confidence level and bootstrap resamples of the interval.
    executor, workers, progress
        As for :func:`~storylab.tuning.sweep`.

    Returns
    -------
    pandas.DataFrame
        One row per variant x metric: ``variant``, ``metric``, ``mean``, ``baseline_mean``,
        ``diff`` (mean paired difference from the baseline), ``ci_low``, ``ci_high``,
        ``runs``. ``attrs["runs"]`` holds the sweep's table (one row per playthrough).
    """
    if not variants:
        raise ValueError("variants: at least one, e.g. {'baseline': {}}")
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ValueError(f"runs: a whole number of at least 1, got {runs!r}")
    base = baseline if baseline is not None else next(iter(variants))
    if base not in variants:
        raise ValueError(f"baseline {base!r} is not a variant; variants: {', '.join(variants)}")
    worlds, problems = {}, []
    for name, changes in variants.items():
        try:
            worlds[name] = vary_world(world, changes)
        except DataError as exc:
            problems += exc.problems
    if problems:
        raise DataError(problems)
    seeds = child_seeds(seed, runs)
    grid = [
        {"variant": name, "replicate": r, "world_seed": s}
        for name in variants
        for r, s in enumerate(seeds)
    ]
    fn = functools.partial(_play_variant, worlds=worlds, hours=hours, step_hours=step_hours)
    table = sweep(fn, grid, executor=executor, seed=seed, progress=progress, workers=workers)
    failed = table[table["status"] != "ok"]
    if not failed.empty:
        raise RuntimeError(f"{len(failed)} playthrough(s) failed: {failed['error'].iloc[0]}")
    names = metrics or [
        c for c in table.columns if not c.startswith("param_") and c not in RESULT_COLUMNS
    ]
    ordered = table.sort_values(["param_variant", "param_replicate"])
    by_variant = {
        name: group.set_index("param_replicate") for name, group in ordered.groupby("param_variant")
    }
    rows = []
    for name in variants:
        for metric in names:
            mine, theirs = by_variant[name][metric], by_variant[base][metric]
            diffs = (mine - theirs).to_numpy(dtype=float)
            low, high = bootstrap_ci(diffs, level=level, resamples=resamples, seed=seed)
            rows.append((name, metric, mine.mean(), theirs.mean(), diffs.mean(), low, high, runs))
    out = pd.DataFrame(rows, columns=_COLUMNS)
    out.attrs["runs"] = table
    out.attrs["baseline"] = base
    return out
