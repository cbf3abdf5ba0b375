"""The intents store: tables, schema checks, the pending index, effect plans, reads."""

import json
import re
import sqlite3
import time

import pytest

from storylab._data import DataError, UnknownNameError
from storylab.intents import (
    COMPOSER_KINDS,
    INTENT_KINDS,
    SCHEMA_VERSION,
    IntentStore,
    PendingIntentExists,
    StoreFileError,
    next_actor,
)
from storylab.intents.store import _json, new_id
from storylab.runtime import Session, SessionStore
from storylab.storyteller import StoryIntentType


@pytest.fixture
def store(tmp_path):
    with IntentStore(tmp_path / "play.db") as s:
        yield s


def _people(store, sid="tavern", names=("ann", "bo", "cy")):
    store.sessions.create(Session(sid, relationships={n: {"affinity": 0.0} for n in names}))


def test_composer_kinds_are_the_storytellers_intent_types():
    assert set(COMPOSER_KINDS) == {t.value for t in StoryIntentType}
    assert len(INTENT_KINDS) == 9


def test_second_pending_intent_in_a_scenario_is_refused_naming_both(store):
    first = store.create_intent("tavern", "story_constraint", {"description": "a storm"})
    with pytest.raises(PendingIntentExists) as err:
        store.create_intent("tavern", "story_constraint", {"description": "again"})
    assert "'tavern'" in str(err.value) and first.id in str(err.value)
    assert err.value.intent_id == first.id
    # another scenario is free; and once the first ends, the scenario is free again
    store.create_intent("harbor", "story_constraint", {"description": "fog"})
    assert store.cancel(first.id)
    store.create_intent("tavern", "story_constraint", {"description": "again"})
    assert list(store.intents("tavern").status) == ["cancelled", "pending"]


def test_the_partial_unique_index_holds_in_sql_too(store):
    store.create_intent("tavern", "story_constraint", {"description": "a storm"})
    db = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO intents (id, scenario, session_id, kind, status, inputs, workflow_id, "
            "next_attempt_at, created_at, updated_at) "
            "VALUES ('x', 'tavern', 'tavern', 'k', 'pending', '{}', 'w', 0, 0, 0)"
        )
    db.close()


def test_direct_control_inserts_the_player_turn_then_generates_the_next_actors_reply(store):
    _people(store)
    intent = store.create_intent("tavern", "direct_control", {"author": "bo", "text": "Hi"})
    (player, reply) = intent.effects
    assert (player.kind, player.payload["participant"], player.payload["content"]) == (
        "insert_turn",
        "bo",
        "Hi",
    )
    assert (reply.kind, reply.payload["participant"]) == ("generate_turn", "cy")
    assert {e.status for e in intent.effects} == {"planned"}
    assert intent.status == "pending" and intent.attempts == 0


def test_story_constraint_plans_one_generated_turn_under_its_constraint(store):
    _people(store)
    intent = store.create_intent(
        "tavern", "story_constraint", {"description": "a fight", "constraint": "no deaths"}
    )
    (gen,) = intent.effects
    assert gen.kind == "generate_turn"
    assert gen.payload["constraint"] == "no deaths" and gen.payload["participant"] == "ann"


@pytest.mark.parametrize(
    ("kind", "plan"),
    [
        ("spawn_character", [("add_participant", "dee"), ("generate_turn", "dee")]),
        ("assign_behavior", [("set_flag", "behavior.dee")]),
        ("create_contract", [("set_flag", "contract.dee"), ("generate_turn", "ann")]),
        ("trigger_encounter", [("generate_turn", "ann")]),
        ("modify_relationship", [("set_relationship", "dee"), ("generate_turn", "ann")]),
        ("update_personality", [("set_flag", "personality.dee")]),
        ("record_history", [("insert_turn", "narrator")]),
    ],
)
def test_each_composer_kind_plans_its_effects(store, kind, plan):
    _people(store)
    intent = store.create_intent(
        kind, kind, {"description": "x", "character": "dee"}, session_id="tavern"
    )
    got = [
        (e.kind, e.payload.get("participant") or e.payload.get("name") or e.payload.get("npc"))
        for e in intent.effects
    ]
    assert got == plan


def test_actor_override_and_explicit_participants_win(store):
    _people(store)
    over = store.create_intent("a", "story_constraint", {"description": "x", "actor": "zed"})
    assert over.effects[0].payload["participant"] == "zed"
    given = store.create_intent(
        "b", "direct_control", {"author": "p", "text": "t", "participants": ["p", "q"]}
    )
    assert given.effects[1].payload["participant"] == "q"


def test_next_actor_round_robin_and_its_edges():
    assert next_actor(["a", "b", "c"], "c") == "a"
    assert next_actor(["a"], "a") == "a"
    assert next_actor(["a", "b"], "stranger") == "a"
    with pytest.raises(ValueError, match="no participants"):
        next_actor([], None)


