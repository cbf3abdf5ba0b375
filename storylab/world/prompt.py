"""Prompt preview: the generation context an NPC's action blocks and dialogue would send, each
part attributed to the trait, axis, derived value or schedule that produced it.

The social context (tier and mood) is the runtime's own
(:class:`~storylab.runtime.SocialContext`, from the block library's tiers and the mood the
world writes into the relationship row); the persona lines come from the NPC's traits and
OCEAN personality.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from storylab._data import UnknownNameError
from storylab.runtime.blocks import BlockLibrary, SocialContext, default_block_library
from storylab.world.manifest import OCEAN
from storylab.world.relations import derive
from storylab.world.schedule import where
from storylab.world.session import WorldSession

__all__ = ["HIGH", "LOW", "PromptPreview", "prompt_preview"]

#: A trait at or above ``HIGH`` reads as its high words, at or below ``LOW`` as its low ones.
HIGH, LOW = 0.65, 0.35

_WORDS = {
    "openness": ("curious and imaginative", "conventional and practical"),
    "conscientiousness": ("organised and dependable", "impulsive and disorganised"),
    "extraversion": ("outgoing and talkative", "reserved and quiet"),
    "agreeableness": ("warm and cooperative", "blunt and self-interested"),
    "neuroticism": ("anxious and easily rattled", "calm under pressure"),
}


@dataclass(frozen=True)
class PromptPreview:
    """The parts of the context (``table``: ``part``, ``text``, ``source``, ``reason``,
    ``value``; ``reason`` is the case or expression behind a derived value), the runtime's
    social context, and the prompt text they make."""

    npc: str
    table: pd.DataFrame
    social: SocialContext

    @property
    def text(self) -> str:
        """The parts, one per line."""
        return "\n".join(self.table["text"])


def _describe(trait: str, value: float) -> str | None:
    high, low = _WORDS[trait]
    if value >= HIGH:
        return high
    if value <= LOW:
        return low
    return None


def prompt_preview(
    ws: WorldSession,
    npc: str,
    interaction: str | None = None,
    *,
    blocks: BlockLibrary | None = None,
) -> PromptPreview:
    """The generation context for ``npc`` in ``ws`` (overrides applied).

    >>> import storylab
    >>> from pathlib import Path
    >>> from storylab.world import WorldSession, load_world
    >>> world = load_world(Path(storylab.__file__).parents[1] / "data/worlds/harbor-district")
    >>> ws = WorldSession(world)
    >>> prompt_preview(ws, "captain").social.mood
    'curious'
    >>> _ = ws.override({"npcs.captain.personality.openness": 0.3})
    >>> prompt_preview(ws, "captain").social.mood
    'neutral'
    """
    world = ws.world
    if npc not in world.npcs:
        raise UnknownNameError("NPC", npc, world.npcs)
    if interaction is not None and interaction not in world.interactions:
        raise UnknownNameError("interaction", interaction, world.interactions)
    view = ws.view()
    person = world.npcs[npc]
    traits = view.traits(world, npc)
    row = view.session.relationships.get(npc, {})
    parts: list[tuple[str, str, str, str, Any]] = []
    occupation = person.traits.get("occupation")
    persona = f"{person.name}, {occupation}" if occupation else person.name
    parts.append(("persona", persona, "traits.occupation", "", occupation))
    for key in ("background", "voice_style", "quirks", "interests"):
        value = person.traits.get(key)
        if value:
            shown = ", ".join(value) if isinstance(value, list) else str(value)
            parts.append((key.replace("_", " "), shown, f"traits.{key}", "", value))
    for trait in OCEAN:
        words = _describe(trait, traits[trait])
        if words is not None:
            parts.append(("temperament", words, f"personality.{trait}", "", traits[trait]))
    for axis, spec in world.stats.axes.items():
        value = row.get(axis, spec.default)
        parts.append(("relationship", f"{axis} {value:g}", f"axes.{axis}", "", value))
    axes = {a: row.get(a, spec.default) for a, spec in world.stats.axes.items()}
    for name, item in derive(world, npc, axes, traits).items():
        parts.append((name, f"{name}: {item.value}", f"derived.{name}", item.reason, item.value))
    library = blocks or default_block_library()
    affinity = float(row.get("affinity", 0))
    social = SocialContext(
        library.tier(affinity), str(row.get("mood", library.default_mood)), affinity
    )
    parts.append(
        ("social", f"tier {social.tier}, mood {social.mood}", "runtime", "social context", affinity)
    )
    place = where(ws, npc)
    if place.location is not None:
        scene = f"at {world.locations[place.location].name}, {place.activity}"
        parts.append(("scene", scene, "schedule", place.source, place.location))
    if interaction is not None:
        inter = world.interactions[interaction]
        parts.append(("interaction", inter.label, f"interactions.{interaction}", "", interaction))
    table = pd.DataFrame(parts, columns=["part", "text", "source", "reason", "value"])
    return PromptPreview(npc, table, social)
