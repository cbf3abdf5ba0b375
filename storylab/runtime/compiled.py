"""Programs compiled for play: node index, compiled conditions, effects and templates.

The engine's inner loop reads only these slotted objects, never the pydantic models.
Effects are compiled in :mod:`storylab.runtime.effects`, with the undo log that makes a
failing step leave the session exactly as it was.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import orjson

from storylab._data import DataError
from storylab.runtime.check import check_and_count
from storylab.runtime.effects import make_room, shared_effects, value_fn
from storylab.runtime.expressions import Env, Expression, compile_expression
from storylab.runtime.program import ActionBlockNode, NarrativeProgram, parse_program
from storylab.runtime.results import ChoiceOffer, Line
from storylab.runtime.templates import compile_template

__all__ = [
    "ACTION",
    "BLOCK",
    "BRANCH",
    "CALL",
    "CHOICE",
    "COMMENT",
    "DIALOGUE",
    "KIND_NAMES",
    "SCENE",
    "SUB",
    "WAIT",
    "CompiledProgram",
    "compile_edge",
    "compile_node",
    "compile_program",
    "edges_of",
]

DIALOGUE, CHOICE, ACTION, BLOCK, SCENE, BRANCH, WAIT, CALL, COMMENT, SUB = range(10)
_KINDS = {
    "dialogue": DIALOGUE,
    "choice": CHOICE,
    "action": ACTION,
    "action_block": BLOCK,
    "scene": SCENE,
    "branch": BRANCH,
    "wait": WAIT,
    "external_call": CALL,
    "comment": COMMENT,
    "call": SUB,
}
#: Node type names indexed by kind number (the inverse of ``_KINDS``).
KIND_NAMES = tuple(sorted(_KINDS, key=_KINDS.__getitem__))


def _all(
    conditions: list[str] | tuple[()],
) -> tuple[Callable[[Env], bool] | None, tuple[Expression, ...]]:
    if len(conditions) == 1:  # the common case: shared, as its expression is
        found = _SINGLE.get(conditions[0])
        if found is None:
            expr = compile_expression(conditions[0])
            make_room(_SINGLE)
            found = _SINGLE[conditions[0]] = (expr.evaluate, (expr,))
        return found
    exprs = tuple(compile_expression(c) for c in conditions)
    if not exprs:
        return None, exprs
    if len(exprs) == 1:
        return exprs[0].evaluate, exprs
    fns = tuple(e.evaluate for e in exprs)
    return (lambda env: all(f(env) for f in fns)), exprs


def _via(choice_id: str) -> str:
    """How the history names an entry through choice ``choice_id`` (one text per id)."""
    found = _VIAS.get(choice_id)
    if found is None:
        make_room(_VIAS)
        found = _VIAS[choice_id] = f"choice:{choice_id}"
    return found


_VIAS: dict[str, str] = {}
_SINGLE: dict[str, tuple[Callable[[Env], bool], tuple[Expression]]] = {}


def _shared_offer(choice_id: str, text: str) -> ChoiceOffer:
    """The offer of a choice with a static text, shared between equal ones (choices with
    the same id and text recur across a program; shared, they stay in the CPU caches)."""
    found = _SHARED_OFFERS.get((choice_id, text))
    if found is None:
        make_room(_SHARED_OFFERS)
        found = _SHARED_OFFERS[(choice_id, text)] = ChoiceOffer(choice_id, text)
    return found


_SHARED_OFFERS: dict[tuple[str, str], ChoiceOffer] = {}


class CChoice:
    """A compiled choice."""

    __slots__ = (
        "cond",
        "effects",
        "exprs",
        "id",
        "key",
        "offer",
        "once_only",
        "target",
        "text",
        "to",
        "via",
    )

    def __init__(self, node_id: str, choice: Any):
        c = choice if choice.__class__ is dict else choice.__dict__  # data, or a model's fields
        self.id, self.text = sys.intern(c["id"]), compile_template(c["text"])  # ids recur
        conditions, fx = c.get("conditions"), c.get("effects")
        self.cond, self.exprs = _all(conditions) if conditions else (None, ())
        self.effects = shared_effects(fx) if fx is not None else None
        self.once_only, self.to = c.get("once_only", False), c.get("to")
        self.key, self.via = f"{node_id}/{self.id}", _via(self.id)
        self.target: CNode | None = None  # the node ``to`` names (linked by CompiledProgram)
        static = self.text.static
        self.offer = _shared_offer(self.id, static) if static is not None else None


class _Hot:
    """The fields the step loop reads at every node; as a base class they come first in
    memory, next to the object header, so a node costs the CPU caches fewer lines."""

    __slots__ = (
        "choice_index",
        "edges",
        "fixed",
        "id",
        "kind",
        "line",
        "next",
        "next_via",
        "on_enter",
        "on_exit",
        "once",
        "rows",
    )


class CNode(_Hot):
    """A compiled node. Every kind has every field below; the fields of other kinds are
    ``None``. One class for all kinds keeps attribute reads in the engine's loop on
    CPython's fast path (a read site that meets several classes falls back to a slow
    lookup).

    Kinds' fields: dialogue ``text``, ``speaker``, ``line`` (prebuilt when the text has
    no holes), ``gen_program``; choice ``choices``, ``choice_index``, ``rows`` (the
    offers' fast path: ``(condition, taken key when once-only, prebuilt offer, choice
    when its text has holes or it is once-only)`` per choice), ``once`` (any choice
    once-only), ``fixed`` (the offers when they never change: no conditions, none
    once-only, no holes), ``prompt``, ``fallback``; action ``effects``, ``delay``; action
    block ``block``; scene ``scene``; wait ``duration``, ``condition``; external call
    ``handler``, ``args``, ``store_as``; call ``callee`` (a program id) and ``args``.
    """

    __slots__ = (
        "args",
        "block",
        "callee",
        "choices",
        "condition",
        "delay",
        "duration",
        "effects",
        "end",
        "fallback",
        "gen_program",
        "handler",
        "prompt",
        "scene",
        "speaker",
        "store_as",
        "text",
    )

    def __init__(self, node: Any):
        n = (
            node if node.__class__ is dict else node.__dict__
        )  # data (absent: defaults), or a model's
        kind, fill = _KIND_FILL[n["type"]]
        self.id, self.kind, self.end = n["id"], kind, n.get("end", False)
        enter, leave = n.get("on_enter"), n.get("on_exit")
        self.on_enter = shared_effects(enter) if enter is not None else None
        self.on_exit = shared_effects(leave) if leave is not None else None
        self.edges: tuple = ()
        self.next: CNode | None = None
        self.next_via: str | None = None
        self.args = self.block = self.callee = self.choice_index = self.choices = None
        self.condition = None
        self.delay = self.duration = self.effects = self.fallback = self.fixed = None
        self.gen_program = self.handler = self.line = self.once = self.prompt = None
        self.rows = self.scene = self.speaker = self.store_as = self.text = None
        if fill is not None:
            fill(self, n)


def _dialogue(self: CNode, node: dict[str, Any]) -> None:
    self.text, self.speaker = compile_template(node["text"]), node.get("speaker")
    static = self.text.static
    if static is not None:  # built as the step loop builds results (no Python-level __new__)
        self.line = tuple.__new__(Line, (self.speaker, static, node["id"]))
    self.gen_program = node.get("generation_program")


def _choice(self: CNode, node: dict[str, Any]) -> None:
    node_id = node["id"]
    choices = [CChoice(node_id, c) for c in node["choices"]]
    index, rows, once, fixed = {}, [], False, True
    for c in choices:  # one pass (a large program has thousands of choice nodes)
        index[c.id] = c
        rows.append(_row(c))
        once = once or c.once_only
        fixed = fixed and c.cond is None and not c.once_only and c.offer is not None
    self.choices, self.choice_index, self.rows, self.once = tuple(choices), index, tuple(rows), once
    self.fixed = tuple([c.offer for c in choices]) if fixed else None
    prompt = node.get("prompt")
    self.prompt = compile_template(prompt) if prompt is not None else None
    self.fallback = node.get("fallback")


def _row(c: CChoice) -> tuple:
    """A choice's row for the offers' fast path; rows of choices with a static text that
    are not once-only are shared between equal ones (their parts already are)."""
    if c.offer is None or c.once_only:
        return (c.cond, c.key if c.once_only else None, c.offer, c)
    key = (c.cond, c.offer)
    found = _SHARED_ROWS.get(key)
    if found is None:
        make_room(_SHARED_ROWS)
        found = _SHARED_ROWS[key] = (c.cond, None, c.offer, None)
    return found


_SHARED_ROWS: dict[tuple, tuple] = {}


def _action(self: CNode, node: dict[str, Any]) -> None:
    self.effects, self.delay = shared_effects(node["effects"]), float(node.get("delay", 0.0))


def _block(self: CNode, node: dict[str, Any]) -> None:
    self.block = ActionBlockNode.model_validate(node)  # a model's fields, or checked data


def _scene(self: CNode, node: dict[str, Any]) -> None:
    self.scene = (node.get("scene_id"), node.get("intent"), dict(node.get("roles") or {}))


def _wait(self: CNode, node: dict[str, Any]) -> None:
    duration, condition = node.get("duration"), node.get("condition")
    self.duration = float(duration) if duration is not None else None
    self.condition = compile_expression(condition) if condition else None


def _call(self: CNode, node: dict[str, Any]) -> None:
    self.handler, self.store_as = node["handler"], node.get("store_as")
    self.args = tuple((k, value_fn(v)) for k, v in (node.get("args") or {}).items())


def _sub(self: CNode, node: dict[str, Any]) -> None:
    self.callee = node["program"]
    self.args = tuple((k, value_fn(v)) for k, v in (node.get("args") or {}).items())


_FILL: dict[str, Callable[[CNode, dict[str, Any]], None]] = {
    "call": _sub,
    "dialogue": _dialogue,
    "choice": _choice,
    "action": _action,
    "action_block": _block,
    "scene": _scene,
    "wait": _wait,
    "external_call": _call,
}


def compile_edge(
    index: int, edge_id: str | None, conditions: Any, effects: Any, target: CNode
) -> tuple:
    """Edge number ``index`` compiled: ``(condition or None, effects or None, target,
    how)``; ``conditions`` and ``effects`` as a model or document data holds them."""
    cond = _all(conditions)[0] if conditions else None
    fx = shared_effects(effects) if effects is not None else None
    return (cond, fx, target, f"edge:{edge_id if edge_id is not None else index}")


def edges_of(node: CNode) -> tuple:
    """Every edge out of a compiled node as ``(condition, effects, target, how)``, its one
    plain edge (kept as ``next``) included."""
    if node.next is not None:
        return ((None, None, node.next, node.next_via),)
    return node.edges


#: Per node type: its kind number and what fills its own fields.
_KIND_FILL = {name: (kind, _FILL.get(name)) for name, kind in _KINDS.items()}


def compile_node(node: Any) -> CNode:
    """The compiled form of one node, a model or checked document data (edges are linked
    by :class:`CompiledProgram`)."""
    return CNode(node)


class CompiledProgram:
    """A checked program ready to play.

    Attributes
    ----------
    source : NarrativeProgram
        The model it came from (made on first read when it was compiled from document
        data, see :func:`~storylab.runtime.document.compile_document`).
    nodes : dict
        Node id -> :class:`CNode`; each node's ``edges`` is a tuple of
        ``(condition or None, effects or None, target node, how)`` in file order, except
        that a node with one plain edge (no condition, no effects) links its target as
        ``next`` (and ``next_via``) instead, with no ``edges`` (see :func:`edges_of`).
    handlers, blocks, callees : frozenset
        External handlers, action-block ids and called programs the program names.
    counted : tuple of str
        Nodes whose visit counts the program's expressions read, sorted.
    node_renames, variable_renames : dict
        The program's ``renames`` (old id -> new id).
    """

    __slots__ = (
        "_document",
        "_source",
        "blocks",
        "callees",
        "counted",
        "defaults",
        "entry",
        "handlers",
        "id",
        "node_renames",
        "nodes",
        "variable_renames",
        "version",
    )

    def __init__(self, program: NarrativeProgram, counted: frozenset[str] = frozenset()):
        self._source, self._document = program, None
        nodes = {n.id: n for n in map(compile_node, program.nodes)}
        outgoing: dict[str, list[tuple]] = {}
        for i, e in enumerate(program.edges):
            edge = compile_edge(i, e.id, e.conditions, e.effects, nodes[e.to])
            outgoing.setdefault(e.from_, []).append(edge)
        self._build(program.__dict__, nodes, outgoing, program.renames.__dict__, counted)

    @classmethod
    def from_document(
        cls,
        data: dict[str, Any],
        nodes: dict[str, CNode],
        outgoing: dict[str, list[tuple]],
        counted: frozenset[str],
        document: tuple[bytes, str],
    ) -> CompiledProgram:
        """Finish compiling checked document data (what :func:`~storylab.runtime.document.
        compile_document` accepts) whose ``nodes`` (by id, :func:`compile_node`) and
        edges (per node id, in file order, :func:`compile_edge`) are compiled;
        ``document`` is its JSON text and source label, from which :attr:`source` is made
        when first read."""
        self = cls.__new__(cls)
        self._source, self._document = None, document
        self._build(data, nodes, outgoing, data.get("renames") or {}, counted)
        return self

    def _build(
        self,
        top: dict[str, Any],
        nodes: dict[str, CNode],
        outgoing: dict[str, list[tuple]],
        renames: dict[str, Any],
        counted: frozenset[str],
    ) -> None:
        self.id, self.version = top["id"], top.get("version", 1)
        self.entry, self.defaults = top["entry"], dict(top.get("variables") or {})
        self.node_renames = dict(renames.get("nodes") or {})
        self.variable_renames = dict(renames.get("variables") or {})
        self.nodes = nodes
        # nodes whose visit counts expressions read, as the very id strings the visit
        # counts are keyed by (a save looks them up; the same object compares fastest)
        self.counted = tuple(sorted(nodes[n].id for n in counted))
        for node_id, edges in outgoing.items():  # only nodes with edges (others keep none)
            node = nodes[node_id]
            if len(edges) == 1 and edges[0][0] is None and edges[0][1] is None:
                node.next, node.next_via = edges[0][2], edges[0][3]  # a single plain edge
            else:
                node.edges = tuple(edges)
        handlers, callees, blocks = set(), set(), set()
        for node in nodes.values():  # one pass over the nodes for what they name
            kind = node.kind
            if kind == CHOICE:
                for choice in node.choices:
                    if choice.to is not None:
                        choice.target = nodes[choice.to]
            elif kind == CALL:
                handlers.add(node.handler)
            elif kind == SUB:
                callees.add(node.callee)
            elif kind == BLOCK:
                blocks.update(node.block.blocks, node.block.fallback_blocks)
        self.handlers, self.callees = frozenset(handlers), frozenset(callees)
        self.blocks = frozenset(blocks)

    @property
    def source(self) -> NarrativeProgram:
        """The program model (made from the document on first read, then kept)."""
        if self._source is None:
            text, label = self._document  # type: ignore[misc]
            self._source = parse_program(orjson.loads(text), label)
        return self._source


def compile_program(program: NarrativeProgram) -> CompiledProgram:
    """Check and compile ``program``.

    Raises
    ------
    DataError
        When :func:`~storylab.runtime.check.check_program` finds errors.
    """
    report, counted = check_and_count(program, f"program {program.id}")
    if report.errors:
        raise DataError(report.errors)
    return CompiledProgram(program, counted)
