"""A phase problem compiled for fast search.

A search state is a tuple of five ints ``(facts, primary, ticks, done, last)``:

- ``facts``: the id of the tuple of values of the fact keys some precondition or the goal
  reads, in a fixed key order (facts nothing reads cannot change what is applicable, so they
  are left out of the search; tuples are interned to ids so states hash fast);
- ``primary``: the primary spectrum as an integer index on the planning grid;
- ``ticks``: story position as an integer count of position ticks;
- ``done``: a bitmask of the phase's required core events already performed;
- ``last``: the index of the step taken last when the variety model's repeat penalty is on
  (a repeat of it costs more), else ``-1``.

A *facts-only* problem (``facts_only=True``: the goal is about facts and events alone) keeps
``primary`` and ``ticks`` at 0: the spectrum, the position, the corridor and the ceiling drop
out of the search. The secondary spectrum is left out too: no precondition, goal or cost
reads it. Applicability and effects depend on the facts alone, so they are memoised per facts
tuple.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from storylab._data import UnknownNameError
from storylab.storyteller.actions import ActionLibrary, StoryAction, action_library
from storylab.storyteller.bounded_relaxation import (
    bounded_table,
    clear_bounded_tables,
    enablers,
    excursion_estimate,
    excursion_tables,
)
from storylab.storyteller.config import PlanningConfig, VarietyModel, planning_config
from storylab.storyteller.fact_relaxation import FactRelaxation, PatternDatabase
from storylab.storyteller.heuristic import CostToGo, clear_cost_to_go, cost_to_go
from storylab.storyteller.templates import StoryPhase
from storylab.storyteller.use_bounds import step_limiters, use_bound
from storylab.storyteller.zone_relaxation import clear_split_tables
from storylab.theory import Condition, WorldState

__all__ = [
    "CostSpec",
    "PhaseProblem",
    "SearchDomain",
    "SearchState",
    "Step",
    "clear_caches",
    "resolve_costs",
    "search_domain",
]

#: Per-action costs: a mapping id -> cost (missing ids keep their YAML cost) or a callable.
CostSpec = Mapping[str, float] | Callable[[StoryAction], float] | None
SearchState = tuple[int, int, int, int, int]

#: Largest cost one action may have after overrides (a bound that keeps sums finite).
MAX_COST = 1e6


def resolve_costs(
    actions: Sequence[StoryAction], costs: CostSpec, *, known: Iterable[str] | None = None
) -> dict[str, float]:
    """The cost of each of ``actions`` under ``costs``; costs must be positive and at most
    :data:`MAX_COST`.

    A mapping may name any action in ``known`` (the library's ids; by default ``actions``'),
    so one cost profile serves every genre.
    """
    if costs is not None and not callable(costs):
        known = set(known) if known is not None else {a.id for a in actions}
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
        if not (math.isfinite(value) and 0 < value <= MAX_COST):
            raise ValueError(
                f"cost of action {action.id!r} must be positive and at most {MAX_COST:g},"
                f" got {value}"
            )
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


class SearchDomain:
    """The genre-level part of a phase problem: steps, fact slots, compiled moves.

    Shared by every phase (and every plan) of a genre with the same costs, so the memoised
    moves carry over. Build it with :func:`search_domain`.
    """

    def __init__(
        self,
        library: ActionLibrary,
        genre: str,
        cost_of: Mapping[str, float],
        config: PlanningConfig,
        goal_keys: Iterable[str] = (),
    ):
        self.genre = genre
        self.config = config
        actions = library.for_genre(genre)
        follow_ups = {a.chained_action for a in actions if a.chained_action}
        self.core = tuple(a.id for a in library.core_events(genre))
        steps = []
        for head in (a for a in actions if a.id not in follow_ups or a.standalone):
            chain = library.chain(head.id)
            effects = [a.narrative_effect_for(genre) for a in chain]
            steps.append(
                Step(
                    index=len(steps),
                    actions=chain,
                    link_costs=tuple(cost_of[a.id] for a in chain),
                    link_deltas=tuple(config.to_grid(e.primary_delta) for e in effects),
                    ticks=sum(config.ticks(e.position_advance) for e in effects),
                    core=sum(a.id in self.core for a in chain),
                )
            )
        self.steps = tuple(steps)
        self.keys = tuple(
            sorted(
                {p.key for s in steps for a in s.actions for p in a.preconditions} | set(goal_keys)
            )
        )
        slot = {k: i for i, k in enumerate(self.keys)}
        self.links = [
            [
                (
                    tuple((slot[p.key], p) for p in a.preconditions),
                    tuple((slot[e.key], e) for e in a.effects if e.key in slot),
                )
                for a in step.actions
            ]
            for step in self.steps
        ]
        g = config.grid_max
        self.primary_after: list[tuple[int, ...]] = []
        for step in self.steps:
            table = []
            for p in range(-g, g + 1):
                for d in step.link_deltas:
                    p = max(-g, min(g, p + d))
                table.append(p)
            self.primary_after.append(tuple(table))
        self.up: CostToGo = cost_to_go(
            [(s.cost, s.ticks, s.gain_up, s.core) for s in self.steps], len(self.core), 2 * g
        )
        self.down: CostToGo = cost_to_go(
            [(s.cost, s.ticks, s.gain_down, s.core) for s in self.steps], len(self.core), 2 * g
        )
        self.limiters = step_limiters(self.links)
        self.enablers = enablers(self.links)
        self._touched = [
            tuple(sorted({i for pres, effects in links for i, _ in (*pres, *effects)}))
            for links in self.links
        ]
        # what a step's outcome depends on, read with one C call per step
        self._readers = [
            operator.itemgetter(*touched) if touched else _nothing for touched in self._touched
        ]
        self._outcomes: list[dict[object, tuple[tuple[int, object], ...] | None]] = [
            {} for _ in self.steps
        ]
        self._ids: dict[tuple, int] = {}
        self._facts: list[tuple] = []
        self._moves: dict[int, tuple[tuple[int, int], ...]] = {}
        self._spans: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
        #: Per (allowed steps, step costs, event bits, goal slots): the interchangeable
        #: one-off steps' order and the canonical moves per facts id (``PhaseProblem``).
        self.orders: dict[tuple, tuple[tuple[int, ...], dict]] = {}

    def spans(self, lo: int, hi: int) -> tuple[tuple[int, int], ...]:
        """Per step, the least and the most it moves the primary (in grid steps) from any
        start in ``lo..hi``, clamping at the ends of the spectrum included (memoised)."""
        found = self._spans.get((lo, hi))
        if found is None:
            g = self.config.grid_max
            found = self._spans[lo, hi] = tuple(
                (min(moves), max(moves))
                for moves in (
                    [after[q + g] - q for q in range(lo, hi + 1)] for after in self.primary_after
                )
            )
        return found

    def intern(self, facts: tuple) -> int:
        """The id of a facts tuple (search states carry ids: small ints hash fast)."""
        found = self._ids.get(facts)
        if found is None:
            found = self._ids[facts] = len(self._facts)
            self._facts.append(facts)
        return found

    def facts(self, fid: int) -> tuple:
        """The facts tuple of an id from :meth:`intern`."""
        return self._facts[fid]

    def moves(self, fid: int) -> tuple[tuple[int, int], ...]:
        """``(step index, facts id after)`` of every step applicable to facts ``fid``."""
        found = self._moves.get(fid)
        if found is not None:
            return found
        facts = self._facts[fid]
        out = []
        outcomes = self._outcomes
        for index, read in enumerate(self._readers):
            seen = read(facts)
            memo = outcomes[index]
            writes = memo.get(seen, _UNKNOWN)
            if writes is _UNKNOWN:
                writes = memo[seen] = self._outcome(index, facts)
            if writes is not None:
                current = list(facts)
                for i, value in writes:
                    current[i] = value
                out.append((index, self.intern(tuple(current))))
        found = self._moves[fid] = tuple(out)
        return found

    def _outcome(self, index: int, facts: tuple) -> tuple[tuple[int, object], ...] | None:
        """The slots step ``index`` writes from ``facts`` (``None``: not applicable).

        It depends only on the slots the step reads or writes, so it is memoised on those.
        """
        current = list(facts)
        for pres, effects in self.links[index]:
            if not all(cond.test(current[i]) for i, cond in pres):
                return None
            for i, effect in effects:
                value = current[i]
                current[i] = effect.apply({} if value is None else {effect.key: value})
        return tuple((i, current[i]) for i in self._touched[index] if current[i] != facts[i])

    @property
    def overgrown(self) -> bool:
        """Whether the domain's memo has grown past its limit (it is then rebuilt)."""
        return len(self._facts) > _MAX_FACTS


