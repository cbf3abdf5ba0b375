"""The world manifest: schema errors with paths, cross-references, every problem at once."""

import copy
import json
from pathlib import Path

import pytest
import yaml

from storylab._data import DataError
from storylab.cli import main
from storylab.validation import validate_file
from storylab.world import World, load_world, parse_world, world_json_schema

ROOT = Path(__file__).resolve().parents[1]
HARBOR = ROOT / "data" / "worlds" / "harbor-district"
SOURCE = HARBOR / "world.yaml"


@pytest.fixture(scope="module")
def doc():
    return yaml.safe_load(SOURCE.read_text())


def _problems(data):
    with pytest.raises(DataError) as info:
        parse_world(data, SOURCE)
    return {p.path: p.expected for p in info.value.problems}


def test_harbor_district_loads_with_its_programs():
    world = load_world(HARBOR)
    assert len(world.locations) >= 6 and len(world.npcs) >= 8 and len(world.interactions) >= 12
    assert set(world.program_map) == {"tavern_encounter", "dockside_farewell", "harbor_talk"}
    assert world.npcs["captain"].id == "captain"
    assert world.npcs["captain"].personality.extraversion == 0.7
    assert world.roles["captain"] == "captain" and world.npcs["captain"].character == "sea_captain"
    assert {c.id for c in world.cast} >= {world.npcs[n].character for n in world.npcs}
    assert world.source.endswith("world.yaml")


def test_a_value_of_the_wrong_type_names_its_path(doc):
    bad = copy.deepcopy(doc)
    bad["interactions"]["flirt"]["gating"]["min_chemistry"] = "high"
    problems = _problems(bad)
    assert list(problems) == ["interactions.flirt.gating.min_chemistry"]
    assert "valid number" in problems["interactions.flirt.gating.min_chemistry"]
    assert "'high'" in problems["interactions.flirt.gating.min_chemistry"]


def test_schema_problems_are_all_reported(doc):
    bad = copy.deepcopy(doc)
    bad["npcs"]["captain"]["personality"]["openness"] = 1.5
    bad["locations"]["docks"]["colour"] = "grey"
    bad["npcs"]["thief"]["schedule"][0]["start"] = "25:00"
    problems = _problems(bad)
    assert {
        "npcs.captain.personality.openness",
        "locations.docks.colour",
        "npcs.thief.schedule[0].start",
    } <= set(problems)


def test_every_cross_reference_problem_at_once(doc):
    bad = copy.deepcopy(doc)
    bad["interactions"]["flirt"]["npcs"].append("ghost")
    bad["interactions"]["flirt"]["gating"]["min_charm"] = 3
    bad["interactions"]["flirt"]["gating"]["sometimes"] = 1
    bad["interactions"]["trade"]["roles"] = ["pirate"]
    bad["interactions"]["talk"]["gating"]["location"] = ["moon"]
    bad["interactions"]["talk"]["gating"]["mood"] = ["ecstatic"]
    bad["interactions"]["see_off"]["program"] = "nope"
    bad["interactions"]["see_off"]["effects"] = {"relationships": {"ghost": {"affinity": 1}}}
    bad["locations"]["docks"]["hotspots"][0]["node"] = "nowhere"
    bad["npcs"]["captain"]["home"] = "ship"
    bad["npcs"]["captain"]["relationships"]["stranger"] = {"affinity": 1}
    bad["npcs"]["captain"]["relationships"]["player"]["affinity"] = 500
    bad["roles"]["villain"] = "nobody"
    problems = _problems(bad)
    expected = {
        "interactions.flirt.npcs[2]": "ghost",
        "interactions.flirt.gating.min_charm": "charm",
        "interactions.flirt.gating.sometimes": "min_<axis>",
        "interactions.trade.roles[0]": "pirate",
        "interactions.talk.gating.location[0]": "moon",
        "interactions.talk.gating.mood[0]": "ecstatic",
        "interactions.see_off.program": "nope",
        "interactions.see_off.effects.relationships.ghost": "ghost",
        "locations.docks.hotspots[0].node": "nowhere",
        "npcs.captain.home": "ship",
        "npcs.captain.relationships.stranger": "stranger",
        "npcs.captain.relationships.player.affinity": "[-100, 100]",
        "roles.villain": "nobody",
    }
    for path, word in expected.items():
        assert word in problems[path], path


