"""Which interactions the player may start with whom, and for each one refused, why not.

:func:`available` evaluates every requirement of every interaction for every NPC it applies
to, and reports each failed one with the value found and the value required, and the time
left on a cooldown. Requirements, in the order they are checked: ``present`` (the NPC is
somewhere, and where the player is when the player's location is set), ``location``,
``days``, ``time``, ``activity``, ``min_<axis>`` / ``max_<axis>``, ``mood``, ``flags``,
``inventory``, ``cooldown``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from storylab._data import UnknownNameError
from storylab.runtime.program import Effects
from storylab.world.clock import minutes_of
from storylab.world.manifest import Gating, Interaction
from storylab.world.schedule import _placements, clock_of, parse_at
from storylab.world.session import View, WorldSession, cooldown_flag

if TYPE_CHECKING:
    from storylab.world.manifest import World

__all__ = ["Failure", "Resolved", "applies_to", "available", "resolve", "why_not"]

_COLUMNS = [
    "npc",
    "interaction",
    "label",
    "available",
    "why_not",
    "cooldown_left",
    "program",
    "node",
    "failures",
]


@dataclass(frozen=True)
class Failure:
    """One requirement that does not hold: what it is, what was found, what it needs."""

    requirement: str
    actual: Any
    required: Any

    def __str__(self) -> str:
        return f"{self.requirement}: {self.actual!r}, needs {self.required}"


@dataclass(frozen=True)
class Resolved:
    """An interaction as it applies to one NPC (its per-NPC override merged in)."""

    id: str
    label: str
    gating: Gating
    cooldown_hours: float
    program: str | None
    node: str | None
    effects: Effects


def resolve(inter: Interaction, npc: str) -> Resolved:
    """``inter`` for ``npc``, with the NPC's override's given fields replacing its own."""
    over = inter.overrides.get(npc)

    def pick(name: str) -> Any:
        mine = getattr(over, name, None) if over is not None else None
        return getattr(inter, name) if mine is None else mine

    return Resolved(
        inter.id,
        pick("label"),
        pick("gating"),
        pick("cooldown_hours"),
        pick("program"),
        pick("node"),
        pick("effects"),
    )


def applies_to(world: World, inter: Interaction, npc: str) -> bool:
    """Whether ``inter`` is offered for ``npc`` at all (its ``npcs`` and ``roles``)."""
    if not inter.npcs and not inter.roles:
        return True
    if npc in inter.npcs:
        return True
    role = world.npcs[npc].role
    return any(role == r or world.roles.get(r) == npc for r in inter.roles)


def _in_window(minute: int, start: str, end: str) -> bool:
    lo, hi = minutes_of(start), minutes_of(end)
    if hi <= lo:
        return minute >= lo or minute < hi
    return lo <= minute < hi


def _check(
    ws: WorldSession, view: View, npc: str, r: Resolved, hours: float, place: Any
) -> list[Failure]:
    world, session, g = ws.world, view.session, r.gating
    fails: list[Failure] = []
    player_at = session.player.get("location")
    if place.location is None:
        fails.append(Failure("present", None, "somewhere in the world"))
    elif player_at is not None and player_at != place.location:
        fails.append(Failure("present", place.location, f"with the player at {player_at}"))
    if g.location and place.location not in g.location:
        fails.append(Failure("location", place.location, f"one of {g.location}"))
    _, day_name, minute = clock_of(world, hours)
    if g.days and day_name not in g.days:
        fails.append(Failure("days", day_name, f"one of {g.days}"))
    if g.time is not None and not _in_window(minute, g.time.from_, g.time.to):
        clock = f"{minute // 60:02d}:{minute % 60:02d}"
        fails.append(Failure("time", clock, f"between {g.time.from_} and {g.time.to}"))
    if g.activity and place.activity not in g.activity:
        fails.append(Failure("activity", place.activity, f"one of {g.activity}"))
    row = session.relationships.get(npc, {})
    for name, bound in g.bounds.items():
        kind, _, axis = name.partition("_")
        value = row.get(axis, world.stats.axes[axis].default)
        if (kind == "min" and value < bound) or (kind == "max" and value > bound):
            fails.append(Failure(name, value, f"{'>=' if kind == 'min' else '<='} {bound:g}"))
    if g.mood and row.get("mood") not in g.mood:
        fails.append(Failure("mood", row.get("mood"), f"one of {g.mood}"))
    for flag, want in g.flags.items():
        have = session.flags.get(flag, False if isinstance(want, bool) else None)
        if have != want:
            fails.append(Failure(f"flags.{flag}", have, want))
    for item, count in g.inventory.items():
        have = session.inventory.get(item, 0)
        if have < count:
            fails.append(Failure(f"inventory.{item}", have, f">= {count}"))
    left = cooldown_left(ws, view, r, npc, hours)
    if left > 0:
        fails.append(Failure("cooldown", f"{left:g} h left", f"{r.cooldown_hours:g} h apart"))
    return fails


def cooldown_left(ws: WorldSession, view: View, r: Resolved, npc: str, hours: float) -> float:
    """Hours until ``r`` may be used with ``npc`` again (0 when it may)."""
    last = view.session.flags.get(cooldown_flag(r.id, npc))
    if last is None or r.cooldown_hours <= 0:
        return 0.0
    return max(0.0, round(float(last) + r.cooldown_hours - hours, 9))


def available(
    ws: WorldSession,
    npc: str | None = None,
    at: float | str | None = None,
    *,
    interaction: str | None = None,
) -> pd.DataFrame:
    """One row per NPC x interaction that applies to it: ``npc``, ``interaction``,
    ``label``, ``available``, ``why_not`` (the failed requirements as text),
    ``cooldown_left`` (hours), ``program``, ``node`` and ``failures`` (the
    :class:`Failure` values). Overrides of ``ws`` apply; ``at`` replaces its time.
    """
    world = ws.world
    if npc is not None and npc not in world.npcs:
        raise UnknownNameError("NPC", npc, world.npcs)
    if interaction is not None and interaction not in world.interactions:
        raise UnknownNameError("interaction", interaction, world.interactions)
    hours = ws.time if at is None else parse_at(world, at)
    view = ws.view()
    npcs = [npc] if npc is not None else list(world.npcs)
    places = {p.npc: p for p in _placements(world, ws, hours, npcs)}
    inters = [world.interactions[interaction]] if interaction else world.interactions.values()
    rows = []
    for n in npcs:
        for inter in inters:
            if not applies_to(world, inter, n):
                continue
            r = resolve(inter, n)
            fails = _check(ws, view, n, r, hours, places[n])
            rows.append(
                {
                    "npc": n,
                    "interaction": inter.id,
                    "label": r.label,
                    "available": not fails,
                    "why_not": "; ".join(str(f) for f in fails),
                    "cooldown_left": cooldown_left(ws, view, r, n, hours),
                    "program": r.program,
                    "node": r.node,
                    "failures": tuple(fails),
                }
            )
    return pd.DataFrame(rows, columns=_COLUMNS)


def why_not(
    ws: WorldSession, npc: str | None = None, at: float | str | None = None
) -> pd.DataFrame:
    """One row per failed requirement: ``npc``, ``interaction``, ``requirement``,
    ``actual``, ``required`` (see :func:`available`)."""
    table = available(ws, npc, at)
    rows = [
        {
            "npc": row.npc,
            "interaction": row.interaction,
            "requirement": f.requirement,
            "actual": f.actual,
            "required": f.required,
        }
        for row in table.itertuples()
        for f in row.failures
    ]
    return pd.DataFrame(rows, columns=["npc", "interaction", "requirement", "actual", "required"])
