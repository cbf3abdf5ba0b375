"""A small, safe expression language for conditions, effects and templates.

Expressions are tokenised and parsed by hand (a Pratt parser, in
:mod:`storylab.runtime.syntax`), then compiled once into closures; nothing ever reaches
``eval``. Names an expression can read:

``rel.<npc>.<field>``
    a relationship value (``rel.self.affinity`` reads the NPC the program runs for); 0 when unset
``flags.<name>``
    a session flag; ``false`` when unset
``var.<name>``
    a variable of the running program (declared in the program)
``inv.<item>`` and ``inv``
    how many of an item the player holds (0 when none); ``"rope" in inv``
``arc.<name>``, ``quest.<name>``
    arc values (0 when unset) and quest stages (``none`` when unset)
``player.<field>``, ``time``, ``npc``
    player fields, world time, the NPC's id

Templates (:mod:`storylab.runtime.templates`) fill ``{expression}`` holes in text.

Functions: ``visited("node")``, ``visits("node")``, ``min``, ``max``, ``abs``.
Operators, loosest first: ``or``/``||``; ``and``/``&&`` (both return the operand that
decided, so ``{flags.met and 'Again?' or 'Hello.'}`` picks a text); ``not``/``!``; comparisons
``== != < <= > >=``, ``in`` and ``not in``; ``+ -``; ``* / %``; unary ``-``.
Literals: numbers, ``'text'`` or ``"text"``, ``true``, ``false``, ``none``, ``[a, b]``.

>>> env = Env(flags={"met": True}, relationships={"mara": {"affinity": 35}}, npc="mara")
>>> compile_expression("flags.met and rel.self.affinity >= 30").evaluate(env)
True
>>> compile_expression("rel.mara.affinity + 5").evaluate(env)
40
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from storylab.runtime.syntax import MAX_LENGTH, ExpressionError, parse

__all__ = [
    "MAX_LENGTH",
    "Env",
    "EvaluationError",
    "Expression",
    "ExpressionError",
    "compile_expression",
    "format_value",
]

Fn = Callable[[Any], Any]

_EMPTY: Mapping[str, Any] = {}


class EvaluationError(ExpressionError):
    """An expression that parsed but failed on the values it met (types, division by 0)."""


class Env:
    """What expressions read: session facts, the running program's variables and visits.

    The engine builds one per step; tests and tools can build one from plain dicts.
    """

    __slots__ = (
        "arcs",
        "flags",
        "inventory",
        "npc",
        "player",
        "quests",
        "relationships",
        "variables",
        "visits",
        "world_time",
    )

    def __init__(
        self,
        *,
        flags: Mapping[str, Any] | None = None,
        relationships: Mapping[str, Mapping[str, Any]] | None = None,
        inventory: Mapping[str, int] | None = None,
        arcs: Mapping[str, float] | None = None,
        quests: Mapping[str, Any] | None = None,
        player: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any] | None = None,
        visits: Mapping[str, int] | None = None,
        npc: str = "",
        world_time: float = 0.0,
    ):
        self.flags = flags if flags is not None else {}
        self.relationships = relationships if relationships is not None else {}
        self.inventory = inventory if inventory is not None else {}
        self.arcs = arcs if arcs is not None else {}
        self.quests = quests if quests is not None else {}
        self.player = player if player is not None else {}
        self.variables = variables if variables is not None else {}
        self.visits = visits if visits is not None else {}
        self.npc = npc
        self.world_time = world_time


def format_value(value: Any) -> str:
    """How a value appears in text: ``true``/``false``/``none``, whole floats without ``.0``."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _guard(fn: Fn, source: str, pos: int, what: str) -> Fn:
    def guarded(env: Any) -> Any:
        try:
            return fn(env)
        except (TypeError, ZeroDivisionError, OverflowError) as exc:
            raise EvaluationError(f"cannot {what}: {exc}", source, pos) from None

    return guarded


_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_ARITH["%"] = operator.mod
_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _contains(item: Any, container: Any) -> bool:
    if isinstance(container, Mapping):  # inventory: held means a positive count
        return bool(container.get(item, 0))
    return item in container


