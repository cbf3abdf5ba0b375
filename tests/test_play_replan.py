"""Re-planning from the played session: the rest of the story, deterministic, explained."""

import pytest

from storylab.play import (
    BEGUN_FLAG,
    COMPLETED_QUEST,
    TICKS_ARC,
    Replan,
    StoryPlayer,
    core_flag,
    fact_flag,
    played_state,
    replan,
    to_program,
)
from storylab.runtime import NarrativeEngine, Session
from storylab.storyteller import ResumeFrom, StorylineComposer, compose, template_library


def _deviate_after_first_phase(plan):
    program = to_program(plan)
    engine, session = NarrativeEngine([program]), Session()
    result = engine.start(session, "npc", program.id)
    deviation = next(c.id for c in result.choices if c.id.startswith("deviate."))
    engine.step(session, "npc", deviation)
    return session, deviation


@pytest.mark.parametrize(
    ("template", "genre"), [(t.arc.value, t.compatible_genres[0].genre) for t in template_library()]
)
def test_a_scripted_deviation_is_replanned_to_the_later_core_events(template, genre):
    plan = compose(template, genre, seed=0)
    session, _ = _deviate_after_first_phase(plan)
    new = replan(plan, session)
    assert new.resumed_at == new.plan.phases[0].number == 2
    assert new.plan.missing_core_events == ()
    later = {e for p in plan.phases[1:] for e in p.required_core_events}
    assert later <= {a.action_id for a in new.plan.actions}
    # the rest starts where the player left the story, not where the plan expected
    played = session.arcs[plan.primary_spectrum.value]
    assert new.plan.initial_state.values[plan.primary_spectrum] == pytest.approx(played)
    assert new.played.values[plan.primary_spectrum] == pytest.approx(played)
    assert new.ticks_done == session.arcs[TICKS_ARC] > 0
    assert {u.kind for u in new.unreached} <= {"target"}
    assert new.reaches_everything == (new.unreached == ())


def test_replans_are_deterministic_byte_for_byte():
    plan = compose("cinderella", "love", seed=4)
    first, _ = _deviate_after_first_phase(plan)
    second, _ = _deviate_after_first_phase(plan)
    a, b = replan(plan, first, seed=3), replan(plan, second, seed=3)
    assert a.to_json() == b.to_json()
    assert Replan.model_validate_json(a.to_json()).to_json() == a.to_json()
    assert replan(plan, first, seed=4).plan.id != a.plan.id  # the seed is mixed in


def test_the_replanned_program_continues_the_session():
    plan = compose("man_in_a_hole", "action", seed=0)
    session, _ = _deviate_after_first_phase(plan)
    new = replan(plan, session)
    program = to_program(new.plan)
    engine = NarrativeEngine([program])
    session.component("npc").finish()  # the host ends the old program at the resume point
    result = engine.start(session, "npc", program.id)
    while result.status == "choice":
        result = engine.step(session, "npc", "continue")
    assert result.status == "finished"
    assert session.quests[COMPLETED_QUEST] == len(plan.phases)
    assert all(session.flags[core_flag(e)] for e in plan.required_core_events)
    end = new.plan.projected_end_state.values[plan.primary_spectrum]
    assert session.arcs[plan.primary_spectrum.value] == pytest.approx(end)


def test_a_replanned_program_sets_up_a_fresh_session_where_the_rest_starts():
    plan = compose("man_in_a_hole", "action", seed=0)
    played, _ = _deviate_after_first_phase(plan)
    new = replan(plan, played)
    setup = to_program(new.plan).node("setup").effects
    assert setup.arcs[TICKS_ARC] == played.arcs[TICKS_ARC]
    primary = plan.primary_spectrum.value
    assert setup.arcs[primary] == pytest.approx(played.arcs[primary])
    for key, value in played_state(plan, played).world.facts.items():
        assert setup.flags[fact_flag(key)] == value
    done = played_state(plan, played).core_events_done
    assert all(setup.flags[core_flag(e)] for e in done)


def test_played_state_reads_the_session():
    plan = compose("tragedy", "status", seed=0)
    session = Session(
        flags={BEGUN_FLAG: True, "hero__tested": True, core_flag("temptation"): True},
        arcs={plan.primary_spectrum.value: 0.3333, TICKS_ARC: 12.0},
        quests={COMPLETED_QUEST: 1},
    )
    state = played_state(plan, session)
    assert state.world.facts == {"hero.tested": True}
    assert state.world.narrative.primary_value == pytest.approx(0.35)  # on the planning grid
    assert (state.completed, state.ticks, state.core_events_done) == (1, 12, ("temptation",))
    assert state.key() == played_state(plan, session).key()


