"""The identity graph's vocabulary: node kinds, edge kinds, keys, and one source's fragment.

Every node has a string key ``kind:ident`` (``template:mara``,
``instance:harbor-district/npc_10``, ``scene:tavern_interior``); its kind is the part before
the first colon. A *fragment* is what one source (an archive, a world manifest, a program,
an action-block library, an intents store) contributes: the nodes it defines, the edges it
states (which may point at nodes defined elsewhere, or nowhere: a dangling reference), and
the problems found while reading it. Fragments are ingested whole or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "CONTENT_RATINGS",
    "EDGE_KINDS",
    "NODE_KINDS",
    "Finding",
    "Fragment",
    "GraphEdge",
    "GraphNode",
    "content_hash",
    "key_kind",
    "node_key",
]

#: Node kinds and what each stands for.
NODE_KINDS: dict[str, str] = {
    "template": "a character template (an archive's character, or a world's cast entry)",
    "instance": "a character template in one world (the NPC of that world it plays)",
    "npc": "a world's NPC",
    "world": "a world manifest",
    "program": "a narrative program",
    "scene": "a scene a program launches (defined by the programs that contain it)",
    "role": "a named scene role (scenes declare roles, worlds bind them)",
    "block": "an action block of a block library",
    "generation": "a generation request (an intent of the intents store)",
    "asset": "a generated result (an intent effect's result)",
    "arc": "a story arc or quest that content is made for",
}

#: Edge kinds: (from kinds, to kinds, meaning).
EDGE_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "instantiates": (("template",), ("instance",), "the template has this instance in a world"),
    "plays": (("instance",), ("npc",), "the instance is this NPC of its world"),
    "fills_role": (
        ("instance", "template", "npc"),
        ("role",),
        "the world binds the role to this character (edge world = the binding world)",
    ),
    "appears_in": (
        ("instance", "npc", "template"),
        ("program",),
        "a cast member or speaker of a program (as resolved in a world)",
    ),
    "uses_block": (("program",), ("block",), "an action-block node names the block"),
    "produced": (("generation",), ("asset",), "the generation produced the asset"),
    "for": (
        ("generation", "asset"),
        ("template", "instance", "scene", "arc"),
        "content made for a character, scene or arc (from its tags)",
    ),
    "related_to": (
        ("instance", "npc", "template"),
        ("instance", "npc", "template"),
        "a relationship between characters (data: the relationship axes)",
    ),
    "runs": (("world",), ("program",), "an interaction of the world starts the program"),
    "contains": (("program",), ("scene",), "a scene node of the program launches the scene"),
    "has_role": (
        ("scene", "program"),
        ("role",),
        "the scene (or the program's cast) declares the role (bound by worlds)",
    ),
    "names": (
        ("scene",),
        ("npc", "template"),
        "the program binds a scene role to this character directly (data: the role)",
    ),
}

#: Content ratings, mildest first (a rating filter keeps this one and the milder ones).
CONTENT_RATINGS = ("general", "teen", "mature", "adult")


def node_key(kind: str, *parts: str) -> str:
    """The key of a node: ``kind:part1/part2``.

    >>> node_key("instance", "harbor-district", "npc_10")
    'instance:harbor-district/npc_10'
    """
    if kind not in NODE_KINDS:
        raise ValueError(f"a node kind ({', '.join(NODE_KINDS)}), got {kind!r}")
    return f"{kind}:{'/'.join(parts)}"


def key_kind(key: str) -> str:
    """The kind of the node ``key`` (the part before the first colon).

    Raises
    ------
    ValueError
        When the key has no known kind.
    """
    kind = key.partition(":")[0]
    if kind not in NODE_KINDS or ":" not in key:
        raise ValueError(f"a node key 'kind:id' with kind in {', '.join(NODE_KINDS)}, got {key!r}")
    return kind


class GraphNode(NamedTuple):
    """A node a source defines: its key, display label, world, rating, tags and location."""

    key: str
    label: str | None = None
    world: str | None = None
    rating: str | None = None
    tags: tuple[str, ...] = ()
    at: str = ""


class GraphEdge(NamedTuple):
    """An edge a source states, from one node key to another, where it was stated."""

    src: str
    dst: str
    kind: str
    world: str | None = None
    at: str = ""
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem found while reading one source (``check`` names the consistency check)."""

    check: str
    at: str
    message: str


@dataclass(frozen=True, slots=True)
class Fragment:
    """What one source contributes to the graph.

    ``name`` identifies the source (a file path, or ``path#part`` inside a store); ``hash``
    is the content hash that decides whether a new ingest replaces what was stored.
    """

    name: str
    kind: str
    hash: str
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def content_hash(parts: Iterable[bytes | str]) -> str:
    """A short, stable hash of a source's content.

    >>> content_hash(["a", b"b"]) == content_hash(["a", "b"])
    True
    """
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()
