"""A seeded generator of synthetic character archives that covers the space.

Each archive picks, independently: a realm (each with its own theme profile, stability
range, events and places), a temperament (calm, volatile or mixed: sets neuroticism and the
confrontational, cautious, reckless and vengeful traits), whether the character is dead
(with a cause and a place in the realm), a history depth (thin, medium or rich: how many
participations, victories and goals), a trauma (likelier when volatile), and a circle of
other characters, each a nemesis, ally, rival or acquaintance met a few times. A few
archives carry entries storylab does not read, and a few lack one it does, so the set
also exercises forward compatibility and defaults. Every proportion and word comes from
``storylab/data/archive-generator.yaml``.

The same ``n`` and ``seed`` give the same archives, byte for byte; archive *i* does not
depend on ``n`` (each has its own child generator).

>>> a = generate_archives(2, seed=7)
>>> a == generate_archives(2, seed=7), sorted(a[0])[:2]
(True, ['character', 'character-encounter'])
"""

from __future__ import annotations

import contextlib
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import Field, model_validator

from storylab._data import Frozen, packaged_path, parse_model, read_document
from storylab._files import replacing

__all__ = ["GeneratorSpec", "generate_archive", "generate_archives", "load_spec", "write_archives"]

Range = tuple[float, float]
IntRange = tuple[int, int]
Probability = float  # in [0, 1]; bounds are checked on the fields that use it


def _ordered(ranges: list[tuple[float, float]]) -> None:
    bad = [r for r in ranges if r[0] > r[1]]
    if bad:
        raise ValueError(f"ranges as [low, high] with low <= high, got {bad}")


class RealmSpec(Frozen):
    """A realm the generator can place a character in."""

    name: str
    themes: dict[str, Range]
    stability: Range
    events: tuple[str, ...] = Field(min_length=1)
    places: tuple[str, ...] = Field(min_length=1)


class TemperamentSpec(Frozen):
    """A temperament: its weight, neuroticism range and trait ranges."""

    weight: float = Field(gt=0.0)
    neuroticism: Range
    traits: dict[str, Range]


class HistorySpec(Frozen):
    """A history depth: counts of participations, victories and goals."""

    weight: float = Field(gt=0.0)
    participations: IntRange
    victories: IntRange
    goals: IntRange


class RelationSpec(Frozen):
    """How the character relates to another: shift and impact ranges, encounters, kinds."""

    weight: float = Field(gt=0.0)
    sentiment_shift: Range
    emotional_impact: Range
    encounters: IntRange
    kinds: tuple[str, ...] = Field(min_length=1)


class GeneratorSpec(Frozen):
    """The contents of ``archive-generator.yaml``."""

    kind: str = "archive-generator"
    version: int = 1
    name_parts: dict[str, tuple[str, ...]]
    realms: tuple[RealmSpec, ...] = Field(min_length=1)
    world_events: tuple[str, ...] = ()
    temperaments: dict[str, TemperamentSpec] = Field(min_length=1)
    big_five: Range
    other_traits: dict[str, Range]
    p_dead: Probability = Field(ge=0.0, le=1.0)
    death_causes: tuple[str, ...] = Field(min_length=1)
    histories: dict[str, HistorySpec] = Field(min_length=1)
    participation_significance: Range
    victory_significance: Range
    roles: tuple[str, ...] = Field(min_length=1)
    outcomes: tuple[str, ...] = Field(min_length=1)
    p_trauma: dict[str, Probability]
    origins: tuple[str, ...] = Field(min_length=1)
    traumas: tuple[str, ...] = Field(min_length=1)
    goals: tuple[str, ...] = Field(min_length=1)
    victory_titles: tuple[str, ...] = Field(min_length=1)
    others: IntRange
    other_names: tuple[str, ...] = Field(min_length=1)
    relations: dict[str, RelationSpec] = Field(min_length=1)
    p_unknown_entry: Probability = Field(ge=0.0, le=1.0)
    unknown_entries: dict[str, Any] = Field(min_length=1)
    p_missing: dict[str, Probability]

    @model_validator(mode="after")
    def _consistent(self) -> GeneratorSpec:
        missing = sorted(set(self.temperaments) - set(self.p_trauma))
        if missing:
            raise ValueError(f"p_trauma for every temperament, missing {missing}")
        if sorted(self.name_parts) != ["first", "last", "middle"]:
            raise ValueError("name_parts with exactly first, middle and last")
        if self.others[1] > len(self.other_names):
            raise ValueError("at least as many other_names as the most others drawn")
        ranges = [self.big_five, self.participation_significance, self.victory_significance]
        ranges += [
            r for t in self.temperaments.values() for r in (t.neuroticism, *t.traits.values())
        ]
        ranges += [r for realm in self.realms for r in (realm.stability, *realm.themes.values())]
        _ordered(ranges)
        return self


def load_spec(path: str | Path | None = None) -> GeneratorSpec:
    """Load and validate a generator spec (the packaged one by default)."""
    source = path or packaged_path("archive-generator.yaml")
    return parse_model(GeneratorSpec, read_document(source), source)


@cache
def _packaged_spec() -> GeneratorSpec:
    return load_spec()


def _pick(rng: np.random.Generator, options: dict[str, Any]) -> str:
    names = list(options)
    weights = np.array([options[n].weight for n in names])
    return names[rng.choice(len(names), p=weights / weights.sum())]


