"""Story Grid life-value spectrums, their four-stage poles, and the genre table."""

from __future__ import annotations

import itertools
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from storylab._data import Frozen, UnknownNameError, packaged_path, parse_model, read_document

__all__ = [
    "GenreMapping",
    "NarrativeStateData",
    "SpectrumDefinition",
    "SpectrumStage",
    "SpectrumType",
    "genre_mapping",
    "genres",
    "load_narrative_data",
    "narrative_data",
    "pacing_multiplier",
    "primary_spectrum",
    "secondary_spectrum",
    "spectrum",
    "spectrums",
]

STAGE_ORDER = ("positive", "contrary", "negative", "negation_of_negation")


class SpectrumType(StrEnum):
    """The ten Story Grid life values, each a spectrum from a positive to a negative pole."""

    LIFE_DEATH = "life_death"
    HONOR_DISHONOR = "honor_dishonor"
    JUSTICE_INJUSTICE = "justice_injustice"
    FREEDOM_SUBJUGATION = "freedom_subjugation"
    LOVE_HATE = "love_hate"
    RESPECT_SHAME = "respect_shame"
    POWER_IMPOTENCE = "power_impotence"
    SUCCESS_FAILURE = "success_failure"
    ALTRUISM_SELFISHNESS = "altruism_selfishness"
    WISDOM_IGNORANCE = "wisdom_ignorance"


class SpectrumStage(Frozen):
    """One of the four stages of a spectrum (positive down to the negation of the negation)."""

    stage: Literal["positive", "contrary", "negative", "negation_of_negation"]
    label: str = Field(min_length=1)
    value: float = Field(ge=-1.0, le=1.0)
    description: str = Field(min_length=1)


class SpectrumDefinition(Frozen):
    """A life-value spectrum: its poles, its four stages in order, and media examples."""

    type: SpectrumType
    positive_label: str = Field(min_length=1)
    negative_label: str = Field(min_length=1)
    stages: tuple[SpectrumStage, ...]
    media_examples: tuple[str, ...] = Field(min_length=1)

    @field_validator("stages")
    @classmethod
    def _four_stages_in_order(cls, stages: tuple[SpectrumStage, ...]) -> tuple[SpectrumStage, ...]:
        names = tuple(s.stage for s in stages)
        if names != STAGE_ORDER:
            raise ValueError(f"the four stages in the order {list(STAGE_ORDER)}, got {list(names)}")
        values = [s.value for s in stages]
        if any(a <= b for a, b in itertools.pairwise(values)):
            raise ValueError(f"stage values strictly decreasing from positive, got {values}")
        return stages

    def stage_at(self, value: float) -> SpectrumStage:
        """The stage whose value is nearest to ``value``."""
        return min(self.stages, key=lambda s: abs(s.value - value))


class SubgenreMapping(Frozen):
    """A subgenre's override of its genre's spectrums."""

    primary: SpectrumType
    secondary: SpectrumType | None = None


class GenreMapping(Frozen):
    """A genre's global value at stake, an optional secondary one, and its pacing."""

    story_grid_genre: str
    primary: SpectrumType
    secondary: SpectrumType | None = None
    pacing_multiplier: float = Field(gt=0.0, le=5.0)
    description: str = ""
    subgenres: dict[str, SubgenreMapping] = Field(default_factory=dict)


class NarrativeStateData(Frozen):
    """The contents of ``narrative-state.yaml``."""

    version: int
    spectrums: tuple[SpectrumDefinition, ...]
    genres: dict[str, GenreMapping] = Field(min_length=1)

    @model_validator(mode="after")
    def _every_spectrum_once(self) -> NarrativeStateData:
        seen = [s.type for s in self.spectrums]
        missing = [t.value for t in SpectrumType if t not in seen]
        if missing or len(seen) != len(set(seen)):
            raise ValueError(f"each of the ten spectrums exactly once (missing: {missing})")
        return self


def load_narrative_data(path: str | Path | None = None) -> NarrativeStateData:
    """Load and validate a ``narrative-state.yaml`` (the packaged one by default)."""
    source = path or packaged_path("narrative-state.yaml")
    return parse_model(NarrativeStateData, read_document(source), source)


@cache
def narrative_data() -> NarrativeStateData:
    """The packaged spectrum and genre data, loaded once."""
    return load_narrative_data()


def spectrums() -> tuple[SpectrumDefinition, ...]:
    """All ten spectrum definitions, in enum order."""
    by_type = {s.type: s for s in narrative_data().spectrums}
    return tuple(by_type[t] for t in SpectrumType)


def spectrum(kind: SpectrumType | str) -> SpectrumDefinition:
    """The definition of one spectrum."""
    try:
        kind = SpectrumType(kind)
    except ValueError:
        raise UnknownNameError("spectrum", kind, [t.value for t in SpectrumType]) from None
    return next(s for s in narrative_data().spectrums if s.type is kind)


def genres() -> tuple[str, ...]:
    """The names of the genres storylab knows."""
    return tuple(narrative_data().genres)


def genre_mapping(genre: str) -> GenreMapping:
    """The mapping for ``genre``; unknown names raise an error listing the known ones."""
    table = narrative_data().genres
    if genre not in table:
        raise UnknownNameError("genre", genre, table)
    return table[genre]


def _subgenre(genre: str, subgenre: str | None) -> SubgenreMapping | None:
    mapping = genre_mapping(genre)
    if subgenre is None:
        return None
    if subgenre not in mapping.subgenres:
        raise UnknownNameError(f"subgenre of {genre!r}", subgenre, mapping.subgenres)
    return mapping.subgenres[subgenre]


def primary_spectrum(genre: str, subgenre: str | None = None) -> SpectrumType:
    """The spectrum a story of this genre (and subgenre) is about.

    >>> primary_spectrum("crime")
    <SpectrumType.JUSTICE_INJUSTICE: 'justice_injustice'>
    >>> primary_spectrum("crime", "prison").value
    'freedom_subjugation'
    """
    sub = _subgenre(genre, subgenre)
    return sub.primary if sub else genre_mapping(genre).primary


def secondary_spectrum(genre: str, subgenre: str | None = None) -> SpectrumType | None:
    """The optional secondary spectrum of a genre (and subgenre)."""
    sub = _subgenre(genre, subgenre)
    return sub.secondary if sub else genre_mapping(genre).secondary


def pacing_multiplier(genre: str) -> float:
    """How much a genre stretches (>1) or tightens (<1) a template's action count."""
    return genre_mapping(genre).pacing_multiplier
