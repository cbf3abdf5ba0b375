"""The expression language's syntax: tokenizer and Pratt parser, text to a syntax tree.

:mod:`storylab.runtime.expressions` compiles the trees into closures and documents the
language; :mod:`storylab.runtime.templates` parses the holes of templates with the same
parser.

Trees are tuples, each carrying the position it starts at: ``("lit", pos, value)``,
``("name", pos, root, parts)``, ``("call", pos, function, args)``, ``("list", pos,
items)``, ``("not", pos, x)``, ``("neg", pos, x)``, ``("and"|"or", pos, a, b)`` and
``("bin", pos, op, a, b)``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MAX_LENGTH", "ExpressionError", "Parser", "Token", "parse", "tokenize"]

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

#: Longest expression accepted (keeps parsing and evaluation well within Python's stack).
MAX_LENGTH = 400


class ExpressionError(ValueError):
    """An expression that does not parse, shown with a caret under the position."""

    def __init__(self, message: str, source: str, position: int):
        self.message, self.source, self.position = message, source, position
        caret = " " * position + "^"
        super().__init__(f"{message} at position {position}\n  {source}\n  {caret}")


class Token:
    """One token: ``kind`` is ``lit``, ``name``, ``op`` or ``end``."""

    __slots__ = ("kind", "pos", "value")

    def __init__(self, kind: str, value: Any, pos: int):
        self.kind, self.value, self.pos = kind, value, pos


def tokenize(source: str, offset: int = 0, end: int | None = None) -> list[Token]:
    """The tokens of ``source[offset:end]`` (positions index ``source``), then ``end``."""
    tokens: list[Token] = []
    pos, stop = offset, len(source) if end is None else end
    while pos < stop:
        m = _TOKEN.match(source, pos, stop)
        if m is None:
            raise ExpressionError(f"unexpected character {source[pos]!r}", source, pos)
        kind, text = m.lastgroup or "", m.group()
        if kind == "num":
            number = float(text) if "." in text else int(text)
            if number >= 2**64 or number - number != 0:  # what a save can write, finite
                raise ExpressionError("number too large (integers fit in 64 bits)", source, pos)
            tokens.append(Token("lit", number, pos))
        elif kind == "str":
            body = re.sub(r"\\(.)", r"\1", text[1:-1])
            tokens.append(Token("lit", body, pos))
        elif kind == "name" and text in _WORD_OPS:
            tokens.append(Token("op", _WORD_OPS[text], pos))
        elif kind == "name" and text in _LITERALS:
            tokens.append(Token("lit", _LITERALS[text], pos))
        elif kind == "name":
            tokens.append(Token("name", text, pos))
        elif kind == "op":
            tokens.append(Token("op", _SYMBOL_ALIASES.get(text, text), pos))
        pos = m.end()
    tokens.append(Token("end", None, stop))
    return tokens


#: Binding power of the binary operators (``notin`` is ``not in``).
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


class Parser:
    """A Pratt parser over :func:`tokenize` output; :meth:`expression` parses one."""

    def __init__(self, source: str, tokens: list[Token]):
        self.source, self.tokens, self.i = source, tokens, 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, message: str, tok: Token | None = None) -> ExpressionError:
        return ExpressionError(message, self.source, (tok or self.peek()).pos)

    def expect(self, op: str) -> Token:
        tok = self.peek()
        if tok.kind != "op" or tok.value != op:
            found = "the end" if tok.kind == "end" else repr(self._text(tok))
            raise self.fail(f"expected {op!r}, found {found}")
        return self.take()

    def _text(self, tok: Token) -> str:
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

    def name(self, tok: Token) -> tuple:
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
        if root == "npc":  # npc.<field>: the NPC's own relationship value, rel.self.<field>
            if len(parts) != 1:
                shape = "npc.<field> (the same as rel.self.<field>)"
                raise self.fail(f"npc takes the form {shape}", tok)
            return ("name", tok.pos, "rel", ("self", parts[0]))
        if root not in _ROOTS:
            known = ", ".join(sorted(set(_ROOTS) | _BARE))
            raise self.fail(f"unknown name {root!r} (names start with: {known})", tok)
        if len(parts) != _ROOTS[root]:
            shape = "rel.<npc>.<field>" if root == "rel" else f"{root}.<name>"
            raise self.fail(f"{root} takes the form {shape}", tok)
        return ("name", tok.pos, root, tuple(parts))


def parse(source: str) -> tuple:
    """The syntax tree of a whole expression.

    Raises
    ------
    ExpressionError
        With the position of the first problem.
    """
    parser = Parser(source, tokenize(source))
    if parser.peek().kind == "end":
        raise parser.fail("empty expression")
    tree = parser.expression()
    if parser.peek().kind != "end":
        raise parser.fail(f"unexpected {parser._text(parser.peek())!r}")
    return tree
