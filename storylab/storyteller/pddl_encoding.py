"""A phase planning problem as PDDL, so any classical planner solves the same problem.

storylab's planner searches on a grid: the primary spectrum is an integer number of grid
steps, the story position a count of ticks (see ``storylab.storyteller.search_space``). The
encoding keeps that grid (``docs/performance.md (Planner)`` has the long version):

* The primary spectrum and the position become objects (``level`` and ``step``), one per
  value a plan can pass through. A step's effect on them is a static relation between
  objects (``shift-K ?a ?b`` per sequence of link deltas, clamped link by link;
  ``advance-N ?a ?b`` per tick count). Primary values outside the phase's corridor and
  positions at or past the ceiling are absent, as are positions from which the floor can
  no longer be reached.
* Every fact a precondition reads is a finite-domain variable: a predicate with one
  ``value`` constant per value (``unset`` for a missing fact). Facts nothing reads cannot
  change which plans exist or what they cost, and are left out, as storylab's planner leaves
  them out. A counter that only rises is cut above the largest number its preconditions
  test.
* A chained action is one macro schema (the chain is atomic); a step whose preconditions
  allow several values of a fact is split into one schema per value, so there are no
  disjunctions and no negative preconditions. The step moves the primary; its position
  advance is a zero-cost follow-up (``do-advance-N``), so grounding grows with levels plus
  positions rather than their product.
* Costs are integers: every cost is multiplied by ``cost_scale``, the least common
  denominator of the steps' decimal costs.
* The goal is reached by a zero-cost ``accept`` action, applicable after at least one step
  (``moved``) where the primary is in the target range, the position at or past the floor,
  every required core event done (``did-*``) and the goal's fact conditions met (one
  ``accept`` schema per combination of passing values); the PDDL goal is ``(done)``.
* The variety model's repeat penalty: the step taken last is a finite-domain variable
  (``last`` over ``memo`` constants, one per tracked step and ``after-other``); a tracked
  step has a *fresh* schema (the last step was another one) and a *repeat* schema that
  costs the penalty more.

``costs="unit"`` compiles the action costs away for planners without ``:action-costs``
(pyperplan): a step of scaled cost ``c`` becomes ``c`` unit steps (the step itself,
``c - 2`` ``pay`` steps, then the ``do-advance`` that moves the position), so the shortest
plan has ``1 + sum(c)`` steps.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from fractions import Fraction
from typing import Literal

from storylab.storyteller.pddl_task import MacroStep, PddlExport, PhaseTask, pddl_name
from storylab.theory.world import FactValue

__all__ = ["MAX_FACT_VALUES", "encode_phase_task"]

#: A fact with more reachable values than this cannot be encoded as a finite domain.
MAX_FACT_VALUES = 512

_UNSET = object()
_Value = FactValue | None


class _Above(float):
    """Every value of a rising counter above the largest number its preconditions test."""


def _saturation(task: PhaseTask) -> dict[str, float]:
    """Counters that only rise, with the largest number any precondition compares them to.

    Above that number every precondition on the counter has the same truth value and keeps
    it as the counter rises, so all such values are one state for planning.
    """
    out = {}
    effects = [e for step in task.steps for link in step.links for e in link.effects]
    conditions = [c for step in task.steps for link in step.links for c in link.preconditions]
    conditions += task.goal_facts
    for key in {e.key for e in effects if e.cardinality == "additive"}:
        adds = [e.value for e in effects if e.key == key and e.cardinality == "additive"]
        if all(_number(v) and v > 0 for v in adds):
            limits = [  # booleans count: 1 == True
                c.value for c in conditions if c.key == key and isinstance(c.value, int | float)
            ]
            out[key] = float(max(limits, default=0))
    return out


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _normalise(saturation: dict[str, float], key: str, value: _Value) -> _Value:
    limit = saturation.get(key)
    if limit is not None and _number(value) and value > limit:
        return _Above(limit + 1)
    return value


def _token(value: _Value) -> str:
    if value is None:
        return "unset"
    if isinstance(value, _Above):
        return "above-" + pddl_name(f"{value - 1:g}")
    if isinstance(value, frozenset):
        return "set-" + "-".join(pddl_name(str(v)) for v in sorted(value)) if value else "empty"
    return pddl_name(str(value))


def _order(value: _Value) -> tuple[int, str]:
    if value is None:
        return (0, "")
    if isinstance(value, frozenset):
        return (len(value) + 2, repr(sorted(value)))
    return (1, repr(value))


def _cost_fraction(cost: float) -> Fraction:
    """A cost as an exact fraction (sums of decimal costs lose float noise past 1/10000)."""
    return Fraction(repr(float(cost))).limit_denominator(10_000)


def _primary_levels(task: PhaseTask) -> tuple[list[int], dict[tuple[int, ...], dict[int, int]]]:
    """Primary values reachable from the start, and each delta sequence's map between them."""
    g = task.grid_max
    shifts = sorted({tuple(link.primary_delta for link in s.links) for s in task.steps})

    def moved(value: int, deltas: tuple[int, ...]) -> int:
        for d in deltas:
            value = max(-g, min(g, value + d))
        return value

    lo, hi = task.corridor
    seen, frontier = {task.primary}, [task.primary]
    while frontier:
        after = {moved(u, d) for u in frontier for d in shifts}
        frontier = [v for v in after if v not in seen and lo <= v <= hi]
        seen.update(frontier)
    maps = {d: {v: moved(v, d) for v in seen} for d in shifts}
    return sorted(seen), {d: {v: w for v, w in m.items() if lo <= w <= hi} for d, m in maps.items()}


