"""Stable error codes on every StepError and on check problems; effects in the author's
order; ``set`` versus adding; bounded expression values."""

import pytest

from storylab.runtime import (
    Env,
    EvaluationError,
    ExpressionError,
    NarrativeEngine,
    NarrativeProgram,
    Session,
    StepError,
    check_program,
    compile_expression,
)


def prog(nodes, edges=(), **extra):
    return NarrativeProgram.model_validate(
        {
            "id": extra.pop("id", "p"),
            "entry": nodes[0]["id"],
            "nodes": nodes,
            "edges": list(edges),
            **extra,
        }
    )


MENU = prog(
    [
        {"id": "hi", "type": "dialogue", "text": "Hi."},
        {
            "id": "menu",
            "type": "choice",
            "choices": [
                {"id": "a", "text": "A", "to": "wait"},
                {"id": "b", "text": "B", "conditions": ["flags.open"]},
            ],
        },
        {"id": "wait", "type": "wait", "duration": 5},
        {"id": "end", "type": "dialogue", "text": "Bye.", "end": True},
    ],
    [{"from": "hi", "to": "menu"}, {"from": "menu", "to": "end"}, {"from": "wait", "to": "end"}],
)


def code_of(call, *args, **kw):
    with pytest.raises(StepError) as info:
        call(*args, **kw)
    return info.value.code, info.value.data


def test_codes_of_the_step_api_with_their_data():
    e, s = NarrativeEngine([MENU]), Session()
    assert code_of(e.step, s, "mara") == ("no_active_program", {"npc": "mara"})
    e.start(s, "mara", "p")
    code, data = code_of(e.step, s, "mara", "b")
    assert code == "invalid_choice"
    assert data == {"program": "p", "node": "menu", "choice": "b", "choices": ("a",)}
    assert code_of(e.step, s, "mara")[0] == "choice_required"
    assert code_of(e.step, s, "mara")[1]["choices"] == ("a",)
    e.step(s, "mara", "a")
    code, data = code_of(e.step, s, "mara", "a")
    assert code == "not_awaiting_choice" and data["kind"] == "wait" and data["input"] == "a"
    e.pause(s, "mara")
    assert code_of(e.step, s, "mara") == ("paused", {"npc": "mara"})
    assert code_of(e.start, s, "mara", "p")[0] == "paused"
    e.resume(s, "mara")
    e.finish(s, "mara")
    s.components["mara"].start("p", "menu")  # moved by the host: not reached yet
    code, data = code_of(e.step, s, "mara", "a")
    assert code == "not_waiting" and data["node"] == "menu"


def _one(node, **extra):
    return prog([node], **extra)


@pytest.mark.parametrize(
    ("program", "handlers", "code"),
    [
        (
            _one({"id": "x", "type": "external_call", "handler": "boom"}),
            {"boom": lambda args, ctx: 1 / 0},
            "handler_failed",
        ),
        (_one({"id": "x", "type": "external_call", "handler": "nope"}), {}, "unknown_handler"),
        (
            _one(
                {
                    "id": "x",
                    "type": "choice",
                    "choices": [{"id": "a", "text": "a", "conditions": ["false"]}],
                }
            ),
            {},
            "no_choice_on_offer",
        ),
        (
            prog(
                [{"id": "x", "type": "branch"}, {"id": "y", "type": "comment", "end": True}],
                [{"from": "x", "to": "y", "conditions": ["false"]}],
            ),
            {},
            "no_edge",
        ),
        (
            prog([{"id": "x", "type": "branch"}], [{"from": "x", "to": "x"}]),
            {},
            "step_budget",
        ),
        (
            _one({"id": "x", "type": "action", "effects": {"inventory": {"coin": -1}}}),
            {},
            "inventory_negative",
        ),
        (
            _one(
                {"id": "x", "type": "action", "effects": {"relationships": {"self": {"mood": 1}}}}
            ),
            {},
            "not_a_number",
        ),
        (
            _one({"id": "x", "type": "action", "effects": {"set": {"inv.coin": "'lots'"}}}),
            {},
            "invalid_value",
        ),
        (_one({"id": "x", "type": "dialogue", "text": "{1 / 0}"}), {}, "evaluation_failed"),
        (_one({"id": "x", "type": "dialogue", "text": "{'x' * 999999999}"}), {}, "value_too_large"),
        (
            _one({"id": "x", "type": "action_block", "query": {"tags": ["no-such-tag"]}}),
            {},
            "block_unresolved",
        ),
        (_one({"id": "x", "type": "call", "program": "missing"}), {}, "unknown_program"),
    ],
)
def test_each_failure_has_its_code_and_leaves_the_session_alone(program, handlers, code):
    e = NarrativeEngine([program], handlers=handlers, max_nodes_per_step=50)
    s = Session(relationships={"mara": {"mood": "calm"}})
    before = s.to_dict()
    got, _ = code_of(e.start, s, "mara", "p")
    assert got == code
    assert s.to_dict() == before


