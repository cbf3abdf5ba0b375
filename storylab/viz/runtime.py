"""Plots of narrative-runtime playthroughs: values over the steps of one run."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from storylab.theory.spectrums import SpectrumType
from storylab.viz._style import axes, style

__all__ = ["playthrough_columns", "plot_playthrough"]

_SPECTRUMS = {s.value for s in SpectrumType}


def playthrough_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The relationship columns (``rel.<npc>.<field>``) and spectrum columns
    (``arc.<spectrum>`` for a known life-value spectrum) of a playthrough frame."""
    rel = [c for c in frame.columns if c.startswith("rel.")]
    spec = [c for c in frame.columns if c.startswith("arc.") and c[4:] in _SPECTRUMS]
    return rel, spec


def plot_playthrough(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a playthrough's relationship values (left axis) and spectrum values (right
    axis, [-1, 1]) against its steps.

    ``frame`` is one playthrough as returned by :func:`storylab.runtime.analysis.monte_carlo`
    (``frames``) or :func:`~storylab.runtime.analysis.playtest` (``frame``): a ``step``
    column and one column per tracked value. ``columns`` picks which to draw (default: all
    relationship and spectrum columns). Returns the left Axes; the spectrum axis, when
    drawn, is its twin.
    """
    if "step" not in frame.columns:
        raise ValueError("a playthrough frame needs a 'step' column")
    rel, spec = playthrough_columns(frame)
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"no such columns {missing}; the frame has {list(frame.columns)}")
        rel = [c for c in columns if c not in spec]
        spec = [c for c in columns if c in spec]
    if not rel and not spec:
        raise ValueError("nothing to plot: no relationship (rel.*) or spectrum (arc.*) columns")
    with style():
        ax = axes(ax)
        x = frame["step"].to_numpy()
        for c in rel:
            ax.step(x, frame[c].to_numpy(dtype=float), where="post", label=c)
        ax.set(xlabel="step", ylabel="relationship value" if rel else "")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        handles, labels = ax.get_legend_handles_labels()
        if spec:
            twin = ax.twinx() if rel else ax
            for i, c in enumerate(spec):
                twin.step(
                    x,
                    frame[c].to_numpy(dtype=float),
                    where="post",
                    ls="--",
                    color=f"C{len(rel) + i}",
                    label=c,
                )
            twin.set(ylim=(-1.05, 1.05), ylabel="spectrum value")
            if twin is not ax:
                more_h, more_l = twin.get_legend_handles_labels()
                handles, labels = handles + more_h, labels + more_l
        ax.legend(handles, labels, fontsize="x-small", loc="best")
        if title is not None:
            ax.set_title(title)
    return ax
