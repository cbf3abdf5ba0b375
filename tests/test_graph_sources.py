"""Where the graph's links come from: programs, worlds, archives and files."""

from pathlib import Path

import pytest

from storylab._data import DataError
from storylab.graph import (
    CharacterGraph,
    build_graph,
    collect_fragments,
    ingest,
    program_fragment,
)
from storylab.runtime import parse_program

ROOT = Path(__file__).resolve().parents[1]


def _program(**extra):
    data = {
        "id": "p",
        "entry": "s",
        "metadata": {
            "content_rating": "teen",
            "tags": ["docks"],
            "characters": [{"id": "hero", "role": "hero"}, {"id": "npc_9", "name": "Bo"}],
        },
        "nodes": [
            {
                "id": "s",
                "type": "scene",
                "scene_id": "pier",
                "roles": {"hero": "hero", "mentor": "character:sage", "boss": "npc_9"},
            },
            {"id": "a", "type": "dialogue", "speaker": "Bo", "text": "Hi."},
            {"id": "b", "type": "dialogue", "speaker": "Stranger", "text": "Psst."},
            {"id": "c", "type": "dialogue", "speaker": "{npc.name}", "text": "Templated."},
            {"id": "k", "type": "action_block", "blocks": ["x"], "fallback_blocks": ["x", "y"]},
        ],
        **extra,
    }
    return parse_program(data, "p.yaml")


def test_a_programs_own_links_and_its_unknown_speakers():
    frag = program_fragment(_program(), "p.yaml")
    edges = {(e.src, e.kind, e.dst) for e in frag.edges}
    assert edges == {
        ("program:p", "has_role", "role:hero"),
        ("program:p", "contains", "scene:pier"),
        ("scene:pier", "has_role", "role:hero"),
        ("scene:pier", "names", "template:sage"),
        ("program:p", "uses_block", "block:x"),
        ("program:p", "uses_block", "block:y"),
    }
    assert [(f.check, f.at) for f in frag.findings] == [("speaker_not_in_cast", "nodes[2].speaker")]
    assert {n.key for n in frag.nodes} == {"program:p", "scene:pier"}
    assert frag.nodes[0].rating == "teen" and frag.nodes[0].tags == ("docks",)
    # the same program gives the same hash; a change gives another
    assert program_fragment(_program(), "p.yaml").hash == frag.hash
    assert program_fragment(_program(title="T"), "p.yaml").hash != frag.hash


def _world(roles, npc_role=None):
    return {
        "kind": "world",
        "id": "w",
        "name": "W",
        "content_rating": "teen",
        "locations": {"dock": {"name": "Dock"}},
        "cast": [{"id": "sage", "name": "Sage"}],
        "npcs": {
            "ann": {
                "name": "Ann",
                "character": "sage",
                "personality": dict.fromkeys(
                    ["openness", "conscientiousness", "extraversion", "agreeableness"], 0.5
                )
                | {"neuroticism": 0.5},
                "relationships": {"npc_9": {"affinity": 5}, "player": {"affinity": 1}},
            },
            "npc_9": {
                "name": "Bo",
                "role": npc_role,
                "personality": dict.fromkeys(
                    ["openness", "conscientiousness", "extraversion", "agreeableness"], 0.5
                )
                | {"neuroticism": 0.5},
            },
        },
        "roles": roles,
        "stats": {"axes": {"affinity": {}}},
    }


def test_a_world_resolves_its_programs_cast_and_reports_hard_coded_npcs(tmp_path):
    import yaml

    program = tmp_path / "p.program.yaml"
    program.write_text(yaml.safe_dump(_program().model_dump(mode="json", by_alias=True)))
    data = _world({"hero": "ann"}) | {"programs": ["p.program.yaml"]}
    (tmp_path / "world.yaml").write_text(yaml.safe_dump(data))
    with build_graph([tmp_path]) as g:
        uses = g.uses("sage")
        got = {(r.key, r.via) for r in uses.itertuples()}
        assert ("scene:pier", "role") in got  # the world binds hero to Ann, a sage
        assert ("scene:pier", "names") in got  # the scene names the sage template
        assert ("program:p", "cast") in got
        assert ("npc:w/npc_9", "related_to") in got
        problems = g.check()
        found = {(r.check, r.subject or r.location) for r in problems.itertuples()}
        assert ("hardcoded_npc", "programs[p].nodes[0].roles.boss") in found
        assert ("speaker_not_in_cast", "nodes[2].speaker") in found
        assert ("npc_without_character", "npc:w/npc_9") in found  # named, plays no one
        assert ("dangling", "block:x") in found  # the packaged library has no block x
        assert ("role_unbound", "role:mentor") not in found  # a template fills it


def test_an_unbound_role_in_a_world(tmp_path):
    import yaml

    program = tmp_path / "p.program.yaml"
    program.write_text(yaml.safe_dump(_program().model_dump(mode="json", by_alias=True)))
    data = _world({}) | {"programs": ["p.program.yaml"]}
    (tmp_path / "world.yaml").write_text(yaml.safe_dump(data))
    with build_graph([tmp_path]) as g:
        unbound = g.check(["role_unbound"])
        assert set(unbound["subject"]) == {"role:hero"}
        assert set(unbound["location"]) == {"nodes[0].roles.hero", "metadata.characters[0]"}


def test_archives_define_templates():
    with build_graph([ROOT / "data" / "archives" / "labelled"]) as g:
        chars = g.characters()
        assert len(chars) == 45 and chars.iloc[0]["template"] == "template:labelled-0000"
        assert g.check().empty


def test_bad_paths_and_files():
    with pytest.raises(DataError, match="an existing file or folder"):
        list(collect_fragments(["no/such/place"]))


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    bad = tmp_path / "junk.db"
    bad.write_text("not a database at all, just text" * 10)
    with pytest.raises(DataError, match="SQLite intents store"):
        list(collect_fragments([bad]))


def test_a_bad_world_among_the_paths_writes_nothing(tmp_path):
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "world.yaml").write_text("kind: world\nid: w\n")
    db = tmp_path / "g.db"
    program = ROOT / "data" / "programs" / "harbor-talk.program.yaml"
    with pytest.raises(DataError, match=r"world\.yaml"):
        ingest(db, [program, tmp_path / "w"])
    with CharacterGraph(db) as g:
        assert g.sources().empty
