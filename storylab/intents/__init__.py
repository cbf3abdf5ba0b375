"""Intents: persisted intents and their effects in the session's SQLite file, applied
exactly once under crashes by a supervisor over any executor, with events streamed from the
store and offline or HTTP generation providers. See ``docs/intents.md``.
"""

from storylab.intents.context import ContextRow, TurnContext, build_context, context_from
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
    composer_inputs,
    next_actor,
    parse_inputs,
    plan_effects,
)
from storylab.intents.providers import PROVIDERS, HTTPProvider, OfflineProvider, ProviderError
from storylab.intents.runs import RunStopped, apply_effect, change_session
from storylab.intents.schema import SCHEMA_VERSION, StoreFileError
from storylab.intents.store import TERMINAL, IntentStore, PendingIntentExists
from storylab.intents.supervisor import Supervisor, SupervisorStats, execute_run, execute_runs

__all__ = [
    "COMPOSER_KINDS",
    "EFFECT_KINDS",
    "INTENT_KINDS",
    "PROVIDERS",
    "SCHEMA_VERSION",
    "TERMINAL",
    "ComposerInputs",
    "ContextRow",
    "DirectControlInputs",
    "Effect",
    "HTTPProvider",
    "Intent",
    "IntentEvent",
    "IntentResult",
    "IntentStore",
    "OfflineProvider",
    "PendingIntentExists",
    "PlannedEffect",
    "Progress",
    "ProviderError",
    "RunStopped",
    "StoreFileError",
    "StoryConstraintInputs",
    "Supervisor",
    "SupervisorStats",
    "TurnContext",
    "apply_effect",
    "build_context",
    "change_session",
    "composer_inputs",
    "context_from",
    "execute_run",
    "execute_runs",
    "next_actor",
    "parse_inputs",
    "plan_effects",
]
