"""World: a validated manifest of places, NPCs, schedules, relationships and interactions;
time, gating that says why not, playtests and variants. See ``docs/world.md``.

Above the runtime (it starts runtime programs and writes runtime sessions); nothing below
imports it.
"""

from storylab.world.check import check_world, load_world, parse_world, vary_world
from storylab.world.gating import Failure, available, why_not
from storylab.world.interactions import (
    GatingError,
    InteractionResult,
    execute,
    simulate_interaction,
)
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
from storylab.world.prompt import PromptPreview, prompt_preview
from storylab.world.relations import Change, compatibility
from storylab.world.schedule import Placement, format_time, parse_at, presence, where
from storylab.world.session import WorldSession
from storylab.world.simulate import WorldRun, relationship_hash, simulate

__all__ = [
    "NPC",
    "OCEAN",
    "AmbientDrift",
    "Axis",
    "CastTemplate",
    "Change",
    "Clock",
    "Derived",
    "DerivedCase",
    "Failure",
    "Gating",
    "GatingError",
    "Hotspot",
    "Interaction",
    "InteractionOverride",
    "InteractionResult",
    "Location",
    "Personality",
    "Placement",
    "PlayerStart",
    "PromptPreview",
    "ScheduleBlock",
    "StatPackage",
    "TimeWindow",
    "World",
    "WorldRun",
    "WorldSession",
    "available",
    "check_world",
    "compatibility",
    "execute",
    "format_time",
    "load_world",
    "parse_at",
    "parse_world",
    "presence",
    "prompt_preview",
    "relationship_hash",
    "simulate",
    "simulate_interaction",
    "vary_world",
    "where",
    "why_not",
    "world_json_schema",
]
