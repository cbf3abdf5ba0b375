"""Plots of emotional arcs and of trajectories measured against them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray

from storylab.theory.arcs import SAMPLE_POSITIONS, EmotionalArc, arc, arcs
from storylab.theory.classify import ArcFit, warp_arc
from storylab.theory.text import NullBand, TextArc, TextTrajectory
from storylab.viz._style import axes, style

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "plot_arc",
    "plot_arc_fit",
    "plot_arc_gallery",
    "plot_risk_coverage",
    "plot_text_arc",
    "plot_trajectory",
]


def plot_arc(
    arc: EmotionalArc, *, ax: Axes | None = None, show_points: bool = True, **line_kwargs
) -> Axes:
    """Draw one arc: the interpolated curve, its samples and its named control points."""
    with style():
        ax = axes(ax)
        x = np.linspace(0.0, 1.0, 201)
        (line,) = ax.plot(x, arc.evaluate(x), label=arc.name, **line_kwargs)
        if show_points:
            ax.plot(SAMPLE_POSITIONS, arc.samples, "o", ms=3, color=line.get_color())
            for p in arc.control_points:
                ax.annotate(
                    p.label,
                    (p.position, p.value),
                    textcoords="offset points",
                    xytext=(0, 6 if p.value < 0.5 else -12),
                    ha="center",
                    fontsize="x-small",
                )
        ax.set(
            xlim=(0, 1), ylim=(0, 1), xlabel="story position", ylabel="arc value", title=arc.name
        )
    return ax


def plot_arc_gallery(
    *,
    ax: Sequence[Axes] | NDArray | None = None,
    arcs_to_plot: Sequence[EmotionalArc] | None = None,
) -> NDArray:
    """Draw the six arcs as small multiples; ``ax`` may be six Axes to draw into."""
    chosen = list(arcs_to_plot or arcs())
    with style():
        if ax is None:
            _, grid = plt.subplots(
                2, 3, figsize=(9, 5), sharex=True, sharey=True, layout="constrained"
            )
            ax = grid
        flat = np.asarray(ax).ravel()
        if len(flat) < len(chosen):
            raise ValueError(f"need {len(chosen)} Axes for the gallery, got {len(flat)}")
        for a, panel in zip(chosen, flat, strict=False):
            plot_arc(a, ax=panel)
    return np.asarray(ax)


def plot_trajectory(
    values: ArrayLike,
    positions: ArrayLike | None = None,
    *,
    arc: EmotionalArc | None = None,
    phases: Sequence[tuple[float, float, str]] | None = None,
    ax: Axes | None = None,
    label: str = "trajectory",
    scale: str = "arc",
) -> Axes:
    """Draw a trajectory, optionally over an arc and shaded phase bands.

    ``phases`` are ``(start, end, name)`` position ranges. ``scale`` is ``"arc"`` ([0, 1])
    or ``"spectrum"`` ([-1, 1]); the arc is drawn on the same scale as the values.
    """
    y = np.asarray(values, dtype=float)
    x = np.linspace(0, 1, len(y)) if positions is None else np.asarray(positions, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"positions and values differ in length: {x.shape} vs {y.shape}")
    with style():
        ax = axes(ax)
        for i, (start, end, name) in enumerate(phases or ()):
            ax.axvspan(start, end, color="0.5", alpha=0.06 if i % 2 else 0.12, lw=0)
            ax.text(
                (start + end) / 2,
                1.0,
                name,
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize="x-small",
            )
        if arc is not None:
            grid = np.linspace(0, 1, 201)
            ref = arc.evaluate(grid)
            ax.plot(
                grid,
                2 * ref - 1 if scale == "spectrum" else ref,
                "--",
                color="0.4",
                lw=1.5,
                label=arc.name,
            )
        ax.plot(x, y, label=label)
        ax.set(
            xlim=(0, 1),
            xlabel="story position",
            ylabel="spectrum value" if scale == "spectrum" else "arc value",
        )
        ax.legend(loc="best")
    return ax


def _fitted_curve(
    fit: ArcFit, values: NDArray[np.float64], unit: NDArray[np.float64], rank: int = 0
) -> NDArray[np.float64]:
    """The ``rank``-th match's warped arc, scaled and shifted onto ``values`` (least squares)."""
    match = fit.matches[rank]
    shape = warp_arc(match.arc, match.knots, unit)
    design = np.column_stack([shape, np.ones_like(shape)])
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    return design @ coef


