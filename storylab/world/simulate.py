"""Simulating a world: NPCs follow their schedules, interaction gates are evaluated, and
co-located NPCs drift their relationships (the manifest's ``ambient`` rule).

Every step is vectorised over NPCs (numpy). Random draws come from
:mod:`storylab.world.rng`, keyed by (seed, tick, NPC), and NPCs are handled in the order of
their ids, so a run does not depend on the order of the manifest or on NPCs elsewhere.

Each tick, in order: at the start of a day (after the first), every recorded relationship
decays by one day; gates are evaluated; each present NPC, with probability ``chance``,
meets one other NPC at its location (drawn uniformly among them, ordered by key) and adds
``rate * compatibility`` to its axis towards it, clamped to the axis's bounds. Gates here
are the world-level requirements (presence, location, days, time, activity, the player's
axes, mood, and the player's starting flags and inventory); cooldowns belong to sessions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from storylab.world.clock import minutes_of
from storylab.world.gating import applies_to, resolve
from storylab.world.relations import compatibility, decay, derive
from storylab.world.rng import npc_keys, uniforms
from storylab.world.schedule import clock_of, schedule_table

if TYPE_CHECKING:
    from storylab.world.manifest import Gating, World

__all__ = ["WorldRun", "relationship_hash", "simulate"]

_SOURCES = ("initial", "ambient", "decay")


@dataclass(frozen=True)
class _Raw:
    """What a run computed, before it is laid out as DataFrames."""

    table: Any
    names: list[str]
    location: np.ndarray
    activity: np.ndarray
    state: Any
    availability: list[tuple[int, str, int, int]]


@dataclass(frozen=True)
class WorldRun:
    """A simulated stretch of world time, as tidy DataFrames (each laid out on first use).

    Attributes
    ----------
    presence : DataFrame
        ``tick``, ``hours``, ``npc``, ``location``, ``activity``: every NPC at every tick.
    relationships : DataFrame
        ``tick``, ``a``, ``b``, ``axis``, ``value``, ``source``: every recorded value (the
        initial ones, then each change); ``b`` is an NPC or ``player``.
    events : DataFrame
        ``tick``, ``hours``, ``npc``, ``event``, ``location``, ``activity``: arrivals.
    availability : DataFrame
        ``tick``, ``interaction``, ``available``, ``applicable``: NPCs whose gates hold.
    final : DataFrame
        ``a``, ``b``, ``axis``, ``value``: the relationships at the end.
    """

    world: World = field(repr=False)
    seed: int
    days: int
    _raw: _Raw = field(repr=False, compare=False)

    @cached_property
    def presence(self) -> pd.DataFrame:
        r = self._raw
        return _presence(r.table, r.names, r.location, r.activity, self.world.clock)

    @cached_property
    def relationships(self) -> pd.DataFrame:
        return self._raw.state.frame()

    @cached_property
    def events(self) -> pd.DataFrame:
        r = self._raw
        return _events(r.table, r.names, r.location, r.activity, self.world.clock)

    @cached_property
    def availability(self) -> pd.DataFrame:
        return _availability(self._raw.availability)

    @cached_property
    def final(self) -> pd.DataFrame:
        return self._raw.state.final()

    def final_hash(self) -> str:
        """A hash of :attr:`final` (values rounded to 9 decimals): equal runs, equal hash."""
        return relationship_hash(
            self.final[["a", "b", "axis", "value"]].itertuples(index=False, name=None)
        )


def relationship_hash(rows: Any) -> str:
    """BLAKE2b of sorted ``(a, b, axis, value)`` rows, values rounded to 9 decimals."""
    digest = hashlib.blake2b(digest_size=16)
    for a, b, axis, value in sorted((str(a), str(b), str(x), float(v)) for a, b, x, v in rows):
        digest.update(f"{a}\t{b}\t{axis}\t{round(value, 9) + 0.0:.9f}\n".encode())
    return digest.hexdigest()


class _Gate:
    """One resolved gating, vectorised over the NPCs it applies to."""

    def __init__(self, world: World, table: Any, gating: Gating, applies: np.ndarray):
        self.applies = applies
        self.g = gating
        loc_code = {name: i for i, name in enumerate(table.locations)}
        act_code = {name: i for i, name in enumerate(table.activities)}
        self.locations = np.array([loc_code[x] for x in gating.location], dtype=np.int32)
        self.activities = np.array([act_code.get(x, -2) for x in gating.activity], dtype=np.int32)
        start = world.player
        self.static_ok = all(
            start.flags.get(k, False if isinstance(v, bool) else None) == v
            for k, v in gating.flags.items()
        ) and all(start.inventory.get(k, 0) >= v for k, v in gating.inventory.items())
        self.window = None
        if gating.time is not None:
            self.window = (minutes_of(gating.time.from_), minutes_of(gating.time.to))

    def at(self, day: str, minute: int) -> bool:
        """Whether the day and clock requirements hold."""
        if not self.static_ok or (self.g.days and day not in self.g.days):
            return False
        if self.window is None:
            return True
        lo, hi = self.window
        return (minute >= lo or minute < hi) if hi <= lo else lo <= minute < hi

    def mask(self, loc: np.ndarray, act: np.ndarray, axes: dict, moods: np.ndarray | None) -> Any:
        """NPCs (a boolean array) whose gates hold."""
        ok = self.applies & (loc >= 0)
        if self.locations.size:
            ok &= np.isin(loc, self.locations)
        if self.activities.size:
            ok &= np.isin(act, self.activities)
        for name, bound in self.g.bounds.items():
            kind, _, axis = name.partition("_")
            ok &= axes[axis] >= bound if kind == "min" else axes[axis] <= bound
        if self.g.mood and moods is not None:
            ok &= np.isin(moods, np.array(self.g.mood, dtype=object))
        return ok


def _gates(world: World, table: Any, names: list[str]) -> list[tuple[str, _Gate]]:
    out = []
    everyone = list(range(len(names)))
    for inter in world.interactions.values():
        groups: dict[int, tuple[Any, list[int]]] = {}
        if not (inter.npcs or inter.roles or inter.overrides):
            groups[id(inter.gating)] = (inter.gating, everyone)
        for i, npc in enumerate(names if not groups else ()):
            if applies_to(world, inter, npc):
                gating = resolve(inter, npc).gating
                groups.setdefault(id(gating), (gating, []))[1].append(i)
        for gating, members in groups.values():
            applies = np.zeros(len(names), dtype=bool)
            applies[members] = True
            out.append((inter.id, _Gate(world, table, gating, applies)))
    return out


#: Keys stay 32-bit below this: pair keys up to about 26,000 NPCs with three axes, and the
#: per-tick partner sort's keys.
_INT32_KEYS = 2**31


def _meetings(
    loc: np.ndarray, keys: np.ndarray, rank: np.ndarray, seed: int, tick: int, chance: float
) -> tuple[np.ndarray, np.ndarray]:
    """(NPC, partner) index pairs meeting this tick; ``rank``: each NPC's place by key."""
    by = loc.astype(np.int64) * len(loc) + rank  # by location, then key (all distinct)
    order = np.argsort(by.astype(np.int32) if by.size and by.max() < _INT32_KEYS else by)
    where_ = loc[order]
    first = np.searchsorted(where_, where_, side="left")
    size = np.searchsorted(where_, where_, side="right") - first
    go = uniforms(seed, tick, 0, keys[order]) < chance
    ok = (where_ >= 0) & (size >= 2) & go
    pick = uniforms(seed, tick, 1, keys[order[ok]])
    pos = np.flatnonzero(ok)
    r = np.floor(pick * (size[ok] - 1)).astype(np.int64)
    partner = first[ok] + r + (r >= pos - first[ok])
    return order[ok], order[partner]


