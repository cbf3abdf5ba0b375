"""Export a storyline's phase problem as PDDL (``storylab export-pddl``).

The phase problem is the one the composer posed and solved (``StorylineComposer.problems_``):
the world where the phase starts after the earlier composed phases, the story length
estimate and position at that point, the phase's goal, corridor and transition, the core
events it must contain and those it must leave for later. :func:`phase_task` turns it into a
:class:`~storylab.storyteller.pddl_task.PhaseTask` on the planning grid and
:func:`~storylab.storyteller.pddl_encoding.encode_phase_task` writes the PDDL.

>>> export = export_phase("man_in_a_hole", "action", 1, seed=0)
>>> export.domain.splitlines()[2]
'  (:requirements :strips :typing :action-costs)'
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from storylab._data import UnknownNameError
from storylab.storyteller.composer import StorylineComposer
from storylab.storyteller.config import Urgency, planning_config
from storylab.storyteller.pddl_encoding import encode_phase_task
from storylab.storyteller.pddl_task import MacroLink, MacroStep, PddlExport, PhaseTask
from storylab.storyteller.search_space import PhaseProblem

__all__ = [
    "PddlExport",
    "PhaseTask",
    "encode_phase_task",
    "export_phase",
    "phase_problem",
    "phase_task",
]


def phase_task(problem: PhaseProblem, name: str = "phase") -> PhaseTask:
    """The planning-grid task of a compiled phase problem (same steps, start and goal).

    Steps using an excluded action are left out, as the planner never takes them.
    """
    config = problem.config or planning_config()
    if problem.facts_only:
        raise ValueError("a facts-only phase problem has no PDDL export (it drops the grid)")
    facts = {k: problem.world.facts[k] for k in problem.keys if k in problem.world.facts}
    excluded = set(problem.excluded)
    kept = [s.index for s in problem.steps if not excluded & set(s.ids)]
    last = problem.initial[4]
    steps = tuple(
        MacroStep(
            links=tuple(
                MacroLink(
                    action_id=action.id,
                    preconditions=tuple(action.preconditions),
                    effects=tuple(action.effects),
                    primary_delta=delta,
                )
                for action, delta in zip(step.actions, step.link_deltas, strict=True)
            ),
            cost=problem.step_cost(step.index),
            ticks=step.ticks,
            tracked=problem.tracked(step.index),
        )
        for step in (problem.steps[i] for i in kept)
    )
    return PhaseTask(
        name=name,
        facts=facts,
        primary=problem.initial[1],
        grid_max=config.grid_max,
        ticks=problem.start_ticks,
        steps=steps,
        primary_min=problem.goal_lo,
        primary_max=problem.goal_hi,
        floor_ticks=problem.floor_ticks,
        ceiling_ticks=problem.ceiling_ticks,
        required=problem.required,
        corridor_lo=problem.corridor_lo,
        corridor_hi=problem.corridor_hi,
        grid_step=config.spectrum_step,
        total_ticks=problem.total_ticks,
        goal_facts=problem.goal_facts,
        repeat_penalty=problem.repeat_penalty,
        last=kept.index(last) if last in kept else None,
    )


def phase_problem(
    template: str,
    genre: str,
    phase: int,
    *,
    subgenre: str | None = None,
    actions: int | None = None,
    urgency: Urgency | str = Urgency.MEDIUM,
    seed: int | np.random.Generator | None = 0,
    composer: StorylineComposer | None = None,
) -> PhaseProblem:
    """Compose the storyline and return the problem the composer solved for ``phase``.

    The earlier phases are the composed ones, so ``urgency`` and ``seed`` matter for every
    phase after the first. ``composer`` (a default one if omitted) brings its own action
    library, templates and costs.

    Raises
    ------
    UnknownNameError
        When the template has no phase ``phase`` (or the template or genre is unknown).
    """
    composer = composer or StorylineComposer()
    plan = composer.compose(
        template, genre, subgenre=subgenre, actions=actions, urgency=urgency, seed=seed
    )
    numbers = [p.number for p in plan.phases]
    if phase not in numbers:
        raise UnknownNameError("phase", phase, numbers)
    return composer.problems_[numbers.index(phase)]


def export_phase(
    template: str,
    genre: str,
    phase: int,
    *,
    subgenre: str | None = None,
    actions: int | None = None,
    urgency: Urgency | str = Urgency.MEDIUM,
    seed: int | np.random.Generator | None = 0,
    costs: Literal["action-costs", "unit"] = "action-costs",
    composer: StorylineComposer | None = None,
) -> PddlExport:
    """Export phase ``phase``'s problem (see :func:`phase_problem`) as PDDL.

    ``costs="unit"`` gives the unit-cost compilation for planners without action costs.
    """
    problem = phase_problem(
        template,
        genre,
        phase,
        subgenre=subgenre,
        actions=actions,
        urgency=urgency,
        seed=seed,
        composer=composer,
    )
    name = f"{template}-{genre}-phase-{phase}"
    return encode_phase_task(phase_task(problem, name), costs=costs)