def _positions(task: PhaseTask) -> tuple[list[int], int]:
    """Tick counts a plan can pass through, and the most steps a plan can take.

    Positions from which the floor can no longer be reached before the ceiling are left out.
    """
    sizes = sorted({s.ticks for s in task.steps})
    reach, frontier = {task.ticks}, {task.ticks}
    while frontier:
        frontier = {t + d for t in frontier for d in sizes if t + d < task.ceiling_ticks} - reach
        reach |= frontier
    live: dict[int, int] = {}  # position -> most steps still possible from it
    for t in sorted(reach, reverse=True):
        nxt = [live[t + d] for d in sizes if t + d in live]
        if t >= task.floor_ticks or nxt:
            live[t] = 1 + max(nxt, default=-1)
    return sorted(live.keys() | {task.ticks}), live.get(task.ticks, 0)


def _read_keys(task: PhaseTask) -> list[str]:
    read = {c.key for step in task.steps for link in step.links for c in link.preconditions}
    return sorted(read | {c.key for c in task.goal_facts})


def _fact_domains(
    task: PhaseTask, keys: list[str], max_steps: int, saturation: dict[str, float]
) -> dict[str, list[_Value]]:
    domains: dict[str, list[_Value]] = {}
    for key in keys:
        start = _normalise(saturation, key, task.facts.get(key))
        seen: set[_Value] = {start}
        frontier: set[_Value] = {start}
        writers = [
            [e for link in step.links for e in link.effects if e.key == key] for step in task.steps
        ]
        writers = [w for w in writers if w]
        for _ in range(max_steps):
            nxt: set[_Value] = set()
            for value in frontier:
                for effects in writers:
                    facts = {} if value is None else {key: value}
                    for effect in effects:
                        facts[key] = _normalise(saturation, key, effect.apply(facts))
                    if facts[key] not in seen:
                        nxt.add(facts[key])
            if not nxt:
                break
            seen |= nxt
            frontier = nxt
            if len(seen) > MAX_FACT_VALUES:
                raise ValueError(
                    f"fact {key!r} takes more than {MAX_FACT_VALUES} values in this phase"
                )
        domains[key] = sorted(seen, key=_order)
    return domains


def _variants(
    step: MacroStep, domains: dict[str, list[_Value]], saturation: dict[str, float]
) -> list[tuple[dict[str, _Value], dict[str, _Value]]]:
    """(values read, values written) for each way the step's preconditions can hold."""
    kept = set(domains)
    read: dict[str, list[_Value]] = {}
    written: list[str] = []
    for link in step.links:
        for cond in link.preconditions:
            if cond.key not in read and cond.key not in written:
                read[cond.key] = [v for v in domains[cond.key] if cond.test(v)]
        for effect in link.effects:
            if effect.key not in kept:
                continue
            if effect.cardinality == "additive" and effect.key not in written:
                read.setdefault(effect.key, list(domains[effect.key]))
            if effect.key not in written:
                written.append(effect.key)
    out = []
    keys = list(read)
    for combo in itertools.product(*(read[k] for k in keys)):
        facts = {k: v for k, v in zip(keys, combo, strict=True) if v is not None}
        ok = True
        for link in step.links:
            if not all(c.test(facts.get(c.key)) for c in link.preconditions):
                ok = False
                break
            for effect in link.effects:
                if effect.key in kept:
                    facts[effect.key] = _normalise(saturation, effect.key, effect.apply(facts))
        after = {k: facts.get(k) for k in written}
        # a value outside its domain needs more steps than the phase has room for
        if ok and all(v in domains[k] for k, v in after.items()):
            out.append((dict(zip(keys, combo, strict=True)), after))
    return out


