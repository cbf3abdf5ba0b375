"""Story actions: the moves the planner strings together, loaded from ``story-actions.yaml``.

An action has preconditions (:class:`~storylab.theory.Condition`) and effects
(:class:`~storylab.theory.Effect`) on the world's facts, a :class:`NarrativeEffect` on the
spectrums and the story position, an optional chained follow-up, and per-genre variants.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from storylab._data import (
    DataError,
    Frozen,
    Problem,
    UnknownNameError,
    packaged_path,
    parse_model,
    read_document,
)
from storylab.storyteller.config import PlanningConfig, on_grid, planning_config
from storylab.theory import ActantRole, Condition, Effect, genres

__all__ = [
    "ActionCategory",
    "ActionLibrary",
    "ActionVariant",
    "ExternalFact",
    "IntentSpec",
    "NarrativeEffect",
    "NarrativeEffectOverride",
    "PositionAdvance",
    "StoryAction",
    "StoryIntentType",
    "action_library",
    "build_actions",
    "load_actions",
]

PositionAdvance = Literal["micro", "standard", "macro"]


class ActionCategory(StrEnum):
    """The five families of story actions."""

    CONFLICT = "conflict"
    RELATIONSHIP = "relationship"
    MYSTERY = "mystery"
    RESOLUTION = "resolution"
    TRANSFORMATION = "transformation"


class StoryIntentType(StrEnum):
    """What a runtime should do when an action plays (the intent vocabulary)."""

    SPAWN_CHARACTER = "spawn_character"
    ASSIGN_BEHAVIOR = "assign_behavior"
    CREATE_CONTRACT = "create_contract"
    TRIGGER_ENCOUNTER = "trigger_encounter"
    MODIFY_RELATIONSHIP = "modify_relationship"
    UPDATE_PERSONALITY = "update_personality"
    RECORD_HISTORY = "record_history"


class NarrativeEffect(Frozen):
    """How an action moves the primary (and secondary) spectrum and the story position."""

    primary_delta: float = Field(ge=-1.0, le=1.0)
    secondary_delta: float | None = Field(default=None, ge=-1.0, le=1.0)
    position_advance: PositionAdvance = "standard"


class NarrativeEffectOverride(Frozen):
    """A genre variant's replacement for some fields of a :class:`NarrativeEffect`."""

    primary_delta: float | None = Field(default=None, ge=-1.0, le=1.0)
    secondary_delta: float | None = Field(default=None, ge=-1.0, le=1.0)
    position_advance: PositionAdvance | None = None

    def applied_to(self, base: NarrativeEffect) -> NarrativeEffect:
        """``base`` with the fields this override sets replaced."""
        return base.model_copy(update=self.model_dump(exclude_none=True))


class ActionVariant(Frozen):
    """How an action reads (and moves the spectrums) in some genres."""

    genres: tuple[str, ...] = Field(min_length=1)
    description: str | None = None
    narrative_effect: NarrativeEffectOverride | None = None


class IntentSpec(Frozen):
    """An intent an action emits, and the actant role it targets."""

    type: StoryIntentType
    target_role: ActantRole | None = None


class ExternalFact(Frozen):
    """A fact key that comes from a story's archives rather than from an action's effect."""

    key: str = Field(min_length=1)
    description: str = Field(min_length=1)


def _expand_genres(value: Any) -> Any:
    return list(genres()) if value == "all" else value


def _check_genres(names: tuple[str, ...]) -> tuple[str, ...]:
    known = genres()
    unknown = [g for g in names if g not in known]
    if unknown:
        raise ValueError(f"genres from narrative-state.yaml ({', '.join(known)}); got {unknown}")
    if len(set(names)) != len(names):
        raise ValueError(f"each genre once, got {list(names)}")
    return names


