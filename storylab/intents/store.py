"""Intents and their effects, stored beside the runtime's sessions in one SQLite file.

An intent is created ``pending`` with its effects ``planned`` (one transaction), so the
plan is visible before anything runs; at most one intent per scenario is pending (a
partial unique index). Every state change appends to ``intent_events``, which
:meth:`IntentStore.events` reads back, following live if asked. Running and applying
effects is the supervisor's work (:mod:`storylab.intents.supervisor`,
:mod:`storylab.intents.runs`).

>>> import tempfile, os
>>> store = IntentStore(os.path.join(tempfile.mkdtemp(), "play.db"))
>>> intent = store.create_intent("tavern", "direct_control",
...     {"author": "ann", "text": "Hello?", "participants": ["ann", "bo"]})
>>> [(e.kind, e.payload["participant"], e.status) for e in intent.effects]
[('insert_turn', 'ann', 'planned'), ('generate_turn', 'bo', 'planned')]
>>> store.close()
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, suppress
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storylab._data import UnknownNameError
from storylab.intents.models import (
    Effect,
    Intent,
    IntentEvent,
    IntentResult,
    Progress,
    parse_inputs,
    plan_effects,
)
from storylab.intents.schema import StoreFileError, check_file, create_tables
from storylab.runtime.state import Session
from storylab.runtime.store import ConflictError, SessionStore, immediate_transaction

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TERMINAL", "IntentStore", "PendingIntentExists", "new_id"]

#: Intent statuses after which nothing more happens.
TERMINAL = ("finished", "failed", "cancelled")
#: Event kinds that end an intent's stream.
_LAST_EVENTS = TERMINAL
_MAX_SCENARIO = 200
#: The workflow a turn-generation intent runs (one today; the column keeps provenance).
DEFAULT_WORKFLOW = "turngen.default.v1"


class PendingIntentExists(RuntimeError):
    """A scenario already has a pending intent; names the scenario and that intent."""

    def __init__(self, scenario: str, intent_id: str):
        self.scenario, self.intent_id = scenario, intent_id
        super().__init__(
            f"scenario {scenario!r} already has a pending intent ({intent_id}); "
            "wait for it, or cancel it, before creating another"
        )


#: One encoder for every row (``json.dumps`` with options builds a new one per call).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
#: Its C core, made once (``JSONEncoder.encode`` makes one per call), without the check
#: for circular containers (rows are built from JSON data); None where Python lacks it.
_C_ENCODER = c_make_encoder and c_make_encoder(
    None, _ENCODER.default, encode_basestring, None, ":", ",", True, False, True
)


def _json(value: Any) -> str:
    """Compact JSON text with sorted keys (what ``_ENCODER.encode`` gives)."""
    if _C_ENCODER is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


def new_id(prefix: str) -> str:
    """A fresh id, ``prefix-`` then 21 hex digits: the microsecond clock, then 32 random
    bits. Ids made later mostly sort later, so the rows a batch adds share index pages
    (random ids would each dirty a page of their own in every index keyed by them)."""
    return f"{prefix}-{time.time_ns() // 1000:013x}{secrets.randbits(32):08x}"


_EFFECT_COLS = (
    "intent_id, idx, kind, status, payload, result_ref, turn_no, generation_id, output, "
    "error, applied_at"
)


def _effect(row: tuple[Any, ...]) -> Effect:
    return Effect(row[0], row[1], row[2], row[3], json.loads(row[4]), *row[5:])


class IntentStore:
    """Intents, effects, runs and events in the SQLite file that holds the sessions.

    Parameters
    ----------
    path : str or Path
        The database file; created when missing. A file that is not a storylab store, or
        one written by a newer storylab, is refused (:class:`~storylab.intents.schema.
        StoreFileError` naming the path) and left untouched.
    timeout : float
        Seconds to wait for another writer's lock.

    Attributes
    ----------
    sessions : SessionStore
        The runtime's session store on the same file; effects change sessions through it.
    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0):
        check_file(path)
        self.path = str(path)
        try:
            self.sessions = SessionStore(path, timeout=timeout)
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreFileError(f"{path}: cannot open ({exc})") from None
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._tx() as db:
            create_tables(db)

    def __enter__(self) -> IntentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close both connections."""
        self._db.close()
        self.sessions.close()

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction on this store's connection (rolled back on error)."""
        return immediate_transaction(self._db)

    @staticmethod
    def _event(db: sqlite3.Connection, intent_id: str, event: str, **data: Any) -> None:
        IntentStore._events(db, intent_id, [(event, data)])

    @staticmethod
    def _events(
        db: sqlite3.Connection,
        intent_id: str,
        events: list[tuple[str, dict[str, Any]]],
        at: float | None = None,
    ) -> None:
        """Append ``(kind, data)`` events of one intent, in order (one statement)."""
        IntentStore._append_events(db, [(intent_id, kind, data) for kind, data in events], at)

    @staticmethod
    def _append_events(
        db: sqlite3.Connection, rows: list[tuple[str, str, dict[str, Any]]], at: float | None
    ) -> None:
        """Append ``(intent_id, kind, data)`` events, in order (one statement)."""
        at = time.time() if at is None else at
        db.executemany(
            "INSERT INTO intent_events (intent_id, kind, data, at) VALUES (?,?,?,?)",
            [(intent_id, kind, _json(data), at) for intent_id, kind, data in rows],
        )

    # -- creating -------------------------------------------------------------------------
    def create_intent(
        self,
        scenario: str,
        kind: str,
        inputs: dict[str, Any],
        *,
        session_id: str | None = None,
        workflow_id: str = DEFAULT_WORKFLOW,
    ) -> Intent:
        """Store a pending intent with its effects planned (one transaction); return it.

        Parameters
        ----------
        scenario : str
            The scenario the intent belongs to (one pending intent per scenario).
        kind : str
            One of :data:`~storylab.intents.models.INTENT_KINDS`.
        inputs : dict
            The kind's inputs (see :mod:`storylab.intents.models`).
        session_id : str, optional
            The session the effects change (default: the scenario's name); created empty
            when missing.

        Raises
        ------
        PendingIntentExists
            When the scenario already has a pending intent.
        DataError
            When ``inputs`` do not match the kind (each bad field named).
        """
        if not isinstance(scenario, str) or not 0 < len(scenario) <= _MAX_SCENARIO:
            raise ValueError(f"scenario must be a name of 1 to {_MAX_SCENARIO} characters")
        parsed = parse_inputs(kind, inputs, f"intent inputs ({kind})")
        sid = session_id or scenario
        participants = tuple(self._characters(sid))
        last = self._db.execute(
            "SELECT participant FROM intent_turns WHERE session_id=? ORDER BY turn_no DESC LIMIT 1",
            (sid,),
        ).fetchone()
        effects = plan_effects(kind, parsed, participants, last[0] if last else None)
        intent_id = new_id("i")
        now = time.time()
        stored = parsed.model_dump(mode="json", exclude_none=True)
        try:
            with self._tx() as db:
                db.execute(
                    "INSERT INTO intents (id, scenario, session_id, kind, status, inputs, "
                    "workflow_id, attempts, next_attempt_at, created_at, updated_at) "
                    "VALUES (?,?,?,?, 'pending', ?,?, 0, ?,?,?)",
                    (intent_id, scenario, sid, kind, _json(stored), workflow_id, now, now, now),
                )
                db.executemany(
                    "INSERT INTO intent_effects (intent_id, idx, kind, status, payload, "
                    "created_at, updated_at) VALUES (?,?,?, 'planned', ?,?,?)",
                    [(intent_id, e.index, e.kind, _json(e.payload), now, now) for e in effects],
                )
                self._events(
                    db,
                    intent_id,
                    [("created", {"scenario": scenario, "kind": kind})]
                    + [("effect_planned", {"index": e.index, "effect": e.kind}) for e in effects],
                    now,
                )
        except sqlite3.IntegrityError:  # the partial unique index: a pending intent exists
            self._refuse_pending(self._db, scenario)
            raise
        rows = (Effect(intent_id, e.index, e.kind, "planned", e.payload) for e in effects)
        return Intent(
            intent_id, scenario, sid, kind, "pending", stored, workflow_id, 0, None, now, now,
            effects=tuple(rows),
        )  # fmt: skip

    def _characters(self, sid: str) -> list[str]:
        """The session's characters, creating the session (empty) when missing."""
        try:
            return self.sessions.characters(sid)
        except UnknownNameError:
            with suppress(ConflictError):  # created meanwhile by another writer
                self.sessions.create(Session(sid))
            return self.sessions.characters(sid)

    @staticmethod
    def _refuse_pending(db: sqlite3.Connection, scenario: str) -> None:
        row = db.execute(
            "SELECT id FROM intents WHERE scenario=? AND status='pending'", (scenario,)
        ).fetchone()
        if row is not None:
            raise PendingIntentExists(scenario, row[0])

    def cancel(self, intent_id: str, reason: str = "cancelled on request") -> bool:
        """Cancel a pending intent: its running run stops counting, its planned effects
        fail with ``reason``. Returns whether anything was cancelled (``False`` when the
        intent had already ended)."""
        self.intent(intent_id)  # names an unknown id
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "UPDATE intents SET status='cancelled', error=?, updated_at=? "
                "WHERE id=? AND status='pending'",
                (reason, now, intent_id),
            )
            if cur.rowcount == 0:
                return False
            db.execute(
                "UPDATE intent_runs SET status='cancelled', error=?, finished_at=? "
                "WHERE intent_id=? AND status='running'",
                (reason, now, intent_id),
            )
            db.execute(
                "UPDATE intent_effects SET status='failed', error=?, updated_at=? "
                "WHERE intent_id=? AND status='planned'",
                (reason, now, intent_id),
            )
            self._event(db, intent_id, "cancelled", reason=reason)
        return True

    # -- reading --------------------------------------------------------------------------
    def intent(self, intent_id: str) -> Intent:
        """One intent with its effects."""
        found = self.intents_by_id([intent_id])
        if not found:
            known = [r[0] for r in self._db.execute("SELECT id FROM intents ORDER BY id")]
            raise UnknownNameError("intent", intent_id, known[-20:])
        return found[intent_id]

    def intents_by_id(self, ids: Sequence[str]) -> dict[str, Intent]:
        """The intents of ``ids`` that exist, with their effects (two statements)."""
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            "SELECT id, scenario, session_id, kind, status, inputs, workflow_id, attempts, "
            f"error, created_at, updated_at FROM intents WHERE id IN ({marks})",
            tuple(ids),
        ).fetchall()
        effects: dict[str, list[Effect]] = {}
        for r in self._db.execute(
            f"SELECT {_EFFECT_COLS} FROM intent_effects WHERE intent_id IN ({marks}) "
            "ORDER BY intent_id, idx",
            tuple(ids),
        ):
            effects.setdefault(r[0], []).append(_effect(r))
        return {
            row[0]: Intent(
                *row[:5], json.loads(row[5]), *row[6:], effects=tuple(effects.get(row[0], ()))
            )  # type: ignore[arg-type]
            for row in rows
        }

    def intents(self, scenario: str | None = None) -> pd.DataFrame:
        """One row per intent (oldest first), optionally of one ``scenario``."""
        import pandas as pd

        where, args = ("WHERE scenario=?", (scenario,)) if scenario is not None else ("", ())
        rows = self._db.execute(
            "SELECT id, scenario, session_id, kind, status, attempts, error, created_at, "
            "updated_at, (SELECT COUNT(*) FROM intent_effects e WHERE e.intent_id=i.id), "
            "(SELECT COUNT(*) FROM intent_effects e WHERE e.intent_id=i.id "
            f"AND e.status='applied') FROM intents i {where} ORDER BY created_at, id",
            args,
        ).fetchall()
        cols = ["id", "scenario", "session_id", "kind", "status", "attempts", "error"]
        cols += ["created_at", "updated_at", "effects", "applied"]
        return pd.DataFrame(rows, columns=cols)

    def effects(self, intent_id: str) -> pd.DataFrame:
        """One row per effect of an intent, in order (payload fields as columns)."""
        import pandas as pd

        effects = self.intent(intent_id).effects
        rows = [
            {
                "index": e.index,
                "kind": e.kind,
                "status": e.status,
                **{f"payload.{k}": v for k, v in e.payload.items()},
                "turn_no": e.turn_no,
                "result_ref": e.result_ref,
                "output": e.output,
                "error": e.error,
            }
            for e in effects
        ]
        return pd.DataFrame(rows)

    def turns(self, session_id: str) -> pd.DataFrame:
        """The session's timeline: one row per turn the intents added, in order."""
        import pandas as pd

        rows = self._db.execute(
            "SELECT turn_no, participant, layer, content, chapter, intent_id, effect_idx "
            "FROM intent_turns WHERE session_id=? ORDER BY turn_no",
            (session_id,),
        ).fetchall()
        cols = ["turn_no", "participant", "layer", "content", "chapter", "intent_id", "effect"]
        return pd.DataFrame(rows, columns=cols)

    def recent_turns(self, session_id: str, window: int) -> list[tuple[str, str]]:
        """The last ``window`` turns of a session's timeline, oldest first (who, text)."""
        rows = self._db.execute(
            "SELECT participant, content FROM intent_turns WHERE session_id=? "
            "ORDER BY turn_no DESC LIMIT ?",
            (session_id, max(0, window)),
        ).fetchall()
        return [(who, text) for who, text in reversed(rows)]

    def events(
        self,
        intent_id: str,
        follow: bool = False,
        *,
        after: int = 0,
        poll: float = 0.05,
        timeout: float | None = None,
    ) -> Iterator[IntentEvent]:
        """The intent's events, oldest first, from sequence number ``after`` on.

        With ``follow``, keep waiting for new ones (polling every ``poll`` seconds) until
        the intent ends (its ``finished``, ``failed`` or ``cancelled`` event) or
        ``timeout`` seconds pass without one.
        """
        self.intent(intent_id)
        last_seen = time.monotonic()
        while True:
            rows = self._db.execute(
                "SELECT seq, intent_id, kind, data, at FROM intent_events "
                "WHERE intent_id=? AND seq>? ORDER BY seq",
                (intent_id, after),
            ).fetchall()
            for seq, iid, kind, data, at in rows:
                after = seq
                yield IntentEvent(seq, iid, kind, json.loads(data), at)
                if kind in _LAST_EVENTS:
                    return
            if not follow:
                return
            if rows:
                last_seen = time.monotonic()
            elif timeout is not None and time.monotonic() - last_seen > timeout:
                return
            time.sleep(poll)

    def events_frame(self, intent_id: str) -> pd.DataFrame:
        """The intent's events so far as a table (``seq``, ``kind``, ``data``, ``at``)."""
        import pandas as pd

        rows = [(e.seq, e.kind, e.data, e.at) for e in self.events(intent_id)]
        return pd.DataFrame(rows, columns=["seq", "kind", "data", "at"])

    def progress(self, intent_id: str) -> Progress:
        """How far an intent got, from the store alone (valid after a restart)."""
        intent = self.intent(intent_id)
        count = {s: sum(e.status == s for e in intent.effects) for s in ("applied", "planned")}
        running = self._db.execute(
            "SELECT COUNT(*) FROM intent_runs WHERE intent_id=? AND status='running'",
            (intent_id,),
        ).fetchone()[0]
        last = self._db.execute(
            "SELECT kind FROM intent_events WHERE intent_id=? ORDER BY seq DESC LIMIT 1",
            (intent_id,),
        ).fetchone()
        return Progress(
            intent_id,
            intent.status,
            len(intent.effects),
            count["applied"],
            count["planned"],
            len(intent.effects) - count["applied"] - count["planned"],
            intent.attempts,
            bool(running),
            last[0] if last else None,
        )

    def result(self, intent_id: str) -> IntentResult:
        """The intent's status, error and effects (with what each produced)."""
        intent = self.intent(intent_id)
        return IntentResult(intent.id, intent.status, intent.error, intent.effects)

    def runs(self, intent_id: str | None = None) -> pd.DataFrame:
        """One row per run (attempt), optionally of one intent."""
        import pandas as pd

        where, args = ("WHERE intent_id=?", (intent_id,)) if intent_id else ("", ())
        rows = self._db.execute(
            "SELECT id, intent_id, attempt, owner, status, started_at, deadline_at, "
            f"finished_at, error FROM intent_runs {where} ORDER BY started_at, id",
            args,
        ).fetchall()
        cols = ["id", "intent_id", "attempt", "owner", "status", "started_at", "deadline_at"]
        return pd.DataFrame(rows, columns=[*cols, "finished_at", "error"])
