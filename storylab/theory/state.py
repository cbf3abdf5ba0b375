"""``NarrativeState``: where a story stands on its life-value spectrums."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from pydantic import Field, field_validator

from storylab._data import Frozen
from storylab.theory.spectrums import SpectrumType, primary_spectrum, secondary_spectrum

__all__ = ["NarrativeState"]


def _clamp(value: float) -> float:
    return min(1.0, max(-1.0, float(value)))


class NarrativeState(Frozen):
    """Values in [-1, 1] for the spectrums a story tracks, and which one is primary.

    Immutable and hashable; updates return a new state and clamp to [-1, 1].

    >>> s = NarrativeState(primary=SpectrumType.LIFE_DEATH, values={"life_death": 0.2})
    >>> s.shift("life_death", 1.5)[SpectrumType.LIFE_DEATH]
    1.0
    """

    primary: SpectrumType
    values: Mapping[SpectrumType, float] = Field(default_factory=dict)

    @field_validator("values")
    @classmethod
    def _in_range(cls, values: Mapping[SpectrumType, float]) -> dict[SpectrumType, float]:
        bad = {k.value: v for k, v in values.items() if not -1.0 <= v <= 1.0}
        if bad:
            raise ValueError(f"spectrum values in [-1, 1], got {bad}")
        return {k: float(values[k]) for k in SpectrumType if k in values}

    @classmethod
    def for_genre(
        cls, genre: str, subgenre: str | None = None, value: float = 0.0
    ) -> NarrativeState:
        """A state tracking the genre's primary (and secondary) spectrum, all at ``value``."""
        primary = primary_spectrum(genre, subgenre)
        tracked = {primary: value}
        secondary = secondary_spectrum(genre, subgenre)
        if secondary is not None:
            tracked[secondary] = value
        return cls(primary=primary, values=tracked)

    def __getitem__(self, spectrum: SpectrumType | str) -> float | None:
        return self.values.get(SpectrumType(spectrum))

    def __iter__(self) -> Iterator[SpectrumType]:  # type: ignore[override]
        return iter(self.values)

    def __hash__(self) -> int:
        return hash((self.primary, tuple(self.values.items())))

    @property
    def primary_value(self) -> float:
        """The value of the primary spectrum (0.0, the neutral midpoint, when untracked)."""
        return self.values.get(self.primary, 0.0)

    def with_value(self, spectrum: SpectrumType | str, value: float) -> NarrativeState:
        """A copy with ``spectrum`` set to ``value``, clamped to [-1, 1]."""
        values = dict(self.values)
        values[SpectrumType(spectrum)] = _clamp(value)
        return NarrativeState(primary=self.primary, values=values)

    def shift(self, spectrum: SpectrumType | str, delta: float) -> NarrativeState:
        """A copy with ``delta`` added to ``spectrum`` (untracked counts as 0), clamped."""
        current = self.values.get(SpectrumType(spectrum), 0.0)
        return self.with_value(spectrum, current + delta)

    def distance_to(self, other: NarrativeState) -> float:
        """Euclidean distance over the spectrums both states track.

        >>> a = NarrativeState(primary="love_hate", values={"love_hate": 0.0, "life_death": 0.0})
        >>> b = NarrativeState(primary="love_hate", values={"love_hate": 0.3, "life_death": 0.4})
        >>> round(a.distance_to(b), 6)
        0.5
        """
        shared = self.values.keys() & other.values.keys()
        return math.sqrt(sum((self.values[k] - other.values[k]) ** 2 for k in shared))
