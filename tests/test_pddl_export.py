"""Exporting the composer's phase problems as PDDL, and the optimal-cost cross-check.

Fast Downward (``up-fast-downward``, a dev dependency) must find exactly the optimal cost
storylab's exact A* finds on the same phase problem (the last phase, where the variety
model's repeat penalty matters: Fast Downward needs about 10 s on it; on the first phase,
with the library's one-shot story beats all still open, it needs minutes).
"""

import pytest
from pyperplan.pddl.parser import Parser

from storylab._data import UnknownNameError
from storylab.cli import main
from storylab.storyteller import StorylineComposer, astar_search
from storylab.storyteller.pddl import export_phase, phase_problem, phase_task
from storylab.storyteller.pddl_encoding import encode_phase_task
from storylab.storyteller.pddl_planners import run_fast_downward


@pytest.fixture(scope="module")
def composed():
    """The storyline and the phase problems the composer solved for it."""
    composer = StorylineComposer()
    plan = composer.compose("man_in_a_hole", "action", seed=0)
    return plan, composer.problems_


def test_phase_problem_is_the_composer_s(composed):
    plan, problems = composed
    for phase, mine in zip(plan.phases, problems, strict=True):
        problem = phase_problem("man_in_a_hole", "action", phase.number, seed=0)
        assert problem.phase.number == phase.number
        assert problem.start_ticks / problem.total_ticks == pytest.approx(phase.start_position)
        assert problem.initial[1:] == mine.initial[1:]  # facts ids are per search domain
        assert problem.domain.facts(problem.initial[0]) == mine.domain.facts(mine.initial[0])
        exact = astar_search(problem, max_nodes=200_000)
        if exact.reached:  # the limits never beat A*
            assert exact.cost <= phase.cost + 1e-9
        else:  # the variety model's states can outgrow the bound: then it says so
            assert exact.stats.stop_reason == "memory_limit" and not exact.stats.optimal


def test_the_task_keeps_the_problem_s_steps_start_and_goal(composed):
    problem = composed[1][1]
    task = phase_task(problem, "p2")
    allowed = [s for s in problem.steps if not set(s.ids) & set(problem.excluded)]
    assert [s.action_ids for s in task.steps] == [s.ids for s in allowed]
    assert [s.ticks for s in task.steps] == [s.ticks for s in allowed]
    assert [s.cost for s in task.steps] == [problem.step_cost(s.index) for s in allowed]
    assert (task.primary_min, task.primary_max) == (problem.goal_lo, problem.goal_hi)
    assert task.corridor == (problem.corridor_lo, problem.corridor_hi)
    assert (task.floor_ticks, task.ceiling_ticks) == (problem.floor_ticks, problem.ceiling_ticks)
    assert (task.primary, task.ticks) == (problem.initial[1], problem.start_ticks)
    assert task.required == problem.required
    assert set(task.facts) <= set(problem.keys)


def test_excluded_core_events_are_not_exported(composed):
    problem = next(p for p in composed[1] if p.excluded)
    ids = {i for s in phase_task(problem).steps for i in s.action_ids}
    assert ids and not ids & set(problem.excluded)


def test_an_unknown_phase_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="known: 1, 2, 3, 4"):
        phase_problem("man_in_a_hole", "action", 7)


def test_the_unit_cost_export_parses_in_pyperplan(tmp_path):
    export = export_phase("rags_to_riches", "love", 1, costs="unit")
    domain, problem = export.write(tmp_path)
    parser = Parser(str(domain), str(problem))
    parsed = parser.parse_problem(parser.parse_domain())
    assert [g.name for g in parsed.goal] == ["done"]
    assert set(parsed.domain.actions) == set(export.schemas)
    assert ":action-costs" not in export.domain and "total-cost" not in export.problem


@pytest.mark.parametrize("number", [4])
def test_storylab_s_optimal_cost_equals_fast_downward_s(composed, number, tmp_path):
    problem = composed[1][number - 1]
    exact = astar_search(problem)
    export = encode_phase_task(phase_task(problem, f"phase-{number}"))
    run = run_fast_downward(*export.write(tmp_path), timeout=120)
    assert run.solved, run.detail
    assert run.cost / export.cost_scale == pytest.approx(exact.cost)
    state = problem.initial  # Fast Downward's plan is a plan for storylab too
    for ids in export.plan_steps(run.plan):
        (state,) = [s for i, s in problem.successors(state) if problem.steps[i].ids == ids]
    assert problem.is_goal(state)
    assert export.plan_cost(run.plan) == pytest.approx(exact.cost)


def test_cli_writes_the_domain_and_problem(tmp_path, capsys):
    args = ["--template", "man_in_a_hole", "--genre", "action", "--phase", "1"]
    assert main(["export-pddl", *args, str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "domain.pddl").read_text().startswith("; storylab phase problem")
    assert "(:goal (done))" in (tmp_path / "out" / "problem.pddl").read_text()
    assert "costs x2" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--template", "man_in_a_hole", "--genre", "action", "--phase", "9"], "unknown phase"),
        (["--template", "rags_to_riches", "--genre", "horror", "--phase", "1"], "horror"),
        (["--template", "nope", "--genre", "action", "--phase", "1"], "known:"),
    ],
)
def test_cli_reports_bad_input(args, message, tmp_path, capsys):
    assert main(["export-pddl", *args, str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "domain.pddl").exists()


def test_cli_exports_a_phase_of_your_own_library(tmp_path, capsys, own_library):
    mine = own_library({"complication": "squall"})
    args = ["--template", "man_in_a_hole", "--genre", "action", "--phase", "1"]
    assert main(["export-pddl", *args, "--library", str(mine), str(tmp_path / "out")]) == 0
    domain = (tmp_path / "out" / "domain.pddl").read_text()
    assert "squall" in domain and "complication" not in domain
    capsys.readouterr()
