"""World time: schedule blocks at their edges, across midnight and the week's end."""

from pathlib import Path

import pytest

from storylab._data import UnknownNameError
from storylab.world import WorldSession, format_time, load_world, parse_at, presence, where
from storylab.world.clock import block_intervals, minutes_of, parse_day_time

HARBOR = Path(__file__).resolve().parents[1] / "data" / "worlds" / "harbor-district"


@pytest.fixture(scope="module")
def world():
    return load_world(HARBOR)


@pytest.mark.parametrize(
    ("at", "location", "activity"),
    [
        ("mon 05:30", "docks", "home"),  # before the first block: at home
        ("mon 06:00", "docks", "working"),  # a block's first minute belongs to it
        ("mon 11:30", "docks", "working"),
        ("mon 12:00", "market", "trading"),  # the end belongs to the next block
        ("mon 14:00", "docks", "working"),
        ("mon 22:00", "docks", "home"),
        ("sat 10:00", "tavern", "drinking"),
        ("sun 01:30", "tavern", "drinking"),  # Saturday's block runs past midnight
        ("sun 02:00", "docks", "home"),
        ("mon 01:30", "tavern", "drinking"),  # Sunday's block runs past the week's end
        ("mon 02:00", "docks", "home"),
    ],
)
def test_the_captain_at_block_edges(world, at, location, activity):
    place = where(world, "captain", at=at)
    assert (place.location, place.activity) == (location, activity)


def test_an_npc_without_a_home_is_nowhere_outside_its_blocks(world):
    data = world.model_dump(by_alias=True)
    data["npcs"]["thief"]["home"] = None
    from storylab.world import parse_world

    twin = parse_world(data, HARBOR / "world.yaml")
    assert where(twin, "thief", at="mon 08:00").location is None
    assert where(twin, "thief", at="mon 08:00").source == "away"
    assert where(twin, "thief", at="sat 03:00").location == "alleys"  # fri 22:00 -> sat 04:00


def test_parse_at_is_the_first_such_time_from_the_start(world):
    assert parse_at(world, "mon 08:00") == 0.0
    assert parse_at(world, "mon 09:30") == 1.5
    assert parse_at(world, "mon 07:00") == 7 * 24 - 1  # next week's Monday
    assert parse_at(world, "07:00") == 23.0
    assert parse_at(world, 5) == 5.0
    for bad in ("someday 08:00", "mon 25:00", "noon", -1, float("nan"), True):
        with pytest.raises(ValueError):
            parse_at(world, bad)


def test_format_time_counts_days_from_the_start(world):
    assert format_time(world, 0) == "day 1 mon 08:00"
    assert format_time(world, 16) == "day 2 tue 00:00"
    assert format_time(world, 7 * 24) == "day 8 mon 08:00"


def test_presence_of_everyone_and_location_overrides(world):
    ws = WorldSession(world)
    table = presence(ws)
    assert list(table.columns) == ["npc", "name", "location", "activity", "source"]
    assert len(table) == len(world.npcs)
    ws.override({"npcs.captain.location": "lighthouse"})
    moved = presence(ws).set_index("npc").loc["captain"]
    assert (moved.location, moved.source) == ("lighthouse", "override")
    assert where(world, "captain").location == "docks"  # the world itself is untouched


def test_where_refuses_unknown_npcs(world):
    with pytest.raises(UnknownNameError):
        where(world, "kraken")


def test_clock_helpers():
    days = ["a", "b"]
    assert minutes_of("00:00") == 0 and minutes_of("24:00") == 1440
    with pytest.raises(ValueError):
        minutes_of("7:00")
    assert parse_day_time("b 01:00", days) == (1, 60)
    with pytest.raises(ValueError):
        parse_day_time("b 24:00", days)
    assert block_intervals("b", "23:00", "01:00", days) == [(2820, 2880), (0, 60)]
    assert block_intervals("daily", "00:00", "24:00", days) == [(0, 1440), (1440, 2880)]
