"""Plots of worlds: who is where over a day or a week, relationships over time, and the
differences A/B variants make."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from storylab.viz._style import axes, style

__all__ = ["plot_presence", "plot_relationships", "plot_variants"]


def _frame(run_or_frame: Any, name: str) -> pd.DataFrame:
    frame = getattr(run_or_frame, name, run_or_frame)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"a WorldRun or its {name} DataFrame, got {type(run_or_frame).__name__}")
    return frame


def plot_presence(
    run_or_frame: Any,
    *,
    day: int | None = None,
    at: float | None = None,
    npcs: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Locations (rows) against world time (hours), one lane per NPC inside each row.

    ``run_or_frame`` is a :class:`~storylab.world.WorldRun` or its ``presence`` frame.
    ``day`` (from 1) shows one day instead of the whole run; ``at`` marks a time (the time
    slider's position); ``npcs`` picks the lanes.
    """
    frame = _frame(run_or_frame, "presence")
    if frame.empty:
        raise ValueError("nothing to plot: the presence frame is empty")
    if day is not None:
        frame = frame[(frame.hours >= (day - 1) * 24) & (frame.hours < day * 24)]
        if frame.empty:
            raise ValueError(f"day {day} is outside the run")
    names = list(npcs) if npcs is not None else sorted(frame.npc.astype(str).unique())
    frame = frame[frame.npc.astype(str).isin(names)]
    places = [str(x) for x in pd.unique(frame.location.dropna().astype(str))]
    places.sort()
    step = float(np.diff(np.unique(frame.hours))[:1].min()) if frame.hours.nunique() > 1 else 1.0
    lane = 0.8 / max(1, len(names))
    with style():
        ax = axes(ax, figsize=(8.0, 0.5 + 0.45 * max(1, len(places))))
        palette = colormaps["tab10" if len(names) <= 10 else "tab20"]
        colours = [palette(i % palette.N) for i in range(len(names))]
        for i, npc in enumerate(names):
            rows = frame[frame.npc.astype(str) == npc].sort_values("hours")
            where = rows.location.astype(object).to_numpy()
            hours = rows.hours.to_numpy(dtype=float)
            for place in places:
                inside = where == place
                starts = np.flatnonzero(inside & ~np.r_[False, inside[:-1]])
                ends = np.flatnonzero(inside & ~np.r_[inside[1:], False])
                spans = [
                    (hours[s], hours[e] - hours[s] + step)
                    for s, e in zip(starts, ends, strict=True)
                ]
                y = places.index(place) - 0.4 + i * lane
                ax.broken_barh(
                    spans, (y, lane * 0.9), color=colours[i], label=npc if spans else None
                )
        ax.set_yticks(range(len(places)), places)
        ax.set_ylim(-0.6, len(places) - 0.4)
        ax.invert_yaxis()
        ax.set_xlabel("world time (hours since the start)")
        if at is not None:
            ax.axvline(at, color="black", linewidth=1.0, linestyle="--")
        handles = [Patch(color=colours[i], label=npc) for i, npc in enumerate(names)]
        ax.legend(
            handles=handles,
            fontsize="small",
            ncols=min(4, len(names)),
            loc="upper left",
            bbox_to_anchor=(0.0, -0.18),
            frameon=False,
        )
    return ax


def plot_relationships(
    run_or_frame: Any,
    *,
    axis: str = "affinity",
    b: str = "player",
    npcs: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Each NPC's ``axis`` towards ``b`` (an NPC or ``player``) over world time.

    ``run_or_frame`` is a :class:`~storylab.world.WorldRun` or its ``relationships`` frame
    (hours are ticks / ticks per hour of the run's world when a run is given, else ticks).
    """
    frame = _frame(run_or_frame, "relationships")
    per_hour = getattr(getattr(run_or_frame, "world", None), "clock", None)
    scale = 1.0 / per_hour.ticks_per_hour if per_hour is not None else 1.0
    rows = frame[(frame["axis"].astype(str) == axis) & (frame["b"].astype(str) == b)]
    if npcs is not None:
        rows = rows[rows["a"].astype(str).isin(list(npcs))]
    if rows.empty:
        raise ValueError(f"no {axis!r} values towards {b!r} in the frame")
    end = frame["tick"].max()
    with style():
        ax = axes(ax)
        for a, group in rows.groupby(rows["a"].astype(str), sort=True):
            group = group.drop_duplicates("tick", keep="last")
            x = np.r_[group["tick"].to_numpy(), end] * scale
            y = np.r_[group["value"].to_numpy(dtype=float), group["value"].iloc[-1]]
            ax.step(x, y, where="post", label=a)
        ax.set(xlabel="world time (hours)" if per_hour else "tick", ylabel=f"{axis} → {b}")
        ax.legend(fontsize="small", ncols=2)
    return ax


def plot_variants(
    summary: pd.DataFrame, *, metrics: Sequence[str] | None = None, ax: Axes | None = None
) -> Axes:
    """Each variant's mean paired difference from the baseline, with its confidence
    interval, per metric (the output of :func:`storylab.tuning.variants.compare_variants`).
    """
    needed = {"variant", "metric", "diff", "ci_low", "ci_high"}
    if not needed <= set(summary.columns):
        raise ValueError(f"a compare_variants table (columns {sorted(needed)})")
    base = summary.attrs.get("baseline")
    rows = summary[summary["variant"] != base] if base is not None else summary
    if metrics is not None:
        rows = rows[rows["metric"].isin(list(metrics))]
    if rows.empty:
        raise ValueError("nothing to plot: no variant besides the baseline")
    labels = [f"{r.metric} · {r.variant}" for r in rows.itertuples()]
    y = np.arange(len(rows))
    diff = rows["diff"].to_numpy(dtype=float)
    err = np.vstack([diff - rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float) - diff])
    with style():
        ax = axes(ax, figsize=(6.4, 0.6 + 0.35 * len(rows)))
        ax.errorbar(diff, y, xerr=err, fmt="o", capsize=3)
        ax.axvline(0.0, color="grey", linewidth=1.0)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlabel(f"difference from {base or 'the baseline'} (mean, interval)")
    return ax
