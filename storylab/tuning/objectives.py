"""What a good storyline plan scores: objectives of one plan and of a batch of plans.

Every objective reads only the plan (:class:`~storylab.storyteller.StorylinePlan`), so it
can be computed in a sweep's worker and averaged afterwards:

- trajectory fit: RMSE and Pearson correlation between the plan's primary-spectrum
  trajectory and its template's arc (on the spectrum scale), both taken at the share of
  the finished story each point stands at;
- forced advances: phases left because the position ceiling was hit;
- planner failures: phases whose search stopped before the phase target;
- core-event coverage: share of the genre's core events the plan contains;
- plan cost: the sum of the planned actions' costs;
- position-estimation error: how far the position estimated while composing was from
  the position known once the story is complete;
- variety (:func:`action_variety`): the share of consecutive action pairs that repeat the
  same action, the longest run of one action, the share of distinct actions, and how evenly
  the five action categories are used (Shannon entropy of their counts over its maximum,
  log 5: 1 is even, 0 is one category).

:func:`plan_quality` is the designer's view: variety plus arc fit (``QUALITY_METRICS``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from storylab.theory import arc
from storylab.theory.arcs import to_spectrum

if TYPE_CHECKING:
    from storylab.storyteller import StorylinePlan

__all__ = [
    "PLAN_METRICS",
    "QUALITY_METRICS",
    "TRAJECTORY_PREFIX",
    "action_variety",
    "plan_metrics",
    "plan_quality",
    "summarize",
    "trajectory_fit",
    "trajectory_on_grid",
    "trajectory_table",
]

#: Column prefix of a trajectory resampled by :func:`trajectory_on_grid`.
TRAJECTORY_PREFIX = "traj_"

#: The metrics :func:`plan_metrics` returns, in order.
PLAN_METRICS = (
    "fit_rmse",
    "fit_corr",
    "forced_advances",
    "forced_advance_rate",
    "planner_failures",
    "core_coverage",
    "cost",
    "actions",
    "position_error",
    "position_error_max",
    "complete",
    "repeat_rate",
    "longest_run",
    "distinct_share",
    "category_balance",
)

#: The metrics :func:`plan_quality` returns, in order.
QUALITY_METRICS = (
    "repeat_rate",
    "longest_run",
    "distinct_share",
    "category_balance",
    "fit_rmse",
    "fit_corr",
)

#: Action categories (``storylab.storyteller.ActionCategory``), for the balance's maximum.
_CATEGORIES = 5


def action_variety(
    actions: Sequence[str], categories: Sequence[str] | None = None
) -> dict[str, float]:
    """Variety of an action sequence: repeat rate, longest run, distinct share, balance.

    ``repeat_rate`` is the share of consecutive pairs that repeat an action (0 for fewer
    than two actions), ``longest_run`` the most consecutive uses of one action,
    ``distinct_share`` distinct actions over actions, ``category_balance`` the entropy of
    the ``categories`` (one per action; NaN without them) over log 5.

    >>> v = action_variety(["a", "a", "b", "a"], ["conflict"] * 3 + ["mystery"])
    >>> v["repeat_rate"], v["longest_run"], v["distinct_share"]
    (0.3333333333333333, 2.0, 0.5)
    """
    ids = list(actions)
    if categories is not None and len(categories) != len(ids):
        raise ValueError(f"one category per action (got {len(categories)} for {len(ids)})")
    pairs = list(itertools.pairwise(ids))
    longest = run = 0
    for i, action in enumerate(ids):
        run = run + 1 if i and action == ids[i - 1] else 1
        longest = max(longest, run)
    balance = float("nan")
    if categories is not None and ids:
        counts = np.unique(np.asarray(categories), return_counts=True)[1] / len(ids)
        balance = float(-(counts * np.log(counts)).sum() / np.log(_CATEGORIES)) + 0.0
    return {
        "repeat_rate": sum(a == b for a, b in pairs) / len(pairs) if pairs else 0.0,
        "longest_run": float(longest),
        "distinct_share": len(set(ids)) / len(ids) if ids else 0.0,
        "category_balance": balance,
    }


def trajectory_fit(shares: ArrayLike, values: ArrayLike, arc_name: str) -> dict[str, float]:
    """RMSE and correlation of spectrum ``values`` at story ``shares`` against an arc.

    The arc is mapped onto the spectrum scale [-1, 1]. The correlation is NaN when either
    side is constant (it says nothing about shape then).

    Examples
    --------
    >>> from storylab.theory.arcs import to_spectrum
    >>> x = [0.0, 0.5, 1.0]
    >>> fit = trajectory_fit(x, to_spectrum(arc("tragedy").evaluate(x)), "tragedy")
    >>> round(fit["rmse"], 12), round(fit["corr"], 12)
    (0.0, 1.0)
    """
    x = np.asarray(shares, dtype=float)
    y = np.asarray(values, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(
            f"need two equal-length 1-D series of 2+ points (got {x.shape}, {y.shape})"
        )
    reference = np.asarray(to_spectrum(arc(arc_name).evaluate(np.clip(x, 0.0, 1.0))))
    rmse = float(np.sqrt(np.mean((y - reference) ** 2)))
    flat = np.ptp(y) < 1e-12 or np.ptp(reference) < 1e-12
    corr = float("nan") if flat else float(np.corrcoef(y, reference)[0, 1])
    return {"rmse": rmse, "corr": corr}


def plan_metrics(plan: StorylinePlan) -> dict[str, float]:
    """Every objective of one plan, as a flat dict of floats (see :data:`PLAN_METRICS`)."""
    points = plan.trajectory
    fit = trajectory_fit(
        [p.story_share for p in points], [p.primary for p in points], plan.template.value
    )
    phases = plan.phases
    forced = sum(p.transition_result.value == "forced_advance" for p in phases)
    estimated = np.array([p.position for p in points])
    known = np.array([p.story_share for p in points])
    error = np.abs(np.clip(estimated, 0.0, 1.0) - known)
    required = len(plan.required_core_events)
    covered = required - len(plan.missing_core_events)
    return {
        "fit_rmse": fit["rmse"],
        "fit_corr": fit["corr"],
        "forced_advances": float(forced),
        "forced_advance_rate": forced / len(phases),
        "planner_failures": float(sum(p.search.stop_reason != "goal" for p in phases)),
        "core_coverage": covered / required if required else 1.0,
        "cost": float(plan.total_cost),
        "actions": float(len(points) - 1),
        "position_error": float(error.mean()),
        "position_error_max": float(error.max()),
        "complete": float(plan.complete),
        **action_variety(
            [a.action_id for a in plan.actions], [a.category.value for a in plan.actions]
        ),
    }


def plan_quality(plan: StorylinePlan) -> dict[str, float]:
    """What a designer would judge a plan by (see :data:`QUALITY_METRICS`): variety and arc
    fit."""
    metrics = plan_metrics(plan)
    return {name: metrics[name] for name in QUALITY_METRICS}


def trajectory_on_grid(plan: StorylinePlan, points: int = 21) -> dict[str, float]:
    """The plan's primary trajectory at ``points`` evenly spaced story shares, as scalar
    columns ``traj_00``, ``traj_01``, ... (so a sweep can carry whole trajectories)."""
    if points < 2:
        raise ValueError(f"points must be at least 2 (got {points})")
    shares = np.linspace(0.0, 1.0, points)
    values = np.interp(
        shares, [p.story_share for p in plan.trajectory], [p.primary for p in plan.trajectory]
    )
    return {f"{TRAJECTORY_PREFIX}{i:02d}": float(v) for i, v in enumerate(values)}


def trajectory_table(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The ``traj_*`` columns of a table as ``(values (rows, points), shares)``."""
    columns = [c for c in frame.columns if str(c).startswith(TRAJECTORY_PREFIX)]
    if len(columns) < 2:
        raise ValueError("the table has no trajectory columns (traj_00, traj_01, ...)")
    return frame[columns].to_numpy(dtype=float), np.linspace(0.0, 1.0, len(columns))


def summarize(
    rows: Iterable[Mapping[str, float]] | pd.DataFrame, by: str | list[str] | None = None
) -> pd.DataFrame:
    """Batch objectives: the mean of each plan metric (per group when ``by`` is given).

    Takes :func:`plan_metrics` dicts or a sweep table; failed sweep rows are left out and
    counted in ``failed_runs``.
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    failed = frame["status"].ne("ok") if "status" in frame else pd.Series(False, frame.index)
    metrics = [m for m in PLAN_METRICS if m in frame]
    ok = frame.loc[~failed]
    if by is None:
        out = ok[metrics].mean().to_frame().T
        out["runs"] = len(ok)
        out["failed_runs"] = int(failed.sum())
        return out
    out = ok.groupby(by)[metrics].mean()
    out["runs"] = ok.groupby(by).size()
    out["failed_runs"] = failed.groupby(
        frame[by] if isinstance(by, str) else [frame[b] for b in by]
    ).sum()
    return out
