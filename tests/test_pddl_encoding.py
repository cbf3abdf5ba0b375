"""The PDDL encoding of phase tasks: structure, and optimal costs against reference planners.

The tasks here are small hand-made ones; ``test_pddl_export.py`` checks the library's real
phase problems against storylab's own planner.
"""

import heapq
import itertools
import re

import pytest
from pyperplan.grounding import ground
from pyperplan.pddl.parser import Parser

from storylab.storyteller.pddl import MacroLink, MacroStep, PhaseTask, encode_phase_task
from storylab.storyteller.pddl_planners import run_fast_downward, run_pyperplan
from storylab.theory import Condition, Effect, NarrativeState, WorldState


def link(action_id, pre=(), eff=(), delta=0.0, advance=0.1):
    return MacroLink(
        action_id=action_id,
        preconditions=tuple(Condition(key=k, op=op, value=v) for k, op, v in pre),
        effects=tuple(Effect(key=k, value=v, cardinality=c) for k, v, c in eff),
        primary_delta=delta,
        advance=advance,
    )


def task(steps, *, primary=0.0, position=0.0, target=(-1.0, -0.5), window=(0.2, 0.65), facts=None):
    narrative = NarrativeState(primary="life_death", values={"life_death": primary})
    return PhaseTask(
        name="toy",
        initial=WorldState(facts=facts or {}, narrative=narrative, position=position),
        steps=tuple(steps),
        primary_min=target[0],
        primary_max=target[1],
        position_floor=window[0],
        position_ceiling=window[1],
    )


def cheapest(t):
    """Exhaustive uniform-cost search over the task's own semantics: (cost, action ids)."""
    tie = itertools.count()
    start = t.initial.narrative.primary_value
    heap = [(0.0, next(tie), dict(t.initial.facts), start, t.initial.position, ())]
    done = set()
    while heap:
        g, _, facts, value, pos, plan = heapq.heappop(heap)
        key = (tuple(sorted(facts.items())), value, pos)
        if key in done or pos >= t.position_ceiling:
            continue
        done.add(key)
        if t.primary_min <= value <= t.primary_max and t.position_floor <= pos:
            return g, plan
        for step in t.steps:
            f, v, p = dict(facts), value, pos
            for ln in step.links:
                if not all(c.test(f.get(c.key)) for c in ln.preconditions):
                    break
                for e in ln.effects:
                    f[e.key] = e.apply(f)
                v = round(min(1.0, max(-1.0, v + ln.primary_delta)), 9)
                p = round(min(1.0, p + ln.advance), 9)
            else:
                heapq.heappush(heap, (g + step.cost, next(tie), f, v, p, plan + step.action_ids))
    return None


STORY = [
    MacroStep(links=(link("call", eff=[("called", True, "exclusive")], delta=0.25),), cost=1.0),
    MacroStep(
        links=(link("ally", pre=[("called", "==", True)], eff=[("allies", 1, "additive")]),),
        cost=1.5,
    ),
    MacroStep(
        links=(
            link("betray", pre=[("allies", ">=", 1)], eff=[("betrayed", True, "exclusive")]),
            link("flee", pre=[("betrayed", "==", True)], delta=-0.5, advance=0.05),
        ),
        cost=2.5,
    ),
    MacroStep(
        links=(
            link(
                "lose",
                pre=[("called", "==", True), ("betrayed", "!=", True)],
                eff=[("stakes", 2, "additive")],
                delta=-0.5,
            ),
        ),
        cost=2.0,
    ),
    MacroStep(
        links=(link("clue", eff=[("clues", 1, "additive")], delta=-0.25, advance=0.05),), cost=0.5
    ),
    MacroStep(links=(link("solve", pre=[("clues", ">=", 3)], delta=-0.25),), cost=1.25),
]


def legend(ex, kind):
    """Object name by value, from the problem's comment legend."""
    found = re.findall(rf"^; ({kind}\d+) = (\S+)$", ex.problem, re.M)
    return {float(value): name for name, value in found}


def schemas(ex, prefix):
    """The texts of the schemas for one step (split into variants or not)."""
    names = [n for n in ex.schemas if n == prefix or n.startswith(prefix + "-v")]
    return [ex.domain.split(f"(:action {n}\n")[1].split("(:action")[0] for n in names]


def schema(ex, prefix):
    """The text of a step's first schema."""
    return schemas(ex, prefix)[0]


def test_levels_are_the_values_reachable_on_the_grid():
    ex = encode_phase_task(task(STORY[:1] + STORY[3:4]))
    levels = legend(ex, "s")
    assert sorted(levels) == [-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0]
    targets = set(re.findall(r"\(target (\w+)\)", ex.problem))
    assert targets == {levels[-1.0], levels[-0.75], levels[-0.5]}


def test_positions_past_the_window_are_left_out():
    ex = encode_phase_task(task(STORY[:1], window=(0.2, 0.35)))
    steps = legend(ex, "p")
    assert sorted(steps) == [0.0, 0.1, 0.2, 0.3]
    assert set(re.findall(r"\(window (\w+)\)", ex.problem)) == {steps[0.2], steps[0.3]}


def test_costs_are_scaled_to_integers():
    ex = encode_phase_task(task(STORY))
    assert ex.cost_scale == 4
    assert "(increase (total-cost) 5)" in schema(ex, "solve")
    assert "(increase (total-cost) 2)" in schema(ex, "clue")
    assert "(increase (total-cost) 10)" in schema(ex, "betray--flee")  # the chain's cost, 2.5


