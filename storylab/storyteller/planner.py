"""The GOAP planner: A* over a compiled phase problem, with urgency limits or the exact bound.

:func:`astar_search` without a beam is exact A* (optimal: the heuristic is admissible, and
closed states reached again more cheaply are reopened). The beam searches of the urgency
levels use the phase problem's ``exact_heuristic`` unless given another (with the variety
model's penalties their plans stay complete only with that stronger estimate); exact A*
uses ``optimal_heuristic``, which refines it further (steps the fact relaxation cannot
reach, the split at a clamping zone) without changing the beams' plans. Urgency adds two
limits: ``max_iterations`` caps node expansions and ``beam_width`` keeps only that many best
open nodes after each expansion. Exact search is
bounded too (``max_iterations``, ``max_seconds``, ``max_nodes``: the planning
configuration's ``exact`` block) and says which limit stopped it. Ties are broken
deterministically: lower ``f``, then lower ``h`` (deeper), then a seeded rank of the step
that produced the node, then insertion order.

``optimal`` in the statistics is true only for a plan that is least-cost: the goal reached
with nothing dropped by a beam, no limit hit, and, when the problem keeps the spectrum in a
corridor, a proof that no plan leaving it is cheaper. The proof first keeps, for every
state the corridor cut and every state still open at the end, ``g`` plus a corridor-free
admissible bound (``PhaseProblem.free_bound``): any cheaper plan leaves the explored region
through such a state and costs at least that much, so if the least of them reaches the
plan's cost, it is optimal. Otherwise exact A* searches again without the corridor, with
the corridor-free bound as its estimate, keeping only nodes with ``f`` below the plan's
cost: if that finds no plan, the corridor cost nothing (``check_corridor=False`` skips this
second search and flags the result not optimal instead). Exact search also takes
interchangeable one-off steps in one order (``PhaseProblem.canonical_moves``) and applies
pathmax (a child's estimate is at least its parent's less the step's cost); neither changes
the least cost from a state it keeps.
"""

from __future__ import annotations

import dataclasses
import functools
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
from storylab.storyteller.config import ExactLimits, PlanningConfig, Urgency, planning_config
from storylab.storyteller.search_space import CostSpec, PhaseProblem, SearchState
from storylab.storyteller.templates import StoryPhase
from storylab.theory import WorldState

__all__ = [
    "BYTES_PER_NODE",
    "PhaseSearch",
    "SearchStats",
    "StopReason",
    "astar_search",
    "plan_phase",
    "search_limits",
]

StopReason = Literal[
    "goal", "max_iterations", "exhausted", "beam_exhausted", "time_limit", "memory_limit"
]

#: Bytes one stored search node takes, about (its state tuple, its entries in the cost and
#: parent maps and the open heap, its heuristic memo entries), measured with ``tracemalloc``
#: on the planner benchmark's largest searches.
BYTES_PER_NODE = 420

#: Expansions between two looks at the clock and the node count.
_CHECK_EVERY = 256


class SearchStats(Frozen):
    """What a search did (deterministic: no wall-clock time here)."""

    expanded: int = Field(ge=0)
    generated: int = Field(ge=0)
    pruned: int = Field(ge=0, description="open nodes dropped by the beam")
    stop_reason: StopReason
    max_iterations: int | None
    beam_width: int | None
    optimal: bool = Field(description="a plan of least cost: nothing pruned could be cheaper")
    corridor_cut: int = Field(default=0, ge=0, description="successors outside the corridor")
    peak_nodes: int = Field(default=0, ge=0, description="most states stored at once")
    peak_memory_mb: float = Field(
        default=0.0, ge=0.0, description="peak_nodes times BYTES_PER_NODE, in MB"
    )


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
    max_seconds: float | None = None,
    max_nodes: int | None = None,
    check_corridor: bool = True,
) -> PhaseSearch:
    """A* from ``problem.initial`` to a goal state; never raises for "no plan".

    Parameters
    ----------
    problem : PhaseProblem
        The compiled phase problem.
    max_iterations : int, optional
        Most node expansions (no limit when ``None``).
    beam_width : int, optional
        Open nodes kept after each expansion (no beam when ``None``: exact A*).
    ranks : sequence of int, optional
        Tie-break rank of each step (a seeded permutation); step order when ``None``.
    heuristic : callable, optional
        State -> estimate; when ``None``, ``problem.optimal_heuristic`` for exact search and
        ``problem.exact_heuristic`` for a beam (``optimal`` in the statistics assumes the
        heuristic is admissible).
    max_seconds : float, optional
        Stop (``time_limit``) after this much wall time; the clock is read every
        256 expansions, so where the search stops may vary from run to run.
    max_nodes : int, optional
        Stop (``memory_limit``) once this many states are stored; by default the planning
        configuration's ``exact.max_nodes`` (500,000 states, about 210 MB), so no search
        grows without bound.
    check_corridor : bool
        Exact search only: when the bounds cannot show that the corridor cost nothing,
        search again without it (see the module docstring) before flagging ``optimal``.
    """
    collecting = gc.isenabled()
    gc.disable()  # the search allocates many small acyclic tuples: no cycles to collect
    try:
        if heuristic is None:
            exact = beam_width is None
            heuristic = problem.optimal_heuristic if exact else problem.exact_heuristic
        if max_nodes is None:
            max_nodes = (problem.config or planning_config()).exact.max_nodes
        limits = (max_iterations, beam_width, max_seconds, max_nodes)
        result, unproven = _astar(problem, limits, ranks, heuristic)
        if unproven and check_corridor:
            free = dataclasses.replace(problem, corridor=False)
            proof, _ = _astar(free, limits, ranks, free.free_bound, cap=result.cost)
            stats = result.stats.model_copy(
                update={"optimal": proof.stats.stop_reason in ("exhausted", "beam_exhausted")}
            )
            result = result.model_copy(update={"stats": stats})
        return result
    finally:
        if collecting:
            gc.enable()


