"""World sessions: the start, decay with time, the start tick, provenance, overrides' view."""

import copy
from pathlib import Path

import pytest
import yaml

from storylab._data import DataError
from storylab.world import WorldSession, load_world, parse_world

HARBOR = Path(__file__).resolve().parents[1] / "data" / "worlds" / "harbor-district"


@pytest.fixture(scope="module")
def world():
    return load_world(HARBOR)


def test_a_new_session_holds_axes_derived_values_and_the_player(world):
    ws = WorldSession(world, id="s")
    row = ws.session.relationships["captain"]
    assert row["affinity"] == 30 and row["tension"] == 10
    assert (row["mood"], row["tier"]) == ("curious", "friend")
    assert ws.session.relationships["thief"]["affinity"] == 0  # the axis default
    assert ws.session.inventory == {"coin": 3} and ws.session.player == {"name": "Ash"}
    assert ws.time == 0 and ws.tick == 0


def test_advance_decays_towards_the_baseline_and_records_it(world):
    ws = WorldSession(world).advance(48)
    row = ws.session.relationships["captain"]
    assert row["affinity"] == 28 and row["tension"] == 6 and row["trust"] == 19
    assert ws.session.relationships["guard"]["affinity"] == -8  # up towards 0
    frame = ws.provenance()
    assert set(frame.source) == {"decay"} and (frame.tick == 96).all()
    with pytest.raises(ValueError):
        ws.advance(-1)
    with pytest.raises(ValueError):
        ws.advance(float("nan"))


def test_the_view_applies_overrides_to_a_copy(world):
    ws = WorldSession(world)
    ws.override(rel__captain__tension=80, time=5)
    view = ws.view()
    assert view.session.relationships["captain"]["mood"] == "angry"
    assert ws.session.relationships["captain"]["mood"] == "curious"
    assert ws.time == 5 and ws.session.world_time == 0
    assert ws.reset_overrides().time == 0


def test_the_clock_start_must_fall_on_a_tick():
    data = copy.deepcopy(yaml.safe_load((HARBOR / "world.yaml").read_text()))
    data["clock"]["start"] = "mon 08:15"
    with pytest.raises(DataError) as info:
        parse_world(data, HARBOR / "world.yaml")
    assert "clock.start" in [p.path for p in info.value.problems]
    data["clock"]["ticks_per_hour"] = 7
    with pytest.raises(DataError, match="divide 60"):
        parse_world(data, HARBOR / "world.yaml")
