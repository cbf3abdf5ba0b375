"""The graph store: incremental ingest by content hash, retraction, duplicates, bad input."""

import sqlite3

import pytest

from storylab._data import DataError
from storylab.graph import CharacterGraph, Fragment, GraphEdge, GraphNode


def _frag(name, hash_, nodes=(), edges=()):
    return Fragment(name, "program", hash_, list(nodes), list(edges))


def _count(g, table, where="1"):
    return g._db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}").fetchone()[0]


def test_unchanged_sources_are_skipped_and_changed_ones_replaced(tmp_path):
    path = tmp_path / "g.db"
    a1 = _frag(
        "a", "1", [GraphNode("program:a")], [GraphEdge("program:a", "block:x", "uses_block")]
    )
    with CharacterGraph(path) as g:
        assert g.ingest([a1]) == {"added": 1, "replaced": 0, "unchanged": 0, "removed": 0}
    with CharacterGraph(path) as g:  # the file keeps it
        assert g.ingest([a1])["unchanged"] == 1
        a2 = _frag(
            "a", "2", [GraphNode("program:a")], [GraphEdge("program:a", "block:y", "uses_block")]
        )
        assert g.ingest([a2])["replaced"] == 1
        keys = {k for (k,) in g._db.execute("SELECT key FROM graph_nodes")}
        assert keys == {"program:a", "block:y"}  # the stub block:x went with its edge
        assert _count(g, "graph_edges") == 1


def test_prune_and_remove_source():
    with CharacterGraph() as g:
        g.ingest([_frag("a", "1", [GraphNode("block:a")]), _frag("b", "1", [GraphNode("block:b")])])
        assert g.ingest([_frag("a", "1", [GraphNode("block:a")])], prune=True)["removed"] == 1
        assert list(g.sources()["name"]) == ["a"]
        g.remove_source("a")
        g.remove_source("never-there")
        assert _count(g, "graph_nodes") == 0 and g.sources().empty


def test_a_node_defined_twice_is_reported_and_the_loser_takes_over_when_the_winner_goes():
    with CharacterGraph() as g:
        g.ingest(
            [
                _frag("first", "1", [GraphNode("template:t", "First", at="cast[0]")]),
                _frag("second", "1", [GraphNode("template:t", "Second", at="cast[3]")]),
            ]
        )
        problems = g.check(["defined_twice"])
        assert problems[["source", "location", "subject"]].values.tolist() == [
            ["second", "cast[3]", "template:t"]
        ]
        assert "first by first" in problems.iloc[0]["message"]
        g.remove_source("first")
        label = g._db.execute("SELECT label FROM graph_nodes WHERE key='template:t'").fetchone()
        assert label == ("Second",) and g.check(["defined_twice"]).empty


def test_a_stub_becomes_defined_when_its_source_arrives_and_dangling_again_when_it_goes():
    with CharacterGraph() as g:
        g.ingest([_frag("p", "1", edges=[GraphEdge("template:t", "instance:w/x", "instantiates")])])
        assert set(g.check(["dangling"])["subject"]) == {"template:t", "instance:w/x"}
        g.ingest([_frag("t", "1", [GraphNode("template:t"), GraphNode("instance:w/x")])])
        assert g.check(["dangling"]).empty
        g.remove_source("t")
        assert set(g.check(["dangling"])["subject"]) == {"template:t", "instance:w/x"}


def test_a_bad_fragment_writes_nothing():
    with CharacterGraph() as g:
        bad = _frag("a", "1", [GraphNode("template:t")], [GraphEdge("template:t", "x:y", "knows")])
        with pytest.raises(DataError) as err:
            g.ingest([bad])
        assert "an edge kind in" in str(err.value) and "x:y" in str(err.value)
        assert g.sources().empty and _count(g, "graph_nodes") == 0
        with pytest.raises(DataError, match="node key"):
            g.ingest([_frag("b", "1", [GraphNode("nokind")])])


def test_a_failure_mid_write_rolls_the_source_back():
    with CharacterGraph() as g:
        g.ingest([_frag("a", "1", [GraphNode("template:t")])])

        edge = GraphEdge("template:u", "template:t", "related_to", data={"x": object()})
        broken = _frag("a", "2", [GraphNode("template:u")], [edge])  # data that is not JSON
        with pytest.raises(TypeError):
            g.ingest([broken])
        assert {k for (k,) in g._db.execute("SELECT key FROM graph_nodes")} == {"template:t"}
        assert list(g.sources()["hash"]) == ["1"]


def test_shares_a_file_with_other_layers_and_refuses_another_schema_version(tmp_path):
    path = tmp_path / "play.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY)")
    db.commit()
    with CharacterGraph(path) as g:
        g.ingest([_frag("a", "1", [GraphNode("template:t")])])
    db.execute("UPDATE storylab_schema SET version = 99 WHERE layer = 'graph'")
    db.commit()
    db.close()
    with pytest.raises(DataError, match="graph schema version 1 \\(got 99\\)"):
        CharacterGraph(path)


def test_a_scene_is_defined_by_every_program_launching_it():
    def program(name):
        return _frag(
            name,
            "1",
            [GraphNode(f"program:{name}"), GraphNode("scene:s")],
            [GraphEdge(f"program:{name}", "scene:s", "contains")],
        )

    with CharacterGraph() as g:
        g.ingest([program("p"), program("q")])
        assert g.check().empty  # no "defined twice" for a shared scene
        g.remove_source("p")
        assert g.check(["dangling"]).empty  # q still launches it
        g.remove_source("q")
        assert _count(g, "graph_nodes") == 0