def _astar(
    problem: PhaseProblem,
    limits: tuple,
    ranks: Sequence[int] | None,
    estimate: Callable[[SearchState], float],
    cap: float = math.inf,
) -> tuple[PhaseSearch, bool]:
    """The search, and whether only the corridor stands between the plan and ``optimal``.

    Nodes with ``f`` at or above ``cap`` (less a rounding margin) are not kept.
    """
    started = time.perf_counter()
    max_iterations, beam_width, max_seconds, max_nodes = limits
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
    expanded = generated = pruned = cut = 0
    peak = 1
    reason: StopReason = "exhausted"
    goal: SearchState | None = None
    step_cost = [problem.step_cost(i) for i in range(len(problem.steps))]
    repeat = problem.repeat_penalty
    push, pop, inf = heapq.heappush, heapq.heappop, math.inf
    exact = beam_width is None  # h need not be consistent: reopen closed states
    # exact search takes interchangeable one-off steps in one order (the least cost from
    # every state kept is unchanged); the beams keep every order, so the seed still picks
    expand = functools.partial(problem.expand, canonical=True) if exact else problem.expand
    is_goal, known = problem.is_goal, g_best.get
    check = problem.corridor and exact  # keep what the optimality check needs
    free = problem.free_bound
    escape = inf  # least g + corridor-free bound over the states the corridor cut
    reopened = False
    deadline = started + max_seconds if max_seconds is not None else inf
    while open_heap:
        if max_iterations is not None and expanded >= max_iterations:
            reason = "max_iterations"
            break
        if expanded % _CHECK_EVERY == 0 and expanded:
            peak = max(peak, len(g_best) + len(open_heap))
            if max_nodes is not None and peak >= max_nodes:
                reason = "memory_limit"
                break
            if time.perf_counter() > deadline:
                reason = "time_limit"
                break
        _, h, _, _, state = pop(open_heap)
        if state in closed:
            continue
        g = g_best[state]
        if state is not start and is_goal(state):
            goal, reason = state, "goal"
            break
        closed.add(state)
        expanded += 1
        moves, escapes = expand(state)
        generated += len(moves) + len(escapes)
        cut += len(escapes)
        last = state[4]
        if check:
            for index, nxt in escapes:
                cost = g + step_cost[index] + (repeat if index == last else 0.0)
                escape = min(escape, cost + free(nxt))
        for index, nxt in moves:
            g2 = g + step_cost[index] + (repeat if index == last else 0.0)
            if g2 >= known(nxt, inf):
                continue
            if nxt in closed:
                if not exact:
                    reopened = True
                    continue
                closed.discard(nxt)
            h2 = estimate(nxt)
            if exact:  # pathmax: a parent's estimate less the step's cost is one too
                h2 = max(h2, h - g2 + g)
            if h2 == inf or g2 + h2 >= cap - 1e-9:
                if check and h2 == inf:
                    escape = min(escape, g2 + free(nxt))
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
    peak = max(peak, len(g_best) + len(open_heap))
    end = goal if goal is not None else best_state
    indices = _path(parents, end)
    cost = g_best[end] if goal is not None else _cost_of(problem, indices)
    optimal = goal is not None and pruned == 0 and not reopened
    unproven = False
    if optimal and problem.corridor:
        if not check:
            optimal = cut == 0
        else:
            left = (g_best[s] + free(s) for *_, s in open_heap if s not in closed)
            bound = min(left, default=inf)
            optimal = min(escape, bound) >= cost - 1e-9
            unproven = not optimal
    stats = SearchStats(
        expanded=expanded,
        generated=generated,
        pruned=pruned,
        stop_reason=reason,
        max_iterations=max_iterations,
        beam_width=beam_width,
        optimal=optimal,
        corridor_cut=cut,
        peak_nodes=peak,
        peak_memory_mb=round(peak * BYTES_PER_NODE / 1e6, 3),
    )
    result = PhaseSearch(
        steps=tuple(problem.steps[i].ids for i in indices),
        cost=float(cost),
        reached=goal is not None,
        stats=stats,
        elapsed_s=time.perf_counter() - started,
    )
    return result, unproven


def _cost_of(problem: PhaseProblem, indices: Sequence[int]) -> float:
    """The cost of taking steps ``indices`` from the start (repeat penalties included)."""
    state, total = problem.initial, 0.0
    for index in indices:
        total += problem.move_cost(state, index)
        state = next(nxt for i, nxt in problem.expand(state)[0] if i == index)
    return total


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

    ``urgency=None`` (or ``"exact"``) is exact A* within the planning configuration's
    ``exact`` bound. ``seed`` only permutes tie-breaks between equally good plans.

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
    rng = np.random.default_rng(seed)
    ranks = rng.permutation(len(problem.steps)).tolist()
    return astar_search(problem, ranks=ranks, **search_limits(config, urgency))


def search_limits(config: PlanningConfig, urgency: Urgency | str | None) -> dict:
    """The keyword limits of :func:`astar_search` for ``urgency`` (``None``: exact)."""
    limits = config.limits(urgency)
    if isinstance(limits, ExactLimits):
        return {
            "max_iterations": limits.max_iterations,
            "max_seconds": limits.max_seconds,
            "max_nodes": limits.max_nodes,
        }
    return {"max_iterations": limits.max_iterations, "beam_width": limits.beam_width}
