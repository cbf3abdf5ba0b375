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


def need(ok: bool, where: str, what: str) -> None:
    """Raise :class:`SaveError` at ``where`` expecting ``what`` unless ``ok``."""
    if not ok:
        raise SaveError(f"damaged save: {where}: expected {what}")


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
    for key, item in value.items():
        need(check(item), f"{where}.{key}", what)


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
    need(social.__class__ is dict, f"{where}.social", "a mapping")
    need(social.keys() == {"tier", "mood", "affinity"}, f"{where}.social", "tier, mood, affinity")
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


def check_component(data: Any, where: str, *, apart: bool) -> None:
    """A saved component (``NarrativeStateComponent.to_dict``); with ``apart``, one
    stored without its history and visit counts."""
    need(data.__class__ is dict, where, "a mapping")
    for key in (*_FIELDS, *(() if apart else ("history", "visits"))):
        need(key in data, f"{where}.{key}", "a value (it is missing)")
    program, node = data["program"], data["node"]
    need(
        (program is None and node is None) or (program.__class__ is str and node.__class__ is str),
        f"{where}.program",
        "a program and a node (text), or both null",
    )
    need(_bool(data["pending"]), f"{where}.pending", "true or false")
    need(_bool(data["paused"]), f"{where}.paused", "true or false")
    need(_opt_str(data["error"]), f"{where}.error", "text or null")
    need(_opt_str(data["last_block"]), f"{where}.last_block", "text or null")
    need(data["wait_until"] is None or _num(data["wait_until"]), f"{where}.wait_until", "a number")
    need(data["transcript_hash"].__class__ is str, f"{where}.transcript_hash", "text")
    mapping(data["versions"], f"{where}.versions", lambda v: _int(v) and v >= 1, "a version")
    need(data["stack"].__class__ is list, f"{where}.stack", "a list")
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
    _table(data["variables"], f"{where}.variables", _scalar, "true/false, a number, text or null")
    taken = data["taken"]
    need(taken.__class__ is dict, f"{where}.taken", "a mapping")
    for key, keys in taken.items():
        need(
            keys.__class__ is list and all(k.__class__ is str for k in keys),
            f"{where}.taken.{key}",
            "a list of node/choice keys",
        )
    if apart:
        return
    visits = data["visits"]
    need(visits.__class__ is dict, f"{where}.visits", "a mapping")
    for key, packed in visits.items():
        at = f"{where}.visits.{key}"
        need(packed.__class__ is dict and packed.keys() == {"nodes", "counts"}, at, "nodes, counts")
        need(packed["nodes"].__class__ is str, f"{at}.nodes", "text")
        counts = packed["counts"]
        need(
            counts.__class__ is list and all(_int(c) and c >= 1 for c in counts),
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
    need(_int(columns["length"]) and columns["length"] >= 0, f"{where}.length", "a count")
    need(columns["node"].__class__ is str, f"{where}.node", "text")
    need(columns["via"].__class__ is str, f"{where}.via", "text")
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
