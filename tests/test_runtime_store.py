"""SQLite sessions: versions, optimistic locking across processes, event-log replay, crashes."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from storylab import UnknownNameError
from storylab.runtime import (
    ConflictError,
    NarrativeEngine,
    NarrativeProgram,
    SaveError,
    Session,
    SessionStore,
    StepError,
    load_program,
)

ROOT = Path(__file__).resolve().parents[1]
TAVERN = ROOT / "data" / "programs" / "tavern-encounter.program.yaml"
LOOP = {
    "id": "loop",
    "entry": "m",
    "variables": {"n": 0},
    "nodes": [
        {"id": "m", "type": "choice", "choices": [{"id": "again", "text": "Again", "to": "count"}]},
        {
            "id": "count",
            "type": "action",
            "delay": 1,
            "effects": {
                "variables": {"n": "var.n + 1"},
                "relationships": {"self": {"affinity": 1}},
                "flags": {"last": "var.n"},
            },
        },
    ],
    "edges": [{"from": "count", "to": "m"}],
}


def tavern_session(sid="s1"):
    return Session(
        sid,
        player={"name": "Ash"},
        relationships={"captain": {"affinity": 30}},
        inventory={"coin": 2},
    )


@pytest.fixture
def store(tmp_path):
    with SessionStore(tmp_path / "sessions.db") as s:
        yield s


def test_create_load_step_and_versions(store):
    engine = NarrativeEngine([load_program(TAVERN)])
    store.create(tavern_session())
    assert store.version("s1") == 1 and store.ids() == ["s1"]
    store.start(engine, "s1", "captain", "tavern_encounter")
    r = store.step(engine, "s1", "captain", "coin")
    assert "rumors" in {c.id for c in r.choices}
    loaded = store.load("s1")
    assert loaded.version == 3
    assert loaded.relationships == {"captain": {"affinity": 35.0}}
    assert loaded.flags == {"met_mara": True}
    assert loaded.components["captain"].node == "talk"
    assert [(e.seq, e.op) for e in store.events("s1")] == [(1, "create"), (2, "start"), (3, "step")]
    with pytest.raises(ConflictError, match="already exists"):
        store.create(tavern_session())
    with pytest.raises(UnknownNameError):
        store.load("nope")


def test_failed_step_commits_nothing(store):
    engine = NarrativeEngine([load_program(TAVERN)])
    store.create(tavern_session())
    store.start(engine, "s1", "captain", "tavern_encounter")
    with pytest.raises(StepError):
        store.step(engine, "s1", "captain", "rumors")
    assert store.version("s1") == 2 and len(store.events("s1")) == 2


def test_a_long_session_appends_history_and_visit_rows_and_never_rewrites_them(store, monkeypatch):
    from storylab.runtime import history

    monkeypatch.setattr(history, "FOLD_AT", 4)  # steps read back across folded chunks
    engine = NarrativeEngine([NarrativeProgram.model_validate(LOOP)])
    direct = Session("s1")
    store.create(Session("s1"))
    guard = sqlite3.connect(store.path)
    for table in ("history", "visits"):
        guard.execute(
            f"CREATE TRIGGER keep_{table} BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} rewritten'); END"
        )
    guard.commit()
    store.start(engine, "s1", "npc", "loop")
    engine.start(direct, "npc", "loop")
    for _ in range(30):
        store.step(engine, "s1", "npc", "again")
        engine.step(direct, "npc", "again")
    rows = guard.execute("SELECT seq, node FROM history ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == list(range(61))
    assert [r[1] for r in rows[:4]] == ["m", "count", "m", "count"]
    assert guard.execute("SELECT node, count FROM visits ORDER BY rowid").fetchall() == [
        ("m", 31),
        ("count", 30),
    ]
    stored = store.load("s1")
    assert stored.to_dict() == {**direct.to_dict(), "version": 32}
    with pytest.raises(sqlite3.IntegrityError, match="history rewritten"):
        store.save(stored)  # a host's save rewrites the histories: the trigger refuses
    assert store.load("s1").to_dict() == stored.to_dict()  # and nothing was half-written
    guard.execute("DROP TRIGGER keep_history")
    guard.execute("DROP TRIGGER keep_visits")
    guard.commit()
    stored.components["npc"].history.truncate(5)  # a host may rewrite history
    store.save(stored)
    assert len(store.load("s1").components["npc"].history) == 5
    guard.close()


def test_a_store_sees_another_writers_commits(tmp_path):
    engine = NarrativeEngine([NarrativeProgram.model_validate(LOOP)])
    with SessionStore(tmp_path / "s.db") as a, SessionStore(tmp_path / "s.db") as b:
        a.create(Session("s1"))
        a.start(engine, "s1", "npc", "loop")
        for writer in (a, b, a, a, b):
            writer.step(engine, "s1", "npc", "again")
        with pytest.raises(StepError):
            a.step(engine, "s1", "npc", "nope")
        a.step(engine, "s1", "npc", "again")  # after a failed step, from what is stored
        for reader in (a, b):
            session = reader.load("s1")
            assert session.version == 8 and session.components["npc"].variables["loop"]["n"] == 6
            assert len(session.components["npc"].history) == 13
        assert b.replay(engine, "s1").to_dict() == b.load("s1").to_dict()


def test_a_store_written_with_histories_inline_loads_and_moves_them_to_rows(store):
    engine = NarrativeEngine([NarrativeProgram.model_validate(LOOP)])
    store.create(Session("s1"))
    store.start(engine, "s1", "npc", "loop")
    store.step(engine, "s1", "npc", "again")
    before = store.load("s1")
    before.components["npc"].visits["loop"]["gone"] = 4  # a count with no history entry
    db = sqlite3.connect(store.path)  # the layout before history rows
    db.execute("UPDATE components SET data=?", (json.dumps(before.components["npc"].to_dict()),))
    db.execute("DELETE FROM history")
    db.execute("DELETE FROM visits")
    db.commit()
    with SessionStore(store.path) as fresh:
        assert fresh.load("s1").to_dict() == before.to_dict()
        fresh.step(engine, "s1", "npc", "again")
        assert db.execute("SELECT COUNT(*) FROM history").fetchone() == (5,)
        assert db.execute("SELECT node, count FROM visits").fetchall() == [
            ("m", 3),
            ("count", 2),
            ("gone", 4),
        ]
        data = db.execute("SELECT data FROM components").fetchone()[0]
        assert "history" not in json.loads(data) and "visits" not in json.loads(data)
        assert len(fresh.load("s1").components["npc"].history) == 5
    db.close()


def test_numbers_json_cannot_hold_are_refused_and_nothing_is_written(store):
    store.create(tavern_session())
    session = store.load("s1")
    session.flags["omen"] = float("nan")
    with pytest.raises(ValueError, match=r"cannot save flags\.omen = nan"):
        store.save(session)
    session.flags["omen"] = 1.0
    session.relationships["captain"]["trust"] = float("inf")
    with pytest.raises(ValueError, match=r"relationships\.captain\.trust = inf"):
        store.save(session)
    session.relationships["captain"]["trust"] = 2**70
    with pytest.raises(ValueError, match=r"relationships\.captain\.trust = 1180591620717411303424"):
        store.save(session)
    assert store.load("s1").to_dict() == {**tavern_session().to_dict(), "version": 1}


def test_stale_copy_conflicts_in_process(store):
    store.create(tavern_session())
    a, b = store.load("s1"), store.load("s1")
    a.flags["x"] = 1
    assert store.save(a) == 2
    b.flags["y"] = 2
    with pytest.raises(ConflictError, match="version 2, this copy at 1"):
        store.save(b)
    assert store.load("s1").flags == {"x": 1}


def test_a_transaction_commits_its_saves_together_and_a_failed_save_rolls_back_alone(store):
    for sid in ("a", "b", "c"):
        store.create(Session(sid))
    a, b, stale = store.load("a"), store.load("b"), store.load("c")
    store.save(store.load("c"))  # "c" moves on: the stale copy conflicts
    a.flags["x"] = b.flags["x"] = stale.flags["x"] = 1
    with store.transaction():
        assert store.save(a) == 2
        with pytest.raises(ConflictError):
            store.save(stale)
        assert store.load("a").flags == {"x": 1}  # reads inside see the block's writes
        store.save(b)
    assert [store.version(s) for s in ("a", "b", "c")] == [2, 2, 2]
    assert "x" not in store.load("c").flags
    a = store.load("a")
    a.flags["y"] = 2
    with pytest.raises(RuntimeError, match="late"), store.transaction():
        store.save(a)
        raise RuntimeError("late")
    assert store.version("a") == 2 and "y" not in store.load("a").flags


def test_a_transactions_also_hook_commits_with_the_block_or_rolls_it_all_back(store):
    store.create(Session("a"))
    store.create(Session("b"))

    def note(db):
        db.execute("INSERT INTO flags VALUES ('b', 'noted', '1')")

    a = store.load("a")
    a.flags["x"] = 1
    with store.transaction(also=note):
        store.save(a)
        assert "noted" not in store.load("b").flags  # called when the block ends
    assert store.load("a").flags == {"x": 1} and store.load("b").flags == {"noted": 1}

    def refuse(db):
        db.execute("INSERT INTO flags VALUES ('b', 'late', '2')")
        raise RuntimeError("refused")

    a = store.load("a")
    a.flags["y"] = 2
    with pytest.raises(RuntimeError, match="refused"), store.transaction(also=refuse):
        store.save(a)
    assert store.version("a") == 2 and store.load("a").flags == {"x": 1}
    assert store.load("b").flags == {"noted": 1}


def test_characters_are_those_with_relationships_or_a_component(store):
    session = Session("s", relationships={"bo": {"affinity": 0.1}, "ann": {"trust": 1}})
    session.component("cy")
    store.create(session)
    assert store.characters("s") == ["ann", "bo", "cy"]
    assert store.characters("s") == sorted(set(session.relationships) | set(session.components))
    store.create(Session("empty"))
    assert store.characters("empty") == []
    with pytest.raises(UnknownNameError, match="nope"):
        store.characters("nope")


WRITER = """
import sys
from storylab.runtime import ConflictError, NarrativeEngine, SessionStore, load_program
engine = NarrativeEngine([load_program({tavern!r})])
store = SessionStore({db!r})
session = store.load("s1")
print("loaded", session.version, flush=True)
choice = sys.stdin.readline().strip()
engine.step(session, "captain", choice)
try:
    store.save(session, "step", {{"npc": "captain", "input": choice}})
    print("saved", session.version, flush=True)
