"""The graph's queries and checks on a small hand-built graph."""

import networkx as nx
import pytest

from storylab._data import UnknownNameError
from storylab.graph import CharacterGraph, Fragment, GraphEdge, GraphNode, write_graphml

W = "w1"


def _e(src, dst, kind, world=None, at="x", data=None):
    return GraphEdge(src, dst, kind, world, at, data)


def _world():
    nodes = [
        GraphNode("world:w1", "World one", W, "teen"),
        GraphNode("template:ann", "Ann", tags=("hero",), at="cast[0]"),
        GraphNode("template:bob", "Bob", at="cast[1]"),
        GraphNode("instance:w1/a", "Ann", W, at="npcs.a"),
        GraphNode("instance:w1/a2", "Ann again", W, at="npcs.a2"),
        GraphNode("instance:w1/b", "Bob", W, at="npcs.b"),
        GraphNode("npc:w1/a", "Ann", W, at="npcs.a"),
        GraphNode("npc:w1/a2", "Ann again", W, at="npcs.a2"),
        GraphNode("npc:w1/b", "Bob", W, at="npcs.b"),
        GraphNode("npc:w1/lonely", "Lonely", W, at="npcs.lonely"),
    ]
    edges = [
        _e("template:ann", "instance:w1/a", "instantiates", W, "npcs.a.character"),
        _e("template:ann", "instance:w1/a2", "instantiates", W, "npcs.a2.character"),
        _e("template:bob", "instance:w1/b", "instantiates", W, "npcs.b.character"),
        _e("instance:w1/a", "npc:w1/a", "plays", W),
        _e("instance:w1/a2", "npc:w1/a2", "plays", W),
        _e("instance:w1/b", "npc:w1/b", "plays", W),
        _e("instance:w1/a", "role:hero", "fills_role", W, "roles.hero"),
        _e("npc:w1/lonely", "role:sidekick", "fills_role", W, "roles.sidekick"),
        _e("instance:w1/a", "instance:w1/b", "related_to", W, "npcs.a.rel", {"trust": 5}),
        _e("world:w1", "program:p", "runs", W, "programs"),
        _e("npc:w1/b", "program:p", "appears_in", W, "programs[p].cast"),
    ]
    return Fragment("w1.yaml", "world", "h-w1", nodes, edges)


def _program(extra_block="missing"):
    nodes = [
        GraphNode("program:p", "Program P", rating="teen", tags=("harbor",)),
        GraphNode("scene:s1", "Scene one", at="nodes[0]"),
        GraphNode("scene:s2", "Scene two", at="nodes[1]"),
    ]
    edges = [
        _e("program:p", "scene:s1", "contains", at="nodes[0]"),
        _e("program:p", "scene:s2", "contains", at="nodes[1]"),
        _e("scene:s1", "role:hero", "has_role", at="nodes[0].roles.hero"),
        _e("scene:s1", "role:sidekick", "has_role", at="nodes[0].roles.sidekick"),
        _e("scene:s2", "role:villain", "has_role", at="nodes[1].roles.villain"),
        _e("program:p", "block:b1", "uses_block", at="nodes[2]"),
        _e("program:p", f"block:{extra_block}", "uses_block", at="nodes[3]"),
    ]
    return Fragment("p.yaml", "program", f"h-p-{extra_block}", nodes, edges)


def _intents():
    nodes = [
        GraphNode("generation:g1", "gen one", rating="general", tags=("portrait",)),
        GraphNode("asset:x1", "image one", rating="general"),
        GraphNode("generation:g2", "gen two", rating="adult"),
    ]
    edges = [
        _e("generation:g1", "template:ann", "for", at="intents.g1.inputs.character"),
        _e("generation:g1", "scene:s1", "for", at="intents.g1.scenario"),
        _e("generation:g1", "asset:x1", "produced", at="effects.g1[0]"),
        _e("generation:g2", "scene:s1", "for", at="intents.g2.scenario"),
        _e("generation:g2", "arc:finale", "for", at="intents.g2.inputs.chapter"),
    ]
    return Fragment("play.db#intents", "intents", "h-i", nodes, edges)


def _blocks():
    return Fragment("blocks.yaml", "action-blocks", "h-b", [GraphNode("block:b1", "b1")])


@pytest.fixture
def graph():
    with CharacterGraph() as g:
        g.ingest([_world(), _program(), _intents(), _blocks()])
        yield g


def test_uses_follow_instances_roles_scenes_cast_content_and_relations(graph):
    uses = graph.uses("ann")
    got = {(r.key, r.via) for r in uses.itertuples()}
    assert got == {
        ("instance:w1/a", "instantiates"),
        ("instance:w1/a2", "instantiates"),
        ("npc:w1/a", "plays"),
        ("npc:w1/a2", "plays"),
        ("scene:s1", "role"),
        ("program:p", "scene"),
        ("generation:g1", "for"),
        ("asset:x1", "produced"),
        ("instance:w1/b", "related_to"),
    }
    assert set(uses.columns) >= {"key", "kind", "label", "world", "via", "rating", "tags"}


def test_usage_counts_by_kind_and_world(graph):
    usage = graph.usage("template:ann")
    counts = {
        (r.kind, r.world if isinstance(r.world, str) else None): r.count for r in usage.itertuples()
    }
    assert counts == {
        ("instance", W): 2,
        ("npc", W): 2,
        ("scene", W): 1,
        ("program", W): 1,
        ("generation", None): 1,
        ("asset", None): 1,
        ("related", W): 1,
    }


