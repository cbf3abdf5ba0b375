"""World-state semantics of actions, transitions, progress and the compact search encoding."""

import pytest

from storylab.storyteller import (
    PhaseProblem,
    StateSnapshot,
    StoryProgress,
    TransitionResult,
    action_library,
    apply_action,
    apply_chain,
    can_apply,
    template_library,
)
from storylab.theory import NarrativeState, WorldState


def world(genre="horror", value=0.0, **facts):
    return WorldState(facts=facts, narrative=NarrativeState.for_genre(genre, value=value))


def test_apply_action_effects_narrative_and_preconditions():
    lib = action_library()
    start = world("horror", 0.5)
    struck = apply_action(start, lib.get("villain_strikes"), "horror")
    assert struck.facts["antagonist.known"] is True
    assert struck.narrative.primary_value == 0.25  # the horror variant: -0.25
    assert start.facts == {}  # immutable
    assert not can_apply(struck, lib.get("villain_strikes"))
    with pytest.raises(ValueError, match=r"antagonist\.known != True does not hold"):
        apply_action(struck, lib.get("villain_strikes"), "horror")
    # additive counters and grid snapping at the pole
    once = apply_action(world("action", 0.95), lib.get("gain_ally"), "action")
    twice = apply_action(once, lib.get("gain_ally"), "action")
    assert twice.facts["allies"] == 2 and twice.narrative.primary_value == 1.0


def test_chain_applies_link_by_link_and_never_splits():
    lib = action_library()
    chain = lib.chain("test_by_donor")
    states = apply_chain(world("action"), chain, "action")
    assert [s.facts.get("hero.has_gift") for s in states] == [None, True]
    gifted = world("action", **{"hero.has_gift": True})
    with pytest.raises(ValueError, match="receive_gift"):
        apply_chain(gifted, chain, "action")  # the second link fails: nothing is returned


def test_secondary_spectrum_moves():
    lib = action_library()
    w = WorldState(narrative=NarrativeState.for_genre("war", value=0.0))
    after = apply_action(w, lib.get("big_battle"), "war", "life_death")
    assert after.narrative["honor_dishonor"] == -0.15 and after.narrative["life_death"] == -0.2


def test_hybrid_transition_check():
    phase = template_library().get("man_in_a_hole").phase(2)  # trough: primary_max applies
    inside = NarrativeState.for_genre("action", value=-0.6)
    outside = NarrativeState.for_genre("action", value=-0.1)
    assert phase.check_transition(0.4, inside) is TransitionResult.NOT_READY
    assert phase.check_transition(0.52, inside) is TransitionResult.READY
    assert phase.check_transition(0.52, outside) is TransitionResult.NOT_READY
    assert phase.check_transition(0.6, outside) is TransitionResult.FORCED_ADVANCE
    hi = phase.goal_range()[1]
    assert hi == phase.transition.primary_max < phase.target_state.primary_max
    tpl = template_library().get("cinderella")
    assert [tpl.phase_at(x).number for x in (0.0, 0.2, 0.69, 0.99, 1.0)] == [1, 2, 4, 5, 5]


def test_story_progress_reestimates_lazily():
    progress = StoryProgress(40)
    assert progress.total_ticks == 80 and progress.position == 0.0
    progress.on_phase_generated(0.0)  # first phase: nothing done, nothing to re-estimate
    for _ in range(10):
        progress.on_action_completed(2)
    progress.on_phase_completed()
    progress.on_phase_generated(0.2)  # ran long: 20 ticks where 16 were expected
    assert progress.total_ticks == 20 + 64
    assert progress.actions_completed == 10
    assert progress.position == pytest.approx(20 / 84)
    with pytest.raises(ValueError):
        StoryProgress(0)


def test_compact_encoding_matches_world_state():
    tpl = template_library().get("man_in_a_hole")
    start = world("crime", 0.2, **{"protagonist.has_ally": True, "unread": 3})
    problem = PhaseProblem(world=start, phase=tpl.phase(1), genre="crime", total_ticks=80)
    facts_id, primary, ticks, done, _ = problem.initial
    decoded = dict(zip(problem.keys, problem.domain.facts(facts_id), strict=True))
    assert decoded["protagonist.has_ally"] is True
    assert "unread" not in problem.keys  # no precondition reads it
    assert (primary, ticks, done) == (4, 0, 0)
    lib = action_library()
    for index, (f2, p2, t2, _, _) in problem.successors(problem.initial):
        step = problem.steps[index]
        replayed = apply_chain(start, step.actions, "crime")[-1]
        after = dict(zip(problem.keys, problem.domain.facts(f2), strict=True))
        assert after == {k: replayed.facts.get(k) for k in problem.keys}
        assert p2 * 0.05 == pytest.approx(replayed.narrative.primary_value)
        assert t2 == step.ticks and lib.get(step.ids[0]).applies_to("crime")


def test_snapshot_round_trip():
    w = WorldState(
        facts={"tags": frozenset({"b", "a"}), "n": 1, "ok": True},
        narrative=NarrativeState.for_genre("love", value=0.3),
        position=0.25,
    )
    snap = StateSnapshot.from_world(w)
    assert snap.facts["tags"] == ("a", "b")
    assert snap.to_world() == w
    assert StateSnapshot.model_validate_json(snap.model_dump_json()) == snap
