"""The character identity graph: character templates, their instances in worlds, NPCs,
programs, scenes and roles, action blocks, generations and assets as one graph in SQLite.

:func:`ingest` builds or refreshes it from archives, world manifests, programs and the
intents store (only sources whose content changed are read again); the named queries of
:class:`CharacterGraph` answer "where is this character used?" as DataFrames;
:meth:`CharacterGraph.check` lists every consistency problem with its location. See
``docs/graph.md``.
"""

from storylab.graph.checks import CHECKS, PROBLEM_COLUMNS
from storylab.graph.export import neighbourhood, to_networkx, write_graphml
from storylab.graph.ingest import build_graph, ingest
from storylab.graph.model import (
    CONTENT_RATINGS,
    EDGE_KINDS,
    NODE_KINDS,
    Finding,
    Fragment,
    GraphEdge,
    GraphNode,
    content_hash,
    key_kind,
    node_key,
)
from storylab.graph.queries import USES_COLUMNS
from storylab.graph.sources import (
    archive_fragment,
    blocks_fragment,
    collect_fragments,
    intent_fragment,
    intents_fragments,
    program_fragment,
    world_fragment,
)
from storylab.graph.store import SCHEMA_VERSION, CharacterGraph, IngestReport

__all__ = [
    "CHECKS",
    "CONTENT_RATINGS",
    "EDGE_KINDS",
    "NODE_KINDS",
    "PROBLEM_COLUMNS",
    "SCHEMA_VERSION",
    "USES_COLUMNS",
    "CharacterGraph",
    "Finding",
    "Fragment",
    "GraphEdge",
    "GraphNode",
    "IngestReport",
    "archive_fragment",
    "blocks_fragment",
    "build_graph",
    "collect_fragments",
    "content_hash",
    "ingest",
    "intent_fragment",
    "intents_fragments",
    "key_kind",
    "neighbourhood",
    "node_key",
    "program_fragment",
    "to_networkx",
    "world_fragment",
    "write_graphml",
]