def test_overlapping_schedule_blocks_are_refused_even_across_the_week_end(doc):
    bad = copy.deepcopy(doc)
    # Mara drinks from sun 10:00 to mon 02:00; a mon 01:00 block overlaps across the week end
    bad["npcs"]["captain"]["schedule"].append(
        {"day": "mon", "start": "01:00", "end": "03:00", "location": "docks"}
    )
    problems = _problems(bad)
    assert "mon 01:00" in problems["npcs.captain.schedule[4]"]
    assert "schedule[3]" in problems["npcs.captain.schedule[4]"]


def test_blocks_that_touch_do_not_overlap(doc):
    ok = copy.deepcopy(doc)
    ok["npcs"]["captain"]["schedule"].append(
        {"day": "mon", "start": "02:00", "end": "06:00", "location": "tavern"}
    )
    assert isinstance(parse_world(ok, SOURCE), World)


def test_a_derived_expression_that_does_not_parse_or_evaluate(doc):
    bad = copy.deepcopy(doc)
    bad["stats"]["derived"]["mood"]["cases"][0]["when"] = "rel.self.tension >="
    assert "stats.derived.mood.cases[0].when" in _problems(bad)
    bad = copy.deepcopy(doc)
    bad["stats"]["derived"]["warmth"]["expression"] = "var.extroversion * 2"
    problems = _problems(bad)
    assert "extroversion" in problems["stats.derived"]


def test_a_broken_program_is_reported_with_its_own_file(doc, tmp_path):
    (tmp_path / "p.yaml").write_text("id: p\nentry: a\nnodes: []\n")
    bad = copy.deepcopy(doc)
    bad["programs"] = ["p.yaml"]
    bad["locations"] = {"docks": {"name": "Docks"}}
    bad["interactions"] = {}
    bad["npcs"] = {}
    bad["roles"] = {}
    with pytest.raises(DataError) as info:
        parse_world(bad, tmp_path / "world.yaml")
    assert any(p.file.endswith("p.yaml") and p.path == "nodes" for p in info.value.problems)


def test_ids_default_to_keys_and_a_differing_id_is_refused(doc):
    bad = copy.deepcopy(doc)
    bad["locations"]["docks"]["id"] = "pier"
    assert "pier" in _problems(bad)["locations.docks.id"]


def test_json_schema_exports_and_names_the_map_fields():
    schema = world_json_schema()
    json.dumps(schema)
    assert schema["title"] == "storylab world"
    assert {"locations", "npcs", "interactions", "stats", "clock", "roles", "cast"} <= set(
        schema["properties"]
    )


def test_cli_world_check_and_validate(tmp_path, capsys, doc):
    assert main(["world", "check", str(HARBOR)]) == 0
    assert "8 NPCs" in capsys.readouterr().out
    assert validate_file(SOURCE) == []
    bad = copy.deepcopy(doc)
    bad["npcs"]["captain"]["home"] = "ship"
    bad["programs"] = [str(ROOT / "data" / "programs" / p) for p in ("harbor-talk.program.yaml",)]
    target = tmp_path / "world.yaml"
    target.write_text(yaml.safe_dump(bad))
    assert main(["world", "check", str(target)]) == 1
    out = capsys.readouterr().out
    assert "npcs.captain.home" in out and "tavern_encounter" in out
    assert validate_file(target)[0].path == "locations.docks.hotspots[0].program"


def test_cli_schema_world(tmp_path, capsys):
    out = tmp_path / "world.schema.json"
    assert main(["schema", "world", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["title"] == "storylab world"
