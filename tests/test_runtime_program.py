"""The program model, its JSON Schema, checks (errors and warnings) and the example programs."""

import json
from pathlib import Path

import pytest

from storylab import DataError
from storylab.runtime import (
    NarrativeEngine,
    NarrativeProgram,
    Session,
    check_program,
    load_program,
    parse_program,
    program_json_schema,
    successors,
)
from storylab.validation import validate_file

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = sorted((ROOT / "data" / "programs").glob("*.program.yaml"))
NODE_TYPES = {
    "dialogue",
    "choice",
    "action",
    "action_block",
    "scene",
    "branch",
    "wait",
    "external_call",
    "comment",
}


def base(**extra):
    data = {
        "id": "p",
        "entry": "a",
        "nodes": [
            {"id": "a", "type": "dialogue", "text": "Hi"},
            {"id": "b", "type": "dialogue", "text": "Bye", "end": True},
        ],
        "edges": [{"from": "a", "to": "b"}],
    }
    data.update(extra)
    return data


def messages(report_part):
    return [f"{p.path}: {p.expected}" for p in report_part]


def test_schema_lists_nine_node_types_and_uses_from():
    schema = program_json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    node_types = {
        d["properties"]["type"]["const"]
        for d in schema["$defs"].values()
        if "type" in d.get("properties", {})
    }
    assert node_types == NODE_TYPES
    assert "from" in schema["$defs"]["Edge"]["properties"]


def test_committed_schema_file_is_current():
    committed = json.loads((ROOT / "docs" / "program.schema.json").read_text())
    assert committed == json.loads(json.dumps(program_json_schema()))


@pytest.mark.parametrize(
    "change, path, expected",
    [
        (
            {"nodes": [{"id": "a", "type": "song", "text": "x"}]},
            "nodes[0]",
            "does not match any of the expected tags",
        ),
        (
            {"nodes": [{"id": "a", "type": "dialogue", "txt": "x"}]},
            "nodes[0].dialogue.txt",
            "no such field",
        ),
        (
            {"nodes": [{"id": "a", "type": "wait"}]},
            "nodes[0].wait",
            "needs 'duration' or 'condition'",
        ),
        (
            {"nodes": [{"id": "a", "type": "scene"}]},
            "nodes[0].scene",
            "needs 'scene_id' or 'intent'",
        ),
        (
            {"nodes": [{"id": "a", "type": "action_block"}]},
            "nodes[0].action_block",
            "needs 'blocks' or 'query'",
        ),
        ({"nodes": [{"id": "bad id", "type": "comment"}]}, "nodes[0].comment.id", "pattern"),
        ({"version": 0}, "version", "greater than or equal to 1"),
        ({"metadata": {"content_rating": "x"}}, "metadata.content_rating", "'general'"),
    ],
)
def test_model_errors_name_the_path(change, path, expected):
    with pytest.raises(DataError) as err:
        parse_program(base(**change), "prog.yaml")
    found = [(p.path, p.expected) for p in err.value.problems]
    assert any(p == path and expected in e for p, e in found), found


def test_check_reports_every_structural_error():
    data = base(
        entry="zzz",
        variables={"n": 0},
        nodes=[
            {"id": "a", "type": "dialogue", "text": "Hi {var.m}"},
            {
                "id": "a",
                "type": "choice",
                "choices": [
                    {"id": "x", "text": "X", "to": "nowhere"},
                    {"id": "x", "text": "{1 +}"},
                ],
                "fallback": "gone",
            },
            {"id": "c", "type": "choice", "choices": []},
            {
                "id": "d",
                "type": "action",
                "effects": {"variables": {"undeclared": 1, "n": "var.n +"}},
            },
            {"id": "e", "type": "wait", "condition": "visits('ghost') > 0"},
        ],
        edges=[
            {"from": "a", "to": "missing", "conditions": ["rel.x >= 1"]},
            {"id": "e1", "from": "c", "to": "d"},
            {"id": "e1", "from": "d", "to": "e"},
        ],
        renames={"nodes": {"old": "gone"}, "variables": {"old": "nope"}},
    )
    report = check_program(parse_program(data), "p.yaml")
    got = messages(report.errors)
    expected_fragments = [
        "nodes[1].id: a unique node id ('a' repeats)",
        "entry: an existing node id (no node 'zzz')",
        "edges[0].to: an existing node id (no node 'missing')",
        "edges: unique edge ids ('e1' repeats)",
        "nodes[1].choices[1].id: a unique choice id",
        "nodes[1].choices[0].to: an existing node id (no node 'nowhere')",
        "nodes[1].fallback: an existing node id (no node 'gone')",
        "nodes[2].choices: at least one choice",
        "renames.nodes.old: an existing node id",
        "renames.variables.old: a declared variable",
        "nodes[0].text: a declared variable (var.m is not in 'variables')",
        "nodes[1].choices[1].text: a valid template (expected a value",
        "nodes[3].effects.variables.n: a valid expression",
        "nodes[3].effects.variables.undeclared: a declared variable",
        "nodes[4].condition: an existing node id in visits/visited (no node 'ghost')",
        "edges[0].conditions[0]: a valid expression (rel takes the form",
    ]
    for fragment in expected_fragments:
        assert any(fragment in g for g in got), (fragment, got)
    assert report.warnings == ()  # warnings wait until the errors are fixed
    assert not report.ok