def simulate(
    world: World, days: int = 7, seed: int = 0, *, gates: bool = True, progress: bool = False
) -> WorldRun:
    """Advance ``world`` from its start by ``days``; see the module docstring.

    Parameters
    ----------
    world : World
    days : int
        Whole days to simulate (1 to 3,650).
    seed : int
        A non-negative integer keying every random draw.
    gates : bool
        Evaluate the interactions' gates each tick (the ``availability`` frame).
    progress : bool
        Show a progress bar.
    """
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or not 1 <= days <= 3650:
        raise ValueError(f"days: a whole number from 1 to 3650, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: a non-negative integer, got {seed!r}")
    seed, tph = int(seed), world.clock.ticks_per_hour
    table = schedule_table(world)
    perm = np.argsort(np.array(table.npcs, dtype=object))
    names = [table.npcs[i] for i in perm]
    n, ticks, per_day = len(names), int(days) * 24 * tph, 24 * tph
    week = table.week_tick(np.arange(ticks))
    # (NPC, tick) tables laid out tick by tick: each tick reads one contiguous column
    loc_all = np.asfortranarray(table.location[perm][:, week])
    act_all = np.asfortranarray(table.activity[perm][:, week])
    keys = npc_keys(names)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(keys, kind="stable")] = np.arange(n)
    traits = np.array([list(world.npcs[x].personality.model_dump().values()) for x in names])
    amb = world.ambient

    meet_a, meet_b, meet_d = [], [], []
    for t in range(ticks):
        if amb is None or n < 2:
            break
        a, b = _meetings(loc_all[:, t], keys, rank, seed, t, amb.chance)
        meet_a.append(a)
        meet_b.append(b)
        meet_d.append(amb.rate * compatibility(traits[a], traits[b]))

    state = _State(world, names, meet_a, meet_b)
    gate_list = _gates(world, table, names) if gates else []
    need_mood = any(g.g.mood for _, g in gate_list) and "mood" in world.stats.derived
    avail_rows: list[tuple[int, str, int, int]] = []
    moods = None
    for t in tqdm(range(ticks), disable=not progress, desc="simulate", unit="tick"):
        if t and t % per_day == 0:
            state.decay_day(t)
        if need_mood and t % per_day == 0:
            moods = state.moods()  # the player's axes change only with the daily decay
        if gate_list:
            _, day, minute = clock_of(world, t / tph)
            axes = state.player_axes()
            for inter_id, gate in gate_list:
                count = 0
                if gate.at(day, minute):
                    count = int(gate.mask(loc_all[:, t], act_all[:, t], axes, moods).sum())
                avail_rows.append((t, inter_id, count, int(gate.applies.sum())))
        if amb is not None and t < len(meet_a):
            state.meet(t, amb.axis, meet_d[t])

    return WorldRun(world, seed, int(days), _Raw(table, names, loc_all, act_all, state, avail_rows))


