"""The intents layer's tables, their schema version, and the check made before opening a file.

SQLite keeps one ``user_version`` per file, and one file holds several storylab layers
(runtime sessions, intents, the graph), so each layer records its own version as a row of
``storylab_schema(layer, version)``. Before anything is written, :func:`check_file` reads
the file (read-only) and refuses one that is not SQLite, holds tables but no storylab ones,
or records a newer intents schema than this code knows.

The tables are laid out for few written pages per commit: ``intents``, ``intent_effects``,
``intent_runs`` and ``intent_turns`` are keyed by their primary keys (``WITHOUT ROWID``: no
separate table b-tree beside the key's index), ids grow with time
(:func:`~storylab.intents.store.new_id`, so a batch's rows share pages), event numbers are
plain row ids (no ``AUTOINCREMENT`` counter to update; events are never deleted, so
``seq`` still only grows), pending intents are found through the partial unique index
alone and running runs through a partial index that holds only them. Files written before
this layout (same columns) open and work unchanged, both ways.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["LAYER", "SCHEMA_VERSION", "StoreFileError", "check_file", "create_tables"]

#: The row this layer owns in ``storylab_schema``.
LAYER = "intents"
#: Bumped whenever the tables below change shape.
SCHEMA_VERSION = 1

_TABLES = """
CREATE TABLE IF NOT EXISTS storylab_schema (
    layer TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS intents (
    id TEXT PRIMARY KEY, scenario TEXT NOT NULL, session_id TEXT NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'finished', 'failed', 'cancelled')),
    inputs TEXT NOT NULL, workflow_id TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL, error TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS intents_unique_pending_per_scenario
    ON intents (scenario) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS intent_effects (
    intent_id TEXT NOT NULL REFERENCES intents (id), idx INTEGER NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'applied', 'failed')),
    payload TEXT NOT NULL, result_ref TEXT, turn_no INTEGER, generation_id TEXT, output TEXT,
    error TEXT, applied_at REAL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (intent_id, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS intent_runs (
    id TEXT PRIMARY KEY, intent_id TEXT NOT NULL REFERENCES intents (id),
    attempt INTEGER NOT NULL, owner TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('running', 'succeeded', 'failed', 'expired', 'cancelled', 'crashed')),
    started_at REAL NOT NULL, deadline_at REAL NOT NULL, finished_at REAL, error TEXT)
    WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS intent_runs_running ON intent_runs (intent_id) WHERE status = 'running';
CREATE TABLE IF NOT EXISTS intent_supervisors (
    id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, started_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL, stopped_at REAL);
CREATE TABLE IF NOT EXISTS intent_events (
    seq INTEGER PRIMARY KEY, intent_id TEXT NOT NULL, kind TEXT NOT NULL,
    data TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS intent_events_by_intent ON intent_events (intent_id, seq);
CREATE TABLE IF NOT EXISTS intent_turns (
    session_id TEXT NOT NULL, turn_no INTEGER NOT NULL, participant TEXT NOT NULL,
    layer TEXT NOT NULL, content TEXT NOT NULL, chapter TEXT, intent_id TEXT NOT NULL,
    effect_idx INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (session_id, turn_no),
    UNIQUE (intent_id, effect_idx)) WITHOUT ROWID;
"""

#: Tables whose presence marks a file as storylab's (a runtime-only session file counts).
_STORYLAB_TABLES = {"storylab_schema", "sessions"}


class StoreFileError(ValueError):
    """A file the intents store will not open (foreign, damaged or newer); names the path."""


def check_file(path: str | Path) -> None:
    """Refuse, writing nothing, a file that is not a storylab store this code can open.

    A missing or empty file is fine (it will be created). Raises :class:`StoreFileError`
    naming ``path`` otherwise.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreFileError(f"{path}: cannot open as SQLite ({exc})") from None
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        found = None
        if "storylab_schema" in tables:
            row = db.execute("SELECT version FROM storylab_schema WHERE layer=?", (LAYER,))
            found = row.fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreFileError(f"{path}: not a SQLite database ({exc})") from None
    finally:
        db.close()
    if tables and not tables & _STORYLAB_TABLES:
        raise StoreFileError(
            f"{path}: not a storylab store (its tables are {', '.join(sorted(tables))}); "
            "expected a storylab_schema or sessions table"
        )
    if found is not None and found[0] > SCHEMA_VERSION:
        raise StoreFileError(
            f"{path}: intents schema version {found[0]} is newer than this storylab's "
            f"({SCHEMA_VERSION}); upgrade storylab to open it"
        )


def create_tables(db: sqlite3.Connection) -> None:
    """Create the layer's tables when missing and record its schema version (inside the
    caller's transaction: ``executescript`` would commit it)."""
    for statement in _TABLES.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute(
        "INSERT INTO storylab_schema (layer, version) VALUES (?, ?) ON CONFLICT (layer) DO NOTHING",
        (LAYER, SCHEMA_VERSION),
    )
