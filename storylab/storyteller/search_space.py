"""A phase problem compiled for fast search.

A search state is a plain tuple ``(facts, primary, ticks, done)``:

- ``facts``: the values of the fact keys some precondition reads, in a fixed key order
  (facts nothing reads cannot change what is applicable, so they are left out of the search);
- ``primary``: the primary spectrum as an integer index on the planning grid;
- ``ticks``: story position as an integer count of position ticks;
- ``done``: a bitmask of the phase's required core events already performed.

The secondary spectrum is left out too: no precondition, goal or cost reads it. Applicability
and effects depend on the facts alone, so they are memoised per facts tuple.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from storylab._data import UnknownNameError
from storylab.storyteller.actions import ActionLibrary, StoryAction, action_library
from storylab.storyteller.config import PlanningConfig, planning_config
from storylab.storyteller.heuristic import CostToGo, cost_to_go
from storylab.storyteller.templates import StoryPhase
from storylab.theory import FactValue, WorldState

__all__ = ["CostSpec", "PhaseProblem", "SearchState", "Step", "resolve_costs"]

#: Per-action costs: a mapping id -> cost (missing ids keep their YAML cost) or a callable.
CostSpec = Mapping[str, float] | Callable[[StoryAction], float] | None
SearchState = tuple[tuple[FactValue | None, ...], int, int, int]


def resolve_costs(actions: Sequence[StoryAction], costs: CostSpec) -> dict[str, float]:
    """The cost of each action under ``costs``; costs must be positive and finite."""
    if costs is not None and not callable(costs):
        known = {a.id for a in actions}
        unknown = sorted(set(costs) - known)
        if unknown:
            raise UnknownNameError("action in cost overrides", unknown[0], known)
    out = {}
    for action in actions:
        if costs is None:
            value = action.cost
        elif callable(costs):
            value = float(costs(action))
        else:
            value = float(costs.get(action.id, action.cost))
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"cost of action {action.id!r} must be positive, got {value}")
        out[action.id] = value
    return out


@dataclass(frozen=True)
class Step:
    """One move of the search: an action and its chained follow-ups, applied atomically."""

    index: int
    actions: tuple[StoryAction, ...]
    link_costs: tuple[float, ...]
    link_deltas: tuple[int, ...]
    ticks: int
    core: int

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids of the chain's links, in order."""
        return tuple(a.id for a in self.actions)

    @property
    def cost(self) -> float:
        """The chain's cost: the sum of its links' costs."""
        return sum(self.link_costs)

    @property
    def gain_up(self) -> int:
        """Grid steps the chain can move the primary spectrum up, at most."""
        return sum(d for d in self.link_deltas if d > 0)

    @property
    def gain_down(self) -> int:
        """Grid steps the chain can move the primary spectrum down, at most."""
        return -sum(d for d in self.link_deltas if d < 0)


