"""The exact-search relaxation with use bounds and enabler pairs.

It refines the cost-to-go relaxation of :mod:`storylab.storyteller.heuristic` (needs: ``k``
core events, ``r`` ticks, ``d`` grid steps toward the goal) with two facts about the steps:

- **Use bounds** (:mod:`storylab.storyteller.use_bounds`): from the phase's start, step ``i``
  can be applied at most ``b_i`` more times in any plan (bounds only fall along a plan).
- **Enabler pairs**: a step that tests ``key == v`` and itself leaves ``key`` failing that
  test (``rescue`` needs ``hero.pursued`` and clears it) can be used once on its own; every
  further use needs a use of an *enabler*, a step leaving a value that passes, in between.
  Matching each such use to the enabler use before it, a plan's steps split into pairs
  (enabler, step) and single steps, so the relaxation prices the step alone at most once and
  otherwise as a compound item with an enabler's cost and supplies added.

Every plan is a multiset of these items meeting the needs, so the least-cost multiset, by
dynamic programming with multiplicities (:class:`BoundedCostToGo`), is admissible. It reads
the start's bounds only, so it need not be consistent: exact A* reopens states reached
again more cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from storylab.storyteller.use_bounds import use_bound

__all__ = ["BoundedCostToGo", "bounded_table", "clear_bounded_tables", "enablers"]

#: (cost, ticks, gain toward the target, core events) of one item.
Supply = tuple[float, int, int, int]

_TABLES: dict[tuple, BoundedCostToGo] = {}
#: Tables kept at most.
_MAX_TABLES = 256


def clear_bounded_tables() -> None:
    """Forget every memoised table."""
    _TABLES.clear()


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
                    cond.op != "=="
                    or not own
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
    """Least cost of items meeting needs ``(k, r, d)``, item ``i`` used at most ``b_i`` times.

    Parameters
    ----------
    items : sequence of ((cost, ticks, gain, core), bound)
        ``bound`` ``None`` means unbounded.
    k_max, r_max, d_max : int
        The largest needs asked for.
    """

    def __init__(
        self, items: Sequence[tuple[Supply, int | None]], k_max: int, r_max: int, d_max: int
    ):
        ks, rs, ds = np.arange(k_max + 1), np.arange(r_max + 1), np.arange(d_max + 1)
        table = np.full((k_max + 1, r_max + 1, d_max + 1), np.inf)
        table[0, 0, 0] = 0.0

        def shift(supply: Supply, times: int) -> tuple:
            _, ticks, gain, core = supply
            if ticks < 1:
                raise ValueError("every item must advance the position by at least one tick")
            return np.ix_(
                np.maximum(0, ks - times * core),
                np.maximum(0, rs - times * ticks),
                np.maximum(0, ds - times * gain),
            )

        free = [(s[0], shift(s, 1)) for s, b in items if b is None]
        while free:
            before = table.copy()
            for cost, index in free:
                np.minimum(table, cost + table[index], out=table)
            if np.array_equal(before, table):
                break
        for supply, bound in items:
            copies, left = 1, bound or 0
            while left:  # binary splitting: 1, 2, 4, ... uses at once
                take = min(copies, left)
                np.minimum(table, take * supply[0] + table[shift(supply, take)], out=table)
                left -= take
                copies *= 2
        self._table = table.tolist()
        self.d_max = d_max

    def __call__(self, k: int, r: int, d: int) -> float:
        """The least cost of ``k`` core events, ``r`` ticks and ``d`` grid steps (a need
        past the table's largest ``d`` is priced as the largest: still a lower bound)."""
        return self._table[k][r][min(d, self.d_max)]


def bounded_table(problem: Any, facts: tuple, usable: Sequence[bool], *, down: bool):
    """The table toward the goal range (from below, or from above if ``down``) of a
    ``PhaseProblem`` whose start has ``facts``; memoised across problems.

    Steps not ``usable`` are left out; the others get their use bounds from ``facts`` (a
    bound that the phase's ticks make moot counts as none) and, if they disable themselves,
    enabler pairs.
    """
    steps, span = problem.domain.steps, max(0, problem.ceiling_ticks - 1 - problem.start_ticks)
    bounds = []
    for step, limiters in zip(steps, problem.domain.limiters, strict=True):
        b = use_bound(limiters, facts) if usable[step.index] else 0
        bounds.append(None if b > span // step.ticks else int(b))
    items = []
    for step, needs in zip(steps, problem.domain.enablers, strict=True):
        b = bounds[step.index]
        supply = (step.cost, step.ticks, step.gain_down if down else step.gain_up, step.core)
        if b == 0:
            continue
        if needs is None:
            items.append((supply, b))
            continue
        items.append((supply, 1))
        for j in needs:
            if bounds[j] != 0:
                e = steps[j]
                gain = e.gain_down if down else e.gain_up
                pair = (
                    e.cost + step.cost,
                    e.ticks + step.ticks,
                    gain + supply[2],
                    e.core + step.core,
                )
                items.append((pair, b))
    r = max(0, problem.floor_ticks - problem.start_ticks)
    if down:
        d = max(0, problem.corridor_hi - problem.goal_hi)
    else:
        d = max(0, problem.goal_lo - problem.corridor_lo)
    key = (tuple(items), len(problem.required), r, d)
    table = _TABLES.get(key)
    if table is None:
        if len(_TABLES) >= _MAX_TABLES:
            _TABLES.clear()
        table = _TABLES[key] = BoundedCostToGo(*key)
    return table
