"""``StorylineComposer``: a whole storyline, planned lazily phase by phase.

For each phase: re-estimate the story's length, plan the phase from the current world
(:class:`~storylab.storyteller.search_space.PhaseProblem` + A*), replay the plan on the world
state (checking every precondition), check the hybrid transition, and go on.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from storylab._data import parse_model
from storylab.archives import ArchiveBundle, extract_world_state
from storylab.storyteller.actions import ActionLibrary, StoryAction, action_library
from storylab.storyteller.config import PlanningConfig, Urgency, planning_config
from storylab.storyteller.memo import PhaseMemo, phase_memo
from storylab.storyteller.pacing import pace_steps
from storylab.storyteller.plan import (
    PlannedAction,
    PlanPhase,
    StateSnapshot,
    StoryIntent,
    StorylinePlan,
    TrajectoryPoint,
)
from storylab.storyteller.planner import PhaseSearch, astar_search, search_limits
from storylab.storyteller.progress import ActionCountResolver, StoryProgress
from storylab.storyteller.resume import ResumeFrom
from storylab.storyteller.search_space import CostSpec, PhaseProblem, resolve_costs
from storylab.storyteller.simulation import apply_action
from storylab.storyteller.templates import (
    StoryTemplate,
    TemplateLibrary,
    TransitionResult,
    template_library,
)
from storylab.theory import (
    ActantRole,
    NarrativeState,
    SpectrumType,
    WorldState,
    primary_spectrum,
    secondary_spectrum,
)

__all__ = ["StorylineComposer", "assign_core_events", "compose"]


def assign_core_events(events: Sequence[str], n_phases: int) -> list[tuple[str, ...]]:
    """Spread a genre's core events (in story order) over ``n_phases`` phases.

    The first event goes to the first phase, the last to the last phase, the others evenly
    in between; a single event goes to the last phase (the climax).

    >>> assign_core_events(["meet", "break_up", "proof"], 4)
    [('meet',), (), ('break_up',), ('proof',)]
    """
    slots: list[list[str]] = [[] for _ in range(n_phases)]
    m = len(events)
    for j, event in enumerate(events):
        index = n_phases - 1 if m == 1 else int(j * (n_phases - 1) / (m - 1) + 0.5)
        slots[index].append(event)
    return [tuple(s) for s in slots]


class StorylineComposer:
    """Compose storylines from templates, genres and starting worlds.

    Parameters are stored as given (a sweep can set any of them); results live on the plan.
    The last composition also leaves its wall-clock times on ``timings_`` and the phase
    problems it solved, in order, on ``problems_`` (each can be re-solved, e.g. without
    limits, with :func:`~storylab.storyteller.astar_search`), and how many of its phase
    searches came from the memo on ``memo_stats_``.

    Parameters
    ----------
    costs : mapping or callable, optional
        Per-action cost overrides (``{id: cost}`` or ``action -> cost``).
    library, templates, config : optional
        Action library, template library and planning parameters (the packaged ones by default).
    memo : bool or PhaseMemo
        Reuse phase searches: ``True`` (default) shares the process-wide
        :func:`~storylab.storyteller.memo.phase_memo`, a :class:`PhaseMemo` uses that one,
        ``False`` searches every phase. Plans are the same either way.
    """

    def __init__(
        self,
        *,
        costs: CostSpec = None,
        library: ActionLibrary | None = None,
        templates: TemplateLibrary | None = None,
        config: PlanningConfig | None = None,
        memo: bool | PhaseMemo = True,
    ):
        self.costs = costs
        self.library = library
        self.templates = templates
        self.config = config
        self.memo = memo
        self.timings_: dict[str, Any] = {}
        self.memo_stats_: dict[str, int] = {}
        self.problems_: tuple[PhaseProblem, ...] = ()

    def compose(
        self,
        template: str | StoryTemplate,
        genre: str,
        *,
        subgenre: str | None = None,
        initial: WorldState | ArchiveBundle | Mapping[str, Any] | None = None,
        actants: Mapping[ActantRole | str, str] | None = None,
        actions: int | None = None,
        urgency: Urgency | str = Urgency.MEDIUM,
        seed: int | np.random.Generator | None = None,
        resume: ResumeFrom | None = None,
    ) -> StorylinePlan:
        """Compose a storyline.

        Parameters
        ----------
        template : str or StoryTemplate
            Arc name (``man_in_a_hole``), code (``MAN_IN_A_HOLE``) or a template.
        genre, subgenre : str
            The genre (and optional subgenre); the template must support them.
        initial : WorldState, ArchiveBundle or mapping, optional
            Starting world (facts, narrative values); a bundle is read with
            :func:`storylab.archives.extract_world_state` for this genre; mappings are
            validated like a data file. Narrative values are snapped to the planning grid
            (reported).
        actants : mapping, optional
            Actant role -> character name, passed into the intents.
        actions : int, optional
            Requested action count (clamped to the template's range, reported).
        urgency : {"low", "medium", "high", "exact"}
            Search limits per phase; ``exact`` is exact A* within the planning
            configuration's ``exact`` bound (optimal phases, slower).
        seed : int or Generator, optional
            Picks among equally good plans and, with the story's template, genre, subgenre
            and length, makes the plan id; same inputs and seed, same JSON.
        resume : ResumeFrom, optional
            Plan only the phases from ``resume.phase`` on, from ``initial`` taken as the world
            played so far (``resume.ticks_done`` ticks, ``resume.core_events_done`` done):
            lazy re-planning. The plan then holds only those phases.
        """
        started = time.perf_counter()
        library = self.library or action_library()
        config = self.config or planning_config()
        tpl = (
            template
            if isinstance(template, StoryTemplate)
            else (self.templates or template_library()).get(template)
        )
        tpl.require_compatible(genre, subgenre)
        limits = config.limits(urgency)  # unknown levels list the known ones
        search_kw = search_limits(config, urgency)
        exact_kw = search_limits(config, None)
        urgency = Urgency(urgency)
        roles = {ActantRole(k): str(v) for k, v in (actants or {}).items()}
        resolve_costs(library.for_genre(genre), self.costs, known=library.ids)  # fail early
        count = ActionCountResolver().resolve(tpl, genre, actions)
        primary = primary_spectrum(genre, subgenre)
        secondary = secondary_spectrum(genre, subgenre)
        if isinstance(initial, ArchiveBundle):
            initial = extract_world_state(initial, genre, subgenre)
        world, notes = _initial_world(initial, tpl, primary, secondary, config)
        notes = ([count.note] if count.note else []) + notes
        rng = np.random.default_rng(seed)
        story = f"{tpl.code}|{genre}|{subgenre}|{count.resolved}".encode()
        digest = hashlib.sha256(rng.bytes(16) + story).digest()
        plan_id = str(uuid.UUID(bytes=digest[:16], version=4))
        core = [a.id for a in library.core_events(genre)]
        assigned = assign_core_events(core, len(tpl.phases))
        progress = StoryProgress(count.resolved, config=config)
        first = 0 if resume is None else resume.start_index(tpl, core)
        if resume is not None:
            progress.ticks_done, progress.phases_completed = resume.ticks_done, first
        initial_world = world.with_position(progress.position)
        points = [_point(None, None, progress, world)]
        phases: list[PlanPhase] = []
        planned: list[PlannedAction] = []
        done: set[str] = set(resume.core_events_done if resume is not None else ())
        used: dict[str, int] = {}
        phase_seconds = []
        problems: list[PhaseProblem] = []
        memo = self._phase_memo()
        hits = 0
        for index, phase in enumerate(tpl.phases[first:], start=first):
            progress.on_phase_generated(
                tpl.phases[index - 1].transition.position_floor if index else 0.0
            )
            world = world.with_position(progress.position)
            start = progress.position
            required = tuple(e for part in assigned[: index + 1] for e in part if e not in done)
            later = tuple(e for part in assigned[index + 1 :] for e in part)
            problem = PhaseProblem(
                world=world,
                phase=phase,
                genre=genre,
                total_ticks=progress.total_ticks,
                start_ticks=progress.ticks_done,
                required=required,
                excluded=later,
                costs=self.costs,
                library=library,
                config=config,
                previous=planned[-1].action_id if planned else None,
                used=dict(used),  # a snapshot: the story goes on using actions
            )
            problems.append(problem)
            ranks = rng.permutation(len(problem.steps)).tolist()
            # a beam can drop every way to the goal: then the phase is searched again
            # exactly, within the exact bound (still deterministic)
            seconds, answered = 0.0, memo is not None  # a phase is a hit if every search was
            for kw in (search_kw, exact_kw):
                if memo is None:
                    search = astar_search(problem, ranks=ranks, **kw)
                else:
                    search, hit = memo.search_counted(problem, ranks=ranks, **kw)
                    answered = answered and hit
                seconds += search.elapsed_s
                if search.reached or kw == exact_kw:
                    break
            hits += answered
            phase_seconds.append(seconds)
            costs = {s.ids[i]: s.link_costs[i] for s in problem.steps for i in range(len(s.ids))}
            world, actions_here = _replay(
                pace_steps(problem, search.steps) if search.reached else search.steps,
                world,
                phase.number,
                genre,
                secondary,
                library,
                config,
                progress,
                costs,
                len(planned),
                points,
            )
            done.update(a.action_id for a in actions_here if a.core_event)
            for a in actions_here:
                used[a.action_id] = used.get(a.action_id, 0) + 1
            planned.extend(actions_here)
            raw = progress.ticks_done / progress.total_ticks
            assert world.narrative is not None
            result = phase.check_transition(raw, world.narrative, world)
            phases.append(
                PlanPhase(
                    number=phase.number,
                    name=phase.name,
                    save_the_cat_beats=phase.save_the_cat_beats,
                    position_bounds=phase.position,
                    target_state=phase.target_state,
                    transition=phase.transition,
                    required_core_events=required,
                    actions=tuple(actions_here),
                    cost=search.cost,
                    variety_cost=round(search.cost - sum(a.cost for a in actions_here), 10),
                    reached=search.reached and result is TransitionResult.READY,
                    transition_result=result,
                    start_position=start,
                    end_position=round(raw, 10),
                    estimated_total_actions=progress.estimated_actions,
                    search=search.stats,
                    note=_phase_note(search, result),
                )
            )
            progress.on_phase_completed()
        missing = tuple(e for e in core if e not in done)
        plan = StorylinePlan(
            id=plan_id,
            template=tpl.arc,
            template_code=tpl.code,
            genre=genre,
            subgenre=subgenre,
            primary_spectrum=primary,
            secondary_spectrum=secondary,
            urgency=urgency,
            seed=seed if isinstance(seed, int) else None,
            action_count=count,
            actants=roles,
            phases=tuple(phases),
            initial_state=StateSnapshot.from_world(initial_world),
            projected_end_state=StateSnapshot.from_world(world),
            required_core_events=tuple(core),
            missing_core_events=missing,
            trajectory=_with_story_share(points, progress.ticks_done),
            intents=_intents(planned, library, genre, roles, limits.intent_urgency, config),
            total_cost=float(sum(p.cost for p in phases)),
            complete=not missing and all(p.reached for p in phases),
            notes=tuple(notes),
        )
        self.problems_ = tuple(problems)
        self.memo_stats_ = {"hits": hits, "misses": len(problems) - hits}
        self.timings_ = {
            "phases_s": phase_seconds,
            "total_s": time.perf_counter() - started,
        }
        return plan

    def _phase_memo(self) -> PhaseMemo | None:
        if isinstance(self.memo, PhaseMemo):
            return self.memo
        if self.memo is True:
            return phase_memo()
        if self.memo is False:
            return None
        raise TypeError(f"memo must be a bool or a PhaseMemo, got {self.memo!r}")


def compose(
    template: str | StoryTemplate,
    genre: str,
    *,
    subgenre: str | None = None,
    initial: WorldState | ArchiveBundle | Mapping[str, Any] | None = None,
    actants: Mapping[ActantRole | str, str] | None = None,
    actions: int | None = None,
    urgency: Urgency | str = Urgency.MEDIUM,
    seed: int | np.random.Generator | None = 0,
    resume: ResumeFrom | None = None,
    costs: CostSpec = None,
) -> StorylinePlan:
    """Compose a storyline with a default :class:`StorylineComposer` (see
    :meth:`StorylineComposer.compose`); seeded with 0 by default, like ``storylab compose``.

    >>> plan = compose("man_in_a_hole", "action", seed=7)
    >>> plan.complete, plan.missing_core_events
    (True, ())
    """
    return StorylineComposer(costs=costs).compose(
        template,
        genre,
        subgenre=subgenre,
        initial=initial,
        actants=actants,
        actions=actions,
        urgency=urgency,
        seed=seed,
        resume=resume,
    )


def _initial_world(
    initial: WorldState | Mapping[str, Any] | None,
    template: StoryTemplate,
    primary: SpectrumType,
    secondary: SpectrumType | None,
    config: PlanningConfig,
) -> tuple[WorldState, list[str]]:
    if initial is not None and not isinstance(initial, WorldState):
        initial = parse_model(WorldState, dict(initial), "initial state")
    notes: list[str] = []
    given = initial.narrative.values if initial and initial.narrative else {}
    values = {primary: given.get(primary, template.start_value())}
    if secondary is not None:
        values[secondary] = given.get(secondary, 0.0)
    snapped = {}
    for spectrum, value in values.items():
        snapped[spectrum] = config.snap(value)
        if abs(snapped[spectrum] - value) > 1e-9 and spectrum in given:
            notes.append(
                f"initial {spectrum.value} {value} snapped to the planning grid:"
                f" {snapped[spectrum]}"
            )
    if initial is not None and initial.position != 0.0:
        notes.append(f"initial position {initial.position} ignored: a storyline starts at 0")
    facts = initial.facts if initial is not None else {}
    return (
        WorldState(facts=facts, narrative=NarrativeState(primary=primary, values=snapped)),
        notes,
    )


def _replay(
    chains: Sequence[tuple[str, ...]],
    world: WorldState,
    phase_number: int,
    genre: str,
    secondary: SpectrumType | None,
    library: ActionLibrary,
    config: PlanningConfig,
    progress: StoryProgress,
    costs: Mapping[str, float],
    first_index: int,
    points: list[TrajectoryPoint],
) -> tuple[WorldState, list[PlannedAction]]:
    out: list[PlannedAction] = []
    for chain in chains:
        for link, action_id in enumerate(chain):
            action = library.get(action_id)
            effect = action.narrative_effect_for(genre)
            progress.on_action_completed(config.ticks(effect.position_advance))
            world = apply_action(
                world, action, genre, secondary, position=progress.position, config=config
            )
            assert world.narrative is not None
            index = first_index + len(out)
            out.append(
                PlannedAction(
                    action_id=action.id,
                    sequence_index=index,
                    phase_number=phase_number,
                    category=action.category,
                    description=action.description_for(genre),
                    effects=action.effects,
                    narrative_effect=effect,
                    core_event=action.core_event,
                    chained_from=chain[link - 1] if link else None,
                    cost=costs[action.id],
                    position=round(progress.ticks_done / progress.total_ticks, 10),
                    primary_value=world.narrative.primary_value,
                )
            )
            points.append(_point(index, action.id, progress, world))
    return world, out


def _point(
    index: int | None, action_id: str | None, progress: StoryProgress, world: WorldState
) -> TrajectoryPoint:
    assert world.narrative is not None
    return TrajectoryPoint(
        sequence_index=index,
        action_id=action_id,
        position=round(progress.ticks_done / progress.total_ticks, 10),
        story_share=float(progress.ticks_done),  # rescaled once the story's length is known
        primary=world.narrative.primary_value,
    )


def _with_story_share(points: list[TrajectoryPoint], total: int) -> tuple[TrajectoryPoint, ...]:
    return tuple(
        p.model_copy(update={"story_share": round(p.story_share / max(total, 1), 10)})
        for p in points
    )


def _phase_note(search: PhaseSearch, result: TransitionResult) -> str | None:
    if not search.reached:
        return (
            f"the planner stopped ({search.stats.stop_reason}) before the phase target;"
            f" best partial plan kept and the story moved on ({result.value})"
        )
    if result is not TransitionResult.READY:
        return f"transition check: {result.value}"
    return None


def _intents(
    planned: Sequence[PlannedAction],
    library: ActionLibrary,
    genre: str,
    roles: Mapping[ActantRole, str],
    base: float,
    config: PlanningConfig,
) -> tuple[StoryIntent, ...]:
    out = []
    for item in planned:
        action: StoryAction = library.get(item.action_id)
        urgency = min(1.0, base + (config.core_event_boost if item.core_event else 0.0))
        for spec in action.intents:
            parameters = {"description": item.description}
            if spec.target_role is not None and spec.target_role in roles:
                parameters["character"] = roles[spec.target_role]
            out.append(
                StoryIntent(
                    type=spec.type,
                    action_id=item.action_id,
                    sequence_index=item.sequence_index,
                    phase_number=item.phase_number,
                    urgency=round(urgency, 10),
                    target_role=spec.target_role,
                    parameters=parameters,
                )
            )
    return tuple(out)
