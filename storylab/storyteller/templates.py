"""Story templates: an arc cut into ordered phases, loaded from ``story-templates.yaml``."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import Field, model_validator

from storylab._data import (
    DataError,
    Frozen,
    Problem,
    UnknownNameError,
    packaged_path,
    parse_model,
    read_document,
)
from storylab.storyteller.actions import ActionLibrary, action_library
from storylab.theory import (
    ArcDirection,
    ArcType,
    Condition,
    NarrativeState,
    WorldState,
    arc,
    genre_mapping,
    genres,
)
from storylab.theory.arcs import to_spectrum

__all__ = [
    "GenreCompatibility",
    "IncompatibleTemplateError",
    "PhasePosition",
    "PhaseTargetState",
    "PhaseTransition",
    "StoryPhase",
    "StoryTemplate",
    "TemplateLibrary",
    "TransitionResult",
    "load_templates",
    "template_library",
]

#: How far a phase's target range may sit from its arc's value at the phase's end.
ARC_TOLERANCE = 0.02
#: Upper limit of a terminal phase's position ceiling (the estimate of a story's length may
#: be short, so the last phase may run a little past position 1).
TERMINAL_CEILING_MAX = 1.25


class TransitionResult(StrEnum):
    """What the hybrid transition check says about leaving a phase."""

    NOT_READY = "not_ready"
    READY = "ready"
    FORCED_ADVANCE = "forced_advance"


class IncompatibleTemplateError(ValueError):
    """A template asked for with a genre (or subgenre) it does not support."""


class PhasePosition(Frozen):
    """The span of story a phase covers in Save the Cat terms."""

    center: float = Field(ge=0.0, le=1.0)
    floor: float = Field(ge=0.0, le=1.0)
    ceiling: float = Field(ge=0.0, le=1.0)
    validation_band: float = Field(ge=0.0, le=0.25)

    @model_validator(mode="after")
    def _ordered(self) -> PhasePosition:
        if not self.floor <= self.center <= self.ceiling:
            raise ValueError(
                f"floor <= center <= ceiling, got {self.floor}, {self.center}, {self.ceiling}"
            )
        return self


class PhaseTargetState(Frozen):
    """The range the primary spectrum must reach by the end of a phase, and optionally fact
    conditions that must hold then (``antagonist.defeated == true``, ``clue_hunts >= 3``)."""

    primary_min: float = Field(ge=-1.0, le=1.0)
    primary_max: float = Field(ge=-1.0, le=1.0)
    description: str = ""
    facts: tuple[Condition, ...] = Field(default=(), max_length=64)

    @model_validator(mode="after")
    def _ordered(self) -> PhaseTargetState:
        if self.primary_min > self.primary_max:
            raise ValueError(
                f"primary_min <= primary_max, got {self.primary_min}, {self.primary_max}"
            )
        return self


class PhaseTransition(Frozen):
    """When a phase may end (floor), must end (ceiling), and an optional state requirement."""

    position_floor: float = Field(ge=0.0, le=1.0)
    position_ceiling: float = Field(gt=0.0, le=TERMINAL_CEILING_MAX)
    primary_min: float | None = Field(default=None, ge=-1.0, le=1.0)
    primary_max: float | None = Field(default=None, ge=-1.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> PhaseTransition:
        if self.position_floor >= self.position_ceiling:
            raise ValueError(
                f"position_floor < position_ceiling, got {self.position_floor},"
                f" {self.position_ceiling}"
            )
        lo, hi = self.primary_min, self.primary_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"primary_min <= primary_max, got {lo}, {hi}")
        return self


class StoryPhase(Frozen):
    """One phase of a template."""

    number: int = Field(ge=1)
    name: str = Field(min_length=1)
    position: PhasePosition
    target_state: PhaseTargetState
    transition: PhaseTransition
    save_the_cat_beats: tuple[str, ...] = Field(min_length=1)
    terminal: bool = False

    def goal_range(self) -> tuple[float, float]:
        """The primary range that ends the phase: target range within the state requirement."""
        lo, hi = self.target_state.primary_min, self.target_state.primary_max
        if self.transition.primary_min is not None:
            lo = max(lo, self.transition.primary_min)
        if self.transition.primary_max is not None:
            hi = min(hi, self.transition.primary_max)
        return lo, hi

    def check_transition(
        self, position: float, narrative: NarrativeState, world: WorldState | None = None
    ) -> TransitionResult:
        """The hybrid transition check.

        ``FORCED_ADVANCE`` at or past the position ceiling; ``NOT_READY`` below the floor,
        with the primary spectrum outside the phase's goal range, or (given the ``world``)
        with a fact condition of the target unmet; else ``READY``.
        """
        if position >= self.transition.position_ceiling:
            return TransitionResult.FORCED_ADVANCE
        if position < self.transition.position_floor:
            return TransitionResult.NOT_READY
        lo, hi = self.goal_range()
        if not lo - 1e-9 <= narrative.primary_value <= hi + 1e-9:
            return TransitionResult.NOT_READY
        if world is not None and not all(world.satisfies(c) for c in self.target_state.facts):
            return TransitionResult.NOT_READY
        return TransitionResult.READY


class GenreCompatibility(Frozen):
    """A genre a template supports, optionally limited to some subgenres."""

    genre: str
    subgenres: tuple[str, ...] | None = None


class StoryTemplate(Frozen):
    """An arc cut into ordered phases, with its action-count defaults and its genres."""

    arc: ArcType
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    direction: ArcDirection
    mathematical_form: str = Field(min_length=1)
    default_action_count: int = Field(gt=0)
    action_count_range: tuple[int, int]
    compatible_genres: tuple[GenreCompatibility, ...] = Field(min_length=1)
    phases: tuple[StoryPhase, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> StoryTemplate:
        lo, hi = self.action_count_range
        if not 0 < lo <= self.default_action_count <= hi:
            raise ValueError(
                f"0 < action_count_range[0] <= default_action_count <= action_count_range[1],"
                f" got {lo}, {self.default_action_count}, {hi}"
            )
        numbers = [p.number for p in self.phases]
        if numbers != list(range(1, len(self.phases) + 1)):
            raise ValueError(f"phases numbered 1, 2, ... in order, got {numbers}")
        terminal = [p.number for p in self.phases if p.terminal]
        if terminal != [len(self.phases)]:
            raise ValueError(f"exactly the last phase terminal, got terminal phases {terminal}")
        for before, after in zip(self.phases, self.phases[1:], strict=False):
            if after.position.floor < before.position.ceiling - before.position.validation_band:
                raise ValueError(
                    f"phase {after.number} starting where phase {before.number} ends"
                    f" ({after.position.floor} < {before.position.ceiling})"
                )
            if after.transition.position_floor <= before.transition.position_floor:
                raise ValueError(f"phase transition floors increasing (phase {after.number})")
        for phase in self.phases[:-1]:
            if phase.transition.position_ceiling > 1.0:
                raise ValueError(f"phase {phase.number}: a position_ceiling <= 1 (not terminal)")
        return self

    @property
    def name(self) -> str:
        """The template's name: its arc type."""
        return self.arc.value

    def phase(self, number: int) -> StoryPhase:
        """Phase ``number`` (1-based)."""
        if not 1 <= number <= len(self.phases):
            raise UnknownNameError("phase", number, [p.number for p in self.phases])
        return self.phases[number - 1]

    def phase_at(self, position: float) -> StoryPhase:
        """The phase whose Save the Cat span contains ``position`` (the last one past the end)."""
        return next((p for p in self.phases if position < p.position.ceiling), self.phases[-1])

    def compatibility(self, genre: str) -> GenreCompatibility | None:
        """The entry for ``genre``, or ``None`` when the template does not support it."""
        return next((c for c in self.compatible_genres if c.genre == genre), None)

    def is_compatible_with(self, genre: str, subgenre: str | None = None) -> bool:
        """Whether the template supports ``genre`` (and ``subgenre``, when given)."""
        entry = self.compatibility(genre)
        if entry is None:
            return False
        return subgenre is None or entry.subgenres is None or subgenre in entry.subgenres

    def require_compatible(self, genre: str, subgenre: str | None = None) -> None:
        """Raise :class:`IncompatibleTemplateError` unless the template supports the genre."""
        subgenres = genre_mapping(genre).subgenres  # unknown genres list the known ones
        if subgenre is not None and subgenre not in subgenres:
            raise UnknownNameError(f"subgenre of {genre!r}", subgenre, subgenres)
        if not self.is_compatible_with(genre, subgenre):
            names = [c.genre for c in self.compatible_genres]
            entry = self.compatibility(genre)
            if entry is not None and entry.subgenres is not None:
                raise IncompatibleTemplateError(
                    f"template {self.name!r} supports genre {genre!r} only with subgenres"
                    f" {', '.join(entry.subgenres)}; not {subgenre!r}"
                )
            raise IncompatibleTemplateError(
                f"template {self.name!r} does not support genre {genre!r};"
                f" it supports: {', '.join(names)}"
            )

    def start_value(self) -> float:
        """The arc's starting value on the spectrum scale."""
        return float(to_spectrum(arc(self.arc).evaluate(0.0)))


