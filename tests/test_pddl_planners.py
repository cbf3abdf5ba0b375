"""The reference-planner runners: plans, costs and the ways a run can stop."""

import re

from storylab.storyteller.pddl_planners import (
    fast_downward_driver,
    run_fast_downward,
    run_pyperplan,
)

DOMAIN = """(define (domain ladder)
  (:requirements :strips :typing :action-costs)
  (:types rung)
  (:constants r0 r2 - rung)
  (:predicates (on ?r - rung) (next ?a ?b - rung))
  (:functions (total-cost) - number)
  (:action climb :parameters (?a ?b - rung)
    :precondition (and (on ?a) (next ?a ?b))
    :effect (and (not (on ?a)) (on ?b) (increase (total-cost) 3)))
  (:action jump :parameters ()
    :precondition (and (on r0))
    :effect (and (not (on r0)) (on r2) (increase (total-cost) 7))))
"""
PROBLEM = """(define (problem up) (:domain ladder)
  (:objects r1 r3 - rung)
  (:init (on r0) (next r0 r1) (next r1 r2) (= (total-cost) 0))
  (:goal (on {goal}))
  (:metric minimize (total-cost)))
"""


def write(tmp_path, domain=DOMAIN, goal="r2"):
    (tmp_path / "d.pddl").write_text(domain)
    (tmp_path / "p.pddl").write_text(PROBLEM.format(goal=goal))
    return tmp_path / "d.pddl", tmp_path / "p.pddl"


def test_the_driver_ships_with_up_fast_downward():
    driver = fast_downward_driver()
    assert driver is not None and driver.name == "fast-downward.py"


def test_fast_downward_finds_the_cheapest_plan_not_the_shortest(tmp_path):
    run = run_fast_downward(*write(tmp_path), timeout=60)
    assert run.solved and run.cost == 6  # two climbs (3 + 3) beat one jump (7)
    assert run.plan == ("climb r0 r1", "climb r1 r2")
    assert run.expanded >= 1 and run.wall_s > 0
    assert not list(tmp_path.glob("sas_plan*"))  # runs in a scratch directory


def test_fast_downward_reports_unsolvable_tasks_and_errors(tmp_path):
    run = run_fast_downward(*write(tmp_path, goal="r3"), timeout=60)  # no rung leads to r3
    assert run.status == "unsolvable" and run.plan == () and run.cost is None
    run = run_fast_downward(*write(tmp_path, goal="r9"), timeout=60)  # r9 is not an object
    assert run.status == "error" and "exit" in run.detail


def test_pyperplan_counts_steps_and_rejects_action_costs(tmp_path):
    assert run_pyperplan(*write(tmp_path), timeout=60).status == "error"  # no :functions
    unit = re.sub(r" \(increase \(total-cost\) \d\)|  \(:functions.*\n| :action-costs", "", DOMAIN)
    d, p = write(tmp_path, unit)
    p.write_text(
        re.sub(
            r" \(= \(total-cost\) 0\)|\n  \(:metric minimize \(total-cost\)\)", "", p.read_text()
        )
    )
    run = run_pyperplan(d, p, timeout=60)
    assert run.solved and run.plan == ("jump",) and run.cost == 1  # fewest steps


def test_a_run_past_its_time_limit_is_a_timeout(tmp_path):
    run = run_fast_downward(*write(tmp_path), timeout=0.001)
    assert run.status == "timeout" and not run.solved and run.cost is None
