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
    version, pending = data["version"], data["pending"]
    if not (
        data["id"].__class__ is str
        and version.__class__ is int
        and 0 <= version < _HI
        and _num(data["world_time"])
        and pending.__class__ is list
        and data["components"].__class__ is dict
    ):
        need(data["id"].__class__ is str, "id", "text")
        need(_int(version) and version >= 0, "version", "a whole number from 0")
        need(_num(data["world_time"]), "world_time", "a finite number")
        need(pending.__class__ is list, "pending", "a list")
        need(False, "components", "a mapping")
    for key, check, what in _FACT_TABLES:
        table = data[key]
        if table.__class__ is not dict or table:  # an empty table is fine
            mapping(table, key, check, what)
    if data["relationships"]:
        _table(data["relationships"], "relationships", _scalar, "a number, text or null")
    for i, request in enumerate(pending):
        check_request(request, f"pending[{i}]")


_FACT_TABLES = (
    ("flags", _scalar, "true/false, a number, text or null"),
    ("relationships", lambda v: v.__class__ is dict, "a mapping"),
    ("inventory", lambda v: _int(v) and v >= 0, "a count from 0"),
    ("arcs", _num, "a number"),
    ("quests", _scalar, "true/false, a number, text or null"),
    ("player", _scalar, "true/false, a number, text or null"),
)


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


def _fits(data: Any) -> bool:
    """Whether a whole saved component (not ``apart``) is as :func:`check_component`
    requires, in one pass that builds no message (saves are almost always sound)."""
    if data.__class__ is not dict or not data.keys() >= _ALL:
        return False
    program, node, error, block = data["program"], data["node"], data["error"], data["last_block"]
    wait, versions, stack, taken = (
        data["wait_until"],
        data["versions"],
        data["stack"],
        data["taken"],
    )
    variables, visits = data["variables"], data["visits"]
    if not (
        ((program is None and node is None) or (program.__class__ is str and node.__class__ is str))
        and data["pending"].__class__ is bool
        and data["paused"].__class__ is bool
        and (error is None or error.__class__ is str)
        and (block is None or block.__class__ is str)
        and (wait is None or _num(wait))
        and data["transcript_hash"].__class__ is str
        and versions.__class__ is dict
        and stack.__class__ is list
        and variables.__class__ is dict
        and taken.__class__ is dict
        and visits.__class__ is dict
    ):
        return False
    for version in versions.values():
        if version.__class__ is not int or not 1 <= version < _HI:
            return False
    for frame in stack:
        if not (
            frame.__class__ is list
            and len(frame) == 4
            and frame[0].__class__ is str
            and frame[1].__class__ is str
            and frame[2].__class__ is bool
            and (frame[3] is None or _num(frame[3]))
        ):
            return False
    for table in variables.values():
        if table.__class__ is not dict:
            return False
        for value in table.values():
            kind = value.__class__
            if not (
                kind is str
                or kind is bool
                or value is None
                or (kind is int and _LO <= value < _HI)
                or (kind is float and value - value == 0)
            ):
                return False
    for keys in taken.values():
        if keys.__class__ is not list or (keys and not set(map(type, keys)) <= _STR):
            return False
    for packed in visits.values():
        if packed.__class__ is not dict or packed.keys() != _PACKED:
            return False
        counts = packed["counts"]
        if packed["nodes"].__class__ is not str or counts.__class__ is not list:
            return False
        if counts and not (
            set(map(type, counts)) == _INT and 1 <= min(counts) <= max(counts) < _HI
        ):
            return False
    return _history_fits(data["history"])


def check_component(data: Any, where: str, *, apart: bool) -> None:
    """A saved component (``NarrativeStateComponent.to_dict``); with ``apart``, one
    stored without its history and visit counts."""
    if not apart and _fits(data):
        return
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
        if not (
            frame.__class__ is list
            and len(frame) == 4
            and frame[0].__class__ is str
            and frame[1].__class__ is str
            and _bool(frame[2])
            and (frame[3] is None or _num(frame[3]))
        ):
            need(
                False,
                f"{where}.stack[{i}]",
                "[program, node, still to enter (true/false), wait-until time or null]",
            )
    _table(data["variables"], where + ".variables", _scalar, "true/false, a number, text or null")
    taken = data["taken"]
    need(taken.__class__ is dict, where, "a mapping", "taken")
    for key, keys in taken.items():
        if keys.__class__ is not list or (keys and not set(map(type, keys)) <= _STR):
            need(False, where + ".taken", "a list of node/choice keys", key)
    if apart:
        return
    visits = data["visits"]
    need(visits.__class__ is dict, where, "a mapping", "visits")
    for key, packed in visits.items():
        if not (packed.__class__ is dict and packed.keys() == _PACKED):
            need(False, f"{where}.visits.{key}", "nodes, counts")
        counts = packed["counts"]
        if packed["nodes"].__class__ is not str:
            need(False, f"{where}.visits.{key}.nodes", "text")
        if not (
            counts.__class__ is list
            and (
                not counts
                or (set(map(type, counts)) == _INT and 1 <= min(counts) <= max(counts) < _HI)
            )
        ):
            need(False, f"{where}.visits.{key}.counts", "a list of counts from 1")
    _history(data["history"], f"{where}.history")


_PACKED = frozenset({"nodes", "counts"})


_HISTORY = frozenset({"length", "program", "node", "time", "via"})


def _runs_fit(runs: Any, kind: type) -> bool:
    """A list of ``[value, count]`` runs of values of ``kind`` (in one pass, no messages)."""
    if runs.__class__ is not list:
        return False
    for run in runs:
        if not (
            run.__class__ is list
            and len(run) == 2
            and run[0].__class__ is kind
            and run[1].__class__ is int
            and 1 <= run[1] < _HI
        ):
            return False
    return True


def _history_fits(columns: Any) -> bool:
    """Whether the history columns are sound (no message; :func:`_history` gives it)."""
    return (
        columns.__class__ is dict
        and columns.keys() == _HISTORY
        and columns["length"].__class__ is int
        and 0 <= columns["length"] < _HI
        and columns["node"].__class__ is str
        and columns["via"].__class__ is str
        and _runs_fit(columns["program"], str)
        and _runs_fit(columns["time"], float)
    )


def _history(columns: Any, where: str) -> None:
    if _history_fits(columns):  # the common case; the checks below say what is wrong
        return
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
