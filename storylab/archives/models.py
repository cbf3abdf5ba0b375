"""Typed models of the archive entries storylab knows how to read.

An archive is what a world remembers of a character and its realm, compressed into a few
entries. Each entry storylab reads has a model here; every model is frozen and rejects
unknown fields, so a misspelt field inside a known entry is an error rather than a
silently ignored value. Unknown *entries* are a different matter: see
:class:`~storylab.archives.bundle.ArchiveBundle`.

Scores follow two conventions: trait scores, significance and emotional impact lie in
[0, 1] (0.5 is the neutral midpoint of a trait); sentiment shifts lie in [-1, 1].
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from storylab._data import Frozen

__all__ = [
    "DEFAULT_ENTRIES",
    "ENTRY_MODELS",
    "Backstory",
    "CharacterEntry",
    "Encounter",
    "EncounterEntry",
    "HistoryEntry",
    "Participation",
    "PersonalityEntry",
    "Perspective",
    "RealmEvent",
    "RealmLoreEntry",
    "Score",
    "Victory",
]

#: A score in [0, 1].
Score = Annotated[float, Field(ge=0.0, le=1.0)]
#: A signed shift in [-1, 1].
Shift = Annotated[float, Field(ge=-1.0, le=1.0)]
Name = Annotated[str, Field(min_length=1)]


class CharacterEntry(Frozen):
    """``character``: who the archive is about, and whether (and how) they died."""

    name: Name
    id: str | None = None
    alive: bool = True
    death_cause: str | None = None
    death_place: str | None = None
    realm: str | None = None

    @model_validator(mode="after")
    def _death_only_when_dead(self) -> CharacterEntry:
        if self.alive and (self.death_cause or self.death_place):
            raise ValueError("death_cause and death_place only when alive is false")
        return self


class PersonalityEntry(Frozen):
    """``character-personality``: the Big Five plus named behavioural traits, all in [0, 1].

    A Big Five score left out is 0.5 (neutral). ``traits`` holds any other named score
    (``confrontational``, ``cautious``, ``ambitious``, ...); a trait left out is unknown,
    and the extraction config says what an unknown trait counts as.
    """

    openness: Score = 0.5
    conscientiousness: Score = 0.5
    extraversion: Score = 0.5
    agreeableness: Score = 0.5
    neuroticism: Score = 0.5
    traits: dict[Name, Score] = Field(default_factory=dict)


class Participation(Frozen):
    """One part the character played in a world event."""

    event: Name
    role: Name
    significance: Score
    outcome: str | None = None


class Backstory(Frozen):
    """Where the character comes from: an origin, a trauma (if any), goals still open."""

    origin: str | None = None
    trauma: str | None = None
    goals: tuple[Name, ...] = ()


class Victory(Frozen):
    """A victory the world remembers, with how much it mattered."""

    title: Name
    significance: Score


class HistoryEntry(Frozen):
    """``character-history``: participations in world events, backstory, major victories."""

    participations: tuple[Participation, ...] = ()
    backstory: Backstory | None = None
    victories: tuple[Victory, ...] = ()


class Perspective(Frozen):
    """How one encounter changed the character's feeling toward another character."""

    other: Name
    sentiment_shift: Shift
    emotional_impact: Score


class Encounter(Frozen):
    """One encounter, seen from the character's side toward each other participant."""

    id: Name
    kind: str | None = None
    perspectives: tuple[Perspective, ...] = Field(min_length=1)


class EncounterEntry(Frozen):
    """``character-encounter``: the encounters the character remembers."""

    encounters: tuple[Encounter, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> EncounterEntry:
        ids = [e.id for e in self.encounters]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"unique encounter ids, got duplicates {duplicates}")
        return self


class RealmEvent(Frozen):
    """An event in a realm's history."""

    code: Name
    kind: str | None = None
    significance: Score


class RealmLoreEntry(Frozen):
    """``realm-history``: a realm's name, the themes its lore dwells on, its history.

    ``themes`` maps a theme (``war``, ``intrigue``, ``frontier``, ...) to how strongly the
    lore carries it, in [0, 1]; ``stability`` is 0.5 (neither settled nor in turmoil) when
    left out.
    """

    name: Name
    themes: dict[Name, Score] = Field(default_factory=dict)
    stability: Score = 0.5
    events: tuple[RealmEvent, ...] = ()


#: The entry keys storylab reads, with the model each is validated against.
ENTRY_MODELS: dict[str, type[Frozen]] = {
    "character": CharacterEntry,
    "character-personality": PersonalityEntry,
    "character-history": HistoryEntry,
    "character-encounter": EncounterEntry,
    "realm-history": RealmLoreEntry,
}

#: What a missing entry counts as: an unnamed living character, a neutral personality,
#: no history, no encounters, an unnamed realm with no themes and middling stability.
DEFAULT_ENTRIES: dict[str, Frozen] = {
    "character": CharacterEntry(name="unknown"),
    "character-personality": PersonalityEntry(),
    "character-history": HistoryEntry(),
    "character-encounter": EncounterEntry(),
    "realm-history": RealmLoreEntry(name="unknown"),
}
