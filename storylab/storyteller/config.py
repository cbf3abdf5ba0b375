"""Planning parameters from ``planning.yaml``: urgency limits, the exact-search bound, position
ticks, the spectrum grid and the variety model."""

from __future__ import annotations

import math
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import Field, model_validator

from storylab._data import Frozen, UnknownNameError, packaged_path, parse_model, read_document

__all__ = [
    "ExactLimits",
    "PlanningConfig",
    "Urgency",
    "UrgencyLimits",
    "VarietyModel",
    "load_planning",
    "on_grid",
    "planning_config",
]


class Urgency(StrEnum):
    """How urgently a plan is needed: the more urgent, the smaller the search.

    ``EXACT`` is exact A* (no beam, the stronger heuristic, an optimal plan), bounded by
    :class:`ExactLimits` so that it always stops, and says so when it stops early.
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    EXACT = "exact"


#: The urgency levels with a beam (the ones ``planning.yaml`` lists under ``urgency``).
BEAM_URGENCIES = (Urgency.LOW, Urgency.MEDIUM, Urgency.HIGH)


class UrgencyLimits(Frozen):
    """Search limits of one urgency level, and the urgency stamped on its intents."""

    max_iterations: int = Field(gt=0)
    beam_width: int = Field(gt=0)
    intent_urgency: float = Field(ge=0.0, le=1.0)


class ExactLimits(Frozen):
    """The bound on exact search: it stops with a reason at whichever limit comes first.

    ``max_nodes`` bounds the search's memory: states kept (closed and open) at most, each a
    few hundred bytes (``SearchStats.peak_memory_mb`` reports the estimate).
    """

    max_iterations: int = Field(default=200_000, gt=0, le=100_000_000)
    max_seconds: float = Field(default=30.0, gt=0.0, le=86_400.0)
    max_nodes: int = Field(default=500_000, gt=0, le=100_000_000)
    intent_urgency: float = Field(default=0.6, ge=0.0, le=1.0)


class VarietyModel(Frozen):
    """What a story pays for repeating itself (added to the action costs; 0 turns a term off).

    - ``repeat_penalty``: added to a step that repeats the step just before it in the phase
      (the search state then carries the last step's index);
    - ``reuse_penalty``: added to an action for each time the story used it in earlier
      phases (a constant while a phase is planned: no state grows);
    - ``reuse_cap``: earlier uses counted at most.

    Penalties are non-negative, so every heuristic priced on the plain costs stays
    admissible and consistent, and exact search is optimal for the costs with the penalties.
    """

    repeat_penalty: float = Field(default=0.0, ge=0.0, le=100.0)
    reuse_penalty: float = Field(default=0.0, ge=0.0, le=100.0)
    reuse_cap: int = Field(default=3, ge=0, le=100)

    @property
    def active(self) -> bool:
        """Whether any term is on."""
        return self.repeat_penalty > 0 or (self.reuse_penalty > 0 and self.reuse_cap > 0)


class PositionAdvance(Frozen):
    """Ticks of story position one action advances, by size."""

    micro: int = Field(gt=0)
    standard: int = Field(gt=0)
    macro: int = Field(gt=0)


def on_grid(value: float, step: float) -> bool:
    """Whether ``value`` is (to rounding) a whole multiple of ``step``."""
    return math.isclose(value / step, round(value / step), abs_tol=1e-6)


class PlanningConfig(Frozen):
    """The contents of ``planning.yaml``."""

    version: int
    urgency: dict[Urgency, UrgencyLimits]
    exact: ExactLimits = ExactLimits()
    variety: VarietyModel = VarietyModel()
    position_advance: PositionAdvance
    ticks_per_action: int = Field(gt=0)
    spectrum_step: float = Field(gt=0.0, le=0.5)
    corridor_margin: float = Field(ge=0.0, le=2.0)
    core_event_boost: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _sane(self) -> PlanningConfig:
        if Urgency.EXACT in self.urgency:
            raise ValueError("the exact level's bound under `exact`, not under `urgency`")
        missing = [u.value for u in BEAM_URGENCIES if u not in self.urgency]
        if missing:
            raise ValueError(f"limits for every urgency level (missing {missing})")
        if not on_grid(1.0, self.spectrum_step):
            raise ValueError(f"a spectrum_step that divides 1 evenly, got {self.spectrum_step}")
        sizes = self.position_advance
        if not sizes.micro <= sizes.standard <= sizes.macro:
            raise ValueError("position_advance sizes with micro <= standard <= macro")
        return self

    def limits(self, urgency: Urgency | str | None) -> UrgencyLimits | ExactLimits:
        """The limits for ``urgency`` (``None`` or ``"exact"``: the exact bound); unknown
        levels raise an error listing the known ones."""
        if urgency is None:
            return self.exact
        try:
            level = Urgency(urgency)
        except ValueError:
            raise UnknownNameError("urgency", urgency, [u.value for u in Urgency]) from None
        return self.exact if level is Urgency.EXACT else self.urgency[level]

    def ticks(self, advance: str) -> int:
        """Ticks of one ``micro`` / ``standard`` / ``macro`` advance."""
        return int(getattr(self.position_advance, advance))

    @property
    def grid_max(self) -> int:
        """Number of grid steps from 0 to 1 on a spectrum."""
        return round(1.0 / self.spectrum_step)

    def to_grid(self, value: float) -> int:
        """The nearest grid index of a spectrum value."""
        return round(value / self.spectrum_step)

    def from_grid(self, index: int) -> float:
        """The spectrum value of a grid index (rounded to 10 decimals for stable output)."""
        return round(index * self.spectrum_step, 10)

    def snap(self, value: float) -> float:
        """``value`` moved to the nearest grid point and clamped to [-1, 1]."""
        index = max(-self.grid_max, min(self.grid_max, self.to_grid(value)))
        return self.from_grid(index)


def load_planning(path: str | Path | None = None) -> PlanningConfig:
    """Load and validate a ``planning.yaml`` (the packaged one by default)."""
    source = path or packaged_path("planning.yaml")
    return parse_model(PlanningConfig, read_document(source), source)


@cache
def planning_config() -> PlanningConfig:
    """The packaged planning parameters, loaded once."""
    return load_planning()
