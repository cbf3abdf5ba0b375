"""Export a storyline's phase problem as PDDL (``storylab export-pddl``).

The phase problem is the one the composer poses: the world where the phase starts (after
the earlier phases of the composed storyline), the story length estimate and position at
that point, the phase's target and transition, and the core events still required. It is
rebuilt from a composed :class:`~storylab.storyteller.plan.StorylinePlan` by replaying the
earlier phases, then encoded by :func:`~storylab.storyteller.pddl_encoding.encode_phase_task`.

>>> export = export_phase("man_in_a_hole", "action", 1, seed=0)
>>> export.domain.splitlines()[2]
'  (:requirements :strips :typing :action-costs)'
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from storylab._data import UnknownNameError
from storylab.storyteller.actions import ActionLibrary, action_library
from storylab.storyteller.composer import StorylineComposer
from storylab.storyteller.config import PlanningConfig, Urgency, planning_config
from storylab.storyteller.pddl_encoding import (
    MacroLink,
    MacroStep,
    PddlExport,
    PhaseTask,
    encode_phase_task,
)
from storylab.storyteller.plan import StorylinePlan
from storylab.storyteller.search_space import CostSpec, PhaseProblem
from storylab.storyteller.simulation import apply_action
from storylab.storyteller.templates import template_library

__all__ = [
    "PddlExport",
    "PhaseTask",
    "encode_phase_task",
    "export_phase",
    "phase_problem",
    "phase_task",
]


def phase_task(problem: PhaseProblem, name: str = "phase") -> PhaseTask:
    """The planning-grid task of a compiled phase problem (same steps, start and goal)."""
    config = problem.config or planning_config()
    facts = {k: problem.world.facts[k] for k in problem.keys if k in problem.world.facts}
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
            cost=step.cost,
            ticks=step.ticks,
        )
        for step in problem.steps
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
        grid_step=config.spectrum_step,
        total_ticks=problem.total_ticks,
    )


def phase_problem(
    plan: StorylinePlan,
    number: int,
    *,
    costs: CostSpec = None,
    library: ActionLibrary | None = None,
    config: PlanningConfig | None = None,
) -> PhaseProblem:
    """The problem the composer solved for phase ``number`` of ``plan``.

    The earlier phases' actions are replayed from the plan's initial state; the story length
    estimate and required core events are the ones the plan records for the phase.

    Raises
    ------
    UnknownNameError
        When the plan has no phase ``number``.
    """
    numbers = [p.number for p in plan.phases]
    if number not in numbers:
        raise UnknownNameError("phase", number, numbers)
    library = library or action_library()
    config = config or planning_config()
    world = plan.initial_state.to_world()
    ticks = 0
    for phase in plan.phases[: numbers.index(number)]:
        for done in phase.actions:
            action = library.get(done.action_id)
            world = apply_action(world, action, plan.genre, plan.secondary_spectrum, config=config)
            ticks += config.ticks(done.narrative_effect.position_advance)
    phase = plan.phases[numbers.index(number)]
    total = round(phase.estimated_total_actions * config.ticks_per_action)
    return PhaseProblem(
        world=world.with_position(min(1.0, ticks / total)),
        phase=template_library().get(plan.template).phase(number),
        genre=plan.genre,
        total_ticks=total,
        start_ticks=ticks,
        required=phase.required_core_events,
        costs=costs,
        library=library,
        config=config,
    )


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
) -> PddlExport:
    """Compose the storyline, then export phase ``phase``'s problem as PDDL.

    The earlier phases are the composed ones (so ``urgency`` and ``seed`` matter for every
    phase after the first); ``costs="unit"`` gives the unit-cost compilation for pyperplan.
    """
    plan = StorylineComposer().compose(
        template, genre, subgenre=subgenre, actions=actions, urgency=urgency, seed=seed
    )
    problem = phase_problem(plan, phase)
    name = f"{plan.template.value}-{genre}-phase-{phase}"
    return encode_phase_task(phase_task(problem, name), costs=costs)
