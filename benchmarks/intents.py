"""Intents end to end, storylab's store and supervisor beside two SQLite queues.

Every side runs the same workload: ``--intents`` scenarios, each with its own session and
one ``direct_control`` intent (the player's turn, then a generated reply: two effects,
each a session change through the runtime's ``SessionStore``). All commits are in WAL
mode with ``synchronous=NORMAL`` (each commit survives a killed process, the failure
this benchmark inflicts; none waits for an fsync):

* **storylab**: ``IntentStore.create_intent`` then ``Supervisor.run(once=True)``; an
  intent's effects are generated, then committed with their ``applied`` marks, turns and
  events in one transaction, together with the other runs of the worker task made within
  0.1 s (each in a savepoint). Two settings (:data:`SUPERVISOR`): ``storylab`` (one task
  of up to 64 runs at a time) and ``storylab-defaults`` (the supervisor's defaults: two
  tasks of up to 8 runs);
* **litequeue** (0.9): a producer plans the same effects and ``put``\\ s them; a consumer
  ``pop``\\ s, applies them to the same sessions, then marks the message ``done``; on
  start it re-queues messages a dead consumer left locked (at-least-once);
* **litequeue-1commit**: the same, but the consumer applies a message's effects to the
  loaded session together and saves it once (as storylab commits an intent's effects):
  the cheapest queue consumer, reported beside the per-effect one;
* **huey** (its ``SqliteStorage``): ``enqueue``, then ``dequeue`` (which deletes the task)
  and apply.

Every side keeps the same durability: each SQLite connection (sessions, intents, queue)
uses ``journal_mode=WAL``, ``synchronous=NORMAL`` and the default ``wal_autocheckpoint``.
The queue sides build each reply's context without the timeline (less work than storylab,
which also records each turn in ``intent_turns``).

Reported: intents per second (median of ``--repeats``) and the ratios to litequeue and
litequeue-1commit; then, for storylab, litequeue and huey, ``--kills`` SIGKILLs of a
worker process at random instants (restarting it each time, adding work when it runs dry)
followed by a clean run, and the effects lost (planned, never applied) and duplicated
(applied twice) over every session.

Usage::

    nice python benchmarks/intents.py                      # 300 intents, 5 repeats, 100 kills
    python benchmarks/intents.py --kills 0                 # the throughput table alone
    python benchmarks/intents.py --intents 100 --repeats 3 --kills 5   # quick
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's storylab

__all__ = ["main"]

clock = time.perf_counter


# -- the baselines' shared work: plan an intent's effects, apply them to the sessions ------
def _plan(sessions: Any, index: int) -> str:
    """The task a queue carries: scenario ``index``'s planned effects, as JSON."""
    from storylab.intents import parse_inputs, plan_effects
    from storylab.intents.torture import scenario_intent

    session, inputs = scenario_intent(index)
    people = tuple(sessions.characters(session.id))  # as storylab plans: without a load
    parsed = parse_inputs("direct_control", inputs)
    effects = plan_effects("direct_control", parsed, people, None)
    planned = [{"index": e.index, "kind": e.kind, "payload": e.payload} for e in effects]
    return json.dumps({"session": session.id, "effects": planned})


def _apply(sessions: Any, task: str, *, together: bool = False) -> None:
    """Apply a task's effects in order, each a session commit, or, ``together``, all in
    one commit (as storylab commits an intent's effects); reloading on conflict."""
    from storylab.intents import Effect, change_session, context_from
    from storylab.runtime import ConflictError, OfflineProvider

    data = json.loads(task)
    effects = [
        Effect("queue", e["index"], e["kind"], "planned", e["payload"]) for e in data["effects"]
    ]
    for batch in [effects] if together else [[e] for e in effects]:
        while True:
            session = sessions.load(data["session"])
            for effect in batch:
                output = None
                if effect.kind == "generate_turn":
                    p = effect.payload
                    ctx = context_from(session, [], p["participant"], description=p["description"])
                    output = OfflineProvider().generate(ctx.request()).content
                change_session(session, effect, output)
            try:
                sessions.save(session)
                break
            except ConflictError:
                continue


