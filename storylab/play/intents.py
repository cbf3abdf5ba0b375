"""Phase intents: made when a phase is reached, from the world as it then is, and dispatched.

Seed 003 (6.7): the storyteller defines the intent vocabulary, the host dispatches. Each of
the seven intent types gets typed parameters here: the characters in their actant roles,
the spectrum with its value now and the phase's target range, the action, and what the
type needs besides (the parties of an encounter or a contract, the direction a relationship
or a personality moves, the event a history records). :func:`dispatch` sends them to an
intents store (persisted, one per intent) or, without one, to a generation provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Protocol

from pydantic import Field, TypeAdapter

from storylab._data import Frozen
from storylab.play.program import intent_line
from storylab.runtime import (
    Generation,
    GenerationProvider,
    GenerationRequest,
    SocialContext,
    default_block_library,
)
from storylab.storyteller import (
    ActionCategory,
    ActionLibrary,
    StoryIntentType,
    StorylinePlan,
    action_library,
)
from storylab.theory import ActantRole, SpectrumType, WorldState

__all__ = [
    "AssignBehavior",
    "CreateContract",
    "Dispatched",
    "IntentSink",
    "ModifyRelationship",
    "PhaseIntent",
    "RecordHistory",
    "SpawnCharacter",
    "TriggerEncounter",
    "UpdatePersonality",
    "dispatch",
    "phase_intents",
    "store_inputs",
]


class _Intent(Frozen):
    """What every phase intent carries."""

    phase: int = Field(ge=1)
    sequence_index: int = Field(ge=0)
    action: str
    description: str
    urgency: float = Field(ge=0.0, le=1.0)
    role: ActantRole | None = Field(description="the actant role the intent targets")
    character: str | None = Field(description="who plays that role (None: not cast)")
    cast: dict[ActantRole, str] = Field(description="every actant role -> character")
    spectrum: SpectrumType
    value: float = Field(description="the primary spectrum when the phase was reached")
    target: tuple[float, float] = Field(description="the phase's target range")


class SpawnCharacter(_Intent):
    """Bring a character into the story (to be created when ``character`` is None)."""

    type: Literal[StoryIntentType.SPAWN_CHARACTER] = StoryIntentType.SPAWN_CHARACTER


class AssignBehavior(_Intent):
    """Give a character a behaviour of the action's category."""

    type: Literal[StoryIntentType.ASSIGN_BEHAVIOR] = StoryIntentType.ASSIGN_BEHAVIOR
    behavior: ActionCategory


class CreateContract(_Intent):
    """An agreement between the subject and the targeted character."""

    type: Literal[StoryIntentType.CREATE_CONTRACT] = StoryIntentType.CREATE_CONTRACT
    parties: tuple[str | None, str | None]


class TriggerEncounter(_Intent):
    """A meeting of the subject and the targeted character."""

    type: Literal[StoryIntentType.TRIGGER_ENCOUNTER] = StoryIntentType.TRIGGER_ENCOUNTER
    parties: tuple[str | None, str | None]


class ModifyRelationship(_Intent):
    """The subject's relationship with the targeted character moves by ``delta``."""

    type: Literal[StoryIntentType.MODIFY_RELATIONSHIP] = StoryIntentType.MODIFY_RELATIONSHIP
    parties: tuple[str | None, str | None]
    delta: float


class UpdatePersonality(_Intent):
    """The targeted character's personality moves the way the spectrum does."""

    type: Literal[StoryIntentType.UPDATE_PERSONALITY] = StoryIntentType.UPDATE_PERSONALITY
    delta: float


class RecordHistory(_Intent):
    """The targeted character's history records the event."""

    type: Literal[StoryIntentType.RECORD_HISTORY] = StoryIntentType.RECORD_HISTORY
    event: str
    core_event: bool


