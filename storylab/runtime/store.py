"""Sessions in SQLite: facts, relationships, NPC components, versions and an event log.

Every write is one transaction that checks the session's version first (optimistic
locking): a writer holding a stale copy gets :class:`ConflictError` and nothing is
written, so no update is ever lost. Each committed change appends an event (the engine
call and its arguments) from which :meth:`SessionStore.replay` rebuilds the session. The
database runs in WAL mode, so a process killed mid-step leaves the last committed state
intact: an unfinished transaction is simply not there.

Histories and visit counts are kept apart, a row per entry and per visited node: an
engine call through the store writes the entries it made and the counts they changed,
and nothing else that grows with the playthrough; the store also keeps the session it
last committed. So a step costs about the same at step 10 and at step 10,000 (after
another writer's commit the session is loaded afresh).

>>> import tempfile, os
>>> from storylab.runtime import NarrativeEngine, NarrativeProgram, Session
>>> prog = NarrativeProgram.model_validate({"id": "p", "entry": "c", "nodes": [
...     {"id": "c", "type": "choice", "choices": [{"id": "ok", "text": "OK"}]}]})
>>> engine = NarrativeEngine([prog])
>>> with SessionStore(os.path.join(tempfile.mkdtemp(), "s.db")) as store:
...     store.create(Session("s1"))
...     _ = store.start(engine, "s1", "npc", "p")
...     store.step(engine, "s1", "npc", "ok").status, store.load("s1").version
('finished', 3)
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storylab._data import DataError, Problem, UnknownNameError
from storylab.runtime.history import History
from storylab.runtime.persistence import require_json_numbers
from storylab.runtime.results import NarrativeStepResult
from storylab.runtime.state import SESSION_FORMAT, NarrativeStateComponent, Session

if TYPE_CHECKING:
    from storylab.runtime.engine import NarrativeEngine

__all__ = ["ConflictError", "Event", "SessionStore", "immediate_transaction"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, version INTEGER NOT NULL, world_time REAL NOT NULL, facts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS flags (
    session_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (session_id, name));
CREATE TABLE IF NOT EXISTS relationships (
    session_id TEXT NOT NULL, npc TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (session_id, npc, field));
CREATE TABLE IF NOT EXISTS components (
    session_id TEXT NOT NULL, npc TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (session_id, npc));
CREATE TABLE IF NOT EXISTS history (
    session_id TEXT NOT NULL, npc TEXT NOT NULL, seq INTEGER NOT NULL, program TEXT NOT NULL,
    node TEXT NOT NULL, time REAL NOT NULL, via TEXT NOT NULL,
    PRIMARY KEY (session_id, npc, seq));
CREATE TABLE IF NOT EXISTS visits (
    session_id TEXT NOT NULL, npc TEXT NOT NULL, program TEXT NOT NULL, node TEXT NOT NULL,
    count INTEGER NOT NULL, PRIMARY KEY (session_id, npc, program, node));
CREATE TABLE IF NOT EXISTS events (
    session_id TEXT NOT NULL, seq INTEGER NOT NULL, op TEXT NOT NULL, args TEXT NOT NULL,
    PRIMARY KEY (session_id, seq));
"""


def _open(path: str, timeout: float) -> sqlite3.Connection:
    """Connect to ``path``, refusing a file that is not a session store (names the path)."""
    if not path:
        raise DataError([Problem("(empty path)", "", "the path of a session store file")])
    if Path(path).is_dir():
        raise DataError([Problem(path, "", "a session store file, got a directory")])
    db = None
    try:
        db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "sessions" not in tables:  # another tool's file (a sweep cache, ...)
            shown = ", ".join(sorted(tables))
            raise DataError([Problem(path, "", f"a session store (this file holds {shown})")])
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
    except (sqlite3.Error, DataError) as exc:
        if db is not None:
            db.close()
        if isinstance(exc, DataError):
            raise
        raise DataError([Problem(path, "", f"a session store SQLite can open ({exc})")]) from None
    return db


@contextmanager
def immediate_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction on ``db`` (an autocommit connection), taking the write lock
    at once; committed when the block ends, rolled back when it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class ConflictError(RuntimeError):
    """A write based on a stale version of a session; nothing was written."""


@dataclass(frozen=True, slots=True)
class Event:
    """One committed change: ``seq`` equals the session version it produced."""

    session_id: str
    seq: int
    op: str
    args: dict[str, Any]


