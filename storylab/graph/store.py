"""The identity graph in SQLite: nodes, typed edges, sources with content hashes, findings.

The graph lives in its own ``graph_*`` tables, so it can share one file with sessions and
intents; its schema version is the ``graph`` row of ``storylab_schema`` (the table each
layer of a shared file records its version in). Each source (a file, or a part of an
intents store) is ingested as one :class:`~storylab.graph.model.Fragment` in one
transaction: a source whose content hash is unchanged is skipped, a changed one has its
old nodes, edges and findings retracted and the new ones written, and a failure leaves
the stored graph as it was.

An edge may point at a key no source defines (yet): the key is then kept as a *stub*
node (``source IS NULL``), and :mod:`~storylab.graph.checks` reports it as a dangling
reference. Roles and arcs are names, never defined (stubs by design, never dangling); a
scene is defined by every program that launches it (:data:`SHARED_KINDS`: no "defined
twice" for those, and the scene stays defined while any program still contains it).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from storylab._data import DataError, Problem
from storylab.graph.checks import ChecksMixin
from storylab.graph.export import to_networkx, write_graphml
from storylab.graph.model import EDGE_KINDS, Fragment, GraphNode, key_kind
from storylab.graph.queries import QueriesMixin

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

__all__ = ["LAYER", "SCHEMA_VERSION", "SHARED_KINDS", "CharacterGraph", "IngestReport"]

#: The row this layer owns in ``storylab_schema`` (one version per layer of a shared file).
LAYER = "graph"
#: Version of the ``graph_*`` tables this storylab reads and writes.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS storylab_schema (layer TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS graph_sources (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS graph_nodes (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, source INTEGER,
    world TEXT, label TEXT, rating TEXT, tags TEXT, at TEXT);
CREATE INDEX IF NOT EXISTS graph_nodes_source ON graph_nodes(source);
CREATE INDEX IF NOT EXISTS graph_nodes_kind ON graph_nodes(kind, world);
CREATE INDEX IF NOT EXISTS graph_nodes_stub ON graph_nodes(kind)
    WHERE source IS NULL AND kind NOT IN ('role', 'arc');
CREATE TABLE IF NOT EXISTS graph_edges (
    src INTEGER NOT NULL, dst INTEGER NOT NULL, kind TEXT NOT NULL, skind TEXT NOT NULL,
    dkind TEXT NOT NULL, source INTEGER NOT NULL, world TEXT, at TEXT, data TEXT);
CREATE INDEX IF NOT EXISTS graph_edges_src ON graph_edges(src, kind, world, dkind, dst);
CREATE INDEX IF NOT EXISTS graph_edges_dst ON graph_edges(dst, kind, world, skind, src);
CREATE INDEX IF NOT EXISTS graph_edges_kind
    ON graph_edges(kind, skind, dkind, src, world, dst);
CREATE INDEX IF NOT EXISTS graph_edges_source ON graph_edges(source);
CREATE TABLE IF NOT EXISTS graph_findings (
    source INTEGER NOT NULL, check_name TEXT NOT NULL, at TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS graph_findings_source ON graph_findings(source);
CREATE TABLE IF NOT EXISTS graph_duplicates (
    key TEXT NOT NULL, source INTEGER NOT NULL, world TEXT, label TEXT, rating TEXT,
    tags TEXT, at TEXT);
CREATE INDEX IF NOT EXISTS graph_duplicates_key ON graph_duplicates(key);
CREATE INDEX IF NOT EXISTS graph_duplicates_source ON graph_duplicates(source);
"""

_UPSERT_NODE = """
INSERT INTO graph_nodes (key, kind, source, world, label, rating, tags, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(key) DO UPDATE SET source = excluded.source, world = excluded.world,
    label = excluded.label, rating = excluded.rating, tags = excluded.tags, at = excluded.at
WHERE graph_nodes.source IS NULL
"""
_INSERT_EDGE = """
INSERT INTO graph_edges (src, dst, kind, skind, dkind, source, world, at, data)
SELECT a.id, b.id, ?, ?, ?, ?, ?, ?, ? FROM graph_nodes a, graph_nodes b
WHERE a.key = ? AND b.key = ?
"""
#: Fragments written per transaction (each in its own savepoint).
_BATCH = 500
#: Node kinds any number of sources may define (a scene, by every program launching it).
SHARED_KINDS = frozenset({"scene"})


