"""A small, safe expression language for conditions, effects and templates.

Expressions are tokenised and parsed by hand (a Pratt parser), then compiled once into
closures; nothing ever reaches ``eval``. Names an expression can read:

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
import re
from collections.abc import Callable, Mapping
from typing import Any

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

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<num>\d+(?:\.\d+)?)
      |(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
      |(?P<op>==|!=|<=|>=|&&|\|\||[<>+\-*/%()\[\],.!])""",
    re.VERBOSE,
)
_WORD_OPS = {"and": "and", "or": "or", "not": "not", "in": "in"}
_SYMBOL_ALIASES = {"&&": "and", "||": "or", "!": "not"}
_LITERALS = {"true": True, "false": False, "none": None}
_ROOTS = {"rel": 2, "flags": 1, "var": 1, "inv": 1, "arc": 1, "quest": 1, "player": 1}
_BARE = {"time", "npc", "inv"}
_FUNCTIONS = {"visited": 1, "visits": 1, "min": -1, "max": -1, "abs": 1}
_EMPTY: Mapping[str, Any] = {}


class ExpressionError(ValueError):
    """An expression that does not parse, shown with a caret under the position."""

    def __init__(self, message: str, source: str, position: int):
        self.message, self.source, self.position = message, source, position
        caret = " " * position + "^"
        super().__init__(f"{message} at position {position}\n  {source}\n  {caret}")


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


class _Token:
    __slots__ = ("kind", "pos", "value")

    def __init__(self, kind: str, value: Any, pos: int):
        self.kind, self.value, self.pos = kind, value, pos


def _tokenize(source: str, offset: int = 0, end: int | None = None) -> list[_Token]:
    tokens: list[_Token] = []
    pos, stop = offset, len(source) if end is None else end
    while pos < stop:
        m = _TOKEN.match(source, pos, stop)
        if m is None:
            raise ExpressionError(f"unexpected character {source[pos]!r}", source, pos)
        kind, text = m.lastgroup or "", m.group()
        if kind == "num":
            tokens.append(_Token("lit", float(text) if "." in text else int(text), pos))
        elif kind == "str":
            body = re.sub(r"\\(.)", r"\1", text[1:-1])
            tokens.append(_Token("lit", body, pos))
        elif kind == "name" and text in _WORD_OPS:
            tokens.append(_Token("op", _WORD_OPS[text], pos))
        elif kind == "name" and text in _LITERALS:
            tokens.append(_Token("lit", _LITERALS[text], pos))
        elif kind == "name":
            tokens.append(_Token("name", text, pos))
        elif kind == "op":
            tokens.append(_Token("op", _SYMBOL_ALIASES.get(text, text), pos))
        pos = m.end()
    tokens.append(_Token("end", None, stop))
    return tokens


# Node shapes: ("lit", value) | ("name", root, parts) | ("call", fn, args) | ("list", items)
# | ("not", x) | ("neg", x) | ("and"|"or", a, b) | ("bin", op, a, b); each carries a pos.
_BINARY = {
    "or": 1,
    "and": 2,
    "==": 4,
    "!=": 4,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "in": 4,
    "notin": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}


