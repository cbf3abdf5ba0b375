"""Runtime state: a :class:`Session` of facts and one :class:`NarrativeStateComponent` per NPC.

Both are plain mutable objects with ``__slots__`` (the engine's inner loop touches them on
every step), and both turn into JSON-ready dicts and back without loss.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from itertools import compress
from typing import Any

from storylab.runtime.history import History
from storylab.runtime.saved import SaveError, check_component, check_session_facts, need

__all__ = [
    "SESSION_FORMAT",
    "SESSION_FORMATS",
    "Frame",
    "NarrativeStateComponent",
    "Session",
]

#: The ``format`` tag of a saved session; bumped when the layout changes. Version 2 may
#: keep only the latest history entries and the visit counts the programs read.
SESSION_FORMAT = "storylab.session/2"
#: Every format :meth:`Session.from_dict` reads (older saves load as they are).
SESSION_FORMATS = ("storylab.session/1", SESSION_FORMAT)

#: Which visit counts of a program a save keeps: ``counted(program)`` gives the node ids,
#: or ``None`` for all of them.
Counted = Callable[[str], Collection[str] | None]

#: A suspended program: (program id, node id, node still to be entered, wait-until time).
Frame = tuple[str, str, bool, float | None]


def _pack(counts: dict[str, int]) -> dict[str, Any]:
    """Visit counts as node ids joined by spaces plus a list of counts (fast in JSON)."""
    return {"nodes": " ".join(counts), "counts": list(counts.values())}


def _unpack(packed: dict[str, Any]) -> dict[str, int]:
    nodes, counts = packed["nodes"].split(" ") if packed["nodes"] else [], packed["counts"]
    if len(nodes) != len(counts):
        need(False, "visits", "as many counts as node ids")
    return dict(zip(nodes, counts, strict=False))  # lengths checked above


def _kept(program: str, counts: dict[str, int], counted: Counted | None) -> dict[str, Any]:
    """The visit counts of ``program`` a save keeps, packed as :func:`_pack` does (the
    counts of the nodes ``counted`` names that were visited, in its order)."""
    nodes = counted(program) if counted is not None else None
    if nodes is None:
        return _pack(counts)
    found = list(map(counts.get, nodes))  # None where not visited; picked out in C below
    return {"nodes": " ".join(compress(nodes, found)), "counts": list(filter(None, found))}


class NarrativeStateComponent:
    """Where one NPC's narrative stands in a session.

    Attributes
    ----------
    program, node : str or None
        The active program and node (``None`` when idle).
    pending : bool
        The node is still to be entered (after a start or a migration move).
    stack : list of Frame
        Suspended programs, innermost last; finishing the active one resumes the top.
    history : History
        Every node entry, in order (append-only; reads like a list).
    variables, visits, taken : dict
        Per program: variables, visit counts per node, once-only choices taken (``node/choice``).
    paused : bool
        Steps are refused while paused.
    error : str or None
        The last error a host recorded with :meth:`set_error`.
    wait_until : float or None
        World time a wait node waits for.
    last_block : str or None
        The last action block launched (for compatibility scoring).
    transcript_hash : str
        Running hash of every step result (see :class:`NarrativeStepResult`).
    versions : dict
        Program id -> version this component last ran (for migration on load).
    """

    __slots__ = (
        "error",
        "history",
        "last_block",
        "node",
        "paused",
        "pending",
        "program",
        "scratch",
        "stack",
        "taken",
        "transcript_hash",
        "variables",
        "versions",
        "visits",
        "wait_until",
    )

    def __init__(self) -> None:
        self.program: str | None = None
        self.node: str | None = None
        self.pending = False
        self.stack: list[Frame] = []
        self.history = History()
        self.variables: dict[str, dict[str, Any]] = {}
        self.visits: dict[str, dict[str, int]] = {}
        self.taken: dict[str, dict[str, bool]] = {}
        self.paused = False
        self.error: str | None = None
        self.wait_until: float | None = None
        self.last_block: str | None = None
        self.transcript_hash = ""
        self.versions: dict[str, int] = {}
        self.scratch: Any = None  # the engine's working set between steps; never saved

    # -- helpers for hosts and tools (direct changes; no node runs) ----------------------
    @property
    def active(self) -> bool:
        """Whether a program is running."""
        return self.program is not None

    @property
    def stack_depth(self) -> int:
        """How many programs are suspended under the active one."""
        return len(self.stack)

    def start(self, program: str, node: str, defaults: dict[str, Any] | None = None) -> None:
        """Make ``program`` active at ``node`` (not yet entered), suspending any active one."""
        if self.program is not None and self.node is not None:
            self.stack.append((self.program, self.node, self.pending, self.wait_until))
        self.program, self.node, self.pending, self.wait_until = program, node, True, None
        self.variables.setdefault(program, dict(defaults or {}))
        self.visits.setdefault(program, {})
        self.taken.setdefault(program, {})

    def finish(self) -> str | None:
        """End the active program and resume the suspended one; return the resumed id."""
        if self.stack:
            self.program, self.node, self.pending, self.wait_until = self.stack.pop()
        else:
            self.program = self.node = self.wait_until = None
            self.pending = False
        return self.program

    def advance(self, node: str, time: float, via: str) -> None:
        """Record entering ``node`` of the active program (history and visit count)."""
        assert self.program is not None, "advance needs an active program"
        self.node, self.pending = node, False
        counts = self.visits.setdefault(self.program, {})
        counts[node] = counts.get(node, 0) + 1
        self.history.append((self.program, node, time, via))

    def pause(self) -> None:
        """Refuse steps until :meth:`resume`."""
        self.paused = True

    def resume(self) -> None:
        """Accept steps again."""
        self.paused = False

    def set_error(self, message: str) -> None:
        """Record the last error."""
        self.error = message

    def clear_error(self) -> None:
        """Forget the last error."""
        self.error = None

    def get_variable(self, name: str, program: str | None = None) -> Any:
        """A variable of ``program`` (the active one by default); ``KeyError`` when unset."""
        return self.variables[program or self.program or ""][name]

    def set_variable(self, name: str, value: Any, program: str | None = None) -> None:
        """Set a variable of ``program`` (the active one by default)."""
        self.variables.setdefault(program or self.program or "", {})[name] = value

    def visited(self, node: str, program: str | None = None) -> int:
        """How many times ``node`` of ``program`` (the active one by default) was entered."""
        return self.visits.get(program or self.program or "", {}).get(node, 0)

    # -- JSON ------------------------------------------------------------------------------
    def to_dict(
        self,
        *,
        apart: bool = False,
        history: int | None = None,
        counted: Counted | None = None,
        copy: bool = True,
    ) -> dict[str, Any]:
        """A JSON-ready dict holding everything; with ``apart``, everything but the history
        and the visit counts, which grow with play (a store keeps them in tables of their
        own; :meth:`from_dict` takes them back). ``history`` keeps only the latest entries;
        ``counted`` keeps only the visit counts it names per program. ``copy=False`` shares
        the component's own tables and tuples (for writing out at once, not for keeping)."""
        stack, variables, versions = self.stack, self.variables, self.versions
        if copy:
            stack = [list(f) for f in stack]
            variables, versions = {k: dict(v) for k, v in variables.items()}, dict(versions)
        data = {
            "program": self.program,
            "node": self.node,
            "pending": self.pending,
            "stack": stack,
            "variables": variables,
            "taken": {k: sorted(v) for k, v in self.taken.items()},
            "paused": self.paused,
            "error": self.error,
            "wait_until": self.wait_until,
            "last_block": self.last_block,
            "transcript_hash": self.transcript_hash,
            "versions": versions,
        }
        if not apart:
            data["history"] = self.history.encode(history)
            data["visits"] = {k: _kept(k, v, counted) for k, v in self.visits.items()}
        return data

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        apart: tuple[History, dict[str, dict[str, int]]] | None = None,
        *,
        copy: bool = True,
        where: str = "component",
    ) -> NarrativeStateComponent:
        """Rebuild a component from :meth:`to_dict` output; ``apart``: the history and the
        visit counts (per program) when it was made without them. ``copy=False`` takes
        over ``data``'s containers (faster; the caller must not use them afterwards);
        ``where`` names the component in errors.

        Raises
        ------
        SaveError
            When ``data`` is damaged (the message names where).
        """
        check_component(data, where, apart=apart is not None)
        comp = cls.__new__(cls)  # every field is set below
        comp.scratch = None
        comp.program, comp.node = data["program"], data["node"]
        comp.pending = data["pending"]
        comp.stack = [(p, n, e, w) for p, n, e, w in data["stack"]]
        if apart is None:
            comp.history = History.decode(data["history"])
            comp.visits = {k: _unpack(v) for k, v in data["visits"].items()}
        else:
            comp.history, comp.visits = apart
        variables, versions = data["variables"], data["versions"]
        if copy:
            variables, versions = {k: dict(v) for k, v in variables.items()}, dict(versions)
        comp.variables, comp.versions = variables, versions
        comp.taken = {k: dict.fromkeys(v, True) for k, v in data["taken"].items()}
        comp.paused, comp.error = data["paused"], data["error"]
        comp.wait_until, comp.last_block = data["wait_until"], data["last_block"]
        comp.transcript_hash = data["transcript_hash"]
        return comp

    def copy(self) -> NarrativeStateComponent:
        """An independent copy (for trying a branch without touching this one)."""
        comp = NarrativeStateComponent()
        for name in self.__slots__:
            setattr(comp, name, getattr(self, name))
        comp.stack, comp.history = list(self.stack), self.history.copy()
        comp.variables = {k: dict(v) for k, v in self.variables.items()}
        comp.visits = {k: dict(v) for k, v in self.visits.items()}
        comp.taken = {k: dict(v) for k, v in self.taken.items()}
        comp.versions = dict(self.versions)
        comp.scratch = None
        return comp


