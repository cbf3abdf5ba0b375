"""Exact search's reductions stay sound: interchangeable one-off beats taken in one order,
pathmax, signed moves, the net-move window, the excursion bounds at the spectrum's ends, the
split at a clamping zone and the steps the fact relaxation cannot reach.

The reference is a uniform-cost search over the same compiled states with every order of
every step (the compiled encoding itself is checked against the reference semantics in
``tests/test_storyteller_general.py``)."""

import dataclasses
import heapq
import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_storyteller_general import GENRE, action, phase

from storylab.storyteller import StorylineComposer, VarietyModel, astar_search, build_actions
from storylab.storyteller.search_space import PhaseProblem
from storylab.theory import NarrativeState, WorldState


@st.composite
def beat_library(draw):
    """Repeatable movers, one-off beats in groups of equal cost and move (interchangeable),
    a one-off chain that clamps near -1, a mover behind a gate nothing can open, and a
    pursuit/rescue pair (each disables itself, the other enables it again)."""
    actions = []
    for i in range(draw(st.integers(1, 2))):
        actions.append(
            action(
                f"mover{i}",
                draw(st.sampled_from([-0.15, -0.1, 0.1, 0.15, 0.2])),
                draw(st.sampled_from([1.5, 2.0, 2.5])),
                advance=draw(st.sampled_from(["micro", "standard"])),
            )
        )
    groups = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    for g, size in enumerate(groups):
        delta = draw(st.sampled_from([-0.1, -0.05, 0.05, 0.1]))
        cost = draw(st.sampled_from([1.0, 2.0]))
        for j in range(size):
            flag = f"beat{g}_{j}"
            actions.append(action(flag, delta, cost, pre=[(flag, "!=", True)], eff=[(flag, True)]))
    if draw(st.booleans()):  # a one-off chain whose fall clamps near -1 (a clamping zone)
        crash = draw(st.sampled_from([-0.4, -0.6]))
        actions.append(
            action(
                "crash",
                crash,
                draw(st.sampled_from([2.0, 3.0])),
                pre=[("crashed", "!=", True)],
                eff=[("crashed", True)],
                chained_action="recover",
            )
        )
        actions.append(action("recover", 0.05, 0.5, advance="micro"))
    if draw(st.booleans()):  # a cheap mover behind a gate no plan can open (a cycle)
        actions.append(action("gated", 0.3, 0.5, pre=[("gate", "==", True)]))
        actions.append(action("opener", 0.0, 1.0, pre=[("key", "==", True)], eff=[("gate", True)]))
        actions.append(action("forge", 0.0, 1.0, pre=[("gate", "==", True)], eff=[("key", True)]))
    if draw(st.booleans()):
        actions.append(
            action("pursuit", -0.1, 1.0, pre=[("pursued", "!=", True)], eff=[("pursued", True)])
        )
        actions.append(
            action("rescue", 0.25, 1.5, pre=[("pursued", "==", True)], eff=[("pursued", False)])
        )
    return build_actions(actions)


def make_problem(library, value, target, floor, repeat, corridor):
    lo = max(-1.0, target - 0.1)
    return PhaseProblem(
        world=WorldState(narrative=NarrativeState.for_genre(GENRE, value=value)),
        phase=phase(lo, min(1.0, lo + 0.1), floor, 0.9),
        genre=GENRE,
        total_ticks=16,
        library=library,
        variety=VarietyModel(repeat_penalty=repeat),
        corridor=corridor,
    )


def uniform_cost(problem, state):
    """Least cost from ``state`` to a goal over every order of every step (``inf``: none)."""
    counter = itertools.count()
    frontier, seen = [(0.0, next(counter), state)], set()
    while frontier:
        cost, _, current = heapq.heappop(frontier)
        if current in seen:
            continue
        seen.add(current)
        if (current != problem.initial or cost > 0) and problem.is_goal(current):
            return cost
        for index, nxt in problem.expand(current)[0]:
            if nxt not in seen:
                step = cost + problem.move_cost(current, index)
                heapq.heappush(frontier, (step, next(counter), nxt))
    return math.inf


def reachable(problem, limit=40):
    """Up to ``limit`` states reachable from the start, breadth first."""
    out, queue, seen = [], [problem.initial], {problem.initial}
    while queue and len(out) < limit:
        state = queue.pop(0)
        out.append(state)
        for _, nxt in problem.expand(state)[0]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return out


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CASES = {
    "library": beat_library(),
    # starts near the ends of the spectrum too, where clamping changes the moves
    "value": st.sampled_from([-1.0, -0.9, -0.3, 0.0, 0.3, 0.9, 1.0]),
    "target": st.sampled_from([-0.9, -0.4, 0.0, 0.4, 0.9]),
    "floor": st.sampled_from([0.2, 0.4, 0.6]),
    "repeat": st.sampled_from([0.0, 1.5]),
    "corridor": st.booleans(),
}


