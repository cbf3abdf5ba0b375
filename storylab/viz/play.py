"""Plots of played stories: played against planned, and how often the arc survives play."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from storylab.play import Playthrough
from storylab.storyteller import StorylinePlan
from storylab.theory import arc
from storylab.theory.arcs import to_spectrum
from storylab.viz._style import axes, style

__all__ = ["plot_arc_share", "plot_played_vs_planned"]


def plot_played_vs_planned(
    plan: StorylinePlan,
    playthroughs: Sequence[Playthrough],
    *,
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
) -> Axes:
    """Draw each played trajectory over the planned one and the template's arc.

    Parameters
    ----------
    plan : StorylinePlan
        The plan that was played.
    playthroughs : sequence of Playthrough
        What was played (see :meth:`storylab.play.StoryPlayer.playthrough`).
    ax : Axes, optional
        Where to draw (a new figure when ``None``).
    labels : sequence of str, optional
        One legend label per playthrough (by default its re-planning setting and choices).
    """
    with style():
        ax = axes(ax, figsize=(8.0, 4.2))
        x = np.linspace(0.0, 1.0, 201)
        curve = arc(plan.template)
        ax.plot(x, to_spectrum(curve.evaluate(x)), "--", color="0.45", lw=1.2, label=curve.name)
        ax.plot(
            [p.story_share for p in plan.trajectory],
            [p.primary for p in plan.trajectory],
            "-",
            lw=2.4,
            color="0.2",
            alpha=0.6,
            label="planned",
        )
        for i, played in enumerate(playthroughs):
            mode = "re-planned" if played.replanning else "as planned"
            label = labels[i] if labels else f"played ({mode}, {played.deviations} deviations)"
            ax.plot(played.story_share, played.primary, "-o", ms=2.2, lw=1.2, label=label)
        ax.set(xlim=(0, 1), ylim=(-1.1, 1.1), xlabel="share of the story")
        ax.set(ylabel=plan.primary_spectrum.value, title=f"{plan.template.value} · {plan.genre}")
        ax.legend(loc="lower left", fontsize="x-small")
    return ax


def plot_arc_share(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Bars: share of simulated players whose story keeps the template's arc, by template
    (a ``template`` column, when present) and re-planning setting.

    ``frame`` holds :func:`storylab.play.simulate_players` rows (concatenate several plans'
    frames with a ``template`` column to compare templates).
    """
    with style():
        ax = axes(ax, figsize=(7.0, 3.6))
        data = frame.assign(template=frame.get("template", "story"))
        table = data.pivot_table(
            index="template", columns="replanning", values="follows_template", aggfunc="mean"
        )
        y = np.arange(len(table.index))
        width = 0.8 / max(len(table.columns), 1)
        for j, on in enumerate(table.columns):
            label = "with re-planning" if on else "without re-planning"
            ax.barh(y + j * width, table[on], height=width, label=label)
        ax.set_yticks(y + width * (len(table.columns) - 1) / 2, table.index)
        ax.set(xlim=(0, 1), xlabel="share of players on the template's arc")
        ax.axvline(0.9, color="0.4", ls=":", lw=1)
        ax.legend(loc="lower right", fontsize="x-small")
    return ax
