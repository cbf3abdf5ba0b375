"""The graph for analysis and drawing: a networkx ``MultiDiGraph`` (networkx imported when
called; ``pip install "storylab[graph]"``) and GraphML files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storylab._files import write_atomic

if TYPE_CHECKING:
    import networkx as nx

    from storylab.graph.store import CharacterGraph

__all__ = ["neighbourhood", "to_networkx", "write_graphml"]


def _networkx() -> Any:
    try:
        import networkx
    except ImportError:
        raise ImportError(
            "the graph as networkx needs networkx: pip install 'storylab[graph]'"
        ) from None
    return networkx


def to_networkx(graph: CharacterGraph, keys: Iterable[str] | None = None) -> nx.MultiDiGraph:
    """The graph (or the part among ``keys``) as a ``networkx.MultiDiGraph``.

    Nodes are keys with ``kind``, ``label``, ``world``, ``rating``, ``tags`` (comma
    separated) and ``defined`` attributes; edges carry ``kind``, ``world``, ``source``,
    ``at`` and ``data`` (JSON text).
    """
    nx = _networkx()

    db = graph._db
    db.execute("DROP TABLE IF EXISTS temp.graph_pick")
    db.execute("CREATE TEMP TABLE graph_pick (id INTEGER PRIMARY KEY)")
    try:
        if keys is None:
            db.execute("INSERT INTO temp.graph_pick SELECT id FROM graph_nodes")
        else:
            db.executemany(
                "INSERT OR IGNORE INTO temp.graph_pick SELECT id FROM graph_nodes WHERE key = ?",
                [(k,) for k in keys],
            )
        g = nx.MultiDiGraph()
        for key, kind, label, world, rating, tags, source in db.execute(
            """SELECT n.key, n.kind, n.label, n.world, n.rating, n.tags, n.source
               FROM graph_nodes n JOIN temp.graph_pick p ON p.id = n.id ORDER BY n.key"""
        ):
            attrs: dict[str, Any] = {"kind": kind, "defined": source is not None}
            for name, value in (("label", label), ("world", world), ("rating", rating)):
                if value is not None:
                    attrs[name] = value
            if tags:
                attrs["tags"] = tags.strip(",")
            g.add_node(key, **attrs)
        for src, dst, kind, world, source, at, data in db.execute(
            """SELECT a.key, b.key, e.kind, e.world, s.name, e.at, e.data FROM graph_edges e
               JOIN temp.graph_pick pa ON pa.id = e.src JOIN temp.graph_pick pb ON pb.id = e.dst
               JOIN graph_nodes a ON a.id = e.src JOIN graph_nodes b ON b.id = e.dst
               JOIN graph_sources s ON s.id = e.source ORDER BY a.key, b.key, e.kind, e.at"""
        ):
            attrs = {"kind": kind, "source": source, "at": at or ""}
            if world is not None:
                attrs["world"] = world
            if data is not None:
                attrs["data"] = data
            g.add_edge(src, dst, **attrs)
    finally:
        db.execute("DROP TABLE temp.graph_pick")
    return g


def neighbourhood(graph: CharacterGraph, character: str, depth: int = 0) -> nx.MultiDiGraph:
    """The character, everything it is used in (and, with ``depth``, its related
    characters' uses), and the edges among them, as a networkx graph."""
    keys = graph.character_graph(character, depth)["key"]
    return to_networkx(graph, keys)


def write_graphml(graph: CharacterGraph, path: str | Path) -> Path:
    """Write the whole graph as GraphML (atomically); return the path."""
    nx = _networkx()

    g = to_networkx(graph)
    text = "\n".join(nx.generate_graphml(g)) + "\n"
    return write_atomic(path, text)
