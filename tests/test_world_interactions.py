"""Interactions: the dry run mutates nothing; execute commits through the store; overrides
never reach the stored session; provenance of every change; the prompt preview."""

from pathlib import Path

import pytest

from storylab.runtime import ConflictError, SessionStore, StepError
from storylab.world import (
    GatingError,
    WorldSession,
    execute,
    load_world,
    prompt_preview,
    simulate_interaction,
)

HARBOR = Path(__file__).resolve().parents[1] / "data" / "worlds" / "harbor-district"


@pytest.fixture(scope="module")
def world():
    return load_world(HARBOR)


@pytest.fixture
def ws(world):
    return WorldSession(world, id="s1")


@pytest.fixture
def store(tmp_path):
    with SessionStore(tmp_path / "sessions.db") as s:
        yield s


def test_dry_run_mutates_nothing_and_returns_the_diff(ws):
    before = ws.session.to_dict()
    result = simulate_interaction(ws, "captain", "talk", ["listen"])
    assert ws.session.to_dict() == before and ws.changes == []
    diff = result.diff.set_index("name")
    assert diff.loc["rel.captain.affinity", "delta"] == 2
    assert diff.loc["flags.used:talk:captain", "after"] == 0.0
    assert [c.source for c in result.changes] == ["program:harbor_talk"]
    assert "They talk of the tide" in result.transcript and result.transcript_hash


def test_dry_run_with_interaction_effects_records_both_sources(ws):
    ws.override({"time": 9.0})  # mon 17:00: Nell serves in the tavern
    result = simulate_interaction(ws, "barmaid", "buy_drink", ["toast"])
    sources = {c.source for c in result.changes}
    assert sources == {"interaction:buy_drink", "program:harbor_talk"}
    diff = result.diff.set_index("name")
    assert diff.loc["inv.coin", "delta"] == -1
    assert diff.loc["rel.barmaid.affinity", "delta"] == 5  # 2 from the interaction, 3 toast
    assert ws.overrides == {"time": 9.0} and ws.session.inventory == {"coin": 3}


def test_dry_run_refuses_an_unavailable_interaction_unless_forced(ws):
    with pytest.raises(GatingError, match="min_affinity"):
        simulate_interaction(ws, "captain", "flirt")
    result = simulate_interaction(ws, "captain", "flirt", ["leave"], force=True)
    assert result.error is None and result.results


def test_axes_are_clamped_to_their_bounds(ws):
    ws.override({"rel.captain.affinity": 99.0})
    result = simulate_interaction(ws, "captain", "talk", ["listen"])
    assert result.session.relationships["captain"]["affinity"] == 100
    assert result.changes[0].after == 100


def test_execute_commits_through_the_store(ws, store):
    store.create(ws.session)
    result = execute(ws, "captain", "talk", store, ["listen"])
    stored = store.load("s1")
    assert stored.relationships["captain"]["affinity"] == 32
    assert stored.version == ws.session.version == 2
    assert [e.op for e in store.events("s1")] == ["create", "replace"]
    assert ws.provenance().source.tolist() == ["program:harbor_talk"]
    assert result.session is ws.session


def test_execute_on_cooldown_is_refused(ws, store):
    store.create(ws.session)
    ws.session.world_time = 0.0
    ws.override({"rel.fishmonger.affinity": 30})
    with pytest.raises(GatingError, match="min_affinity"):  # overrides do not count for real
        execute(ws, "fishmonger", "ask_rumors", store, ["press"])
    ws.reset_overrides()
    ws.session.relationships["fishmonger"]["affinity"] = 30
    ws.session.version = store.version("s1")
    store.save(ws.session)
    execute(ws, "fishmonger", "ask_rumors", store, ["press"])
    with pytest.raises(GatingError, match="cooldown"):
        execute(ws, "fishmonger", "ask_rumors", store, ["press"])
    ws.advance(1.0)
    assert simulate_interaction(ws, "fishmonger", "ask_rumors", ["press"]).error is None


def test_a_stale_session_conflicts_and_nothing_moves(ws, store):
    store.create(ws.session)
    other = WorldSession(ws.world, store.load("s1"))
    execute(other, "captain", "talk", store, ["listen"])
    before = ws.session.to_dict()
    with pytest.raises(ConflictError):
        execute(ws, "captain", "talk", store, ["boast"])
    assert ws.session.to_dict() == before and ws.changes == []


def test_a_program_error_writes_nothing(ws, store):
    store.create(ws.session)
    with pytest.raises(StepError):
        execute(ws, "captain", "talk", store, ["no_such_choice"])
    assert store.version("s1") == 1 and ws.session.version == 1


def test_overrides_are_never_persisted_unless_committed(ws, store):
    store.create(ws.session)
    ws.override({"rel.captain.affinity": 80, "flags.vip": True, "time": 30})
    ws.override({"npcs.captain.personality.extraversion": 0.1})
    execute(ws, "captain", "talk", store, ["listen"])
    stored = store.load("s1")
    assert stored.relationships["captain"]["affinity"] == 32 and "vip" not in stored.flags
    assert stored.world_time == 0
    ws.commit_overrides()
    assert ws.session.relationships["captain"]["affinity"] == 80
    assert ws.session.flags["vip"] is True and ws.session.world_time == 30
    assert ws.overrides == {"npcs.captain.personality.extraversion": 0.1}
    assert ws.changes[-1].source == "override"
    assert store.load("s1").relationships["captain"]["affinity"] == 32  # until saved


def test_bad_overrides_are_refused_whole(ws):
    for bad in (
        {"rel.kraken.affinity": 1},
        {"rel.captain.charm": 1},
        {"npcs.captain.personality.extraversion": 2},
        {"npcs.captain.location": "moon"},
        {"npcs.captain.mood": "happy"},
        {"time": -1},
        {"weather": "fog"},
    ):
        with pytest.raises((ValueError, KeyError)):
            ws.override({"flags.ok": True, **bad})
        assert ws.overrides == {}


def test_prompt_preview_attributes_each_part(ws):
    preview = prompt_preview(ws, "captain", "talk")
    table = preview.table.set_index("source")
    assert table.loc["personality.extraversion", "text"] == "outgoing and talkative"
    assert table.loc["axes.affinity", "value"] == 30
    assert preview.social.mood == "curious" and preview.social.tier == "friend"
    assert "Captain Mara, ship captain" in preview.text
    ws.override({"npcs.captain.personality.extraversion": 0.2, "rel.captain.affinity": 60})
    moved = prompt_preview(ws, "captain").table.set_index("source")
    assert moved.loc["personality.extraversion", "text"] == "reserved and quiet"
    assert moved.loc["runtime", "text"] == "tier close_friend, mood curious"
    assert moved.loc["derived.mood", "reason"] == "rel.self.affinity >= 10 and var.openness >= 0.6"
