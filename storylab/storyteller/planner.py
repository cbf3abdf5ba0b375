"""The GOAP planner: A* over a compiled phase problem, with urgency limits.

:func:`astar_search` is exact A* when no limit is given (optimal, since the heuristic is
consistent); it then uses the phase problem's stronger ``exact_heuristic``, while the
urgency-limited searches keep its ``heuristic`` (their plans do not depend on the stronger
one). Urgency adds two limits: ``max_iterations`` caps node expansions and
``beam_width`` keeps only that many best open nodes after each expansion. Ties are broken
deterministically: lower ``f``, then lower ``h`` (deeper), then a seeded rank of the step
that produced the node, then insertion order.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import math
import time
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from storylab._data import Frozen
from storylab.storyteller.actions import ActionLibrary
from storylab.storyteller.config import PlanningConfig, Urgency, planning_config
from storylab.storyteller.search_space import CostSpec, PhaseProblem, SearchState
from storylab.storyteller.templates import StoryPhase
from storylab.theory import WorldState

__all__ = ["PhaseSearch", "SearchStats", "StopReason", "astar_search", "plan_phase"]

StopReason = Literal["goal", "max_iterations", "exhausted", "beam_exhausted"]


class SearchStats(Frozen):
    """What a search did (deterministic: no wall-clock time here)."""

    expanded: int = Field(ge=0)
    generated: int = Field(ge=0)
    pruned: int = Field(ge=0, description="open nodes dropped by the beam")
    stop_reason: StopReason
    max_iterations: int | None
    beam_width: int | None
    optimal: bool = Field(description="goal reached with nothing pruned: the cost is least")


class PhaseSearch(Frozen):
    """The result of planning one phase: the steps (chains) found and the search statistics.

    ``reached`` is true only for a non-empty plan that ends in the goal; otherwise the steps
    are the best partial plan found (the node closest to the goal by the heuristic).
    """

    steps: tuple[tuple[str, ...], ...]
    cost: float
    reached: bool
    stats: SearchStats
    elapsed_s: float = Field(default=0.0, exclude=True)


def _path(parents: dict, state: SearchState) -> list[int]:
    out = []
    while True:
        entry = parents.get(state)
        if entry is None:
            return out[::-1]
        state, index = entry
        out.append(index)


def astar_search(
    problem: PhaseProblem,
    *,
    max_iterations: int | None = None,
    beam_width: int | None = None,
    ranks: Sequence[int] | None = None,
    heuristic: Callable[[SearchState], float] | None = None,
) -> PhaseSearch:
    """A* from ``problem.initial`` to a goal state; never raises for "no plan".

    Parameters
    ----------
    problem : PhaseProblem
        The compiled phase problem.
    max_iterations : int, optional
        Most node expansions (no limit when ``None``).
    beam_width : int, optional
        Open nodes kept after each expansion (no limit when ``None``).
    ranks : sequence of int, optional
        Tie-break rank of each step (a seeded permutation); step order when ``None``.
    heuristic : callable, optional
        State -> estimate; when ``None``, ``problem.exact_heuristic`` without limits and
        ``problem.heuristic`` with any (``optimal`` in the statistics assumes the heuristic is
        admissible).
    """
    collecting = gc.isenabled()
    gc.disable()  # the search allocates many small acyclic tuples: no cycles to collect
    try:
        if heuristic is None:
            limited = max_iterations is not None or beam_width is not None
            heuristic = problem.heuristic if limited else problem.exact_heuristic
        return _astar(problem, max_iterations, beam_width, ranks, heuristic)
    finally:
        if collecting:
            gc.enable()


def _astar(
    problem: PhaseProblem,
    max_iterations: int | None,
    beam_width: int | None,
    ranks: Sequence[int] | None,
    estimate: Callable[[SearchState], float],
) -> PhaseSearch:
    started = time.perf_counter()
    ranks = tuple(ranks) if ranks is not None else tuple(range(len(problem.steps)))
    counter = itertools.count()
    start = problem.initial
    h0 = estimate(start)
    g_best: dict[SearchState, float] = {start: 0.0}
    parents: dict[SearchState, tuple[SearchState, int]] = {}
    open_heap: list[tuple[float, float, int, int, SearchState]] = []
    if math.isfinite(h0):
        open_heap.append((h0, h0, -1, next(counter), start))
    closed: set[SearchState] = set()
    best_h, best_g, best_state = h0, 0.0, start
    expanded = generated = pruned = 0
    reason: StopReason = "exhausted"
    goal: SearchState | None = None
    step_cost = [problem.step_cost(i) for i in range(len(problem.steps))]
    push, pop, inf = heapq.heappush, heapq.heappop, math.inf
    successors, is_goal, known = problem.successors, problem.is_goal, g_best.get
    reopen = max_iterations is None and beam_width is None  # exact: h need not be consistent
    while open_heap:
        if max_iterations is not None and expanded >= max_iterations:
            reason = "max_iterations"
            break
        state = pop(open_heap)[-1]
        if state in closed:
            continue
        g = g_best[state]
        if state is not start and is_goal(state):
            goal, reason = state, "goal"
            break
        closed.add(state)
        expanded += 1
        moves = successors(state)
        generated += len(moves)
        for index, nxt in moves:
            g2 = g + step_cost[index]
            if g2 >= known(nxt, inf) or (nxt in closed and not reopen):
                continue
            closed.discard(nxt)
            h2 = estimate(nxt)
            if h2 == inf:
                continue
            g_best[nxt] = g2
            parents[nxt] = (state, index)
            push(open_heap, (g2 + h2, h2, ranks[index], next(counter), nxt))
            if h2 < best_h or (h2 == best_h and g2 > best_g):
                best_h, best_g, best_state = h2, g2, nxt
        if beam_width is not None and len(open_heap) > beam_width:
            pruned += len(open_heap) - beam_width
            open_heap.sort()  # a sorted list is a heap
            del open_heap[beam_width:]
    else:
        reason = "beam_exhausted" if pruned else "exhausted"
    end = goal if goal is not None else best_state
    indices = _path(parents, end)
    stats = SearchStats(
        expanded=expanded,
        generated=generated,
        pruned=pruned,
        stop_reason=reason,
        max_iterations=max_iterations,
        beam_width=beam_width,
        optimal=goal is not None and pruned == 0,
    )
    return PhaseSearch(
        steps=tuple(problem.steps[i].ids for i in indices),
        cost=float(sum(step_cost[i] for i in indices)),
        reached=goal is not None,
        stats=stats,
        elapsed_s=time.perf_counter() - started,
    )


def plan_phase(
    world: WorldState,
    phase: StoryPhase,
    genre: str,
    *,
    total_actions: int,
    urgency: Urgency | str | None = Urgency.MEDIUM,
    required: Sequence[str] = (),
    costs: CostSpec = None,
    seed: int | np.random.Generator | None = None,
    library: ActionLibrary | None = None,
    config: PlanningConfig | None = None,
) -> PhaseSearch:
    """Plan one phase from ``world`` (its position gives the ticks already done).

    ``urgency=None`` lifts the limits (exact A*). ``seed`` only permutes tie-breaks between
    equally good plans.

    >>> from storylab.storyteller import template_library
    >>> from storylab.theory import NarrativeState
    >>> phase = template_library().get("man_in_a_hole").phase(1)
    >>> world = WorldState(narrative=NarrativeState.for_genre("action", value=0.2))
    >>> result = plan_phase(world, phase, "action", total_actions=40, seed=1)
    >>> result.reached, result.stats.stop_reason
    (True, 'goal')
    """
    config = config or planning_config()
    total_ticks = total_actions * config.ticks_per_action
    problem = PhaseProblem(
        world=world,
        phase=phase,
        genre=genre,
        total_ticks=total_ticks,
        start_ticks=round(world.position * total_ticks),
        required=tuple(required),
        costs=costs,
        library=library,
        config=config,
    )
    limits = config.limits(urgency) if urgency is not None else None
    rng = np.random.default_rng(seed)
    return astar_search(
        problem,
        max_iterations=limits.max_iterations if limits else None,
        beam_width=limits.beam_width if limits else None,
        ranks=rng.permutation(len(problem.steps)).tolist(),
    )
