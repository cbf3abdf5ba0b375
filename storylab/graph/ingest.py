"""Build or refresh a graph from files: worlds (with their programs), programs, archives,
action-block libraries and intents stores."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from pathlib import Path

from storylab.graph.sources import collect_fragments, intents_fragments
from storylab.graph.store import CharacterGraph, IngestReport

__all__ = ["build_graph", "ingest"]


def ingest(
    graph: CharacterGraph | str | Path,
    paths: Iterable[str | Path],
    *,
    prune: bool = False,
    progress: bool = False,
) -> IngestReport:
    """Ingest every source under ``paths`` into ``graph`` (a graph, or a database file,
    whose own intents are read too when it holds an intents store).

    Only sources whose content changed are written again; with ``prune``, sources no
    longer among ``paths`` are removed. Every source is read (and validated) before
    anything is written, so a bad file leaves the graph as it was.
    """
    own = [] if isinstance(graph, CharacterGraph) else intents_fragments(graph)
    fragments = list(chain(own, collect_fragments(paths)))
    if isinstance(graph, CharacterGraph):
        return graph.ingest(fragments, prune=prune, progress=progress)
    with CharacterGraph(graph) as opened:
        return opened.ingest(fragments, prune=prune, progress=progress)


def build_graph(paths: Iterable[str | Path], *, progress: bool = False) -> CharacterGraph:
    """A throwaway in-memory graph of everything under ``paths``."""
    graph = CharacterGraph(":memory:")
    graph.ingest(collect_fragments(paths), progress=progress)
    return graph
