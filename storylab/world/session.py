"""A world session: a runtime :class:`~storylab.runtime.Session` played in a world, with the
provenance of every change and a resettable overlay of dev overrides.

The runtime session holds what persists: the player's relationships with each NPC (one row
per NPC: the axes plus the derived values, so the runtime's action blocks see the world's
mood), flags, inventory, world time, and the last use of each interaction (flags named
``used:<interaction>:<npc>``). Overrides live beside it and never reach it unless
:meth:`WorldSession.commit_overrides` is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from storylab._data import UnknownNameError
from storylab.runtime.engine import NarrativeEngine
from storylab.runtime.playtest import apply_overrides
from storylab.runtime.state import Session
from storylab.world.manifest import OCEAN
from storylab.world.relations import Change, clamp, decay, derive, initial_axes

if TYPE_CHECKING:
    from storylab.world.manifest import World

__all__ = ["View", "WorldSession", "changes", "cooldown_flag", "sync_derived"]


def cooldown_flag(interaction: str, npc: str) -> str:
    """The flag that holds when ``interaction`` was last used with ``npc``."""
    return f"used:{interaction}:{npc}"


def sync_derived(
    world: World, session: Session, npc: str, personality: Mapping[str, float] | None = None
) -> None:
    """Recompute ``npc``'s derived values into its relationship row."""
    row = session.relationships.setdefault(npc, {})
    axes = {a: row.get(a, spec.default) for a, spec in world.stats.axes.items()}
    for name, item in derive(world, npc, axes, personality).items():
        row[name] = item.value


def changes(world: World, before: Session, after: Session, tick: int, source: str) -> list[Change]:
    """Every axis of the player's relationships that moved from ``before`` to ``after``,
    after clamping ``after``'s axes to their bounds (in place)."""
    made = []
    for npc, row in after.relationships.items():
        if npc not in world.npcs:
            continue
        old = before.relationships.get(npc, {})
        for axis, spec in world.stats.axes.items():
            if axis in row:
                row[axis] = clamp(world, axis, row[axis])
                was = old.get(axis, spec.default)
                if row[axis] != was:
                    made.append(Change(tick, npc, "player", axis, was, row[axis], source))
    return made


@dataclass
class View:
    """A session as gating and previews see it: the effective runtime session (overrides
    applied, derived values recomputed), NPC locations moved by overrides, personalities."""

    session: Session
    locations: dict[str, str] = field(default_factory=dict)
    personality: dict[str, dict[str, float]] = field(default_factory=dict)

    def traits(self, world: World, npc: str) -> dict[str, float]:
        """``npc``'s OCEAN traits, overrides applied."""
        return {**world.npcs[npc].personality.model_dump(), **self.personality.get(npc, {})}


