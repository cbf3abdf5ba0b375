"""Who is where, when: the weekly schedule as a table of ticks, ``where`` and ``presence``.

The schedule is compiled once per world into two integer arrays (NPC x tick of the week):
location and activity codes. An NPC is where the block covering the tick's first minute
puts it, else at home (activity ``home``), else nowhere (location ``None``, activity
``away``).

>>> import storylab
>>> from pathlib import Path
>>> from storylab.world import load_world
>>> world = load_world(Path(storylab.__file__).parents[1] / "data/worlds/harbor-district")
>>> where(world, "captain", at="mon 12:30").location
'market'
>>> where(world, "captain", at="mon 01:00").activity  # Sunday's drinking runs past midnight
'drinking'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from storylab._data import UnknownNameError
from storylab.world.clock import DAY_MINUTES, block_intervals, parse_day_time

if TYPE_CHECKING:
    from storylab.world.manifest import World

__all__ = [
    "Placement",
    "ScheduleTable",
    "clock_of",
    "format_time",
    "parse_at",
    "presence",
    "schedule_table",
    "where",
    "world_tick",
]


@dataclass(frozen=True)
class ScheduleTable:
    """The compiled weekly schedule.

    Attributes
    ----------
    npcs, locations, activities : tuple of str
        Names behind the codes (NPCs in manifest order).
    location, activity : numpy.ndarray
        ``(len(npcs), ticks_per_week)`` codes; location -1 is nowhere.
    minutes_per_tick : int
    start_tick : int
        The tick of the week at world time 0.
    """

    npcs: tuple[str, ...]
    locations: tuple[str, ...]
    activities: tuple[str, ...]
    location: np.ndarray
    activity: np.ndarray
    minutes_per_tick: int
    start_tick: int

    @property
    def ticks_per_week(self) -> int:
        """Ticks in one week."""
        return int(self.location.shape[1])

    def week_tick(self, tick: int | np.ndarray) -> Any:
        """The tick of the week of world tick(s) ``tick``."""
        return (self.start_tick + tick) % self.ticks_per_week


def _build(world: World) -> ScheduleTable:
    days = world.clock.days
    mpt = 60 // world.clock.ticks_per_hour
    tpw = len(days) * DAY_MINUTES // mpt
    npcs = tuple(world.npcs)
    locations = tuple(world.locations)
    loc_code = {loc: i for i, loc in enumerate(locations)}
    activities: dict[str, int] = {"home": 0, "away": 1}
    location = np.full((len(npcs), tpw), -1, dtype=np.int32)
    activity = np.ones((len(npcs), tpw), dtype=np.int32)
    for i, npc in enumerate(world.npcs.values()):
        if npc.home is not None:
            location[i] = loc_code[npc.home]
            activity[i] = 0
        for block in npc.schedule:
            code = activities.setdefault(block.activity, len(activities))
            for lo, hi in block_intervals(block.day, block.start, block.end, days):
                a, b = -(-lo // mpt), -(-hi // mpt)
                location[i, a:b] = loc_code[block.location]
                activity[i, a:b] = code
    day, minute = parse_day_time(world.clock.start, days)
    start = ((day or 0) * DAY_MINUTES + minute) // mpt
    return ScheduleTable(npcs, locations, tuple(activities), location, activity, mpt, start)


def schedule_table(world: World) -> ScheduleTable:
    """The world's compiled schedule (built once per world)."""
    return world.cached("schedule", lambda: _build(world))


def world_tick(world: World, hours: float) -> int:
    """The tick that world time ``hours`` falls in."""
    return int(np.floor(hours * world.clock.ticks_per_hour + 1e-9))


def clock_of(world: World, hours: float) -> tuple[int, str, int]:
    """(day since the start counting from 1, day name, minute of the day) at ``hours``."""
    days = world.clock.days
    day, minute = parse_day_time(world.clock.start, days)
    start_day = day or 0
    absolute_day, rest = divmod(
        start_day * DAY_MINUTES + minute + round(float(hours) * 60), DAY_MINUTES
    )
    return absolute_day - start_day + 1, days[absolute_day % len(days)], rest


