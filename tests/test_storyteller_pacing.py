"""Pacing: a phase's steps reordered to follow the phase's line, or left alone when the new
order would not be the same plan (a different end state or cost)."""

import dataclasses
from collections import Counter

import pytest
from hypothesis import given
from test_storyteller_general import GENRE, action, phase
from test_storyteller_symmetry import CASES, SETTINGS, make_problem

from storylab.storyteller import StorylineComposer, VarietyModel, astar_search, build_actions
from storylab.storyteller.pacing import pace_steps
from storylab.storyteller.search_space import PhaseProblem
from storylab.theory import NarrativeState, WorldState
from storylab.theory.classify import classify_arc


def walk(problem, chains):
    """The states after each chain, and the total cost (the repeat penalty included)."""
    index_of = {step.ids: step.index for step in problem.steps}
    state, cost, states = problem.initial, 0.0, []
    for chain in chains:
        index = index_of[tuple(chain)]
        nxt = dict(problem.successors(state))[index]
        cost += problem.move_cost(state, index)
        state = nxt
        states.append(state)
    return states, cost


def deviation(problem, states):
    """Mean distance of the primary from the straight line of the phase."""
    _, p0, t0, _, _ = problem.initial
    _, p1, t1, _, _ = states[-1]
    return sum(abs(s[1] - (p0 + (p1 - p0) * (s[2] - t0) / (t1 - t0))) for s in states) / len(states)


def test_a_rising_phase_climbs_instead_of_spiking():
    beats = [
        action(f"b{i}", 0.05, 1.0, pre=[(f"b{i}", "!=", True)], eff=[(f"b{i}", True)])
        for i in range(4)
    ]
    library = build_actions(
        [
            action("leap", 0.3, 1.0, pre=[("leap", "!=", True)], eff=[("leap", True)]),
            action("slip", -0.1, 1.0, pre=[("slip", "!=", True)], eff=[("slip", True)]),
            *beats,
        ]
    )
    problem = make_problem(library, 0.0, 0.4, 0.2, 0.0, False)
    searched = [("leap",), ("slip",), ("b0",), ("b1",), ("b2",), ("b3",)]
    paced = pace_steps(problem, searched)
    before, cost = walk(problem, searched)
    after, paced_cost = walk(problem, paced)
    assert Counter(paced) == Counter(searched) and paced != tuple(searched)
    assert after[-1] == before[-1] and paced_cost == cost
    assert deviation(problem, after) < deviation(problem, before)
    assert paced[0] != ("leap",)  # the leap no longer opens the phase


def test_an_order_that_would_end_elsewhere_is_kept():
    # from -0.9: rise then fall ends at -1.0 (the fall clamps); the line from -0.9 to -1.0
    # would take the fall first, clamp earlier and end at -0.9: not the same plan
    library = build_actions(
        [
            action("rise", 0.1, 1.0, pre=[("rise", "!=", True)], eff=[("rise", True)]),
            action("fall", -0.2, 1.0, pre=[("fall", "!=", True)], eff=[("fall", True)]),
            action("pause", 0.0, 1.0, pre=[("pause", "!=", True)], eff=[("pause", True)]),
        ]
    )
    problem = PhaseProblem(
        world=WorldState(narrative=NarrativeState.for_genre(GENRE, value=-0.9)),
        phase=phase(-1.0, -0.95, 0.0, 1.0),
        genre=GENRE,
        total_ticks=16,
        library=library,
        variety=VarietyModel(),
        corridor=False,
    )
    searched = (("rise",), ("fall",), ("pause",))
    assert walk(problem, searched)[0][-1][1] == -20
    assert pace_steps(problem, searched) == searched


@SETTINGS
@given(**CASES)
def test_paced_plans_are_the_same_plans(library, value, target, floor, repeat, corridor):
    problem = make_problem(library, value, target, floor, repeat, corridor)
    result = astar_search(dataclasses.replace(problem))
    if not result.reached:
        return
    paced = pace_steps(problem, result.steps)
    assert Counter(paced) == Counter(result.steps)
    before, cost = walk(problem, result.steps)
    after, paced_cost = walk(problem, paced)
    assert after[-1][:4] == before[-1][:4]
    assert paced_cost == pytest.approx(cost) == pytest.approx(result.cost)


def test_a_composed_oedipus_keeps_its_shape():
    # in search order this storyline's phases zigzag, and its arc reads as a tragedy
    plan = StorylineComposer(memo=False).compose("oedipus", "society", seed=0)
    points = plan.trajectory
    fit = classify_arc([p.primary for p in points], [p.story_share for p in points])
    assert fit.best is not None and fit.best.value == "oedipus"
