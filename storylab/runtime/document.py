"""Compiling program data (parsed YAML or JSON) for play without building the models.

Validating a program with the pydantic models of :mod:`storylab.runtime.program` and
checking it with :func:`~storylab.runtime.check.check_program` builds an object for every
node, choice, edge and effect (about 150,000 for a 10,000-node program) and walks them
several times. :func:`compile_document` first reads the data once, strictly: every field
of the exact type the model would hold (``True`` is not a number, ``2.0`` is not a count,
a list is not a tuple), every id and name matching its pattern, and no problem
:func:`~storylab.runtime.check.check_program` reports as an error (repeated ids, missing
nodes, expressions that do not parse, undeclared variables). Data that passes is compiled
straight from the dicts; anything else, including data the models would accept by
converting it (``"3"`` for a number), takes the model path, which raises exactly the
:class:`~storylab._data.DataError` it always did. So a bad program gets the same errors
either way, and a good one the same compiled program.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from storylab.runtime._bulk import collection_paused
from storylab.runtime.compiled import (
    CNode,
    CompiledProgram,
    compile_edge,
    compile_node,
    compile_program,
)
from storylab.runtime.expressions import ExpressionError, compile_expression
from storylab.runtime.program import ActionBlockNode, parse_program
from storylab.runtime.templates import compile_template

__all__ = ["compile_document"]


class _Slow(Exception):
    """The data is not in the form the fast path reads: take the model path."""


_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:\-]*").fullmatch
_IDS = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:\-]*(?: [A-Za-z0-9_][A-Za-z0-9_.:\-]*)*").fullmatch
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").fullmatch
_W = r"[A-Za-z_][A-Za-z0-9_]*"
_TARGET = re.compile(rf"rel\.{_W}\.{_W}|(flags|inv|arc|quest|var)\.{_W}").fullmatch

_TOP = frozenset(
    {
        "id",
        "version",
        "kind",
        "title",
        "entry",
        "variables",
        "nodes",
        "edges",
        "metadata",
        "renames",
    }
)
_BASE = frozenset({"id", "type", "label", "on_enter", "on_exit", "end"})
#: Per node type: the fields it may have, and those it must have.
_KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "dialogue": (_BASE | {"text", "speaker", "generation_program"}, frozenset({"text"})),
    "choice": (_BASE | {"prompt", "choices", "fallback"}, frozenset({"choices"})),
    "action": (_BASE | {"effects", "delay"}, frozenset({"effects"})),
    "scene": (_BASE | {"scene_id", "intent", "roles"}, frozenset()),
    "branch": (_BASE, frozenset()),
    "wait": (_BASE | {"duration", "condition"}, frozenset()),
    "external_call": (_BASE | {"handler", "args", "store_as"}, frozenset({"handler"})),
    "call": (_BASE | {"program", "args"}, frozenset({"program"})),
    "comment": (_BASE | {"text"}, frozenset()),
    "action_block": (
        _BASE | {"blocks", "query", "fallback_blocks", "composition", "launch"},
        frozenset(),
    ),
}
_CHOICE = frozenset({"id", "text", "conditions", "effects", "once_only", "to"})
_EDGE = frozenset({"id", "from", "to", "conditions", "effects"})
_GROUPS = frozenset({"relationships", "flags", "inventory", "arcs", "quests", "variables", "set"})
_METADATA = frozenset({"tags", "content_rating", "characters"})
_RATINGS = frozenset({"general", "teen", "mature", "adult"})


def _need(ok: object) -> None:
    if not ok:
        raise _Slow


def _text(value: Any) -> bool:
    return value.__class__ is str


def _opt_text(value: Any) -> bool:
    return value is None or value.__class__ is str


def _number(value: Any) -> bool:
    """An int (not a bool) or a finite float: what ``int | float`` keeps as it is."""
    kind = value.__class__
    return kind is int or (kind is float and value - value == 0)


def _scalar(value: Any) -> bool:
    kind = value.__class__
    return (
        kind is str
        or kind is bool
        or value is None
        or kind is int
        or (kind is float and value - value == 0)
    )


def _names(table: Any, check: Any) -> dict:
    """``table`` is a dict of names whose values pass ``check``."""
    _need(table.__class__ is dict)
    for key, value in table.items():
        _need(key.__class__ is str and _NAME(key) and check(value))
    return table


class _Reader:
    """One strict pass over program data: types, patterns and the checker's errors."""

    def __init__(self, data: dict[str, Any]):
        self.declared: dict[str, Any] = {}
        self.counted: set[str] = set()
        self.ids: set[str] = set()
        self.parsed: tuple[set[str], set[str]] = (set(), set())  # expressions, templates
        self.names: set[str] = set()  # choice ids seen to match the pattern (they recur)
        self.compiled: list[CNode] = []  # the nodes compiled so far
        self.sound: set[str] = set()  # the reprs of effects read and found sound
        self.by_id: dict[str, CNode] = {}  # the compiled nodes by id (once all are read)
        self.outgoing: dict[str, list[tuple]] = {}  # node id -> its edges compiled
        self.data = data

    def expression(self, text: Any, template: bool = False) -> None:
        """A text that must parse and read only declared variables (its visit counts
        are noted, and checked against the nodes once all are known)."""
        done = self.parsed[template]
        if text in done:
            return
        _need(text.__class__ is str)
        try:
            refs = compile_template(text).refs if template else compile_expression(text).refs
        except ExpressionError:
            raise _Slow from None
        for ref in refs:
            if ref[0] == "var":
                _need(ref[1] in self.declared)
            elif ref[0] == "visits":
                self.counted.add(ref[1])
        done.add(text)

    def value(self, value: Any) -> None:
        """A literal or (a string) an expression."""
        if value.__class__ is str:
            self.expression(value)
        else:
            _need(_scalar(value))

    def effects(self, fx: Any) -> None:
        _need(fx.__class__ is dict)
        text = repr(fx)  # equal effects recur (a story sets the same flag in many places)
        if text not in self.sound:
            self._effects(fx)
            self.sound.add(text)

    def _effects(self, fx: dict) -> None:
        _need(fx.keys() <= _GROUPS)
        rels = fx.get("relationships")
        if rels is not None:
            _names(rels, lambda row: _names(row, _number) is not None)
        for name, check in (("flags", _scalar), ("quests", _scalar), ("arcs", _number)):
            table = fx.get(name)
            if table is not None:
                _names(table, check)
        inventory = fx.get("inventory")
        if inventory is not None:
            _names(inventory, lambda count: count.__class__ is int)
        variables = fx.get("variables")
        if variables is not None:
            for name, value in _names(variables, _scalar).items():
                _need(name in self.declared)
                self.value(value)
        targets = fx.get("set")
        if targets is not None:
            _need(targets.__class__ is dict)
            for target, value in targets.items():
                _need(target.__class__ is str and _TARGET(target))
                _need(not target.startswith("var.") or target[4:] in self.declared)
                self.value(value)

    def top(self) -> None:
        data = self.data
        _need(data.keys() <= _TOP and "id" in data and "entry" in data and "nodes" in data)
        _need(_text(data["id"]) and _ID(data["id"]))
        version = data.get("version", 1)
        _need(version.__class__ is int and version >= 1)
        kind = data.get("kind", "dialogue")
        _need(_text(kind) and kind)
        _need(_opt_text(data.get("title")) and _text(data["entry"]))
        self.declared = _names(data.get("variables", {}), _scalar)
        metadata = data.get("metadata", {})
        _need(metadata.__class__ is dict and metadata.keys() <= _METADATA)
        tags = metadata.get("tags", [])
        _need(tags.__class__ is list and all(map(_text, tags)))
        _need(metadata.get("content_rating", "general") in _RATINGS)
        cast = metadata.get("characters", [])
        _need(cast.__class__ is list)
        for person in cast:
            _need(person.__class__ is dict and person.keys() <= {"id", "name", "role"})
            _need(_text(person.get("id")) and _ID(person["id"]))
            _need(_opt_text(person.get("name")) and _opt_text(person.get("role")))

    def nodes(self) -> None:
        nodes = self.data["nodes"]
        _need(nodes.__class__ is list and nodes)
        for node in nodes:  # ids first: choices and fallbacks name later nodes too
            _need(node.__class__ is dict)
        listed = [node.get("id") for node in nodes]
        _need(set(map(type, listed)) == {str})
        ids = self.ids = set(listed)
        joined = " ".join(listed)  # no id holds a space, so one match checks them all
        _need(len(ids) == len(listed) == joined.count(" ") + 1 and _IDS(joined))
        compiled, templates = self.compiled, self.parsed[True]
        for node in nodes:
            kind = node.get("type")
            if kind.__class__ is not str or kind not in _KINDS:
                raise _Slow
            allowed, required = _KINDS[kind]
            keys, get = node.keys(), node.get
            label, end, enter, leave = (
                get("label"),
                get("end", False),
                get("on_enter"),
                get("on_exit"),
            )
            if not (
                keys <= allowed
                and keys >= required
                and (label is None or label.__class__ is str)
                and end.__class__ is bool
            ):
                raise _Slow
            if enter is not None:
                self.effects(enter)
            if leave is not None:
                self.effects(leave)
            if kind == "dialogue":
                text, speaker, program = node["text"], get("speaker"), get("generation_program")
                if text not in templates:  # read each text once (see expression)
                    self.expression(text, True)
                if not (
                    (speaker is None or speaker.__class__ is str)
                    and (program is None or program.__class__ is str)
                ):
                    raise _Slow
            elif kind == "choice":
                self.choices(node)
            else:
                self.node(node)
            compiled.append(compile_node(node))  # while the node is in the CPU caches

    def node(self, node: dict[str, Any]) -> None:
        """A node's own fields (dialogue and choice nodes are read in :meth:`nodes`)."""
        kind = node["type"]
        if kind == "action":
            _need(node["effects"].__class__ is dict)
            self.effects(node["effects"])
            delay = node.get("delay", 0.0)
            _need(_number(delay) and delay >= 0)
        elif kind == "wait":
            duration, condition = node.get("duration"), node.get("condition")
            _need(duration is not None or condition is not None)
            _need(duration is None or (_number(duration) and duration >= 0))
            if condition is not None:
                self.expression(condition)
        elif kind in ("external_call", "call"):
            self.call(node)
        elif kind == "scene":
            scene_id, intent = node.get("scene_id"), node.get("intent")
            _need(_opt_text(scene_id) and _opt_text(intent))
            _need(scene_id is not None or intent is not None)
            roles = node.get("roles", {})
            _need(roles.__class__ is dict and all(map(_text, (*roles, *roles.values()))))
        elif kind == "comment":
            _need(_text(node.get("text", "")))
        elif kind == "action_block":  # rare: the model reads it (and compiling reads it again)
            try:
                ActionBlockNode.model_validate(node)
            except ValidationError:
                raise _Slow from None

    def choices(self, node: dict[str, Any]) -> None:
        choices, ids = node["choices"], self.ids
        _need(choices.__class__ is list and choices)
        _need(_opt_text(node.get("prompt")))
        if node.get("prompt") is not None:
            self.expression(node["prompt"], True)
        fallback = node.get("fallback")
        _need(fallback is None or fallback in ids)
        seen, names, expression = set(), self.names, self.expression
        done, templates = self.parsed
        for choice in choices:
            if choice.__class__ is not dict or not choice.keys() <= _CHOICE:
                raise _Slow
            get = choice.get
            choice_id, to, fx = get("id"), get("to"), get("effects")
            if choice_id not in names:
                _need(choice_id.__class__ is str and _ID(choice_id))
                names.add(choice_id)
            if choice_id in seen or not (to is None or to in ids):
                raise _Slow
            seen.add(choice_id)
            text, conditions = get("text"), get("conditions")
            if text not in templates:  # read each text once (see expression)
                expression(text, True)
            if conditions is not None:
                _need(conditions.__class__ is list)
                for condition in conditions:
                    if condition not in done:
                        expression(condition)
            if fx is not None:
                self.effects(fx)
            if get("once_only", False).__class__ is not bool:
                raise _Slow

    def call(self, node: dict[str, Any]) -> None:
        if node["type"] == "call":
            _need(_text(node["program"]) and _ID(node["program"]))
        else:
            handler, store_as = node["handler"], node.get("store_as")
            _need(_text(handler) and _NAME(handler))
            _need(store_as is None or (_text(store_as) and store_as in self.declared))
        for value in _names(node.get("args", {}), _scalar).values():
            self.value(value)

    def edges(self) -> None:
        edges, seen, done = self.data.get("edges", []), set(), self.parsed[False]
        _need(edges.__class__ is list)
        nodes = self.by_id = {node.id: node for node in self.compiled}
        outgoing = self.outgoing
        for index, edge in enumerate(edges):
            if edge.__class__ is not dict or not edge.keys() <= _EDGE:
                raise _Slow
            get = edge.get
            edge_id, conditions, fx = get("id"), get("conditions"), get("effects")
            start, end = get("from"), get("to")
            if start not in nodes or end not in nodes:
                raise _Slow
            if edge_id is not None:
                _need(_text(edge_id) and edge_id not in seen and _ID(edge_id))
                seen.add(edge_id)
            if conditions is not None:
                _need(conditions.__class__ is list)
                for condition in conditions:
                    if condition not in done:
                        self.expression(condition)
            if fx is not None:
                self.effects(fx)
            compiled = compile_edge(index, edge_id, conditions, fx, nodes[end])
            found = outgoing.get(start)
            if found is None:
                outgoing[start] = [compiled]
            else:
                found.append(compiled)

    def rest(self) -> None:
        data = self.data
        _need(data["entry"] in self.ids and self.counted <= self.ids)
        renames = data.get("renames", {})
        _need(renames.__class__ is dict and renames.keys() <= {"nodes", "variables"})
        nodes = renames.get("nodes", {})
        _need(nodes.__class__ is dict)
        for old, new in nodes.items():
            _need(_text(old) and new in self.ids)
        variables = renames.get("variables", {})
        _need(variables.__class__ is dict)
        for old, new in variables.items():
            _need(_text(old) and _text(new) and new in self.declared)