class StoryAction(Frozen):
    """One action of the library (see ``story-actions.yaml`` for the meaning of each field)."""

    id: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    category: ActionCategory
    cost: float = Field(gt=0.0, le=100.0)
    core_event: bool
    genres: tuple[str, ...] = Field(min_length=1)
    preconditions: tuple[Condition, ...] = ()
    effects: tuple[Effect, ...] = ()
    narrative_effect: NarrativeEffect
    chained_action: str | None = None
    standalone: bool = Field(
        default=False,
        description="a chain follow-up that may also start a step on its own",
    )
    description: str = Field(min_length=1)
    variants: tuple[ActionVariant, ...] = ()
    intents: tuple[IntentSpec, ...] = ()

    @field_validator("genres", mode="before")
    @classmethod
    def _expand(cls, value: Any) -> Any:
        return _expand_genres(value)

    @field_validator("genres")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_genres(value)

    @model_validator(mode="after")
    def _variants_fit(self) -> StoryAction:
        seen: set[str] = set()
        for i, variant in enumerate(self.variants):
            _check_genres(variant.genres)
            outside = [g for g in variant.genres if g not in self.genres]
            twice = [g for g in variant.genres if g in seen]
            if outside or twice:
                raise ValueError(
                    f"variants[{i}] genres among the action's own genres, each in one variant"
                    f" (outside: {outside}, repeated: {twice})"
                )
            seen.update(variant.genres)
        if self.chained_action == self.id:
            raise ValueError("a chained_action other than the action itself")
        return self

    def applies_to(self, genre: str) -> bool:
        """Whether the action may appear in a story of ``genre``."""
        return genre in self.genres

    def variant_for(self, genre: str) -> ActionVariant | None:
        """The variant covering ``genre``, if any."""
        return next((v for v in self.variants if genre in v.genres), None)

    def narrative_effect_for(self, genre: str) -> NarrativeEffect:
        """The narrative effect in ``genre`` (the variant's override applied)."""
        variant = self.variant_for(genre)
        if variant is None or variant.narrative_effect is None:
            return self.narrative_effect
        return variant.narrative_effect.applied_to(self.narrative_effect)

    def description_for(self, genre: str) -> str:
        """The description in ``genre`` (the variant's, when it has one)."""
        variant = self.variant_for(genre)
        return variant.description if variant and variant.description else self.description


def _enables(first: StoryAction, then: StoryAction) -> bool:
    """Whether ``first`` produces a fact that ``then`` positively requires."""
    produced = {e.key for e in first.effects}
    return any(p.key in produced and p.op != "!=" for p in then.preconditions)


class StoryActionsData(Frozen):
    """The contents of ``story-actions.yaml``."""

    version: int
    external_facts: tuple[ExternalFact, ...] = Field(default=(), max_length=10_000)
    actions: tuple[StoryAction, ...] = Field(min_length=1, max_length=10_000)


class ActionLibrary:
    """The validated actions, looked up by id and filtered by genre.

    Build it with :func:`load_actions` (which checks the whole library) rather than directly.
    """

    def __init__(self, data: StoryActionsData, source: str = "story-actions.yaml"):
        self.data = data
        self.source = source
        self._by_id = {a.id: a for a in data.actions}

    def __iter__(self) -> Iterator[StoryAction]:
        return iter(self.data.actions)

    def __len__(self) -> int:
        return len(self.data.actions)

    def __contains__(self, action_id: object) -> bool:
        return action_id in self._by_id

    @property
    def ids(self) -> tuple[str, ...]:
        """Every action id, in file order."""
        return tuple(self._by_id)

    @property
    def external_facts(self) -> tuple[str, ...]:
        """Fact keys the preconditions may read from a story's archives."""
        return tuple(f.key for f in self.data.external_facts)

    def get(self, action_id: str) -> StoryAction:
        """The action ``action_id``; unknown ids raise an error listing the known ones."""
        try:
            return self._by_id[action_id]
        except KeyError:
            raise UnknownNameError("action", action_id, self._by_id) from None

    def chain(self, action_id: str) -> tuple[StoryAction, ...]:
        """The action and its chained follow-ups, in the order they happen."""
        links = [self.get(action_id)]
        while links[-1].chained_action is not None:
            links.append(self.get(links[-1].chained_action))
        return tuple(links)

    def for_genre(self, genre: str) -> tuple[StoryAction, ...]:
        """Actions that may appear in ``genre`` (file order)."""
        return tuple(a for a in self.data.actions if a.applies_to(genre))

    def core_events(self, genre: str) -> tuple[StoryAction, ...]:
        """The obligatory scenes of ``genre`` in story order.

        An event comes after every other core event that produces a fact its preconditions
        require (any operator but ``!=``); ties keep file order.
        """
        pending = [a for a in self.for_genre(genre) if a.core_event]
        ordered: list[StoryAction] = []
        while pending:
            ready = next(
                (
                    a
                    for a in pending
                    if not any(other is not a and _enables(other, a) for other in pending)
                ),
                pending[0],  # a cycle of requirements: fall back to file order
            )
            ordered.append(ready)
            pending.remove(ready)
        return tuple(ordered)

    def produced_keys(self) -> frozenset[str]:
        """Every fact key some action's effect writes."""
        return frozenset(e.key for a in self.data.actions for e in a.effects)


