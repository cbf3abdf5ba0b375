"""``KernelExtractor``: the story opportunities an archive holds.

A *kernel* is an event a new story could grow from: a death, a part in a great event, a
trauma, goals left open, a bitter conflict, a deep bond. The extractor finds them with the
thresholds in the config's ``kernels`` section; every comparison includes its threshold
(a participation exactly at ``min_significance`` is a kernel).

Kernels come ordered by significance, highest first; ties are broken by kernel type (in
:class:`KernelType` order), then by description, so the order is deterministic.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field

from storylab._data import Frozen
from storylab.archives.bundle import ArchiveBundle
from storylab.archives.config import ExtractionConfig, resolve_config
from storylab.archives.extract import sentiment_by_other
from storylab.archives.models import CharacterEntry, EncounterEntry, HistoryEntry

__all__ = ["KernelExtractor", "KernelType", "NarrativeKernel", "extract_kernels"]


class KernelType(StrEnum):
    """The six kinds of narrative kernel."""

    DEATH = "death"
    HISTORICAL_EVENT = "historical_event"
    TRAUMA = "trauma"
    UNFINISHED_BUSINESS = "unfinished_business"
    CONFLICT = "conflict"
    DEEP_BOND = "deep_bond"


_TYPE_ORDER = {t: i for i, t in enumerate(KernelType)}


class NarrativeKernel(Frozen):
    """One story opportunity: its type, significance in [0, 1], a description and data."""

    type: KernelType
    significance: float = Field(ge=0.0, le=1.0)
    description: str
    data: dict[str, Any] = Field(default_factory=dict)

    def sort_key(self) -> tuple[float, int, str]:
        """Highest significance first, then kernel type order, then description."""
        return (-self.significance, _TYPE_ORDER[self.type], self.description)


class KernelExtractor:
    """Finds the narrative kernels of bundles with one extraction config.

    >>> from storylab.archives import ArchiveBundle
    >>> b = ArchiveBundle.from_dict({"character": {"name": "Ada", "alive": False,
    ...                                            "death_cause": "fever"}})
    >>> [(k.type.value, k.significance) for k in KernelExtractor().kernels(b)]
    [('death', 1.0)]
    """

    def __init__(self, config: ExtractionConfig | str | Path | None = None):
        self.config = resolve_config(config)

    def kernels(self, bundle: ArchiveBundle) -> list[NarrativeKernel]:
        """Every kernel of ``bundle``, most significant first."""
        character: CharacterEntry = bundle.get("character")  # type: ignore[assignment]
        history: HistoryEntry = bundle.get("character-history")  # type: ignore[assignment]
        encounters: EncounterEntry = bundle.get("character-encounter")  # type: ignore[assignment]
        found = [
            *self._death(character),
            *self._history(history),
            *self._conflicts(encounters),
            *self._bonds(encounters),
        ]
        return sorted(found, key=NarrativeKernel.sort_key)

    def _death(self, character: CharacterEntry) -> list[NarrativeKernel]:
        if character.alive:
            return []
        cause = character.death_cause or "cause unknown"
        place = f", at {character.death_place}" if character.death_place else ""
        return [
            NarrativeKernel(
                type=KernelType.DEATH,
                significance=self.config.kernels.death.significance,
                description=f"Death of {character.name} ({cause}{place})",
                data={"cause": character.death_cause, "place": character.death_place},
            )
        ]

    def _history(self, history: HistoryEntry) -> list[NarrativeKernel]:
        rules = self.config.kernels
        out = [
            NarrativeKernel(
                type=KernelType.HISTORICAL_EVENT,
                significance=p.significance,
                description=f"Took part in {p.event} as {p.role}",
                data={"event": p.event, "role": p.role, "outcome": p.outcome},
            )
            for p in history.participations
            if p.significance >= rules.historical_event.min_significance
        ]
        backstory = history.backstory
        if backstory is not None and backstory.trauma:
            out.append(
                NarrativeKernel(
                    type=KernelType.TRAUMA,
                    significance=rules.trauma.significance,
                    description=f"Trauma: {backstory.trauma}",
                    data={"trauma": backstory.trauma},
                )
            )
        goals = backstory.goals if backstory is not None else ()
        if len(goals) >= rules.unfinished_business.min_goals:
            out.append(
                NarrativeKernel(
                    type=KernelType.UNFINISHED_BUSINESS,
                    significance=rules.unfinished_business.significance,
                    description="Unfinished: " + "; ".join(goals),
                    data={"goals": list(goals)},
                )
            )
        return out

    def _conflicts(self, entry: EncounterEntry) -> list[NarrativeKernel]:
        rule = self.config.kernels.conflict
        out = []
        for encounter in entry.encounters:
            bitter = [
                p
                for p in encounter.perspectives
                if p.sentiment_shift <= rule.max_sentiment_shift
                and p.emotional_impact >= rule.min_emotional_impact
            ]
            if bitter:
                others = [p.other for p in encounter.perspectives]
                kind = f" ({encounter.kind})" if encounter.kind else ""
                out.append(
                    NarrativeKernel(
                        type=KernelType.CONFLICT,
                        significance=rule.significance,
                        description=f"Bitter encounter {encounter.id}{kind} with "
                        + ", ".join(p.other for p in bitter),
                        data={"encounter": encounter.id, "kind": encounter.kind, "others": others},
                    )
                )
        return out

    def _bonds(self, entry: EncounterEntry) -> list[NarrativeKernel]:
        rule = self.config.kernels.deep_bond
        return [
            NarrativeKernel(
                type=KernelType.DEEP_BOND,
                significance=rule.significance,
                description=f"Deep bond with {other} over {count} encounters",
                data={"other": other, "mean_sentiment": round(mean, 6), "encounters": count},
            )
            for other, (mean, count) in sentiment_by_other(entry).items()
            if count >= rule.min_encounters and mean >= rule.min_mean_sentiment
        ]


def extract_kernels(
    bundle: ArchiveBundle, *, config: ExtractionConfig | str | Path | None = None
) -> list[NarrativeKernel]:
    """The narrative kernels of ``bundle``, most significant first."""
    return KernelExtractor(config).kernels(bundle)
