"""Saving a session to JSON and loading it back, migrating across program versions.

A loaded session plays on exactly as the saved one would have. When a program changed
since the save (its ``version`` differs), :func:`load_session` checks every position,
variable, visit count and once-only choice against the program as it is now, follows the
program's ``renames``, and reports each thing that no longer matches and where the state
was moved, rather than crashing or silently jumping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from storylab._data import UnknownNameError
from storylab.runtime.compiled import CHOICE, SUB, WAIT, CompiledProgram
from storylab.runtime.saved import SaveError
from storylab.runtime.state import _FACTS, Counted, Frame, NarrativeStateComponent, Session

if TYPE_CHECKING:
    from storylab.runtime.engine import NarrativeEngine

__all__ = ["MigrationNote", "MigrationReport", "load_session", "save_session"]


@dataclass(frozen=True, slots=True)
class MigrationNote:
    """One mismatch found on load and what was done about it.

    ``kind`` is one of ``version``, ``unversioned-change``, ``node-moved``,
    ``node-missing``, ``node-changed``, ``variable-renamed``, ``variable-removed``,
    ``variable-added``, ``visits-dropped``, ``choice-dropped``.
    """

    npc: str
    program: str
    kind: str
    detail: str
    old: str | None = None
    new: str | None = None

    def __str__(self) -> str:
        return f"{self.npc}/{self.program}: {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """Every :class:`MigrationNote` of one load (empty when nothing changed)."""

    notes: tuple[MigrationNote, ...] = ()

    @property
    def clean(self) -> bool:
        """Whether the saved state matched the programs exactly."""
        return not self.notes

    def __str__(self) -> str:
        return "\n".join(str(n) for n in self.notes) or "no migration needed"


def save_session(
    session: Session, *, history: int | None = None, counted: Counted | None = None
) -> str:
    """The session as compact JSON (the same session always gives the same text).

    ``history`` keeps only the latest entries of each history; ``counted(program)`` names
    the visit counts to keep per program (``None``: all). By default everything is kept;
    :meth:`NarrativeEngine.save <storylab.runtime.engine.NarrativeEngine.save>` keeps the
    latest entries and the counts the programs read.

    Raises
    ------
    ValueError
        When a number JSON cannot hold (NaN, an infinity, an integer beyond 64 bits) is in
        the session; the message names where it is. Nothing is written.
    """
    data = session.to_dict(history=history, counted=counted, copy=False)
    for key in _FACTS:
        value = data[key]
        if value:  # an empty table holds no numbers; world time 0.0 is finite
            _require_numbers(value, key)
    for npc, comp in data["components"].items():
        # the rest holds text, flags and what the engine counts or times (finite: world
        # time only moves by finite amounts)
        for key in ("variables", "stack", "wait_until"):
            if comp[key]:  # empty, none or zero: nothing to check
                _require_numbers(comp[key], f"components.{npc}.{key}")
    try:
        return orjson.dumps(data).decode()
    except orjson.JSONEncodeError as exc:  # an integer beyond 64 bits: say where
        require_json_numbers(data, "")
        raise ValueError(f"cannot save: {exc}") from None


_PLAIN = frozenset({str, bool, int, type(None)})


def _require_numbers(value: Any, where: str) -> None:
    """:func:`require_json_numbers` for the numbers orjson would write wrongly (NaN and
    infinities, which it writes as ``null``; it refuses integers beyond 64 bits, and
    :func:`save_session` then names where), with a fast path for tables without floats
    and tables of tables (the common case)."""
    if value.__class__ is dict:
        kinds = set(map(type, value.values()))
        if kinds <= _PLAIN:
            return
        if kinds == {dict}:
            for key, inner in value.items():
                _require_numbers(inner, f"{where}.{key}")
            return
    require_json_numbers(value, where)


def require_json_numbers(value: Any, where: str) -> None:
    """Raise a ValueError naming where in ``value`` (itself at ``where``; top level when
    empty) a number JSON cannot hold sits: NaN, an infinity, an integer beyond 64 bits."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            require_json_numbers(item, f"{where}.{key}" if where else str(key))
    elif kind is list or kind is tuple:
        for index, item in enumerate(value):
            require_json_numbers(item, f"{where}[{index}]")
    elif kind is float and not math.isfinite(value):
        raise ValueError(f"cannot save {where} = {value!r}: JSON holds finite numbers only")
    elif kind is int and not -(2**63) <= value < 2**64:
        raise ValueError(f"cannot save {where} = {value}: JSON numbers here fit in 64 bits")


def load_session(
    engine: NarrativeEngine, data: str | bytes | dict[str, Any]
) -> tuple[Session, MigrationReport]:
    """Rebuild a saved session (JSON text or bytes, or the parsed dict) for ``engine``'s
    programs; report any migration.

    Raises
    ------
    SaveError
        When the text is not JSON (the message gives the line and column), not a saved
        session, or damaged in any way (cut short, keys missing, values of the wrong
        type), or naming an active or suspended program the engine does not have: the
        message names where. Old formats load as they are.
    """
    try:
        if isinstance(data, dict):
            session = Session.from_dict(data)
        else:
            session = Session.from_dict(orjson.loads(data), copy=False)
        notes: list[MigrationNote] = []
        for npc in sorted(session.components):
            notes += _migrate(engine, npc, session.components[npc])
    except SaveError:
        raise
    except UnknownNameError as exc:
        raise SaveError(f"the save needs {exc}") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise SaveError(f"damaged save: {exc}") from None
    return session, MigrationReport(tuple(notes))