class StoryTemplatesData(Frozen):
    """The contents of ``story-templates.yaml``."""

    version: int
    templates: tuple[StoryTemplate, ...] = Field(min_length=1)


class TemplateLibrary:
    """The validated templates, looked up by arc type or code."""

    def __init__(self, data: StoryTemplatesData, source: str = "story-templates.yaml"):
        self.data = data
        self.source = source
        self._by_name = {t.arc.value: t for t in data.templates}
        self._by_code = {t.code: t for t in data.templates}

    def __iter__(self) -> Iterator[StoryTemplate]:
        return iter(self.data.templates)

    def __len__(self) -> int:
        return len(self.data.templates)

    @property
    def names(self) -> tuple[str, ...]:
        """Every template's arc name, in file order."""
        return tuple(self._by_name)

    def get(self, name: str | ArcType) -> StoryTemplate:
        """A template by arc type (``man_in_a_hole``) or code (``MAN_IN_A_HOLE``)."""
        key = str(name)
        found = self._by_name.get(key) or self._by_code.get(key)
        if found is None:
            raise UnknownNameError("template", name, self._by_name)
        return found

    def compatible(self, genre: str, subgenre: str | None = None) -> tuple[StoryTemplate, ...]:
        """Templates that support ``genre`` (and ``subgenre``)."""
        return tuple(t for t in self if t.is_compatible_with(genre, subgenre))

    def pairs(self) -> list[tuple[str, str]]:
        """Every (template, genre) pair the library supports, in file order."""
        return [(t.name, c.genre) for t in self for c in t.compatible_genres]


