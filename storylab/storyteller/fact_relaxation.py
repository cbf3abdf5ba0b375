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

__all__ = ["MAX_VALUES", "FactRelaxation", "PatternDatabase"]

#: Values per fact slot the relaxation tracks at most; a slot that may take more is free.
MAX_VALUES = 256

_MISSING = object()


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
        self._after_memo: dict[tuple, object] = {}  # (step, slot, value) -> value after
        self._test_memo: dict[tuple, bool] = {}  # (step or -1 - goal no., cond no., value)

    def _norm(self, slot: int, value: object) -> object:
        limit = self._limit.get(slot)
        if limit is not None and _number(value) and value > limit:
            return limit + 1
        return value

    def _after(self, k: int, slot: int, value: object) -> object:
        key = (k, slot, value)
        found = self._after_memo.get(key, _MISSING)
        if found is _MISSING:
            found = value
            for effect in self._steps[k][2][slot]:
                found = self._norm(slot, effect.apply({} if found is None else {effect.key: found}))
            self._after_memo[key] = found
        return found

    def _passes(self, k: int, j: int, cond: Condition, value: object) -> bool:
        key = (k, j, value)
        found = self._test_memo.get(key)
        if found is None:
            found = self._test_memo[key] = cond.test(value)
        return found

    def reachable(self, facts: tuple) -> tuple[int, ...]:
        """The steps (indices) whose preconditions the relaxation reaches from ``facts``.

        Every value a plan from ``facts`` produces is reached (each value is reached from the
        values a step needs and reads), so a step not listed can never be applied from
        ``facts`` nor from any state a plan reaches from there.
        """
        steps = self._steps
        reached: list[set] = [set() for _ in facts]
        need = [len(conds) for _, conds, _ in steps]
        met = [[False] * len(conds) for _, conds, _ in steps]
        fired: list[int] = []
        queue = [(slot, self._norm(slot, v)) for slot, v in enumerate(facts) if not self.free[slot]]

        def fire(k: int) -> None:
            fired.append(k)
            for slot in steps[k][2]:
                queue.extend((slot, self._after(k, slot, v)) for v in list(reached[slot]))

        for k, n in enumerate(need):
            if n == 0:
                fire(k)
        while queue:
            slot, value = queue.pop()
            if value in reached[slot]:
                continue
            reached[slot].add(value)
            for k, j in self._readers.get(slot, ()):
                if not met[k][j] and self._passes(k, j, steps[k][1][j][1], value):
                    met[k][j] = True
                    need[k] -= 1
                    if need[k] == 0:
                        fire(k)
            for k in self._writers.get(slot, ()):
                if need[k] == 0:
                    queue.append((slot, self._after(k, slot, value)))
        return tuple(sorted(steps[k][0] for k in fired))

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

        after, passes = self._after, self._passes
        goals_left = len(self._goal)
        event_best = [math.inf] * len(pending)

        def fire(k: int, at: float) -> None:
            ready[k] = at
            index, _, per_slot = steps[k]
            for e, (_, options) in enumerate(pending):
                if k in options:
                    event_best[e] = min(event_best[e], costs[index] + at)
            for slot in per_slot:
                for value, cost in reached[slot].items():
                    push(
                        heap,
                        (costs[index] + max(at, cost), next(counter), slot, after(k, slot, value)),
                    )

        for k, n in enumerate(need):
            if n == 0:
                fire(k, 0.0)
        while heap:
            cost, _, slot, value = pop(heap)
            if not goals_left and all(b <= cost for b in event_best):
                break  # every later value costs at least this much: the estimate is final
            if value in reached[slot]:
                continue
            reached[slot][value] = cost
            for j in self._goal_by_slot.get(slot, ()):
                if goal_cost[j] == math.inf and passes(-1 - j, 0, self._goal[j][1], value):
                    goal_cost[j] = cost
                    goals_left -= 1
            for k, j in self._readers.get(slot, ()):
                if not met[k][j] and passes(k, j, steps[k][1][j][1], value):
                    met[k][j] = True
                    need[k] -= 1
                    if need[k] == 0:
                        fire(k, cost)
            for k in self._writers.get(slot, ()):
                at = ready[k]
                if at is not None:
                    index = steps[k][0]
                    push(
                        heap,
                        (costs[index] + max(at, cost), next(counter), slot, after(k, slot, value)),
                    )
        return max([*goal_cost, *event_best], default=0.0)


