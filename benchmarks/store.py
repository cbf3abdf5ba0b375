"""Session store throughput over a long playthrough, storylab beside a whole-state reference.

Both sides play the same generated story (``benchmarks/stories.py``) step by step, each
step a durable commit to a SQLite file in WAL mode:

* **storylab**: ``SessionStore.step`` (load-or-reuse, step, commit the changed rows and
  the step's history entries, log the event);
* **reference**: the obvious design, one row per session holding ``engine.save`` text:
  per step, read the row, ``engine.load``, step, ``engine.save``, write the row back and
  log the event, in one transaction.

Reported per window of the playthrough (the first and the last ``--window`` steps):
steps/s on each side, storylab / reference, and each side's last/first ratio (1.0: a
step costs as much late in a session as early). In-memory ``engine.step`` on the same
picks is the floor.

Usage::

    python benchmarks/store.py                 # 10,000-node story, 4,000 steps
    python benchmarks/store.py --nodes 1000 --steps 1000 --window 250   # quick
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from runtime import plan
from stories import generate_story, to_program_data

__all__ = ["main"]

clock = time.perf_counter  # wall time: a commit's cost includes the file system's


#: A side of the race: the result of starting the program, and ``step(choice id) -> result``.
Runner = tuple[Any, Callable[[str], Any]]


def _reference(db_path: str, engine, program_id: str) -> Runner:
    """The whole-state store."""
    from storylab.runtime import Session

    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE state (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
    db.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, op TEXT, args TEXT)")
    session = Session("s1")
    result = engine.start(session, "reader", program_id)
    db.execute("INSERT INTO state VALUES ('s1', ?)", (engine.save(session),))

    def step(choice: str) -> Any:
        db.execute("BEGIN IMMEDIATE")
        (text,) = db.execute("SELECT data FROM state WHERE id='s1'").fetchone()
        current, _ = engine.load(text)
        out = engine.step(current, "reader", choice)
        db.execute("UPDATE state SET data=? WHERE id='s1'", (engine.save(current),))
        db.execute("INSERT INTO events (op, args) VALUES ('step', ?)", (choice,))
        db.execute("COMMIT")
        return out

    return result, step


def _storylab(db_path: str, engine, program_id: str) -> Runner:
    from storylab.runtime import Session, SessionStore

    store = SessionStore(db_path)
    store.create(Session("s1"))
    result = store.start(engine, "s1", "reader", program_id)

    def step(choice: str) -> Any:
        return store.step(engine, "s1", "reader", choice)

    return result, step


def _memory(engine, program_id: str) -> Runner:
    from storylab.runtime import Session

    session = Session("s1")
    result = engine.start(session, "reader", program_id)

    def step(choice: str) -> Any:
        return engine.step(session, "reader", choice)

    return result, step


def play(runner: Runner, picks: list[int], window: int) -> tuple[float, float]:
    """Steps/s over the first and the last ``window`` steps of ``picks``."""
    result, step = runner
    times = []
    for pick in picks:
        t0 = clock()
        result = step(result.choices[pick].id)
        times.append(clock() - t0)
    return window / sum(times[:window]), window / sum(times[-window:])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--window", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from storylab.runtime import NarrativeEngine, parse_program

    story = generate_story(args.nodes, args.seed)
    picks = plan(story, np.random.default_rng(args.seed + 1).random(args.steps)).picks
    program = parse_program(to_program_data(story))
    engine = NarrativeEngine([program])
    with tempfile.TemporaryDirectory() as tmp:
        lab = play(_storylab(f"{tmp}/lab.db", engine, program.id), picks, args.window)
        ref = play(_reference(f"{tmp}/ref.db", engine, program.id), picks, args.window)
    mem = play(_memory(engine, program.id), picks, args.window)
    print(f"{args.nodes:,}-node story, {args.steps:,} steps, windows of {args.window:,}")
    print(f"{'steps/s':<26}{'reference':>12}{'storylab':>12}{'lab/ref':>10}{'in memory':>12}")
    for label, k in (("first window", 0), ("last window", 1)):
        print(
            f"{label:<26}{ref[k]:>12,.0f}{lab[k]:>12,.0f}{lab[k] / ref[k]:>9.1f}x{mem[k]:>12,.0f}"
        )
    print(
        f"{'last/first':<26}{ref[1] / ref[0]:>12.2f}{lab[1] / lab[0]:>12.2f}{'':>10}"
        f"{mem[1] / mem[0]:>12.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
