"""Intents: persisted intents and their effects in the session's SQLite file, applied
exactly once under crashes by a supervisor over any executor, with events streamed from the
store and offline or HTTP generation providers. See ``docs/intents.md``.
"""

from storylab.intents.models import (
    COMPOSER_KINDS,
    EFFECT_KINDS,
    INTENT_KINDS,
    ComposerInputs,
    DirectControlInputs,
    Effect,
    Intent,
    IntentEvent,
    IntentResult,
    PlannedEffect,
    Progress,
    StoryConstraintInputs,
    next_actor,
    parse_inputs,
    plan_effects,
)
from storylab.intents.schema import SCHEMA_VERSION, StoreFileError
from storylab.intents.store import TERMINAL, IntentStore, PendingIntentExists

__all__ = [
    "COMPOSER_KINDS",
    "EFFECT_KINDS",
    "INTENT_KINDS",
    "SCHEMA_VERSION",
    "TERMINAL",
    "ComposerInputs",
    "DirectControlInputs",
    "Effect",
    "Intent",
    "IntentEvent",
    "IntentResult",
    "IntentStore",
    "PendingIntentExists",
    "PlannedEffect",
    "Progress",
    "StoreFileError",
    "StoryConstraintInputs",
    "next_actor",
    "parse_inputs",
    "plan_effects",
]
