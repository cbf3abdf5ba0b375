"""``to_program``: a composed plan as a checked, playable narrative program."""

import pytest
import yaml

from storylab._data import DataError
from storylab.play import (
    BEGUN_FLAG,
    COMPLETED_QUEST,
    TICKS_ARC,
    core_flag,
    deviations,
    fact_flag,
    program_yaml,
    to_program,
)
from storylab.runtime import (
    ActionNode,
    ChoiceNode,
    DialogueNode,
    NarrativeEngine,
    Session,
    check_program,
    parse_program,
)
from storylab.storyteller import (
    action_library,
    apply_action,
    compose,
    planning_config,
    template_library,
)


def _pairs():
    return [(t.arc.value, t.compatible_genres[0].genre) for t in template_library()]


@pytest.fixture(scope="module")
def plan():
    return compose("man_in_a_hole", "action", seed=1, actants={"subject": "Mara Lind"})


@pytest.mark.parametrize(("template", "genre"), _pairs())
def test_every_template_exports_checks_and_plays_to_an_end(template, genre):
    plan = compose(template, genre, seed=2)
    program = to_program(plan)
    report = check_program(program)
    assert report.errors == () and report.warnings == ()
    assert parse_program(yaml.safe_load(program_yaml(program))) == program
    engine, session = NarrativeEngine([program]), Session()
    result = engine.start(session, "npc", program.id)
    picks = 0
    while result.status == "choice":
        result = engine.step(session, "npc", result.choices[0].id)
        picks += 1
    assert result.status == "finished" and picks == len(plan.phases) - 1
    # the planned path reproduces the planned values, position and core events
    primary = plan.primary_spectrum.value
    assert session.arcs[primary] == pytest.approx(plan.projected_end_state.values[primary])
    ticks = planning_config().ticks
    expected = sum(ticks(a.narrative_effect.position_advance) for a in plan.actions)
    assert session.arcs[TICKS_ARC] == expected
    assert session.quests[COMPLETED_QUEST] == len(plan.phases)
    assert all(session.flags[core_flag(e)] for e in plan.required_core_events)
    for key, value in plan.projected_end_state.facts.items():
        assert session.flags[fact_flag(key)] == value


def test_layout_scenes_intents_and_boundaries(plan):
    program = to_program(plan)
    scenes = [n for n in program.nodes if n.type == "scene"]
    assert [n.id for n in scenes] == [f"phase{p.number}" for p in plan.phases]
    assert scenes[0].roles == {"subject": "mara_lind"}
    assert program.metadata.characters[0].name == "Mara Lind"
    actions = [n for n in program.nodes if isinstance(n, ActionNode) and n.label != "setup"]
    labels = [n.label for n in actions if ".end." not in n.id]
    assert labels == [a.action_id for a in plan.actions]
    says = [n for n in program.nodes if isinstance(n, DialogueNode) and n.generation_program]
    first = plan.intents[0]
    assert says[0].generation_program == f"intent.{first.type.value}"
    assert first.type.value in says[0].text
    ends = [n for n in program.nodes if isinstance(n, ChoiceNode) and n.id.endswith(".end")]
    assert len(ends) == len(plan.phases) - 1
    assert all(n.choices[0].id == "continue" and len(n.choices) == 2 for n in ends)


def test_deviations_move_against_the_next_phase():
    plan = compose("rags_to_riches", "action", seed=0)
    world = plan.initial_state.to_world()
    for item in plan.phases[0].actions:  # the planned world at the first boundary
        world = apply_action(world, action_library().get(item.action_id), plan.genre)
    chains = deviations(plan, 1, world, 3)
    rising = plan.phases[1].actions[-1].primary_value > world.narrative.primary_value
    assert 1 <= len(chains) <= 3
    for chain in chains:
        assert not any(a.core_event for a in chain)
        delta = sum(a.narrative_effect_for("action").primary_delta for a in chain)
        assert (delta < 0) == rising
    program = to_program(plan, deviation_count=2)
    end = next(n for n in program.nodes if n.id == "phase1.end")
    assert [c.id for c in end.choices][1:] == [f"deviate.{c[0].id}" for c in chains[:2]]


def test_a_deviation_bends_the_played_arc_and_stops_to_resume(plan):
    program = to_program(plan)
    engine, session = NarrativeEngine([program]), Session()
    first = engine.start(session, "npc", program.id)
    before = session.arcs[plan.primary_spectrum.value]
    deviation = next(c.id for c in first.choices if c.id.startswith("deviate."))
    result = engine.step(session, "npc", deviation)
    assert result.node == "phase1.resume" and [c.id for c in result.choices] == ["go_on"]
    assert session.arcs[plan.primary_spectrum.value] != before
    assert session.flags[BEGUN_FLAG] is True and session.quests[COMPLETED_QUEST] == 1


def test_a_begun_session_skips_the_setup(plan):
    program = to_program(plan)
    engine = NarrativeEngine([program])
    session = Session(flags={BEGUN_FLAG: True}, arcs={plan.primary_spectrum.value: 0.5})
    engine.start(session, "npc", program.id)
    history = [node for _, node, *_ in session.component("npc").history]
    assert "setup" not in history and history[:2] == ["begin", "phase1"]


def test_cast_and_bad_input():
    plan = compose("tragedy", "status", seed=0, actants={"subject": "Ana"})
    program = to_program(plan, {"subject": "npc_ana", "opponent": "npc_rex"})
    assert {c.id for c in program.metadata.characters} == {"npc_ana", "npc_rex"}
    with pytest.raises(DataError, match="characters"):
        to_program(plan, {"subject": "bad id!"})
    with pytest.raises(ValueError, match="deviation_count"):
        to_program(plan, deviation_count=0)
    with pytest.raises(ValueError, match="cast: actant roles"):
        to_program(plan, {"not a role": "x"})


def test_fact_flags_are_names_or_refused():
    assert fact_flag("hero.has_gift") == "hero__has_gift"
    assert fact_flag("stakes") == "stakes"
    for bad in ("a__b", "has space", "9lives", ""):
        with pytest.raises(ValueError, match="runtime flag"):
            fact_flag(bad)


def test_a_set_valued_fact_cannot_be_a_flag():
    plan = compose("tragedy", "status", seed=0, initial={"facts": {"clues": ["ring"]}})
    with pytest.raises(ValueError, match="holds a set"):
        to_program(plan)
