"""The phase task storylab exports to PDDL, and the exported files.

A :class:`PhaseTask` is a phase planning problem on storylab's planning grid, free of the
library: steps (actions and their chains), a start, a goal. :class:`PddlExport` holds the
PDDL text :func:`~storylab.storyteller.pddl_encoding.encode_phase_task` writes for it, with
what is needed to read a planner's plan back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field

from storylab._data import Frozen
from storylab._files import write_atomic
from storylab.theory.world import Condition, Effect, FactValue

__all__ = ["MacroLink", "MacroStep", "PddlExport", "PhaseTask", "pddl_name"]


class MacroLink(Frozen):
    """One action inside a step: its preconditions, effects and primary-spectrum move."""

    action_id: str = Field(min_length=1)
    preconditions: tuple[Condition, ...] = ()
    effects: tuple[Effect, ...] = ()
    primary_delta: int = Field(default=0, description="grid steps, clamped link by link")


class MacroStep(Frozen):
    """What the planner applies atomically: an action, or an action and its chain."""

    links: tuple[MacroLink, ...] = Field(min_length=1)
    cost: float = Field(ge=0.0)
    tracked: bool = Field(
        default=False, description="taking it right after itself pays the repeat penalty"
    )
    ticks: int = Field(gt=0, description="story position advance of the whole step")

    @property
    def action_ids(self) -> tuple[str, ...]:
        """The actions in order."""
        return tuple(link.action_id for link in self.links)


class PhaseTask(Frozen):
    """A phase planning problem on the planning grid: start, steps and goal.

    The primary spectrum is an integer in ``[-grid_max, grid_max]`` and the position a
    count of ticks. A plan is a non-empty sequence of steps, none of which reaches
    ``ceiling_ticks`` or leaves the primary ``corridor``, ending with the primary in
    ``[primary_min, primary_max]``, at least ``floor_ticks`` ticks, every ``required``
    action performed and every ``goal_facts`` condition met. A ``tracked`` step taken right
    after itself costs ``repeat_penalty`` more (``last``: the step taken just before the
    start, if tracked).
    """

    name: str = Field(min_length=1)
    facts: Mapping[str, FactValue] = Field(default_factory=dict)
    primary: int
    grid_max: int = Field(gt=0)
    ticks: int = Field(ge=0)
    steps: tuple[MacroStep, ...]
    primary_min: int
    primary_max: int
    floor_ticks: int
    ceiling_ticks: int
    required: tuple[str, ...] = ()
    corridor_lo: int | None = Field(default=None, description="lowest primary after a step")
    corridor_hi: int | None = Field(default=None, description="highest primary after a step")
    grid_step: float = Field(default=1.0, gt=0.0, description="spectrum value of one grid step")
    total_ticks: int | None = Field(default=None, gt=0, description="ticks of the whole story")
    goal_facts: tuple[Condition, ...] = ()
    repeat_penalty: float = Field(default=0.0, ge=0.0)
    last: int | None = Field(default=None, ge=0, description="index of the step taken before")

    @property
    def corridor(self) -> tuple[int, int]:
        """The primary range every step must end in (the whole grid by default)."""
        lo = -self.grid_max if self.corridor_lo is None else self.corridor_lo
        hi = self.grid_max if self.corridor_hi is None else self.corridor_hi
        return lo, hi


class PddlExport(Frozen):
    """A PDDL domain and problem with what is needed to read a plan back."""

    domain: str
    problem: str
    costs: Literal["action-costs", "unit"]
    cost_scale: int = Field(gt=0)
    schemas: dict[str, tuple[str, ...]]
    schema_costs: dict[str, int]

    def write(self, outdir: str | Path) -> tuple[Path, Path]:
        """Write ``domain.pddl`` and ``problem.pddl`` into ``outdir`` (created if missing)."""
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        return write_atomic(out / "domain.pddl", self.domain), write_atomic(
            out / "problem.pddl", self.problem
        )

    def plan_steps(self, plan: Iterable[str]) -> tuple[tuple[str, ...], ...]:
        """A planner's plan (``(name args)`` or ``name`` lines) as storylab steps (chains)."""
        steps = (self.schemas[_schema_of(line)] for line in plan)
        return tuple(ids for ids in steps if ids)

    def plan_actions(self, plan: Iterable[str]) -> tuple[str, ...]:
        """The storylab action ids of a planner's plan, in order."""
        return tuple(i for ids in self.plan_steps(plan) for i in ids)

    def plan_cost(self, plan: Iterable[str]) -> float:
        """The cost of a planner's plan in storylab's units."""
        total = sum(self.schema_costs[_schema_of(step)] for step in plan)
        return total / self.cost_scale


def _schema_of(step: str) -> str:
    return step.strip("() ").split()[0].lower()


def pddl_name(text: str) -> str:
    """``text`` as a PDDL name: lower case, runs of other characters as one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"
