"""World: a validated manifest of places, NPCs, schedules, relationships and interactions;
time, gating that says why not, playtests and variants. See ``docs/world.md``.

Above the runtime (it starts runtime programs and writes runtime sessions); nothing below
imports it.
"""

from storylab.world.check import check_world, load_world, parse_world
from storylab.world.manifest import (
    NPC,
    OCEAN,
    AmbientDrift,
    Axis,
    CastTemplate,
    Clock,
    Derived,
    DerivedCase,
    Gating,
    Hotspot,
    Interaction,
    InteractionOverride,
    Location,
    Personality,
    PlayerStart,
    ScheduleBlock,
    StatPackage,
    TimeWindow,
    World,
    world_json_schema,
)

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
    "check_world",
    "load_world",
    "parse_world",
    "world_json_schema",
]
