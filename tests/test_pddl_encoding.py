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

from storylab.storyteller.pddl_encoding import encode_phase_task
from storylab.storyteller.pddl_planners import run_fast_downward, run_pyperplan
from storylab.storyteller.pddl_task import MacroLink, MacroStep, PhaseTask
from storylab.theory import Condition, Effect


def link(action_id, pre=(), eff=(), delta=0):
    return MacroLink(
        action_id=action_id,
        preconditions=tuple(Condition(key=k, op=op, value=v) for k, op, v in pre),
        effects=tuple(Effect(key=k, value=v, cardinality=c) for k, v, c in eff),
        primary_delta=delta,
    )


def step(*links, cost, ticks=2):
    return MacroStep(links=links, cost=cost, ticks=ticks)


def task(steps, *, primary=0, ticks=0, target=(-4, -2), window=(4, 13), required=(), facts=None):
    return PhaseTask(
        name="toy",
        facts=facts or {},
        primary=primary,
        grid_max=4,
        ticks=ticks,
        steps=tuple(steps),
        primary_min=target[0],
        primary_max=target[1],
        floor_ticks=window[0],
        ceiling_ticks=window[1],
        required=required,
        grid_step=0.25,
        total_ticks=20,
    )


def run_step(t, s, facts, value, ticks):
    """The state after step ``s``, or None when a link's preconditions fail."""
    f = dict(facts)
    for ln in s.links:
        if not all(c.test(f.get(c.key)) for c in ln.preconditions):
            return None
        for e in ln.effects:
            f[e.key] = e.apply(f)
        value = max(-t.grid_max, min(t.grid_max, value + ln.primary_delta))
    lo, hi = t.corridor
    return (f, value, ticks + s.ticks) if lo <= value <= hi else None


def is_goal(t, value, ticks, done):
    return (
        t.primary_min <= value <= t.primary_max
        and ticks >= t.floor_ticks
        and set(t.required) <= done
    )


def cheapest(t):
    """Exhaustive uniform-cost search with the task's semantics: (cost, action ids) or None."""
    tie = itertools.count()
    heap = [(0.0, next(tie), dict(t.facts), t.primary, t.ticks, frozenset(), ())]
    seen = set()
    while heap:
        g, _, facts, value, ticks, done, plan = heapq.heappop(heap)
        key = (tuple(sorted(facts.items())), value, ticks, done)
        if key in seen:
            continue
        seen.add(key)
        if plan and is_goal(t, value, ticks, done):
            return g, plan
        for s in t.steps:
            nxt = run_step(t, s, facts, value, ticks)
            if nxt is not None and nxt[2] < t.ceiling_ticks:
                done2 = done | (set(t.required) & set(s.action_ids))
                heapq.heappush(heap, (g + s.cost, next(tie), *nxt, done2, plan + s.action_ids))
    return None


def replay(t, action_ids):
    """The cost of ``action_ids`` replayed from the start if it is a plan, else None."""
    by_head = {s.action_ids[0]: s for s in t.steps}
    facts, value, ticks, ids, total = dict(t.facts), t.primary, t.ticks, list(action_ids), 0.0
    while ids:
        s = by_head[ids[0]]
        assert tuple(ids[: len(s.links)]) == s.action_ids  # chains never split
        del ids[: len(s.links)]
        facts, value, ticks = run_step(t, s, facts, value, ticks)  # None: not applicable
        assert ticks < t.ceiling_ticks
        total += s.cost
    ok = action_ids and is_goal(t, value, ticks, set(t.required) & set(action_ids))
    return total if ok else None


STORY = [
    step(link("call", eff=[("called", True, "exclusive")], delta=1), cost=1.0),
    step(link("ally", pre=[("called", "==", True)], eff=[("allies", 1, "additive")]), cost=1.5),
    step(
        link("betray", pre=[("allies", ">=", 1)], eff=[("betrayed", True, "exclusive")]),
        link("flee", pre=[("betrayed", "==", True)], delta=-2),
        cost=2.5,
        ticks=3,
    ),
    step(
        link(
            "lose",
            pre=[("called", "==", True), ("betrayed", "!=", True)],
            eff=[("stakes", 2, "additive")],
            delta=-2,
        ),
        cost=2.0,
    ),
    step(link("clue", eff=[("clues", 1, "additive")], delta=-1), cost=0.5, ticks=1),
    step(link("solve", pre=[("clues", ">=", 3)], delta=-1), cost=1.25),
]


def legend(ex, kind):
    """Object name by value, from the problem's comment legend."""
    found = re.findall(rf"^; ({kind}\d+) = (-?\d+)", ex.problem, re.M)
    return {int(value): name for name, value in found}


def schemas(ex, prefix):
    """The texts of the schemas for one step (split into variants or not)."""
    names = [n for n in ex.schemas if n == prefix or n.startswith(prefix + "-v")]
    return [ex.domain.split(f"(:action {n}\n")[1].split("(:action")[0] for n in names]


def schema(ex, prefix):
    """The text of a step's first schema."""
    return schemas(ex, prefix)[0]


def test_levels_are_the_values_reachable_on_the_grid():
    ex = encode_phase_task(task([STORY[0], STORY[3]]))  # +1 and -2, clamped to [-4, 4]
    levels = legend(ex, "s")
    assert sorted(levels) == list(range(-4, 5))
    targets = set(re.findall(r"\(target (\w+)\)", ex.problem))
    assert targets == {levels[-4], levels[-3], levels[-2]}
    assert "; s0 = -4 (primary -1)" in ex.problem


