"""Checking saved state before it is rebuilt: one error type for every kind of damage.

A save can be cut short, edited by hand, or written by something else. Rebuilding a
session from it must either give a session the engine can play or raise
:class:`SaveError` naming the first place that is wrong and what was expected there;
never a ``KeyError``, ``TypeError`` or ``AttributeError`` from deep inside, and never a
session that fails later, at the next step. The checks here are strict about types
(``true`` is not a number, ``1`` is not ``true``) and cheap: they read each value once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "SaveError",
    "check_component",
    "check_request",
    "check_session_facts",
    "need",
]


class SaveError(ValueError):
    """Saved state that is damaged or not a save: the message names where and what was
    expected there. Nothing is half-loaded."""


_LO, _HI = -(2**63), 2**64
_INT = {int}
_STR = {str}


def need(ok: bool, where: str, what: str, key: object = None) -> None:
    """Raise :class:`SaveError` at ``where`` (``.key`` appended when given; formatted only
    on failure) expecting ``what`` unless ``ok``."""
    if not ok:
        at = where if key is None else f"{where}.{key}"
        raise SaveError(f"damaged save: {at}: expected {what}")


def _int(v: Any) -> bool:
    return v.__class__ is int and _LO <= v < _HI


def _num(v: Any) -> bool:
    return (v.__class__ is int and _LO <= v < _HI) or (v.__class__ is float and v - v == 0)


def _scalar(v: Any) -> bool:
    return v is None or v.__class__ in (bool, str) or _num(v)


def _opt_str(v: Any) -> bool:
    return v is None or v.__class__ is str


def _bool(v: Any) -> bool:
    return v is True or v is False


def mapping(value: Any, where: str, check: Callable[[Any], bool], what: str) -> None:
    """``value`` is a dict of text keys whose values pass ``check`` (described by ``what``)."""
    need(value.__class__ is dict, where, "a mapping")
    if not value:
        return
    if check is not _scalar:
        for key, item in value.items():
            need(check(item), where, what, key)
        return
    for key, item in value.items():  # _scalar, inlined: most tables hold scalars
        kind = item.__class__
        if not (
            kind is str
            or kind is bool
            or item is None
            or (kind is int and _LO <= item < _HI)
            or (kind is float and item - item == 0)
        ):
            need(False, where, what, key)


def _table(value: Any, where: str, check: Callable[[Any], bool], what: str) -> None:
    """A mapping of mappings (per NPC, per program)."""
    need(value.__class__ is dict, where, "a mapping")
    for key, inner in value.items():
        mapping(inner, f"{where}.{key}", check, what)


def check_request(data: Any, where: str) -> None:
    """A queued generation request (``GenerationRequest.to_dict``)."""
    need(data.__class__ is dict, where, "a generation request")
    for key, check, what in (
        ("kind", lambda v: v.__class__ is str, "text"),
        ("program", _opt_str, "text or null"),
        ("prompt", lambda v: v.__class__ is str, "text"),
        ("composition", _opt_str, "text or null"),
        ("npc", lambda v: v.__class__ is str, "text"),
        ("launch", lambda v: v.__class__ is str, "text"),
    ):
        need(key in data and check(data[key]), f"{where}.{key}", what)
    for key in ("segments", "blocks"):
        items = data.get(key)
        need(
            items.__class__ is list and all(i.__class__ is str for i in items),
            f"{where}.{key}",
            "a list of text",
        )
    social = data.get("social")
    need(social.__class__ is dict, where, "a mapping", "social")
    need(social.keys() == {"tier", "mood", "affinity"}, where, "tier, mood, affinity", "social")
    need(social["tier"].__class__ is str, f"{where}.social.tier", "text")
    need(social["mood"].__class__ is str, f"{where}.social.mood", "text")
    need(_num(social["affinity"]), f"{where}.social.affinity", "a number")
    need(len(data) == 9, where, "exactly the fields of a generation request")


def check_session_facts(data: dict[str, Any]) -> None:
    """The facts of a saved session (everything but its components)."""
    need(data["id"].__class__ is str, "id", "text")
    need(_int(data["version"]) and data["version"] >= 0, "version", "a whole number from 0")
    mapping(data["flags"], "flags", _scalar, "true/false, a number, text or null")
    _table(data["relationships"], "relationships", _scalar, "a number, text or null")
    mapping(data["inventory"], "inventory", lambda v: _int(v) and v >= 0, "a count from 0")
    mapping(data["arcs"], "arcs", _num, "a number")
    mapping(data["quests"], "quests", _scalar, "true/false, a number, text or null")
    mapping(data["player"], "player", _scalar, "true/false, a number, text or null")
    need(_num(data["world_time"]), "world_time", "a finite number")
    need(data["pending"].__class__ is list, "pending", "a list")
    for i, request in enumerate(data["pending"]):
        check_request(request, f"pending[{i}]")
    need(data["components"].__class__ is dict, "components", "a mapping")


_FIELDS = (
    "program",
    "node",
    "pending",
    "stack",
    "variables",
    "taken",
    "paused",
    "error",
    "wait_until",
    "last_block",
    "transcript_hash",
    "versions",
)


_APART = frozenset(_FIELDS)
#: The plain fields of a component, in the order ``check_component`` checks them.
_PLAIN = (
    ("program", "a program and a node (text), or both null"),
    ("pending", "true or false"),
    ("paused", "true or false"),
    ("error", "text or null"),
    ("last_block", "text or null"),
    ("wait_until", "a number or null"),
    ("transcript_hash", "text"),
    ("versions", "a mapping"),
)
_ALL = _APART | {"history", "visits"}


def check_component(data: Any, where: str, *, apart: bool) -> None:
    """A saved component (``NarrativeStateComponent.to_dict``); with ``apart``, one
    stored without its history and visit counts."""
    need(data.__class__ is dict, where, "a mapping")
    if not data.keys() >= (_APART if apart else _ALL):
        for key in _APART if apart else _ALL:
            need(key in data, where, "a value (it is missing)", key)
    program, node, wait, versions = (
        data["program"],
        data["node"],
        data["wait_until"],
        data["versions"],
    )
    checks = (  # the plain fields in one pass; _PLAIN names them when one fails
        (program is None and node is None) or (program.__class__ is str and node.__class__ is str),
        data["pending"].__class__ is bool,
        data["paused"].__class__ is bool,
        data["error"] is None or data["error"].__class__ is str,
        data["last_block"] is None or data["last_block"].__class__ is str,
        wait is None or _num(wait),
        data["transcript_hash"].__class__ is str,
        versions.__class__ is dict,
    )
    if not all(checks):
        for ok, (key, what) in zip(checks, _PLAIN, strict=True):
            need(ok, where, what, key)
    if set(map(type, versions.values())) - _INT or (versions and min(versions.values()) < 1):
        mapping(versions, where + ".versions", lambda v: _int(v) and v >= 1, "a version")
    need(data["stack"].__class__ is list, where, "a list", "stack")
    for i, frame in enumerate(data["stack"]):
        need(
            frame.__class__ is list
            and len(frame) == 4
            and frame[0].__class__ is str
            and frame[1].__class__ is str
            and _bool(frame[2])
            and (frame[3] is None or _num(frame[3])),
            f"{where}.stack[{i}]",
            "[program, node, still to enter (true/false), wait-until time or null]",
        )
    _table(data["variables"], where + ".variables", _scalar, "true/false, a number, text or null")
    taken = data["taken"]
    need(taken.__class__ is dict, where, "a mapping", "taken")
    for key, keys in taken.items():
        need(
            keys.__class__ is list and set(map(type, keys)) <= _STR,
            where + ".taken",
            "a list of node/choice keys",
            key,
        )
    if apart:
        return
    visits = data["visits"]
    need(visits.__class__ is dict, where, "a mapping", "visits")
    for key, packed in visits.items():
        at = f"{where}.visits.{key}"
        need(packed.__class__ is dict and packed.keys() == {"nodes", "counts"}, at, "nodes, counts")
        need(packed["nodes"].__class__ is str, f"{at}.nodes", "text")
        counts = packed["counts"]
        need(
            counts.__class__ is list
            and (
                not counts
                or (set(map(type, counts)) == _INT and 1 <= min(counts) <= max(counts) < _HI)
            ),
            f"{at}.counts",
            "a list of counts from 1",
        )
    _history(data["history"], f"{where}.history")


def _history(columns: Any, where: str) -> None:
    need(columns.__class__ is dict, where, "a mapping")
    need(
        columns.keys() == {"length", "program", "node", "time", "via"},
        where,
        "length, program, node, time, via",
    )
    need(_int(columns["length"]) and columns["length"] >= 0, where, "a count", "length")
    need(columns["node"].__class__ is str, where, "text", "node")
    need(columns["via"].__class__ is str, where, "text", "via")
    for key, check in (("program", lambda v: v.__class__ is str), ("time", _num)):
        runs = columns[key]
        need(
            runs.__class__ is list
            and all(
                r.__class__ is list and len(r) == 2 and check(r[0]) and _int(r[1]) and r[1] >= 1
                for r in runs
            ),
            f"{where}.{key}",
            "a list of [value, count] runs",
        )
