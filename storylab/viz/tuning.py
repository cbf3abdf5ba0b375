"""Plots of tuning results: trajectory bands, before/after scores, optimiser history."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from storylab.theory.arcs import EmotionalArc
from storylab.viz._style import axes, style

__all__ = ["plot_before_after", "plot_trajectory_bands", "plot_tuning_history"]


def plot_trajectory_bands(
    values: ArrayLike,
    shares: ArrayLike,
    *,
    arc: EmotionalArc | None = None,
    quantiles: tuple[float, float] = (0.1, 0.9),
    ax: Axes | None = None,
    label: str | None = None,
    color: str | None = None,
) -> Axes:
    """Draw many trajectories as a median line and a quantile band (not spaghetti).

    ``values`` is ``(stories, points)`` spectrum values at the story ``shares``; ``arc``
    (drawn dashed, on the spectrum scale) is the shape they aim for.
    """
    y = np.atleast_2d(np.asarray(values, dtype=float))
    x = np.asarray(shares, dtype=float)
    if y.shape[1] != len(x):
        raise ValueError(f"values have {y.shape[1]} points per story, shares {len(x)}")
    lo, hi = quantiles
    if not 0 <= lo < hi <= 1:
        raise ValueError(f"quantiles must satisfy 0 <= low < high <= 1 (got {quantiles})")
    with style():
        ax = axes(ax)
        (line,) = ax.plot(
            x, np.median(y, axis=0), color=color, label=f"{label or 'median'} (n={len(y)})"
        )
        ax.fill_between(
            x,
            np.quantile(y, lo, axis=0),
            np.quantile(y, hi, axis=0),
            color=line.get_color(),
            alpha=0.2,
            lw=0,
        )
        if arc is not None:
            grid = np.linspace(0, 1, 201)
            ax.plot(grid, 2 * arc.evaluate(grid) - 1, "--", color="0.3", lw=1.2, label=arc.name)
        ax.set(xlim=(0, 1), ylim=(-1.05, 1.05), xlabel="share of the story", ylabel="primary")
        ax.legend(loc="best", fontsize="x-small")
    return ax


def plot_before_after(
    scores: pd.DataFrame,
    metric: str,
    *,
    ax: Axes | None = None,
    group: str = "split",
    stage: str = "stage",
) -> Axes:
    """Bars of ``metric`` before and after tuning, side by side for each ``group`` value
    (``train``/``test``); ``scores`` has one row per group and stage."""
    table = scores.pivot_table(index=group, columns=stage, values=metric, sort=False)
    with style():
        ax = axes(ax, figsize=(4.5, 3.2))
        width = 0.38
        x = np.arange(len(table.index))
        for offset, name in ((-width / 2, "before"), (width / 2, "after")):
            if name in table:
                bars = ax.bar(x + offset, table[name], width, label=name)
                ax.bar_label(bars, fmt="%.3g", fontsize="x-small")
        ax.set_xticks(x, [str(i) for i in table.index])
        ax.set(ylabel=metric, title=metric)
        ax.legend(loc="best", fontsize="x-small")
    return ax


def plot_tuning_history(
    history: pd.DataFrame, *, ax: Axes | None = None, objective: str = "objective"
) -> Axes:
    """The objective at each evaluation, with the best value so far."""
    y = history[objective].to_numpy(dtype=float)
    with style():
        ax = axes(ax, figsize=(5, 3.2))
        steps = np.arange(1, len(y) + 1)
        ax.plot(steps, y, "o", ms=3, label="evaluated")
        ax.step(steps, np.minimum.accumulate(y), where="post", label="best so far")
        ax.set(xlabel="evaluation", ylabel=objective)
        ax.legend(loc="best", fontsize="x-small")
    return ax