def _tags(tags: tuple[str, ...]) -> str | None:
    """Tags as stored: ``,a,b,`` (so a tag filter is one ``LIKE``), or NULL."""
    return f",{','.join(tags)}," if tags else None


class IngestReport(dict):
    """Counts of one ingest: ``added``, ``replaced``, ``unchanged`` and ``removed`` sources."""


class CharacterGraph(QueriesMixin, ChecksMixin):
    """The character identity graph, stored in a SQLite file (shared with sessions and
    intents when given theirs).

    Parameters
    ----------
    path : str or Path
        The database file (created when missing); ``":memory:"`` for a throwaway graph.
    timeout : float
        Seconds to wait for another writer's lock.
    read_only : bool
        Open an existing file for queries and checks only: nothing is created or written
        (no tables, no schema row, no change of journal mode), so the file's bytes stay as
        they were; :meth:`ingest` and :meth:`remove_source` then raise ``ValueError``.

    Raises
    ------
    DataError
        When the file is not a SQLite database, holds graph tables of another schema
        version, or (read-only) is missing or holds no graph.
    """

    def __init__(
        self, path: str | Path = ":memory:", *, timeout: float = 10.0, read_only: bool = False
    ):
        self.path = str(path)
        self.read_only = read_only
        if read_only and self.path == ":memory:":
            raise ValueError("a read-only graph needs a database file, not ':memory:'")
        try:
            self._db = self._connect(timeout)
        except sqlite3.DatabaseError as exc:
            raise DataError([Problem(self.path, "", f"a SQLite database ({exc})")]) from None
        self._db.execute("CREATE TEMP TABLE graph_candidates (id INTEGER PRIMARY KEY)")
        row = self._version()
        if row is None and read_only:
            self._db.close()
            expected = "graph tables (build them with 'graph ingest')"
            raise DataError([Problem(self.path, "storylab_schema.graph", expected)])
        if row is None:
            self._db.execute("INSERT INTO storylab_schema VALUES (?, ?)", (LAYER, SCHEMA_VERSION))
        elif row[0] != SCHEMA_VERSION:
            self._db.close()
            expected = f"graph schema version {SCHEMA_VERSION} (got {row[0]})"
            raise DataError([Problem(self.path, "storylab_schema.graph", expected)])

    def _connect(self, timeout: float) -> sqlite3.Connection:
        """The connection: read-only (``mode=ro``, nothing created or written), or read-write
        in WAL mode with the graph tables created when missing."""
        if self.read_only:
            uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
            db = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
        else:
            db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            if self.path != ":memory:" and not self.read_only:
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA cache_size=-65536")  # 64 MB of page cache
            db.execute("PRAGMA mmap_size=268435456")  # and 256 MB read through mmap
            if not self.read_only:
                db.executescript(_SCHEMA)
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # is it SQLite at all?
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _version(self) -> tuple[int] | None:
        """The graph row of ``storylab_schema`` (``None`` when the file has no graph)."""
        try:
            return self._db.execute(
                "SELECT version FROM storylab_schema WHERE layer = ?", (LAYER,)
            ).fetchone()
        except sqlite3.OperationalError:  # no storylab_schema table: only when read-only
            return None

    def __enter__(self) -> CharacterGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def to_networkx(self, keys: Iterable[str] | None = None) -> nx.MultiDiGraph:
        """The graph (or the part among ``keys``) for networkx; see
        :func:`storylab.graph.to_networkx`."""
        return to_networkx(self, keys)

    def write_graphml(self, path: str | Path) -> Path:
        """Write the graph as GraphML; see :func:`storylab.graph.write_graphml`."""
        return write_graphml(self, path)

    # -- ingest ---------------------------------------------------------------------------
    def ingest(
        self, fragments: Iterable[Fragment], *, prune: bool = False, progress: bool = False
    ) -> IngestReport:
        """Store each source's fragment, skipping sources whose content hash is unchanged.

        With ``prune``, sources stored earlier but absent from ``fragments`` are removed.
        Each fragment is written whole or not at all (in its own savepoint): an invalid
        one (an unknown edge kind or node kind) raises before anything of it is written,
        and a failure while writing one undoes it; the fragments before it stay.
        """
        self._writable()
        report = IngestReport(added=0, replaced=0, unchanged=0, removed=0)
        seen: set[str] = set()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for n, fragment in enumerate(
                tqdm(fragments, desc="ingest", unit="source", disable=not progress), 1
            ):
                seen.add(fragment.name)
                report[self._ingest_one(fragment)] += 1
                if n % _BATCH == 0:
                    db.execute("COMMIT")
                    db.execute("BEGIN IMMEDIATE")
            if prune:
                for name in sorted(set(self.sources()["name"]) - seen):
                    self._remove(name)
                    report["removed"] += 1
        finally:
            self._collect_stubs()
            db.execute("COMMIT")  # what was ingested before a failure stays
        return report

    def sources(self) -> pd.DataFrame:
        """The stored sources: ``name``, ``kind``, ``hash``, with their node and edge counts."""
        import pandas as pd

        rows = self._db.execute(
            """SELECT s.name, s.kind, s.hash,
                 (SELECT COUNT(*) FROM graph_nodes n WHERE n.source = s.id),
                 (SELECT COUNT(*) FROM graph_edges e WHERE e.source = s.id)
               FROM graph_sources s ORDER BY s.name"""
        ).fetchall()
        return pd.DataFrame(rows, columns=["name", "kind", "hash", "nodes", "edges"])

    def remove_source(self, name: str) -> None:
        """Retract everything the source ``name`` contributed (nothing when unknown)."""
        self._writable()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            self._remove(name)
            self._collect_stubs()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _writable(self) -> None:
        if self.read_only:
            raise ValueError(f"{self.path}: the graph is open read-only; open it without read_only")

    def _remove(self, name: str) -> None:
        row = self._db.execute("SELECT id FROM graph_sources WHERE name = ?", (name,)).fetchone()
        if row is not None:
            self._retract(row[0])
            self._db.execute("DELETE FROM graph_sources WHERE id = ?", (row[0],))

    def _ingest_one(self, fragment: Fragment) -> str:
        _validate(fragment)
        db = self._db
        row = db.execute(
            "SELECT id, hash FROM graph_sources WHERE name = ?", (fragment.name,)
        ).fetchone()
        if row is not None and row[1] == fragment.hash:
            return "unchanged"
        db.execute("SAVEPOINT graph_fragment")
        try:
            if row is None:
                sid = db.execute(
                    "INSERT INTO graph_sources (name, kind, hash) VALUES (?, ?, ?)",
                    (fragment.name, fragment.kind, fragment.hash),
                ).lastrowid
            else:
                sid = row[0]
                self._retract(sid)
                db.execute(
                    "UPDATE graph_sources SET kind = ?, hash = ? WHERE id = ?",
                    (fragment.kind, fragment.hash, sid),
                )
            self._write(sid, fragment)
        except BaseException:
            db.execute("ROLLBACK TO graph_fragment")
            db.execute("RELEASE graph_fragment")
            raise
        db.execute("RELEASE graph_fragment")
        return "added" if row is None else "replaced"

    def _write(self, sid: int, fragment: Fragment) -> None:
        db = self._db
        rows = [
            (n.key, key_kind(n.key), sid, n.world, n.label, n.rating, _tags(n.tags), n.at)
            for n in fragment.nodes
        ]
        before = db.total_changes
        db.executemany(_UPSERT_NODE, rows)
        if db.total_changes - before != len(rows):
            self._record_duplicates(sid, fragment.nodes)
        endpoints = {e.src for e in fragment.edges} | {e.dst for e in fragment.edges}
        db.executemany(
            "INSERT OR IGNORE INTO graph_nodes (key, kind) VALUES (?, ?)",
            [(k, key_kind(k)) for k in endpoints],
        )
        db.executemany(
            _INSERT_EDGE,
            [
                (
                    e.kind,
                    key_kind(e.src),
                    key_kind(e.dst),
                    sid,
                    e.world,
                    e.at,
                    None if e.data is None else json.dumps(e.data, sort_keys=True),
                    e.src,
                    e.dst,
                )
                for e in fragment.edges
            ],
        )
        db.executemany(
            "INSERT INTO graph_findings VALUES (?, ?, ?, ?)",
            [(sid, f.check, f.at, f.message) for f in fragment.findings],
        )

    def _record_duplicates(self, sid: int, nodes: list[GraphNode]) -> None:
        """Keep the definitions that lost to an earlier one, for the check and for a
        later promotion when the winner is retracted."""
        owner = {
            n.key: self._db.execute(
                "SELECT source FROM graph_nodes WHERE key = ?", (n.key,)
            ).fetchone()[0]
            for n in nodes
        }
        written: Counter[str] = Counter()
        for n in nodes:
            written[n.key] += 1
            if key_kind(n.key) in SHARED_KINDS:
                continue
            if owner.get(n.key) != sid or written[n.key] > 1:
                self._db.execute(
                    "INSERT INTO graph_duplicates VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (n.key, sid, n.world, n.label, n.rating, _tags(n.tags), n.at),
                )

    def _retract(self, sid: int) -> None:
        db = self._db
        db.execute(
            """INSERT OR IGNORE INTO temp.graph_candidates
               SELECT src FROM graph_edges WHERE source = ?1
               UNION SELECT dst FROM graph_edges WHERE source = ?1
               UNION SELECT id FROM graph_nodes WHERE source = ?1""",
            (sid,),
        )
        db.execute("DELETE FROM graph_edges WHERE source = ?", (sid,))
        db.execute("DELETE FROM graph_findings WHERE source = ?", (sid,))
        db.execute("DELETE FROM graph_duplicates WHERE source = ?", (sid,))
        db.execute(
            """UPDATE graph_nodes SET source = NULL, world = NULL, label = NULL, rating = NULL,
               tags = NULL, at = NULL WHERE source = ?""",
            (sid,),
        )
        # a shared node another source still states stays defined by it
        db.execute(
            """UPDATE graph_nodes SET source = (
                   SELECT e.source FROM graph_edges e
                   WHERE e.dst = graph_nodes.id AND e.kind = 'contains' LIMIT 1)
               WHERE id IN (SELECT id FROM temp.graph_candidates)
                 AND kind = 'scene' AND source IS NULL"""
        )
        # a definition that lost to the retracted one takes its place
        promoted = db.execute(
            """SELECT d.rowid, d.key, d.source, d.world, d.label, d.rating, d.tags, d.at
               FROM graph_duplicates d JOIN graph_nodes n ON n.key = d.key
               WHERE n.source IS NULL ORDER BY d.rowid"""
        ).fetchall()
        for rowid, key, *values in promoted:
            changed = db.execute(
                """UPDATE graph_nodes SET source = ?, world = ?, label = ?, rating = ?,
                   tags = ?, at = ? WHERE key = ? AND source IS NULL""",
                (*values, key),
            ).rowcount
            if changed:
                db.execute("DELETE FROM graph_duplicates WHERE rowid = ?", (rowid,))

    def _collect_stubs(self) -> None:
        """Drop the stub nodes no edge refers to any more, among those a retraction
        touched."""
        self._db.execute(
            """DELETE FROM graph_nodes WHERE id IN (SELECT id FROM temp.graph_candidates)
               AND source IS NULL
               AND NOT EXISTS (SELECT 1 FROM graph_edges WHERE src = graph_nodes.id)
               AND NOT EXISTS (SELECT 1 FROM graph_edges WHERE dst = graph_nodes.id)"""
        )
        self._db.execute("DELETE FROM temp.graph_candidates")


def _validate(fragment: Fragment) -> None:
    """Refuse a fragment with unknown node or edge kinds, naming the first few."""
    problems = []
    for n in fragment.nodes:
        try:
            key_kind(n.key)
        except ValueError as exc:
            problems.append(Problem(fragment.name, n.at or n.key, str(exc)))
    for e in fragment.edges:
        if e.kind not in EDGE_KINDS:
            problems.append(
                Problem(fragment.name, e.at, f"an edge kind in {', '.join(EDGE_KINDS)}")
            )
        for k in (e.src, e.dst):
            try:
                key_kind(k)
            except ValueError as exc:
                problems.append(Problem(fragment.name, e.at or k, str(exc)))
    if problems:
        raise DataError(problems[:20])
