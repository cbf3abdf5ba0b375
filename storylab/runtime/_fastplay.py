"""A lean interpreter of one compiled program, for analysis (Monte-Carlo, path enumeration).

It reads the engine's :class:`~storylab.runtime.compiled.CompiledProgram` (the same
compiled conditions and effects) through integer-indexed tables and plays a program from
node to node the way :class:`~storylab.runtime.engine.NarrativeEngine` does, without what
a host needs and an analysis does not: no undo log (a playthrough that fails is recorded
as failed, not rolled back), no results, no transcript hash, and no nested programs.
Templates with holes are evaluated (so their errors show) and the text is dropped. Wait
nodes with a duration are passed by advancing world time, as a host would; a wait whose
condition is false stops the playthrough (``waiting``). Action-block and scene nodes pass
through (nothing is generated or launched, so an action block that would fail to resolve
is not noticed).

``tests/test_runtime_analysis.py`` checks that playthroughs replayed on the engine visit
the same nodes and end in the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from storylab.runtime.compiled import (
    ACTION,
    BLOCK,
    BRANCH,
    CALL,
    CHOICE,
    COMMENT,
    DIALOGUE,
    SCENE,
    WAIT,
    CompiledProgram,
    edges_of,
)
from storylab.runtime.effects import CEffects
from storylab.runtime.expressions import Env
from storylab.runtime.program import NarrativeProgram
from storylab.runtime.results import StepError
from storylab.runtime.state import Session
from storylab.runtime.working import Handler, call_handler

__all__ = [
    "Tables",
    "make_env",
    "route",
    "run_to_choice",
    "static_edges",
    "take",
]

#: A compiled choice in the tables: (id, condition, effects, once_only, taken key, target
#: index or -1, edge index or -1, weight, text template when it has holes else None)
ChoiceRow = tuple[str, Any, Any, bool, str, int, int, float, Any]


_SCALARS = (bool, int, float, str, type(None))
_PASS = {DIALOGUE, BRANCH, COMMENT, SCENE, BLOCK}


def _scalar_error(name: str, value: Any) -> StepError:
    return StepError(
        f"var.{name}: variables hold true/false, numbers, text or none, not {value!r}",
        "invalid_value",
        target=f"var.{name}",
        value=repr(value),
    )


def fast_effects(fx: CEffects | None) -> Callable[[Env], None] | None:
    """``fx`` as one function of the env, applying exactly what ``CEffects.apply`` does."""
    if fx is None:
        return None
    flags, values = dict(fx.flags), fx.vars
    if fx.parts is None and not (fx.rel or fx.inv or fx.arcs or fx.quests or fx.sets):
        if not values:
            return lambda env: env.flags.update(flags)

        def apply_vars(env: Env) -> None:
            if flags:
                env.flags.update(flags)
            table = env.variables
            for name, fn in values:
                value = fn(env)
                if not isinstance(value, _SCALARS):
                    raise _scalar_error(name, value)
                table[name] = value

        return apply_vars
    return partial(fx.apply, None)


def static_edges(program: NarrativeProgram) -> list[tuple[str, str, str]]:
    """Every way between nodes as ``(from, to, via)``, ``via`` as the engine's history names
    it: ``edge:<id or index>``, ``choice:<id>`` (choices with a target) or ``fallback``."""
    out = [
        (e.from_, e.to, f"edge:{e.id if e.id is not None else i}")
        for i, e in enumerate(program.edges)
    ]
    for node in program.nodes:
        if node.type == "choice":
            out += [(node.id, c.to, f"choice:{c.id}") for c in node.choices if c.to is not None]
            if node.fallback is not None:
                out.append((node.id, node.fallback, "fallback"))
    return out


class Tables:
    """A compiled program as lists indexed by node number, with edge numbers for coverage.

    ``through[i]`` is ``(target, edge)`` when node ``i`` only passes on (no effects, one
    unconditional edge); ``enter``/``exit`` hold on-enter/on-exit effects as functions.
    """

    def __init__(
        self,
        compiled: CompiledProgram,
        weights: Mapping[str, float] | None = None,
        handlers: Mapping[str, Handler] | None = None,
    ):
        program = compiled.source
        self.compiled, self.handlers = compiled, dict(handlers or {})
        self.ids: list[str] = [n.id for n in program.nodes]
        self.index = {nid: i for i, nid in enumerate(self.ids)}
        self.edges = static_edges(program)
        edge_no = {(f, via): k for k, (f, _, via) in enumerate(self.edges)}
        self.nodes = [compiled.nodes[nid] for nid in self.ids]
        self.kinds = [n.kind for n in self.nodes]
        self.entry = self.index[compiled.entry]
        self.enter = [fast_effects(n.on_enter) for n in self.nodes]
        self.exit = [fast_effects(n.on_exit) for n in self.nodes]
        self.effects = [fast_effects(n.effects) for n in self.nodes]
        self.render = [
            n.text if n.kind == DIALOGUE and n.text.static is None else None for n in self.nodes
        ]
        weights = dict(weights or {})
        known = {k for n in self.nodes for c in n.choices or () for k in (c.id, c.key)}
        unknown = sorted(set(weights) - known)
        if unknown:
            raise ValueError(f"weights name no choice of {compiled.id!r}: {unknown}")
        self.out: list[tuple] = []
        self.through: list[tuple[int, int] | None] = []
        self.choices: list[tuple[ChoiceRow, ...]] = []
        self.fallback: list[tuple[int, int] | None] = []
        for i, (nid, node) in enumerate(zip(self.ids, self.nodes, strict=True)):
            out = tuple(
                (cond, fast_effects(fx), self.index[target.id], edge_no[(nid, via)])
                for cond, fx, target, via in edges_of(node)
            )
            self.out.append(out)
            simple = (
                node.kind in _PASS
                and self.render[i] is None
                and self.enter[i] is None
                and self.exit[i] is None
                and len(out) == 1
                and out[0][0] is None
                and out[0][1] is None
            )
            self.through.append((out[0][2], out[0][3]) if simple else None)
            rows: list[ChoiceRow] = []
            for c in node.choices or ():
                to = self.index[c.to] if c.to is not None else -1
                edge = edge_no[(nid, c.via)] if c.to is not None else -1
                weight = float(weights.get(c.key, weights.get(c.id, 1.0)))
                if weight < 0:
                    raise ValueError(f"choice weights are not negative; {c.key} has {weight}")
                fx = fast_effects(c.effects)
                text = c.text if c.text.static is None else None
                rows.append((c.id, c.cond, fx, c.once_only, c.key, to, edge, weight, text))
            self.choices.append(tuple(rows))
            fb = node.fallback
            self.fallback.append(
                (self.index[fb], edge_no[(nid, "fallback")]) if fb is not None else None
            )


def make_env(session: Session, npc: str, variables: dict[str, Any]) -> Env:
    """A fresh :class:`Env` over copies of ``session``'s facts and ``variables``."""
    return Env(
        flags=dict(session.flags),
        relationships={k: dict(v) for k, v in session.relationships.items()},
        inventory=dict(session.inventory),
        arcs=dict(session.arcs),
        quests=dict(session.quests),
        player=dict(session.player),
        variables=dict(variables),
        visits={},
        npc=npc,
        world_time=session.world_time,
    )


