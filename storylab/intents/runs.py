"""Runs of intents: claiming, applying each effect exactly once, settling, expiring, recovering.

A *run* is one attempt at an intent's remaining planned effects, owned by one supervisor.
Applying a run's effects is one transaction on the session store's connection
(:meth:`~storylab.runtime.SessionStore.save` with ``also=``, or several runs'
:meth:`~storylab.runtime.SessionStore.transaction` with ``also=``): the session's new state
and version, each effect marked ``applied`` (only if still ``planned``), the turns they
added, their events, and, when none is left planned, the intent ``finished``
(:func:`record_applied`). The transaction also checks that the run still owns the intent
(running, before its deadline); if not, or if the session moved on since it was loaded
(:class:`~storylab.runtime.ConflictError`), nothing is written. So a process killed at any
instant leaves each effect applied once or still planned.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storylab.intents.store import new_id
from storylab.runtime.state import Session

if TYPE_CHECKING:
    import sqlite3

    from storylab.intents.models import Effect, Intent
    from storylab.intents.store import IntentStore

__all__ = [
    "Made",
    "RunStopped",
    "apply_effect",
    "beat",
    "change_session",
    "check_owned",
    "claim",
    "commit_effects",
    "expire",
    "record_applied",
    "recover",
    "register",
    "run_intents",
    "settle",
    "unregister",
]


class RunStopped(RuntimeError):
    """The run no longer owns its intent (settled, expired, cancelled): it writes nothing."""


def change_session(session: Session, effect: Effect, output: str | None) -> dict[str, Any] | None:
    """Apply one effect to a loaded session in place; return the turn it adds, if any."""
    p = effect.payload
    if effect.kind in ("insert_turn", "generate_turn"):
        content = p["content"] if effect.kind == "insert_turn" else output
        turn_no = int(session.flags.get("intents.turns", 0)) + 1
        session.flags["intents.turns"] = turn_no
        session.flags["intents.last_speaker"] = p["participant"]
        return {
            "turn_no": turn_no,
            "participant": p["participant"],
            "layer": p.get("layer", "presentation"),
            "content": content or "",
            "chapter": p.get("chapter"),
        }
    if effect.kind == "add_participant":
        session.relationships.setdefault(p["participant"], {}).setdefault("affinity", 0.0)
        session.component(p["participant"])
    elif effect.kind == "set_relationship":
        fields = session.relationships.setdefault(p["npc"], {})
        if "value" in p:
            fields[p["field"]] = p["value"]
        else:
            fields[p["field"]] = round(float(fields.get(p["field"], 0.0)) + p["delta"], 10)
    elif effect.kind == "set_flag":
        session.flags[p["name"]] = p["value"]
    else:
        raise ValueError(f"unknown effect kind {effect.kind!r}")
    return None


def apply_effect(
    store: IntentStore,
    run_id: str,
    intent: Intent,
    effect: Effect,
    session: Session,
    output: str | None = None,
    generation_id: str | None = None,
    chunks: Sequence[str] = (),
) -> int:
    """Apply ``effect`` to ``session`` (as loaded) and commit it with its bookkeeping.

    ``chunks``: generated chunks not yet recorded as events (recorded in the same
    transaction). Returns the session's new version. One effect of
    :func:`commit_effects`, which applies several in one transaction.

    Raises
    ------
    ConflictError
        The session changed since it was loaded; nothing was written (load it afresh and
        apply again).
    RunStopped
        The run no longer owns the intent, or the effect is no longer planned; nothing
        was written.
    """
    turn = change_session(session, effect, output)
    return commit_effects(
        store, run_id, intent, session, [Made(effect, turn, generation_id, chunks)]
    )


@dataclass(frozen=True, slots=True)
class Made:
    """An effect already applied to a loaded session (by :func:`change_session`), with the
    turn it added, its generation id and the chunks not yet recorded as events."""

    effect: Effect
    turn: dict[str, Any] | None
    generation_id: str | None = None
    chunks: Sequence[str] = ()


def _stopped(run_id: str, row: tuple[str, float] | None, now: float) -> RunStopped | None:
    """Why a run whose ``(status, deadline_at)`` is ``row`` no longer owns its intent."""
    if row is None or row[0] != "running":
        return RunStopped(f"run {run_id} is {row[0] if row else 'unknown'}")
    if row[1] < now:
        return RunStopped(f"run {run_id} passed its deadline")
    return None


def check_owned(db: sqlite3.Connection, run_id: str, now: float | None = None) -> None:
    """Raise :class:`RunStopped` unless run ``run_id`` is running and before its deadline."""
    row = db.execute("SELECT status, deadline_at FROM intent_runs WHERE id=?", (run_id,)).fetchone()
    stopped = _stopped(run_id, row, time.time() if now is None else now)
    if stopped is not None:
        raise stopped


def run_intents(store: IntentStore, run_ids: Sequence[str]) -> dict[str, Intent | RunStopped]:
    """Each run's intent with its effects or, for a run that no longer owns its intent,
    why (a :class:`RunStopped`); three statements for all the runs."""
    now = time.time()
    rows = store._db.execute(
        "SELECT id, intent_id, status, deadline_at FROM intent_runs "
        f"WHERE id IN ({','.join('?' * len(run_ids))})",
        tuple(run_ids),
    ).fetchall()
    intents = store.intents_by_id([r[1] for r in rows])
    found = {run: (intent_id, (status, deadline)) for run, intent_id, status, deadline in rows}
    out: dict[str, Intent | RunStopped] = {}
    for run in run_ids:
        intent_id, row = found.get(run, (None, None))
        out[run] = _stopped(run, row, now) or intents[intent_id]  # type: ignore[index]
    return out


def commit_effects(
    store: IntentStore, run_id: str, intent: Intent, session: Session, made: Sequence[Made]
) -> int:
    """Commit ``session`` (changed in memory by ``made``, in order) with the effects'
    bookkeeping in one transaction: each effect marked ``applied`` (only if still
    ``planned``), its turn, its chunk and ``effect_applied`` events, and, when no planned
    effect is left, the intent ``finished`` and the run ``succeeded``. All the effects
    produce one session version (their ``result_ref``). Returns that version.

    Raises
    ------
    ConflictError
        The session changed since it was loaded; nothing was written.
    RunStopped
        The run no longer owns the intent, or an effect is no longer planned; nothing
        was written.
    """
    version = session.version + 1

    def bookkeeping(db: sqlite3.Connection) -> None:
        record_applied(store, db, [(run_id, intent, version, made)])

    return store.sessions.save(session, also=bookkeeping)


def record_applied(
    store: IntentStore,
    db: sqlite3.Connection,
    runs: Sequence[tuple[str, Intent, int, Sequence[Made]]],
) -> None:
    """The bookkeeping of :func:`commit_effects` for several runs at once, inside the
    caller's transaction (which also saved each ``(run_id, intent, version, made)``'s
    session at ``version``): a few statements for all the runs, each check made over all
    of them. Raises :class:`RunStopped` (the caller rolls back) when a run no longer owns
    its intent or one of the effects is no longer planned."""
    now = time.time()
    effects, turns, events, finished, going = [], [], [], [], []
    for run_id, intent, version, made in runs:
        ref = f"{intent.session_id}@{version}"
        for m in made:
            i, t = m.effect.index, m.turn or {}
            effects.append(
                (ref, t.get("turn_no"), m.generation_id, t.get("content"), now, now, intent.id, i)
            )
            if m.turn is not None:
                turns.append((intent.session_id, *m.turn.values(), intent.id, i, now))
            events += [(intent.id, "chunk", {"index": i, "text": text}) for text in m.chunks]
            events.append(
                (
                    intent.id,
                    "effect_applied",
                    {"index": i, "effect": m.effect.kind, "version": version},
                )
            )
        # Effects never return to planned: when ``made`` covers every effect ``intent``
        # shows planned (each still planned: checked below), none is left.
        unmade = sum(e.status == "planned" for e in intent.effects) - len(made)
        left = unmade > 0 and db.execute(
            "SELECT COUNT(*) FROM intent_effects WHERE intent_id=? AND status='planned'",
            (intent.id,),
        ).fetchone()[0] > len(made)
        (going if left else finished).append(run_id)
        if not left:
            events.append((intent.id, "finished", {"run": run_id, "version": version}))
    cur = db.executemany(
        "UPDATE intent_effects SET status='applied', result_ref=?, turn_no=?, "
        "generation_id=?, output=?, applied_at=?, updated_at=? "
        "WHERE intent_id=? AND idx=? AND status='planned'",
        effects,
    )
    if cur.rowcount != len(effects):
        for run_id, *_ in runs:
            check_owned(db, run_id, now)  # names the reason when a run lost its intent
        ids = ", ".join(intent.id for _, intent, _, _ in runs)
        raise RunStopped(f"an effect of {ids} is no longer planned")
    cur = db.executemany(  # the finishing runs end here, if they still own their intents
        "UPDATE intent_runs SET status='succeeded', finished_at=? "
        "WHERE id=? AND status='running' AND deadline_at>=?",
        [(now, run_id, now) for run_id in finished],
    )
    if cur.rowcount != len(finished):
        for run_id in finished:
            check_owned(db, run_id, now)
    for run_id in going:
        check_owned(db, run_id, now)
    by_run = {run_id: intent.id for run_id, intent, _, _ in runs}
    db.executemany(
        "UPDATE intents SET status='finished', error=NULL, updated_at=? WHERE id=?",
        [(now, by_run[run_id]) for run_id in finished],
    )
    db.executemany(
        "INSERT INTO intent_turns (session_id, turn_no, participant, layer, content, "
        "chapter, intent_id, effect_idx, at) VALUES (?,?,?,?,?,?,?,?,?)",
        turns,
    )
    store._append_events(db, events, now)


def claim(store: IntentStore, owner: str, *, limit: int, deadline: float) -> list[str]:
    """Start runs for up to ``limit`` pending intents that are due and not running."""
    now = time.time()
    due = (
        "SELECT id, attempts FROM intents i WHERE status='pending' AND next_attempt_at<=? "
        "AND NOT EXISTS (SELECT 1 FROM intent_runs r WHERE r.intent_id=i.id "
        "AND r.status='running') ORDER BY next_attempt_at, created_at, id LIMIT ?"
    )
    if not store._db.execute(due, (now, 1)).fetchone():  # no write lock just to find nothing
        return []
    with store._tx() as db:
        runs = [(new_id("r"), i, n + 1) for i, n in db.execute(due, (now, limit)).fetchall()]
        db.executemany(
            "INSERT INTO intent_runs (id, intent_id, attempt, owner, status, started_at, "
            "deadline_at) VALUES (?,?,?,?, 'running', ?,?)",
            [(run, i, n, owner, now, now + deadline) for run, i, n in runs],
        )
        db.executemany(
            "UPDATE intents SET attempts=?, updated_at=? WHERE id=?",
            [(n, now, i) for _, i, n in runs],
        )
        store._append_events(
            db, [(i, "run_started", {"run": run, "attempt": n}) for run, i, n in runs], now
        )
    return [run for run, _, _ in runs]


def settle(
    store: IntentStore,
    run_id: str,
    status: str,
    error: str,
    *,
    max_attempts: int,
    backoff: Callable[[int], float],
) -> str | None:
    """End a running run as ``status`` with ``error``; retry its intent after
    ``backoff(attempt)`` seconds while attempts remain, else fail it. Returns
    ``"retried"``, ``"failed"``, or ``None`` when the run had already ended."""
    now = time.time()
    running = (
        "SELECT r.intent_id, r.attempt, i.status FROM intent_runs r "
        "JOIN intents i ON i.id = r.intent_id WHERE r.id=? AND r.status='running'"
    )
    if store._db.execute(running, (run_id,)).fetchone() is None:  # ended: no write lock
        return None
    with store._tx() as db:
        row = db.execute(running, (run_id,)).fetchone()
        if row is None:
            return None
        intent_id, attempt, intent_status = row
        db.execute(
            "UPDATE intent_runs SET status=?, error=?, finished_at=? WHERE id=?",
            (status, error, now, run_id),
        )
        if intent_status != "pending":
            return None
        if attempt < max_attempts:
            delay = backoff(attempt)
            db.execute(
                "UPDATE intents SET next_attempt_at=?, error=?, updated_at=? WHERE id=?",
                (now + delay, error, now, intent_id),
            )
            store._event(
                db,
                intent_id,
                "retried",
                run=run_id,
                run_status=status,
                attempt=attempt,
                error=error,
                delay=delay,
            )
            return "retried"
        db.execute(
            "UPDATE intents SET status='failed', error=?, updated_at=? WHERE id=?",
            (error, now, intent_id),
        )
        db.execute(
            "UPDATE intent_effects SET status='failed', error=?, updated_at=? "
            "WHERE intent_id=? AND status='planned'",
            (error, now, intent_id),
        )
        store._event(db, intent_id, "failed", run=run_id, attempts=attempt, error=error)
        return "failed"


def expire(store: IntentStore, **settling: Any) -> list[tuple[str, str | None]]:
    """Settle every running run past its deadline as ``expired``; (run, outcome) pairs."""
    rows = store._db.execute(
        "SELECT id, deadline_at - started_at FROM intent_runs "
        "WHERE status='running' AND deadline_at<?",
        (time.time(),),
    ).fetchall()
    return [
        (run, settle(store, run, "expired", f"run passed its deadline of {s:g} s", **settling))
        for run, s in rows
    ]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def recover(
    store: IntentStore, owner: str, *, lease: float, **settling: Any
) -> list[tuple[str, str | None]]:
    """Settle runs left ``running`` by a supervisor that is gone (stopped, its process
    dead on this host, or silent for ``lease`` seconds) as ``crashed``, naming it; their
    intents are retried from their first planned effect, or fail when out of attempts."""
    now, host = time.time(), socket.gethostname()
    rows = store._db.execute(
        "SELECT r.id, r.owner, s.host, s.pid, s.heartbeat_at, s.stopped_at FROM intent_runs r "
        "LEFT JOIN intent_supervisors s ON s.id = r.owner "
        "WHERE r.status='running' AND r.owner != ?",
        (owner,),
    ).fetchall()
    out = []
    for run, who, their_host, pid, heartbeat, stopped in rows:
        if pid is None:
            why = f"its supervisor {who} is unknown"
        elif stopped is not None:
            why = f"its supervisor {who} stopped"
        elif their_host == host and not _alive(pid):
            why = f"its supervisor {who} (pid {pid}) died"
        elif heartbeat < now - lease:
            why = f"its supervisor {who} was silent for {now - heartbeat:.1f} s"
        else:
            continue
        error = f"run {run} left running: {why}"
        intent_id = store._db.execute(
            "SELECT intent_id FROM intent_runs WHERE id=?", (run,)
        ).fetchone()[0]
        with store._tx() as db:
            store._event(db, intent_id, "recovered", run=run, reason=why)
        out.append((run, settle(store, run, "crashed", error, **settling)))
    return out


def register(store: IntentStore) -> str:
    """Record a new supervisor (this process) and return its id."""
    sup_id, now = new_id("s"), time.time()
    with store._tx() as db:
        db.execute(
            "INSERT INTO intent_supervisors (id, host, pid, started_at, heartbeat_at) "
            "VALUES (?,?,?,?,?)",
            (sup_id, socket.gethostname(), os.getpid(), now, now),
        )
    return sup_id


def beat(store: IntentStore, sup_id: str) -> None:
    """The supervisor is alive."""
    with store._tx() as db:
        db.execute("UPDATE intent_supervisors SET heartbeat_at=? WHERE id=?", (time.time(), sup_id))


def unregister(store: IntentStore, sup_id: str) -> None:
    """The supervisor stopped cleanly."""
    with store._tx() as db:
        db.execute("UPDATE intent_supervisors SET stopped_at=? WHERE id=?", (time.time(), sup_id))