PhaseIntent = Annotated[
    SpawnCharacter
    | AssignBehavior
    | CreateContract
    | TriggerEncounter
    | ModifyRelationship
    | UpdatePersonality
    | RecordHistory,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(PhaseIntent)


def phase_intents(
    plan: StorylinePlan,
    phase: int,
    world: WorldState,
    cast: Mapping[ActantRole | str, str] | None = None,
    *,
    library: ActionLibrary | None = None,
) -> tuple[PhaseIntent, ...]:
    """The intents of ``plan``'s phase ``phase``, made from ``world`` (the state reached).

    ``cast`` maps actant roles to characters (the plan's actants by default).

    Raises
    ------
    ValueError
        When the plan has no phase ``phase`` or ``world`` has no narrative state.
    """
    chosen = next((p for p in plan.phases if p.number == phase), None)
    if chosen is None:
        known = ", ".join(str(p.number) for p in plan.phases)
        raise ValueError(f"phase: one of the plan's phases ({known}), got {phase}")
    if world.narrative is None:
        raise ValueError("world: a world with a narrative state")
    library = library or action_library()
    roles = {ActantRole(r): str(c) for r, c in (plan.actants if cast is None else cast).items()}
    subject = roles.get(ActantRole.SUBJECT)
    target = (chosen.target_state.primary_min, chosen.target_state.primary_max)
    indices = {a.sequence_index for a in chosen.actions}
    out = []
    for spec in plan.intents:
        if spec.sequence_index not in indices:
            continue
        item = next(a for a in chosen.actions if a.sequence_index == spec.sequence_index)
        character = roles.get(spec.target_role) if spec.target_role is not None else None
        fields: dict[str, Any] = {
            "type": spec.type,
            "phase": phase,
            "sequence_index": spec.sequence_index,
            "action": spec.action_id,
            "description": item.description,
            "urgency": spec.urgency,
            "role": spec.target_role,
            "character": character,
            "cast": roles,
            "spectrum": plan.primary_spectrum,
            "value": world.narrative.primary_value,
            "target": target,
        }
        delta = item.narrative_effect.primary_delta
        extra = {
            StoryIntentType.ASSIGN_BEHAVIOR: {"behavior": library.get(item.action_id).category},
            StoryIntentType.CREATE_CONTRACT: {"parties": (subject, character)},
            StoryIntentType.TRIGGER_ENCOUNTER: {"parties": (subject, character)},
            StoryIntentType.MODIFY_RELATIONSHIP: {"parties": (subject, character), "delta": delta},
            StoryIntentType.UPDATE_PERSONALITY: {"delta": delta},
            StoryIntentType.RECORD_HISTORY: {
                "event": item.action_id,
                "core_event": item.core_event,
            },
        }
        fields.update(extra.get(spec.type, {}))
        out.append(_ADAPTER.validate_python(fields))
    return tuple(out)


class IntentSink(Protocol):
    """An intents store: persists an intent and returns its record (or id)."""

    def create_intent(
        self, scenario: str, kind: str, inputs: Mapping[str, Any], session_id: str | None = None
    ) -> Any:
        """Persist one intent."""
        ...


class Dispatched(Frozen):
    """Where one intent went: ``store`` (its id there) or ``provider`` (the generation)."""

    intent: PhaseIntent
    via: Literal["store", "provider"]
    ref: str
    content: str | None = None


def store_inputs(intent: PhaseIntent) -> dict[str, Any]:
    """The inputs an intents store takes for ``intent`` (its composer-intent fields).

    The store validates one flat set of fields for every composer intent kind; the typed
    parameters it has no field for (the spectrum, its value and the target, the parties,
    the behaviour, the event) are written into the description.
    """
    lo, hi = intent.target
    extra = {
        k: v for k, v in intent.model_dump(mode="json").items() if k in _TYPED and v is not None
    }
    where = f"{intent.spectrum.value} {intent.value:+.2f}, phase target [{lo:+.2f}, {hi:+.2f}]"
    details = "".join(f"; {k} {v}" for k, v in extra.items() if k != "delta")
    inputs: dict[str, Any] = {
        "description": f"{intent.description} ({where}{details})",
        "character": intent.character,
        "action_id": intent.action,
        "phase_number": intent.phase,
        "sequence_index": intent.sequence_index,
        "urgency": intent.urgency,
        "target_role": intent.role.value if intent.role is not None else None,
        "chapter": f"phase {intent.phase}",
        "delta": extra.get("delta"),
    }
    return {k: v for k, v in inputs.items() if v is not None}


#: Fields of the typed intents beyond the common ones.
_TYPED = ("behavior", "parties", "delta", "event", "core_event")


def _request(intent: PhaseIntent, npc: str) -> GenerationRequest:
    blocks = default_block_library()
    prompt = intent_line(intent.type, intent.role, intent.character, intent.description)
    social = SocialContext(blocks.tier(0.0), blocks.default_mood, 0.0)
    return GenerationRequest(
        "intent",
        f"intent.{intent.type.value}",
        prompt,
        (prompt,),
        (),
        None,
        intent.character or npc,
        social,
        "immediate",
    )


def dispatch(
    intents: Sequence[PhaseIntent],
    *,
    store: IntentSink | None = None,
    provider: GenerationProvider | None = None,
    scenario: str = "storyline",
    session_id: str | None = None,
    npc: str = "npc",
) -> tuple[Dispatched, ...]:
    """Send each intent to ``store`` (persisted) when given, else to ``provider``.

    The store gets ``create_intent("<scenario>/<phase>.<index>.<type>", <intent type>,
    store_inputs(intent), session_id=...)``: one scenario per intent, since a store keeps
    one pending intent per scenario. The provider gets a generation request whose program
    is ``intent.<type>`` and whose prompt names the role, the character and the action.

    Raises
    ------
    ValueError
        When neither a store nor a provider is given.
    """
    if store is None and provider is None:
        raise ValueError("dispatch needs an intents store or a generation provider")
    out = []
    for intent in intents:
        if store is not None:
            name = f"{scenario}/{intent.phase}.{intent.sequence_index}.{intent.type.value}"
            record = store.create_intent(
                name, intent.type.value, store_inputs(intent), session_id=session_id
            )
            ref = str(getattr(record, "id", record))
            out.append(Dispatched(intent=intent, via="store", ref=ref))
        else:
            assert provider is not None
            done: Generation = provider.generate(_request(intent, npc))
            out.append(Dispatched(intent=intent, via="provider", ref=done.id, content=done.content))
    return tuple(out)
