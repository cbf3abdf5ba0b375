"""Programs compiled for play: node index, compiled conditions, effects and templates.

The engine's inner loop reads only these slotted objects, never the pydantic models.
State changes go through a :class:`Txn` that records how to undo them, which is what
makes a failing step leave the session exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storylab._data import DataError
from storylab.runtime.check import check_program
from storylab.runtime.expressions import Env, Expression, compile_expression
from storylab.runtime.program import (
    ActionBlockNode,
    ActionNode,
    ChoiceNode,
    DialogueNode,
    Effects,
    ExternalCallNode,
    NarrativeProgram,
    SceneNode,
    WaitNode,
)
from storylab.runtime.results import ChoiceOffer, Line, StepError
from storylab.runtime.templates import Template

__all__ = [
    "ACTION",
    "BLOCK",
    "BRANCH",
    "CALL",
    "CHOICE",
    "COMMENT",
    "DIALOGUE",
    "SCENE",
    "WAIT",
    "CompiledProgram",
    "Txn",
    "compile_program",
]

DIALOGUE, CHOICE, ACTION, BLOCK, SCENE, BRANCH, WAIT, CALL, COMMENT = range(9)
_KINDS = {
    "dialogue": DIALOGUE,
    "choice": CHOICE,
    "action": ACTION,
    "action_block": BLOCK,
    "scene": SCENE,
    "branch": BRANCH,
    "wait": WAIT,
    "external_call": CALL,
    "comment": COMMENT,
}
_MISSING = object()
_SCALARS = (bool, int, float, str, type(None))


class Txn:
    """An undo log of dict writes; :meth:`rollback` restores every written key."""

    __slots__ = ("log",)

    def __init__(self) -> None:
        self.log: list[tuple[dict, Any, Any]] = []

    def set(self, table: dict, key: Any, value: Any) -> None:
        """``table[key] = value``, remembering the old value."""
        self.log.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def rollback(self) -> None:
        """Undo every write, newest first."""
        for table, key, old in reversed(self.log):
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old
        self.log.clear()


def _value_fn(value: Any) -> Callable[[Env], Any]:
    if isinstance(value, str):
        return compile_expression(value).evaluate
    return lambda env: value


def check_scalar(value: Any, where: str) -> Any:
    """``value`` when it is a bool, number, text or none; else a :class:`StepError`."""
    if not isinstance(value, _SCALARS):
        raise StepError(f"{where}: variables hold true/false, numbers, text or none, not {value!r}")
    return value


class CEffects:
    """Compiled :class:`~storylab.runtime.program.Effects`."""

    __slots__ = ("arcs", "flags", "inv", "quests", "rel", "vars")

    def __init__(self, fx: Effects):
        self.rel = tuple(
            (w, f, d) for w, fields in fx.relationships.items() for f, d in fields.items()
        )
        self.flags = tuple(fx.flags.items())
        self.inv = tuple(fx.inventory.items())
        self.arcs = tuple(fx.arcs.items())
        self.quests = tuple(fx.quests.items())
        self.vars = tuple((k, _value_fn(v)) for k, v in fx.variables.items())

    def apply(self, tx: Txn, env: Env) -> None:
        """Apply to the session and program variables in ``env``, logging undo into ``tx``."""
        if self.rel:
            rels = env.relationships
            for who, field, delta in self.rel:
                npc = env.npc if who == "self" else who
                row = rels.get(npc)
                if row is None:
                    row = {}
                    tx.set(rels, npc, row)
                current = row.get(field, 0)
                if isinstance(current, bool) or not isinstance(current, int | float):
                    raise StepError(f"rel.{npc}.{field} is {current!r}; cannot add {delta}")
                tx.set(row, field, current + delta)
        for name, value in self.flags:
            tx.set(env.flags, name, value)
        for item, delta in self.inv:
            count = env.inventory.get(item, 0) + delta
            if count < 0:
                raise StepError(f"inventory: {item} would drop to {count}")
            tx.set(env.inventory, item, count)
        for name, delta in self.arcs:
            tx.set(env.arcs, name, env.arcs.get(name, 0) + delta)
        for name, value in self.quests:
            tx.set(env.quests, name, value)
        for name, fn in self.vars:
            tx.set(env.variables, name, check_scalar(fn(env), f"var.{name}"))


def _effects(fx: Effects | None) -> CEffects | None:
    if fx is None or not any(fx.model_dump().values()):
        return None
    return CEffects(fx)


def _all(conditions: list[str]) -> tuple[Callable[[Env], bool] | None, tuple[Expression, ...]]:
    exprs = tuple(compile_expression(c) for c in conditions)
    if not exprs:
        return None, exprs
    if len(exprs) == 1:
        return exprs[0].evaluate, exprs
    fns = tuple(e.evaluate for e in exprs)
    return (lambda env: all(f(env) for f in fns)), exprs


class CChoice:
    """A compiled choice."""

    __slots__ = ("cond", "effects", "exprs", "id", "key", "offer", "once_only", "text", "to", "via")

    def __init__(self, node_id: str, choice: Any):
        self.id, self.text = choice.id, Template(choice.text)
        self.cond, self.exprs = _all(choice.conditions)
        self.effects, self.once_only, self.to = (
            _effects(choice.effects),
            choice.once_only,
            choice.to,
        )
        self.key, self.via = f"{node_id}/{choice.id}", f"choice:{choice.id}"
        static = self.text.static
        self.offer = ChoiceOffer(self.id, static) if static is not None else None


class CNode:
    """A compiled node; which fields are set depends on ``kind``."""

    __slots__ = (
        "args",
        "block",
        "choice_index",
        "choices",
        "condition",
        "delay",
        "duration",
        "edges",
        "effects",
        "end",
        "fallback",
        "gen_program",
        "handler",
        "id",
        "kind",
        "line",
        "next",
        "next_via",
        "on_enter",
        "on_exit",
        "prompt",
        "scene",
        "speaker",
        "store_as",
        "text",
    )

    def __init__(self, node: Any):
        for name in self.__slots__:
            setattr(self, name, None)
        self.id, self.kind, self.end = node.id, _KINDS[node.type], node.end
        self.on_enter, self.on_exit = _effects(node.on_enter), _effects(node.on_exit)
        self.edges: tuple = ()
        if isinstance(node, DialogueNode):
            self.text, self.speaker = Template(node.text), node.speaker
            if self.text.static is not None:
                self.line = Line(node.speaker, self.text.static, node.id)
            self.gen_program = node.generation_program
        elif isinstance(node, ChoiceNode):
            self.choices = tuple(CChoice(node.id, c) for c in node.choices)
            self.choice_index = {c.id: c for c in self.choices}
            self.prompt = Template(node.prompt) if node.prompt is not None else None
            self.fallback = node.fallback
        elif isinstance(node, ActionNode):
            self.effects, self.delay = _effects(node.effects), node.delay
        elif isinstance(node, ActionBlockNode):
            self.block = node
        elif isinstance(node, SceneNode):
            self.scene = (node.scene_id, node.intent, dict(node.roles))
        elif isinstance(node, WaitNode):
            self.duration = node.duration
            self.condition = compile_expression(node.condition) if node.condition else None
        elif isinstance(node, ExternalCallNode):
            self.handler, self.store_as = node.handler, node.store_as
            self.args = tuple((k, _value_fn(v)) for k, v in node.args.items())


class CompiledProgram:
    """A checked program ready to play.

    Attributes
    ----------
    source : NarrativeProgram
        The model it came from.
    nodes : dict
        Node id -> :class:`CNode`; each node's ``edges`` is a tuple of
        ``(condition or None, effects or None, target, how)`` in file order.
    handlers, blocks : frozenset
        External handlers and action-block ids the program names.
    """

    __slots__ = ("blocks", "defaults", "entry", "handlers", "id", "nodes", "source", "version")

    def __init__(self, program: NarrativeProgram):
        self.source, self.id, self.version = program, program.id, program.version
        self.entry, self.defaults = program.entry, dict(program.variables)
        self.nodes = {n.id: CNode(n) for n in program.nodes}
        outgoing: dict[str, list] = {n: [] for n in self.nodes}
        for i, edge in enumerate(program.edges):
            cond, _ = _all(edge.conditions)
            via = f"edge:{edge.id if edge.id is not None else i}"
            outgoing[edge.from_].append((cond, _effects(edge.effects), edge.to, via))
        for node_id, edges in outgoing.items():
            node = self.nodes[node_id]
            node.edges = tuple(edges)
            if len(edges) == 1 and edges[0][0] is None and edges[0][1] is None:
                node.next, node.next_via = edges[0][2], edges[0][3]
        self.handlers = frozenset(
            n.handler for n in program.nodes if isinstance(n, ExternalCallNode)
        )
        self.blocks = frozenset(
            b
            for n in program.nodes
            if isinstance(n, ActionBlockNode)
            for b in (*n.blocks, *n.fallback_blocks)
        )


def compile_program(program: NarrativeProgram) -> CompiledProgram:
    """Check and compile ``program``.

    Raises
    ------
    DataError
        When :func:`~storylab.runtime.check.check_program` finds errors.
    """
    report = check_program(program, f"program {program.id}")
    if report.errors:
        raise DataError(report.errors)
    return CompiledProgram(program)
