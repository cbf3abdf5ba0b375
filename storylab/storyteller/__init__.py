"""Storyteller: the action library, story templates, the GOAP planner and the composer.

Pure computation: it returns plans and executes nothing.

>>> from storylab.storyteller import compose
>>> plan = compose("rags_to_riches", "love", seed=3)
>>> [p.name for p in plan.phases]
['ordinary_world', 'opportunity', 'trials', 'triumph']
"""

from storylab.storyteller.actions import (
    ActionCategory,
    ActionLibrary,
    ActionVariant,
    ExternalFact,
    IntentSpec,
    NarrativeEffect,
    NarrativeEffectOverride,
    StoryAction,
    StoryIntentType,
    action_library,
    build_actions,
    load_actions,
)
from storylab.storyteller.composer import StorylineComposer, assign_core_events, compose
from storylab.storyteller.config import (
    ExactLimits,
    PlanningConfig,
    Urgency,
    UrgencyLimits,
    VarietyModel,
    load_planning,
    planning_config,
)
from storylab.storyteller.memo import PhaseMemo, memo_stats, phase_memo
from storylab.storyteller.plan import (
    PlannedAction,
    PlanPhase,
    StateSnapshot,
    StoryIntent,
    StorylinePlan,
    TrajectoryPoint,
)
from storylab.storyteller.planner import (
    PhaseSearch,
    SearchStats,
    astar_search,
    plan_phase,
    search_limits,
)
from storylab.storyteller.progress import ActionCount, ActionCountResolver, StoryProgress
from storylab.storyteller.resume import ResumeFrom
from storylab.storyteller.search_space import CostSpec, PhaseProblem, Step, clear_caches
from storylab.storyteller.simulation import apply_action, apply_chain, can_apply
from storylab.storyteller.templates import (
    GenreCompatibility,
    IncompatibleTemplateError,
    PhasePosition,
    PhaseTargetState,
    PhaseTransition,
    StoryPhase,
    StoryTemplate,
    TemplateLibrary,
    TransitionResult,
    load_templates,
    template_library,
)

__all__ = [
    "ActionCategory",
    "ActionCount",
    "ActionCountResolver",
    "ActionLibrary",
    "ActionVariant",
    "CostSpec",
    "ExactLimits",
    "ExternalFact",
    "GenreCompatibility",
    "IncompatibleTemplateError",
    "IntentSpec",
    "NarrativeEffect",
    "NarrativeEffectOverride",
    "PhaseMemo",
    "PhasePosition",
    "PhaseProblem",
    "PhaseSearch",
    "PhaseTargetState",
    "PhaseTransition",
    "PlanPhase",
    "PlannedAction",
    "PlanningConfig",
    "ResumeFrom",
    "SearchStats",
    "StateSnapshot",
    "Step",
    "StoryAction",
    "StoryIntent",
    "StoryIntentType",
    "StoryPhase",
    "StoryProgress",
    "StoryTemplate",
    "StorylineComposer",
    "StorylinePlan",
    "TemplateLibrary",
    "TrajectoryPoint",
    "TransitionResult",
    "Urgency",
    "UrgencyLimits",
    "VarietyModel",
    "action_library",
    "apply_action",
    "apply_chain",
    "assign_core_events",
    "astar_search",
    "build_actions",
    "can_apply",
    "clear_caches",
    "compose",
    "load_actions",
    "load_planning",
    "load_templates",
    "memo_stats",
    "phase_memo",
    "plan_phase",
    "planning_config",
    "search_limits",
    "template_library",
]