def _started(plan):
    program = to_program(plan)
    session = Session()
    NarrativeEngine([program]).start(session, "npc", program.id)  # phase 1 played
    return session


def test_an_unreachable_core_event_says_why():
    plan = compose("man_in_a_hole", "action", seed=0)
    session = _started(plan)
    session.flags["hero__at_mercy"] = True  # the host's world blocks the climax
    new = replan(plan, session)
    assert new.plan.missing_core_events == ("hero_at_mercy_of_villain",)
    missing = next(u for u in new.unreached if u.kind == "core_event")
    assert missing.name == "hero_at_mercy_of_villain" and missing.phase == len(plan.phases)
    assert "needs hero.at_mercy != True" in missing.reason
    assert "no action of the genre makes true" in missing.reason
    assert not new.reaches_everything


def test_unreachable_targets_say_where_the_phase_ended_and_why():
    plan = compose("man_in_a_hole", "action", seed=0)
    session = _started(plan)
    session.arcs[TICKS_ARC] = 300  # the story has run far past its length
    new = replan(plan, session)
    targets = [u for u in new.unreached if u.kind == "target"]
    assert targets[0].name == "fall_into_the_hole" and targets[0].phase == 2
    assert targets[0].reason.startswith("has no action, target [-0.75, -0.45]")
    assert "forced_advance" in targets[0].reason
    assert all(u.reason for u in targets)


def test_candidates_keep_the_story_closest_to_its_arc():
    plan = compose("man_in_a_hole", "crime", seed=0)
    session, _ = _deviate_after_first_phase(plan)
    one = replan(plan, session)
    three = replan(plan, session, candidates=3, played=[(0, 0.2)])
    assert one.arc_score == 0.0 and three.arc_score != 0.0
    with pytest.raises(ValueError, match="candidates"):
        replan(plan, session, candidates=0)


def test_bad_sessions_are_refused():
    plan = compose("tragedy", "status", seed=0)
    with pytest.raises(ValueError, match="has not begun"):
        replan(plan, Session())
    ended = Session(flags={BEGUN_FLAG: True}, quests={COMPLETED_QUEST: len(plan.phases)})
    with pytest.raises(ValueError, match="has ended"):
        replan(plan, ended)


def test_resume_from_is_checked_by_the_composer():
    composer = StorylineComposer()
    with pytest.raises(ValueError, match=r"resume\.phase"):
        composer.compose("tragedy", "status", resume=ResumeFrom(phase=9, ticks_done=0))
    with pytest.raises(ValueError, match="core_events_done"):
        composer.compose(
            "tragedy",
            "status",
            resume=ResumeFrom(phase=2, ticks_done=10, core_events_done=("lovers_meet",)),
        )
    rest = composer.compose("tragedy", "status", resume=ResumeFrom(phase=3, ticks_done=40))
    assert [p.number for p in rest.phases] == [3, 4]
    assert rest.trajectory[0].story_share > 0


def test_the_player_replans_only_with_replanning_on():
    plan = compose("oedipus", "horror", seed=0)
    for on in (False, True):
        player = StoryPlayer(plan, replanning=on)
        result = player.start()
        while result.status == "choice":
            picks = [c.id for c in result.choices]
            result = player.step(next((c for c in picks if c.startswith("deviate.")), picks[0]))
        played = player.playthrough()
        assert played.finished and played.deviations == len(plan.phases) - 1
        assert played.replans == (played.deviations if on else 0)
        assert ("go_on" in played.choices) != on
        assert len(played.ticks) == len(played.primary) == len(played.actions) + 1


def test_a_player_plays_and_replans_with_the_composers_own_library(own_library):
    from storylab.play import simulate_players
    from storylab.storyteller import load_actions

    # staples under other names: unknown to the packaged library
    path = own_library({"small_victory": "fair_wind", "setback": "foul_wind"})
    composer = StorylineComposer(library=load_actions(path))
    plan = composer.compose("cinderella", "love", seed=0)
    assert "fair_wind" in {a.action_id for a in plan.actions}
    player = StoryPlayer(plan, composer=composer, seed=0)
    result = player.start()
    deviation = next(c.id for c in result.choices if c.id.startswith("deviate."))
    player.step(deviation)
    assert len(player.replans) == 1 and player.intents
    frame = simulate_players(plan, 4, composer=composer, seed=1, progress=False)
    assert len(frame) == 8 and frame["replans"].max() >= 1
