"""Reading storylab YAML and JSON with errors that name the file, the path and the expectation.

Every loader in the package goes through :func:`read_document` and :func:`parse_model`, so a
bad file always fails the same way: a :class:`DataError` listing each :class:`Problem`, and no
partially built object.
"""

from __future__ import annotations

import json
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
    """One thing wrong with a data file: where it is and what was expected there, and a
    stable ``code`` naming the kind of problem where the checker gives one
    (``unknown_node``, ``duplicate_id``, ...)."""

    file: str
    path: str
    expected: str
    code: str | None = None

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


def read_document(source: str | Path, *, text: str | None = None) -> Any:
    """Parse a YAML or JSON file (or ``text`` labelled with ``source``) into Python data.

    Raises
    ------
    DataError
        When the file is missing, unreadable or not valid YAML/JSON; the problem names the
        file and, for syntax errors, the line and column.
    """
    label = str(source)
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataError([Problem(label, "", "file not found")]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError([Problem(label, "", f"a readable UTF-8 text file ({exc})")]) from None
    try:
        if label.endswith(".json"):
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise DataError([Problem(label, where, f"valid JSON ({exc.msg})")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise DataError([Problem(label, where, f"valid YAML ({reason})")]) from None


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
