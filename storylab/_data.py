"""Reading storylab YAML and JSON with errors that name the file, the path and the expectation.

Every loader in the package goes through :func:`read_document` and :func:`parse_model`, so a
bad file always fails the same way: a :class:`DataError` listing each :class:`Problem`, and no
partially built object.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = [
    "DataError",
    "Frozen",
    "Problem",
    "UnknownNameError",
    "packaged_path",
    "parse_model",
    "read_document",
]

M = TypeVar("M", bound=BaseModel)


class Frozen(BaseModel):
    """Base of every storylab data model: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a data file: where it is and what was expected there."""

    file: str
    path: str
    expected: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.expected}"


class DataError(ValueError):
    """A data file (or in-memory document) that does not match its schema."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s):\n{lines}")


class UnknownNameError(KeyError):
    """A name (genre, arc, template, action, ...) that storylab does not know."""

    def __init__(self, kind: str, name: object, known: Iterable[object]):
        self.kind, self.name, self.known = kind, name, sorted(str(k) for k in known)
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(self.known)}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


def packaged_path(name: str) -> Path:
    """Path of a YAML file shipped in ``storylab/data``."""
    return Path(str(files("storylab") / "data" / name))


#: Bounds on what :func:`read_document` accepts, so a hostile file fails fast and clearly.
MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 200
#: How many nodes aliases may add beyond the file's own (an "alias bomb" adds billions).
MAX_ALIAS_NODES = 100_000

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Limited(ValueError):
    """A document beyond one of the bounds above."""


class _StrictLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader (C when available) that refuses duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # unhashable key: the base constructor reports it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r}; each key may appear once",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_node_bounds(root: yaml.Node) -> None:
    """Refuse recursive aliases, nesting deeper than MAX_DEPTH and alias bombs.

    Walks the composed node graph once (iteratively, so depth cannot overflow the stack),
    counting each node's height and the size it expands to when aliases are followed.
    """
    height: dict[int, int] = {}
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            kids = _children(node)
            height[key] = 1 + max((height[id(c)] for c in kids), default=0)
            size[key] = 1 + sum(size[id(c)] for c in kids)
            on_path.discard(key)
            if height[key] > MAX_DEPTH:
                raise _Limited(f"nesting at most {MAX_DEPTH} levels deep")
            continue
        if key in height:
            continue
        if key in on_path:
            raise _Limited("no recursive alias (an anchor used inside itself)")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in height)
    if size[id(root)] > len(size) + MAX_ALIAS_NODES:
        raise _Limited(
            f"aliases that add at most {MAX_ALIAS_NODES:,} nodes "
            f"(these expand to {size[id(root)]:,})"
        )


def _check_depth(data: Any) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _Limited(f"nesting at most {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Limited(f"each key once (duplicate key {key!r})")
        out[key] = value
    return out


def _no_constant(name: str) -> float:
    raise _Limited(f"finite numbers ({name} is not JSON)")


def _parse_yaml(text: str) -> Any:
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_node_bounds(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _read_text(source: str | Path, label: str) -> str:
    path = Path(source)
    try:
        if path.is_dir():
            raise DataError([Problem(label, "", "a file (this is a directory)")])
        if path.stat().st_size > MAX_BYTES:
            raise DataError([Problem(label, "", f"a file of at most {MAX_BYTES:,} bytes")])
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError([Problem(label, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError([Problem(label, "", f"a readable UTF-8 text file ({exc})")]) from None


def read_document(source: str | Path, *, text: str | None = None) -> Any:
    """Parse a YAML or JSON file (or ``text`` labelled with ``source``) into Python data.

    YAML goes through the safe loader (the C one when PyYAML has it). Input is bounded:
    duplicate keys, nesting deeper than ``MAX_DEPTH``, recursive aliases, aliases that
    expand by more than ``MAX_ALIAS_NODES`` nodes, files over ``MAX_BYTES`` and integers
    too long to convert are refused, as are NaN and infinities in JSON.

    Raises
    ------
    DataError
        When the file is missing, unreadable, beyond a bound or not valid YAML/JSON; the
        problem names the file and, for syntax errors, the line and column.

    Examples
    --------
    >>> read_document("inline.yaml", text="{a: 1, b: [x, y]}")
    {'a': 1, 'b': ['x', 'y']}
    >>> read_document("inline.yaml", text="{a: 1, a: 2}")
    Traceback (most recent call last):
    ...
    storylab._data.DataError: 1 problem(s):
      - inline.yaml: line 1, column 8: valid YAML (duplicate key 'a'; each key may appear once)
    """
    label = str(source)
    if text is None:
        text = _read_text(source, label)
    elif len(text) > MAX_BYTES:
        raise DataError([Problem(label, "", f"a document of at most {MAX_BYTES:,} characters")])
    try:
        if label.endswith(".json"):
            data = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_no_constant)
            _check_depth(data)
            return data
        return _parse_yaml(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise DataError([Problem(label, where, f"valid JSON ({exc.msg})")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise DataError([Problem(label, where, f"valid YAML ({reason})")]) from None
    except RecursionError:
        raise DataError([Problem(label, "", f"nesting at most {MAX_DEPTH} levels deep")]) from None
    except _Limited as exc:
        raise DataError([Problem(label, "", str(exc))]) from None
    except ValueError:  # int() refusing a number with too many digits
        limit = sys.get_int_max_str_digits()
        raise DataError([Problem(label, "", f"integers of at most {limit:,} digits")]) from None


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(error: dict[str, Any]) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "no such field (unknown fields are not allowed)"
    if kind == "missing":
        return "a value (the field is required)"
    got = error.get("input")
    shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
    return f"{msg[0].lower()}{msg[1:]} (got {shown})"


def parse_model(model: type[M], data: Any, source: str | Path) -> M:
    """Validate ``data`` against a pydantic ``model``; report every problem with its path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(str(source), _format_loc(tuple(e["loc"])), _describe(e)) for e in exc.errors()
        ]
        raise DataError(problems) from None
