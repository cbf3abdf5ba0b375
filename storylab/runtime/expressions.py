"""A small, safe expression language for conditions, effects and templates.

Expressions are tokenised and parsed by hand (a Pratt parser, in
:mod:`storylab.runtime.syntax`), then compiled once into closures; nothing ever reaches
``eval``. Names an expression can read:

``rel.<npc>.<field>``
    a relationship value (``rel.self.affinity`` reads the NPC the program runs for); 0 when unset
``npc.<field>``
    the same as ``rel.self.<field>``: the relationship value of the NPC the program (or a
    world's interaction or derived value) runs for, e.g. ``npc.trust >= 10``
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

Values are bounded: text and lists hold at most :data:`MAX_TEXT` characters or items,
integers fit in 64 bits (:data:`INT_RANGE`, what a save can write), numbers are finite.
An operation that would pass a bound fails with an :class:`EvaluationError` (code
``value_too_large``) before it builds the value, so ``'x' * 999999999`` costs nothing and
a variable squared on every pass stops at 64 bits. ``%`` takes numbers only.

>>> env = Env(flags={"met": True}, relationships={"mara": {"affinity": 35}}, npc="mara")
>>> compile_expression("flags.met and rel.self.affinity >= 30").evaluate(env)
True
>>> compile_expression("rel.mara.affinity + 5").evaluate(env)
40
>>> compile_expression("npc.affinity == rel.self.affinity").evaluate(env)
True
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from storylab.runtime.syntax import MAX_LENGTH, ExpressionError, parse

__all__ = [
    "INT_RANGE",
    "MAX_LENGTH",
    "MAX_TEXT",
    "Env",
    "EvaluationError",
    "Expression",
    "ExpressionError",
    "bounded",
    "compile_expression",
    "format_value",
]

Fn = Callable[[Any], Any]

_EMPTY: Mapping[str, Any] = {}


class EvaluationError(ExpressionError):
    """An expression that parsed but failed on the values it met (types, division by 0).

    ``code`` is ``evaluation_failed``, or ``value_too_large`` when a value would pass the
    language's bounds (:data:`MAX_TEXT`, :data:`INT_RANGE`, finite numbers).
    """

    def __init__(self, message: str, source: str, position: int, code: str = "evaluation_failed"):
        super().__init__(message, source, position)
        self.code = code


#: Longest text or list a value may be (characters or items).
MAX_TEXT = 10_000
#: Integers a value may hold: what a save can write (64 bits, signed or not).
INT_RANGE = (-(2**63), 2**64)
_LO, _HI = INT_RANGE


class _TooLarge(Exception):
    """A value beyond the bounds (turned into an :class:`EvaluationError` by the guards)."""


def bounded(value: Any) -> Any:
    """``value`` when it is within the language's bounds, else :class:`_TooLarge`."""
    cls = value.__class__
    if cls is int:
        if not _LO <= value < _HI:
            raise _TooLarge(f"integer {_digits(value)} is outside 64 bits")
    elif cls is float:
        if value - value != 0:  # inf - inf and nan - nan are nan
            raise _TooLarge(f"number {value} is not finite")
    elif (cls is str or cls is tuple) and len(value) > MAX_TEXT:
        raise _TooLarge(
            f"{'text' if cls is str else 'list'} of {len(value):,} exceeds {MAX_TEXT:,}"
        )
    return value


def _digits(value: int) -> str:
    """A short description of a large integer (its digits are never all written out)."""
    return f"of about {int(value.bit_length() * 0.30103) + 1} digits"


def _mul(a: Any, b: Any) -> Any:
    """``a * b`` refusing results beyond the bounds before building them."""
    if a.__class__ is int and b.__class__ is int:
        if a.bit_length() + b.bit_length() > 130:
            raise _TooLarge("the product of two integers is outside 64 bits")
    elif isinstance(a, str | tuple) or isinstance(b, str | tuple):
        seq, n = (a, b) if isinstance(a, str | tuple) else (b, a)
        if isinstance(n, int) and len(seq) * n > MAX_TEXT:
            raise _TooLarge(f"repeating {len(seq):,} items {n:,} times exceeds {MAX_TEXT:,}")
    return bounded(a * b)


def _mod(a: Any, b: Any) -> Any:
    """``a % b`` on numbers only (``%`` formatting of text is not part of the language)."""
    if isinstance(a, str):
        raise TypeError("'%' takes numbers; write text with a template's {holes}")
    return a % b


def _div(a: Any, b: Any) -> Any:
    return bounded(a / b)


def _fail(exc: Exception, what: str, source: str, pos: int) -> EvaluationError:
    """The evaluation error for ``exc`` raised while doing ``what``."""
    if isinstance(exc, _TooLarge):
        return EvaluationError(f"value too large: {exc}", source, pos, "value_too_large")
    return EvaluationError(f"cannot {what}: {exc}", source, pos)


_ERRORS = (TypeError, ZeroDivisionError, OverflowError, _TooLarge)


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
        except _ERRORS as exc:
            raise _fail(exc, what, source, pos) from None

    return guarded


#: Arithmetic; ``+`` and ``-`` results are checked against the bounds by the caller
#: (they at most double a value), the others before they build anything big.
_ARITH = {"+": operator.add, "-": operator.sub, "*": _mul, "/": _div, "%": _mod}
_GROWS = {"+", "-"}
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
            return _guard(lambda env: bounded(-inner(env)), self.source, pos, "negate")
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
        if op in _GROWS:
            return self.growing(op, a, b, is_const and value, left, pos)
        if is_const and left[0] == "name" and left[2] == "var":
            return self.variable_op(left[3][0], left[1], func, value, what, pos)
        if is_const:  # one closure, the guard inlined: the common `name op literal` case

            def with_const(env: Any) -> Any:
                try:
                    return func(a(env), value)
                except _ERRORS as exc:
                    raise _fail(exc, what, source, pos) from None

            return with_const

        def general(env: Any) -> Any:
            try:
                return func(a(env), b(env))
            except _ERRORS as exc:
                raise _fail(exc, what, source, pos) from None

        return general

    def growing(self, op: str, a: Fn, b: Fn, const: Any, left: tuple, pos: int) -> Fn:
        """``+`` or ``-``, with the result checked against the bounds (an integer in range,
        the common case, inline); ``var.<key> op literal`` read inline as in
        :meth:`variable_op`. ``const`` is the right operand when it is a literal, else
        ``False``."""
        func, source = _ARITH[op], self.source

        def checked(result: Any) -> Any:
            try:
                return bounded(result)
            except _TooLarge as exc:
                raise _fail(exc, "compute", source, pos) from None

        if const is not False and left[0] == "name" and left[2] == "var":
            key, at = left[3][0], left[1]

            def variable_grows(env: Any) -> Any:
                try:
                    current = env.variables[key]
                except KeyError:
                    raise EvaluationError(f"var.{key} is not set", source, at) from None
                try:
                    result = func(current, const)
                except _ERRORS as exc:
                    raise _fail(exc, "compute", source, pos) from None
                if result.__class__ is int and _LO <= result < _HI:
                    return result
                return checked(result)

            return variable_grows

        def grows(env: Any) -> Any:
            try:
                result = func(a(env), b(env))
            except _ERRORS as exc:
                raise _fail(exc, "compute", source, pos) from None
            if result.__class__ is int and _LO <= result < _HI:
                return result
            return checked(result)

        return grows

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
            except _ERRORS as exc:
                raise _fail(exc, what, source, pos) from None

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