class _Parser:
    def __init__(self, source: str, tokens: list[_Token]):
        self.source, self.tokens, self.i = source, tokens, 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, message: str, tok: _Token | None = None) -> ExpressionError:
        return ExpressionError(message, self.source, (tok or self.peek()).pos)

    def expect(self, op: str) -> _Token:
        tok = self.peek()
        if tok.kind != "op" or tok.value != op:
            found = "the end" if tok.kind == "end" else repr(self._text(tok))
            raise self.fail(f"expected {op!r}, found {found}")
        return self.take()

    def _text(self, tok: _Token) -> str:
        return str(tok.value)

    def _binary_op(self) -> str | None:
        tok = self.peek()
        if tok.kind != "op":
            return None
        if tok.value == "not":
            nxt = self.tokens[self.i + 1]
            return "notin" if nxt.kind == "op" and nxt.value == "in" else None
        return tok.value if tok.value in _BINARY else None

    def expression(self, min_power: int = 0) -> tuple:
        left = self.prefix()
        while True:
            op = self._binary_op()
            if op is None or _BINARY[op] <= min_power:
                return left
            tok = self.take()
            if op == "notin":
                self.take()
            power = _BINARY[op]
            right = self.expression(power)
            if power == 4 and self._binary_op() in _BINARY and _BINARY[self._binary_op()] == 4:
                raise self.fail("comparisons do not chain; join them with 'and'")
            left = (
                (op, tok.pos, left, right)
                if op in ("and", "or")
                else ("bin", tok.pos, op, left, right)
            )

    def prefix(self) -> tuple:
        tok = self.take()
        if tok.kind == "lit":
            return ("lit", tok.pos, tok.value)
        if tok.kind == "op" and tok.value == "not":
            return ("not", tok.pos, self.expression(3))
        if tok.kind == "op" and tok.value == "-":
            return ("neg", tok.pos, self.expression(6))
        if tok.kind == "op" and tok.value == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if tok.kind == "op" and tok.value == "[":
            items = self._items("]")
            return ("list", tok.pos, items)
        if tok.kind == "name":
            return self.name(tok)
        found = "the end of the expression" if tok.kind == "end" else repr(self._text(tok))
        raise self.fail(f"expected a value, found {found}", tok)

    def _items(self, close: str) -> list[tuple]:
        items: list[tuple] = []
        if self.peek().kind == "op" and self.peek().value == close:
            self.take()
            return items
        while True:
            items.append(self.expression())
            if self.peek().kind == "op" and self.peek().value == ",":
                self.take()
                continue
            self.expect(close)
            return items

    def name(self, tok: _Token) -> tuple:
        root = tok.value
        if self.peek().kind == "op" and self.peek().value == "(":
            if root not in _FUNCTIONS:
                known = ", ".join(sorted(_FUNCTIONS))
                raise self.fail(f"unknown function {root!r} (known: {known})", tok)
            self.take()
            args = self._items(")")
            arity = _FUNCTIONS[root]
            if (arity >= 0 and len(args) != arity) or (arity < 0 and not args):
                raise self.fail(f"{root}() takes {max(arity, 1)} argument(s)", tok)
            if root in ("visited", "visits") and args[0][0] != "lit":
                raise self.fail(f'{root}() takes a node id in quotes, e.g. {root}("intro")', tok)
            return ("call", tok.pos, root, args)
        parts: list[str] = []
        while self.peek().kind == "op" and self.peek().value == ".":
            self.take()
            part = self.take()
            if part.kind not in ("name", "lit") or (
                part.kind == "lit" and not isinstance(part.value, int)
            ):
                raise self.fail("expected a name after '.'", part)
            parts.append(str(part.value))
        if root in _BARE and not parts:
            return ("name", tok.pos, root, ())
        if root not in _ROOTS:
            known = ", ".join(sorted(set(_ROOTS) | _BARE))
            raise self.fail(f"unknown name {root!r} (names start with: {known})", tok)
        if len(parts) != _ROOTS[root]:
            shape = "rel.<npc>.<field>" if root == "rel" else f"{root}.<name>"
            raise self.fail(f"{root} takes the form {shape}", tok)
        return ("name", tok.pos, root, tuple(parts))


#: Longest expression accepted (keeps parsing and evaluation well within Python's stack).
MAX_LENGTH = 400


def _parse(source: str) -> tuple:
    parser = _Parser(source, _tokenize(source))
    if parser.peek().kind == "end":
        raise parser.fail("empty expression")
    tree = parser.expression()
    if parser.peek().kind != "end":
        raise parser.fail(f"unexpected {parser._text(parser.peek())!r}")
    return tree


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
        tree = _parse(source) if _tree is None else _tree
        compiler = _Compiler(source if _context is None else _context)
        self.evaluate: Fn = compiler.build(tree)
        self.source = source
        self.refs = frozenset(compiler.refs)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


_CACHE: dict[str, Expression] = {}


def compile_expression(source: str) -> Expression:
    """Parse and compile ``source`` (cached by text).

    Raises
    ------
    ExpressionError
        With the position of the first problem.
    """
    found = _CACHE.get(source)
    if found is None:
        found = _CACHE[source] = Expression(source)
    return found