except ConflictError as exc:
    print("conflict", exc, flush=True)
"""


def _python(code, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        **kw,
    )


def test_two_writers_in_two_processes_conflict(tmp_path):
    db = str(tmp_path / "sessions.db")
    engine = NarrativeEngine([load_program(TAVERN)])
    with SessionStore(db) as store:
        store.create(tavern_session())
        store.start(engine, "s1", "captain", "tavern_encounter")
    code = WRITER.format(tavern=str(TAVERN), db=db)
    first, second = _python(code), _python(code)
    assert first.stdout.readline().split() == ["loaded", "2"]
    assert second.stdout.readline().split() == ["loaded", "2"]
    out1, _ = first.communicate("coin\n", timeout=60)
    out2, _ = second.communicate("adventure\n", timeout=60)
    assert out1.split() == ["saved", "3"]
    assert out2.startswith("conflict") and "version 3, this copy at 2" in out2
    with SessionStore(db) as store:
        final = store.load("s1")
        assert final.version == 3 and final.relationships["captain"]["affinity"] == 35
        assert [e.args.get("input") for e in store.events("s1")][-1] == "coin"


def test_replay_from_the_event_log_reproduces_the_state(store):
    engine = NarrativeEngine([load_program(TAVERN), NarrativeProgram.model_validate(LOOP)])
    store.create(tavern_session())
    store.start(engine, "s1", "captain", "tavern_encounter")
    store.step(engine, "s1", "captain", "coin")
    store.start(engine, "s1", "captain", "loop")  # an interruption
    store.step(engine, "s1", "captain", "again")
    store.advance_time(engine, "s1", 2.5)
    store.pause(engine, "s1", "captain")
    store.resume(engine, "s1", "captain")
    edited = store.load("s1")
    edited.flags["edited_by_host"] = True  # a change made outside the engine
    store.save(edited)
    store.finish(engine, "s1", "captain")
    store.step(engine, "s1", "captain", "rumors")
    stored = store.load("s1")
    replayed = store.replay(engine, "s1")
    assert replayed.to_dict() == stored.to_dict()
    assert stored.components["captain"].program == "tavern_encounter"
    assert stored.flags["edited_by_host"] is True and stored.world_time == 3.5
    early = store.replay(engine, "s1", upto=3)
    assert early.version == 3 and early.components["captain"].node == "talk"
    with pytest.raises(UnknownNameError):
        store.replay(engine, "nope")


KILLED = """
import json
from storylab.runtime import NarrativeEngine, NarrativeProgram, Session, SessionStore
engine = NarrativeEngine([NarrativeProgram.model_validate(json.loads({loop!r}))])
store = SessionStore({db!r})
store.create(Session("s1"))
store.start(engine, "s1", "npc", "loop")
while True:
    store.step(engine, "s1", "npc", "again")
    print(store.version("s1"), flush=True)
