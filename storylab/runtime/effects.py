"""Compiled effects, and the undo log that makes a failing step leave no trace.

An effect block is compiled once into a :class:`CEffects` (its groups applied in the order
the author wrote them whenever that order can change the result) and shared between equal
blocks. Every write goes through an :class:`UndoLog`/:class:`Txn`, so a step that fails
is rolled back exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from storylab.runtime.expressions import Env, compile_expression
from storylab.runtime.program import Effects
from storylab.runtime.results import StepError

__all__ = [
    "CEffects",
    "Txn",
    "UndoLog",
    "check_scalar",
    "effect_groups",
    "make_room",
    "shared_effects",
    "value_fn",
]

_MISSING = object()
_SCALARS = (bool, int, float, str, type(None))
_SCALAR_CLASSES = frozenset(_SCALARS)


#: An undo log: ``(table, key, old value or _MISSING)`` per write, oldest first.
UndoLog = list[tuple[dict, Any, Any]]


class Txn:
    """An undo log of dict writes; :meth:`rollback` restores every written key."""

    __slots__ = ("log",)

    def __init__(self) -> None:
        self.log: UndoLog = []

    def set(self, table: dict, key: Any, value: Any) -> None:
        """``table[key] = value``, remembering the old value."""
        self.log.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def rollback(self) -> None:
        """Undo every write, newest first."""
        for table, key, old in reversed(self.log):
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old
        self.log.clear()


def _write(log: UndoLog | None, table: dict, key: Any, value: Any) -> None:
    if log is not None:
        log.append((table, key, table.get(key, _MISSING)))
    table[key] = value


def value_fn(value: Any) -> Callable[[Env], Any]:
    if isinstance(value, str):
        return compile_expression(value).evaluate
    return lambda env: value


def check_scalar(value: Any, where: str) -> Any:
    """``value`` when it is a bool, number, text or none; else a :class:`StepError`."""
    if not isinstance(value, _SCALARS):
        raise StepError(
            f"{where}: variables hold true/false, numbers, text or none, not {value!r}",
            "invalid_value",
            target=where,
            value=repr(value),
        )
    return value


#: Effect groups, in the order ``Effects`` declares them (the fast path's order).
_GROUPS = ("relationships", "flags", "inventory", "arcs", "quests", "variables", "set")
_ROOTS = {"relationships": "rel", "flags": "flags", "inventory": "inv", "arcs": "arc"}
_ROOTS |= {"quests": "quest", "variables": "var"}


def _footprint(fx: dict, name: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """What effect group ``name`` of ``fx`` reads and writes, as ``(root, key)`` with
    relationships by field only (``rel.self`` and ``rel.mara`` may be one NPC) and
    ``(root, "*")`` for a whole table (``inv``)."""
    table = fx[name]
    if name == "relationships":
        fields = {("rel", f) for row in table.values() for f in row}
        return fields, fields
    if name == "set":
        writes = {_key(_target(k)) for k in table}
    else:
        writes = {(_ROOTS[name], k) for k in table}
    reads = set(writes) if name in ("inventory", "arcs") else set()
    for value in table.values():
        if isinstance(value, str) and name in ("variables", "set"):
            reads |= {_key(ref) for ref in compile_expression(value).refs}
    return reads, writes


def _key(ref: tuple) -> tuple[str, str]:
    root = ref[0]
    if root == "rel":
        return ("rel", ref[-1])
    return (root, ref[1] if len(ref) > 1 and ref[1] is not None else "*")


def _reorder_safe(fx: dict, written: list[str]) -> bool:
    """Whether applying the ``written`` groups in field order gives what the author's
    order gives: every two groups that trade places touch disjoint state."""
    prints = {name: _footprint(fx, name) for name in written}

    def clash(a: str, b: str) -> bool:
        (ra, wa), (rb, wb) = prints[a], prints[b]
        for writes, touched in ((wa, rb | wb), (wb, ra)):
            roots = {root for root, key in touched if key == "*"}
            if writes & touched or any(root in roots for root, _ in writes):
                return True
        return False

    rank = {name: i for i, name in enumerate(_GROUPS)}
    return not any(
        rank[a] > rank[b] and clash(a, b) for i, a in enumerate(written) for b in written[i + 1 :]
    )


def _target(name: str) -> tuple[str, str, str | None]:
    """A ``set`` target as (root, key, field): ``rel.mara.affinity`` -> rel, mara, affinity;
    ``inv.coin`` -> inv, coin, None."""
    root, _, rest = name.partition(".")
    if root == "rel":
        who, _, field = rest.partition(".")
        return root, who, field
    return root, rest, None


class CEffects:
    """Compiled :class:`~storylab.runtime.program.Effects` (the model, or its groups as a
    dict in the order they apply, see :func:`effect_groups`).

    Groups apply in the author's order. When that order gives the same result as the
    field order (it is the field order, or no group reads or writes what a group it
    trades places with writes), they apply in field order on the fast path; otherwise
    ``parts`` holds one compiled group per written group, in the author's order.
    """

    __slots__ = ("arcs", "flags", "inv", "parts", "quests", "rel", "sets", "vars")

    def __init__(self, fx: Effects | dict[str, dict], only: str | None = None):
        if fx.__class__ is not dict:
            fx = effect_groups(fx)

        def group(name: str) -> dict:
            return fx.get(name) or {} if only is None or only == name else {}

        self.rel = tuple(
            (w, f, d) for w, fields in group("relationships").items() for f, d in fields.items()
        )
        self.flags = tuple(group("flags").items())
        self.inv = tuple(group("inventory").items())
        self.arcs = tuple(group("arcs").items())
        self.quests = tuple(group("quests").items())
        self.vars = tuple((k, value_fn(v)) for k, v in group("variables").items())
        self.sets = tuple((_target(k), value_fn(v)) for k, v in group("set").items())
        self.parts: tuple[CEffects, ...] | None = None
        if only is None:
            written = [name for name, table in fx.items() if table]
            if not _reorder_safe(fx, written):
                self.parts = tuple(CEffects(fx, name) for name in written)

    def apply(self, log: UndoLog | None, env: Env) -> None:
        """Apply to the session and program variables in ``env`` (group by group in the
        author's order); with a ``log`` (a :attr:`Txn.log`), record how to undo each write
        first."""
        if self.parts is not None:
            for part in self.parts:
                part.apply(log, env)
            return
        if self.rel:
            self._relationships(log, env)
        if self.flags:
            table = env.flags
            for name, value in self.flags:
                if log is not None:
                    log.append((table, name, table.get(name, _MISSING)))
                table[name] = value
        if self.inv or self.arcs or self.quests:
            self._counters(log, env)
        if self.vars:
            table = env.variables
            for name, fn in self.vars:
                value = fn(env)
                if value.__class__ not in _SCALAR_CLASSES:
                    check_scalar(value, f"var.{name}")
                if log is not None:
                    log.append((table, name, table.get(name, _MISSING)))
                table[name] = value
        if self.sets:
            self._set(log, env)

    def _relationships(self, log: UndoLog | None, env: Env) -> None:
        rels = env.relationships
        for who, field, delta in self.rel:
            npc = env.npc if who == "self" else who
            row = _row_of(log, rels, npc)
            current = row.get(field, 0)
            if isinstance(current, bool) or not isinstance(current, int | float):
                raise StepError(
                    f"rel.{npc}.{field} is {current!r}; cannot add {delta}",
                    "not_a_number",
                    target=f"rel.{npc}.{field}",
                    value=current,
                )
            _write(log, row, field, current + delta)

    def _counters(self, log: UndoLog | None, env: Env) -> None:
        for item, delta in self.inv:
            count = env.inventory.get(item, 0) + delta
            if count < 0:
                raise StepError(
                    f"inventory: {item} would drop to {count}",
                    "inventory_negative",
                    item=item,
                    count=count,
                )
            _write(log, env.inventory, item, count)
        for name, delta in self.arcs:
            _write(log, env.arcs, name, env.arcs.get(name, 0) + delta)
        for name, value in self.quests:
            _write(log, env.quests, name, value)

    def _set(self, log: UndoLog | None, env: Env) -> None:
        for (root, key, field), fn in self.sets:
            value = check_scalar(fn(env), f"{root}.{key}")
            if root == "rel":
                npc = env.npc if key == "self" else key
                _write(log, _row_of(log, env.relationships, npc), field, value)
            elif root == "var":
                _write(log, env.variables, key, value)
            elif root == "flags":
                _write(log, env.flags, key, value)
            elif root == "quest":
                _write(log, env.quests, key, value)
            elif root == "inv":
                if value.__class__ is not int or value < 0:
                    raise StepError(
                        f"inv.{key} counts whole items from 0; cannot set it to {value!r}",
                        "inventory_negative" if value.__class__ is int else "invalid_value",
                        item=key,
                        count=value,
                    )
                _write(log, env.inventory, key, value)
            else:
                if value.__class__ not in (int, float):
                    raise StepError(
                        f"arc.{key} is a number; cannot set it to {value!r}",
                        "invalid_value",
                        target=f"arc.{key}",
                        value=value,
                    )
                _write(log, env.arcs, key, value)


def _row_of(log: UndoLog | None, rels: dict, npc: str) -> dict:
    """The NPC's relationship row, created (and logged) when missing."""
    row = rels.get(npc)
    if row is None:
        row = {}
        _write(log, rels, npc, row)
    return row


def effect_groups(fx: Effects | dict[str, dict]) -> dict[str, dict]:
    """Effects as a dict of their groups in the order they apply: document data (a dict in
    the written order) as it is, an :class:`Effects` model's groups in its ``order``."""
    if fx.__class__ is dict:
        return fx  # type: ignore[return-value]
    fields = fx.__dict__
    return {name: fields[name] for name in fx.order}  # type: ignore[union-attr]


def shared_effects(fx: Effects | dict[str, dict] | None) -> CEffects | None:
    """Compiled effects (a model, or checked document data), shared between equal ones (they
    never change; sharing saves memory and keeps more of a large program in the CPU caches)."""
    if fx is None:
        return None
    if fx.__class__ is dict:  # checked document data (finite numbers): its JSON is a key
        groups, key = fx, orjson.dumps(fx)
    else:
        groups = effect_groups(fx)
        key = repr(groups)  # the groups in the order they apply (NaN differs from none)
    if not any(groups.values()):
        return None
    found = _SHARED_EFFECTS.get(key)
    if found is None:
        make_room(_SHARED_EFFECTS)
        found = _SHARED_EFFECTS[key] = CEffects(groups)
    return found


_SHARED_EFFECTS: dict[str | bytes, CEffects] = {}

#: Most entries a table of shared compiled parts keeps (effects, conditions, offers): a host
#: that loads program after program keeps a bounded amount of memory for them.
SHARED_MAX = 100_000


def make_room(table: dict) -> None:
    """Empty a table of shared parts that is full. Sharing only saves memory (the parts
    never change), so parts compiled before stay valid; later ones are shared anew."""
    if len(table) >= SHARED_MAX:
        table.clear()