def test_check_problems_carry_codes():
    bad = NarrativeProgram.model_validate(
        {
            "id": "p",
            "entry": "nowhere",
            "nodes": [
                {"id": "a", "type": "dialogue", "text": "{var.x"},
                {"id": "a", "type": "choice", "choices": []},
            ],
            "edges": [{"from": "a", "to": "b"}],
        }
    )
    codes = {p.code for p in check_program(bad).errors}
    assert {
        "unknown_entry",
        "duplicate_id",
        "unknown_node",
        "no_choices",
        "invalid_expression",
    } <= codes
    undeclared = prog(
        [{"id": "a", "type": "action", "effects": {"set": {"var.x": 1}}, "end": True}]
    )
    assert [p.code for p in check_program(undeclared).errors] == ["undeclared_variable"]
    warn = prog(
        [{"id": "a", "type": "dialogue", "text": "x"}, {"id": "b", "type": "comment", "end": True}]
    )
    assert {p.code for p in check_program(warn).warnings} == {"dead_end", "unreachable"}


def play_effects(effects, **session):
    p = prog(
        [{"id": "a", "type": "action", "effects": effects, "end": True}],
        variables={"x": 1},
    )
    s = Session(**session)
    NarrativeEngine([p]).start(s, "mara", "p")
    return s


def test_effects_run_in_the_order_written():
    set_then_add = play_effects(
        {"set": {"rel.mara.affinity": 0}, "relationships": {"mara": {"affinity": 5}}},
        relationships={"mara": {"affinity": 40}},
    )
    add_then_set = play_effects(
        {"relationships": {"mara": {"affinity": 5}}, "set": {"rel.mara.affinity": 0}},
        relationships={"mara": {"affinity": 40}},
    )
    assert set_then_add.relationships["mara"]["affinity"] == 5
    assert add_then_set.relationships["mara"]["affinity"] == 0
    # a variable computed from a flag sees the flag only when written after it
    late = play_effects({"flags": {"f": True}, "variables": {"x": "flags.f and 2 or 3"}})
    early = play_effects({"variables": {"x": "flags.f and 2 or 3"}, "flags": {"f": True}})
    assert late.components["mara"].variables["p"]["x"] == 2
    assert early.components["mara"].variables["p"]["x"] == 3


def test_set_versus_add_on_every_target():
    s = play_effects(
        {
            "set": {
                "rel.self.affinity": 7,
                "rel.tomas.mood": "'wary'",
                "inv.coin": "inv.coin * 2",
                "flags.met": True,
                "arc.hope": 0.5,
                "quest.ship": "'found'",
                "var.x": "var.x + 10",
            },
            "inventory": {"coin": 1},
        },
        relationships={"mara": {"affinity": 40}},
        inventory={"coin": 3},
        arcs={"hope": -1},
    )
    assert s.relationships == {"mara": {"affinity": 7}, "tomas": {"mood": "wary"}}
    assert s.inventory == {"coin": 7} and s.flags == {"met": True}
    assert s.arcs == {"hope": 0.5} and s.quests == {"ship": "found"}
    assert s.components["mara"].variables["p"]["x"] == 11
    with pytest.raises(StepError) as info:
        play_effects({"set": {"inv.coin": -2}})
    assert info.value.code == "inventory_negative"
    with pytest.raises(StepError) as info:
        play_effects({"set": {"arc.hope": "'high'"}})
    assert info.value.code == "invalid_value"


