"""The relaxation of a plan split at its first state in a clamping zone.

Near -1 or +1 a step's links may clamp, so the step moves less there than elsewhere
(``all_is_lost`` then ``dark_night_of_the_soul``, -8 then +1 on the grid, moves -7 from -12
but only -6 from -13 at ``grid_max`` 20). :func:`~storylab.storyteller.bounded_relaxation.
excursion_tables` splits on whether a plan ever starts a step in such a zone. One that does
has a first state ``q`` in the zone: the steps before it start above the zone (each moves
as from there, the *prefix*) and make the net move ``q - p``; the steps after it (the
*suffix*) move from ``q`` into the goal range. Pricing the two parts apart lets a one-shot
beat serve both; this table prices them together: each item's uses are shared between the
prefix and the suffix within its use bound, and the table tracks both net moves at once.

Every plan that visits the zone is such a multiset (prefix uses with their moves above the
zone, suffix uses with their moves anywhere in the range), so the least cost over the
multisets reaching ``q - p`` and a suffix move into the goal range is a lower bound on its
cost. Moves a partial sum takes outside the tracked range are priced as if they were free
(an extra index per move, as in :class:`~storylab.storyteller.bounded_relaxation.
BoundedCostToGo`), which only lowers the price.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from storylab.storyteller.heuristic import memoised
from storylab.storyteller.use_bounds import use_bound

__all__ = [
    "SplitCostToGo",
    "SplitItem",
    "clear_split_tables",
    "split_table",
]

#: (cost, ticks, core events, prefix move range, suffix move range, use bound, shared).
#: ``shared``: the bound holds for the prefix and suffix uses together (else for each).
SplitItem = tuple[float, int, int, tuple[int, int], tuple[int, int], int, bool]

#: Use bounds up to this are shared between the two parts exactly (every split of the uses
#: is enumerated); a larger bound is applied to each part alone (a weaker lower bound).
SHARED_BOUND = 4

_TABLES: dict[tuple, SplitCostToGo] = {}
_MAX_TABLES = 64


def clear_split_tables() -> None:
    """Forget every memoised table."""
    _TABLES.clear()


class SplitCostToGo:
    """Least cost of items with ``k`` core events, ``r`` ticks, a prefix net move ``a`` and a
    suffix net move ``b``, each tracked in ``-width..width``.

    Parameters
    ----------
    items : sequence of SplitItem
        Each item's cost, ticks, core events, move ranges in the prefix and in the suffix,
        and its use bound (finite).
    k_max, r_max, width : int
        The largest needs asked for and the net moves tracked.
    """

    def __init__(self, items: Sequence[SplitItem], k_max: int, r_max: int, width: int):
        n = 2 * width + 1
        self.width, self._free = width, n
        self._ks, self._rs = np.arange(k_max + 1), np.arange(r_max + 1)
        self._index: dict[int, np.ndarray] = {}
        table = np.full((k_max + 1, r_max + 1, n + 1, n + 1), np.inf)
        for a in (width, n):  # nothing used: no move, and the free indices
            for b in (width, n):
                table[0, 0, a, b] = 0.0
        self._table = table
        for cost, ticks, core, prefix, suffix, bound, shared in items:
            if ticks < 1:
                raise ValueError("every item must advance the position by at least one tick")
            if shared:
                source = self._table.copy()
                for uses in range(1, bound + 1):
                    for first in range(uses + 1):
                        self._add(source, (cost, ticks, core), uses, first, prefix, suffix)
            else:
                for part in (0, 1):
                    left, copies = bound, 1
                    while left:  # binary splitting: 1, 2, 4, ... uses at once
                        take = min(copies, left)
                        self._add(
                            self._table.copy(),
                            (cost, ticks, core),
                            take,
                            take if part == 0 else 0,
                            prefix,
                            suffix,
                        )
                        left -= take
                        copies *= 2
        self._rows = tuple(tuple(map(tuple, plane)) for plane in self._table.tolist())
        del self._table

    def _shift(self, move: int) -> np.ndarray:
        """Per tracked move ``x`` (and the free index), the index of ``x - move``."""
        found = self._index.get(move)
        if found is None:
            w, free = self.width, self._free
            before = np.arange(-w, w + 1) - move
            found = np.where(np.abs(before) <= w, before + w, free)
            found = self._index[move] = np.append(found, free)
        return found

    def _add(self, source, supply, uses: int, first: int, prefix, suffix) -> None:
        """Add ``uses`` uses of an item, ``first`` of them in the prefix, to the table."""
        cost, ticks, core = supply
        before = source.take(np.maximum(0, self._ks - uses * core), axis=0)
        before = before.take(np.maximum(0, self._rs - uses * ticks), axis=1)
        rest = uses - first
        moved = None
        for a in range(first * prefix[0], first * prefix[1] + 1):
            shifted = before.take(self._shift(a), axis=2)
            moved = shifted if moved is None else np.minimum(moved, shifted)
        best = None
        for b in range(rest * suffix[0], rest * suffix[1] + 1):
            shifted = moved.take(self._shift(b), axis=3)
            best = shifted if best is None else np.minimum(best, shifted)
        np.minimum(self._table, uses * cost + best, out=self._table)

    def __call__(self, k: int, r: int, a: int, b_lo: int, b_hi: int) -> float:
        """The least cost with prefix move ``a`` and a suffix move in ``b_lo..b_hi``."""
        w = self.width
        if abs(a) > w or b_lo > b_hi:
            return math.inf if b_lo > b_hi else self._rows[k][r][-1][-1]
        row = self._rows[k][r][a + w]
        lo, hi = max(b_lo, -w), min(b_hi, w)
        if lo > hi:
            return row[-1]
        found = min(row[lo + w : hi + w + 1])
        if b_lo < -w or b_hi > w:
            found = min(found, row[-1])
        return found


def split_table(
    problem: Any,
    facts: tuple,
    usable: Sequence[bool],
    prefix_spans: Sequence[tuple[int, int]],
    suffix_spans: Sequence[tuple[int, int]],
    width: int,
) -> SplitCostToGo:
    """The split table of a ``PhaseProblem`` whose start has ``facts`` (memoised): step
    ``i`` moves within ``prefix_spans[i]`` before the zone and ``suffix_spans[i]`` after."""
    steps = problem.domain.steps
    span = max(0, problem.ceiling_ticks - 1 - problem.start_ticks)
    items = []
    for step, limiters in zip(steps, problem.domain.limiters, strict=True):
        if not usable[step.index]:
            continue
        bound = use_bound(limiters, facts)
        cap = span // step.ticks
        if cap == 0 or bound == 0:
            continue
        items.append(
            (
                problem.step_cost(step.index),
                step.ticks,
                step.core,
                prefix_spans[step.index],
                suffix_spans[step.index],
                int(min(bound, cap)),
                bound <= SHARED_BOUND,
            )
        )
    r = max(0, problem.floor_ticks - problem.start_ticks)
    key = (tuple(sorted(items)), len(problem.required), r, width)
    return memoised(_TABLES, key, SplitCostToGo, _MAX_TABLES)