_UNKNOWN = object()


def _nothing(facts: tuple) -> tuple:
    return ()


#: Facts tuples interned per domain at most; domains kept at most.
_MAX_FACTS = 200_000
_MAX_DOMAINS = 64
_DOMAINS: dict[tuple, SearchDomain] = {}
_PATTERNS: dict[tuple, PatternDatabase] = {}
_REACHABLE: dict[tuple, tuple[int, ...]] = {}
_RELAXATIONS: dict[tuple, tuple[tuple, dict]] = {}
#: Relaxations (sets of tables) kept at most.
_MAX_RELAXATIONS = 256


def clear_caches() -> None:
    """Forget memoised search domains and relaxation tables (for cold-start measurements;
    the phase memo has its own ``phase_memo().clear()``)."""
    _DOMAINS.clear()
    _PATTERNS.clear()
    _REACHABLE.clear()
    _RELAXATIONS.clear()
    clear_cost_to_go()
    clear_split_tables()
    clear_bounded_tables()


def search_domain(
    library: ActionLibrary,
    genre: str,
    cost_of: Mapping[str, float],
    config: PlanningConfig,
    goal_keys: Iterable[str] = (),
) -> SearchDomain:
    """The (memoised) search domain of ``genre`` under these costs (with the fact keys a
    goal reads besides the preconditions' ones)."""
    sizes = config.position_advance
    key = (
        library,
        genre,
        tuple(sorted(cost_of.items())),
        (config.spectrum_step, sizes.micro, sizes.standard, sizes.macro),
        tuple(sorted(set(goal_keys))),
    )
    domain = _DOMAINS.get(key)
    if domain is None or domain.overgrown:
        if len(_DOMAINS) >= _MAX_DOMAINS:
            _DOMAINS.clear()
        domain = _DOMAINS[key] = SearchDomain(library, genre, cost_of, config, key[-1])
    return domain