def _u(rng: np.random.Generator, r: Range) -> float:
    return round(float(rng.uniform(r[0], r[1])), 2)


def _n(rng: np.random.Generator, r: IntRange) -> int:
    return int(rng.integers(r[0], r[1], endpoint=True))


def _choose(rng: np.random.Generator, items: tuple[str, ...], k: int) -> list[str]:
    return [items[i] for i in sorted(rng.choice(len(items), size=k, replace=False))]


def generate_archive(
    rng: np.random.Generator, spec: GeneratorSpec, index: int = 0
) -> dict[str, Any]:
    """One archive as a plain dict, drawn with ``rng``."""
    parts = spec.name_parts
    name = "".join(str(rng.choice(parts[p])) for p in ("first", "middle", "last"))
    realm = spec.realms[rng.integers(len(spec.realms))]
    temperament_name = _pick(rng, spec.temperaments)
    temperament = spec.temperaments[temperament_name]
    depth = spec.histories[_pick(rng, spec.histories)]

    character: dict[str, Any] = {"id": f"char-{index:04d}", "name": name, "realm": realm.name}
    character["alive"] = not bool(rng.random() < spec.p_dead)
    if not character["alive"]:
        character["death_cause"] = str(rng.choice(spec.death_causes))
        character["death_place"] = str(rng.choice(realm.places))
    personality = {
        k: _u(rng, spec.big_five)
        for k in ("openness", "conscientiousness", "extraversion", "agreeableness")
    }
    personality["neuroticism"] = _u(rng, temperament.neuroticism)
    traits = {k: _u(rng, r) for k, r in temperament.traits.items()}
    traits |= {k: _u(rng, r) for k, r in spec.other_traits.items()}
    personality["traits"] = dict(sorted(traits.items()))

    pool = realm.events + spec.world_events
    events = _choose(rng, pool, min(_n(rng, depth.participations), len(pool)))
    history: dict[str, Any] = {
        "participations": [
            {
                "event": event,
                "role": str(rng.choice(spec.roles)),
                "significance": _u(rng, spec.participation_significance),
                "outcome": str(rng.choice(spec.outcomes)),
            }
            for event in events
        ],
        "backstory": {
            "origin": str(rng.choice(spec.origins)),
            "trauma": (
                str(rng.choice(spec.traumas))
                if rng.random() < spec.p_trauma[temperament_name]
                else None
            ),
            "goals": _choose(rng, spec.goals, _n(rng, depth.goals)),
        },
        "victories": [
            {"title": t, "significance": _u(rng, spec.victory_significance)}
            for t in _choose(rng, spec.victory_titles, _n(rng, depth.victories))
        ],
    }

    encounters = []
    for other in _choose(rng, spec.other_names, _n(rng, spec.others)):
        relation = spec.relations[_pick(rng, spec.relations)]
        for _ in range(_n(rng, relation.encounters)):
            encounters.append(
                {
                    "id": f"enc-{len(encounters) + 1:03d}",
                    "kind": str(rng.choice(relation.kinds)),
                    "perspectives": [
                        {
                            "other": other,
                            "sentiment_shift": _u(rng, relation.sentiment_shift),
                            "emotional_impact": _u(rng, relation.emotional_impact),
                        }
                    ],
                }
            )
    lore = {
        "name": realm.name,
        "themes": {t: _u(rng, r) for t, r in realm.themes.items()},
        "stability": _u(rng, realm.stability),
        "events": [
            {"code": e, "significance": _u(rng, spec.participation_significance)}
            for e in realm.events
        ],
    }
    archive: dict[str, Any] = {
        "character": character,
        "character-personality": personality,
        "character-history": history,
        "character-encounter": {"encounters": encounters},
        "realm-history": lore,
    }
    for key, p in spec.p_missing.items():
        if rng.random() < p:
            archive.pop(key, None)
    if rng.random() < spec.p_unknown_entry:
        key = str(rng.choice(sorted(spec.unknown_entries)))
        archive[key] = spec.unknown_entries[key]
    return archive


def generate_archives(
    n: int,
    seed: int | np.random.Generator | None = None,
    *,
    spec: GeneratorSpec | None = None,
) -> list[dict[str, Any]]:
    """``n`` archives as plain dicts (load one with ``ArchiveBundle.from_dict``)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    spec = spec or _packaged_spec()
    root = np.random.default_rng(seed)
    return [generate_archive(child, spec, index=i) for i, child in enumerate(root.spawn(n))]


def write_archives(
    directory: str | Path,
    n: int,
    seed: int | np.random.Generator | None = None,
    *,
    spec: GeneratorSpec | None = None,
) -> list[Path]:
    """Write ``n`` archives as ``archive-NNNN.yaml`` files into ``directory``; return the paths.

    All archives are generated (and the arguments checked) before anything is written; the
    files are then written beside the old ones (temporary names) and renamed over files of
    the same name only once every one is written. Nothing else in ``directory`` is touched:
    a failure leaves the folder as it was.
    """
    texts = [
        yaml.safe_dump(archive, sort_keys=False, allow_unicode=True, width=100)
        for archive in generate_archives(n, seed, spec=spec)
    ]
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"archive-{i:04d}.yaml" for i in range(len(texts))]
    with contextlib.ExitStack() as stack:
        staged = [stack.enter_context(replacing(path)) for path in paths]
        for temp, text in zip(staged, texts, strict=True):
            temp.write_text(text, encoding="utf-8")
    return paths