def _read(data: Any) -> _Reader:
    """The reader that has read ``data`` (its nodes and edges compiled, the visit counts
    its expressions read), or :class:`_Slow`."""
    _need(data.__class__ is dict)
    reader = _Reader(data)
    reader.top()
    reader.nodes()
    reader.edges()
    reader.rest()
    return reader


def compile_document(data: Any, source: str | Path = "<program>") -> CompiledProgram:
    """Validate, check and compile program data (a parsed YAML or JSON document).

    The same as ``compile_program(parse_program(data, source))``, and the same errors,
    without building the models when the data is in the form they hold (see the module
    docstring); the compiled program's ``source`` model is made when first read.

    Raises
    ------
    DataError
        Naming ``source`` (schema problems) or ``program <id>`` (check errors), the path
        and what was expected, as :func:`parse_program` and :func:`compile_program` do.
    """
    with collection_paused():
        try:
            reader = _read(data)
            text = orjson.dumps(data)  # the document as given, for ``source`` (64-bit ints)
        except (_Slow, TypeError, orjson.JSONEncodeError):  # TypeError: an unhashable id
            return compile_program(parse_program(data, source))
        return CompiledProgram.from_document(
            data, reader.by_id, reader.outgoing, frozenset(reader.counted), (text, str(source))
        )