def test_primary_values_outside_the_corridor_are_left_out():
    t = task([STORY[0], STORY[3]]).model_copy(update={"corridor_lo": -3, "corridor_hi": 2})
    ex = encode_phase_task(t)
    levels = legend(ex, "s")
    assert sorted(levels) == [-3, -2, -1, 0, 1, 2]
    assert f"(shift-0 {levels[-2]} " not in ex.problem  # -2 - 2 = -4 leaves the corridor
    assert f"(shift-0 {levels[-1]} {levels[-3]})" in ex.problem


def test_positions_at_or_past_the_ceiling_are_left_out():
    ex = encode_phase_task(task(STORY[:1], window=(4, 7)))
    steps = legend(ex, "p")
    assert sorted(steps) == [0, 2, 4, 6]
    assert set(re.findall(r"\(window (\w+)\)", ex.problem)) == {steps[4], steps[6]}
    assert "(position 0.3000)" in ex.problem


def test_positions_that_cannot_reach_the_floor_are_left_out():
    ex = encode_phase_task(task([STORY[2]], window=(6, 8)))  # 3 ticks a step: 0, 3, 6
    assert sorted(legend(ex, "p")) == [0, 3, 6]
    ex = encode_phase_task(task([STORY[2]], ticks=1, window=(6, 8)))  # 1, 4, 7 (7 >= floor)
    assert sorted(legend(ex, "p")) == [1, 4, 7]
    ex = encode_phase_task(task([STORY[2]], ticks=2, window=(6, 8)))  # 5 cannot reach 6..7
    assert sorted(legend(ex, "p")) == [2]


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
        assert "(fact-betrayed betrayed-is-true)" in eff
        assert "(pending-advance-3)" in eff  # the chain's ticks, once


def test_a_precondition_with_several_values_splits_the_schema():
    forgive = step(link("forgive", eff=[("betrayed", False, "exclusive")]), cost=1)
    ex = encode_phase_task(task([*STORY, forgive]))
    pres = [text.split(":effect")[0] for text in schemas(ex, "lose")]
    assert len(pres) == 2
    assert "(fact-betrayed betrayed-is-unset)" in pres[0]
    assert "(fact-betrayed betrayed-is-false)" in pres[1]


def test_a_rising_counter_is_cut_above_its_largest_threshold():
    ex = encode_phase_task(task(STORY))
    values = set(re.findall(r"\(fact-clues (clues-is-[^()\s]*)\)", ex.domain))
    assert values == {f"clues-is-{v}" for v in ("unset", "1", "2", "3", "above-3")}
    assert "stakes" not in ex.domain  # never read: left out


def test_a_counter_that_can_fall_keeps_exact_values():
    down = step(
        link("lose-ally", pre=[("allies", ">=", 1)], eff=[("allies", -1, "additive")]), cost=1
    )
    ex = encode_phase_task(task([*STORY[:2], down]))
    values = set(re.findall(r"\(fact-allies (allies-is-[^()\s]*)\)", ex.domain))
    assert "allies-is-0" in values and "allies-is-6" in values
    assert not any("above" in v for v in values)


def test_no_disjunctions_or_negative_preconditions():
    ex = encode_phase_task(task(STORY))
    for action in ex.domain.split("(:action")[1:]:
        pre = action.split(":precondition")[1].split(":effect")[0]
        assert " or " not in pre and "(not" not in pre


def test_required_events_and_a_first_step_gate_the_accept_action():
    ex = encode_phase_task(task(STORY, required=("solve", "flee")))
    accept = schema(ex, "accept")
    assert "(moved)" in accept and "(did-solve)" in accept and "(did-flee)" in accept
    assert all("(did-flee)" in text for text in schemas(ex, "betray--flee"))
    assert "(did-" not in schema(ex, "call")


def test_plans_read_back_as_actions_and_cost():
    ex = encode_phase_task(task(STORY))
    plan = ["call s04 s05 p00 p02", "(lose s05 s03 p02 p04)", "accept s03 p04"]
    assert ex.plan_actions(plan) == ("call", "lose")
    assert ex.plan_cost(plan) == 3.0


def test_unit_compilation_needs_positive_costs():
    free = step(link("free", delta=-2), cost=0.0)
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
    "already-in-target": task(STORY, primary=-3, ticks=5),  # a plan still needs a step
    "chain-needed": task(STORY[:3], primary=1, target=(-2, 0), window=(6, 13)),
    "required-event": task(STORY, required=("betray",)),
    "corridor": task(STORY, target=(-3, -2)).model_copy(update={"corridor_lo": -3}),
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
    assert replay(t, ex.plan_actions(run.plan)) == pytest.approx(cost)


def test_pyperplan_finds_the_same_optimum_on_the_unit_compilation(tmp_path):
    t = TASKS["chain-needed"]
    cost, _ = cheapest(t)
    ex = encode_phase_task(t, costs="unit")
    run = run_pyperplan(*ex.write(tmp_path), timeout=60)
    assert run.solved, run.detail
    assert ex.plan_cost(run.plan) == pytest.approx(cost)
    assert replay(t, ex.plan_actions(run.plan)) == pytest.approx(cost)


def test_an_unreachable_target_is_unsolvable_for_fast_downward(tmp_path):
    t = task(STORY[:1], target=(-4, -2))  # "call" only moves up
    assert cheapest(t) is None
    run = run_fast_downward(*encode_phase_task(t).write(tmp_path), timeout=60)
    assert run.status == "unsolvable"
