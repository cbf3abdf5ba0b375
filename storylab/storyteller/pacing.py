"""Pace a phase's plan: the same steps, in an order that follows the phase's line.

A phase's cost does not depend on the order of its steps beyond what the search state
records, so the search returns the steps in whatever order it met them (interchangeable
one-off beats in one fixed order): a rising phase may spike, dip and climb again on the way
to its target. :func:`pace_steps` replays the plan choosing, at each turn, the applicable
step still to play that keeps the primary spectrum nearest the straight line from the
phase's start to its end (ties go to the search's order; a step that would repeat the one
just taken comes last). The result is used only when it is
the same plan: every step applicable and inside the corridor, the same end state and the
same cost (a new consecutive repeat would pay the repeat penalty); otherwise the search's
order stands.
"""

from __future__ import annotations

from collections.abc import Sequence

from storylab.storyteller.search_space import PhaseProblem, SearchState

__all__ = ["pace_steps"]

Chain = tuple[str, ...]


def _walk(problem: PhaseProblem, order: Sequence[int]) -> tuple[SearchState, float] | None:
    """The end state and cost of playing step indices ``order``, or None if one can't play."""
    state, cost = problem.initial, 0.0
    for index in order:
        nxt = dict(problem.successors(state)).get(index)
        if nxt is None:
            return None
        cost += problem.move_cost(state, index)
        state = nxt
    return state, cost


def pace_steps(problem: PhaseProblem, steps: Sequence[Chain]) -> tuple[Chain, ...]:
    """``steps`` (a plan for ``problem``, as chains of action ids) reordered to follow the
    straight line from the phase's start value to its end value over the phase's ticks."""
    if problem.facts_only or len(steps) < 3:
        return tuple(steps)
    index_of = {step.ids: step.index for step in problem.steps}
    original = [index_of[tuple(chain)] for chain in steps]
    walked = _walk(problem, original)
    if walked is None:
        return tuple(steps)
    end, cost = walked
    _, p0, t0, _, _ = problem.initial
    _, p_end, t_end, _, _ = end
    slope = (p_end - p0) / max(t_end - t0, 1)
    remaining = list(original)
    state, order = problem.initial, []
    while remaining:
        moves = dict(problem.successors(state))
        best = None
        for rank, index in enumerate(remaining):
            nxt = moves.get(index)
            if nxt is None:
                continue
            # a repeat of the step just taken would pay the repeat penalty: last resort
            miss = (index == state[4], abs(nxt[1] - (p0 + slope * (nxt[2] - t0))))
            if best is None or miss < best[0]:
                best = (miss, rank, nxt)
        if best is None:
            return tuple(steps)
        _, rank, state = best
        order.append(remaining.pop(rank))
    paced = _walk(problem, order)
    if paced is None or paced[0][:4] != end[:4] or abs(paced[1] - cost) > 1e-9:
        return tuple(steps)
    return tuple(problem.steps[i].ids for i in order)