def _template_problems(
    data: StoryTemplatesData, source: str, actions: ActionLibrary
) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    known = genres()
    for i, tpl in enumerate(data.templates):
        where = f"templates[{i}]"
        for key in (tpl.arc.value, tpl.code):
            if key in seen:
                problems.append(Problem(source, where, f"a unique arc and code ({key!r} repeats)"))
            seen[key] = i
        if tpl.direction is not arc(tpl.arc).direction:
            problems.append(
                Problem(
                    source, f"{where}.direction", f"the arc's direction {arc(tpl.arc).direction}"
                )
            )
        for j, entry in enumerate(tpl.compatible_genres):
            path = f"{where}.compatible_genres[{j}]"
            if entry.genre not in known:
                problems.append(
                    Problem(source, f"{path}.genre", f"a known genre ({', '.join(known)})")
                )
                continue
            subs = genre_mapping(entry.genre).subgenres
            bad = [s for s in entry.subgenres or () if s not in subs]
            if bad:
                problems.append(
                    Problem(
                        source,
                        f"{path}.subgenres",
                        f"subgenres of {entry.genre} ({', '.join(subs)}); got {bad}",
                    )
                )
            if not actions.core_events(entry.genre):
                problems.append(
                    Problem(
                        source, f"{path}.genre", f"a genre with core events in {actions.source}"
                    )
                )
        curve = arc(tpl.arc)
        for k, phase in enumerate(tpl.phases):
            value = float(to_spectrum(curve.evaluate(phase.position.ceiling)))
            lo, hi = phase.target_state.primary_min, phase.target_state.primary_max
            if not lo - ARC_TOLERANCE <= value <= hi + ARC_TOLERANCE:
                problems.append(
                    Problem(
                        source,
                        f"{where}.phases[{k}].target_state",
                        f"a range following the arc: containing {value:+.3f}, the arc's value at"
                        f" the phase's end {phase.position.ceiling} (got [{lo}, {hi}])",
                    )
                )
            produced = actions.produced_keys() | set(actions.external_facts)
            for m, cond in enumerate(phase.target_state.facts):
                if cond.key not in produced:
                    problems.append(
                        Problem(
                            source,
                            f"{where}.phases[{k}].target_state.facts[{m}].key",
                            "a fact some action produces or a declared external fact"
                            f" (got {cond.key!r})",
                        )
                    )
            glo, ghi = phase.goal_range()
            if glo > ghi:
                problems.append(
                    Problem(
                        source,
                        f"{where}.phases[{k}].transition",
                        "a state requirement that overlaps the target range",
                    )
                )
    return problems


def load_templates(
    path: str | Path | None = None, *, actions: ActionLibrary | None = None
) -> TemplateLibrary:
    """Load and validate a ``story-templates.yaml`` (the packaged one by default).

    Checks, besides each template's fields: phases numbered in order with one terminal phase
    at the end, floor <= centre <= ceiling, sane action-count ranges, known genres and
    subgenres, target ranges that follow the arc, and that every compatible genre has core
    events in ``actions`` (the packaged library by default).
    """
    source = str(path or packaged_path("story-templates.yaml"))
    data = parse_model(StoryTemplatesData, read_document(source), source)
    problems = _template_problems(data, source, actions or action_library())
    if problems:
        raise DataError(problems)
    return TemplateLibrary(data, source)


@cache
def template_library() -> TemplateLibrary:
    """The packaged templates, loaded once."""
    return load_templates()