@SETTINGS
@given(**CASES)
def test_exact_search_costs_equal_a_search_over_every_order(
    library, value, target, floor, repeat, corridor
):
    problem = make_problem(library, value, target, floor, repeat, corridor)
    expected = uniform_cost(problem, problem.initial)
    result = astar_search(dataclasses.replace(problem))
    if math.isinf(expected):
        assert not result.reached
        return
    assert result.reached and result.cost == pytest.approx(expected)
    # flagged optimal exactly when no plan leaving the corridor is cheaper
    free = dataclasses.replace(problem, corridor=False)
    assert result.stats.optimal == (uniform_cost(free, free.initial) >= expected - 1e-9)


@SETTINGS
@given(**CASES)
def test_estimates_never_exceed_the_remaining_cost(library, value, target, floor, repeat, corridor):
    problem = make_problem(library, value, target, floor, repeat, corridor)
    free = dataclasses.replace(problem, corridor=False)
    for state in reachable(problem):
        left = uniform_cost(problem, state)
        assert problem.exact_heuristic(state) <= left + 1e-9
        assert problem.optimal_heuristic(state) <= left + 1e-9
        # the corridor-free bound holds in the problem without the corridor
        assert problem.free_bound(state) <= uniform_cost(free, state) + 1e-9


def test_interchangeable_beats_are_taken_in_one_order():
    library = build_actions(
        [
            action(f"b{i}", 0.1, 1.0, pre=[(f"b{i}", "!=", True)], eff=[(f"b{i}", True)])
            for i in range(3)
        ]
        + [action("odd", 0.1, 1.5, pre=[("odd", "!=", True)], eff=[("odd", True)])]
    )
    problem = make_problem(library, 0.0, 0.4, 0.2, 0.0, True)
    start = problem.initial
    every = [i for i, _ in problem.expand(start)[0]]
    canonical = [i for i, _ in problem.expand(start, canonical=True)[0]]
    names = [problem.steps[i].ids[0] for i in canonical]
    assert len(every) == 4 and names == ["b0", "odd"]  # b1 waits for b0, b2 for b1
    _, after_b0 = next(m for m in problem.expand(start)[0] if problem.steps[m[0]].ids == ("b0",))
    names = [problem.steps[i].ids[0] for i, _ in problem.expand(after_b0, canonical=True)[0]]
    assert names == ["b1", "odd"]


def test_a_beat_read_by_another_step_is_not_interchangeable():
    library = build_actions(
        [
            action("b0", 0.1, 1.0, pre=[("b0", "!=", True)], eff=[("b0", True)]),
            action("b1", 0.1, 1.0, pre=[("b1", "!=", True)], eff=[("b1", True)]),
            action("after", 0.1, 1.0, pre=[("b1", "==", True)]),
        ]
    )
    problem = make_problem(library, 0.0, 0.4, 0.2, 0.0, True)
    canonical = problem.expand(problem.initial, canonical=True)[0]
    assert sorted(problem.steps[i].ids[0] for i, _ in canonical) == ["b0", "b1"]


@pytest.mark.parametrize("pair", [("tragedy", "crime"), ("man_in_a_hole", "action")])
def test_composed_phases_keep_their_optimum_in_one_order(pair):
    composer = StorylineComposer()
    composer.compose(*pair, seed=0)
    for problem in composer.problems_:
        result = astar_search(dataclasses.replace(problem))
        assert result.reached and result.stats.optimal
        h0 = problem.exact_heuristic(problem.initial)
        assert h0 <= result.cost + 1e-9 and problem.free_bound(problem.initial) <= result.cost
        assert problem.optimal_heuristic(problem.initial) <= result.cost + 1e-9


def test_the_corridor_free_bound_prices_the_clamp_at_the_end_of_the_spectrum():
    # +0.3 four times reaches +1 (clamped), then -0.65 lands on 0.35: 5 steps; without the
    # clamp, 0.35 takes 12 rises and 5 falls, which is all the corridor allows
    library = build_actions([action("rise", 0.3, 1.0), action("fall", -0.65, 1.0)])
    problem = PhaseProblem(
        world=WorldState(narrative=NarrativeState.for_genre(GENRE, value=0.0)),
        phase=phase(0.35, 0.35, 0.0, 1.0),
        genre=GENRE,
        total_ticks=60,
        library=library,
        variety=VarietyModel(),
    )
    free = dataclasses.replace(problem, corridor=False)
    assert uniform_cost(free, free.initial) == pytest.approx(5.0)
    assert problem.free_bound(problem.initial) <= 5.0
    assert free.free_bound(free.initial) <= 5.0
    result = astar_search(dataclasses.replace(problem))
    assert result.reached and result.cost == pytest.approx(17.0)
    assert not result.stats.optimal  # a cheaper plan leaves the corridor: flagged
