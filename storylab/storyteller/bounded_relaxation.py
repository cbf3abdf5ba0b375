"""The exact-search relaxation with use bounds and enabler pairs.

It refines the cost-to-go relaxation of :mod:`storylab.storyteller.heuristic` (needs: ``k``
core events, ``r`` ticks, ``d`` grid steps toward the goal) with two facts about the steps:

- **Use bounds** (:mod:`storylab.storyteller.use_bounds`): from the phase's start, step ``i``
  can be applied at most ``b_i`` more times in any plan (bounds only fall along a plan).
- **Enabler pairs**: a step whose test its own write leaves failing (``rescue`` needs
  ``hero.pursued`` and clears it; ``pursuit`` needs it unset and sets it) can be used once
  on its own; every further use needs a use of an *enabler*, a step leaving a value that
  passes, in between.
  Matching each such use to the enabler use before it, a plan's steps split into pairs
  (enabler, step) and single steps, so the relaxation prices the step alone at most once and
  otherwise as a compound item with an enabler's cost and supplies added.

Every plan is a multiset of these items meeting the needs, so the least-cost multiset, by
dynamic programming with multiplicities (:class:`BoundedCostToGo`), is admissible. Moves are
signed and the table tracks the *net* move exactly, so both ends of the goal range bind (a
cheap step moving the wrong way must be paid back). Pairs are kept only where each enabler
serves one self-disabling step: the uses then form disjoint chains (enabler, step, enabler,
...), which split into pairs and at most one single first use per step; an enabler serving
two steps could be counted in two pairs. The table reads the start's bounds only, so it need
not be consistent: exact A* reopens states reached again more cheaply (and applies pathmax).
:func:`excursion_tables` adds the bounds at the spectrum's ends that the corridor-free bound
needs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from storylab.storyteller.heuristic import memoised
from storylab.storyteller.use_bounds import use_bound
from storylab.storyteller.zone_relaxation import split_table

__all__ = [
    "BoundedCostToGo",
    "TwoWayCostToGo",
    "bounded_table",
    "clear_bounded_tables",
    "enablers",
    "excursion_estimate",
    "excursion_tables",
]

#: (cost, ticks, least move, most move, core events) of one item.
Supply = tuple[float, int, int, int, int]

_TABLES: dict[tuple, BoundedCostToGo] = {}
_TWO_WAY: dict[tuple, TwoWayCostToGo] = {}
#: Tables kept at most.
_MAX_TABLES = 256


def clear_bounded_tables() -> None:
    """Forget every memoised table."""
    _TABLES.clear()
    _TWO_WAY.clear()


def enablers(links: Sequence[Sequence[tuple]]) -> tuple[tuple[int, ...] | None, ...]:
    """Per step, the steps that can enable it again (``None``: it never disables itself).

    ``links`` are the compiled links ``[(pres, effects), ...]`` of each step, with
    ``(slot, Condition)`` and ``(slot, Effect)`` pairs.
    """
    writers: dict[int, list[tuple[int, object]]] = {}
    for index, step in enumerate(links):
        for _, effects in step:
            for slot, effect in effects:
                writers.setdefault(slot, []).append((index, effect))
    out: list[tuple[int, ...] | None] = []
    for index, step in enumerate(links):
        found = None
        for pres, _ in step:
            for slot, cond in pres:
                writes = writers.get(slot, [])
                own = [e for w, e in writes if w == index]
                if (
                    not own
                    or any(e.cardinality != "exclusive" for _, e in writes)
                    or any(cond.test(e.value) for e in own)
                ):
                    continue
                last = {w: e for w, e in writes}  # each step's final write to the key
                others = tuple(
                    sorted(w for w, e in last.items() if w != index and cond.test(e.value))
                )
                if found is None or len(others) < len(found):
                    found = others
        out.append(found)
    return tuple(out)


class BoundedCostToGo:
    """Least cost of items with ``k`` core events, ``r`` ticks and a net move in a window;
    item ``i`` used at most ``b_i`` times.

    Each use of an item moves the primary by some whole number of grid steps between its
    ``least`` and ``most`` (clamping at the spectrum's ends makes a step's move depend on
    where it starts), so a multiset of items can end anywhere between the sums of those.
    The table holds, per needs ``(k, r)`` and net move ``x`` in ``-width..width``, the least
    cost of a multiset reaching exactly ``x``; :meth:`__call__` takes the least over a window.
    Items are added one kind after another, so a sum may leave ``-width..width`` on the
    way: it is then priced as if the movement were free (the table's last column), which
    only lowers the price, so the table stays a lower bound.

    Parameters
    ----------
    items : sequence of ((cost, ticks, least, most, core), bound)
        ``bound`` ``None`` means unbounded.
    k_max, r_max : int
        The largest needs asked for.
    width : int
        Net moves tracked exactly.
    """

    def __init__(
        self, items: Sequence[tuple[Supply, int | None]], k_max: int, r_max: int, width: int
    ):
        ks, rs, n = np.arange(k_max + 1), np.arange(r_max + 1), 2 * width + 1
        table = np.full((k_max + 1, r_max + 1, n + 1), np.inf)
        table[0, 0, width] = 0.0
        table[0, 0, -1] = 0.0  # the free column: any net move

        def add(supply: Supply, times: int) -> None:
            """Add ``times`` uses of ``supply`` at once (every net move they may make)."""
            cost, ticks, least, most, core = supply
            if ticks < 1:
                raise ValueError("every item must advance the position by at least one tick")
            before = table.take(np.maximum(0, ks - times * core), axis=0)
            before = before.take(np.maximum(0, rs - times * ticks), axis=1)
            free = before[..., -1:]
            best = np.full_like(before, np.inf)
            for move in range(times * least, times * most + 1):
                shifted = np.empty_like(before)  # need x is left x - move before the uses
                shifted[..., -1:] = free
                if move >= 0:
                    cut = min(move, n)
                    shifted[..., cut:n] = before[..., : n - cut]
                    shifted[..., :cut] = free
                else:
                    cut = min(-move, n)
                    shifted[..., : n - cut] = before[..., cut:n]
                    shifted[..., n - cut : n] = free
                np.minimum(best, shifted, out=best)
            np.minimum(table, times * cost + best, out=table)

        free_items = [s for s, b in items if b is None]
        while free_items:
            settled = table.copy()
            for supply in free_items:
                add(supply, 1)
            if np.array_equal(settled, table):
                break
        for supply, bound in items:
            copies, left = 1, bound or 0
            while left:  # binary splitting: 1, 2, 4, ... uses at once
                take = min(copies, left)
                add(supply, take)
                left -= take
                copies *= 2
        # tuples of floats: the garbage collector stops tracking them (nested lists of a
        # few hundred tables would be walked on every full collection)
        self._table = tuple(tuple(map(tuple, plane)) for plane in table.tolist())
        self.width = width

    def __call__(self, k: int, r: int, lo: int, hi: int) -> float:
        """The least cost of ``k`` core events, ``r`` ticks and a net move in ``lo..hi``."""
        row, w = self._table[k][r], self.width
        if lo > hi:
            return math.inf
        if lo < -w or hi > w:
            return row[-1]
        return min(row[lo + w : hi + w + 1])


def bounded_table(
    problem: Any,
    facts: tuple,
    usable: Sequence[bool],
    spans: Sequence[tuple[int, int]],
    width: int,
) -> BoundedCostToGo:
    """The table of a ``PhaseProblem`` whose start has ``facts``, with ``spans[i]`` the least
    and the most step ``i`` moves the primary; memoised across problems.

    Steps not ``usable`` are left out; the others get their use bounds from ``facts`` (at
    most as many uses as the ticks below the phase's ceiling allow) and, if they disable
    themselves, enabler pairs.
    """
    steps, span = problem.domain.steps, max(0, problem.ceiling_ticks - 1 - problem.start_ticks)
    costs = [problem.step_cost(step.index) for step in steps]
    bounds = []
    for step, limiters in zip(steps, problem.domain.limiters, strict=True):
        b = use_bound(limiters, facts) if usable[step.index] else 0
        # no plan uses a step more often than the ticks below the ceiling allow: a finite
        # bound for every step (added by binary splitting, far fewer passes than iterating
        # unbounded items to a fixed point)
        bounds.append(int(min(b, span // step.ticks)))
    # an enabler serving two self-disabling steps could be counted in two pairs: such steps
    # keep their plain bounds (with each enabler serving one step, a plan's uses split into
    # pairs and single first uses, see the module docstring)
    serves: dict[int, int] = {}
    for step, needs in zip(steps, problem.domain.enablers, strict=True):
        if needs is not None and bounds[step.index] != 0:
            for j in needs:
                serves[j] = serves.get(j, 0) + 1
    items = []
    for step, needs in zip(steps, problem.domain.enablers, strict=True):
        b = bounds[step.index]
        supply = (costs[step.index], step.ticks, *spans[step.index], step.core)
        if b == 0:
            continue
        if needs is None or any(serves[j] > 1 for j in needs):
            items.append((supply, b))
            continue
        items.append((supply, 1))
        for j in needs:
            if bounds[j] != 0:
                e = steps[j]
                pair = (
                    costs[j] + supply[0],
                    e.ticks + step.ticks,
                    spans[j][0] + supply[2],
                    spans[j][1] + supply[3],
                    e.core + step.core,
                )
                items.append((pair, b))
    merged: dict[Supply, int | None] = {}  # items alike add their bounds
    for supply, b in items:
        before = merged.get(supply, 0)
        merged[supply] = None if b is None or before is None else before + b
    r = max(0, problem.floor_ticks - problem.start_ticks)
    key = (tuple(sorted(merged.items())), len(problem.required), r, width)
    return memoised(_TABLES, key, BoundedCostToGo, _MAX_TABLES)


class TwoWayCostToGo:
    """Least cost of steps with ``k`` core events, ``r`` ticks, ``u`` grid steps of upward
    and ``d`` of downward link moves (each step supplies the sums of its links' rises and
    falls, which clamping only shortens); rows over ``r`` are built on demand."""

    def __init__(self, supplies: Sequence[tuple[float, int, int, int, int]], k_max: int, m: int):
        best: dict[tuple[int, int, int, int], float] = {}
        for cost, ticks, up, down, core in supplies:
            key = (ticks, min(up, m), min(down, m), min(core, k_max))
            best[key] = min(cost, best.get(key, math.inf))
        ks, ms = np.arange(k_max + 1), np.arange(m + 1)
        self._groups = [
            (
                cost,
                ticks,
                np.maximum(0, ks - core),
                np.maximum(0, ms - up),
                np.maximum(0, ms - down),
            )
            for (ticks, up, down, core), cost in sorted(best.items())
        ]
        self.k_max, self.m = k_max, m
        row = np.full((k_max + 1, m + 1, m + 1), np.inf)
        row[0, 0, 0] = 0.0
        while True:
            new = row.copy()
            for cost, _, k_index, u_index, d_index in self._groups:
                np.minimum(new, cost + self._shift(row, k_index, u_index, d_index), out=new)
            if np.array_equal(new, row):
                break
            row = new
        self._rows = [row]

    @staticmethod
    def _shift(row: np.ndarray, k_index, u_index, d_index) -> np.ndarray:
        return row.take(k_index, axis=0).take(u_index, axis=1).take(d_index, axis=2)

    def __call__(self, k: int, r: int, u: int, d: int) -> float:
        """The least cost of ``k`` core events, ``r`` ticks, ``u`` up and ``d`` down."""
        while len(self._rows) <= r:
            n, row = len(self._rows), None
            for cost, ticks, k_index, u_index, d_index in self._groups:
                moved = cost + self._shift(self._rows[max(0, n - ticks)], k_index, u_index, d_index)
                row = moved if row is None else np.minimum(row, moved)
            self._rows.append(row)
        return float(self._rows[r][min(k, self.k_max), min(u, self.m), min(d, self.m)])


def excursion_tables(
    problem: Any,
    facts: tuple,
    usable: Sequence[bool],
    lo: int,
    hi: int,
    full: BoundedCostToGo,
    *,
    two_way: bool = True,
    split: bool = True,
) -> tuple | None:
    """Tables that price the spectrum's ends, where the starts ``lo..hi`` reach them
    (``None``: they do not).

    Clamping at -1 or +1 makes a step's move depend on where it starts, so a step moving
    down may move less near the bottom and the net-move table ``full`` (every step's move
    bounded over ``lo..hi``) loses what it counts against a rise. A plan either never starts
    a step in the bottom zone (``lo`` up to ``-grid_max + reach - 1``, where ``reach`` is the
    deepest any usable step's links go down) and then every step moves at most its most from
    above the zone, or it visits the zone. Then the steps before its first state in the zone
    start above it (they move as from there) and make a net move into the zone, and the
    steps after it move from the zone's state (at least ``lo``) to the goal range: the two
    parts' least costs are added, split over the ticks and the events still needed. With
    ``two_way``, the visit is also priced by its links' falls into the zone and rises back
    to the goal range (:class:`TwoWayCostToGo`, with the ticks), the larger bound kept. The
    estimate is the lesser of the two cases, and likewise at the top
    (:func:`excursion_estimate`). Returns ``(two-way table or None, zones)``, or ``None``
    where no zone can raise the estimate.
    """
    g = problem.config.grid_max
    steps = problem.domain.steps
    live = [s for s in steps if usable[s.index]]
    reach_down = reach_up = 0
    for step in live:
        total = 0
        for delta in step.link_deltas:
            total += delta
            reach_down, reach_up = max(reach_down, -total), max(reach_up, total)
    bottom, top = -g + reach_down - 1, g - reach_up + 1
    if lo > bottom and hi < top:
        return None
    absolute = None
    if two_way:
        key = (
            tuple(
                sorted(
                    (problem.step_cost(s.index), s.ticks, s.gain_up, s.gain_down, s.core)
                    for s in live
                )
            ),
            len(problem.domain.core),
            2 * g,
        )
        absolute = memoised(_TWO_WAY, key, TwoWayCostToGo, _MAX_TABLES)
    spans = problem.move_spans(lo, hi)
    # the start's needs: a split table is built only where the clamp holds the start's
    # estimate down (its window prices the start above the net-move table)
    p0, ticks0 = problem.initial[1:3]
    k0, r0 = len(problem.required), max(0, problem.floor_ticks - ticks0)
    start = full(k0, r0, problem.goal_lo - p0, problem.goal_hi - p0)
    zones = []
    # a zone: (window table, split table or None, side, its primaries); no tables where
    # every start is in the zone
    for side, zone, inner_range, reach in (
        (-1, (lo, bottom), (bottom + 1, hi), reach_down),
        (1, (top, hi), (lo, top - 1), reach_up),
    ):
        if zone[0] > zone[1]:
            continue
        window = both = None
        if inner_range[0] <= inner_range[1]:
            inner = problem.move_spans(*inner_range)
            window_spans = [
                (f[0], i[1]) if side < 0 else (i[0], f[1])
                for f, i in zip(spans, inner, strict=True)
            ]
            window = bounded_table(problem, facts, usable, window_spans, full.width)
            outside = p0 > zone[1] if side < 0 else p0 < zone[0]
            clamped = window(k0, r0, problem.goal_lo - p0, problem.goal_hi - p0) > start
            if split and outside and clamped:
                both = split_table(problem, facts, usable, inner, spans, hi - lo + reach)
        if absolute is not None or both is not None:  # else the zone's bound is 0
            zones.append((window, both, side, zone))
    return (absolute, tuple(zones)) if zones else None


def excursion_estimate(tables: tuple, k: int, r: int, p: int, goal_lo: int, goal_hi: int) -> float:
    """The estimate of :func:`excursion_tables` from primary ``p`` with needs ``k``, ``r``."""
    absolute, zones = tables
    h = 0.0
    for window, split, side, (zone_lo, zone_hi) in zones:
        edge = zone_hi if side < 0 else zone_lo
        visit = 0.0
        if absolute is not None:
            if side < 0:  # down to the edge (if above it), then up to the goal range
                visit = absolute(k, r, max(0, goal_lo - edge), max(0, p - edge))
            else:
                visit = absolute(k, r, max(0, edge - p), max(0, edge - goal_hi))
        if split is not None and (p - edge) * side < 0:  # outside the zone: reach it first
            least = min(
                split(k, r, q - p, goal_lo - q, goal_hi - q) for q in range(zone_lo, zone_hi + 1)
            )
            visit = max(visit, least)
        bound = visit
        if window is not None:
            bound = min(bound, window(k, r, goal_lo - p, goal_hi - p))
        h = max(h, bound)
    return h