def _call(t: Tables, env: Env, i: int, session_id: str) -> None:
    node = t.nodes[i]
    value = call_handler(t.handlers, node, t.compiled.id, session_id, env)
    if node.store_as is not None:
        env.variables[node.store_as] = value


def run_to_choice(
    t: Tables,
    env: Env,
    taken: dict[str, bool],
    i: int,
    edge_counts: list[int],
    budget: int,
    trail: list[int] | None = None,
) -> tuple[str, int, list[ChoiceRow]]:
    """Enter node ``i`` and run until a choice is on offer or the program stops.

    Returns ``(status, node, offered)`` with status ``choice``, ``finished`` or
    ``waiting``; ``trail``, when given, collects the nodes entered (visit counts are in
    ``env.visits``). Raises :class:`StepError` (or an evaluation error) where the engine
    would.
    """
    kinds, ids, visits, through, enter = t.kinds, t.ids, env.visits, t.through, t.enter
    while True:
        budget -= 1
        if budget < 0:
            raise StepError(
                f"too many nodes without stopping at {ids[i]!r}; a loop?",
                "step_budget",
                node=ids[i],
            )
        nid = ids[i]
        visits[nid] = visits.get(nid, 0) + 1
        if trail is not None:
            trail.append(i)
        passing = through[i]
        if passing is not None:
            edge_counts[passing[1]] += 1
            i = passing[0]
            continue
        if enter[i] is not None:
            enter[i](env)
        kind = kinds[i]
        if kind == CHOICE:
            offered = [
                c
                for c in t.choices[i]
                if not (c[3] and c[4] in taken) and (c[1] is None or c[1](env))
            ]
            if offered:
                for c in offered:
                    if c[8] is not None:
                        c[8].render(env)
                return "choice", i, offered
            fb = t.fallback[i]
            if fb is None:
                raise StepError(
                    f"no choice is on offer at {nid!r} and it has no fallback",
                    "no_choice_on_offer",
                    node=nid,
                )
            if t.exit[i] is not None:
                t.exit[i](env)
            edge_counts[fb[1]] += 1
            i = fb[0]
            continue
        if kind == DIALOGUE:
            if t.render[i] is not None:
                t.render[i].render(env)
        elif kind == ACTION:
            if t.effects[i] is not None:
                t.effects[i](env)
            node = t.nodes[i]
            if node.delay:
                env.world_time += node.delay
        elif kind == WAIT:
            node = t.nodes[i]
            if node.duration is not None:
                env.world_time += node.duration
            if node.condition is not None and not node.condition.evaluate(env):
                return "waiting", i, []
        elif kind == CALL:
            _call(t, env, i, "analysis")
        if t.exit[i] is not None:
            t.exit[i](env)
        i = route(t, env, i, edge_counts)
        if i < 0:
            return "finished", -1 - i, []


def route(t: Tables, env: Env, i: int, edge_counts: list[int]) -> int:
    """The node the first holding edge out of ``i`` leads to; ``-1 - i`` when ``i`` has no
    edges (the program finishes there)."""
    edges = t.out[i]
    for cond, fx, target, edge in edges:
        if cond is None or cond(env):
            if fx is not None:
                fx(env)
            edge_counts[edge] += 1
            return target
    if edges:
        raise StepError(
            f"no edge out of {t.ids[i]!r} has a condition that holds", "no_edge", node=t.ids[i]
        )
    return -1 - i


def take(
    t: Tables, env: Env, taken: dict[str, bool], i: int, c: ChoiceRow, edge_counts: list[int]
) -> int:
    """Apply choice ``c`` at node ``i``; the node to enter next (``-1 - i`` to finish)."""
    if c[2] is not None:
        c[2](env)
    if c[3]:
        taken[c[4]] = True
    if t.exit[i] is not None:
        t.exit[i](env)
    if c[5] >= 0:
        edge_counts[c[6]] += 1
        return c[5]
    return route(t, env, i, edge_counts)