def test_set_targets_are_validated_by_the_schema():
    with pytest.raises(ValueError, match="set"):
        play_effects({"set": {"nope.x": 1}})


@pytest.mark.parametrize(
    "text",
    [
        "'x' * 999999999",
        "[1, 2] * 99999999",
        "99999999999 * 99999999999 * 99999999999",
        "-(0 - 9223372036854775807 - 1) * 4",
    ],
)
def test_values_are_bounded_before_they_are_built(text):
    with pytest.raises(EvaluationError) as info:
        compile_expression(text).evaluate(Env())
    assert info.value.code == "value_too_large"


def test_squaring_a_variable_each_pass_stops_at_64_bits():
    p = prog(
        [{"id": "loop", "type": "action", "effects": {"variables": {"x": "var.x * var.x"}}}],
        [{"from": "loop", "to": "loop"}],
        variables={"x": 3},
    )
    e, s = NarrativeEngine([p]), Session()
    with pytest.raises(StepError) as info:
        e.start(s, "mara", "p")
    assert info.value.code == "value_too_large" and "64 bits" in str(info.value)


def test_text_formatting_and_huge_literals_are_errors_not_crashes():
    with pytest.raises(EvaluationError, match="'%' takes numbers"):
        compile_expression("'%z' % 1").evaluate(Env())
    with pytest.raises(EvaluationError):
        compile_expression("'%999999999d' % 1").evaluate(Env())
    with pytest.raises(ExpressionError, match="too large"):
        compile_expression("9" * 30)
    assert compile_expression("7 % 3").evaluate(Env()) == 1
    assert compile_expression("'ab' * 3 + 'c'").evaluate(Env()) == "abababc"
    with pytest.raises(EvaluationError, match="not finite"):
        compile_expression("var.x * var.x").evaluate(Env(variables={"x": 1e200}))


def test_warnings_carry_codes_too():
    gated = prog(
        [
            {"id": "a", "type": "branch"},
            {
                "id": "c",
                "type": "choice",
                "choices": [{"id": "x", "text": "{player.name}", "conditions": ["flags.f"]}],
            },
            {"id": "e", "type": "comment", "end": True},
        ],
        [{"from": "a", "to": "c", "conditions": ["flags.f"]}, {"from": "c", "to": "e"}],
    )
    codes = sorted(p.code for p in check_program(gated).warnings)
    assert codes == ["conditional_exits", "no_fallback", "unset_state"]


def test_a_session_inside_an_unregistered_program_is_refused_unchanged():
    hub = prog([{"id": "m", "type": "choice", "choices": [{"id": "go", "text": "Go"}]}], id="hub")
    aside = prog(
        [
            {"id": "q", "type": "choice", "choices": [{"id": "ok", "text": "OK"}]},
            {"id": "bye", "type": "dialogue", "text": "Bye.", "end": True},
        ],
        [{"from": "q", "to": "bye"}],
        id="aside",
    )
    both, s = NarrativeEngine([hub, aside]), Session()
    both.start(s, "mara", "hub")
    other = NarrativeEngine([aside])  # does not know "hub"
    before = s.to_dict()
    for call, args in ((other.start, ("aside",)), (other.step, ("go",)), (other.finish, ())):
        code, data = code_of(call, s, "mara", *args)
        assert (code, data) == ("unknown_program", {"npc": "mara", "program": "hub"})
        assert s.to_dict() == before
    both.start(s, "mara", "aside")  # hub is suspended under aside now
    before = s.to_dict()
    code, data = code_of(other.step, s, "mara", "ok")  # aside ends; hub cannot resume
    assert (code, data) == ("unknown_program", {"npc": "mara", "program": "hub"})
    assert s.to_dict() == before
    assert both.step(s, "mara", "ok").status == "choice"  # the engine that knows hub resumes it