@dataclass
class PhaseProblem:
    """The planning problem of one phase, compiled (see the module docstring).

    Parameters
    ----------
    world : WorldState
        Where the phase starts; its narrative state's primary spectrum is the one planned on.
    phase : StoryPhase
        The phase whose goal is planned toward (its target range, its transition and the
        fact conditions of its target state).
    genre : str
        Only actions of this genre (with their genre variants) are used.
    total_ticks : int
        Estimated story length in ticks (``ticks_per_action * estimated action count``).
    start_ticks : int
        Ticks already done when the phase starts.
    required : sequence of str
        Core events the phase must contain.
    excluded : sequence of str
        Actions the phase may not use (core events kept for later phases).
    costs : mapping or callable, optional
        Per-action cost overrides.
    goal_facts : sequence of Condition
        Fact conditions the goal needs besides the phase target's own ``facts``.
    facts_only : bool
        The goal is the fact conditions and the required events alone: the spectrum and the
        position (with the corridor and the ceiling) drop out of the search state.
    corridor : bool
        Keep the primary spectrum inside the phase's corridor (below). Whether the corridor
        cost optimality is checked: a result is flagged optimal only when no plan leaving
        the corridor can be cheaper (see :func:`~storylab.storyteller.astar_search`).
    previous : str, optional
        The action that came just before the phase (a repeat of it pays the repeat penalty).
    used : mapping of str to int, optional
        How often the story used each action before this phase (the reuse penalty).
    variety : VarietyModel, optional
        The variety model (the planning configuration's by default).

    Besides the goal, every state after a step must stay inside the phase's *corridor*: the
    primary range from the start value to the goal range, widened by the planning
    ``corridor_margin``, so a phase heads for its target instead of wandering.
    """

    world: WorldState
    phase: StoryPhase
    genre: str
    total_ticks: int
    start_ticks: int = 0
    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    costs: CostSpec = None
    library: ActionLibrary | None = None
    config: PlanningConfig | None = None
    goal_facts: tuple[Condition, ...] = ()
    facts_only: bool = False
    corridor: bool = True
    previous: str | None = None
    used: Mapping[str, int] | None = None
    variety: VarietyModel | None = None
    domain: SearchDomain = field(init=False)
    initial: SearchState = field(init=False)

    def __post_init__(self) -> None:
        library = self.library = self.library or action_library()
        config = self.config = self.config or planning_config()
        variety = self.variety = self.variety or config.variety
        narrative = self.world.narrative
        if narrative is None and not self.facts_only:
            raise ValueError("the phase's starting world needs a narrative state")
        if self.total_ticks < 1 or self.start_ticks < 0:
            raise ValueError("total_ticks must be positive and start_ticks non-negative")
        actions = library.for_genre(self.genre)
        if not actions:
            raise UnknownNameError("genre with actions", self.genre, [])
        available = {a.id for a in actions}
        for rid in (*self.required, *self.excluded):
            if rid not in available:
                raise UnknownNameError(f"action of genre {self.genre!r}", rid, available)
        self.required = tuple(dict.fromkeys(self.required))
        self.excluded = tuple(dict.fromkeys(self.excluded))
        clash = set(self.required) & set(self.excluded)
        if clash:
            raise ValueError(f"actions both required and excluded: {sorted(clash)}")
        self.goal_facts = (*self.phase.target_state.facts, *self.goal_facts)
        domain = self.domain = search_domain(
            library,
            self.genre,
            resolve_costs(actions, self.costs, known=library.ids),
            config,
            {c.key for c in self.goal_facts},
        )
        used = self.used or {}
        unknown = sorted(set(used) - set(library.ids))
        if unknown:
            raise UnknownNameError("action in used counts", unknown[0], library.ids)
        cap = variety.reuse_cap
        reuse = {a: variety.reuse_penalty * min(cap, max(0, int(n))) for a, n in used.items()}
        bit = {rid: 1 << i for i, rid in enumerate(self.required)}
        self._bits = tuple(sum(bit.get(i, 0) for i in set(step.ids)) for step in domain.steps)
        self._step_cost = tuple(
            s.cost + sum(reuse.get(i, 0.0) for i in s.ids) for s in domain.steps
        )
        self.repeat_penalty = variety.repeat_penalty
        # a step that disables itself (a one-shot flag, or a condition it clears) can never
        # follow itself: remembering it as the last step would only split states
        self._last = tuple(
            i
            if self.repeat_penalty > 0
            and domain.enablers[i] is None
            and not any(limiter[0] == "once" for limiter in domain.limiters[i])
            else -1
            for i in range(len(domain.steps))
        )
        self._allowed = tuple(
            not any(a.id in self.excluded for a in step.actions) for step in domain.steps
        )
        self._h: dict[tuple[int, int, int], float] = {}
        self._before: tuple[int, ...] | None = None
        self._canonical: dict[int, tuple[tuple[int, int], ...]] = {}
        self.full = (1 << len(self.required)) - 1
        slot = {k: i for i, k in enumerate(domain.keys)}
        self._goal = tuple((slot[c.key], c) for c in self.goal_facts)
        self._goal_ok: dict[int, bool] = {}
        #: Whether the estimates add the fact relaxation (:mod:`.fact_relaxation`): when the
        #: goal reads facts or the problem is facts-only.
        self.uses_facts = bool(self._goal) or self.facts_only
        self._fact_h: FactRelaxation | None = None
        self._pdb: PatternDatabase | None = None
        self._fact_memo: dict[tuple[int, int], float] = {}
        self._grid_max = config.grid_max
        if self.facts_only:
            self.goal_lo, self.goal_hi = -config.grid_max, config.grid_max
            self.floor_ticks, self.ceiling_ticks = 0, math.inf
            p0, self.corridor = 0, False
        else:
            assert narrative is not None
            lo, hi = self.phase.goal_range()
            self.goal_lo = math.ceil(lo / config.spectrum_step - 1e-6)
            self.goal_hi = math.floor(hi / config.spectrum_step + 1e-6)
            transition = self.phase.transition
            self.floor_ticks = math.ceil(transition.position_floor * self.total_ticks - 1e-9)
            self.ceiling_ticks = math.ceil(transition.position_ceiling * self.total_ticks - 1e-9)
            p0 = config.to_grid(narrative.primary_value)
        margin = round(config.corridor_margin / config.spectrum_step)
        if self.corridor:
            self.corridor_lo = max(-config.grid_max, min(p0, self.goal_lo) - margin)
            self.corridor_hi = min(config.grid_max, max(p0, self.goal_hi) + margin)
        else:
            self.corridor_lo, self.corridor_hi = -config.grid_max, config.grid_max
        self._pending = self._required_bounds(
            self._allowed, self.move_spans(self.corridor_lo, self.corridor_hi)
        )
        self._exact: tuple | None = None
        self._exact_memo: dict[tuple[int, int, int], float] = {}
        self._optimal: tuple | None = None
        self._optimal_memo: dict[tuple[int, int, int], float] = {}
        self._free: tuple | None = None
        self._free_memo: dict[tuple[int, int, int], float] = {}
        heads = [s.index for s in domain.steps if s.ids[0] == self.previous]
        last = self._last[heads[0]] if heads else -1
        self.initial = (
            domain.intern(tuple(self.world.facts.get(k) for k in domain.keys)),
            p0,
            0 if self.facts_only else self.start_ticks,
            0,
            last,
        )

    def move_spans(self, lo: int, hi: int) -> tuple[tuple[int, int], ...]:
        """Per step, the least and the most it moves the primary (in grid steps) from any
        start in ``lo..hi``, clamping at the ends of the spectrum included."""
        return self.domain.spans(lo, hi)

    def _required_bounds(
        self, usable: Sequence[bool], spans: Sequence[tuple[int, int]]
    ) -> tuple[tuple[int, tuple], ...]:
        """Per required event: (bit, [(cost, ticks, least move, most move)] of its steps)."""
        out = []
        for i, rid in enumerate(self.required):
            options = tuple(
                (self._step_cost[s.index], s.ticks, *spans[s.index])
                for s in self.domain.steps
                if rid in s.ids and usable[s.index]
            )
            out.append((1 << i, options))
        return tuple(out)

    @property
    def steps(self) -> tuple[Step, ...]:
        """The moves of the search (actions with their chains), in library order."""
        return self.domain.steps

    @property
    def keys(self) -> tuple[str, ...]:
        """The fact keys in a search state's facts tuple, in order."""
        return self.domain.keys

    def expand(
        self, state: SearchState, canonical: bool = False
    ) -> tuple[list[tuple[int, SearchState]], list[tuple[int, SearchState]]]:
        """``(moves, escapes)``: the :meth:`successors` of ``state``, and the states that
        allowed, applicable steps below the ceiling reach outside the corridor.

        ``canonical`` takes interchangeable one-off steps in one order only
        (:meth:`canonical_moves`): the least cost from every state kept stays the same.
        """
        facts, p, ticks, done, _ = state
        domain = self.domain
        bits, allowed, last = self._bits, self._allowed, self._last
        out: list[tuple[int, SearchState]] = []
        moves = self.canonical_moves(facts) if canonical else domain.moves(facts)
        if self.facts_only:
            for index, after in moves:
                if allowed[index]:
                    out.append((index, (after, 0, 0, done | bits[index], last[index])))
            return out, []
        g = self._grid_max
        ceiling, lo, hi = self.ceiling_ticks, self.corridor_lo, self.corridor_hi
        steps = domain.steps
        after_p = domain.primary_after
        escapes = []
        for index, after in moves:
            t = ticks + steps[index].ticks
            if t >= ceiling or not allowed[index]:
                continue
            p2 = after_p[index][p + g]
            nxt = (after, p2, t, done | bits[index], last[index])
            if lo <= p2 <= hi:
                out.append((index, nxt))
            else:
                escapes.append((index, nxt))
        return out, escapes

    def canonical_moves(self, fid: int) -> tuple[tuple[int, int], ...]:
        """The moves of facts ``fid`` without those that break the order of interchangeable
        one-off steps (memoised per facts).

        Two one-off steps are interchangeable when they cost the same, advance the same
        ticks, move the spectrum by the same links and each reads and writes only its own
        flag (tested ``!= True``, set to True, read by no other step nor the goal, written by
        no other step) and neither is a required event. A plan using one where the other was
        still unused has a twin of the same cost swapping their roles, and every state on the
        way differs from the twin's only in those two flags, which nothing else reads. So a
        step whose predecessor in its group is still applicable is skipped: every plan keeps
        a twin of the same cost that takes the group in order, and exact search stays
        optimal (symmetry reduction, Fox & Long 1999; Pochter, Zohar & Rosenschein 2011).
        """
        if self._before is None:  # shared by the domain's problems that agree on it
            key = (self._allowed, self._step_cost, self._bits, tuple(s for s, _ in self._goal))
            orders = self.domain.orders
            if key not in orders:
                if len(orders) >= _MAX_DOMAINS:
                    orders.clear()
                orders[key] = (self._interchangeable(), {})
            self._before, self._canonical = orders[key]
        found = self._canonical.get(fid)
        if found is None:
            moves = self.domain.moves(fid)
            applicable = {index for index, _ in moves}
            before = self._before
            found = tuple(m for m in moves if before[m[0]] not in applicable)
            self._canonical[fid] = found
        return found

    def _interchangeable(self) -> tuple[int, ...]:
        """Per step, the interchangeable one-off step that must come before it (-1: none)."""
        domain = self.domain
        readers: dict[int, int] = {}
        writers: dict[int, int] = {}
        for links in domain.links:
            for pres, effects in links:
                for slot, _ in pres:
                    readers[slot] = readers.get(slot, 0) + 1
                for slot, _ in effects:
                    writers[slot] = writers.get(slot, 0) + 1
        goal = {slot for slot, _ in self._goal}
        groups: dict[tuple, int] = {}
        before = [-1] * len(domain.steps)
        for step, links, limiters in zip(domain.steps, domain.links, domain.limiters, strict=True):
            if len(links) != 1 or self._bits[step.index] or not self._allowed[step.index]:
                continue
            pres, effects = links[0]
            if len(pres) != 1 or len(effects) != 1 or limiters != (("once", *pres[0]),):
                continue
            slot = pres[0][0]
            if effects[0][0] != slot or slot in goal or readers[slot] + writers[slot] != 2:
                continue
            key = (self._step_cost[step.index], step.ticks, step.link_deltas)
            before[step.index] = groups.get(key, -1)
            groups[key] = step.index
        return tuple(before)

    def successors(self, state: SearchState) -> list[tuple[int, SearchState]]:
        """``(step index, next state)`` of every allowed, applicable step that stays below the
        position ceiling and inside the corridor."""
        return self.expand(state)[0]

    def tracked(self, index: int) -> bool:
        """Whether a repeat of step ``index`` is remembered (and pays the repeat penalty)."""
        return self._last[index] != -1

    def move_cost(self, state: SearchState, index: int) -> float:
        """The cost of step ``index`` taken from ``state`` (the repeat penalty included)."""
        extra = self.repeat_penalty if index == state[4] else 0.0
        return self._step_cost[index] + extra

    def goal_facts_hold(self, fid: int) -> bool:
        """Whether the facts with id ``fid`` meet the goal's fact conditions."""
        found = self._goal_ok.get(fid)
        if found is None:
            facts = self.domain.facts(fid)
            found = self._goal_ok[fid] = all(c.test(facts[i]) for i, c in self._goal)
        return found

    def is_goal(self, state: SearchState) -> bool:
        """Primary in the goal range, position at or past the floor, required events done,
        the goal's fact conditions met (only the events and facts when facts-only)."""
        fid, p, ticks, done, _ = state
        return (
            self.goal_lo <= p <= self.goal_hi
            and ticks >= self.floor_ticks
            and done == self.full
            and (not self._goal or self.goal_facts_hold(fid))
        )

    def fact_estimate(self, state: SearchState) -> float:
        """The estimate over facts (memoised per facts and events): the pattern database
        over the goal's fact slots when it fits, with h-max for the required events still to
        do; h-max over everything otherwise (:mod:`.fact_relaxation`)."""
        key = (state[0], state[3])
        h = self._fact_memo.get(key)
        if h is None:
            if self._fact_h is None:
                events = [
                    (1 << i, [s.index for s in self.steps if rid in s.ids])
                    for i, rid in enumerate(self.required)
                ]
                self._fact_h = FactRelaxation(
                    self.domain.links,
                    self._step_cost,
                    self._allowed,
                    len(self.keys),
                    self._goal,
                    events,
                )
                self._pdb = self._pattern_database() if self._goal else None
            facts = self.domain.facts(state[0])
            pending = self.full & ~state[3]
            if self._pdb is not None and self._pdb.ok:
                h = self._pdb(facts)
                if pending and h < math.inf:  # the events' preconditions: h-max
                    h = max(h, self._fact_h(facts, state[3]))
            else:
                h = self._fact_h(facts, state[3])
            self._fact_memo[key] = h
        return h

    def _pattern_database(self) -> PatternDatabase:
        """The goal's pattern database, shared by problems that agree on everything it reads
        (the domain, the goal, the usable steps and their costs, the start's facts)."""
        key = (
            self.domain,
            tuple((c.key, c.op, type(c.value).__name__, c.value) for c in self.goal_facts),
            self._allowed,
            self._step_cost,
            tuple((type(v).__name__, v) for v in self.domain.facts(self.initial[0])),
        )
        found = _PATTERNS.get(key)
        if found is None:
            if len(_PATTERNS) >= _MAX_DOMAINS:
                _PATTERNS.clear()
            start = self.domain.facts(self.initial[0])
            found = _PATTERNS[key] = PatternDatabase(self._fact_h, start, self._goal)
        return found

    def free_bound(self, state: SearchState) -> float:
        """An admissible estimate that holds without the corridor (for the optimality check
        of :func:`~storylab.storyteller.astar_search`): :meth:`exact_heuristic` with every
        step's move bounded over the whole spectrum instead of the corridor."""
        h = self._free_memo.get(state[1:4])
        if h is None:
            if self._free is None:
                g = self._grid_max
                self._free, self._free_memo = self._relaxation(-g, g, strong=True, two_way=True)
            h = self._relaxed(state, self._free, self._free_memo)
        if self.uses_facts:
            h = max(h, self.fact_estimate(state))
        return h

    def heuristic(self, state: SearchState) -> float:
        """Admissible estimate of the cost to the goal (``inf`` for dead ends).

        The larger of the cost-to-go table (:mod:`storylab.storyteller.heuristic`) and, for
        each required event still to do, its step's cost plus the table's cost of what the
        other steps must still supply once that step's own (possibly adverse) move is made;
        with a goal on facts, also the fact relaxation (:meth:`fact_estimate`).
        """
        h = self._estimate(state, self.domain.up, self.domain.down, self._pending, self._h)
        if self.uses_facts:
            h = max(h, self.fact_estimate(state))
        return h

    def exact_heuristic(self, state: SearchState) -> float:
        """A stronger admissible estimate, used by exact A* (which reopens states).

        The larger of :meth:`heuristic` over only the steps still usable from the start (a
        step whose use bound, :mod:`storylab.storyteller.use_bounds`, is zero there can never
        be applied in this phase: its one-shot flag is set, its counter is used up, it reads
        a fact nothing writes and fails, or it is excluded) with *signed* moves (a step that
        moves the spectrum away from the goal range adds to the movement still needed), the
        bounded relaxation of :mod:`storylab.storyteller.bounded_relaxation` and, with a goal
        on facts, the fact relaxation.
        """
        h = self._exact_memo.get(state[1:4])
        if h is None:
            if self._exact is None:
                self._exact, self._exact_memo = self._relaxation(self.corridor_lo, self.corridor_hi)
            h = self._relaxed(state, self._exact, self._exact_memo)
        if self.uses_facts:
            h = max(h, self.fact_estimate(state))
        return h

    def optimal_heuristic(self, state: SearchState) -> float:
        """The estimate of exact A* (no beam): :meth:`exact_heuristic` with two refinements.

        Steps whose preconditions the fact relaxation cannot reach from the start
        (:meth:`~storylab.storyteller.fact_relaxation.FactRelaxation.reachable`) are dropped
        like those with no use left, and where the corridor reaches the zone next to -1 or +1
        in which a step's links may clamp, the clamp's excursion bounds are added
        (:func:`~storylab.storyteller.bounded_relaxation.excursion_tables`). Both only raise
        the estimate and keep it admissible; the beams keep :meth:`exact_heuristic`, so the
        composer's plans do not change.
        """
        h = self._optimal_memo.get(state[1:4])
        if h is None:
            if self._optimal is None:
                self._optimal, self._optimal_memo = self._relaxation(
                    self.corridor_lo, self.corridor_hi, strong=True
                )
            h = self._relaxed(state, self._optimal, self._optimal_memo)
        if self.uses_facts:
            h = max(h, self.fact_estimate(state))
        return h

    def _relaxation(
        self, lo: int, hi: int, *, strong: bool = False, two_way: bool = False
    ) -> tuple[tuple, dict]:
        """:meth:`_build_relaxation` and a memo of its estimates per ``(primary, ticks,
        done)``, shared by the problems that agree on everything it reads (a problem built
        again, as the benchmarks and re-planning do, finds its tables and estimates at once)."""
        key = (
            self.domain,
            lo,
            hi,
            strong,
            two_way,
            self.facts_only,
            self.initial[:3],
            self.start_ticks,
            self.floor_ticks,
            self.ceiling_ticks,
            self.goal_lo,
            self.goal_hi,
            self.required,
            self._allowed,
            self._step_cost,
        )
        found = _RELAXATIONS.get(key)
        if found is None:
            if len(_RELAXATIONS) >= _MAX_RELAXATIONS:
                _RELAXATIONS.clear()
            tables = self._build_relaxation(lo, hi, strong=strong, two_way=two_way)
            found = _RELAXATIONS[key] = (tables, {})
        return found

    def _build_relaxation(self, lo: int, hi: int, *, strong: bool, two_way: bool) -> tuple:
        """(up table, down table, required-event bounds, bounded tables) over the steps
        usable from the start, every step's move bounded over the starts ``lo..hi``.

        The up table prices a need of ``d`` grid steps upward with each step supplying the
        most it can move up from a start in ``lo..hi`` (negative for a step that moves down:
        it adds need); the down table likewise downward. Every state the search keeps lies in
        ``lo..hi``, so along any plan from it the sum of these supplies is at least the net
        move the plan makes: both tables stay admissible, and a state already in the goal
        range is priced too (the cheap steps that would move it out must be paid back).
        With ``strong`` (exact A* and the corridor-free bound), steps the fact relaxation
        cannot reach are left out too and, where the range reaches a clamping zone, the
        excursion bounds of :func:`~storylab.storyteller.bounded_relaxation.excursion_tables`
        are added (with the two-way table when ``two_way``).
        """
        facts = self.domain.facts(self.initial[0])
        usable = self._usable(strong)
        spans = self.move_spans(lo, hi)
        live = [s for s in self.domain.steps if usable[s.index]]
        cost, k, d = self._step_cost, len(self.domain.core), 2 * self._grid_max
        up = cost_to_go(
            [(cost[s.index], s.ticks, spans[s.index][1], s.core) for s in live], k, d, d
        )
        down = cost_to_go(
            [(cost[s.index], s.ticks, -spans[s.index][0], s.core) for s in live], k, d, d
        )
        bounded = excursions = None
        if not self.facts_only:
            # items are added one kind after another, so a partial sum may pass the net moves
            # asked for on the way: the table tracks twice the spectrum's width each way
            bounded = bounded_table(self, facts, usable, spans, 2 * d)
            if strong:
                excursions = excursion_tables(
                    self, facts, usable, lo, hi, bounded, two_way=two_way, split=not two_way
                )
        return up, down, self._required_bounds(usable, spans), bounded, excursions

    def _usable(self, strong: bool) -> list[bool]:
        """Per step, whether it is allowed and has a use left at the start (with ``strong``:
        and the fact relaxation reaches its preconditions)."""
        facts = self.domain.facts(self.initial[0])
        usable = [
            allowed and use_bound(limiters, facts) > 0
            for allowed, limiters in zip(self._allowed, self.domain.limiters, strict=True)
        ]
        if strong:
            reachable = set(self._reachable(usable))
            usable = [u and i in reachable for i, u in enumerate(usable)]
        return usable

    def _reachable(self, usable: Sequence[bool]) -> tuple[int, ...]:
        """The ``usable`` steps whose preconditions the fact relaxation reaches from the
        start's facts (memoised on the domain, the usable steps and the facts)."""
        facts = self.domain.facts(self.initial[0])
        key = (self.domain, tuple(usable), tuple((type(v).__name__, v) for v in facts))
        found = _REACHABLE.get(key)
        if found is None:
            if len(_REACHABLE) >= _MAX_DOMAINS:
                _REACHABLE.clear()
            relaxation = FactRelaxation(
                self.domain.links, self._step_cost, usable, len(self.keys), (), ()
            )
            found = _REACHABLE[key] = relaxation.reachable(facts)
        return found

    def _relaxed(self, state: SearchState, relaxation: tuple, memo: dict) -> float:
        """The estimate of :meth:`_relaxation`'s tables for ``state`` (memoised in ``memo``)."""
        up, down, pending, bounded, ends = relaxation
        h = self._estimate(state, up, down, pending, memo)
        if bounded is not None:
            _, p, ticks, done, _ = state
            k = (self.full & ~done).bit_count()
            r = max(0, self.floor_ticks - ticks)
            h = max(h, bounded(k, r, self.goal_lo - p, self.goal_hi - p))
            if ends is not None:
                h = max(h, excursion_estimate(ends, k, r, p, self.goal_lo, self.goal_hi))
        memo[state[1:4]] = h
        return h

    def _estimate(self, state: SearchState, up: CostToGo, down: CostToGo, pending, memo) -> float:
        key = state[1:4]
        h = memo.get(key)
        _, p, ticks, done, _ = state
        if h is None:
            lo, hi = self.goal_lo, self.goal_hi
            k = (self.full & ~done).bit_count()
            r = max(0, self.floor_ticks - ticks)
            h = max(up(k, r, lo - p), down(k, r, p - hi))
            for bit, options in pending:
                if done & bit:
                    continue
                best = math.inf
                for cost, t, least, most in options:
                    rest = max(0, r - t)
                    need = max(down(0, rest, p + least - hi), up(0, rest, lo - p - most))
                    best = min(best, cost + need)
                h = max(h, best)
            memo[key] = h
        return h

    def step_cost(self, index: int) -> float:
        """The cost of step ``index`` (with the reuse penalty; a repeat adds
        ``repeat_penalty``, see :meth:`move_cost`)."""
        return self._step_cost[index]