class _Compiler:
    def __init__(self, source: str):
        self.source = source
        self.refs: set[tuple[str, ...]] = set()

    def const(self, node: tuple) -> tuple[bool, Any]:
        return (True, node[2]) if node[0] == "lit" else (False, None)

    def build(self, node: tuple) -> Fn:
        kind, pos = node[0], node[1]
        if kind == "lit":
            value = node[2]
            return lambda env: value
        if kind == "list":
            items = [self.build(n) for n in node[2]]
            if all(n[0] == "lit" for n in node[2]):
                frozen = tuple(n[2] for n in node[2])
                return lambda env: frozen
            return lambda env: tuple(f(env) for f in items)
        if kind == "name":
            return self.name(node[2], node[3], pos)
        if kind == "call":
            return self.call(node[2], node[3], pos)
        if kind == "not":
            inner = self.build(node[2])
            return lambda env: not inner(env)
        if kind == "neg":
            inner = self.build(node[2])
            return _guard(lambda env: -inner(env), self.source, pos, "negate")
        if kind in ("and", "or"):
            a, b = self.build(node[2]), self.build(node[3])
            if kind == "and":
                return lambda env: a(env) and b(env)
            return lambda env: a(env) or b(env)
        return self.binary(node[2], node[3], node[4], pos)

    def binary(self, op: str, left: tuple, right: tuple, pos: int) -> Fn:
        a, b = self.build(left), self.build(right)
        is_const, value = self.const(right)
        if op in ("in", "notin"):
            negate = op == "notin"
            return _guard(
                lambda env: _contains(a(env), b(env)) != negate, self.source, pos, "test membership"
            )
        func = _COMPARE.get(op) or _ARITH[op]
        what = "compare" if op in _COMPARE else "compute"
        source = self.source
        if is_const and left[0] == "name" and left[2] == "var":
            return self.variable_op(left[3][0], left[1], func, value, what, pos)
        if is_const:  # one closure, the guard inlined: the common `name op literal` case

            def with_const(env: Any) -> Any:
                try:
                    return func(a(env), value)
                except (TypeError, ZeroDivisionError, OverflowError) as exc:
                    raise EvaluationError(f"cannot {what}: {exc}", source, pos) from None

            return with_const

        def general(env: Any) -> Any:
            try:
                return func(a(env), b(env))
            except (TypeError, ZeroDivisionError, OverflowError) as exc:
                raise EvaluationError(f"cannot {what}: {exc}", source, pos) from None

        return general

    def variable_op(self, key: str, at: int, func: Fn, value: Any, what: str, pos: int) -> Fn:
        """``var.<key> op literal`` as one closure: the commonest condition and effect, with
        the variable read and both error guards inlined."""
        source = self.source

        def variable_with_const(env: Any) -> Any:
            try:
                current = env.variables[key]
            except KeyError:
                raise EvaluationError(f"var.{key} is not set", source, at) from None
            try:
                return func(current, value)
            except (TypeError, ZeroDivisionError, OverflowError) as exc:
                raise EvaluationError(f"cannot {what}: {exc}", source, pos) from None

        return variable_with_const

    def name(self, root: str, parts: tuple[str, ...], pos: int) -> Fn:
        self.refs.add((root, *parts))
        source = self.source
        if root == "time":
            return lambda env: env.world_time
        if root == "npc":
            return lambda env: env.npc
        if root == "inv" and not parts:
            return lambda env: env.inventory
        if root == "rel":
            who, field = parts
            if who == "self":
                return lambda env: env.relationships.get(env.npc, _EMPTY).get(field, 0)
            return lambda env: env.relationships.get(who, _EMPTY).get(field, 0)
        key = parts[0]
        if root == "flags":
            return lambda env: env.flags.get(key, False)
        if root == "inv":
            return lambda env: env.inventory.get(key, 0)
        if root == "arc":
            return lambda env: env.arcs.get(key, 0)
        if root == "quest":
            return lambda env: env.quests.get(key)
        if root == "var":

            def variable(env: Any) -> Any:
                try:
                    return env.variables[key]
                except KeyError:
                    raise EvaluationError(f"var.{key} is not set", source, pos) from None

            return variable

        def player(env: Any) -> Any:
            try:
                return env.player[key]
            except KeyError:
                raise EvaluationError(f"player.{key} is not set", source, pos) from None

        return player

    def call(self, fn: str, args: list[tuple], pos: int) -> Fn:
        if fn in ("visited", "visits"):
            node_id = str(args[0][2])
            self.refs.add(("visits", node_id))
            if fn == "visited":
                return lambda env: env.visits.get(node_id, 0) > 0
            return lambda env: env.visits.get(node_id, 0)
        funcs = [self.build(a) for a in args]
        impl = {"min": min, "max": max, "abs": abs}[fn]
        if fn == "abs":
            only = funcs[0]
            return _guard(lambda env: abs(only(env)), self.source, pos, "take abs")
        return _guard(lambda env: impl(f(env) for f in funcs), self.source, pos, f"take {fn}")


class Expression:
    """A parsed, compiled expression; :meth:`evaluate` runs it against an :class:`Env`.

    Attributes
    ----------
    source : str
        The text as written.
    refs : frozenset of tuple
        The names it reads, e.g. ``("var", "gold")`` or ``("visits", "intro")``.
    """

    __slots__ = ("evaluate", "refs", "source")

    def __init__(self, source: str, *, _tree: tuple | None = None, _context: str | None = None):
        if len(source) > MAX_LENGTH:
            raise ExpressionError(f"longer than {MAX_LENGTH} characters", source, MAX_LENGTH)
        tree = parse(source) if _tree is None else _tree
        compiler = _Compiler(source if _context is None else _context)
        self.evaluate: Fn = compiler.build(tree)
        self.source = source
        self.refs = frozenset(compiler.refs)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


@lru_cache(maxsize=8192)
def compile_expression(source: str) -> Expression:
    """Parse and compile ``source`` (cached by text, the 8,192 most recent).

    Raises
    ------
    ExpressionError
        With the position of the first problem.
    """
    return Expression(source)
