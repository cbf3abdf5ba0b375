"""The graph of the harbor district: its world, programs, action blocks and intents."""

import json
from pathlib import Path

import pytest

from storylab.cli import main
from storylab.graph import CharacterGraph, build_graph, ingest
from storylab.intents import IntentStore, Supervisor

HARBOR = Path(__file__).resolve().parents[1] / "data" / "worlds" / "harbor-district"
W = "harbor_district"


@pytest.fixture(scope="module")
def harbor():
    with build_graph([HARBOR]) as g:
        yield g


def test_sources_are_the_world_its_programs_and_the_packaged_blocks(harbor):
    kinds = sorted(harbor.sources()["kind"])
    assert kinds == ["action-blocks", "program", "program", "program", "world"]


def test_where_is_the_sea_captain_used(harbor):
    uses = harbor.uses("sea_captain")
    got = {(r.key, r.via) for r in uses.itertuples()}
    assert ("instance:harbor_district/captain", "instantiates") in got
    assert ("npc:harbor_district/captain", "plays") in got
    # tavern_encounter and dockside_farewell cast the role 'captain', which the world
    # binds to the captain; harbor_talk casts 'local' (the fishmonger)
    assert ("program:tavern_encounter", "cast") in got
    assert ("program:dockside_farewell", "cast") in got
    assert ("program:harbor_talk", "cast") not in got
    # relationships of the manifest: the captain's own, and those towards her
    related = {k for k, via in got if via == "related_to"}
    assert related == {
        "instance:harbor_district/barmaid",
        "instance:harbor_district/guard",
        "instance:harbor_district/harbormaster",
    }
    assert set(harbor.uses("fishmonger")["key"]) >= {"program:harbor_talk"}


def test_characters_for_npc_and_the_character_list(harbor):
    frame = harbor.characters_for_npc("captain")
    assert frame.to_dict("records") == [
        {
            "npc": "npc:harbor_district/captain",
            "instance": "instance:harbor_district/captain",
            "template": "template:sea_captain",
            "world": W,
        }
    ]
    chars = harbor.characters()
    listing = dict(zip(chars["template"], chars["instances"], strict=True))
    # one template per NPC: each dockworker instantiates a dockhand of their own
    assert set(listing.values()) == {1} and len(listing) == 8
    assert {"template:loud_dockhand", "template:quiet_dockhand"} <= set(listing)


def test_the_shipped_harbor_is_consistent(harbor):
    assert harbor.check().empty
    # the programs' scenes need the role 'captain', which the world binds to her NPC, so
    # both scenes are hers (a hard-coded NPC id would have linked them to no character)
    scenes = harbor.scenes_for_character("sea_captain")
    assert scenes.to_dict("records") == [
        {"scene": "dockside_farewell.set_scene", "world": W, "via": "role"},
        {"scene": "tavern_interior", "world": W, "via": "role"},
    ]


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """A store with three finished intents: two for the captain, one untagged for the
    tavern scene."""
    path = tmp_path_factory.mktemp("play") / "play.db"
    with IntentStore(path) as store:
        store.create_intent(
            "scene:tavern_interior",
            "spawn_character",
            {"description": "Mara walks in", "character": "character:sea_captain"},
        )
        store.create_intent(
            "harbor-bell",
            "trigger_encounter",
            {"description": "the bell", "character": "character:sea_captain", "chapter": "fire"},
        )
        store.create_intent("scene:dockside", "story_constraint", {"description": "rain"})
    Supervisor(path, poll=0.01).run(once=True, timeout=60)
    return path


def test_generations_and_assets_from_the_intents_store(played, tmp_path):
    db = tmp_path / "graph.db"
    report = ingest(db, [HARBOR, played])
    assert report["added"] == 5 + 3
    with CharacterGraph(db) as g:
        gens = g.generations_for(character="sea_captain")
        assert len(gens) == 2 and set(gens["label"]) == {"spawn_character", "trigger_encounter"}
        assert len(g.generations_for(character="sea_captain", arc="fire")) == 1
        assert len(g.generations_for(scene="tavern_interior")) == 1
        assets = g.assets_for_character("sea_captain")
        assert len(assets) >= 2 and set(assets["via"]) <= {"for", "produced"}
        usage = g.usage("sea_captain")
        assert set(usage["kind"]) >= {"generation", "asset", "instance", "npc", "program"}
        # the untagged generation is for a scene no program contains: a dangling reference
        dangling = set(g.check(["dangling"])["subject"])
        assert "scene:dockside" in dangling
    assert ingest(db, [HARBOR, played])["unchanged"] == 8  # nothing changed, nothing rewritten


