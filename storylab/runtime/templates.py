"""Templates: text with ``{expression}`` holes, filled from an expression ``Env``.

Holes use the expression language of :mod:`storylab.runtime.expressions`; ``{{`` and ``}}``
write literal braces. Errors report positions in the whole template text.

>>> from storylab.runtime.expressions import Env
>>> Template("Affinity {rel.mara.affinity + 5}!").render(
...     Env(relationships={"mara": {"affinity": 35}}))
'Affinity 40!'
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from storylab.runtime.expressions import Expression, format_value
from storylab.runtime.syntax import MAX_LENGTH, ExpressionError, Parser, tokenize

__all__ = ["Template", "compile_template"]


class Template:
    """Text with ``{expression}`` holes; ``{{`` and ``}}`` write literal braces.

    ``render(env)`` gives the text with every hole filled from ``env`` (a function built
    once per template: the text itself when it has no holes).

    >>> from storylab.runtime.expressions import Env
    >>> Template("Hello {player.name}").render(Env(player={"name": "Ash"}))
    'Hello Ash'
    """

    __slots__ = ("parts", "refs", "render", "source", "static")

    def __init__(self, source: str):
        self.source = source
        if "{" not in source and "}" not in source:  # plain text: nothing to parse
            self.parts, self.static, self.refs = (source,) if source else (), source, frozenset()
            self.render: Callable[[Any], str] = lambda env: source
            return
        parts: list[str | Expression] = []
        text: list[str] = []
        i, n = 0, len(source)
        while i < n:
            ch = source[i]
            if ch in "{}" and i + 1 < n and source[i + 1] == ch:
                text.append(ch)
                i += 2
            elif ch == "}":
                raise ExpressionError("unmatched '}' (write '}}' for a brace)", source, i)
            elif ch == "{":
                close = source.find("}", i + 1)
                if close < 0:
                    raise ExpressionError("unclosed '{'", source, i)
                if text:
                    parts.append("".join(text))
                    text = []
                parts.append(_template_hole(source, i + 1, close))
                i = close + 1
            else:
                text.append(ch)
                i += 1
        if text:
            parts.append("".join(text))
        self.parts = tuple(parts)
        self.static = parts[0] if len(parts) == 1 and isinstance(parts[0], str) else None
        if not parts:
            self.static = ""
        self.refs = frozenset(r for p in parts if isinstance(p, Expression) for r in p.refs)
        self.render = _renderer(self.parts, self.static)


def _renderer(parts: tuple[str | Expression, ...], static: str | None) -> Callable[[Any], str]:
    """A function filling the holes of ``parts`` (one hole, the common case, inlined)."""
    if static is not None:
        return lambda env: static
    holes = [i for i, p in enumerate(parts) if isinstance(p, Expression)]
    if len(holes) == 1:
        k = holes[0]
        head, tail = "".join(parts[:k]), "".join(parts[k + 1 :])  # type: ignore[arg-type]
        hole = parts[k].evaluate  # type: ignore[union-attr]

        def one_hole(env: Any) -> str:
            value = hole(env)
            cls = value.__class__
            return (
                head
                + (value if cls is str else str(value) if cls is int else format_value(value))
                + tail
            )

        return one_hole

    def holes_filled(env: Any) -> str:
        out = []
        for part in parts:
            if part.__class__ is str:
                out.append(part)
            else:
                value = part.evaluate(env)  # type: ignore[union-attr]
                cls = value.__class__
                out.append(
                    value if cls is str else str(value) if cls is int else format_value(value)
                )
        return "".join(out)  # type: ignore[arg-type]

    return holes_filled


def _template_hole(source: str, start: int, end: int) -> Expression:
    """Compile the expression inside a template hole, reporting positions in the template."""
    if end - start > MAX_LENGTH:
        raise ExpressionError(f"hole longer than {MAX_LENGTH} characters", source, start)
    tokens = tokenize(source, start, end)
    parser = Parser(source, tokens)
    if parser.peek().kind == "end":
        raise ExpressionError("empty '{}' in template", source, start)
    tree = parser.expression()
    if parser.peek().kind != "end":
        raise parser.fail(f"unexpected {parser._text(parser.peek())!r}")
    return Expression(source[start:end], _tree=tree, _context=source)


@lru_cache(maxsize=8192)
def compile_template(source: str) -> Template:
    """A :class:`Template` for ``source``, parsed once per text (cached; templates never
    change).

    Raises
    ------
    ExpressionError
        With the position of the first problem.
    """
    return Template(source)
