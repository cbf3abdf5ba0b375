"""World: a validated manifest of places, NPCs, schedules, relationships and interactions;
time, gating that says why not, playtests and variants. See ``docs/world.md``.

Above the runtime (it starts runtime programs and writes runtime sessions); nothing below
imports it.
"""

from storylab.world.check import check_world, load_world, parse_world, vary_world
from storylab.world.gating import Failure, available, why_not
from storylab.world.hotspots import hotspot_table
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
from storylab.world.montecarlo import playthrough
from storylab.world.playtests import (
    Playtest,
    PlaytestOutcome,
    assert_playtest,
    load_playtest,
    record_playtest,
    run_playtest,
    save_playtest,
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
    "Playtest",
    "PlaytestOutcome",
    "PromptPreview",
    "ScheduleBlock",
    "StatPackage",
    "TimeWindow",
    "World",
    "WorldRun",
    "WorldSession",
    "assert_playtest",
    "available",
    "check_world",
    "compatibility",
    "execute",
    "format_time",
    "hotspot_table",
    "load_playtest",
    "load_world",
    "parse_at",
    "parse_world",
    "playthrough",
    "presence",
    "prompt_preview",
    "record_playtest",
    "relationship_hash",
    "run_playtest",
    "save_playtest",
    "simulate",
    "simulate_interaction",
    "vary_world",
    "where",
    "why_not",
    "world_json_schema",
]
