"""How long a story should be, and how far along it is.

:class:`ActionCountResolver` layers the template default, the genre's pacing multiplier and a
request's override, then clamps to the template's range (reporting any clamp).
:class:`StoryProgress` counts position ticks and re-estimates the story's total lazily, once
per phase.
"""

from __future__ import annotations

import math

from pydantic import Field

from storylab._data import Frozen
from storylab.storyteller.config import PlanningConfig, planning_config
from storylab.storyteller.templates import StoryTemplate
from storylab.theory import pacing_multiplier

__all__ = ["ActionCount", "ActionCountResolver", "StoryProgress"]


class ActionCount(Frozen):
    """A resolved action count and how it was reached (the clamp, when any, is reported)."""

    template_default: int
    genre_multiplier: float
    genre_adjusted: int
    requested: int | None
    valid_range: tuple[int, int]
    resolved: int = Field(gt=0)
    clamped: bool

    @property
    def note(self) -> str | None:
        """A one-line explanation of the clamp, or ``None``."""
        if not self.clamped:
            return None
        wanted = self.requested if self.requested is not None else self.genre_adjusted
        lo, hi = self.valid_range
        return (
            f"action count {wanted} is outside the template's range [{lo}, {hi}];"
            f" using {self.resolved}"
        )


class ActionCountResolver:
    """Template default -> genre multiplier -> request override -> clamp to the range.

    >>> from storylab.storyteller import template_library
    >>> tpl = template_library().get("rags_to_riches")
    >>> ActionCountResolver().resolve(tpl, "action", 500).clamped
    True
    """

    def resolve(
        self, template: StoryTemplate, genre: str, requested: int | None = None
    ) -> ActionCount:
        """The action count for ``template`` in ``genre``, with ``requested`` overriding."""
        if requested is not None and (isinstance(requested, bool) or requested < 1):
            raise ValueError(
                f"a requested action count must be a positive integer, got {requested}"
            )
        multiplier = pacing_multiplier(genre)
        adjusted = max(1, math.floor(template.default_action_count * multiplier + 0.5))
        wanted = requested if requested is not None else adjusted
        lo, hi = template.action_count_range
        resolved = min(hi, max(lo, wanted))
        return ActionCount(
            template_default=template.default_action_count,
            genre_multiplier=multiplier,
            genre_adjusted=adjusted,
            requested=requested,
            valid_range=(lo, hi),
            resolved=resolved,
            clamped=resolved != wanted,
        )


class StoryProgress:
    """Position = ticks done / (ticks per action * estimated action count).

    The estimate starts at the resolved action count. When a phase is generated,
    :meth:`on_phase_generated` re-estimates it from what has been done: the story is assumed
    to need what it has used so far plus the share of the target still ahead, where the share
    done is the previous phase's transition floor. A phase that ran long therefore makes the
    story longer instead of crowding the phases after it.
    """

    def __init__(self, target_actions: int, *, config: PlanningConfig | None = None):
        if target_actions < 1:
            raise ValueError(f"target_actions must be positive, got {target_actions}")
        self.config = config or planning_config()
        self.target_actions = target_actions
        self.ticks_done = 0
        self.actions_completed = 0
        self.phases_completed = 0
        self.total_ticks = target_actions * self.config.ticks_per_action

    @property
    def estimated_actions(self) -> float:
        """The current estimate of the story's length, in (standard) actions."""
        return self.total_ticks / self.config.ticks_per_action

    @property
    def position(self) -> float:
        """How far along the story is, in [0, 1]."""
        return min(1.0, self.ticks_done / self.total_ticks)

    def on_action_completed(self, ticks: int) -> None:
        """Count one action that advanced the position by ``ticks``."""
        self.ticks_done += ticks
        self.actions_completed += 1

    def on_phase_completed(self) -> None:
        """Count one finished phase."""
        self.phases_completed += 1

    def on_phase_generated(self, share_done: float) -> None:
        """Re-estimate the total before planning a phase (``share_done``: expected share so far)."""
        if self.phases_completed == 0:
            return
        target = self.target_actions * self.config.ticks_per_action
        ahead = max(0.0, 1.0 - share_done) * target
        self.total_ticks = max(self.ticks_done + 1, math.ceil(self.ticks_done + ahead - 1e-9))