class Session:
    """One playthrough's facts and the NPCs' narrative components.

    Attributes
    ----------
    id : str
    flags : dict
        Named facts (bool, number, text or ``None``).
    relationships : dict
        NPC id -> field -> value (``affinity``, ``trust``, ... and ``mood``).
    inventory : dict
        Item -> count held.
    arcs, quests : dict
        Arc values and quest stages.
    player : dict
        Player fields templates can show (``player.name``).
    world_time : float
    components : dict
        NPC id -> :class:`NarrativeStateComponent`.
    pending : list of dict
        Generation requests waiting to be launched.
    version : int
        The stored version (optimistic locking in :mod:`storylab.runtime.store`).
    """

    __slots__ = (
        "arcs",
        "components",
        "flags",
        "id",
        "inventory",
        "pending",
        "player",
        "quests",
        "relationships",
        "version",
        "world_time",
    )

    def __init__(
        self,
        id: str = "session",
        *,
        flags: dict[str, Any] | None = None,
        relationships: dict[str, dict[str, Any]] | None = None,
        inventory: dict[str, int] | None = None,
        arcs: dict[str, float] | None = None,
        quests: dict[str, Any] | None = None,
        player: dict[str, Any] | None = None,
        world_time: float = 0.0,
    ):
        self.id = id
        self.flags = dict(flags or {})
        self.relationships = {k: dict(v) for k, v in (relationships or {}).items()}
        self.inventory = dict(inventory or {})
        self.arcs = dict(arcs or {})
        self.quests = dict(quests or {})
        self.player = dict(player or {})
        self.world_time = float(world_time)
        self.components: dict[str, NarrativeStateComponent] = {}
        self.pending: list[dict[str, Any]] = []
        self.version = 0

    def component(self, npc: str) -> NarrativeStateComponent:
        """The NPC's component, created idle on first use."""
        comp = self.components.get(npc)
        if comp is None:
            comp = self.components[npc] = NarrativeStateComponent()
        return comp

    def facts_dict(self, *, copy: bool = True) -> dict[str, Any]:
        """The session's facts (everything but the components) as a JSON-ready dict;
        ``copy=False`` shares the session's own tables (for writing out at once)."""
        if not copy:
            return {
                "flags": self.flags,
                "relationships": self.relationships,
                "inventory": self.inventory,
                "arcs": self.arcs,
                "quests": self.quests,
                "player": self.player,
                "world_time": self.world_time,
                "pending": self.pending,
            }
        return {
            "flags": dict(self.flags),
            "relationships": {k: dict(v) for k, v in self.relationships.items()},
            "inventory": dict(self.inventory),
            "arcs": dict(self.arcs),
            "quests": dict(self.quests),
            "player": dict(self.player),
            "world_time": self.world_time,
            "pending": [dict(p) for p in self.pending],
        }

    def to_dict(
        self, *, history: int | None = None, counted: Counted | None = None, copy: bool = True
    ) -> dict[str, Any]:
        """Everything, JSON-ready (components sorted by NPC id); ``history``, ``counted``
        and ``copy`` as in :meth:`NarrativeStateComponent.to_dict`."""
        facts = self.facts_dict(copy=copy)
        return {
            "format": SESSION_FORMAT,
            "id": self.id,
            "version": self.version,
            "flags": facts["flags"],
            "relationships": facts["relationships"],
            "inventory": facts["inventory"],
            "arcs": facts["arcs"],
            "quests": facts["quests"],
            "player": facts["player"],
            "world_time": facts["world_time"],
            "pending": facts["pending"],
            "components": {
                k: self.components[k].to_dict(history=history, counted=counted, copy=copy)
                for k in sorted(self.components)
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, copy: bool = True) -> Session:
        """Rebuild a session from :meth:`to_dict` output (no program checks; see the engine).
        ``copy=False`` takes over ``data``'s containers (faster; the caller must not use
        them afterwards).

        Raises
        ------
        SaveError
            When ``data`` is not a saved session or is damaged (the message names where).
        """
        if data.__class__ is not dict or data.get("format") not in SESSION_FORMATS:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise SaveError(f"not a saved session (format {found!r})")
        if not data.keys() >= _KEYS:
            missing = sorted(_KEYS - data.keys())
            raise SaveError(f"damaged save: lacks {', '.join(missing)}")
        check_session_facts(data)
        if copy:
            session = cls(
                data["id"],
                flags=data["flags"],
                relationships=data["relationships"],
                inventory=data["inventory"],
                arcs=data["arcs"],
                quests=data["quests"],
                player=data["player"],
                world_time=data["world_time"],
            )
            session.pending = [dict(p) for p in data["pending"]]
        else:
            session = cls.__new__(cls)  # every field is set below
            session.id, session.world_time = data["id"], float(data["world_time"])
            session.flags, session.relationships = data["flags"], data["relationships"]
            session.inventory, session.arcs = data["inventory"], data["arcs"]
            session.quests, session.player = data["quests"], data["player"]
            session.pending = data["pending"]
        session.version = data["version"]
        session.components = {
            npc: NarrativeStateComponent.from_dict(comp, copy=copy, where=f"components.{npc}")
            for npc, comp in data["components"].items()
        }
        return session

    def copy(self) -> Session:
        """An independent deep copy (for trying a branch, or a playthrough from here)."""
        twin = Session(
            self.id,
            flags=self.flags,
            relationships=self.relationships,
            inventory=self.inventory,
            arcs=self.arcs,
            quests=self.quests,
            player=self.player,
            world_time=self.world_time,
        )
        twin.pending = [dict(p) for p in self.pending]
        twin.version = self.version
        twin.components = {k: c.copy() for k, c in self.components.items()}
        return twin


#: The session's facts, in the order a save holds them.
_FACTS = (
    "flags",
    "relationships",
    "inventory",
    "arcs",
    "quests",
    "player",
    "world_time",
    "pending",
)
_KEYS = frozenset({"id", "version", "components", *_FACTS})