class _State:
    """Relationship values in slots: one per (a, b, axis) ever recorded."""

    def __init__(self, world: World, names: list[str], meet_a: list, meet_b: list):
        self.world, self.names, n = world, names, len(names)
        index = {x: i for i, x in enumerate(names)}
        self.axes = list(world.stats.axes)
        self.keys, self.values, self.live, self.inverse = {}, {}, {}, {}
        self.rows: list[tuple] = []  # (tick, axis, slots, values, source): the change log
        self.offsets = np.cumsum([0] + [len(a) for a in meet_a])
        # pair keys a * (n + 1) + b (b == n: the player), times the axis count in final():
        # 32-bit while they fit, which halves the memory and speeds the sorts
        fits = (n + 1) ** 2 * max(1, len(self.axes)) < _INT32_KEYS
        self.dtype = np.int32 if fits else np.int64
        meet_keys = (
            (np.concatenate(meet_a) * (n + 1) + np.concatenate(meet_b)).astype(self.dtype)
            if meet_a
            else np.zeros(0, dtype=self.dtype)
        )
        ambient = world.ambient.axis if world.ambient is not None else None
        given = [(i, world.npcs[x].relationships) for i, x in enumerate(names)]
        given = [(i, rows) for i, rows in given if rows]
        for axis in self.axes:
            default = world.stats.axes[axis].default
            init_keys = list(np.arange(n, dtype=np.int64) * (n + 1) + n)  # with the player
            init_vals = [default] * n
            for i, rows in given:
                for other, row in rows.items():
                    if axis not in row:
                        continue
                    if other == "player":
                        init_vals[i] = row[axis]
                    else:
                        init_keys.append(i * (n + 1) + index[other])
                        init_vals.append(row[axis])
            extra = meet_keys if axis == ambient else np.zeros(0, dtype=self.dtype)
            all_keys = np.concatenate([np.array(init_keys, dtype=self.dtype), extra])
            uniq, inv = np.unique(all_keys, return_inverse=True)  # slots in key order
            vals = np.full(len(uniq), default, dtype=float)
            live = np.zeros(len(uniq), dtype=bool)
            first = inv[: len(init_keys)]
            vals[first] = init_vals
            live[first] = True
            self.keys[axis], self.values[axis], self.live[axis] = uniq, vals, live
            self.inverse[axis] = inv[len(init_keys) :]
            self.rows.append((0, axis, first, vals[first], 0))
        with_player = np.arange(n, dtype=np.int64) * (n + 1) + n
        self.player_slots = {a: np.searchsorted(self.keys[a], with_player) for a in self.axes}

    def decay_day(self, tick: int) -> None:
        for axis in self.axes:
            if self.world.stats.axes[axis].decay_per_day == 0:
                continue
            slots = np.flatnonzero(self.live[axis])
            old = self.values[axis][slots]
            new = decay(self.world, axis, old, 1.0)
            moved = slots[new != old]
            self.values[axis][slots] = new
            self.rows.append((tick, axis, moved, self.values[axis][moved], 2))

    def meet(self, tick: int, axis: str, delta: np.ndarray) -> None:
        slots = self.inverse[axis][self.offsets[tick] : self.offsets[tick + 1]]
        spec = self.world.stats.axes[axis]
        new = np.clip(self.values[axis][slots] + delta, spec.min, spec.max)
        self.values[axis][slots] = new
        self.live[axis][slots] = True
        self.rows.append((tick, axis, slots, new, 1))

    def player_axes(self) -> dict[str, np.ndarray]:
        return {axis: self.values[axis][self.player_slots[axis]] for axis in self.axes}

    def moods(self) -> np.ndarray:
        axes = self.player_axes()
        return np.array(
            [
                derive(self.world, name, {a: float(v[i]) for a, v in axes.items()})["mood"].value
                for i, name in enumerate(self.names)
            ],
            dtype=object,
        )

    def _pairs(self, axis: str, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.divmod(self.keys[axis][slots], len(self.names) + 1)

    def frame(self) -> pd.DataFrame:
        columns: list[list[np.ndarray]] = [[], [], [], [], [], []]
        for tick, axis, slots, values, source in self.rows:
            a, b = self._pairs(axis, slots)
            code = np.full(len(slots), self.axes.index(axis), dtype=np.int32)
            ticks = np.full(len(slots), tick, dtype=np.int64)
            parts = (ticks, a, b, code, values, np.full(len(slots), source, dtype=np.int8))
            for column, part in zip(columns, parts, strict=True):
                column.append(part)
        ticks, a, b, axis, values, sources = (np.concatenate(c) for c in columns)
        return pd.DataFrame(
            {
                "tick": ticks,
                "a": pd.Categorical.from_codes(a, self.names),
                "b": pd.Categorical.from_codes(b, [*self.names, "player"]),
                "axis": pd.Categorical.from_codes(axis, self.axes),
                "value": values.astype(float, copy=False),
                "source": pd.Categorical.from_codes(sources, _SOURCES),
            }
        )

    def final(self) -> pd.DataFrame:
        """The last value of every recorded (a, b, axis), ordered by a, then b (NPCs by id,
        the player last), then axis (as declared)."""
        live = [np.flatnonzero(self.live[axis]) for axis in self.axes]
        keys = np.concatenate([self.keys[x][s] for x, s in zip(self.axes, live, strict=True)])
        values = np.concatenate([self.values[x][s] for x, s in zip(self.axes, live, strict=True)])
        axis = np.repeat(np.arange(len(self.axes), dtype=np.int32), [len(s) for s in live])
        if len(self.axes) > 1:  # merge the axes' sorted runs (the keys * axes fit the dtype)
            order = np.argsort(keys * len(self.axes) + axis, kind="stable")
            keys, values, axis = keys[order], values[order], axis[order]
        a, b = np.divmod(keys, len(self.names) + 1)
        return pd.DataFrame(
            {
                "a": pd.Categorical.from_codes(a, self.names),
                "b": pd.Categorical.from_codes(b, [*self.names, "player"]),
                "axis": pd.Categorical.from_codes(axis, self.axes),
                "value": values,
            }
        )


def _presence(table: Any, names: list[str], loc: Any, act: Any, clock: Any) -> pd.DataFrame:
    n, ticks, tph = *loc.shape, clock.ticks_per_hour
    tick = np.repeat(np.arange(ticks), n)
    return pd.DataFrame(
        {
            "tick": tick,
            "hours": tick / tph,
            "npc": pd.Categorical.from_codes(np.tile(np.arange(n), ticks), names),
            "location": pd.Categorical.from_codes(loc.T.ravel(), table.locations),
            "activity": pd.Categorical.from_codes(act.T.ravel(), table.activities),
        }
    )


def _events(table: Any, names: list[str], loc: Any, act: Any, clock: Any) -> pd.DataFrame:
    tph = clock.ticks_per_hour
    moved = np.zeros(loc.shape, dtype=bool)
    moved[:, 1:] = loc[:, 1:] != loc[:, :-1]
    npc, tick = np.nonzero(moved)
    order = np.lexsort((npc, tick))
    npc, tick = npc[order], tick[order]
    here = loc[npc, tick]
    return pd.DataFrame(
        {
            "tick": tick,
            "hours": tick / tph,
            "npc": pd.Categorical.from_codes(npc, names),
            "event": np.where(here >= 0, "arrive", "leave"),
            "location": pd.Categorical.from_codes(
                np.where(here >= 0, here, loc[npc, tick - 1]), table.locations
            ),
            "activity": pd.Categorical.from_codes(act[npc, tick], table.activities),
        }
    )


def _availability(rows: list[tuple[int, str, int, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["tick", "interaction", "available", "applicable"])
    return frame.groupby(["tick", "interaction"], as_index=False, sort=True).sum()