class _Migration:
    def __init__(self, npc: str, cp: CompiledProgram, comp: NarrativeStateComponent):
        self.npc, self.cp, self.comp = npc, cp, comp
        self.notes: list[MigrationNote] = []

    def note(self, kind: str, detail: str, old: str | None = None, new: str | None = None) -> None:
        self.notes.append(MigrationNote(self.npc, self.cp.id, kind, detail, old, new))

    def node(self, node: str) -> str | None:
        """Where a saved node id lives now (``None`` when it is gone)."""
        if node in self.cp.nodes:
            return node
        return self.cp.node_renames.get(node)

    def variables(self) -> None:
        saved = self.comp.variables.get(self.cp.id, {})
        renames, now = self.cp.variable_renames, {}
        for name, value in saved.items():
            if name in self.cp.defaults:
                now[name] = value
            elif name in renames and renames[name] not in saved:
                now[renames[name]] = value
                self.note(
                    "variable-renamed",
                    f"var.{name} is now var.{renames[name]}",
                    name,
                    renames[name],
                )
            else:
                self.note(
                    "variable-removed",
                    f"var.{name} is no longer declared; value {value!r} dropped",
                    name,
                )
        for name, value in self.cp.defaults.items():
            if name not in now:
                now[name] = value
                self.note(
                    "variable-added", f"var.{name} is new; set to its default {value!r}", None, name
                )
        self.comp.variables[self.cp.id] = now

    def visits(self) -> None:
        saved = self.comp.visits.get(self.cp.id)
        if saved is None:
            return
        now: dict[str, int] = {}
        for node, count in saved.items():
            target = self.node(node)
            if target is None:
                self.note(
                    "visits-dropped", f"node {node!r} is gone; its {count} visit(s) dropped", node
                )
            else:
                now[target] = now.get(target, 0) + count
        self.comp.visits[self.cp.id] = now

    def taken(self) -> None:
        saved = self.comp.taken.get(self.cp.id)
        if saved is None:
            return
        now: dict[str, bool] = {}
        for key in saved:
            node, _, choice = key.partition("/")
            target = self.node(node)
            cnode = self.cp.nodes.get(target) if target else None
            if cnode is None or cnode.kind != CHOICE or choice not in cnode.choice_index:
                self.note("choice-dropped", f"once-only choice {key!r} no longer exists", key)
            else:
                now[f"{target}/{choice}"] = True
        self.comp.taken[self.cp.id] = now

    def position(self, node: str, pending: bool) -> tuple[str, bool]:
        """The node a saved position moves to, and whether it is still to be entered."""
        target = self.node(node)
        if target is None:
            entry = self.cp.entry
            self.note(
                "node-missing",
                f"node {node!r} is gone and has no rename; moved to the entry {entry!r}, "
                "which runs on the next step",
                node,
                entry,
            )
            return entry, True
        if target != node:
            self.note(
                "node-moved", f"node {node!r} was renamed {target!r}; moved there", node, target
            )
        if not pending and self.cp.nodes[target].kind not in (CHOICE, WAIT, SUB):
            self.note(
                "node-changed",
                f"node {target!r} no longer waits for input; it runs on the next step",
                target,
                target,
            )
            return target, True
        return target, pending


def _migrate(
    engine: NarrativeEngine, npc: str, comp: NarrativeStateComponent
) -> list[MigrationNote]:
    notes: list[MigrationNote] = []
    active = {f[0] for f in comp.stack}
    if comp.program:
        active.add(comp.program)
    known, versions = engine._programs, comp.versions
    programs = versions.keys() | active
    for program in sorted(programs) if len(programs) > 1 else programs:
        cp = known.get(program)
        if cp is None:
            if program not in active:
                continue  # a finished program this engine does not load: keep its data as is
            cp = engine.compiled(program)  # raises: the save needs it
        saved = versions.get(program)
        if saved == cp.version and _positions_hold(cp, comp):
            continue
        m = _Migration(npc, cp, comp)
        if saved != cp.version:
            m.note(
                "version",
                f"saved under version {saved}, now version {cp.version}",
                str(saved),
                str(cp.version),
            )
        else:
            m.note(
                "unversioned-change",
                f"version {saved} changed since the save without a version bump (a saved "
                "position or variable no longer matches it); migrated as for a new version",
                str(saved),
                str(cp.version),
            )
        m.variables()
        m.visits()
        m.taken()
        if comp.program == program and comp.node is not None:
            comp.node, comp.pending = m.position(comp.node, comp.pending)
        stack: list[Frame] = []
        for frame_program, node, pending, wait_until in comp.stack:
            if frame_program == program:
                node, pending = m.position(node, pending)
            stack.append((frame_program, node, pending, wait_until))
        comp.stack = stack
        comp.versions[program] = cp.version
        notes += m.notes
    return notes


def _positions_hold(cp: CompiledProgram, comp: NarrativeStateComponent) -> bool:
    """Whether every saved position in ``cp`` names one of its nodes, of a kind that can
    hold a position (a choice, a wait, or a call waiting for its callee), and every
    variable it declares has a value."""
    saved = comp.variables.get(cp.id)
    if saved is None or not saved.keys() >= cp.defaults.keys():
        return False
    nodes = cp.nodes
    if comp.program == cp.id and comp.node is not None:
        found = nodes.get(comp.node)
        if found is None or (not comp.pending and found.kind not in _HOLDS):
            return False
    for program, node, pending, _ in comp.stack:
        if program == cp.id:
            found = nodes.get(node)
            if found is None or (not pending and found.kind not in _HOLDS):
                return False
    return True


#: The kinds of node a step can stop at (and a save hold a position at).
_HOLDS = frozenset({CHOICE, WAIT, SUB})
