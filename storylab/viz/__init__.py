"""Plots. Every function takes ``ax=None``, draws, and returns the Axes it drew on.

matplotlib is imported only when this package is, never by ``import storylab``.
"""

from storylab.viz.arcs import (
    plot_arc,
    plot_arc_fit,
    plot_arc_gallery,
    plot_text_arc,
    plot_trajectory,
)
from storylab.viz.graph import plot_neighbourhood
from storylab.viz.plans import plot_plan
from storylab.viz.play import plot_arc_share, plot_played_vs_planned
from storylab.viz.runtime import plot_playthrough

__all__ = [
    "plot_arc",
    "plot_arc_fit",
    "plot_arc_gallery",
    "plot_arc_share",
    "plot_neighbourhood",
    "plot_plan",
    "plot_played_vs_planned",
    "plot_playthrough",
    "plot_text_arc",
    "plot_trajectory",
]
