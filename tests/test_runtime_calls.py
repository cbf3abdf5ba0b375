"""Call nodes: sub-conversations that return, with arguments, across saves; the call check."""

import pytest

from storylab.runtime import (
    NarrativeEngine,
    NarrativeProgram,
    Session,
    StepError,
    check_calls,
    format_transcript,
)


def prog(data):
    return NarrativeProgram.model_validate(data)


MAIN = prog(
    {
        "id": "main",
        "entry": "hi",
        "variables": {"n": 2},
        "nodes": [
            {"id": "hi", "type": "dialogue", "text": "Hello."},
            {"id": "ask", "type": "call", "program": "shop", "args": {"budget": "var.n + 5"}},
            {"id": "bye", "type": "dialogue", "text": "Bye.", "end": True},
        ],
        "edges": [{"from": "hi", "to": "ask"}, {"from": "ask", "to": "bye"}],
    }
)
SHOP = prog(
    {
        "id": "shop",
        "entry": "menu",
        "variables": {"budget": 0},
        "nodes": [
            {
                "id": "menu",
                "type": "choice",
                "choices": [
                    {"id": "buy", "text": "Buy for {var.budget}", "to": "deep"},
                    {"id": "no", "text": "No"},
                ],
            },
            {"id": "deep", "type": "call", "program": "haggle"},
            {"id": "done", "type": "dialogue", "text": "Thanks.", "end": True},
        ],
        "edges": [{"from": "menu", "to": "done"}, {"from": "deep", "to": "done"}],
    }
)
HAGGLE = prog(
    {
        "id": "haggle",
        "entry": "offer",
        "nodes": [{"id": "offer", "type": "choice", "choices": [{"id": "deal", "text": "Deal"}]}],
    }
)


def engine(**kw):
    return NarrativeEngine([MAIN, SHOP, HAGGLE], **kw)


def test_call_passes_arguments_and_returns_to_the_callers_edges():
    e, s = engine(), Session()
    r = e.start(s, "mara", "main")
    assert r.called == ("shop",) and r.program == "shop" and r.text == "Hello."
    assert [c.text for c in r.choices] == ["Buy for 7", "No"]
    assert r.snapshot.stack == (("main", "ask"),)
    r = e.step(s, "mara", "no")
    assert r.status == "finished" and r.lines[0].text == "Thanks." and r.text.endswith("Bye.")
    assert r.returned == ("shop",) and r.finished == ("shop", "main")
    vias = [entry[3] for entry in s.components["mara"].history]
    assert vias == ["start", "edge:0", "call:main/ask", "edge:0", "return", "edge:1"]
    assert s.components["mara"].visits["main"] == {"hi": 1, "ask": 1, "bye": 1}
    assert "[call shop]" in format_transcript([r._replace(called=("shop",))])
    assert "[return from shop]" in format_transcript([r])


def test_nested_calls_survive_a_save_and_load_into_a_fresh_engine():
    e, s = engine(), Session()
    e.start(s, "mara", "main")
    r = e.step(s, "mara", "buy")
    assert r.called == ("haggle",) and r.snapshot.stack == (("main", "ask"), ("shop", "deep"))
    loaded, report = engine().load(e.save(s))
    assert report.clean
    fresh = engine()
    r = fresh.step(loaded, "mara", "deal")
    assert r.returned == ("haggle", "shop") and r.finished == ("haggle", "shop", "main")
    assert r.text == "Thanks.\nBye." and loaded.components["mara"].stack == []
    twin = Session()
    e.start(twin, "mara", "main")
    e.step(twin, "mara", "buy")
    assert e.step(twin, "mara", "deal").transcript_hash == r.transcript_hash


def test_host_interrupt_inside_a_callee_resumes_the_callee():
    e, s = engine(), Session()
    e.start(s, "mara", "main")
    r = e.start(s, "mara", "haggle")  # started by the host, not called
    assert r.called == () and r.snapshot.stack == (("main", "ask"), ("shop", "menu"))
    r = e.step(s, "mara", "deal")
    assert r.finished == ("haggle",) and r.returned == () and r.program == "shop"
    assert [c.id for c in r.choices] == ["buy", "no"]


def test_finish_ends_the_callee_or_the_whole_stack():
    e, s = engine(), Session()
    e.start(s, "mara", "main")
    r = e.finish(s, "mara")
    assert r.finished == r.returned == ("shop",) and r.status == "waiting" and r.node == "ask"
    r = e.step(s, "mara")
    assert r.status == "finished" and r.text == "Bye."
    e.start(s, "mara", "main")
    e.step(s, "mara", "buy")
    r = e.finish(s, "mara", stack=True)
    assert r.status == "finished" and r.finished == ("haggle", "shop", "main")
    assert s.components["mara"].stack == [] and s.components["mara"].program is None


