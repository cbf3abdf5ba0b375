"""``ArchiveExtractor``: a bundle's starting world state, by rules read from the config.

Extraction runs in two steps. :func:`measures` reads the typed entries into a flat dict
of named *measures* (``personality.neuroticism``, ``encounters.min_sentiment``, ...): this
is the only place that knows the entry models. Then every rule in the config's ``facts``
turns one measure into one fact, and the ``narrative`` rules set the initial
:class:`~storylab.theory.NarrativeState` for the genre. All thresholds and weights are
config data.

Measures (``<t>``, ``<r>`` and ``<role>`` stand for names found in the data):

=====================================  ===================================================
``character.name``, ``.alive``,        the ``character`` entry
``.death_cause``, ``.death_place``
``personality.<big five>``             each Big Five score
``personality.trait.<t>``              each named trait given (absent traits are missing)
``history.participations``             number of participations
``history.max_significance``           highest participation significance (missing if none)
``history.role.<role>``                highest significance among participations in a role
``history.trauma``                     the backstory trauma text (missing if none)
``history.goals``                      number of open goals
``history.victories``                  number of victories
``history.max_victory``                highest victory significance (missing if none)
``encounters.count``                   number of encounters
``encounters.others``                  number of other characters met
``encounters.min_sentiment``           lowest mean sentiment shift toward one other
``encounters.max_sentiment``           highest mean sentiment shift toward one other
``encounters.max_impact``              highest emotional impact of any perspective
``realm.name``, ``realm.stability``    the ``realm-history`` entry
``realm.theme.<t>``                    each theme strength given
``realm.max_event_significance``       highest realm event significance (missing if none)
=====================================  ===================================================
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from storylab.archives.bundle import ArchiveBundle
from storylab.archives.config import ExtractionConfig, FactRule, resolve_config
from storylab.archives.models import (
    CharacterEntry,
    EncounterEntry,
    HistoryEntry,
    PersonalityEntry,
    RealmLoreEntry,
)
from storylab.theory import NarrativeState, WorldState
from storylab.theory.spectrums import primary_spectrum, secondary_spectrum
from storylab.theory.world import FactValue

__all__ = [
    "ArchiveExtractor",
    "apply_rule",
    "extract_facts",
    "extract_world_state",
    "feature_value",
    "initial_narrative",
    "measures",
    "sentiment_by_other",
]

Measure = bool | int | float | str | None
BIG_FIVE = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


def sentiment_by_other(entry: EncounterEntry) -> dict[str, tuple[float, int]]:
    """For each other character: (mean sentiment shift, number of perspectives), by name."""
    shifts: dict[str, list[float]] = defaultdict(list)
    for encounter in entry.encounters:
        for p in encounter.perspectives:
            shifts[p.other].append(p.sentiment_shift)
    return {other: (math.fsum(v) / len(v), len(v)) for other, v in sorted(shifts.items())}


def measures(bundle: ArchiveBundle) -> dict[str, Measure]:
    """The named measures of a bundle (see the module docs); missing ones are ``None``."""
    character: CharacterEntry = bundle.get("character")  # type: ignore[assignment]
    personality: PersonalityEntry = bundle.get("character-personality")  # type: ignore[assignment]
    history: HistoryEntry = bundle.get("character-history")  # type: ignore[assignment]
    encounters: EncounterEntry = bundle.get("character-encounter")  # type: ignore[assignment]
    realm: RealmLoreEntry = bundle.get("realm-history")  # type: ignore[assignment]

    out: dict[str, Measure] = {
        "character.name": character.name,
        "character.alive": character.alive,
        "character.death_cause": character.death_cause,
        "character.death_place": character.death_place,
    }
    out |= {f"personality.{k}": getattr(personality, k) for k in BIG_FIVE}
    out |= {f"personality.trait.{k}": v for k, v in personality.traits.items()}

    parts = history.participations
    backstory = history.backstory
    out["history.participations"] = len(parts)
    out["history.max_significance"] = max((p.significance for p in parts), default=None)
    for p in parts:
        key = f"history.role.{p.role}"
        out[key] = max(p.significance, out.get(key) or 0.0)  # type: ignore[type-var]
    out["history.trauma"] = backstory.trauma if backstory else None
    out["history.goals"] = len(backstory.goals) if backstory else 0
    out["history.victories"] = len(history.victories)
    out["history.max_victory"] = max((v.significance for v in history.victories), default=None)

    by_other = sentiment_by_other(encounters)
    means = [mean for mean, _ in by_other.values()]
    impacts = [p.emotional_impact for e in encounters.encounters for p in e.perspectives]
    out["encounters.count"] = len(encounters.encounters)
    out["encounters.others"] = len(by_other)
    out["encounters.min_sentiment"] = min(means, default=None)
    out["encounters.max_sentiment"] = max(means, default=None)
    out["encounters.max_impact"] = max(impacts, default=None)

    out["realm.name"] = realm.name
    out["realm.stability"] = realm.stability
    out |= {f"realm.theme.{k}": v for k, v in realm.themes.items()}
    out["realm.max_event_significance"] = max((e.significance for e in realm.events), default=None)
    return out


def apply_rule(rule: FactRule, value: Measure) -> FactValue | None:
    """One fact from one measure (``None``: leave the fact out).

    >>> r = FactRule(source="personality.neuroticism", transform="at_least", threshold=0.6)
    >>> apply_rule(r, 0.6), apply_rule(r, 0.59), apply_rule(r, None)
    (True, False, None)
    """
    if value is None:
        return rule.default
    match rule.transform:
        case "value":
            return value
        case "at_least":
            return float(value) >= rule.threshold  # type: ignore[operator,arg-type]
        case "at_most":
            return float(value) <= rule.threshold  # type: ignore[operator,arg-type]
        case "present":
            return value not in ("", 0, False)
        case "contains_any":
            text = str(value).lower()
            return any(w.lower() in text for w in rule.words)
    raise AssertionError(rule.transform)  # pragma: no cover - Literal covers every case


def extract_facts(bundle: ArchiveBundle, config: ExtractionConfig) -> dict[str, FactValue]:
    """The facts the config's rules read from ``bundle``, sorted by key."""
    found = measures(bundle)
    facts = {}
    for key, rule in config.facts.items():
        value = apply_rule(rule, found.get(rule.source))
        if value is not None:
            facts[key] = value
    return dict(sorted(facts.items()))