def test_expression_errors_mark_the_position():
    data = base(edges=[{"from": "a", "to": "b", "conditions": ["flags.x and and"]}])
    (problem,) = check_program(parse_program(data)).errors
    assert "flags.x and «here»and" in problem.expected


def test_warnings_for_unreachable_nodes_and_dead_ends():
    data = base(
        nodes=[
            {"id": "a", "type": "dialogue", "text": "Hi"},
            {"id": "b", "type": "branch"},
            {"id": "c", "type": "dialogue", "text": "Stuck"},
            {"id": "d", "type": "dialogue", "text": "Lonely", "end": True},
            {
                "id": "m",
                "type": "choice",
                "choices": [{"id": "x", "text": "X", "once_only": True, "to": "c"}],
            },
        ],
        edges=[
            {"from": "a", "to": "b"},
            {"from": "b", "to": "c", "conditions": ["flags.x"]},
            {"from": "b", "to": "m", "conditions": ["not flags.x"]},
        ],
    )
    report = check_program(parse_program(data))
    assert report.ok
    got = messages(report.warnings)
    assert any("'d' is unreachable" in g for g in got)
    assert any("nodes[2]" in g and "dead end" in g for g in got)
    assert any("nodes[1]" in g and "every way out is conditional" in g for g in got)
    assert any("nodes[4]" in g and "can be unavailable" in g for g in got)
    assert not any("nodes[3]" in g and "dead end" in g for g in got)  # marked end: true


def test_successors_follow_edges_choices_and_fallbacks():
    data = base(
        nodes=[
            {
                "id": "a",
                "type": "choice",
                "choices": [{"id": "x", "text": "X", "to": "b"}],
                "fallback": "c",
            },
            {"id": "b", "type": "dialogue", "text": "B", "end": True},
            {"id": "c", "type": "dialogue", "text": "C", "end": True},
        ],
        edges=[{"from": "a", "to": "c"}],
    )
    assert successors(parse_program(data)) == {"a": ["c", "b"], "b": [], "c": []}


def test_load_program_raises_on_errors(tmp_path):
    bad = tmp_path / "bad.program.yaml"
    bad.write_text("id: p\nentry: nope\nnodes:\n  - {id: a, type: comment}\n")
    with pytest.raises(DataError, match="no node 'nope'"):
        load_program(bad)
    assert [p.path for p in validate_file(bad)] == ["entry"]


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_example_programs_are_clean(path):
    program = load_program(path)
    report = check_program(program, path)
    # the only warnings: state a player brings (the README plays it with a state file)
    assert report.ok and all("state set before play" in str(w) for w in report.warnings)
    assert validate_file(path) == []


def test_examples_cover_every_node_type():
    used = {n.type for path in PROGRAMS for n in load_program(path).nodes}
    assert used >= NODE_TYPES - {"external_call"}
    assert len(PROGRAMS) >= 3


def test_node_lookup_and_edge_alias():
    program = NarrativeProgram.model_validate(base())
    assert program.node("b").text == "Bye"
    assert program.model_dump(by_alias=True)["edges"][0]["from"] == "a"
    with pytest.raises(KeyError):
        program.node("zzz")
    assert NarrativeEngine([program]).start(Session(), "npc", "p").text == "Hi\nBye"


class _CountingList(list):
    """A list that counts how often it is walked from the start (iterated or copied)."""

    walks = 0

    def __iter__(self):
        type(self).walks += 1
        return super().__iter__()


def _large_program(n: int) -> dict:
    """``n`` nodes in scenes of ten: nine lines, then a choice back to any scene start."""
    nodes, edges = [], []
    for i in range(n):
        if i % 10 == 9:
            choices = [
                {"id": "on", "text": "On.", "to": f"n{(i + 1) % n}"},
                {"id": "back", "text": "Back.", "to": f"n{(i * 7 + 10) % n // 10 * 10}"},
                {"id": "bold", "text": "Bold.", "to": f"n{i - 9}", "conditions": ["var.k > 2"]},
            ]
            nodes.append({"id": f"n{i}", "type": "choice", "choices": choices})
        else:
            nodes.append({"id": f"n{i}", "type": "dialogue", "text": f"Line {i} ({{var.k}})."})
            edges.append({"from": f"n{i}", "to": f"n{i + 1}"})
    return {"id": "large", "entry": "n0", "variables": {"k": 0}, "nodes": nodes, "edges": edges}


def test_a_10000_node_program_checks_and_compiles_in_linear_passes():
    program = parse_program(_large_program(10_000))
    for name in ("nodes", "edges"):
        object.__setattr__(program, name, _CountingList(getattr(program, name)))
    _CountingList.walks = 0
    report = check_program(program)
    assert report.ok and not report.warnings
    checked = _CountingList.walks
    engine = NarrativeEngine([program])
    # a pass over every edge per node (quadratic) would walk the lists 10,000 times
    assert checked <= 30 and _CountingList.walks - checked <= 40
    session = Session()
    r = engine.start(session, "npc", "large")
    assert r.text.startswith("Line 0 (0).") and [c.id for c in r.choices] == ["on", "back"]
    assert engine.step(session, "npc", "on").lines[0].text == "Line 10 (0)."
