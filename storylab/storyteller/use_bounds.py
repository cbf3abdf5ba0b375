"""Use bounds: how many more times each step can still be applied, read from the facts.

Many steps are limited by their own preconditions: a one-shot step tests ``flag != True``
and sets the flag, which nothing resets; a repeatable one tests a counter (``hunts < 4``,
``hunts != 4``) that only rises. From a state's facts such a step has at most ``b`` more
uses in any continuation, and a step whose precondition reads a fact nothing writes and
fails now has none. :class:`BoundedCostToGo` prices the cost-to-go relaxation of
:mod:`storylab.storyteller.heuristic` with these multiplicities: a real plan is still a
multiset meeting the needs, and uses no step more often than its bound, so the price is
admissible. Bounds only fall along a plan, and applying a step lowers its own bound by at
least one (or it is unbounded), so the price is also consistent.

A limiter is one of

- ``("static", slot, condition)``: the fact is never written; 0 uses if the condition fails;
- ``("once", slot, condition)``: ``key != True``, the step sets the key to True and every
  effect on the key sets True; 0 uses if the condition fails now, else 1;
- ``("below", slot, limit, rise)``: ``key < limit`` (``<=`` counts as ``< limit + 1``), every
  effect on the key adds a positive number and the step adds ``rise`` in total;
- ``("not_equal", slot, limit)``: ``key != limit`` (an int), the step is the only one writing
  the key, adds exactly 1, and tests the key no later than it adds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["BoundedCostToGo", "Limiter", "step_limiters", "use_bound"]

Limiter = tuple
#: (cost, ticks, gain toward the target, core events) of one step (as in ``heuristic``).
Supply = tuple[float, int, int, int]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def step_limiters(links: Sequence[Sequence[tuple]]) -> tuple[tuple[Limiter, ...], ...]:
    """The limiters of each step, from its compiled links ``[(pres, effects), ...]``.

    ``pres`` and ``effects`` are ``(slot, Condition)`` and ``(slot, Effect)`` pairs, as in
    :class:`~storylab.storyteller.search_space.SearchDomain`.
    """
    writers: dict[int, list[tuple[int, object]]] = {}
    for index, step in enumerate(links):
        for _, effects in step:
            for slot, effect in effects:
                writers.setdefault(slot, []).append((index, effect))
    out = []
    for index, step in enumerate(links):
        found = []
        for position, (pres, _) in enumerate(step):
            for slot, cond in pres:
                limiter = _limiter(index, step, position, slot, cond, writers.get(slot, []))
                if limiter is not None:
                    found.append(limiter)
        out.append(tuple(found))
    return tuple(out)


def _limiter(index, step, position, slot, cond, writes) -> Limiter | None:
    if not writes:
        return ("static", slot, cond)
    own = [
        (where, effect)
        for where, (_, effects) in enumerate(step)
        for s, effect in effects
        if s == slot
    ]
    if (
        cond.op == "!="
        and cond.value is True
        and any(e.cardinality == "exclusive" and e.value is True for _, e in own)
        and all(e.cardinality == "exclusive" and e.value is True for _, e in writes)
    ):
        return ("once", slot, cond)
    rising = all(
        e.cardinality == "additive" and _is_number(e.value) and e.value > 0 for _, e in writes
    )
    if not (rising and own and _is_number(cond.value)):
        return None
    if cond.op in ("<", "<="):
        limit = cond.value + (1 if cond.op == "<=" else 0)
        return ("below", slot, limit, sum(e.value for _, e in own))
    if (
        cond.op == "!="
        and isinstance(cond.value, int)
        and all(w == index for w, _ in writes)
        and len(own) == 1
        and own[0][1].value == 1
        and position <= own[0][0]
    ):
        return ("not_equal", slot, cond.value)
    return None


def use_bound(limiters: Sequence[Limiter], facts: tuple) -> float:
    """The most uses left to a step with these limiters from ``facts`` (``inf``: no bound)."""
    bound = math.inf
    for limiter in limiters:
        kind, slot = limiter[0], limiter[1]
        value = facts[slot]
        if kind == "static":
            if not limiter[2].test(value):
                return 0
        elif kind == "once":
            bound = min(bound, 1 if limiter[2].test(value) else 0)
        elif value is None or _is_number(value):
            current = 0 if value is None else value
            if kind == "below":
                bound = min(bound, max(0, math.ceil((limiter[2] - current) / limiter[3])))
            elif (value is None and limiter[2] >= 1) or (
                value is not None and current <= limiter[2]
            ):
                bound = min(bound, limiter[2] - current)
    return bound


class BoundedCostToGo:
    """Least relaxed cost for needs ``(k, r, d)`` when step ``i`` may be used ``b_i`` times.

    Parameters
    ----------
    supplies : sequence of (cost, ticks, gain, core)
        One per step.
    k_max, r_max, d_max : int
        The largest needs asked for.
    """

    def __init__(self, supplies: Sequence[Supply], k_max: int, r_max: int, d_max: int):
        for _, ticks, _, _ in supplies:
            if ticks < 1:
                raise ValueError("every step must advance the position by at least one tick")
        self._supplies = tuple(supplies)
        self._needs = (np.arange(k_max + 1), np.arange(r_max + 1), np.arange(d_max + 1))
        self._index: dict[tuple[int, int], tuple] = {}
        self._shape = (k_max + 1, r_max + 1, d_max + 1)
        self._free: dict[tuple[int, ...], np.ndarray] = {}
        self._tables: dict[tuple, np.ndarray] = {}

    def _shift(self, item: int, times: int) -> tuple:
        """The index taking a table to the needs left after ``times`` uses of ``item``."""
        found = self._index.get((item, times))
        if found is None:
            _, ticks, gain, core = self._supplies[item]
            ks, rs, ds = self._needs
            found = self._index[item, times] = np.ix_(
                np.maximum(0, ks - times * core),
                np.maximum(0, rs - times * ticks),
                np.maximum(0, ds - times * gain),
            )
        return found

    def table(self, bounds: tuple) -> np.ndarray:
        """The table ``[k, r, d]`` for these bounds (``None``: unbounded)."""
        found = self._tables.get(bounds)
        if found is None:
            free = tuple(i for i, b in enumerate(bounds) if b is None)
            base = self._free.get(free)
            if base is None:
                base = self._free[free] = self._unbounded(free)
            found = base.copy()
            for i, b in enumerate(bounds):
                copies = 1
                while b:  # binary splitting: 1, 2, 4, ... uses at once
                    take = min(copies, b)
                    cost = take * self._supplies[i][0]
                    np.minimum(found, cost + found[self._shift(i, take)], out=found)
                    b -= take
                    copies *= 2
            self._tables[bounds] = found
        return found

    def _unbounded(self, free: tuple[int, ...]) -> np.ndarray:
        table = np.full(self._shape, np.inf)
        table[0, 0, 0] = 0.0
        while True:
            before = table.copy()
            for i in free:
                np.minimum(table, self._supplies[i][0] + table[self._shift(i, 1)], out=table)
            if np.array_equal(before, table):
                return table

    def binding(self, bounds: Sequence[int | None], most: int) -> tuple[int, ...]:
        """Up to ``most`` items whose bound, alone, raises the table the most.

        ``bounds`` gives each item's bound (``0``: never usable, ``None``: unbounded); the
        others are compared one at a time against the table where only the zeros hold.
        """
        base = tuple(0 if b == 0 else None for b in bounds)
        plain = self.table(base)
        finite = np.isfinite(plain)
        gains = []
        for i, b in enumerate(bounds):
            if b:
                alone = self.table((*base[:i], b, *base[i + 1 :]))
                rise = float(np.where(finite, alone - plain, 0.0).sum())
                if rise > 0:
                    gains.append((-rise, i))
        return tuple(sorted(i for _, i in sorted(gains)[:most]))
