"""Where the graph's links come from: one fragment per archive, program, block library, world
manifest, and intent of an intents store.

Each reader takes the storylab model the lower layer already validated (nothing here
re-parses YAML) and states the nodes it defines and the edges it knows of. A program is
world-independent: it defines its scenes' roles and the blocks it uses; the world manifest
that links a program resolves its cast, speakers and hard-coded scene bindings to that
world's NPCs and instances (a world's fragment therefore hashes its programs' text too).
See ``docs/graph.md`` for the table of links and their origins.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from storylab._data import DataError, Problem, packaged_path
from storylab.archives.bundle import ARCHIVE_SUFFIXES, ArchiveBundle, load_bundle
from storylab.graph.model import Finding, Fragment, GraphEdge, GraphNode, content_hash, node_key
from storylab.intents.models import Effect, Intent
from storylab.intents.schema import check_file
from storylab.runtime.blocks import BlockLibrary, load_block_library
from storylab.runtime.check import load_program
from storylab.runtime.program import (
    ActionBlockNode,
    DialogueNode,
    NarrativeProgram,
    SceneNode,
)
from storylab.validation import detect_kind
from storylab.world import World, load_world

__all__ = [
    "PLAYER",
    "archive_fragment",
    "blocks_fragment",
    "collect_fragments",
    "holds_intents",
    "intent_fragment",
    "intents_fragments",
    "program_fragment",
    "scene_key",
    "source_name",
    "world_fragment",
]

#: The id programs use for the player (never a character of the graph).
PLAYER = "player"
#: Bumped when a reader changes what it states, so stored sources are read again.
_READER_VERSION = "1"
_STORE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def _hash(*parts: bytes | str) -> str:
    return content_hash([_READER_VERSION, *parts])


def scene_key(program: NarrativeProgram, node: SceneNode) -> str:
    """The key of the scene a scene node launches (by id, else ``program.node``)."""
    return node_key("scene", node.scene_id or f"{program.id}.{node.id}")


def _template_ref(value: str) -> str | None:
    """``character:X`` (the seed's tag convention) or ``template:X`` names template X."""
    for prefix in ("character:", "template:"):
        if value.startswith(prefix) and len(value) > len(prefix):
            return node_key("template", value[len(prefix) :])
    return None


# archives ------------------------------------------------------------------------------------
def archive_fragment(
    bundle: ArchiveBundle, text: bytes | str = b"", name: str | None = None
) -> Fragment:
    """A character template from an archive bundle (its ``character.id``, else the file
    stem); the source is called ``name`` (default: the bundle's source)."""
    entry = bundle.get("character")
    ident = entry.id or Path(bundle.source).stem  # type: ignore[attr-defined]
    node = GraphNode(node_key("template", ident), entry.name, at="character")  # type: ignore[attr-defined]
    body = text or json.dumps(bundle.to_dict(), sort_keys=True)
    return Fragment(name or bundle.source, "archive", _hash(body), nodes=[node])


# action blocks -------------------------------------------------------------------------------
def blocks_fragment(library: BlockLibrary, source: str, text: bytes | str = b"") -> Fragment:
    """One node per action block of a library."""
    nodes = [
        GraphNode(node_key("block", b.id), b.id, tags=tuple(b.tags), at=f"blocks[{i}]")
        for i, b in enumerate(library.blocks)
    ]
    body = text or library.model_dump_json()
    return Fragment(source, "action-blocks", _hash(body), nodes=nodes)


# programs ------------------------------------------------------------------------------------
def _cast_names(program: NarrativeProgram) -> set[str]:
    names = {PLAYER}
    for c in program.metadata.characters:
        names |= {c.id, *(x for x in (c.name, c.role) if x)}
    return names


def _unknown_speaker(speaker: str | None, cast: set[str]) -> bool:
    """A literal speaker (no template) that no cast entry names."""
    return bool(speaker) and "{" not in speaker and speaker not in cast


def program_fragment(program: NarrativeProgram, source: str, text: bytes | str = b"") -> Fragment:
    """A program's own links: its scenes, their roles, the blocks it uses, and the
    speakers missing from its cast (the world that runs it resolves the rest)."""
    pk = node_key("program", program.id)
    meta = program.metadata
    nodes = [
        GraphNode(
            pk, program.title or program.id, rating=meta.content_rating, tags=tuple(meta.tags)
        )
    ]
    edges: list[GraphEdge] = []
    findings: list[Finding] = []
    for i, c in enumerate(meta.characters):
        at = f"metadata.characters[{i}]"
        if c.role and c.id != PLAYER:
            edges.append(GraphEdge(pk, node_key("role", c.role), "has_role", at=at))
        template = _template_ref(c.id)
        if template:
            edges.append(GraphEdge(template, pk, "appears_in", at=at, data={"via": "cast"}))
    cast = _cast_names(program)
    for i, node in enumerate(program.nodes):
        at = f"nodes[{i}]"
        if isinstance(node, SceneNode):
            sk = scene_key(program, node)
            nodes.append(GraphNode(sk, node.label or sk[6:], rating=meta.content_rating, at=at))
            edges.append(GraphEdge(pk, sk, "contains", at=at, data={"node": node.id}))
            for role, value in node.roles.items():
                where = f"{at}.roles.{role}"
                template = _template_ref(value)
                if value == role:
                    edges.append(GraphEdge(sk, node_key("role", role), "has_role", at=where))
                elif template:
                    edges.append(GraphEdge(sk, template, "names", at=where, data={"role": role}))
        elif isinstance(node, ActionBlockNode):
            for block in dict.fromkeys([*node.blocks, *node.fallback_blocks]):
                edges.append(GraphEdge(pk, node_key("block", block), "uses_block", at=at))
        elif isinstance(node, DialogueNode) and _unknown_speaker(node.speaker, cast):
            msg = f"speaker {node.speaker!r} is not in the program's cast (metadata.characters)"
            findings.append(Finding("speaker_not_in_cast", f"{at}.speaker", msg))
    body = text or program.model_dump_json()
    return Fragment(source, "program", _hash(body), nodes, edges, findings)


# worlds --------------------------------------------------------------------------------------
class _WorldReader:
    """Resolves a world's NPC ids, role names and programs' cast to graph keys."""

    def __init__(self, world: World):
        self.world = world
        self.wid = world.id
        self.nodes: list[GraphNode] = []
        self.edges: list[GraphEdge] = []
        self.findings: list[Finding] = []

    def npc(self, npc_id: str) -> str:
        return node_key("npc", self.wid, npc_id)

    def holder(self, npc_id: str) -> str:
        """The instance playing the NPC, or the NPC itself when it plays no character."""
        npc = self.world.npcs.get(npc_id)
        if npc is not None and npc.character:
            return node_key("instance", self.wid, npc_id)
        return self.npc(npc_id)

    def edge(self, src: str, dst: str, kind: str, at: str, data: dict | None = None) -> None:
        self.edges.append(GraphEdge(src, dst, kind, self.wid, at, data))

    def read(self) -> None:
        w, wk = self.world, node_key("world", self.wid)
        self.nodes.append(GraphNode(wk, w.name, self.wid, w.content_rating))
        for i, c in enumerate(w.cast):
            key = node_key("template", c.id)
            self.nodes.append(GraphNode(key, c.name, self.wid, tags=tuple(c.tags), at=f"cast[{i}]"))
        for nid, npc in w.npcs.items():
            at = f"npcs.{nid}"
            tags = (npc.role,) if npc.role else ()
            self.nodes.append(GraphNode(self.npc(nid), npc.name, self.wid, tags=tags, at=at))
            if npc.character:
                inst = self.holder(nid)
                self.nodes.append(GraphNode(inst, npc.name, self.wid, tags=tags, at=at))
                template = node_key("template", npc.character)
                self.edge(template, inst, "instantiates", f"{at}.character")
                self.edge(inst, self.npc(nid), "plays", f"{at}.character")
            for other, axes in npc.relationships.items():
                if other != PLAYER:
                    where = f"{at}.relationships.{other}"
                    self.edge(self.holder(nid), self.holder(other), "related_to", where, axes)
        for role, nid in w.roles.items():
            self.edge(self.holder(nid), node_key("role", role), "fills_role", f"roles.{role}")
        for pid, program in w.program_map.items():
            self.edge(wk, node_key("program", pid), "runs", "programs")
            self.program(pid, program)

    def _cast_holder(self, role: str | None, ident: str) -> str | None:
        roles = self.world.roles
        if role in roles:
            return self.holder(roles[role])
        if ident in self.world.npcs:
            return self.holder(ident)
        if ident in roles:
            return self.holder(roles[ident])
        return None

    def program(self, pid: str, program: NarrativeProgram) -> None:
        base, pk = f"programs[{pid}]", node_key("program", pid)
        by_name: dict[str, str] = {}
        speaks: dict[str, list[str]] = defaultdict(list)
        for j, c in enumerate(program.metadata.characters):
            if c.id == PLAYER or _template_ref(c.id):
                continue
            at = f"{base}.metadata.characters[{j}]"
            if c.role and c.id not in (c.role, *self.world.roles):
                self.hardcoded(at, c.id, c.role)
            key = self._cast_holder(c.role, c.id) or self.npc(c.id)
            for name in (c.id, c.name, c.role):
                if name:
                    by_name.setdefault(name, key)
            speaks[key].append("cast")
        for j, node in enumerate(program.nodes):
            if isinstance(node, DialogueNode) and node.speaker in by_name:
                speaks[by_name[node.speaker]].append(node.id)
            if not isinstance(node, SceneNode):
                continue
            sk = scene_key(program, node)
            for role, value in node.roles.items():
                if value in (role, PLAYER) or _template_ref(value):
                    continue
                at = f"{base}.nodes[{j}].roles.{role}"
                if value in self.world.roles:
                    self.edge(sk, node_key("role", value), "has_role", at)
                else:
                    self.hardcoded(at, value, role)
                    self.edge(sk, self.npc(value), "names", at, {"role": role})
        for key, via in speaks.items():
            self.edge(key, pk, "appears_in", f"{base}.metadata.characters", {"via": via})

    def hardcoded(self, at: str, value: str, role: str) -> None:
        msg = (
            f"hard-codes {value!r} where the role {role!r} is expected; "
            f"bind the role in the world's roles instead"
        )
        self.findings.append(Finding("hardcoded_npc", at, msg))


def world_fragment(world: World, text: bytes | str = b"", name: str | None = None) -> Fragment:
    """A world's NPCs, instances, role bindings and relationships, and how the programs it
    links resolve in it (cast, speakers, hard-coded NPCs)."""
    reader = _WorldReader(world)
    reader.read()
    body = text or world.model_dump_json()
    programs = [p.model_dump_json() for p in world.program_map.values()]
    h = _hash(body, *programs)
    source = name or world.source
    return Fragment(source, "world", h, reader.nodes, reader.edges, reader.findings)


# intents -------------------------------------------------------------------------------------
def _refs(intent: Intent) -> list[tuple[str, str]]:
    """(target key, input field) of each character, scene or arc an intent names."""
    inputs = intent.inputs
    out: list[tuple[str, str]] = []
    if intent.scenario.startswith("scene:"):
        out.append((node_key("scene", intent.scenario[6:]), "scenario"))
    if inputs.get("chapter"):
        out.append((node_key("arc", str(inputs["chapter"])), "inputs.chapter"))
    names = [("inputs.character", inputs.get("character")), ("inputs.actor", inputs.get("actor"))]
    names += [
        (f"inputs.participants[{i}]", p) for i, p in enumerate(inputs.get("participants") or [])
    ]
    for at, value in names:
        if isinstance(value, str):
            ref = _template_ref(value)
            if ref is None and value.startswith("instance:"):
                ref = value
            if ref:
                out.append((ref, at))
    return out


def intent_fragment(intent: Intent, store: str) -> Fragment:
    """A generation (the intent) and the assets its applied effects produced, with ``for``
    edges to the characters (``character:X``), scene (scenario ``scene:S``) and arc
    (``chapter``) its inputs name."""
    gk = node_key("generation", intent.id)
    nodes = [GraphNode(gk, intent.kind, tags=(intent.status,), at=f"intents.{intent.id}")]
    refs = list(dict.fromkeys(_refs(intent)))
    edges = [GraphEdge(gk, ref, "for", at=f"intents.{intent.id}.{at}") for ref, at in refs]
    for e in intent.effects:
        if e.status != "applied" or (e.output is None and e.result_ref is None):
            continue
        ak = node_key("asset", f"{intent.id}.{e.index}")
        at = f"intent_effects.{intent.id}[{e.index}]"
        nodes.append(GraphNode(ak, e.result_ref or e.generation_id or e.kind, at=at))
        edges.append(GraphEdge(gk, ak, "produced", at=at))
        edges += [GraphEdge(ak, ref, "for", at=at) for ref, _ in refs]
    effects = [(e.index, e.kind, e.status, e.result_ref, e.output) for e in intent.effects]
    body = json.dumps([intent.scenario, intent.kind, intent.status, intent.inputs, effects])
    return Fragment(f"{store}#intent/{intent.id}", "intents", _hash(body), nodes, edges)


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def holds_intents(path: str | Path) -> bool:
    """Whether ``path`` is a SQLite file with an intents table (read-only look)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return False
    try:
        db = _read_only(path)
        try:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='intents'"
            ).fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise DataError([Problem(str(path), "", f"a SQLite intents store ({exc})")]) from None
    return found is not None


def intents_fragments(path: str | Path) -> Iterator[Fragment]:
    """One fragment per intent of the intents store at ``path`` (none when it has none).

    The store is read through a read-only connection (so a graph being written in the
    same file does not block it), after the intents layer checked its schema version.
    """
    if not holds_intents(path):
        return
    check_file(path)
    name = source_name(path)
    db = _read_only(Path(path))
    try:
        effects: dict[str, list[Effect]] = defaultdict(list)
        for row in db.execute(
            "SELECT intent_id, idx, kind, status, payload, result_ref, turn_no, generation_id, "
            "output, error, applied_at FROM intent_effects ORDER BY intent_id, idx"
        ):
            effects[row[0]].append(Effect(*row[:4], json.loads(row[4]), *row[5:]))
        rows = db.execute(
            "SELECT id, scenario, session_id, kind, status, inputs, workflow_id, attempts, "
            "error, created_at, updated_at FROM intents ORDER BY created_at, id"
        ).fetchall()
    finally:
        db.close()
    for row in rows:
        intent = Intent(*row[:5], json.loads(row[5]), *row[6:], effects=tuple(effects[row[0]]))
        yield intent_fragment(intent, name)


def source_name(path: str | Path) -> str:
    """How a source file is named in the graph: relative to the working folder when inside
    it, else absolute (so the same file always has the same name)."""
    full = Path(path).resolve()
    try:
        return str(full.relative_to(Path.cwd()))
    except ValueError:
        return str(full)


# collecting ----------------------------------------------------------------------------------
def _files(paths: Iterable[str | Path]) -> Iterator[Path]:
    for p in map(Path, paths):
        if not p.exists():
            raise DataError([Problem(str(p), "", "an existing file or folder")])
        if p.is_dir() and not (p / "world.yaml").exists():
            suffixes = (*ARCHIVE_SUFFIXES, *_STORE_SUFFIXES)
            yield from sorted(f for f in p.rglob("*") if f.suffix.lower() in suffixes)
        else:
            yield p


def collect_fragments(paths: Iterable[str | Path], *, blocks: bool = True) -> Iterator[Fragment]:
    """Read every source under ``paths``: world folders or files (with the programs they
    link), programs, archives, action-block libraries and intents stores (``.db``).

    Files of other kinds are skipped. ``blocks`` adds the packaged action-block library
    unless a library is among the paths. Each source is read once (by resolved path).
    """
    seen: set[Path] = set()
    library = False
    for path in _files(paths):
        if path.resolve() in seen:
            continue
        if path.suffix.lower() in _STORE_SUFFIXES:
            seen.add(path.resolve())
            yield from intents_fragments(path)
            continue
        kind = "world" if path.is_dir() else detect_kind(path)
        text = (path / "world.yaml" if path.is_dir() else path).read_bytes()
        if kind == "world":
            world = load_world(path)
            seen.add(path.resolve())
            yield world_fragment(world, text, source_name(world.source))
            folder = Path(world.source).parent
            for rel in world.programs:
                program_path = (folder / rel).resolve()
                if program_path not in seen:
                    seen.add(program_path)
                    yield program_fragment(
                        load_program(program_path),
                        source_name(program_path),
                        program_path.read_bytes(),
                    )
            continue
        seen.add(path.resolve())
        if kind == "program":
            yield program_fragment(load_program(path), source_name(path), text)
        elif kind == "archive":
            yield archive_fragment(load_bundle(path), text, source_name(path))
        elif kind == "action-blocks":
            library = True
            yield blocks_fragment(load_block_library(path), source_name(path), text)
    if blocks and not library:
        packaged = packaged_path("action-blocks.yaml")
        yield blocks_fragment(
            load_block_library(packaged), "storylab:action-blocks.yaml", packaged.read_bytes()
        )