@dataclass
class PhaseProblem:
    """The planning problem of one phase, compiled (see the module docstring).

    Parameters
    ----------
    world : WorldState
        Where the phase starts; its narrative state's primary spectrum is the one planned on.
    phase : StoryPhase
        The phase whose goal is planned toward.
    genre : str
        Only actions of this genre (with their genre variants) are used.
    total_ticks : int
        Estimated story length in ticks (``ticks_per_action * estimated action count``).
    start_ticks : int
        Ticks already done when the phase starts.
    required : sequence of str
        Core events the phase must contain.
    costs : mapping or callable, optional
        Per-action cost overrides.
    """

    world: WorldState
    phase: StoryPhase
    genre: str
    total_ticks: int
    start_ticks: int = 0
    required: tuple[str, ...] = ()
    costs: CostSpec = None
    library: ActionLibrary | None = None
    config: PlanningConfig | None = None
    steps: tuple[Step, ...] = field(init=False)
    keys: tuple[str, ...] = field(init=False)
    initial: SearchState = field(init=False)

    def __post_init__(self) -> None:
        self.library = self.library or action_library()
        self.config = self.config or planning_config()
        if self.world.narrative is None:
            raise ValueError("the phase's starting world needs a narrative state")
        if self.total_ticks < 1 or self.start_ticks < 0:
            raise ValueError("total_ticks must be positive and start_ticks non-negative")
        actions = self.library.for_genre(self.genre)
        if not actions:
            raise UnknownNameError("genre with actions", self.genre, [])
        available = {a.id for a in actions}
        for rid in self.required:
            if rid not in available:
                raise UnknownNameError(f"action of genre {self.genre!r}", rid, available)
        self.required = tuple(dict.fromkeys(self.required))
        cost_of = resolve_costs(actions, self.costs)
        follow_ups = {a.chained_action for a in actions if a.chained_action}
        core = {a.id for a in self.library.core_events(self.genre)}
        config = self.config
        steps = []
        for head in (a for a in actions if a.id not in follow_ups):
            chain = self.library.chain(head.id)
            steps.append(
                Step(
                    index=len(steps),
                    actions=chain,
                    link_costs=tuple(cost_of[a.id] for a in chain),
                    link_deltas=tuple(
                        config.to_grid(a.narrative_effect_for(self.genre).primary_delta)
                        for a in chain
                    ),
                    ticks=sum(
                        config.ticks(a.narrative_effect_for(self.genre).position_advance)
                        for a in chain
                    ),
                    core=sum(a.id in core for a in chain),
                )
            )
        self.steps = tuple(steps)
        read = {p.key for s in steps for a in s.actions for p in a.preconditions}
        self.keys = tuple(sorted(read))
        self._compile(core)

    def _compile(self, core: set[str]) -> None:
        config = self.config
        assert config is not None
        g = config.grid_max
        slot = {k: i for i, k in enumerate(self.keys)}
        self._links = [
            [
                (
                    tuple((slot[p.key], p) for p in a.preconditions),
                    tuple((slot[e.key], e) for e in a.effects if e.key in slot),
                    1 << self.required.index(a.id) if a.id in self.required else 0,
                )
                for a in step.actions
            ]
            for step in self.steps
        ]
        self._primary_after = []
        for step in self.steps:
            table = []
            for p in range(-g, g + 1):
                for d in step.link_deltas:
                    p = max(-g, min(g, p + d))
                table.append(p)
            self._primary_after.append(tuple(table))
        self._moves: dict[tuple, tuple] = {}
        self._h: dict[tuple[int, int, int], float] = {}
        self.full = (1 << len(self.required)) - 1
        lo, hi = self.phase.goal_range()
        self.goal_lo = math.ceil(lo / config.spectrum_step - 1e-6)
        self.goal_hi = math.floor(hi / config.spectrum_step + 1e-6)
        self.floor_ticks = math.ceil(self.phase.transition.position_floor * self.total_ticks - 1e-9)
        self.ceiling_ticks = math.ceil(
            self.phase.transition.position_ceiling * self.total_ticks - 1e-9
        )
        facts = self.world.facts
        narrative = self.world.narrative
        assert narrative is not None
        self.initial = (
            tuple(facts.get(k) for k in self.keys),
            config.to_grid(narrative.primary_value),
            self.start_ticks,
            0,
        )
        k_max = len(core)
        self._up: CostToGo = cost_to_go(
            [(s.cost, s.ticks, s.gain_up, s.core) for s in self.steps], k_max, 2 * g
        )
        self._down: CostToGo = cost_to_go(
            [(s.cost, s.ticks, s.gain_down, s.core) for s in self.steps], k_max, 2 * g
        )

    def moves(self, facts: tuple) -> tuple[tuple[int, tuple, int], ...]:
        """``(step index, facts after, required bits)`` of every step applicable to ``facts``."""
        found = self._moves.get(facts)
        if found is not None:
            return found
        out = []
        for index, links in enumerate(self._links):
            current = list(facts)
            bits = 0
            for pres, effects, bit in links:
                if not all(cond.test(current[i]) for i, cond in pres):
                    break
                for i, effect in effects:
                    current[i] = effect.apply(
                        {effect.key: current[i]} if current[i] is not None else {}
                    )
                bits |= bit
            else:
                out.append((index, tuple(current), bits))
        found = self._moves[facts] = tuple(out)
        return found

    def successors(self, state: SearchState) -> list[tuple[int, SearchState]]:
        """``(step index, next state)`` for every applicable step that stays below the ceiling."""
        facts, p, ticks, done = state
        g = self.config.grid_max  # type: ignore[union-attr]
        out = []
        for index, after, bits in self.moves(facts):
            step = self.steps[index]
            t = ticks + step.ticks
            if t >= self.ceiling_ticks:
                continue
            out.append((index, (after, self._primary_after[index][p + g], t, done | bits)))
        return out

    def is_goal(self, state: SearchState) -> bool:
        """Primary in the goal range, position at or past the floor, required events done."""
        _, p, ticks, done = state
        return self.goal_lo <= p <= self.goal_hi and ticks >= self.floor_ticks and done == self.full

    def heuristic(self, state: SearchState) -> float:
        """Admissible, consistent estimate of the cost to the goal (``inf`` for dead ends)."""
        _, p, ticks, done = state
        k = (self.full & ~done).bit_count()
        key = (p, ticks, k)
        h = self._h.get(key)
        if h is None:
            r = max(0, self.floor_ticks - ticks)
            if p < self.goal_lo:
                h = self._up(k, r, self.goal_lo - p)
            elif p > self.goal_hi:
                h = self._down(k, r, p - self.goal_hi)
            else:
                h = self._up(k, r, 0)
            self._h[key] = h
        return h

    def step_cost(self, index: int) -> float:
        """The cost of step ``index``."""
        return self.steps[index].cost