class WorldSession:
    """A playthrough of ``world``.

    Parameters
    ----------
    world : World
        A world from :func:`~storylab.world.load_world` (its programs are played).
    session : Session, optional
        A runtime session to continue (default: the world's starting state); the NPCs'
        derived values are written into it.
    id : str
        The id of a new session.
    """

    def __init__(self, world: World, session: Session | None = None, *, id: str = "session"):
        self.world = world
        self.session = session if session is not None else self._start(id)
        for npc in world.npcs:
            sync_derived(world, self.session, npc)
        self.engine = NarrativeEngine(list(world.program_map.values()))
        self.overrides: dict[str, Any] = {}
        self.changes: list[Change] = []

    def _start(self, id: str) -> Session:
        w = self.world
        player: dict[str, Any] = {"name": w.player.name}
        if w.player.location is not None:
            player["location"] = w.player.location
        session = Session(
            id,
            flags=dict(w.player.flags),
            relationships={npc: initial_axes(w, npc) for npc in w.npcs},
            inventory=dict(w.player.inventory),
            player=player,
        )
        return session

    @property
    def time(self) -> float:
        """World time in hours (the override when one is set)."""
        return float(self.overrides.get("time", self.session.world_time))

    @property
    def tick(self) -> int:
        """The tick of the world time."""
        from storylab.world.schedule import world_tick

        return world_tick(self.world, self.time)

    def copy(self) -> WorldSession:
        """An independent copy (same world and engine)."""
        twin = WorldSession.__new__(WorldSession)
        twin.world, twin.engine = self.world, self.engine
        twin.session = self.session.copy()
        twin.overrides, twin.changes = dict(self.overrides), list(self.changes)
        return twin

    # -- overrides ---------------------------------------------------------------------
    def override(self, values: Mapping[str, Any] | None = None, **named: Any) -> WorldSession:
        """Set dev overrides (checked first; nothing is set when one is wrong).

        Names: ``rel.<npc>.<axis>``, ``flags.<name>``, ``inv.<item>``, ``time``,
        ``player.location``, ``npcs.<npc>.location``, ``npcs.<npc>.personality.<trait>``.
        Keyword arguments take names with ``__`` for dots (``time=20``).
        """
        given = {**dict(values or {}), **{k.replace("__", "."): v for k, v in named.items()}}
        for name, value in given.items():
            self._check_override(name, value)
        self.overrides.update(given)
        return self

    def _check_override(self, name: str, value: Any) -> None:
        w, parts = self.world, name.split(".")
        if parts[0] == "npcs":
            if len(parts) < 3 or parts[1] not in w.npcs:
                raise UnknownNameError("NPC in override", name, w.npcs)
            if parts[2:] == ["location"]:
                if value not in w.locations:
                    raise UnknownNameError("location", value, w.locations)
                return
            if len(parts) == 4 and parts[2] == "personality" and parts[3] in OCEAN:
                number = isinstance(value, int | float) and not isinstance(value, bool)
                if not number or not 0.0 <= value <= 1.0:
                    raise ValueError(f"override {name}: a number in [0, 1], got {value!r}")
                return
            raise ValueError(
                f"cannot override {name!r}: use npcs.<npc>.location or "
                f"npcs.<npc>.personality.<{'|'.join(OCEAN)}>"
            )
        if parts[0] == "rel" and len(parts) == 3:
            if parts[1] not in w.npcs:
                raise UnknownNameError("NPC", parts[1], w.npcs)
            if parts[2] not in w.stats.axes:
                raise UnknownNameError("axis", parts[2], w.stats.axes)
        if name == "player.location" and value is not None and value not in w.locations:
            raise UnknownNameError("location", value, w.locations)
        if name == "time" and isinstance(value, int | float) and not value >= 0:
            raise ValueError(f"override time: hours >= 0, got {value!r}")
        apply_overrides(Session(), "", None, {name: value})

    def reset_overrides(self) -> WorldSession:
        """Drop every override."""
        self.overrides.clear()
        return self

    def overridden_locations(self) -> dict[str, str]:
        """NPC -> location, for NPCs an override moved."""
        return {
            k.split(".")[1]: v
            for k, v in self.overrides.items()
            if k.startswith("npcs.") and k.endswith(".location")
        }

    def view(self) -> View:
        """The session as gating sees it (overrides applied to a copy)."""
        plain = {k: v for k, v in self.overrides.items() if not k.startswith("npcs.")}
        session = apply_overrides(self.session, "", None, plain)
        personality: dict[str, dict[str, float]] = {}
        for key, value in self.overrides.items():
            parts = key.split(".")
            if parts[0] == "npcs" and parts[2] == "personality":
                personality.setdefault(parts[1], {})[parts[3]] = float(value)
        view = View(session, self.overridden_locations(), personality)
        for npc in self.world.npcs:
            sync_derived(self.world, session, npc, view.traits(self.world, npc))
        return view

    def commit_overrides(self) -> WorldSession:
        """Write the overrides of session state (relationships, flags, inventory, time,
        player fields) into the session, recording the changes with source ``override``;
        NPC location and personality overrides stay in the overlay."""
        written = {k: v for k, v in self.overrides.items() if not k.startswith("npcs.")}
        before = self.session
        self.session = apply_overrides(before, "", None, written)
        for npc in self.world.npcs:
            sync_derived(self.world, self.session, npc)
        self.record(before, self.session, "override")
        self.overrides = {k: v for k, v in self.overrides.items() if k not in written}
        return self

    # -- changes -----------------------------------------------------------------------
    def record(self, before: Session, after: Session, source: str) -> list[Change]:
        """Record the :func:`changes` from ``before`` to ``after``; return them."""
        made = changes(self.world, before, after, self.tick, source)
        self.changes.extend(made)
        return made

    def provenance(self) -> pd.DataFrame:
        """Every recorded change: ``tick``, ``npc``, ``other``, ``axis``, ``before``,
        ``after``, ``source``."""
        columns = ["tick", "npc", "other", "axis", "before", "after", "source"]
        return pd.DataFrame([vars(c) for c in self.changes], columns=columns)

    def advance(self, hours: float) -> WorldSession:
        """Advance world time (the runtime's waits see it) and decay the axes."""
        if not hours >= 0 or hours == float("inf"):
            raise ValueError(f"advance by hours >= 0, got {hours!r}")
        before = self.session.copy()
        self.engine.advance_time(self.session, hours)
        for npc in self.world.npcs:
            row = self.session.relationships.setdefault(npc, {})
            for axis in self.world.stats.axes:
                if axis in row:
                    row[axis] = decay(self.world, axis, row[axis], hours / 24.0)
            sync_derived(self.world, self.session, npc)
        self.record(before, self.session, "decay")
        return self
