"""The world manifest: clock, locations, NPCs, relationship axes, interactions, as pydantic
models (frozen, unknown fields refused).

Locations, NPCs and interactions are maps keyed by id, so every problem has a readable path
(``interactions.flirt.gating.min_chemistry``) and a variant can name any value by its path
(``npcs.captain.personality.extraversion``). An entry's ``id`` defaults to its key.
Cross-references (locations, NPCs, programs and their nodes, schedule overlaps) are checked
by :func:`storylab.world.check_world`; :func:`storylab.world.load_world` does both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from storylab._data import Frozen
from storylab.runtime.program import Effects, NarrativeProgram
from storylab.world.clock import TIME_PATTERN

__all__ = [
    "NPC",
    "OCEAN",
    "AmbientDrift",
    "Axis",
    "CastTemplate",
    "Clock",
    "Derived",
    "DerivedCase",
    "Gating",
    "Hotspot",
    "Interaction",
    "InteractionOverride",
    "Location",
    "Personality",
    "PlayerStart",
    "ScheduleBlock",
    "StatPackage",
    "TimeWindow",
    "World",
    "world_json_schema",
]

Id = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
ClockTime = Annotated[str, Field(pattern=TIME_PATTERN, description="HH:MM, 00:00 to 24:00")]
Scalar = bool | int | float | str | None
Unit = Annotated[float, Field(ge=0.0, le=1.0)]

#: The five OCEAN traits, in order.
OCEAN = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")

_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Clock(Frozen):
    """How world time runs: ticks per hour, the start, the names of the week's days."""

    ticks_per_hour: int = Field(default=1, ge=1, le=60, description="a divisor of 60")
    start: str = Field(default="mon 08:00", description="day and time of world time 0")
    days: list[Id] = Field(default_factory=lambda: list(_WEEK), min_length=1, max_length=14)

    @model_validator(mode="after")
    def _divides_hour(self) -> Clock:
        if 60 % self.ticks_per_hour:
            raise ValueError(f"ticks_per_hour must divide 60, got {self.ticks_per_hour}")
        if len(set(self.days)) != len(self.days):
            raise ValueError("days must be unique")
        return self


class Hotspot(Frozen):
    """A spot in a location that starts a narrative program at a node (its entry by default)."""

    id: Id
    label: str = ""
    program: Id
    node: str | None = None


class Location(Frozen):
    """A place NPCs can be."""

    id: Id
    name: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    hotspots: list[Hotspot] = Field(default_factory=list)


class Personality(Frozen):
    """OCEAN personality, each trait in [0, 1]."""

    openness: Unit
    conscientiousness: Unit
    extraversion: Unit
    agreeableness: Unit
    neuroticism: Unit


class ScheduleBlock(Frozen):
    """Where an NPC is on some days between two clock times (end <= start: past midnight)."""

    day: Id | list[Id] = Field(description="a day name, a list of them, or 'daily'")
    start: ClockTime
    end: ClockTime
    location: Id
    activity: str = "idle"


class CastTemplate(Frozen):
    """A character template NPCs can instantiate (``NPC.character``)."""

    id: Id
    name: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)


class NPC(Frozen):
    """A person of the world: personality, traits, a weekly schedule, starting relationships.

    ``relationships`` maps ``player`` or another NPC's id to axis values. Outside every
    schedule block the NPC is at ``home`` (or nowhere when it has none).
    """

    id: Id
    name: str = Field(min_length=1)
    role: str | None = None
    character: str | None = Field(
        default=None, description="the archive character key or cast template id it instantiates"
    )
    personality: Personality
    traits: dict[str, Scalar | list[str]] = Field(default_factory=dict)
    stats: dict[str, float] = Field(default_factory=dict)
    home: Id | None = None
    schedule: list[ScheduleBlock] = Field(default_factory=list, max_length=200)
    relationships: dict[Id, dict[Id, float]] = Field(default_factory=dict)


class Axis(Frozen):
    """A relationship axis: bounds, starting value, decay per day towards ``baseline``."""

    min: float = -100.0
    max: float = 100.0
    default: float = 0.0
    decay_per_day: float = Field(default=0.0, ge=0.0)
    baseline: float | None = Field(default=None, description="decay target (default: default)")

    @model_validator(mode="after")
    def _ordered(self) -> Axis:
        if not self.min < self.max:
            raise ValueError(f"min must be below max, got {self.min} and {self.max}")
        for name in ("default", "baseline"):
            value = getattr(self, name)
            if value is not None and not self.min <= value <= self.max:
                raise ValueError(f"{name} {value} is outside [{self.min}, {self.max}]")
        return self

    @property
    def target(self) -> float:
        """Where decay pulls the value."""
        return self.default if self.baseline is None else self.baseline


class DerivedCase(Frozen):
    """One case of a derived value: ``value`` when the expression ``when`` holds."""

    when: str = Field(min_length=1, max_length=2000)
    value: Scalar


class Derived(Frozen):
    """A value computed from axes and personality: an ``expression``, or the first case
    whose ``when`` holds (``default`` otherwise).

    Expressions read ``rel.self.<axis>`` (the NPC's axes with the player), ``var.<trait>``
    (the OCEAN traits and earlier derived values) and ``npc``.
    """

    expression: str | None = Field(default=None, max_length=2000)
    cases: list[DerivedCase] = Field(default_factory=list, max_length=50)
    default: Scalar = None

    @model_validator(mode="after")
    def _one_form(self) -> Derived:
        if (self.expression is None) == (not self.cases):
            raise ValueError("a derived value needs either 'expression' or 'cases'")
        return self