def format_time(world: World, hours: float) -> str:
    """``"day 1 mon 08:00"``: the day since the start (from 1), its name and the clock."""
    day, name, rest = clock_of(world, hours)
    return f"day {day} {name} {rest // 60:02d}:{rest % 60:02d}"


def parse_at(world: World, at: float | int | str) -> float:
    """World time in hours from a number of hours or a clock time.

    ``"tue 18:00"`` is the first Tuesday 18:00 at or after the start; ``"18:00"`` the first
    18:00 at or after the start.

    Raises
    ------
    ValueError
        When ``at`` is negative, not finite, or not a time of the clock's days.
    """
    if isinstance(at, bool):
        raise ValueError(f"a time in hours or like 'tue 18:00', got {at!r}")
    if isinstance(at, int | float):
        if not np.isfinite(at) or at < 0:
            raise ValueError(f"a time at or after the start (hours >= 0), got {at!r}")
        return float(at)
    days = world.clock.days
    start_day, start_minute = parse_day_time(world.clock.start, days)
    start = (start_day or 0) * DAY_MINUTES + start_minute
    day, minute = parse_day_time(at, days)
    period = DAY_MINUTES if day is None else len(days) * DAY_MINUTES
    target = minute if day is None else day * DAY_MINUTES + minute
    return ((target - start) % period) / 60.0


@dataclass(frozen=True)
class Placement:
    """Where an NPC is: location (``None``: nowhere), activity, and why."""

    npc: str
    location: str | None
    activity: str
    source: str  # "schedule", "home", "away" or "override"


def _target(target: Any) -> tuple[World, Any]:
    """(world, world session or None) of a world or a world session."""
    world = getattr(target, "world", None)
    return (world, target) if world is not None else (target, None)


def where(target: Any, npc: str, at: float | str | None = None) -> Placement:
    """Where ``npc`` is at ``at`` (default: the session's time, or the start).

    ``target`` is a world or a :class:`~storylab.world.WorldSession` (whose location
    overrides win).
    """
    world, ws = _target(target)
    if npc not in world.npcs:
        raise UnknownNameError("NPC", npc, world.npcs)
    return _placements(world, ws, at, [npc])[0]


def _placements(world: World, ws: Any, at: Any, npcs: Sequence[str]) -> list[Placement]:
    hours = parse_at(world, at) if at is not None else (ws.time if ws is not None else 0.0)
    table = schedule_table(world)
    tick = table.week_tick(world_tick(world, hours))
    moved = ws.overridden_locations() if ws is not None else {}
    index = {n: i for i, n in enumerate(table.npcs)}
    out = []
    for npc in npcs:
        if npc in moved:
            out.append(Placement(npc, moved[npc], "override", "override"))
            continue
        i = index[npc]
        code, act = int(table.location[i, tick]), table.activities[table.activity[i, tick]]
        source = act if act in ("home", "away") else "schedule"
        out.append(Placement(npc, table.locations[code] if code >= 0 else None, act, source))
    return out


def presence(target: Any, at: float | str | None = None) -> pd.DataFrame:
    """Every NPC's placement at one time: ``npc``, ``name``, ``location``, ``activity``,
    ``source`` (``target`` as for :func:`where`)."""
    world, ws = _target(target)
    rows = [
        {"npc": p.npc, "name": world.npcs[p.npc].name, **_fields(p)}
        for p in _placements(world, ws, at, list(world.npcs))
    ]
    return pd.DataFrame(rows, columns=["npc", "name", "location", "activity", "source"])


def _fields(p: Placement) -> dict[str, Any]:
    return {"location": p.location, "activity": p.activity, "source": p.source}
