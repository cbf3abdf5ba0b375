"""`npc.<field>` in expressions: the NPC's own relationship value, as `rel.self.<field>`,
in programs and in a world's interactions and derived values."""

from pathlib import Path

import pytest

from storylab._data import DataError
from storylab.runtime import Env
from storylab.runtime.expressions import ExpressionError, compile_expression
from storylab.world import WorldSession, load_world, simulate_interaction, vary_world
from storylab.world.relations import derive

HARBOR = Path(__file__).resolve().parents[1] / "data" / "worlds" / "harbor-district"


@pytest.fixture(scope="module")
def world():
    return load_world(HARBOR)


def test_npc_field_reads_the_running_npcs_relationship_value():
    env = Env(relationships={"mara": {"trust": 12}, "oskar": {"trust": -4}}, npc="mara")
    assert compile_expression("npc.trust").evaluate(env) == 12
    assert compile_expression("npc.trust >= 10 and rel.oskar.trust < 0").evaluate(env) is True
    assert compile_expression("npc.chemistry").evaluate(env) == 0  # unset reads 0, as rel
    assert compile_expression("npc").evaluate(env) == "mara"  # bare: still the NPC's id
    # one name for the analysis: what npc.trust reads is rel.self.trust
    assert compile_expression("npc.trust").refs == compile_expression("rel.self.trust").refs


@pytest.mark.parametrize("source", ["npc.trust.level > 1", "npc.a.b"])
def test_npc_with_more_parts_says_what_to_write(source):
    with pytest.raises(ExpressionError, match=r"npc\.<field> \(the same as rel\.self\.<field>\)"):
        compile_expression(source)


def test_an_interactions_effects_read_npc_as_the_interactions_npc(world):
    varied = vary_world(
        world,
        {
            "interactions.talk.effects": {
                "set": {"flags.trust_seen": "npc.trust", "flags.trusted": "npc.trust >= 20"}
            }
        },
    )
    ws = WorldSession(varied, id="s")
    trust = ws.session.relationships["captain"]["trust"]
    diff = simulate_interaction(ws, "captain", "talk", ["listen"]).diff.set_index("name")
    assert diff.loc["flags.trust_seen", "after"] == trust
    assert diff.loc["flags.trusted", "after"] == (trust >= 20)


def test_a_derived_value_may_read_npc_fields(world):
    cases = [c.model_dump() for c in world.stats.derived["mood"].cases]
    cases[0]["when"] = "npc.tension >= 60"
    varied = vary_world(world, {"stats.derived.mood.cases": cases})
    axes = {a: spec.default for a, spec in varied.stats.axes.items()}
    assert derive(varied, "captain", {**axes, "tension": 70})["mood"].value == "angry"
    assert derive(varied, "captain", {**axes, "tension": 10})["mood"].value != "angry"


def test_world_check_names_a_bad_expression_in_an_interactions_effects(world):
    good = {"interactions.talk.effects": {"set": {"flags.trusted": "npc.trust >= 20"}}}
    assert vary_world(world, good).interactions["talk"].effects.set
    bad = {"interactions.ask_rumors.overrides.captain.effects": {"variables": {"n": "npx.trust"}}}
    with pytest.raises(DataError) as err:
        vary_world(world, bad)
    (problem,) = err.value.problems
    assert problem.path == "interactions.ask_rumors.overrides.captain.effects.variables.n"
    assert "an expression (unknown name 'npx'" in problem.expected