def test_a_chain_is_one_atomic_schema():
    ex = encode_phase_task(task(STORY[:3]))
    assert {ex.schemas[n] for n in ex.schemas if n.startswith("betray")} == {("betray", "flee")}
    for text in schemas(ex, "betray--flee"):
        pre, eff = text.split(":effect")
        assert "fact-betrayed" not in pre  # set inside the chain, not before it
        assert "(fact-betrayed-is-true)" in eff


def test_a_precondition_with_several_values_splits_the_schema():
    forgive = MacroStep(links=(link("forgive", eff=[("betrayed", False, "exclusive")]),), cost=1)
    ex = encode_phase_task(task([*STORY, forgive]))
    assert {"lose-v1", "lose-v2"} <= set(ex.schemas)
    v1 = ex.domain.split("(:action lose-v1")[1].split(":effect")[0]
    v2 = ex.domain.split("(:action lose-v2")[1].split(":effect")[0]
    assert "(fact-betrayed-is-unset)" in v1 and "(fact-betrayed-is-false)" in v2


def test_a_rising_counter_is_cut_above_its_largest_threshold():
    ex = encode_phase_task(task(STORY))
    atoms = set(re.findall(r"\(fact-clues[^()\s]*\)", ex.domain))
    assert atoms == {f"(fact-clues-is-{v})" for v in ("unset", "1", "2", "3", "above-3")}
    assert "stakes" not in ex.domain  # never read: left out


def test_no_disjunctions_or_negative_preconditions():
    ex = encode_phase_task(task(STORY))
    for action in ex.domain.split("(:action")[1:]:
        pre = action.split(":precondition")[1].split(":effect")[0]
        assert " or " not in pre and "(not" not in pre


def test_plans_read_back_as_actions_and_cost():
    ex = encode_phase_task(task(STORY))
    plan = ["call s04 s05 p00 p02", "lose s05 s03 p02 p04", "accept s03 p04"]
    assert ex.plan_actions(plan) == ("call", "lose")
    assert ex.plan_cost(plan) == 3.0


def test_unit_compilation_needs_positive_costs():
    free = MacroStep(links=(link("free", delta=-0.5),), cost=0.0)
    with pytest.raises(ValueError, match="cost more than 0"):
        encode_phase_task(task([free]), costs="unit")
    assert encode_phase_task(task([free])).schema_costs["free"] == 0


def test_unit_compilation_parses_and_grounds_in_pyperplan(tmp_path):
    domain, problem = encode_phase_task(task(STORY), costs="unit").write(tmp_path)
    parser = Parser(str(domain), str(problem))
    grounded = ground(parser.parse_problem(parser.parse_domain()))
    assert "(done)" in grounded.goals
    assert any(op.name.startswith("(betray--flee") for op in grounded.operators)


TASKS = {
    "story": task(STORY),
    "start-inside-target": task(STORY, primary=-0.75, position=0.1),
    "chain-needed": task(STORY[:3], primary=0.25, target=(-0.5, 0.0), window=(0.3, 0.65)),
}


@pytest.mark.parametrize("name", list(TASKS))
def test_fast_downward_finds_the_exhaustive_optimum(name, tmp_path):
    t = TASKS[name]
    cost, _ = cheapest(t)
    ex = encode_phase_task(t)
    run = run_fast_downward(*ex.write(tmp_path), timeout=60)
    assert run.solved, run.detail
    assert run.cost / ex.cost_scale == pytest.approx(cost)
    assert ex.plan_cost(run.plan) == pytest.approx(cost)
    replay = cheapest_replay(t, ex.plan_actions(run.plan))
    assert replay == pytest.approx(cost)


def cheapest_replay(t, action_ids):
    """Replay ``action_ids`` from the start; the total cost if it reaches the goal, else None."""
    by_first = {s.action_ids[0]: s for s in t.steps}
    facts, v, p, total, ids = dict(t.initial.facts), 0.0, t.initial.position, 0.0, list(action_ids)
    v = t.initial.narrative.primary_value
    while ids:
        step = by_first[ids[0]]
        assert tuple(ids[: len(step.links)]) == step.action_ids
        del ids[: len(step.links)]
        for ln in step.links:
            assert all(c.test(facts.get(c.key)) for c in ln.preconditions)
            for e in ln.effects:
                facts[e.key] = e.apply(facts)
            v = round(min(1.0, max(-1.0, v + ln.primary_delta)), 9)
            p = round(min(1.0, p + ln.advance), 9)
        total += step.cost
    ok = t.primary_min <= v <= t.primary_max and t.position_floor <= p < t.position_ceiling
    return total if ok else None


def test_pyperplan_finds_the_same_optimum_on_the_unit_compilation(tmp_path):
    t = TASKS["chain-needed"]
    cost, _ = cheapest(t)
    ex = encode_phase_task(t, costs="unit")
    run = run_pyperplan(*ex.write(tmp_path), timeout=60)
    assert run.solved, run.detail
    assert ex.plan_cost(run.plan) == pytest.approx(cost)
    assert ex.plan_actions(run.plan) == cheapest(t)[1]


def test_an_unreachable_target_is_unsolvable_for_fast_downward(tmp_path):
    t = task(STORY[:1], target=(-1.0, -0.5))
    assert cheapest(t) is None
    run = run_fast_downward(*encode_phase_task(t).write(tmp_path), timeout=60)
    assert run.status == "unsolvable"