"""


def test_a_process_killed_mid_session_loses_nothing_committed(tmp_path):
    db = str(tmp_path / "sessions.db")
    child = _python(KILLED.format(loop=json.dumps(LOOP), db=db))
    seen = 0
    while seen < 40:
        seen = int(child.stdout.readline())
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    engine = NarrativeEngine([NarrativeProgram.model_validate(LOOP)])
    with SessionStore(db) as store:
        session = store.load("s1")
        assert session.version >= seen  # every printed commit is there
        steps = session.version - 2  # create, start, then one event per step
        comp = session.components["npc"]
        assert comp.variables["loop"]["n"] == steps == session.relationships["npc"]["affinity"]
        assert session.world_time == steps and len(comp.history) == 1 + 2 * steps
        assert store.replay(engine, "s1").to_dict() == session.to_dict()
        store.step(engine, "s1", "npc", "again")  # and play goes on
        assert store.load("s1").components["npc"].variables["loop"]["n"] == steps + 1
    check = sqlite3.connect(db)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    check.close()


def test_calls_and_finishing_the_whole_stack_replay_from_the_log(store):
    called = NarrativeProgram.model_validate(
        {
            "id": "caller",
            "entry": "c",
            "nodes": [
                {"id": "c", "type": "call", "program": "loop"},
                {"id": "e", "type": "dialogue", "text": "Back.", "end": True},
            ],
            "edges": [{"from": "c", "to": "e"}],
        }
    )
    engine = NarrativeEngine([load_program(TAVERN), NarrativeProgram.model_validate(LOOP), called])
    store.create(tavern_session())
    store.start(engine, "s1", "captain", "tavern_encounter")
    r = store.start(engine, "s1", "captain", "caller")
    assert r.called == ("loop",)
    r = store.finish(engine, "s1", "captain", stack=True)
    assert r.status == "finished" and r.finished == ("loop", "caller", "tavern_encounter")
    assert store.events("s1")[-1].args == {"npc": "captain", "stack": True}
    stored = store.load("s1")
    assert store.replay(engine, "s1").to_dict() == stored.to_dict()
    assert stored.components["captain"].stack == [] and stored.components["captain"].program is None


def test_a_damaged_component_row_raises_save_error(store):
    engine = NarrativeEngine([load_program(TAVERN)])
    store.create(tavern_session())
    store.start(engine, "s1", "captain", "tavern_encounter")
    db = sqlite3.connect(store.path)
    data = json.loads(db.execute("SELECT data FROM components").fetchone()[0])
    data["stack"] = [["tavern_encounter", 3, False, None]]
    db.execute("UPDATE components SET data=?", (json.dumps(data),))
    db.commit()
    db.close()
    with pytest.raises(SaveError, match=r"components\.captain\.stack\[0\]"):
        store.load("s1")
