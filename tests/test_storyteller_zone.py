"""Exact A*'s estimate (``PhaseProblem.optimal_heuristic``): steps the fact relaxation cannot
reach are dropped, and a plan is split at its first state in a clamping zone.

Each hand-made library below has a relaxed plan that the older estimate
(``exact_heuristic``) prices below the optimum and the new one does not; the random
libraries of ``tests/test_storyteller_symmetry.py`` check both against exhaustive search."""

import dataclasses
import math

import pytest
from test_storyteller_general import GENRE, action, phase
from test_storyteller_symmetry import uniform_cost

from storylab.storyteller import VarietyModel, astar_search, build_actions
from storylab.storyteller.fact_relaxation import FactRelaxation
from storylab.storyteller.search_space import PhaseProblem
from storylab.storyteller.zone_relaxation import SplitCostToGo
from storylab.theory import Condition, Effect, NarrativeState, WorldState


def make(actions, value, lo, hi, floor, total_ticks=40):
    return PhaseProblem(
        world=WorldState(narrative=NarrativeState.for_genre(GENRE, value=value)),
        phase=phase(lo, hi, floor, 0.9),
        genre=GENRE,
        total_ticks=total_ticks,
        library=build_actions(actions),
        variety=VarietyModel(),
    )


def searches(problem):
    """(old estimate's search, new estimate's search) of fresh copies of ``problem``."""
    old = dataclasses.replace(problem)
    return astar_search(old, heuristic=old.exact_heuristic), astar_search(
        dataclasses.replace(problem)
    )


def priced_exactly(problem, old_estimate: float, cost: float) -> None:
    """The new estimate prices the start at its true cost where the old one fell short, and
    exact search finds the same optimum with fewer expansions."""
    assert uniform_cost(problem, problem.initial) == pytest.approx(cost)
    assert problem.exact_heuristic(problem.initial) == pytest.approx(old_estimate)
    assert problem.optimal_heuristic(problem.initial) == pytest.approx(cost)
    old, new = searches(problem)
    assert old.cost == new.cost == pytest.approx(cost) and new.stats.optimal
    assert new.stats.expanded < old.stats.expanded


def test_a_mover_behind_a_gate_nothing_opens_is_not_priced():
    # "gated" (+0.3 for 0.5) needs the gate, which only "opener" sets; "opener" needs the key,
    # which only "forge" sets, and "forge" needs the gate: the use bounds keep "gated" (its
    # fact is written somewhere), the fact relaxation sees that no plan reaches it
    problem = make(
        [
            action("step", 0.1, 1.0),
            action("half", 0.05, 0.6),
            action("gated", 0.3, 0.5, pre=[("gate", "==", True)]),
            action("opener", 0.0, 1.0, pre=[("key", "==", True)], eff=[("gate", True)]),
            action("forge", 0.0, 1.0, pre=[("gate", "==", True)], eff=[("key", True)]),
        ],
        value=0.0,
        lo=0.3,
        hi=0.4,
        floor=0.0,
    )
    priced_exactly(problem, old_estimate=0.5, cost=3.0)


def clamp_library():
    """A one-off chain falling 8 grid steps then rising 1 (it moves only -6 from -13, where
    its fall clamps at -1), cheap one-off falls of 1, and a dear rise of 2."""
    actions = [
        action(
            "crash",
            -0.4,
            4.0,
            pre=[("crashed", "!=", True)],
            eff=[("crashed", True)],
            chained_action="recover",
        ),
        action("recover", 0.05, 0.5, advance="micro"),
        action("up", 0.1, 2.5),
    ]
    for i in range(5):
        flag = f"fall{i}"
        actions.append(
            action(flag, -0.05, 1.0, advance="micro", pre=[(flag, "!=", True)], eff=[(flag, True)])
        )
    return actions


def test_a_chain_that_clamps_near_the_end_is_priced_by_the_split():
    # the cheapest relaxed plans use "crash" for -6 (from -13), which needs the spectrum at
    # -13 first; the split prices reaching it with the beats the rest of the plan needs too
    problem = make(clamp_library(), value=-0.1, lo=-0.45, hi=-0.25, floor=0.3)
    assert problem.corridor_lo == -14  # the corridor reaches the zone where "crash" clamps
    priced_exactly(problem, old_estimate=14.5, cost=15.0)


def test_estimates_along_the_clamp_library_stay_below_the_remaining_cost():
    problem = make(clamp_library(), value=-0.1, lo=-0.45, hi=-0.25, floor=0.3)
    frontier, seen = [problem.initial], {problem.initial}
    while frontier and len(seen) < 60:
        state = frontier.pop(0)
        assert problem.optimal_heuristic(state) <= uniform_cost(problem, state) + 1e-9
        for _, nxt in problem.expand(state)[0]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)


def test_the_fact_relaxation_lists_the_steps_it_reaches():
    # slots: 0 key, 1 gate, 2 count; step 0 sets the gate, step 1 needs it, step 2 needs a
    # key nothing sets, step 3 raises a counter step 4 needs at 2
    def cond(key, op, value):
        return Condition(key=key, op=op, value=value)

    def eff(key, value, cardinality="exclusive"):
        return Effect(key=key, value=value, cardinality=cardinality)

    links = [
        [((), ((1, eff("gate", True)),))],
        [(((1, cond("gate", "==", True)),), ())],
        [(((0, cond("key", "==", True)),), ())],
        [((), ((2, eff("count", 1, "additive")),))],
        [(((2, cond("count", ">=", 2)),), ())],
    ]
    relaxation = FactRelaxation(links, [1.0] * 5, [True] * 5, 3, (), ())
    assert relaxation.reachable((None, None, 0)) == (0, 1, 3, 4)
    unusable = FactRelaxation(links, [1.0] * 5, [False, True, True, True, True], 3, (), ())
    assert unusable.reachable((None, None, 0)) == (3, 4)  # the gate is never set
    assert unusable.reachable((None, True, 0)) == (1, 3, 4)


def test_the_split_table_shares_a_one_off_step_between_its_two_parts():
    # one step, used at most once, moving -2 wherever it is used
    item = (1.0, 1, 0, (-2, -2), (-2, -2), 1, True)
    shared = SplitCostToGo([item], k_max=0, r_max=2, width=4)
    assert shared(0, 0, -2, 0, 0) == 1.0  # in the part before the zone
    assert shared(0, 0, 0, -2, -2) == 1.0  # or after it
    assert shared(0, 0, -2, -2, -2) == math.inf  # not in both
    assert shared(0, 2, -2, 0, 0) == math.inf  # and it gives one tick only
    assert shared(0, 0, 0, -4, 3) == 0.0  # nothing used: no move, no cost
    apart = SplitCostToGo([(*item[:-1], False)], k_max=0, r_max=2, width=4)
    assert apart(0, 0, -2, -2, -2) == 2.0  # a bound for each part: a weaker table
    with pytest.raises(ValueError, match="tick"):
        SplitCostToGo([(1.0, 0, 0, (0, 0), (0, 0), 1, True)], k_max=0, r_max=1, width=2)