def _sessions(path: Path, start: int, count: int) -> None:
    from storylab.intents.torture import scenario_intent
    from storylab.runtime import SessionStore

    with SessionStore(path) as sessions:
        for i in range(start, start + count):
            sessions.create(scenario_intent(i)[0])


# -- the queues ---------------------------------------------------------------------------
def _litequeue(queue: Path) -> Any:
    from litequeue import LiteQueue

    return LiteQueue(str(queue))


def _huey(queue: Path) -> Any:
    from huey.storage import SqliteStorage

    storage = SqliteStorage("bench", filename=str(queue), fsync=None)
    storage.conn.execute("PRAGMA synchronous=NORMAL")
    return storage


def _produce(side: str, db: Path, queue: Path, start: int, count: int) -> None:
    from storylab.intents import IntentStore
    from storylab.intents.torture import scenario_intent
    from storylab.runtime import SessionStore

    if side.startswith("storylab"):
        with IntentStore(db) as store:
            for i in range(start, start + count):
                session, inputs = scenario_intent(i)
                store.create_intent(session.id, "direct_control", inputs)
        return
    with SessionStore(db) as sessions:
        lite = side.startswith("litequeue")
        q = _litequeue(queue) if lite else _huey(queue)
        for i in range(start, start + count):
            task = _plan(sessions, i)
            q.put(task) if lite else q.enqueue(task.encode())
        q.close()


def _consume(side: str, db: Path, queue: Path, ready: Callable[[], None] = lambda: None) -> None:
    """Work until the queue is empty (the worker process's body)."""
    from storylab.intents import Supervisor
    from storylab.runtime import SessionStore

    if side.startswith("storylab"):
        ready()
        Supervisor(db, **SUPERVISOR[side]).run(once=True)
        return
    with SessionStore(db) as sessions:
        if side.startswith("litequeue"):
            q = _litequeue(queue)
            for message in q.list_locked(0):  # a killed consumer's: deliver again
                q.retry(message.message_id)
            ready()
            while (message := q.pop()) is not None:
                _apply(sessions, message.data, together=side == "litequeue-1commit")
                q.done(message.message_id)
        else:
            q = _huey(queue)
            ready()
            while (task := q.dequeue()) is not None:
                _apply(sessions, bytes(task).decode())
        q.close()


def _waiting(side: str, db: Path, queue: Path) -> int:
    """Work the side still has queued (0: it ran dry)."""
    if not (db if side.startswith("storylab") else queue).exists():
        return 0
    if side.startswith("storylab"):
        con = sqlite3.connect(db)
        n = con.execute("SELECT COUNT(*) FROM intents WHERE status='pending'").fetchone()[0]
    else:
        con = sqlite3.connect(queue)
        sql = "SELECT COUNT(*) FROM Queue WHERE status IN (0, 1)"
        lite = side.startswith("litequeue")
        n = con.execute(sql if lite else "SELECT COUNT(*) FROM task").fetchone()[0]
    con.close()
    return n


SIDES = ("storylab", "storylab-defaults", "litequeue", "litequeue-1commit", "huey")
#: The supervisor of each storylab side: a bulk setting (one worker task at a time, 64
#: runs claimed per task, so up to 64 runs commit per transaction) and the defaults
#: (two worker tasks of 8 runs). Both retry without limit or delay, as the queues do.
_RETRY = {"max_attempts": 10**6, "backoff": 0.0, "poll": 0.002, "lease": 1.0}
SUPERVISOR = {
    "storylab": {**_RETRY, "max_in_flight": 1, "batch": 64},
    "storylab-defaults": _RETRY,
}


def throughput(side: str, n: int, workdir: Path) -> float:
    """Intents per second end to end (planning, queueing, applying both effects)."""
    db, queue = workdir / f"{side}.db", workdir / f"{side}-queue.db"
    _sessions(db, 0, n)
    t = clock()
    _produce(side, db, queue, 0, n)
    _consume(side, db, queue)
    elapsed = clock() - t
    _check(db, n)
    return n / elapsed