def _dumps(value: Any, where: str) -> str:
    """JSON text of ``value`` (at ``where`` in the session) for a column; refuses what
    :func:`~storylab.runtime.persistence.save_session` refuses."""
    require_json_numbers(value, where)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class SessionStore:
    """A SQLite file of sessions.

    Parameters
    ----------
    path : str or Path
        The database file (created when missing). A file that SQLite cannot open, or an
        SQLite file of another tool (tables but no ``sessions`` table, e.g. a sweep cache),
        raises :class:`~storylab.DataError` naming the path; nothing is written to it.
    timeout : float
        Seconds to wait for another writer's lock before failing.
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0):
        self.path = str(path)
        self._db = _open(self.path, timeout)
        self._committed: dict[str, Session] = {}  # what this store last committed, per id

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # -- reading --------------------------------------------------------------------------
    def ids(self) -> list[str]:
        """Stored session ids, sorted."""
        return [r[0] for r in self._db.execute("SELECT id FROM sessions ORDER BY id")]

    def version(self, session_id: str) -> int:
        """The stored version of a session."""
        row = self._db.execute("SELECT version FROM sessions WHERE id=?", (session_id,)).fetchone()
        if row is None:
            raise UnknownNameError("session", session_id, self.ids())
        return int(row[0])

    def characters(self, session_id: str) -> list[str]:
        """The characters of a stored session (with relationship fields or a narrative
        component), sorted: ``sorted(set(s.relationships) | set(s.components))`` of its
        :meth:`load`, without loading it."""
        rows = self._db.execute(
            "SELECT npc FROM relationships WHERE session_id=? UNION "
            "SELECT npc FROM components WHERE session_id=? ORDER BY npc",
            (session_id, session_id),
        ).fetchall()
        if not rows:
            self.version(session_id)  # names an unknown session
        return [r[0] for r in rows]

    def load(self, session_id: str) -> Session:
        """The last committed state of a session (one consistent read)."""
        db = self._db
        outer = db.in_transaction  # inside transaction(): already one consistent read
        if not outer:
            db.execute("BEGIN")
        try:
            row = db.execute(
                "SELECT version, world_time, facts FROM sessions WHERE id=?", (session_id,)
            ).fetchone()
            if row is None:
                raise UnknownNameError("session", session_id, self.ids())
            flags = db.execute("SELECT name, value FROM flags WHERE session_id=?", (session_id,))
            flag_rows = flags.fetchall()
            rels = db.execute(
                "SELECT npc, field, value FROM relationships WHERE session_id=?", (session_id,)
            ).fetchall()
            comps = db.execute(
                "SELECT npc, data FROM components WHERE session_id=?", (session_id,)
            ).fetchall()
            entries = db.execute(
                "SELECT npc, program, node, time, via FROM history WHERE session_id=? "
                "ORDER BY npc, seq",
                (session_id,),
            ).fetchall()
            counts = db.execute(  # in the order the nodes were first visited
                "SELECT npc, program, node, count FROM visits WHERE session_id=? ORDER BY rowid",
                (session_id,),
            ).fetchall()
        finally:
            if not outer:
                db.execute("COMMIT")
        facts = json.loads(row[2])
        relationships: dict[str, dict[str, Any]] = {}
        for npc, field, value in rels:
            relationships.setdefault(npc, {})[field] = json.loads(value)
        session = Session.from_dict(
            {
                "format": SESSION_FORMAT,
                "id": session_id,
                "version": row[0],
                "world_time": row[1],
                "flags": {name: json.loads(v) for name, v in flag_rows},
                "relationships": relationships,
                **facts,
                "components": {},
            }
        )
        histories = {npc: [e[1:] for e in group] for npc, group in groupby(entries, itemgetter(0))}
        visits: dict[str, dict[str, dict[str, int]]] = {}
        for npc, program, node, count in counts:
            visits.setdefault(npc, {}).setdefault(program, {})[node] = count
        for npc, data in comps:
            fields = json.loads(data)
            apart = None  # a store written before these tables keeps both inline
            if "history" not in fields:
                mine = visits.get(npc, {})
                apart = (
                    History(histories.get(npc, ())),
                    {program: mine.get(program, {}) for program in fields["visit_programs"]},
                )
            session.components[npc] = NarrativeStateComponent.from_dict(
                fields, apart, where=f"components.{npc}"
            )
        return session

    def events(self, session_id: str) -> list[Event]:
        """Every committed change of a session, oldest first."""
        rows = self._db.execute(
            "SELECT seq, op, args FROM events WHERE session_id=? ORDER BY seq", (session_id,)
        )
        return [Event(session_id, seq, op, json.loads(args)) for seq, op, args in rows]

    # -- writing --------------------------------------------------------------------------
    @contextmanager
    def transaction(
        self, *, also: Callable[[sqlite3.Connection], None] | None = None
    ) -> Iterator[SessionStore]:
        """Commit the writes made inside the block together, in one transaction.

        A write inside that raises (:class:`ConflictError`, or an exception of a ``save``'s
        ``also``) rolls back alone and the others go on; an exception leaving the block
        rolls back them all. Nothing is durable before the block ends. ``also``, when
        given, is called with the store's connection when the block ends, before the
        commit: what it writes commits with the block, and an exception it raises rolls
        the whole block back.
        """
        with immediate_transaction(self._db):
            yield self
            if also is not None:
                also(self._db)

    def create(self, session: Session) -> None:
        """Store a new session at version 1 (its first event holds the whole state)."""
        session.version = 0
        self._write(session, "create", {"state": session.to_dict()}, new=True)
        self._committed.pop(session.id, None)

    def save(
        self,
        session: Session,
        op: str = "replace",
        args: dict[str, Any] | None = None,
        *,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> int:
        """Commit ``session`` if nobody wrote since it was loaded; return the new version.

        ``op`` and ``args`` are logged; the default ``replace`` logs the whole state, which
        is right for changes made outside the engine. ``also``, when given, is called with
        the store's connection inside the same transaction, after the version check: what
        it writes commits with the session or not at all, and an exception it raises
        rolls both back (a layer above keeps its bookkeeping there; see ``docs/intents.md``).

        Raises
        ------
        ConflictError
            When the stored version is not ``session.version``.
        """
        if op == "replace":
            args = {"state": {**session.to_dict(), "version": session.version + 1}}
        self._committed.pop(session.id, None)  # the caller keeps changing its copy
        return self._write(session, op, args or {}, new=False, also=also)

    def _write(
        self,
        session: Session,
        op: str,
        args: dict[str, Any],
        *,
        new: bool,
        appended: bool = False,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> int:
        """Commit ``session``; ``appended``: its histories only grew since the stored
        version (an engine call on it), so only their new entries are written."""
        db, sid = self._db, session.id
        nested = db.in_transaction  # inside transaction(): a savepoint of it
        db.execute("SAVEPOINT session_write" if nested else "BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT version FROM sessions WHERE id=?", (sid,)).fetchone()
            if new and row is not None:
                raise ConflictError(f"session {sid!r} already exists")
            if not new and row is None:
                raise UnknownNameError("session", sid, self.ids())
            stored = 0 if row is None else int(row[0])
            if stored != session.version:
                raise ConflictError(
                    f"session {sid!r} is at version {stored}, this copy at {session.version}; "
                    "reload and try again"
                )
            version = stored + 1
            facts = session.facts_dict()
            facts.pop("flags"), facts.pop("relationships")
            world_time = facts.pop("world_time")
            require_json_numbers(world_time, "world_time")
            db.execute(
                "INSERT OR REPLACE INTO sessions (id, version, world_time, facts) VALUES (?,?,?,?)",
                (sid, version, world_time, _dumps(facts, "")),
            )
            for table in ("flags", "relationships", "components"):
                db.execute(f"DELETE FROM {table} WHERE session_id=?", (sid,))
            if not appended:
                db.execute("DELETE FROM history WHERE session_id=?", (sid,))
                db.execute("DELETE FROM visits WHERE session_id=?", (sid,))
            db.executemany(
                "INSERT INTO flags VALUES (?,?,?)",
                [(sid, k, _dumps(v, f"flags.{k}")) for k, v in session.flags.items()],
            )
            db.executemany(
                "INSERT INTO relationships VALUES (?,?,?,?)",
                [
                    (sid, npc, f, _dumps(v, f"relationships.{npc}.{f}"))
                    for npc, row_ in session.relationships.items()
                    for f, v in row_.items()
                ],
            )
            db.executemany(
                "INSERT INTO components VALUES (?,?,?)",
                [
                    (
                        sid,
                        npc,
                        _dumps(
                            {**c.to_dict(apart=True), "visit_programs": list(c.visits)},
                            f"components.{npc}",
                        ),
                    )
                    for npc, c in session.components.items()
                ],
            )
            for npc, comp in session.components.items():
                self._write_growing(sid, npc, comp, appended)
            db.execute(
                "INSERT INTO events VALUES (?,?,?,?)", (sid, version, op, _dumps(args, "event"))
            )
            if also is not None:
                also(db)
            db.execute("RELEASE session_write" if nested else "COMMIT")
        except BaseException:
            db.execute("ROLLBACK TO session_write" if nested else "ROLLBACK")
            if nested:
                db.execute("RELEASE session_write")
            raise
        session.version = version
        return version

    def _write_growing(
        self, sid: str, npc: str, comp: NarrativeStateComponent, appended: bool
    ) -> None:
        """Write the history entries and visit counts ``comp`` has and the store has not:
        with ``appended``, the entries after the stored ones and the counts of the nodes
        they entered; else, or when no entry is stored yet (a new component, or one from
        a store that kept them inline), all of them."""
        db, start = self._db, 0
        if appended:
            (start,) = db.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM history WHERE session_id=? AND npc=?",
                (sid, npc),
            ).fetchone()
        entries = comp.history.since(start)
        db.executemany(
            "INSERT INTO history VALUES (?,?,?,?,?,?,?)",
            [(sid, npc, seq, *entry) for seq, entry in enumerate(entries, start)],
        )
        if start:  # nodes in the order they were first entered, as in the dicts
            touched = dict.fromkeys((program, node) for program, node, _, _ in entries)
        else:
            touched = {(p, node): None for p, counts in comp.visits.items() for node in counts}
        db.executemany(
            "INSERT INTO visits VALUES (?,?,?,?,?) ON CONFLICT (session_id, npc, program, node) "
            "DO UPDATE SET count=excluded.count",
            [
                (sid, npc, program, node, comp.visits[program][node])
                for program, node in touched
                if node in comp.visits.get(program, ())
            ],
        )

    # -- engine calls, each one load-apply-commit ------------------------------------------
    def _apply(
        self, session_id: str, op: str, args: dict[str, Any], call: Callable[[Session], Any]
    ) -> Any:
        session = self._committed.pop(session_id, None)
        if session is None or session.version != self.version(session_id):
            session = self.load(session_id)
        out = call(session)
        self._write(session, op, args, new=False, appended=True)
        self._committed[session_id] = session  # kept only once committed
        return out

    def start(
        self,
        engine: NarrativeEngine,
        session_id: str,
        npc: str,
        program: str,
        entry: str | None = None,
    ) -> NarrativeStepResult:
        """``engine.start`` on the stored session, committed with its event."""
        args = {"npc": npc, "program": program, "entry": entry}
        return self._apply(
            session_id, "start", args, lambda s: engine.start(s, npc, program, entry)
        )

    def step(
        self, engine: NarrativeEngine, session_id: str, npc: str, input: str | None = None
    ) -> NarrativeStepResult:
        """``engine.step`` on the stored session, committed with its event."""
        args = {"npc": npc, "input": input}
        return self._apply(session_id, "step", args, lambda s: engine.step(s, npc, input))

    def advance_time(self, engine: NarrativeEngine, session_id: str, delta: float) -> None:
        """``engine.advance_time`` on the stored session, committed with its event."""
        self._apply(
            session_id, "advance_time", {"delta": delta}, lambda s: engine.advance_time(s, delta)
        )

    def pause(self, engine: NarrativeEngine, session_id: str, npc: str) -> None:
        """``engine.pause``, committed."""
        self._apply(session_id, "pause", {"npc": npc}, lambda s: engine.pause(s, npc))

    def resume(self, engine: NarrativeEngine, session_id: str, npc: str) -> NarrativeStepResult:
        """``engine.resume``, committed."""
        return self._apply(session_id, "resume", {"npc": npc}, lambda s: engine.resume(s, npc))

    def finish(
        self, engine: NarrativeEngine, session_id: str, npc: str, *, stack: bool = False
    ) -> NarrativeStepResult:
        """``engine.finish`` (with ``stack``, of every suspended program too), committed."""
        args: dict[str, Any] = {"npc": npc, "stack": True} if stack else {"npc": npc}
        return self._apply(session_id, "finish", args, lambda s: engine.finish(s, npc, stack=stack))

    # -- replay -----------------------------------------------------------------------------
    def replay(self, engine: NarrativeEngine, session_id: str, upto: int | None = None) -> Session:
        """Rebuild a session from its event log (up to version ``upto``), with ``engine``."""
        session: Session | None = None
        for event in self.events(session_id):
            if upto is not None and event.seq > upto:
                break
            a = event.args
            if event.op in ("create", "replace"):
                session = Session.from_dict(a["state"])
            else:
                assert session is not None, "the log starts with a create event"
                _REPLAY[event.op](engine, session, a)
            session.version = event.seq
        if session is None:
            raise UnknownNameError("session", session_id, self.ids())
        return session


_REPLAY: dict[str, Callable[[Any, Session, dict[str, Any]], Any]] = {
    "start": lambda e, s, a: e.start(s, a["npc"], a["program"], a["entry"]),
    "step": lambda e, s, a: e.step(s, a["npc"], a["input"]),
    "advance_time": lambda e, s, a: e.advance_time(s, a["delta"]),
    "pause": lambda e, s, a: e.pause(s, a["npc"]),
    "resume": lambda e, s, a: e.resume(s, a["npc"]),
    "finish": lambda e, s, a: e.finish(s, a["npc"], stack=a.get("stack", False)),
}