class PatternDatabase:
    """A pattern database over the goal's fact slots (Culberson & Schaeffer 1998; Edelkamp
    2001): the exact cost to the goal conditions in the problem projected onto a few slots.

    The pattern is the goal's slots, then the slots the steps writing them read, while the
    projected state space stays under ``max_states``. Projecting drops every precondition and
    effect on other slots, so each real plan is a projected plan of the same cost and the
    projected cost-to-go (backward Dijkstra, once) is admissible and consistent. Values keep
    to each slot's values reachable from the start (counters cut as in
    :class:`FactRelaxation`), so every state of the phase has an entry.
    """

    def __init__(
        self,
        relaxation: FactRelaxation,
        start: tuple,
        goal: Sequence[tuple[int, Condition]],
        max_states: int = 4_000,
    ):
        rel = relaxation
        steps = rel._steps
        pattern = [s for s in dict.fromkeys(slot for slot, _ in goal) if not rel.free[s]]
        domains = {s: self._closure(rel, s, start[s]) for s in pattern}
        for slot in pattern:
            for k in rel._writers.get(slot, ()):
                for other, _ in steps[k][1]:
                    if other in domains or rel.free[other]:
                        continue
                    values = self._closure(rel, other, start[other])
                    if math.prod(len(v) for v in domains.values()) * len(values) <= max_states:
                        domains[other] = values
        self.pattern = tuple(domains)
        self.ok = 0 < math.prod(len(v) for v in domains.values()) <= max_states
        self._table: dict[tuple, float] = {}
        if not self.ok:
            return
        states = list(itertools.product(*(domains[s] for s in self.pattern)))
        where = {s: i for i, s in enumerate(self.pattern)}
        back: dict[tuple, list[tuple[tuple, float]]] = {}
        for k, (index, conds, per_slot) in enumerate(steps):
            mine = [(where[s], c) for s, c in conds if s in where]
            writes = [where[s] for s in per_slot if s in where]
            for state in states:
                if not all(c.test(state[i]) for i, c in mine):
                    continue
                nxt = list(state)
                for i in writes:
                    nxt[i] = rel._after(k, self.pattern[i], state[i])
                back.setdefault(tuple(nxt), []).append((state, rel._costs[index]))
        mine_goal = [(where[s], c) for s, c in goal if s in where]
        heap = [
            (0.0, i, s) for i, s in enumerate(states) if all(c.test(s[j]) for j, c in mine_goal)
        ]
        heapq.heapify(heap)
        counter = itertools.count(len(states))
        while heap:
            cost, _, state = heapq.heappop(heap)
            if state in self._table:
                continue
            self._table[state] = cost
            for before, step_cost in back.get(state, ()):
                if before not in self._table:
                    heapq.heappush(heap, (cost + step_cost, next(counter), before))
        self._norm = rel._norm

    @staticmethod
    def _closure(rel: FactRelaxation, slot: int, value: object) -> list:
        seen = [rel._norm(slot, value)]
        frontier = list(seen)
        while frontier and len(seen) <= MAX_VALUES:
            nxt = []
            for k in rel._writers.get(slot, ()):
                for v in frontier:
                    after = rel._after(k, slot, v)
                    if after not in seen and after not in nxt:
                        nxt.append(after)
            seen += nxt
            frontier = nxt
        return seen

    def __call__(self, facts: tuple) -> float:
        """The projected cost from ``facts`` to the goal conditions (``inf``: none)."""
        key = tuple(self._norm(s, facts[s]) for s in self.pattern)
        return self._table.get(key, math.inf)