def plot_arc_fit(
    fit: ArcFit,
    values: ArrayLike,
    positions: ArrayLike | None = None,
    *,
    ax: Axes | None = None,
    runner_up: bool = False,
) -> Axes:
    """Draw a trajectory, the best-scoring warped arc fitted onto it, and its turns.

    The title names the chosen arc, or the reason the classifier abstained. With
    ``runner_up`` the second-ranked arc is drawn too.
    """
    y = np.asarray(values, dtype=float)
    x = np.linspace(0.0, 1.0, len(y)) if positions is None else np.asarray(positions, float)
    if x.shape != y.shape:
        raise ValueError(f"positions and values differ in length: {x.shape} vs {y.shape}")
    unit = (x - x[0]) / (x[-1] - x[0])
    with style():
        ax = axes(ax)
        ax.plot(x, y, color="0.6", lw=0.8, label="trajectory")
        ranks = (0, 1) if runner_up else (0,)
        for rank, line in zip(ranks, ("-", ":"), strict=False):
            m = fit.matches[rank]
            ax.plot(
                x,
                _fitted_curve(fit, y, unit, rank),
                line,
                lw=2,
                label=f"{arc(m.arc).name} (score {m.score:.2f})",
            )
        for t in fit.turning_points:
            ax.plot(t.position, t.value, "v" if t.kind == "trough" else "^", ms=8, color="k")
        title = (
            f"best: {arc(fit.best).name}"
            if fit.best is not None
            else f"abstained: {(fit.reason or '').split(':')[0]}"
        )
        ax.set(xlabel="story position", ylabel="value", title=title)
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_text_arc(
    result: TextArc | TextTrajectory,
    *,
    null: NullBand | None = None,
    ax: Axes | None = None,
    label: str = "text",
) -> Axes:
    """Draw a text's happiness trajectory over its word-shuffle null band.

    ``result`` is a :class:`TextArc` (its null band and fit are drawn) or a bare
    :class:`TextTrajectory` with an optional ``null``.
    """
    trajectory = result.trajectory if isinstance(result, TextArc) else result
    band = result.null if isinstance(result, TextArc) else null
    with style():
        ax = axes(ax)
        if band is not None:
            ax.fill_between(
                band.positions,
                band.low,
                band.high,
                color="0.5",
                alpha=0.25,
                lw=0,
                label=f"word-shuffle null ({len(band.trajectories)} shuffles)",
            )
        ax.plot(trajectory.positions, trajectory.values, label=label)
        if isinstance(result, TextArc):
            fit = result.fit
            unit = (trajectory.positions - trajectory.positions[0]) / np.ptp(trajectory.positions)
            best = fit.matches[0]
            ax.plot(
                trajectory.positions,
                _fitted_curve(fit, trajectory.values, unit),
                "--",
                color="0.2",
                label=f"{arc(best.arc).name} (score {best.score:.2f})",
            )
            verdict = arc(fit.best).name if fit.best else "no clear arc"
            ax.set_title(f"{verdict}; spread p = {result.null.spread_p:.3f}")
        ax.set(xlim=(0, 1), xlabel="position in text", ylabel="happiness (labMT, 1–9)")
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_risk_coverage(
    curve: pd.DataFrame,
    *,
    threshold: float | None = None,
    ax: Axes | None = None,
    label: str = "classifier",
    **line_kwargs,
) -> Axes:
    """Draw a risk–coverage curve (:func:`storylab.theory.risk_coverage`).

    ``threshold`` marks one operating point (the answers with confidence at or above it).
    """
    with style():
        ax = axes(ax)
        ax.plot(curve["coverage"], curve["risk"], label=label, **line_kwargs)
        if threshold is not None:
            answered = curve[curve["threshold"] >= threshold]
            if answered.empty:
                raise ValueError(f"threshold {threshold} is above every confidence in the curve")
            point = answered.iloc[0]
            ax.plot(
                [point["coverage"]],
                [point["risk"]],
                "o",
                color="0.2",
                label=f"threshold {threshold:.2f}: coverage {point['coverage']:.1%},"
                f" risk {point['risk']:.1%}",
            )
        ax.set(xlim=(0, 1.01), ylim=(0, None), xlabel="coverage (share answered)")
        ax.set_ylabel("risk (share of answers wrong)")
        ax.legend(loc="upper left", fontsize="small")
    return ax
