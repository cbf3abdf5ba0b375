"""Use bounds: how many more times each step can still be applied, read from the facts.

Many steps are limited by their own preconditions: a one-shot step tests ``flag != True``
and sets the flag, which nothing resets; a repeatable one tests a counter (``hunts < 4``,
``hunts != 4``) that only rises. From a state's facts such a step has at most ``b`` more
uses in any continuation, and a step whose precondition reads a fact nothing writes and
fails now has none. Bounds only fall along a plan (flags stay set, counters only rise), so
a step with no use left at the start of a phase can never be applied in it: exact A*
(:meth:`~storylab.storyteller.search_space.PhaseProblem.exact_heuristic`) prices the
cost-to-go relaxation without those steps, which stays admissible and consistent.

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

__all__ = ["Limiter", "step_limiters", "use_bound"]

#: ``(kind, slot, ...)``, see the module docstring.
Limiter = tuple


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