def _grid_problems(data: StoryActionsData, source: str, step: float) -> list[Problem]:
    problems: list[Problem] = []
    for i, action in enumerate(data.actions):
        effects = [("narrative_effect", action.narrative_effect)]
        effects += [
            (f"variants[{j}].narrative_effect", v.narrative_effect)
            for j, v in enumerate(action.variants)
        ]
        for where, effect in effects:
            for name in ("primary_delta", "secondary_delta"):
                value = getattr(effect, name, None) if effect is not None else None
                if value is not None and not on_grid(value, step):
                    problems.append(
                        Problem(
                            source,
                            f"actions[{i}].{where}.{name}",
                            f"a multiple of the spectrum step {step} (got {value})",
                        )
                    )
    return problems


def _library_problems(data: StoryActionsData, source: str, step: float) -> list[Problem]:
    problems: list[Problem] = _grid_problems(data, source, step)
    seen: set[str] = set()
    for i, action in enumerate(data.actions):
        if action.id in seen:
            problems.append(Problem(source, f"actions[{i}].id", f"a unique id ({action.id!r})"))
        seen.add(action.id)
    by_id = {a.id: a for a in data.actions}
    for i, action in enumerate(data.actions):
        target = action.chained_action
        if target is not None and target not in by_id:
            known = ", ".join(sorted(by_id))
            problems.append(
                Problem(source, f"actions[{i}].chained_action", f"a known action id ({known})")
            )
    for i, action in enumerate(data.actions):
        seen, current = [action.id], action
        while current.chained_action in by_id:
            current = by_id[current.chained_action]
            if current.id in seen:
                cycle = " -> ".join([*seen, current.id])
                problems.append(
                    Problem(source, f"actions[{i}].chained_action", f"an acyclic chain ({cycle})")
                )
                break
            seen.append(current.id)
        for link in (by_id[s] for s in seen[1:]):
            gaps = [g for g in action.genres if g not in link.genres]
            if gaps:
                problems.append(
                    Problem(
                        source,
                        f"actions[{i}].chained_action",
                        f"a follow-up {link.id!r} available in every genre of {action.id!r}"
                        f" (missing {gaps})",
                    )
                )
    produced = {e.key for a in data.actions for e in a.effects}
    external = {f.key for f in data.external_facts}
    for i, action in enumerate(data.actions):
        for j, pre in enumerate(action.preconditions):
            if pre.key not in produced and pre.key not in external:
                problems.append(
                    Problem(
                        source,
                        f"actions[{i}].preconditions[{j}].key",
                        "a fact some effect produces or a declared external fact"
                        f" (got {pre.key!r})",
                    )
                )
    return problems


def load_actions(
    path: str | Path | None = None, *, planning: PlanningConfig | None = None
) -> ActionLibrary:
    """Load and validate a ``story-actions.yaml`` (the packaged one by default).

    Checks, besides each action's fields: unique ids, chained actions that exist and form no
    cycle, follow-ups available wherever their chain starts, precondition keys that some
    effect produces or that are declared external, and spectrum deltas on the planning grid
    (``planning``, the packaged ``planning.yaml`` by default).

    Raises
    ------
    DataError
        Listing every problem with the file, the path in it and what was expected.
    """
    source = str(path or packaged_path("story-actions.yaml"))
    return _validated(read_document(source), source, planning)


def build_actions(
    actions: Sequence[StoryAction | Mapping[str, Any]],
    *,
    external_facts: Sequence[ExternalFact | Mapping[str, Any]] = (),
    planning: PlanningConfig | None = None,
    source: str = "actions",
) -> ActionLibrary:
    """A library from Python objects (actions or mappings), validated exactly like a file.

    ``source`` names the library in error messages (``actions[3].chained_action: ...``).

    >>> lib = build_actions([{"id": "meet", "category": "relationship", "cost": 1.0,
    ...     "core_event": False, "genres": "all", "description": "Two people meet.",
    ...     "narrative_effect": {"primary_delta": 0.1}}])
    >>> lib.ids
    ('meet',)

    Raises
    ------
    DataError
        Listing every problem with the source, the path and what was expected.
    """
    document = {
        "version": 1,
        "external_facts": [_as_data(f) for f in external_facts],
        "actions": [_as_data(a) for a in actions],
    }
    return _validated(document, source, planning)


def _validated(document: Any, source: str, planning: PlanningConfig | None) -> ActionLibrary:
    """The library of a parsed document, every field and cross-reference checked."""
    data = parse_model(StoryActionsData, document, source)
    step = (planning or planning_config()).spectrum_step
    problems = _library_problems(data, source, step)
    if problems:
        raise DataError(problems)
    return ActionLibrary(data, source)


def _as_data(item: Any) -> Any:
    """A model as plain data (so it is validated again, like a file's content)."""
    return item.model_dump(mode="json") if isinstance(item, Frozen) else item


@cache
def action_library() -> ActionLibrary:
    """The packaged action library, loaded once."""
    return load_actions()
