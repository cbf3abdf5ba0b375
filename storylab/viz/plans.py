"""Plots of storyline plans: the planned trajectory over the template's arc."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from storylab.storyteller.plan import StorylinePlan
from storylab.theory import arc
from storylab.theory.arcs import to_spectrum
from storylab.viz._style import axes, style

__all__ = ["plot_plan"]


def plot_plan(plan: StorylinePlan, *, ax: Axes | None = None, annotate: bool = True) -> Axes:
    """Draw a plan's primary-spectrum trajectory against its template's arc.

    The x axis is the share of the finished story; shaded bands are the phases as planned,
    with each phase's target range drawn at its end; stars mark the core events.

    Parameters
    ----------
    plan : StorylinePlan
        A composed plan.
    ax : Axes, optional
        Where to draw (a new figure when ``None``).
    annotate : bool
        Label the phases and the core events.
    """
    with style():
        ax = axes(ax, figsize=(8.0, 4.2))
        x = np.linspace(0.0, 1.0, 201)
        curve = arc(plan.template)
        ax.plot(x, to_spectrum(curve.evaluate(x)), "--", color="0.45", lw=1.2, label=curve.name)
        shares = {p.sequence_index: p.story_share for p in plan.trajectory}
        start = 0.0
        for i, phase in enumerate(plan.phases):
            end = shares[phase.actions[-1].sequence_index] if phase.actions else start
            ax.axvspan(start, end, color="0.92" if i % 2 == 0 else "0.97", zorder=0, lw=0)
            lo, hi = phase.target_state.primary_min, phase.target_state.primary_max
            ax.plot(
                [end, end], [lo, hi], color="tab:green", lw=4, alpha=0.45, solid_capstyle="butt"
            )
            if annotate:
                ax.text(
                    (start + end) / 2,
                    1.04,
                    f"{phase.number}. {phase.name}",
                    ha="center",
                    va="bottom",
                    fontsize="x-small",
                    transform=ax.get_xaxis_transform(),
                )
            start = end
        xs = [p.story_share for p in plan.trajectory]
        ys = [p.primary for p in plan.trajectory]
        ax.plot(xs, ys, "-o", ms=2.5, lw=1.4, color="tab:blue", label="planned trajectory")
        core = [a for a in plan.actions if a.core_event]
        ax.plot(
            [shares[a.sequence_index] for a in core],
            [a.primary_value for a in core],
            "*",
            ms=11,
            color="tab:red",
            label="core events",
        )
        if annotate:
            for a in core:
                ax.annotate(
                    a.action_id.replace("_", " "),
                    (shares[a.sequence_index], a.primary_value),
                    textcoords="offset points",
                    xytext=(0, 8),
                    ha="center",
                    fontsize="xx-small",
                )
        subgenre = f"/{plan.subgenre}" if plan.subgenre else ""
        ax.set(
            xlim=(0, 1),
            ylim=(-1.1, 1.1),
            xlabel="share of the story",
            ylabel=plan.primary_spectrum.value,
        )
        ax.set_title(f"{plan.template.value} · {plan.genre}{subgenre}", pad=20)
        ax.legend(loc="lower left", fontsize="x-small")
    return ax