class StatPackage(Frozen):
    """Relationship axes and the values derived from them, in declaration order."""

    axes: dict[Id, Axis] = Field(min_length=1)
    derived: dict[Id, Derived] = Field(default_factory=dict)


class TimeWindow(Frozen):
    """A daily window of clock times (``to`` at or before ``from``: past midnight)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: ClockTime = Field(alias="from")
    to: ClockTime


class Gating(BaseModel):
    """What an interaction requires. Besides the named fields, ``min_<axis>`` and
    ``max_<axis>`` (numbers) bound the NPC's relationship axes with the player."""

    model_config = ConfigDict(frozen=True, extra="allow")
    __pydantic_extra__: dict[str, float] = Field(init=False)

    location: list[Id] = Field(default_factory=list, description="where the NPC must be")
    time: TimeWindow | None = None
    days: list[Id] = Field(default_factory=list)
    flags: dict[Id, Scalar] = Field(default_factory=dict)
    inventory: dict[Id, int] = Field(default_factory=dict, description="minimum counts held")
    mood: list[str] = Field(default_factory=list)
    activity: list[str] = Field(default_factory=list)

    @property
    def bounds(self) -> dict[str, float]:
        """The ``min_<axis>`` and ``max_<axis>`` requirements."""
        return dict(self.model_extra or {})


class InteractionOverride(Frozen):
    """Per-NPC changes to an interaction (each given field replaces the interaction's)."""

    label: str | None = None
    gating: Gating | None = None
    cooldown_hours: float | None = Field(default=None, ge=0.0)
    program: Id | None = None
    node: str | None = None
    effects: Effects | None = None


class Interaction(Frozen):
    """Something the player may do with an NPC, when its gating holds.

    ``npcs`` and ``roles`` select the NPCs it applies to (neither: every NPC). Effects use
    the runtime's effects (``self`` is the NPC; an expression reads the NPC's axes as
    ``npc.<axis>``, the same as ``rel.self.<axis>``, e.g. ``npc.trust >= 10``); ``program``
    and ``node`` start a narrative.
    """

    id: Id
    label: str = Field(min_length=1)
    npcs: list[Id] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    gating: Gating = Field(default_factory=Gating)
    cooldown_hours: float = Field(default=0.0, ge=0.0)
    program: Id | None = None
    node: str | None = None
    effects: Effects = Field(default_factory=Effects)
    overrides: dict[Id, InteractionOverride] = Field(default_factory=dict)


class AmbientDrift(Frozen):
    """Co-located NPCs drift an axis by ``rate`` times their personality compatibility.

    Each tick, each NPC meets one co-located NPC (drawn at random) with probability
    ``chance`` and adds ``rate * compatibility`` to its ``axis`` towards it; compatibility is
    ``1 - 2 * mean |trait difference|`` (in [-1, 1]).
    """

    axis: Id = "affinity"
    rate: float = Field(default=0.5, ge=0.0, le=100.0)
    chance: Unit = 1.0


class PlayerStart(Frozen):
    """The player at world time 0."""

    name: str = "Player"
    location: Id | None = None
    flags: dict[Id, Scalar] = Field(default_factory=dict)
    inventory: dict[Id, int] = Field(default_factory=dict)


def _keyed(value: Any) -> Any:
    """Fill each entry's ``id`` from its key (a differing id is left for validation)."""
    if not isinstance(value, Mapping):
        return value
    out = {}
    for key, entry in value.items():
        if isinstance(entry, Mapping) and "id" not in entry:
            entry = {"id": key, **entry}
        out[key] = entry
    return out


class World(Frozen):
    """A world manifest; see the module docstring and ``docs/world.md``."""

    kind: Literal["world"] = "world"
    id: Id
    name: str = Field(min_length=1)
    description: str = ""
    content_rating: Literal["general", "teen", "mature", "adult"] = "general"
    clock: Clock = Field(default_factory=Clock)
    programs: list[str] = Field(
        default_factory=list, max_length=200, description="program files, relative to this file"
    )
    locations: dict[Id, Location] = Field(min_length=1, max_length=10_000)
    cast: list[CastTemplate] = Field(default_factory=list)
    npcs: dict[Id, NPC] = Field(default_factory=dict, max_length=100_000)
    roles: dict[str, Id] = Field(
        default_factory=dict, description="scene role name (as programs use it) -> NPC id"
    )
    stats: StatPackage
    interactions: dict[Id, Interaction] = Field(default_factory=dict, max_length=10_000)
    ambient: AmbientDrift | None = None
    player: PlayerStart = Field(default_factory=PlayerStart)

    _programs: dict[str, NarrativeProgram] = PrivateAttr(default_factory=dict)
    _source: str = PrivateAttr(default="<world>")
    _cache: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _ids_from_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = dict(data)
            for section in ("locations", "npcs", "interactions"):
                if section in data:
                    data[section] = _keyed(data[section])
        return data

    @property
    def program_map(self) -> Mapping[str, NarrativeProgram]:
        """The programs the manifest links, by id (filled by :func:`load_world`)."""
        return self._programs

    @property
    def source(self) -> str:
        """The file the world was read from."""
        return self._source

    def with_programs(self, programs: Mapping[str, NarrativeProgram], source: str) -> World:
        """A copy that carries ``programs`` and remembers ``source``."""
        twin = self.model_copy()
        twin._programs = dict(programs)
        twin._source = source
        twin._cache = {}
        return twin

    def cached(self, key: str, build: Any) -> Any:
        """A value computed once per world (``build()`` on first use), e.g. its schedule."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]


def world_json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`World`, for editors to validate and complete."""
    schema = World.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "storylab world"
    return schema
