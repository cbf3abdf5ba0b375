"""Applying story actions to a :class:`~storylab.theory.WorldState`.

The reference semantics the planner's compact search reproduces: facts change by the
action's effects, the narrative state moves by the action's (genre-specific) deltas on the
spectrum grid, and a chain applies link by link with each link's preconditions checked in turn.
Story position is counted in ticks by :class:`~storylab.storyteller.progress.StoryProgress`.
"""

from __future__ import annotations

from collections.abc import Sequence

from storylab.storyteller.actions import StoryAction
from storylab.storyteller.config import PlanningConfig, planning_config
from storylab.theory import NarrativeState, SpectrumType, WorldState

__all__ = ["apply_action", "apply_chain", "can_apply", "shift_narrative"]


def can_apply(world: WorldState, action: StoryAction) -> bool:
    """Whether every precondition of ``action`` holds in ``world``."""
    return all(world.satisfies(p) for p in action.preconditions)


def shift_narrative(
    narrative: NarrativeState,
    action: StoryAction,
    genre: str,
    secondary: SpectrumType | None,
    *,
    config: PlanningConfig | None = None,
) -> NarrativeState:
    """``narrative`` moved by the action's deltas in ``genre``, snapped to the grid."""
    config = config or planning_config()
    effect = action.narrative_effect_for(genre)
    values = dict(narrative.values)
    primary = narrative.primary
    values[primary] = config.snap(narrative.primary_value + effect.primary_delta)
    if secondary is not None and effect.secondary_delta is not None:
        values[secondary] = config.snap(values.get(secondary, 0.0) + effect.secondary_delta)
    return NarrativeState(primary=primary, values=values)


def apply_action(
    world: WorldState,
    action: StoryAction,
    genre: str,
    secondary: SpectrumType | None = None,
    *,
    position: float | None = None,
    config: PlanningConfig | None = None,
) -> WorldState:
    """A new world after ``action``: its effects on the facts and its narrative effect.

    ``position``, when given, is the new world's story position (else it is kept).

    Raises
    ------
    ValueError
        When a precondition does not hold (the world is left as it was).
    """
    failed = [p for p in action.preconditions if not world.satisfies(p)]
    if failed:
        shown = ", ".join(f"{p.key} {p.op} {p.value!r}" for p in failed)
        raise ValueError(f"action {action.id!r} is not applicable: {shown} does not hold")
    if world.narrative is None:
        raise ValueError("the world has no narrative state to move")
    moved = shift_narrative(world.narrative, action, genre, secondary, config=config)
    facts = dict(world.facts)
    for effect in action.effects:
        facts[effect.key] = effect.apply(facts)
    return WorldState(
        facts=facts, narrative=moved, position=world.position if position is None else position
    )


def apply_chain(
    world: WorldState,
    chain: Sequence[StoryAction],
    genre: str,
    secondary: SpectrumType | None = None,
    *,
    config: PlanningConfig | None = None,
) -> list[WorldState]:
    """The world after each link of ``chain`` (each link's preconditions checked in turn).

    Raises
    ------
    ValueError
        When some link is not applicable; nothing is returned, so a chain never splits.
    """
    states = []
    for action in chain:
        world = apply_action(world, action, genre, secondary, config=config)
        states.append(world)
    return states