def test_bad_inputs_name_the_field_and_write_nothing(store):
    with pytest.raises(DataError) as err:
        store.create_intent("tavern", "direct_control", {"author": "ann", "txt": "typo"})
    assert "text" in str(err.value) and "txt" in str(err.value)
    with pytest.raises(UnknownNameError, match="intent kind 'chat'"):
        store.create_intent("tavern", "chat", {})
    with pytest.raises(ValueError, match="scenario"):
        store.create_intent("", "story_constraint", {"description": "x"})
    with pytest.raises(DataError, match="urgency"):
        store.create_intent("t", "trigger_encounter", {"description": "x", "urgency": 2})
    assert store.intents().empty


def test_creation_is_visible_as_events_and_in_the_tables(store):
    intent = store.create_intent("tavern", "direct_control", {"author": "ann", "text": "Hi"})
    kinds = [e.kind for e in store.events(intent.id)]
    assert kinds == ["created", "effect_planned", "effect_planned"]
    frame = store.intents()
    assert list(frame.columns[:5]) == ["id", "scenario", "session_id", "kind", "status"]
    assert frame.iloc[0].effects == 2 and frame.iloc[0].applied == 0
    effects = store.effects(intent.id)
    assert list(effects["kind"]) == ["insert_turn", "generate_turn"]
    assert store.progress(intent.id).planned == 2 and not store.progress(intent.id).done
    assert store.sessions.ids() == ["tavern"]  # the scenario's session, created empty


def test_ids_grow_with_time_and_intents_read_in_one_batch(store):
    first = new_id("i")
    time.sleep(0.002)
    assert re.fullmatch(r"i-[0-9a-f]{21}", first) and new_id("i") > first
    a = store.create_intent("tavern", "direct_control", {"author": "ann", "text": "Hi"})
    time.sleep(0.002)
    b = store.create_intent("yard", "story_constraint", {"description": "rain"})
    assert a.id < b.id
    found = store.intents_by_id([b.id, "i-nope", a.id])
    assert set(found) == {a.id, b.id} and found[b.id] == store.intent(b.id)
    assert [e.kind for e in found[a.id].effects] == ["insert_turn", "generate_turn"]
    assert found[a.id].inputs == {"author": "ann", "text": "Hi"}
    assert store.intents_by_id([]) == {}


def test_rows_json_is_compact_sorted_and_refuses_what_json_cannot_hold():
    value = {"b": [1, 2.5, None, True], "a": 'é "q" \u2028', "c": {"z": 1, "y": float("inf")}}
    assert _json(value) == json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert json.loads(_json(value)) == value
    with pytest.raises(TypeError, match="set"):
        _json({"a": {1}})


def test_cancel_fails_the_planned_effects_and_ends_the_stream(store):
    intent = store.create_intent("tavern", "story_constraint", {"description": "x"})
    assert store.cancel(intent.id, "changed my mind")
    assert not store.cancel(intent.id)
    result = store.result(intent.id)
    assert result.status == "cancelled" and result.error == "changed my mind"
    assert [e.status for e in result.effects] == ["failed"]
    assert list(store.events(intent.id, follow=True))[-1].kind == "cancelled"
    with pytest.raises(UnknownNameError, match="intent 'nope'"):
        store.cancel("nope")


def test_a_runtime_session_file_gains_the_intent_tables(tmp_path):
    path = tmp_path / "sessions.db"
    with SessionStore(path) as s:
        s.create(Session("tavern"))
    with IntentStore(path) as store:
        store.create_intent("tavern", "story_constraint", {"description": "x"})
        assert store.sessions.version("tavern") == 1
    db = sqlite3.connect(path)
    assert db.execute("SELECT layer, version FROM storylab_schema").fetchall() == [
        ("intents", SCHEMA_VERSION)
    ]
    db.close()


def test_foreign_files_are_refused_by_path_and_left_untouched(tmp_path):
    foreign = tmp_path / "other.db"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE customers (id INTEGER)")
    db.commit()
    db.close()
    text = tmp_path / "notes.db"
    text.write_text("not a database at all, just words " * 10)
    for path in (foreign, text):
        before = path.read_bytes()
        with pytest.raises(StoreFileError, match=str(path)):
            IntentStore(path)
        assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db", "other.db"]


def test_a_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "play.db"
    IntentStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE storylab_schema SET version=? WHERE layer='intents'", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreFileError, match=f"{path}.*newer"):
        IntentStore(path)
    assert path.read_bytes() == before


def test_a_composed_plans_intents_become_stored_intents(store):
    from storylab import compose
    from storylab.intents import composer_inputs

    plan = compose("man_in_a_hole", "crime", seed=7, actants={"opponent": "Vex"})
    kinds = []
    spawn = next(i for i in plan.intents if i.type.value == "spawn_character")
    for i, story_intent in enumerate([*plan.intents[:5], spawn]):
        kind, inputs = composer_inputs(story_intent)
        intent = store.create_intent(f"phase-{i}", kind, inputs, session_id="tavern")
        kinds.append((intent.kind, [e.kind for e in intent.effects]))
        assert intent.inputs["action_id"] == story_intent.action_id
    assert ("spawn_character", ["add_participant", "generate_turn"]) in kinds
    spawned = next(
        store.intent(i) for i in store.intents().id if store.intent(i).kind == "spawn_character"
    )
    assert spawned.inputs["character"] == "Vex" and spawned.inputs["target_role"] == "opponent"
