"""``StorylinePlan``: what the composer returns (frozen, JSON round-trips byte for byte)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import Field

from storylab._data import Frozen
from storylab.storyteller.actions import (
    ActionCategory,
    NarrativeEffect,
    StoryIntentType,
)
from storylab.storyteller.config import Urgency
from storylab.storyteller.planner import SearchStats
from storylab.storyteller.progress import ActionCount
from storylab.storyteller.templates import (
    PhasePosition,
    PhaseTargetState,
    PhaseTransition,
    TransitionResult,
)
from storylab.theory import ActantRole, ArcType, Effect, NarrativeState, SpectrumType, WorldState

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PlanPhase",
    "PlannedAction",
    "StateSnapshot",
    "StoryIntent",
    "StorylinePlan",
    "TrajectoryPoint",
]

SnapshotFact = bool | int | float | str | tuple[str, ...]


class StateSnapshot(Frozen):
    """A world state as plain, ordered data (set-valued facts become sorted lists)."""

    facts: dict[str, SnapshotFact] = Field(default_factory=dict)
    primary: SpectrumType
    values: dict[SpectrumType, float]
    position: float = Field(ge=0.0, le=1.0)

    @classmethod
    def from_world(cls, world: WorldState) -> StateSnapshot:
        """Snapshot ``world`` (which must have a narrative state)."""
        if world.narrative is None:
            raise ValueError("a world with a narrative state")
        facts: Mapping = world.facts
        return cls(
            facts={
                k: tuple(sorted(v)) if isinstance(v, frozenset) else v
                for k, v in sorted(facts.items())
            },
            primary=world.narrative.primary,
            values=dict(world.narrative.values),
            position=world.position,
        )

    def to_world(self) -> WorldState:
        """The world this snapshot describes."""
        return WorldState(
            facts={k: frozenset(v) if isinstance(v, tuple) else v for k, v in self.facts.items()},
            narrative=NarrativeState(primary=self.primary, values=self.values),
            position=self.position,
        )


class PlannedAction(Frozen):
    """One action in a plan, as it reads and moves the story in the plan's genre."""

    action_id: str
    sequence_index: int = Field(ge=0)
    phase_number: int = Field(ge=1)
    category: ActionCategory
    description: str
    effects: tuple[Effect, ...]
    narrative_effect: NarrativeEffect
    core_event: bool
    chained_from: str | None = None
    cost: float
    position: float = Field(description="estimated story position after the action")
    primary_value: float = Field(description="primary spectrum after the action")


class TrajectoryPoint(Frozen):
    """The primary spectrum at the start (``sequence_index`` None) or after an action."""

    sequence_index: int | None
    action_id: str | None
    position: float
    story_share: float = Field(description="share of the finished story's length done here")
    primary: float


class StoryIntent(Frozen):
    """Something a runtime should do when an action plays, and for which actant role."""

    type: StoryIntentType
    action_id: str
    sequence_index: int
    phase_number: int
    urgency: float = Field(ge=0.0, le=1.0)
    target_role: ActantRole | None = None
    parameters: dict[str, str] = Field(default_factory=dict)


class PlanPhase(Frozen):
    """One planned phase: its actions, its goal, how the search went, how the phase ended."""

    number: int
    name: str
    save_the_cat_beats: tuple[str, ...]
    position_bounds: PhasePosition
    target_state: PhaseTargetState
    transition: PhaseTransition
    required_core_events: tuple[str, ...]
    actions: tuple[PlannedAction, ...]
    cost: float = Field(description="the actions' costs plus the variety model's penalties")
    variety_cost: float = Field(default=0.0, description="the penalties within cost")
    reached: bool
    transition_result: TransitionResult
    start_position: float
    end_position: float = Field(description="ticks done / estimated total (may pass 1 at the end)")
    estimated_total_actions: float
    search: SearchStats
    note: str | None = None


class StorylinePlan(Frozen):
    """A whole storyline, phase by phase; pure data (the composer executes nothing)."""

    id: str
    template: ArcType
    template_code: str
    genre: str
    subgenre: str | None
    primary_spectrum: SpectrumType
    secondary_spectrum: SpectrumType | None
    urgency: Urgency
    seed: int | None
    action_count: ActionCount
    actants: dict[ActantRole, str] = Field(default_factory=dict)
    phases: tuple[PlanPhase, ...]
    initial_state: StateSnapshot
    projected_end_state: StateSnapshot
    required_core_events: tuple[str, ...]
    missing_core_events: tuple[str, ...]
    trajectory: tuple[TrajectoryPoint, ...]
    intents: tuple[StoryIntent, ...]
    total_cost: float
    complete: bool = Field(
        description="every phase reached its target before its ceiling, every core event present"
    )
    notes: tuple[str, ...] = ()

    @property
    def actions(self) -> tuple[PlannedAction, ...]:
        """Every planned action, in story order."""
        return tuple(a for p in self.phases for a in p.actions)

    def to_frame(self) -> pd.DataFrame:
        """One row per planned action (pandas is imported on demand)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "phase": a.phase_number,
                    "action": a.action_id,
                    "category": a.category.value,
                    "core_event": a.core_event,
                    "chained_from": a.chained_from,
                    "delta": a.narrative_effect.primary_delta,
                    "primary": a.primary_value,
                    "position": a.position,
                    "cost": a.cost,
                }
                for a in self.actions
            ],
            index=pd.RangeIndex(len(self.actions), name="sequence_index"),
        )

    def search_frame(self) -> pd.DataFrame:
        """One row per phase: its goal, how it ended and the search statistics."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "phase": p.name,
                    "actions": len(p.actions),
                    "cost": p.cost,
                    "transition": p.transition_result.value,
                    "expanded": p.search.expanded,
                    "generated": p.search.generated,
                    "pruned": p.search.pruned,
                    "stop": p.search.stop_reason,
                    "optimal": p.search.optimal,
                }
                for p in self.phases
            ],
            index=pd.Index([p.number for p in self.phases], name="number"),
        )

    def to_json(self) -> str:
        """The plan as JSON (stable: the same plan always gives the same bytes)."""
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> StorylinePlan:
        """A plan from :meth:`to_json` output (or ``storylab compose --json``, whose
        ``quality`` block is derived from the plan and left out)."""
        data = json.loads(text)
        if isinstance(data, dict):
            data.pop("quality", None)
        return cls.model_validate(data)
