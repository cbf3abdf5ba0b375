"""Intent kinds, their validated inputs, and the effects each plans.

Two kinds come from the turn-generation plan (``direct_control``: insert the player's turn,
then generate the reply; ``story_constraint``: generate a turn under a constraint) and seven
from the composer's intent vocabulary (:class:`storylab.storyteller.StoryIntentType`). Each
kind's inputs are a frozen model; :func:`plan_effects` turns valid inputs into the planned
effects, in order, before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from storylab._data import Frozen, UnknownNameError, parse_model

__all__ = [
    "COMPOSER_KINDS",
    "EFFECT_KINDS",
    "INTENT_KINDS",
    "ComposerInputs",
    "DirectControlInputs",
    "Effect",
    "Intent",
    "IntentEvent",
    "IntentResult",
    "PlannedEffect",
    "Progress",
    "StoryConstraintInputs",
    "composer_inputs",
    "next_actor",
    "parse_inputs",
    "plan_effects",
]

#: The composer's intent types (``StoryIntentType`` values; a test keeps them in step).
COMPOSER_KINDS = (
    "spawn_character",
    "assign_behavior",
    "create_contract",
    "trigger_encounter",
    "modify_relationship",
    "update_personality",
    "record_history",
)
#: Every intent kind the store accepts.
INTENT_KINDS = ("direct_control", "story_constraint", *COMPOSER_KINDS)
#: Every effect kind an intent can plan.
EFFECT_KINDS = ("insert_turn", "generate_turn", "add_participant", "set_relationship", "set_flag")

_TEXT = 20_000  # longest text input, in characters
_NAME = 200


class _Common(Frozen):
    participants: tuple[str, ...] | None = Field(
        default=None, max_length=100, description="who takes turns (default: the session's NPCs)"
    )
    actor: str | None = Field(
        default=None, min_length=1, max_length=_NAME, description="who speaks next (override)"
    )
    chapter: str | None = Field(default=None, max_length=_NAME)


class DirectControlInputs(_Common):
    """The player speaks as ``author``; the next actor replies."""

    author: str = Field(min_length=1, max_length=_NAME)
    text: str = Field(min_length=1, max_length=_TEXT)


class StoryConstraintInputs(_Common):
    """Generate the next turn following ``description`` under an optional ``constraint``."""

    description: str = Field(min_length=1, max_length=_TEXT)
    constraint: str | None = Field(default=None, max_length=_TEXT)


class ComposerInputs(_Common):
    """A composer intent (:class:`storylab.storyteller.StoryIntent` fields, flattened)."""

    description: str = Field(min_length=1, max_length=_TEXT)
    character: str | None = Field(default=None, min_length=1, max_length=_NAME)
    action_id: str | None = Field(default=None, max_length=_NAME)
    phase_number: int | None = None
    sequence_index: int | None = None
    urgency: float | None = Field(default=None, ge=0.0, le=1.0)
    target_role: str | None = Field(default=None, max_length=_NAME)
    delta: float = Field(default=0.1, ge=-1.0, le=1.0, description="relationship change")


_MODELS: dict[str, type[_Common]] = {
    "direct_control": DirectControlInputs,
    "story_constraint": StoryConstraintInputs,
    **dict.fromkeys(COMPOSER_KINDS, ComposerInputs),
}


def parse_inputs(kind: str, inputs: Any, source: str = "<intent inputs>") -> _Common:
    """The validated inputs of an intent of ``kind`` (``DataError`` names each bad field)."""
    if kind not in _MODELS:
        raise UnknownNameError("intent kind", kind, INTENT_KINDS)
    return parse_model(_MODELS[kind], inputs, source)


def composer_inputs(story_intent: Any) -> tuple[str, dict[str, Any]]:
    """The kind and inputs of a composer intent (a :class:`storylab.storyteller.StoryIntent`
    or anything with its fields), ready for :meth:`IntentStore.create_intent`.

    >>> from types import SimpleNamespace as NS
    >>> composer_inputs(NS(type="trigger_encounter", action_id="duel", sequence_index=4,
    ...     phase_number=2, urgency=0.6, target_role="opponent",
    ...     parameters={"description": "A duel at dawn", "character": "Vex"}))[1]["character"]
    'Vex'
    """
    params = dict(story_intent.parameters)
    role = story_intent.target_role
    inputs = {
        "description": params.pop("description", None) or str(story_intent.action_id),
        "character": params.pop("character", None),
        "action_id": story_intent.action_id,
        "sequence_index": story_intent.sequence_index,
        "phase_number": story_intent.phase_number,
        "urgency": story_intent.urgency,
        "target_role": None if role is None else str(getattr(role, "value", role)),
    }
    kind = str(getattr(story_intent.type, "value", story_intent.type))
    return kind, {k: v for k, v in inputs.items() if v is not None}


def next_actor(participants: tuple[str, ...] | list[str], last: str | None) -> str:
    """Round-robin: the participant after ``last`` (the first when ``last`` is not one).

    >>> next_actor(("ann", "bo", "cy"), "bo"), next_actor(("ann", "bo"), "bo")
    ('cy', 'ann')
    >>> next_actor(("ann", "bo"), None)
    'ann'
    """
    if not participants:
        raise ValueError("next actor: the scenario has no participants")
    order = list(participants)
    if last in order:
        return order[(order.index(last) + 1) % len(order)]
    return order[0]


@dataclass(frozen=True, slots=True)
class PlannedEffect:
    """One effect as planned: its position, kind and payload."""

    index: int
    kind: str
    payload: dict[str, Any]


def plan_effects(
    kind: str, inputs: _Common, participants: tuple[str, ...], last_speaker: str | None
) -> list[PlannedEffect]:
    """The effects an intent plans, from its inputs and the scenario's turn order.

    ``participants`` take turns round-robin after ``last_speaker`` unless the inputs name
    the ``actor``.
    """
    people = tuple(inputs.participants or participants)
    chapter = inputs.chapter

    def turn(last: str | None, **extra: Any) -> dict[str, Any]:
        actor = inputs.actor or next_actor(people or ("narrator",), last)
        return {"participant": actor, "chapter": chapter, "layer": "presentation", **extra}

    effects: list[tuple[str, dict[str, Any]]]
    if isinstance(inputs, DirectControlInputs):
        player = {"participant": inputs.author, "chapter": chapter, "layer": "presentation"}
        reply = turn(inputs.author, description="reply to the player", constraint=None)
        effects = [("insert_turn", {**player, "content": inputs.text}), ("generate_turn", reply)]
    elif isinstance(inputs, StoryConstraintInputs):
        gen = turn(last_speaker, description=inputs.description, constraint=inputs.constraint)
        effects = [("generate_turn", gen)]
    else:
        assert isinstance(inputs, ComposerInputs)
        effects = _composer_effects(kind, inputs, turn, last_speaker)
    return [PlannedEffect(i, k, p) for i, (k, p) in enumerate(effects)]


def _composer_effects(
    kind: str, inputs: ComposerInputs, turn: Any, last: str | None
) -> list[tuple[str, dict[str, Any]]]:
    who = inputs.character
    desc = inputs.description
    say = {"description": desc, "constraint": None}
    if kind == "spawn_character" and who:
        entrance = {**turn(None, **say), "participant": inputs.actor or who}
        return [("add_participant", {"participant": who}), ("generate_turn", entrance)]
    if kind == "modify_relationship" and who:
        change = {"npc": who, "field": "affinity", "delta": inputs.delta}
        return [("set_relationship", change), ("generate_turn", turn(last, **say))]
    if kind in ("assign_behavior", "update_personality", "create_contract") and who:
        name = {"assign_behavior": "behavior", "update_personality": "personality"}.get(
            kind, "contract"
        )
        effects = [("set_flag", {"name": f"{name}.{who}", "value": desc})]
        if kind == "create_contract":
            effects.append(("generate_turn", turn(last, **say)))
        return effects
    if kind == "record_history":
        narrator = {"participant": "narrator", "chapter": inputs.chapter, "layer": "history"}
        return [("insert_turn", {**narrator, "content": desc})]
    # trigger_encounter, or a character-less intent: the story plays it as a turn
    return [("generate_turn", turn(last, **say))]


@dataclass(frozen=True, slots=True)
class Effect:
    """One stored effect of an intent."""

    intent_id: str
    index: int
    kind: str
    status: str
    payload: dict[str, Any]
    result_ref: str | None = None
    turn_no: int | None = None
    generation_id: str | None = None
    output: str | None = None
    error: str | None = None
    applied_at: float | None = None


@dataclass(frozen=True, slots=True)
class Intent:
    """One stored intent and its effects, in order."""

    id: str
    scenario: str
    session_id: str
    kind: str
    status: str
    inputs: dict[str, Any]
    workflow_id: str
    attempts: int
    error: str | None
    created_at: float
    updated_at: float
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True, slots=True)
class IntentEvent:
    """One state change of an intent, in the order it happened (``seq`` grows)."""

    seq: int
    intent_id: str
    kind: str
    data: dict[str, Any]
    at: float


@dataclass(frozen=True, slots=True)
class Progress:
    """Where an intent stands: effects by status, attempts, and the last event."""

    intent_id: str
    status: str
    total: int
    applied: int
    planned: int
    failed: int
    attempts: int
    running: bool
    last_event: str | None

    @property
    def done(self) -> bool:
        """Whether the intent reached a final status."""
        return self.status != "pending"


@dataclass(frozen=True, slots=True)
class IntentResult:
    """The outcome of an intent: status, error, and what each effect produced."""

    intent_id: str
    status: str
    error: str | None
    effects: tuple[Effect, ...] = field(default_factory=tuple)

    @property
    def texts(self) -> list[str]:
        """The content of every turn the intent added, in effect order."""
        return [e.output for e in self.effects if e.output is not None]
