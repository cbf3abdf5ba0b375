"""Gating: every requirement kind passing and failing with its reason; cooldowns expiring."""

from pathlib import Path

import pytest

from storylab._data import UnknownNameError
from storylab.world import WorldSession, available, load_world, why_not

HARBOR = Path(__file__).resolve().parents[1] / "data" / "worlds" / "harbor-district"


@pytest.fixture(scope="module")
def world():
    return load_world(HARBOR)


@pytest.fixture
def ws(world):
    return WorldSession(world)


def _row(ws, npc, interaction, at=None):
    table = available(ws, npc, at)
    return table.set_index("interaction").loc[interaction]


def _failed(ws, npc, interaction, at=None):
    return {f.requirement: f for f in _row(ws, npc, interaction, at).failures}


def test_one_row_per_npc_and_applicable_interaction(ws, world):
    table = available(ws)
    assert list(table.columns[:5]) == ["npc", "interaction", "label", "available", "why_not"]
    assert set(table.npc) == set(world.npcs)
    assert not ((table.npc == "thief") & (table.interaction == "flirt")).any()  # npcs: list
    trades = set(table[table.interaction == "trade"].npc)
    assert trades == {"captain", "fishmonger"}  # roles: [merchant]
    assert table.available.any() and not table.available.all()


def test_location_and_relationship_minimum(ws):
    fails = _failed(ws, "captain", "ask_rumors", "mon 09:00")
    assert fails["location"].actual == "docks"
    assert "tavern" in fails["location"].required
    assert "min_affinity" not in fails  # 30 >= 20
    flirt = _failed(ws, "captain", "flirt")
    assert flirt["min_affinity"].actual == 30 and flirt["min_affinity"].required == ">= 40"
    assert "min_chemistry" not in flirt  # 40 >= 30


def test_maximum_mood_flags_inventory_and_activity(ws):
    bribe = _failed(ws, "guard", "bribe", "mon 09:00")
    assert bribe["flags.heard_rumor"].actual is False and bribe["flags.heard_rumor"].required
    assert "inventory.coin" not in bribe  # 3 coins held, 3 needed
    ws.override({"inv.coin": 1, "rel.guard.tension": 45, "flags.heard_rumor": True})
    bribe = _failed(ws, "guard", "bribe", "mon 09:00")
    assert bribe["inventory.coin"].actual == 1 and bribe["inventory.coin"].required == ">= 3"
    assert bribe["max_tension"].actual == 45
    assert "flags.heard_rumor" not in bribe
    warn = _failed(ws, "guard", "warn_about_thief", "sun 13:00")
    assert warn["activity"].actual == "resting"
    flirt = _failed(ws, "barmaid", "flirt", "mon 20:00")
    assert "mood" not in flirt  # Nell: affinity 10, openness 0.7 -> curious
    ws.override({"rel.barmaid.tension": 70})
    assert _failed(ws, "barmaid", "flirt", "mon 20:00")["mood"].actual == "angry"


def test_time_window_across_midnight_and_days(ws):
    assert "time" not in _failed(ws, "barmaid", "buy_drink", "tue 01:00")
    late = _failed(ws, "barmaid", "buy_drink", "tue 03:00")
    assert late["time"].actual == "03:00" and "16:00" in late["time"].required
    assert set(late) == {"time"}  # at home in the tavern, with coin: only the clock fails
    see_off = _failed(ws, "captain", "see_off", "sat 10:00")
    assert see_off["days"].actual == "sat"
    assert "days" not in _failed(ws, "captain", "see_off", "fri 10:00")


def test_presence_and_player_location(ws):
    assert _failed(ws, "thief", "talk", "fri 23:00") == {}
    ws.override({"player.location": "docks"})
    present = _failed(ws, "thief", "talk", "fri 23:00")["present"]
    assert present.actual == "alleys" and "docks" in present.required


def test_a_row_is_available_when_every_requirement_holds(ws):
    ws.override({"rel.captain.affinity": 50})
    row = _row(ws, "captain", "flirt", "sat 12:00")  # happy: affinity 50, extraversion .7
    assert row.available and row.why_not == "" and row.failures == ()


def test_cooldown_left_and_expiry(ws):
    ws.override({"rel.fishmonger.affinity": 25})
    ws.session.flags["used:ask_rumors:fishmonger"] = 1.0  # used at world time 1 h
    soon = _row(ws, "fishmonger", "ask_rumors", 1.5)
    assert not soon.available and soon.cooldown_left == pytest.approx(0.5)
    assert "cooldown" in soon.why_not
    later = _row(ws, "fishmonger", "ask_rumors", 2.0)
    assert later.available and later.cooldown_left == 0


def test_per_npc_override_replaces_the_gating(ws):
    captain = _failed(ws, "captain", "trade", "mon 09:00")
    assert "location" not in captain  # docks allowed for the captain
    ide = _failed(ws, "fishmonger", "trade", "mon 13:00")
    assert ide["location"].actual == "alleys"


def test_why_not_is_long_form(ws):
    table = why_not(ws, "captain")
    assert list(table.columns) == ["npc", "interaction", "requirement", "actual", "required"]
    assert set(table.npc) == {"captain"}
    assert ("flirt", "min_affinity") in set(zip(table.interaction, table.requirement, strict=True))


def test_unknown_names_are_refused(ws):
    with pytest.raises(UnknownNameError):
        available(ws, "kraken")
    with pytest.raises(UnknownNameError):
        available(ws, interaction="dance")
    with pytest.raises(ValueError):
        available(ws, at="someday")
