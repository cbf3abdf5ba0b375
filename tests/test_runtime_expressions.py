"""The expression language: values, operators, names, templates, and rejected input."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storylab.runtime import (
    Env,
    EvaluationError,
    ExpressionError,
    Template,
    compile_expression,
)


@pytest.fixture
def env():
    return Env(
        flags={"met": True, "mood": "grim"},
        relationships={"npc_10": {"affinity": 35, "mood": "happy"}, "npc_12": {"trust": -5}},
        inventory={"rope": 2, "coin": 0},
        arcs={"mystery": 0.25},
        quests={"ghost_ship": "started"},
        player={"name": "Ash"},
        variables={"gold": 7, "title": "captain"},
        visits={"intro": 2, "loop": 0},
        npc="npc_10",
        world_time=8.5,
    )


@pytest.mark.parametrize(
    "source, expected",
    [
        ("rel.npc_10.affinity >= 30", True),
        ("rel.self.affinity", 35),
        ("rel.npc_12.trust < 0 and rel.npc_99.trust == 0", True),
        ("rel.self.mood == 'happy'", True),
        ("flags.met and not flags.unknown", True),
        ("flags.mood", "grim"),
        ("var.gold * 2 + 1", 15),
        ("(var.gold + 1) % 3", 2),
        ("var.gold / 2", 3.5),
        ("-var.gold", -7),
        ("1 + 2 * 3 - 4", 3),
        ('"rope" in inv', True),
        ('"coin" in inv', False),  # held means a positive count
        ("'lantern' not in inv", True),
        ("inv.rope", 2),
        ("inv.lantern", 0),
        ("arc.mystery > 0.2", True),
        ("arc.unknown", 0),
        ("quest.ghost_ship == 'started'", True),
        ("quest.unknown == none", True),
        ("player.name", "Ash"),
        ("time >= 8", True),
        ("npc", "npc_10"),
        ('visited("intro") and visits("intro") > 1', True),
        ('visited("loop")', False),
        ('visits("never")', 0),
        ("rel.self.mood in ['happy', 'curious']", True),
        ("var.title in 'sea captain'", True),
        ("min(var.gold, 3, 10)", 3),
        ("max(1, var.gold)", 7),
        ("abs(rel.npc_12.trust)", 5),
        ("flags.met && !false || false", True),
        ("flags.unknown and 1 or 'fallback'", "fallback"),
        ("true != false", True),
        ("2.5 * 2", 5.0),
        ("not 1 == 2", True),  # not binds looser than comparison
    ],
)
def test_evaluates(env, source, expected):
    assert compile_expression(source).evaluate(env) == expected


def test_references_are_listed():
    expr = compile_expression('var.gold > 1 and visits("intro") > rel.self.affinity')
    assert expr.refs == {("var", "gold"), ("visits", "intro"), ("rel", "self", "affinity")}


def test_parsed_once_and_cached():
    assert compile_expression("1 + 1") is compile_expression("1 + 1")


@pytest.mark.parametrize(
    "source, position, message",
    [
        ("1 +", 3, "expected a value"),
        ("rel.npc_10", 0, "rel.<npc>.<field>"),
        ("flags.a.b", 0, "flags.<name>"),
        ("foo.bar > 1", 0, "unknown name 'foo'"),
        ("1 < 2 < 3", 6, "do not chain"),
        ("(1 + 2", 6, "expected ')'"),
        ("var.x $ 2", 6, "unexpected character '$'"),
        ("var.x +* 2", 7, "expected a value"),
        ("visits(var.x)", 0, "node id in quotes"),
        ("visits(node)", 7, "unknown name 'node'"),
        ("visits('a', 'b')", 0, "takes 1 argument"),
        ("open('x')", 0, "unknown function 'open'"),
        ("__import__('os')", 0, "unknown function"),
        ("1 2", 2, "unexpected '2'"),
        ("", 0, "empty expression"),
        ("'unclosed", 0, "unexpected character"),
        ("var.", 4, "expected a name after '.'"),
    ],
)
def test_rejects_with_position(source, position, message):
    with pytest.raises(ExpressionError) as err:
        compile_expression(source)
    assert err.value.position == position
    assert message in err.value.message
    caret_line = str(err.value).splitlines()[-1]
    assert caret_line.index("^") - 2 == position  # the caret sits under the problem


@pytest.mark.parametrize(
    "source, message",
    [
        ("'a' < 1", "cannot compare"),
        ("var.gold / 0", "cannot compute"),
        ("var.missing", "var.missing is not set"),
        ("player.age > 3", "player.age is not set"),
        ("-var.title", "cannot negate"),
        ("1 in 5", "cannot test membership"),
    ],
)
def test_evaluation_errors_name_the_place(env, source, message):
    with pytest.raises(EvaluationError, match=message) as err:
        compile_expression(source).evaluate(env)
    assert 0 <= err.value.position < len(source)


def test_templates(env):
    t = Template("Hello {player.name}, affinity {rel.npc_10.affinity}; {{literal}} {var.gold / 2}")
    assert t.render(env) == "Hello Ash, affinity 35; {literal} 3.5"
    assert Template("{flags.met} {flags.nope} {quest.none_yet} {2.0}").render(env) == (
        "true false none 2"
    )
    assert Template("plain text").static == "plain text"
    assert Template("").render(env) == ""
    assert Template("{var.gold} {visits('intro')}").refs == {("var", "gold"), ("visits", "intro")}


@pytest.mark.parametrize(
    "source, position",
    [("Hi {player.name", 3), ("Hi }", 3), ("a {} b", 3), ("x {1 +} y", 6), ("{foo.x}", 1)],
)
def test_bad_templates_point_into_the_text(source, position):
    with pytest.raises(ExpressionError) as err:
        Template(source)
    assert err.value.position == position


def test_template_runtime_error_points_into_the_text(env):
    with pytest.raises(EvaluationError) as err:
        Template("Dear {player.title}").render(env)
    assert err.value.position == 6


_PIECES = st.sampled_from(
    [
        "rel.self.affinity",
        "rel.npc_12.trust",
        "flags.met",
        "var.gold",
        "var.title",
        "inv",
        "inv.rope",
        "quest.ghost_ship",
        "player.name",
        "time",
        "npc",
        'visits("intro")',
        "1",
        "0",
        "2.5",
        "'a'",
        "true",
        "none",
        "[1, 'a']",
        "(",
        ")",
        "[",
        "]",
        ",",
        ".",
        " and ",
        " or ",
        "not ",
        " == ",
        " < ",
        " >= ",
        " in ",
        " not in ",
        "+",
        "-",
        "*",
        "/",
        "%",
        "min(",
        "abs(",
        "!",
        "&&",
        "{",
        "}",
        "$",
        "'",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=9).map("".join))
def test_any_text_parses_or_fails_cleanly(source):
    env = Env(
        flags={"met": True},
        relationships={"npc_12": {"trust": 3}},
        inventory={"rope": 1},
        player={"name": "Ash"},
        variables={"gold": 2, "title": "x"},
        visits={"intro": 1},
        npc="npc_12",
    )
    try:
        expr = compile_expression(source)
    except ExpressionError as exc:
        assert 0 <= exc.position <= len(source)
        return
    try:
        expr.evaluate(env)
    except EvaluationError as exc:
        assert 0 <= exc.position <= len(source)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab {}.+1'", max_size=12))
def test_any_template_text_parses_or_fails_cleanly(source):
    try:
        Template(source)
    except ExpressionError as exc:
        assert 0 <= exc.position <= len(source)


def test_length_limit_keeps_deep_nesting_safe():
    deep = "(" * 199 + "1" + ")" * 199
    assert compile_expression(deep).evaluate(Env()) == 1
    with pytest.raises(ExpressionError, match="longer than 400"):
        compile_expression("(" * 300 + "1" + ")" * 300)
    with pytest.raises(ExpressionError, match="hole longer than 400") as err:
        Template("x {" + "(" * 300 + "1" + ")" * 300 + "}")
    assert err.value.position == 3
