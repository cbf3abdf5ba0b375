"""A domain-independent admissible heuristic over facts: h-max on fact values (Bonet & Geffner).

The phase problem's cost-to-go tables (:mod:`storylab.storyteller.heuristic`) forget facts, so
on a goal about facts (``antagonist.defeated == true``) or on a required event whose
preconditions need setting up they price only the spectrum and the ticks. This relaxation
prices the facts: an *atom* is one value of one fact slot, and

- the atoms of the state cost 0;
- a step is reachable at the largest cost among its preconditions, each priced at its
  cheapest reachable value that passes it (h-max: the cost of a set is its dearest member);
- a step writes each slot it touches by a function of that slot's value alone (an effect
  reads only its own key), so from every reachable value ``v`` of the slot it reaches
  ``f(v)`` at ``cost(step) + max(reachable at, cost(v))``;
- a goal condition costs its cheapest passing value, a required core event its cheapest step,
  and the estimate is the largest of them (``inf``: unreachable even relaxed).

Each value's cost is at most the cost of any real plan prefix that produces it (by induction
over the plan), so the estimate is admissible (Bonet & Geffner, "Planning as heuristic
search", Artificial Intelligence 129, 2001; h-max with the finite-domain values of
Helmert's SAS+ view). Within a chain, preconditions on slots an earlier link writes are
dropped (a further relaxation). Values are kept finite: a counter that only rises by
positive numbers is cut above the largest number any condition compares it to (every value
above it passes the same conditions), and a slot whose values may grow without end (a
falling counter, a set that collects strings) or past :data:`MAX_VALUES` is *free*: every
condition on it counts as met at no cost.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Sequence

from storylab.theory import Condition, Effect

__all__ = ["MAX_VALUES", "FactRelaxation"]

#: Values per fact slot the relaxation tracks at most; a slot that may take more is free.
MAX_VALUES = 256


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric(value: object) -> float | None:
    """A condition constant as a number (``True`` counts as 1), else ``None``."""
    if isinstance(value, bool):
        return float(value)
    return float(value) if _number(value) else None


class FactRelaxation:
    """h-max over fact values for one phase problem (see the module docstring).

    Parameters
    ----------
    links : sequence of sequences of (pres, effects)
        Each step's compiled links: ``(slot, Condition)`` and ``(slot, Effect)`` pairs.
    costs : sequence of float
        Each step's cost (a lower bound on what using it costs).
    usable : sequence of bool
        Steps the phase may use.
    n_slots : int
        Fact slots in a state's facts tuple.
    goal : sequence of (slot, Condition)
        The goal's fact conditions.
    events : sequence of (bit, step indices)
        Per required core event, its bit in the ``done`` mask and the steps performing it.
    """

    def __init__(
        self,
        links: Sequence[Sequence[tuple]],
        costs: Sequence[float],
        usable: Sequence[bool],
        n_slots: int,
        goal: Sequence[tuple[int, Condition]],
        events: Sequence[tuple[int, Sequence[int]]],
    ):
        writes: dict[int, list[Effect]] = {}
        tests: dict[int, list[Condition]] = {}
        for step in links:
            for pres, effects in step:
                for slot, cond in pres:
                    tests.setdefault(slot, []).append(cond)
                for slot, effect in effects:
                    writes.setdefault(slot, []).append(effect)
        for slot, cond in goal:
            tests.setdefault(slot, []).append(cond)
        self._limit: dict[int, float] = {}
        self.free = [False] * n_slots
        for slot, effects in writes.items():
            adds = [e for e in effects if e.cardinality == "additive"]
            if any(not (_number(e.value) and e.value > 0) for e in adds):
                self.free[slot] = True
            elif adds:
                numbers = [_numeric(c.value) for c in tests.get(slot, [])]
                limit = max((n for n in numbers if n is not None), default=0.0)
                smallest = min(e.value for e in adds)
                exclusive = sum(e.cardinality == "exclusive" for e in effects)
                if (exclusive + 2) * (limit / smallest + 2) > MAX_VALUES:
                    self.free[slot] = True
                else:
                    self._limit[slot] = limit
        self._costs = tuple(costs)
        self._steps: list[tuple[int, tuple, dict]] = []  # (index, conditions, writes per slot)
        self._readers: dict[int, list[tuple[int, int]]] = {}  # slot -> (step, condition no.)
        self._writers: dict[int, list[int]] = {}
        for index, step in enumerate(links):
            if not usable[index]:
                continue
            written: set[int] = set()
            conds, per_slot = [], {}
            for pres, effects in step:
                for slot, cond in pres:
                    if slot not in written and not self.free[slot]:
                        conds.append((slot, cond))
                for slot, effect in effects:
                    written.add(slot)
                    if not self.free[slot]:
                        per_slot.setdefault(slot, []).append(effect)
            local = len(self._steps)
            self._steps.append((index, tuple(conds), per_slot))
            for j, (slot, _) in enumerate(conds):
                self._readers.setdefault(slot, []).append((local, j))
            for slot in per_slot:
                self._writers.setdefault(slot, []).append(local)
        self._goal = tuple((s, c) for s, c in goal if not self.free[s])
        self._goal_by_slot: dict[int, list[int]] = {}
        for j, (slot, _) in enumerate(self._goal):
            self._goal_by_slot.setdefault(slot, []).append(j)
        local_of = {index: k for k, (index, _, _) in enumerate(self._steps)}
        self._events = tuple(
            (bit, tuple(local_of[i] for i in steps if i in local_of)) for bit, steps in events
        )

    def _norm(self, slot: int, value: object) -> object:
        limit = self._limit.get(slot)
        if limit is not None and _number(value) and value > limit:
            return limit + 1
        return value

    def _after(self, slot: int, effects: list[Effect], value: object) -> object:
        for effect in effects:
            value = self._norm(slot, effect.apply({} if value is None else {effect.key: value}))
        return value

    def __call__(self, facts: tuple, done: int) -> float:
        """The h-max estimate from ``facts`` with the required events in ``done`` performed."""
        pending = [(bit, steps) for bit, steps in self._events if not done & bit]
        if not self._goal and not pending:
            return 0.0
        steps, costs = self._steps, self._costs
        reached: list[dict[object, float]] = [{} for _ in facts]
        need = [len(conds) for _, conds, _ in steps]
        met = [[False] * len(conds) for _, conds, _ in steps]
        ready: list[float | None] = [None] * len(steps)
        goal_cost = [math.inf] * len(self._goal)
        counter = itertools.count()
        heap = [
            (0.0, next(counter), slot, self._norm(slot, value))
            for slot, value in enumerate(facts)
            if not self.free[slot]
        ]
        push, pop = heapq.heappush, heapq.heappop

        def fire(k: int, at: float) -> None:
            ready[k] = at
            index, _, per_slot = steps[k]
            for slot, effects in per_slot.items():
                for value, cost in reached[slot].items():
                    after = self._after(slot, effects, value)
                    push(heap, (costs[index] + max(at, cost), next(counter), slot, after))

        for k, n in enumerate(need):
            if n == 0:
                fire(k, 0.0)
        while heap:
            cost, _, slot, value = pop(heap)
            if value in reached[slot]:
                continue
            reached[slot][value] = cost
            for j in self._goal_by_slot.get(slot, ()):
                if goal_cost[j] == math.inf and self._goal[j][1].test(value):
                    goal_cost[j] = cost
            for k, j in self._readers.get(slot, ()):
                if not met[k][j] and steps[k][1][j][1].test(value):
                    met[k][j] = True
                    need[k] -= 1
                    if need[k] == 0:
                        fire(k, cost)
            for k in self._writers.get(slot, ()):
                at = ready[k]
                if at is not None:
                    index, _, per_slot = steps[k]
                    after = self._after(slot, per_slot[slot], value)
                    push(heap, (costs[index] + max(at, cost), next(counter), slot, after))
        h = max(goal_cost, default=0.0)
        for _, options in pending:
            best = min(
                (costs[steps[k][0]] + ready[k] for k in options if ready[k] is not None),
                default=math.inf,
            )
            h = max(h, best)
        return h