def test_a_failing_call_leaves_the_session_as_it_was():
    broken = prog({**MAIN.model_dump(by_alias=True), "variables": {"n": "text"}})
    e = NarrativeEngine([broken, SHOP, HAGGLE])
    s = Session()
    with pytest.raises(StepError) as info:
        e.start(s, "mara", "main")
    assert info.value.code == "evaluation_failed" and info.value.data["node"] == "ask"
    assert "mara" not in s.components


def test_unknown_callee_is_refused_at_start_and_reported_by_check():
    e, s = NarrativeEngine([MAIN, SHOP]), Session()
    with pytest.raises(StepError) as info:
        e.start(s, "mara", "main")
    assert info.value.code == "unknown_program" and info.value.data["callee"] == "haggle"
    assert "mara" not in s.components
    (problem,) = e.check().errors
    assert problem.code == "unknown_program" and problem.path == "nodes[1].program"


def test_check_reports_arguments_the_callee_does_not_declare():
    bad = prog({**MAIN.model_dump(by_alias=True), "id": "bad"})
    bad = bad.model_copy(
        update={
            "nodes": [
                bad.nodes[0],
                bad.nodes[1].model_copy(update={"args": {"x": 1}}),
                bad.nodes[2],
            ]
        }
    )
    report = check_calls([bad, SHOP, HAGGLE], {"bad": "bad.yaml"})
    assert [(p.code, p.file, p.path) for p in report.errors] == [
        ("unknown_argument", "bad.yaml", "nodes[1].args.x")
    ]


def _caller(pid, callee, *, way_out=False):
    choices = [{"id": "go", "text": "Go", "to": "c"}]
    if way_out:
        choices.append({"id": "leave", "text": "Leave"})
    return prog(
        {
            "id": pid,
            "entry": "m",
            "nodes": [
                {"id": "m", "type": "choice", "choices": choices},
                {"id": "c", "type": "call", "program": callee},
                {"id": "e", "type": "dialogue", "text": "end", "end": True},
            ],
            "edges": [{"from": "c", "to": "e"}],
        }
    )


def test_cycle_check_finds_recursion_with_no_way_out_only():
    a, b = _caller("a", "b"), _caller("b", "a")
    codes = sorted((p.file, p.code) for p in check_calls([a, b]).errors)
    assert codes == [("program a", "call_cycle"), ("program b", "call_cycle")]
    assert "a -> b -> a" in check_calls([a, b]).errors[0].expected
    # a way out of the recursion: fine
    assert check_calls([_caller("a", "b", way_out=True), b]).ok
    # recursion into itself
    assert [p.code for p in check_calls([_caller("a", "a")]).errors] == ["call_cycle"]
    assert check_calls([_caller("a", "a", way_out=True)]).ok
    # calling a program that never finishes on its own: a warning
    hub = prog(
        {
            "id": "hub",
            "entry": "m",
            "nodes": [
                {"id": "m", "type": "choice", "choices": [{"id": "x", "text": "x", "to": "m"}]}
            ],
        }
    )
    report = check_calls([_caller("a", "hub"), hub])
    assert report.ok and [p.code for p in report.warnings] == ["call_never_returns"]


def test_runaway_recursion_stops_at_the_call_depth():
    deep = prog(
        {
            "id": "deep",
            "entry": "c",
            "variables": {"k": 0},
            "nodes": [
                {"id": "c", "type": "call", "program": "deep", "args": {"k": "var.k + 1"}},
                {"id": "e", "type": "dialogue", "text": "end", "end": True},
            ],
            "edges": [{"from": "c", "to": "e"}],
        }
    )
    e, s = NarrativeEngine([deep], max_call_depth=8), Session()
    with pytest.raises(StepError) as info:
        e.start(s, "n", "deep")
    assert info.value.code == "call_depth" and info.value.data["depth"] == 8
    assert "n" not in s.components


def test_many_calls_in_one_step_do_not_recurse():
    loop = prog(
        {
            "id": "loop",
            "entry": "c",
            "variables": {"i": 0},
            "nodes": [
                {"id": "c", "type": "call", "program": "inc"},
                {"id": "b", "type": "branch"},
                {"id": "e", "type": "dialogue", "text": "{var.i}", "end": True},
            ],
            "edges": [
                {"from": "c", "to": "b", "effects": {"variables": {"i": "var.i + 1"}}},
                {"from": "b", "to": "c", "conditions": ["var.i < 3000"]},
                {"from": "b", "to": "e"},
            ],
        }
    )
    inc = prog({"id": "inc", "entry": "x", "nodes": [{"id": "x", "type": "comment"}]})
    r = NarrativeEngine([loop, inc], max_nodes_per_step=100_000).start(Session(), "n", "loop")
    assert r.text == "3000" and len(r.called) == len(r.returned) == 3000