def feature_value(fact: FactValue | None) -> float:
    """A fact as a number for scoring: true = 1, false or missing = 0, numbers as they are,
    anything else (text, sets) 0."""
    if isinstance(fact, bool):
        return float(fact)
    if isinstance(fact, int | float):
        return float(fact)
    return 0.0


def initial_narrative(
    facts: dict[str, FactValue], config: ExtractionConfig, genre: str, subgenre: str | None
) -> NarrativeState:
    """The genre's starting state, moved by the config's fact-driven shifts."""
    state = NarrativeState.for_genre(genre, subgenre, value=config.narrative.base)
    roles = {"primary": primary_spectrum(genre, subgenre)}
    secondary = secondary_spectrum(genre, subgenre)
    if secondary is not None:
        roles["secondary"] = secondary
    for fact, targets in config.narrative.shifts.items():
        amount = feature_value(facts.get(fact))
        for target, delta in targets.items():
            spectrum = roles.get(target) or target
            if amount and spectrum in state.values:
                state = state.shift(spectrum, delta * amount)
    return state


class ArchiveExtractor:
    """Turns bundles into starting world states with one extraction config.

    Parameters
    ----------
    config
        The rules: a config, a path to a config file, or ``None`` for the packaged one.

    >>> from storylab.archives import ArchiveBundle
    >>> b = ArchiveBundle.from_dict({"character-encounter": {"encounters": [
    ...     {"id": "e1", "perspectives": [
    ...         {"other": "Vex", "sentiment_shift": -0.8, "emotional_impact": 0.9}]}]}})
    >>> ArchiveExtractor().world_state(b, "thriller").facts["protagonist.has_nemesis"]
    True
    """

    def __init__(self, config: ExtractionConfig | str | Path | None = None):
        self.config = resolve_config(config)

    def facts(self, bundle: ArchiveBundle) -> dict[str, FactValue]:
        """The facts of ``bundle``."""
        return extract_facts(bundle, self.config)

    def world_state(
        self, bundle: ArchiveBundle, genre: str, subgenre: str | None = None
    ) -> WorldState:
        """The starting world state of a story of ``genre`` seeded by ``bundle``."""
        facts = self.facts(bundle)
        narrative = initial_narrative(facts, self.config, genre, subgenre)
        return WorldState(facts=facts, narrative=narrative, position=0.0)


def extract_world_state(
    bundle: ArchiveBundle,
    genre: str,
    subgenre: str | None = None,
    *,
    config: ExtractionConfig | str | Path | None = None,
) -> WorldState:
    """The starting world state for ``bundle`` in ``genre`` (and ``subgenre``).

    ``config`` is an :class:`ExtractionConfig`, a path to a config file, or ``None`` for the
    packaged one.
    """
    return ArchiveExtractor(resolve_config(config)).world_state(bundle, genre, subgenre)