def _scale(costs: Iterable[float]) -> int:
    return math.lcm(1, *(_cost_fraction(c).denominator for c in costs))


def encode_phase_task(
    task: PhaseTask, *, costs: Literal["action-costs", "unit"] = "action-costs"
) -> PddlExport:
    """Encode ``task`` as a PDDL domain and problem (see the module docstring).

    Raises
    ------
    ValueError
        When a step has cost 0 under ``costs="unit"``, or a fact takes too many values.
    """
    scale = _scale([*(s.cost for s in task.steps), task.repeat_penalty])
    scaled = [int(_cost_fraction(s.cost) * scale) for s in task.steps]
    penalty = int(_cost_fraction(task.repeat_penalty) * scale)
    if costs == "unit" and task.steps:
        if min(scaled) == 0:
            raise ValueError("a unit-cost compilation needs every step to cost more than 0")
        factor = -(-2 // min(scaled))
        scale *= factor
        scaled = [c * factor for c in scaled]
        penalty *= factor
    primaries, shift_maps = _primary_levels(task)
    positions, longest = _positions(task)
    saturation = _saturation(task)
    domains = _fact_domains(task, _read_keys(task), longest, saturation)
    names = _Names(task, primaries, positions, domains, list(shift_maps), saturation)
    return _render(task, costs, scale, (scaled, penalty), names, shift_maps)


def _unique(name: str, used: set[str]) -> str:
    out, n = name, 1
    while out in used:
        n += 1
        out = f"{name}-{n}"
    used.add(out)
    return out


class _Names:
    """PDDL names for levels, positions, fact atoms and relations."""

    def __init__(self, task, primaries, positions, domains, shifts, saturation) -> None:
        self.saturation = saturation
        width = len(str(max(len(primaries), len(positions))))
        self.level = {v: f"s{i:0{width}d}" for i, v in enumerate(primaries)}
        self.step = {p: f"p{i:0{width}d}" for i, p in enumerate(positions)}
        self.shift = {d: f"shift-{i}" for i, d in enumerate(shifts)}
        self.move = {d: f"advance-{d}" for d in sorted({s.ticks for s in task.steps})}
        self.did = {r: f"did-{pddl_name(r)}" for r in task.required}
        # one predicate per fact with a ``value`` constant per value: Fast Downward's
        # invariant synthesis then finds each fact's values mutex quickly
        self.predicate: dict[str, str] = {}
        self.fact: dict[tuple[str, _Value], str] = {}
        self.constants: list[str] = []
        used: set[str] = set()
        for key, values in domains.items():
            self.predicate[key] = _unique(f"fact-{pddl_name(key)}", used)
            for value in values:
                constant = _unique(f"{pddl_name(key)}-is-{_token(value)}", used)
                self.constants.append(constant)
                self.fact[(key, value)] = f"{self.predicate[key]} {constant}"
        self.domains = domains
        self.memo: dict[int | None, str] = {}
        if task.repeat_penalty > 0 and any(s.tracked for s in task.steps):
            self.memo[None] = _unique("after-other", used)
            for i, step in enumerate(task.steps):
                if step.tracked:
                    base = "--".join(pddl_name(a) for a in step.action_ids)
                    self.memo[i] = _unique(f"after-{base}", used)

    def fact_effects(self, before: dict[str, _Value], after: dict[str, _Value]) -> list[str]:
        """Add and delete effects that take the facts from ``before`` to ``after``."""
        out = []
        for key, value in after.items():
            old = before.get(key, _UNSET)
            if old is not _UNSET and old == value:
                continue
            dels = [v for v in self.domains[key] if v != value] if old is _UNSET else [old]
            out += [f"(not ({self.fact[(key, v)]}))" for v in dels]
            out.append(f"({self.fact[(key, value)]})")
        return out


def _memo_variants(names, index: int, cost: int, penalty: int) -> list[tuple]:
    """(name suffix, parameters, preconditions, effects, cost) of each way to take a step
    as the repeat penalty sees it (one way, with no penalty)."""
    if not names.memo:
        return [("", "", [], [], cost)]
    mark = names.memo.get(index, names.memo[None])
    fresh_pre = ["(last ?m)"] + ([f"(other-{mark} ?m)"] if index in names.memo else [])
    out = [("", " ?m - memo", fresh_pre, ["(not (last ?m))", f"(last {mark})"], cost)]
    if index in names.memo:
        out.append(("-repeat", "", [f"(last {mark})"], [], cost + penalty))
    return out


def _render(task, costs, scale, scaled, names, shift_maps) -> PddlExport:
    unit = costs == "unit"
    scaled, penalty = scaled
    actions, schemas, schema_costs = [], {}, {}
    top = 2
    for index, (step, step_cost) in enumerate(zip(task.steps, scaled, strict=True)):
        variants = _variants(step, names.domains, names.saturation)
        base = "--".join(pddl_name(i) for i in step.action_ids)
        shift = names.shift[tuple(link.primary_delta for link in step.links)]
        move = names.move[step.ticks]
        did = [f"({names.did[r]})" for r in task.required if r in step.action_ids]
        for i, (before, after) in enumerate(variants):
            for suffix, params, memo_pre, memo_eff, cost in _memo_variants(
                names, index, step_cost, penalty
            ):
                name = (base if len(variants) == 1 else f"{base}-v{i + 1}") + suffix
                schemas[name], schema_costs[name] = step.action_ids, 1 if unit else cost
                top = max(top, cost)
                pre = ["(ready)", "(primary ?s1)", f"({shift} ?s1 ?s2)", *memo_pre]
                pre += [f"({names.fact[(k, v)]})" for k, v in before.items()]
                eff = ["(not (ready))", "(not (primary ?s1))", "(primary ?s2)", "(moved)", *did]
                eff += [*names.fact_effects(before, after), f"(pending-{move})", *memo_eff]
                eff.append(f"(owe-{cost - 2})" if unit else f"(increase (total-cost) {cost})")
                actions.append(_action(name, f"?s1 ?s2 - level{params}", pre, eff))
    actions += _bookkeeping(names, top if unit else 0, schemas, schema_costs)
    preds = ["(primary ?s - level)", "(at ?p - step)", "(target ?s - level)", "(window ?p - step)"]
    preds += [f"({n} ?a ?b - level)" for n in names.shift.values()]
    preds += [f"({n} ?a ?b - step)" for n in names.move.values()]
    preds += [f"(pending-{n})" for n in names.move.values()]
    preds += [f"({n} ?v - value)" for n in names.predicate.values()]
    preds += [f"({n})" for n in names.did.values()]
    preds += ["(ready)", "(moved)", "(done)"]
    if names.memo:
        preds.append("(last ?m - memo)")
        preds += [f"(other-{m} ?m - memo)" for i, m in names.memo.items() if i is not None]
    preds += [f"(owe-{n})" for n in range(top - 1)] if unit else []
    accept_pre = ["(ready)", "(moved)", "(primary ?s)", "(target ?s)", "(at ?p)", "(window ?p)"]
    accept_pre += [f"({n})" for n in names.did.values()]
    accept_eff = ["(done)"] + ([] if unit else ["(increase (total-cost) 0)"])
    goals = _goal_combinations(task, names)
    for i, combo in enumerate(goals):
        name = "accept" if len(goals) == 1 else f"accept-v{i + 1}"
        pre = accept_pre + [f"({names.fact[(k, v)]})" for k, v in combo]
        actions.append(_action(name, "?s - level ?p - step", pre, accept_eff))
        schemas[name], schema_costs[name] = (), 0
    reqs = ":strips :typing" + ("" if unit else " :action-costs")
    types = "level step value" + (" memo" if names.memo else "")
    constants = [f"    {c} - value" for c in names.constants]
    constants += [f"    {m} - memo" for m in names.memo.values()]
    domain = "\n".join(
        [
            f"; storylab phase problem {task.name}: costs x{scale} ({costs})",
            f"(define (domain {pddl_name(task.name)})",
            f"  (:requirements {reqs})",
            f"  (:types {types})",
            *(["  (:constants", *constants, "  )"] if constants else []),
            "  (:predicates",
            *(f"    {p}" for p in preds),
            "  )",
            *([] if unit else ["  (:functions (total-cost) - number)"]),
            *actions,
            ")",
            "",
        ]
    )
    return PddlExport(
        domain=domain,
        problem=_problem(task, names, shift_maps, unit),
        costs=costs,
        cost_scale=scale,
        schemas=schemas,
        schema_costs=schema_costs,
    )


def _goal_combinations(task, names) -> list[tuple[tuple[str, _Value], ...]]:
    """Every combination of fact values that meets the goal's fact conditions."""
    keys = sorted({c.key for c in task.goal_facts})
    allowed = [
        [v for v in names.domains[k] if all(c.test(v) for c in task.goal_facts if c.key == k)]
        for k in keys
    ]
    return [tuple(zip(keys, combo, strict=True)) for combo in itertools.product(*allowed)]


def _action(name: str, params: str, pre: list[str], eff: list[str]) -> str:
    return (
        f"  (:action {name}\n    :parameters ({params})\n"
        f"    :precondition (and {' '.join(pre)})\n    :effect (and {' '.join(eff)}))"
    )


def _bookkeeping(names, max_cost, schemas, schema_costs) -> list[str]:
    """The position advance that finishes every step.

    With ``max_cost`` (the unit-cost compilation) it costs 1, and ``pay`` steps, one per
    remaining unit of the step's cost, come before it; otherwise it costs 0.
    """
    unit = max_cost > 0
    free = [] if unit else ["(increase (total-cost) 0)"]
    out = []
    for n in range(max_cost - 2, 0, -1):
        out.append(_action(f"pay-{n}", "", [f"(owe-{n})"], [f"(not (owe-{n}))", f"(owe-{n - 1})"]))
    for move in names.move.values():
        pre = [f"(pending-{move})", "(at ?a)", f"({move} ?a ?b)"]
        eff = [f"(not (pending-{move}))", "(not (at ?a))", "(at ?b)", "(ready)"]
        if unit:
            pre.append("(owe-0)")
            eff.append("(not (owe-0))")
        out.append(_action(f"do-{move}", "?a ?b - step", pre, eff + free))
    for name in out:
        schema = name.split("(:action ", 1)[1].split("\n", 1)[0]
        schemas[schema], schema_costs[schema] = (), 1 if unit else 0
    return out


def _problem(task, names, shift_maps, unit) -> str:
    init = [f"(primary {names.level[task.primary]})", f"(at {names.step[task.ticks]})"]
    for key in names.domains:
        start = _normalise(names.saturation, key, task.facts.get(key))
        init.append(f"({names.fact[(key, start)]})")
    init += [
        f"(target {n})" for v, n in names.level.items() if task.primary_min <= v <= task.primary_max
    ]
    init += [f"(window {n})" for t, n in names.step.items() if t >= task.floor_ticks]
    for deltas, rel in names.shift.items():
        init += [
            f"({rel} {names.level[a]} {names.level[b]})" for a, b in shift_maps[deltas].items()
        ]
    for size, rel in names.move.items():
        init += [
            f"({rel} {names.step[t]} {names.step[t + size]})"
            for t in names.step
            if t + size in names.step
        ]
    init.append("(ready)")
    if names.memo:
        init.append(f"(last {names.memo.get(task.last, names.memo[None])})")
        init += [
            f"(other-{m} {other})"
            for i, m in names.memo.items()
            if i is not None
            for other in names.memo.values()
            if other != m
        ]
    if not unit:
        init.append("(= (total-cost) 0)")
    objects = [f"{n} - level" for n in names.level.values()]
    objects += [f"{n} - step" for n in names.step.values()]
    legend = [f"; {n} = {v} (primary {v * task.grid_step:+.4g})" for v, n in names.level.items()]
    total = task.total_ticks
    legend += [
        f"; {n} = {t}" + (f" (position {t / total:.4f})" if total else "")
        for t, n in names.step.items()
    ]
    return "\n".join(
        [
            f"; storylab phase problem {task.name}",
            "; primary spectrum levels (grid steps) and story positions (ticks):",
            *legend,
            f"(define (problem {pddl_name(task.name)}-problem)",
            f"  (:domain {pddl_name(task.name)})",
            "  (:objects",
            *(f"    {o}" for o in objects),
            "  )",
            "  (:init",
            *(f"    {a}" for a in init),
            "  )",
            "  (:goal (done))",
            *([] if unit else ["  (:metric minimize (total-cost))"]),
            ")",
            "",
        ]
    )