def test_an_instance_is_a_character_too(graph):
    keys = set(graph.uses("instance:w1/b")["key"])
    assert keys == {"npc:w1/b", "program:p", "instance:w1/a"}


def test_scenes_assets_generations(graph):
    assert graph.scenes_for_character("ann").to_dict("records") == [
        {"scene": "s1", "world": W, "via": "role"}
    ]
    assert list(graph.assets_for_character("ann")["asset"]) == ["asset:x1"]
    assert list(graph.scenes_for_character("bob")["scene"]) == []
    assert list(graph.generations_for(character="ann")["generation"]) == ["generation:g1"]
    assert list(graph.generations_for(scene="s1")["generation"]) == [
        "generation:g1",
        "generation:g2",
    ]
    assert list(graph.generations_for(scene="s1", arc="finale")["generation"]) == ["generation:g2"]
    assert list(graph.generations_for(character="ann", arc="finale")["generation"]) == []
    with pytest.raises(ValueError, match="needs a character"):
        graph.generations_for()
    with pytest.raises(UnknownNameError, match="scene"):
        graph.generations_for(scene="nowhere")


def test_filters(graph):
    assert set(graph.uses("ann", tag="harbor")["key"]) == {"program:p"}
    assert set(graph.uses("ann", world="elsewhere")["key"]) == set()
    assert "generation:g1" not in set(graph.uses("ann", world=W)["key"])
    assert set(graph.generations_for(scene="s1", rating="teen")["generation"]) == {"generation:g1"}
    # rows with no rating of their own are kept under a rating filter
    assert "npc:w1/a" in set(graph.uses("ann", rating="general")["key"])
    assert set(graph.uses("ann", arc="finale")["key"]) == set()
    with pytest.raises(ValueError, match="rating"):
        graph.uses("ann", rating="violent")
    with pytest.raises(TypeError, match="unknown filters"):
        graph.uses("ann", colour="red")


def test_characters_for_npc(graph):
    frame = graph.characters_for_npc("a")
    assert frame.to_dict("records") == [
        {"npc": "npc:w1/a", "instance": "instance:w1/a", "template": "template:ann", "world": W}
    ]
    assert list(graph.characters_for_npc("w1/b")["template"]) == ["template:bob"]
    assert list(graph.characters_for_npc("lonely", world=W)["instance"]) == []
    with pytest.raises(UnknownNameError):
        graph.characters_for_npc("nobody")


def test_character_graph_depth(graph):
    alone = graph.character_graph("ann", depth=0)
    assert "instance:w1/b" not in set(alone["key"])
    assert alone.iloc[0]["key"] == "template:ann" and alone.iloc[0]["hop"] == 0
    wider = graph.character_graph("ann", depth=1)
    hops = dict(zip(wider["key"], wider["hop"], strict=True))
    assert hops["instance:w1/b"] == 1 and hops["npc:w1/b"] == 1 and hops["scene:s1"] == 0
    with pytest.raises(ValueError, match="depth"):
        graph.character_graph("ann", depth=-1)


def test_unknown_character_names_the_known_ones(graph):
    with pytest.raises(UnknownNameError, match="template:ann"):
        graph.uses("zed")
    with pytest.raises(UnknownNameError):
        graph.uses("scene:s1")  # a scene is not a character


def test_characters_listing(graph):
    assert graph.characters().to_dict("records") == [
        {"template": "template:ann", "label": "Ann", "instances": 2},
        {"template": "template:bob", "label": "Bob", "instances": 1},
    ]
    assert list(graph.characters(world="other")["template"]) == []


def test_every_check_finds_its_problem(graph):
    problems = graph.check()
    found = {(r.check, r.subject) for r in problems.itertuples()}
    assert found == {
        ("npc_without_character", "npc:w1/lonely"),
        ("role_unbound", "role:villain"),
        ("untagged_content", "generation:g2"),
        ("dangling", "block:missing"),
        ("duplicate_instance", "instance:w1/a"),
        ("duplicate_instance", "instance:w1/a2"),
    }
    row = problems[problems.check == "role_unbound"].iloc[0]
    assert (row.source, row.location) == ("p.yaml", "nodes[1].roles.villain")
    assert "world w1" in row.message
    assert list(graph.check(["dangling"])["check"]) == ["dangling"]
    with pytest.raises(ValueError, match="unknown checks"):
        graph.check(["spelling"])


def test_a_consistent_graph_has_no_problems():
    with CharacterGraph() as g:
        g.ingest([_blocks(), _program("b1")])
        assert g.check().empty


def test_to_networkx_and_graphml(graph, tmp_path):
    g = graph.to_networkx()
    sources = graph.sources()
    assert g.number_of_nodes() == 17 + 5  # defined by the sources; roles, the arc, a stub
    assert sources["nodes"].sum() == 17
    assert g.number_of_edges() == sources["edges"].sum()
    assert g.nodes["template:ann"]["kind"] == "template"
    assert g.nodes["block:missing"]["defined"] is False
    (edge,) = g.get_edge_data("instance:w1/a", "instance:w1/b").values()
    assert edge["kind"] == "related_to" and edge["data"] == '{"trust": 5}'
    path = write_graphml(graph, tmp_path / "g.graphml")
    back = nx.read_graphml(path)
    assert back.number_of_nodes() == g.number_of_nodes()
    part = graph.to_networkx(["template:ann", "instance:w1/a", "scene:s1"])
    assert [(u, v, d["kind"]) for u, v, d in part.edges(data=True)] == [
        ("template:ann", "instance:w1/a", "instantiates")
    ]