def _check(db: Path, n: int) -> tuple[int, int]:
    """(lost, duplicated) effects over the seeded sessions."""
    from storylab.intents.torture import TURNS_PER_SCENARIO, turn_counts
    from storylab.runtime import SessionStore

    with SessionStore(db) as sessions:
        counts = turn_counts(sessions)
    lost = sum(max(0, TURNS_PER_SCENARIO - c) for c in counts.values())
    dup = sum(max(0, c - TURNS_PER_SCENARIO) for c in counts.values())
    assert len(counts) == n, (len(counts), n)
    return lost, dup


def torture(side: str, kills: int, batch: int, workdir: Path, seed: int) -> dict[str, Any]:
    """SIGKILL a worker ``kills`` times, then finish cleanly; count lost and duplicated."""
    from storylab.intents.torture import kill_repeatedly

    db, queue = workdir / f"kill-{side}.db", workdir / f"kill-{side}-queue.db"
    seeded = 0

    def more() -> bool:
        nonlocal seeded
        if not _waiting(side, db, queue):
            _sessions(db, seeded, batch)
            _produce(side, db, queue, seeded, batch)
            seeded += batch
        return True

    command = [sys.executable, __file__, "--worker", side, str(db), str(queue)]
    t = clock()
    made = kill_repeatedly(command, kills=kills, seed=seed, max_delay=0.25, more=more)
    _consume(side, db, queue)  # a clean run finishes what is left (and redelivers)
    lost, dup = _check(db, seeded)
    return {"side": side, "kills": made, "intents": seeded, "effects": 2 * seeded,
            "lost": lost, "duplicated": dup, "seconds": round(clock() - t, 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the two tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--intents", type=int, default=300, help="intents per throughput run")
    ap.add_argument("--repeats", type=int, default=5, help="throughput runs per side (median)")
    ap.add_argument("--kills", type=int, default=100, help="SIGKILLs per side")
    ap.add_argument("--batch", type=int, default=20, help="intents added when a worker runs dry")
    ap.add_argument("--seed", type=int, default=0, help="seed of the kill instants")
    ap.add_argument("--worker", nargs=3, metavar=("SIDE", "DB", "QUEUE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        side, db, queue = args.worker
        _consume(side, Path(db), Path(queue), ready=lambda: print("ready", flush=True))
        return 0
    rates: dict[str, list[float]] = {s: [] for s in SIDES}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):  # interleaved, so load drifts hit every side alike
            for side in SIDES:
                run_dir = Path(tmp) / f"{side}-{r}"
                run_dir.mkdir()
                rates[side].append(throughput(side, args.intents, run_dir))
        base = statistics.median(rates["litequeue"])
        one = statistics.median(rates["litequeue-1commit"])
        print(f"intents/s, median of {args.repeats} ({args.intents} intents, 2 effects each)")
        print(f"{'side':<18} {'median':>8} {'min':>8} {'max':>8} {'vs litequeue':>13} "
              f"{'vs 1commit':>11}")  # fmt: skip
        for side in SIDES:
            med = statistics.median(rates[side])
            print(f"{side:<18} {med:8.1f} {min(rates[side]):8.1f} {max(rates[side]):8.1f} "
                  f"{med / base:12.2f}x {med / one:10.2f}x")  # fmt: skip
        if args.kills:
            print(f"\nSIGKILL of a worker process, {args.kills} times per side, then a clean run")
            print(f"{'side':<10} {'kills':>6} {'intents':>8} {'effects':>8} {'lost':>6} "
                  f"{'duplicated':>11} {'seconds':>8}")  # fmt: skip
            for side in ("storylab", "litequeue", "huey"):
                row = torture(side, args.kills, args.batch, Path(tmp), args.seed)
                r = row
                cells = f"{r['kills']:6d} {r['intents']:8d} {r['effects']:8d} {r['lost']:6d}"
                print(f"{side:<10} {cells} {r['duplicated']:11d} {r['seconds']:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
