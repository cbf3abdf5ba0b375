"""Drawings of the character identity graph: a character's neighbourhood."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from storylab.graph.model import NODE_KINDS
from storylab.viz._style import axes, style

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["KIND_COLOURS", "plot_neighbourhood"]

#: A colour per node kind (the tab10 cycle, in the order of ``NODE_KINDS``).
KIND_COLOURS = {kind: f"C{i % 10}" for i, kind in enumerate(NODE_KINDS)}


def plot_neighbourhood(
    graph: nx.MultiDiGraph,
    *,
    ax: Axes | None = None,
    centre: str | None = None,
    seed: int = 0,
    labels: bool = True,
) -> Axes:
    """Draw a (small) part of the identity graph: nodes coloured by kind, edges labelled
    by kind, undefined (dangling) nodes hollow.

    ``graph`` is what :func:`storylab.graph.neighbourhood` or
    :meth:`~storylab.graph.CharacterGraph.to_networkx` returns; ``centre`` (a node key)
    is drawn larger; ``seed`` fixes the layout.
    """
    import networkx as nx

    with style():
        ax = axes(ax, figsize=(8.0, 6.0))
        if graph.number_of_nodes() == 0:
            ax.set_axis_off()
            ax.set_title("(nothing to draw)")
            return ax
        pos = nx.spring_layout(graph, seed=seed, k=1.2 / max(1, graph.number_of_nodes()) ** 0.4)
        for u, v in {(u, v) for u, v in graph.edges()}:
            ax.annotate(
                "",
                xy=pos[v],
                xytext=pos[u],
                arrowprops={"arrowstyle": "-|>", "color": "0.6", "lw": 0.8, "shrinkB": 6},
                zorder=1,
            )
        kinds = sorted({d.get("kind", "?") for _, d in graph.nodes(data=True)})
        for kind in kinds:
            keys = [n for n, d in graph.nodes(data=True) if d.get("kind") == kind]
            colour = KIND_COLOURS.get(kind, "0.5")
            xy = [pos[k] for k in keys]
            filled = [graph.nodes[k].get("defined", True) for k in keys]
            sizes = [160 if k == centre else 60 for k in keys]
            ax.scatter(
                [p[0] for p in xy],
                [p[1] for p in xy],
                s=sizes,
                c=[colour if f else "white" for f in filled],
                edgecolors=colour,
                linewidths=1.2,
                zorder=2,
            )
        if labels:
            for key, (x, y) in pos.items():
                text = graph.nodes[key].get("label") or key.partition(":")[2]
                ax.annotate(text, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7)
        handles = [
            Line2D([], [], marker="o", ls="", color=KIND_COLOURS.get(k, "0.5"), label=k)
            for k in kinds
        ]
        ax.legend(handles=handles, loc="best", fontsize=7, frameon=False)
        ax.set_axis_off()
        if centre is not None:
            ax.set_title(centre)
    return ax