def test_the_graph_shares_the_intents_file(played):
    report = ingest(played, [HARBOR])
    assert report["added"] + report["unchanged"] == 8
    with IntentStore(played) as store:  # the intents layer still opens its file
        assert len(store.intents()) == 3


def test_cli_check_exits_1_on_a_damaged_copy_and_prints_each_problem_with_its_place(
    tmp_path, capsys
):
    """The shipped world with two careless edits: a program hard-codes an NPC id where its
    scene needs the role, and the two dockworkers share one character."""
    data = HARBOR.parents[1]
    world = tmp_path / "worlds" / "harbor-district" / "world.yaml"
    world.parent.mkdir(parents=True)
    text = (HARBOR / "world.yaml").read_text()
    world.write_text(text.replace("character: quiet_dockhand", "character: loud_dockhand"))
    (tmp_path / "programs").mkdir()
    for program in (data / "programs").glob("*.program.yaml"):
        text = program.read_text().replace("roles: {captain: captain}", "roles: {captain: npc_10}")
        (tmp_path / "programs" / program.name).write_text(text)
    assert main(["graph", "check", str(tmp_path / "worlds")]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "4 problem(s)"
    where = f"{world}: programs[tavern_encounter].nodes[0].roles.captain:"
    assert f"{where} [hardcoded_npc] hard-codes 'npc_10' where the role 'captain'" in lines[3]
    assert lines[0].startswith(f"{where} [dangling] a names edge refers to ")
    assert [line.split(" [")[1].split("]")[0] for line in lines[:-1]] == [
        "dangling",
        "duplicate_instance",
        "duplicate_instance",
        "hardcoded_npc",
    ]


def test_cli_check_exits_0_on_a_consistent_program(capsys):
    program = Path(__file__).resolve().parents[1] / "data" / "programs" / "harbor-talk.program.yaml"
    assert main(["graph", "check", str(program)]) == 0
    assert "0 problem(s)" in capsys.readouterr().out


def test_cli_ingest_and_show(tmp_path, capsys):
    db = str(tmp_path / "g.db")
    assert main(["graph", "ingest", db, str(HARBOR)]) == 0
    assert "5 sources added" in capsys.readouterr().out
    assert main(["graph", "show", db, "sea_captain", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"kind": "npc", "world": W, "count": 1} in data["usage"]
    assert main(["graph", "show", db, "sea_captain", "--world", W]) == 0
    assert "instance:harbor_district/captain" in capsys.readouterr().out
    assert main(["graph", "show", db, "nobody"]) == 2
    assert "unknown character 'template:nobody'" in capsys.readouterr().err
    assert main(["graph", "check", str(tmp_path / "missing")]) == 2
    assert main(["graph", "show", str(tmp_path / "none.db"), "x"]) == 2
    assert "no graph database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    assert main(["graph", "show", str(Path(__file__)), "x"]) == 2
    assert "a SQLite database" in capsys.readouterr().err


def test_character_browser_and_neighbourhood_drawing(harbor):
    import matplotlib

    matplotlib.use("Agg")
    from storylab.viz import plot_neighbourhood
    from storylab.widgets import character_browser

    box = character_browser(harbor, "template:sea_captain")
    pick, hops = box.children[0].children
    assert pick.value == "template:sea_captain" and "template:loud_dockhand" in pick.options
    pick.value = "template:loud_dockhand"
    hops.value = 1
    ax = plot_neighbourhood(
        harbor.to_networkx(harbor.character_graph("loud_dockhand", 1)["key"]),
        centre="template:loud_dockhand",
    )
    assert ax.get_title() == "template:loud_dockhand" and len(ax.collections) >= 3
    with CharacterGraph() as empty, pytest.raises(ValueError, match="no character"):
        character_browser(empty)
