"""The planner's admissible heuristic: a cost-to-go table over a relaxed phase problem.

The relaxation forgets facts and preconditions and keeps three needs: ``r`` more position
ticks, ``d`` more grid steps of movement of the primary spectrum toward its target range, and
``k`` more required core events. A step (an action with its chain) supplies its ticks, the
sum of its links' deltas *in the needed direction* (negative parts count as zero) and the
number of core events among its links. The table holds the least cost of any multiset of
steps meeting all three needs, by dynamic programming::

    h(0, 0, 0) = 0
    h(r, k, d) = min over steps s of  cost(s) + h(max(0, r - t_s), max(0, k - c_s), max(0, d - g_s))

Every real plan meets the three needs with its own steps (clamping at the ends of the spectrum
only loses movement, and moving away only adds need), so ``h`` never overestimates the cost
of reaching the goal: it is admissible, and consistent (one step changes it by at most its
cost). It is at least as strong as the simpler bound max(d / max gain-per-cost, r / max
ticks-per-cost), a further relaxation of the same problem.

:class:`~storylab.storyteller.search_space.PhaseProblem` strengthens it for each required
core event still to do: the event's step costs what it costs and moves the spectrum by at
least its least possible move inside the phase's corridor (clamping included), so the other
steps must supply the remaining ticks and whatever movement is left *after* that move, which
the table prices. Each such term is again a lower bound, and so is the maximum.

Exact search builds the tables with *signed* supplies and a ``slack``: a step's gain is the
most it can move toward the target from any start in the corridor (negative for a step
moving away, which adds need), and the need may be negative, room to move the wrong way;
:func:`need_index` keeps every table a lower bound when a need leaves the tracked range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

__all__ = [
    "CostToGo",
    "StepSupply",
    "clear_cost_to_go",
    "cost_to_go",
    "need_index",
    "ratio_heuristic",
]

#: (cost, ticks, gain toward the target, core events) of one step.
StepSupply = tuple[float, int, int, int]

_TABLES: dict[tuple, CostToGo] = {}
#: Tables kept at most (a sweep over many cost settings would otherwise grow without end).
_MAX_TABLES = 256


class CostToGo:
    """Least relaxed cost for needs ``(k, r, d)``; rows over ``r`` are built on demand.

    With ``slack`` > 0 the movement need ``d`` may be negative (room to move the wrong way)
    and gains may be negative (a step moving away adds need): see :func:`need_index`.
    """

    def __init__(self, supplies: Iterable[StepSupply], k_max: int, d_max: int, slack: int = 0):
        best: dict[tuple[int, int, int], float] = {}
        for cost, ticks, gain, core in supplies:
            if ticks < 1:
                raise ValueError("every step must advance the position by at least one tick")
            span = d_max + slack
            key = (ticks, max(-span, min(gain, span)), max(0, min(core, k_max)))
            best[key] = min(cost, best.get(key, np.inf))
        self.k_max, self.d_max, self.slack = k_max, d_max, slack
        ks = np.arange(k_max + 1)
        self._groups = [
            (cost, ticks, np.ix_(np.maximum(0, ks - core), need_index(gain, d_max, slack)))
            for (ticks, gain, core), cost in sorted(best.items())
        ]
        self._rows: list[np.ndarray] = [self._row_zero()]
        # rows of tuples: the garbage collector stops tracking them (see BoundedCostToGo)
        self._lists: list[tuple[tuple[float, ...], ...]] = [_frozen(self._rows[0])]

    def _row_zero(self) -> np.ndarray:
        row = np.full((self.k_max + 1, self.d_max + self.slack + 1), np.inf)
        row[0, : self.slack + 1] = 0.0
        while True:
            new = row.copy()
            for cost, _, index in self._groups:
                np.minimum(new, cost + row[index], out=new)
            if np.array_equal(new, row):
                return row
            row = new

    def _extend(self, r: int) -> None:
        while len(self._rows) <= r:
            n = len(self._rows)
            row = np.full((self.k_max + 1, self.d_max + self.slack + 1), np.inf)
            for cost, ticks, index in self._groups:
                np.minimum(row, cost + self._rows[max(0, n - ticks)][index], out=row)
            self._rows.append(row)
            self._lists.append(_frozen(row))

    def __call__(self, k: int, r: int, d: int) -> float:
        """The least relaxed cost of ``r`` ticks, ``k`` core events and ``d`` grid steps
        (a need outside the table's range is priced at its nearer end: still a lower bound)."""
        if r >= len(self._lists):
            self._extend(r)
        return self._lists[r][min(k, self.k_max)][min(max(d, -self.slack), self.d_max) + self.slack]


def _frozen(row: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(map(tuple, row.tolist()))


def need_index(gain: int, d_max: int, slack: int) -> np.ndarray:
    """For each need ``d`` in ``-slack..d_max`` (index ``d + slack``), the index of the need
    left after a supply of ``gain`` grid steps.

    Index 0 (need ``-slack`` or less) means the movement no longer constrains anything and
    stays there; a need left below ``-slack`` goes there, and one above ``d_max`` is cut to
    ``d_max``. Both only lower the price (it grows with the need), so every table built with
    these indices stays a lower bound.
    """
    after = np.clip(np.arange(-slack, d_max + 1) - gain, -slack, d_max) + slack
    after[0] = 0
    return after


def cost_to_go(supplies: Iterable[StepSupply], k_max: int, d_max: int, slack: int = 0) -> CostToGo:
    """The table for these step supplies, shared (memoised) across phases and plans."""
    key = (tuple(sorted(supplies)), k_max, d_max, slack)
    return memoised(_TABLES, key, CostToGo, _MAX_TABLES)


def memoised(store: dict[tuple, Any], key: tuple, build: Callable[..., Any], limit: int) -> Any:
    """``store[key]``, built as ``build(*key)`` on a miss; a store holding ``limit`` tables
    is emptied first (tables are cheap to rebuild, memory is not)."""
    table = store.get(key)
    if table is None:
        if len(store) >= limit:
            store.clear()
        table = store[key] = build(*key)
    return table


def clear_cost_to_go() -> None:
    """Forget every memoised table."""
    _TABLES.clear()


def ratio_heuristic(problem: Any) -> Callable[[tuple[int, ...]], float]:
    """The textbook bound for a phase problem, for comparison with the table.

    max(grid steps still to move / best movement per unit cost, ticks still needed / best
    ticks per unit cost): admissible, but blind to required events and to steps whose cheap
    movement comes with little progress.
    """
    steps = problem.steps
    move = max(max(s.gain_up, s.gain_down) / s.cost for s in steps)
    ticks = max(s.ticks / s.cost for s in steps)

    def h(state: tuple[int, ...]) -> float:
        _, p, t, _, _ = state
        d = max(0, problem.goal_lo - p, p - problem.goal_hi)
        return max(d / move, max(0, problem.floor_ticks - t) / ticks)

    return h
