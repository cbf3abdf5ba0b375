"""Re-planning from the played world: the rest of the story, from what the player did.

:func:`played_state` reads a runtime session playing a program of :func:`to_program`: the
facts (flags), the spectrum values (arcs), the position ticks, the core events done and the
last phase played to its end. :func:`replan` hands that world to the composer, which plans
the phases left lazily, one at a time, each from the world the one before leaves, and says
which of the template's later targets and core events it could not reach, and why.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from storylab._data import Frozen
from storylab.play.program import BEGUN_FLAG, COMPLETED_QUEST, TICKS_ARC, core_flag, fact_flag
from storylab.runtime import Session
from storylab.storyteller import (
    ActionLibrary,
    ResumeFrom,
    StateSnapshot,
    StorylineComposer,
    StorylinePlan,
    action_library,
    planning_config,
)
from storylab.theory import NarrativeState, WorldState, classify_arc

__all__ = [
    "GRID_POINTS",
    "PlayedState",
    "Replan",
    "Unreached",
    "arc_score",
    "played_state",
    "replan",
]

#: Points of the story-share grid trajectories are compared and classified on.
GRID_POINTS = 50


@dataclass(frozen=True)
class PlayedState:
    """Where a played storyline stands.

    Attributes
    ----------
    world : WorldState
        The facts and spectrum values as played (position 0: see ``ticks``).
    completed : int
        The last phase played to its end (0 before the first boundary).
    ticks : int
        Position ticks played.
    core_events_done : tuple of str
        Core events played, in the genre's order.
    """

    world: WorldState
    completed: int
    ticks: int
    core_events_done: tuple[str, ...]

    def key(self) -> str:
        """A stable text key of this state (equal states, equal keys)."""
        snapshot = StateSnapshot.from_world(self.world).model_dump_json()
        return f"{snapshot}|{self.completed}|{self.ticks}|{','.join(self.core_events_done)}"


def _known_facts(plan: StorylinePlan, library: ActionLibrary) -> list[str]:
    keys = set(library.produced_keys()) | set(library.external_facts)
    return sorted(keys | set(plan.initial_state.facts))


def played_state(
    plan: StorylinePlan, session: Session, *, library: ActionLibrary | None = None
) -> PlayedState:
    """The storyline of ``plan`` as ``session`` has played it.

    Raises
    ------
    ValueError
        When the session has not begun the storyline.
    """
    if not session.flags.get(BEGUN_FLAG):
        raise ValueError(
            f"session {session.id!r} has not begun a storyline (no flags.{BEGUN_FLAG});"
            " start the plan's program first"
        )
    library = library or action_library()
    config = planning_config()
    facts = {}
    for key in _known_facts(plan, library):
        value = session.flags.get(fact_flag(key))
        if value is not None:
            facts[key] = value
    spectrums = [plan.primary_spectrum]
    if plan.secondary_spectrum is not None:
        spectrums.append(plan.secondary_spectrum)
    values = {s: config.snap(float(session.arcs.get(s.value, 0.0))) for s in spectrums}
    world = WorldState(
        facts=facts, narrative=NarrativeState(primary=plan.primary_spectrum, values=values)
    )
    done = tuple(e for e in plan.required_core_events if session.flags.get(core_flag(e)))
    return PlayedState(
        world=world,
        completed=int(session.quests.get(COMPLETED_QUEST) or 0),
        ticks=round(float(session.arcs.get(TICKS_ARC, 0))),
        core_events_done=done,
    )


class Unreached(Frozen):
    """A later target or core event the re-planned story does not reach, and why."""

    kind: Literal["target", "core_event"]
    name: str = Field(description="the phase's name or the core event's action id")
    phase: int | None = Field(description="the phase concerned (None: no phase fits it)")
    reason: str


class Replan(Frozen):
    """The rest of a story, re-planned from the played world (JSON round-trips exactly)."""

    plan: StorylinePlan
    replanned_from: str = Field(description="id of the plan that was being played")
    resumed_at: int = Field(description="the first re-planned phase")
    played: StateSnapshot
    ticks_done: int
    core_events_done: tuple[str, ...]
    unreached: tuple[Unreached, ...]
    arc_score: float = Field(
        description="the template arc's score of the whole story (0 with one candidate)"
    )
    elapsed_s: float = Field(default=0.0, exclude=True)

    @property
    def reaches_everything(self) -> bool:
        """Whether every later target and every core event is reached."""
        return not self.unreached

    def to_json(self) -> str:
        """Stable JSON: the same inputs always give the same bytes."""
        return self.model_dump_json(indent=2)


def _seed(plan: StorylinePlan, state: PlayedState, seed: int | None, candidate: int) -> int:
    text = f"{plan.id}|{state.key()}|{seed}|{candidate}"
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def arc_score(rest: StorylinePlan, played: Sequence[tuple[int, float]], ticks_done: int) -> float:
    """How well the story played so far plus ``rest`` fits the template's arc.

    ``played`` holds (position ticks, primary) points of the story so far; the whole is
    read on the grid of :data:`GRID_POINTS` story shares and scored by
    :func:`~storylab.theory.classify_arc` (the template arc's score: correlation less the
    warp prior).
    """
    share0 = rest.trajectory[0].story_share
    total = ticks_done / share0 if share0 > 0 else 1.0
    before = [(t, v) for t, v in played if t < ticks_done]
    x = [t / total for t, _ in before] + [p.story_share for p in rest.trajectory]
    y = [v for _, v in before] + [p.primary for p in rest.trajectory]
    grid = np.linspace(0.0, 1.0, GRID_POINTS)
    fit = classify_arc(np.interp(grid, x, y), grid)
    return round(next(m.score for m in fit.matches if m.arc == rest.template), 10)


def _why_missing(event: str, plan: StorylinePlan, library: ActionLibrary) -> Unreached:
    action = library.get(event)
    end = plan.projected_end_state.to_world()
    failing = [p for p in action.preconditions if not end.satisfies(p)]
    effects = [e for a in library.for_genre(plan.genre) for e in a.effects]
    stuck = [
        p for p in failing if not any(p.test(e.apply(end.facts)) for e in effects if e.key == p.key)
    ]
    phase = next((p.number for p in plan.phases if event in p.required_core_events), None)
    if stuck:
        shown = ", ".join(f"{p.key} {p.op} {p.value!r}" for p in stuck)
        reason = (
            f"needs {shown}, which the played world lacks and no action of the genre makes true"
        )
    elif phase is None:
        reason = "the phases where it belongs were already played without it"
    else:
        search = next(p.search for p in plan.phases if p.number == phase)
        reason = (
            f"the search for phase {phase} stopped ({search.stop_reason}) before fitting it"
            if search.stop_reason != "goal"
            else f"no plan of phase {phase} fits it before the phase's position ceiling"
        )
    return Unreached(kind="core_event", name=event, phase=phase, reason=reason)


def _unreached(plan: StorylinePlan, library: ActionLibrary) -> tuple[Unreached, ...]:
    out = []
    for phase in plan.phases:
        if phase.reached:
            continue
        end = phase.actions[-1].primary_value if phase.actions else None
        lo, hi = phase.target_state.primary_min, phase.target_state.primary_max
        ended = f"ends at {end:+.2f}" if end is not None else "has no action"
        reason = f"{ended}, target [{lo:+.2f}, {hi:+.2f}]: " + (
            phase.note or phase.transition_result.value
        )
        out.append(Unreached(kind="target", name=phase.name, phase=phase.number, reason=reason))
    out.extend(_why_missing(e, plan, library) for e in plan.missing_core_events)
    return tuple(out)


def replan(
    plan: StorylinePlan,
    session: Session,
    *,
    composer: StorylineComposer | None = None,
    seed: int | None = None,
    candidates: int = 1,
    played: Sequence[tuple[int, float]] | None = None,
) -> Replan:
    """Plan the rest of ``plan``'s story from the world ``session`` played.

    The phases after the last one played to its end are planned by the composer from the
    played facts, spectrum values, position and core events done (lazily, phase by phase).
    Deterministic: the same plan, session state and seed give the same bytes.

    Parameters
    ----------
    plan : StorylinePlan
        The plan being played (a whole story, or an earlier re-plan's rest).
    session : Session
        A session playing the plan's program (see :func:`~storylab.play.to_program`).
    composer : StorylineComposer, optional
        The composer (costs, library, templates) the plan was made with; a default one
        otherwise.
    seed : int, optional
        Mixed with the plan id and the played state into the composer's seed.
    candidates : int
        Compose the rest this many times (each with its own seed: the planner breaks ties
        differently) and keep the one whose whole story (``played`` and the rest) fits the
        template's arc best (:func:`arc_score`; the first on a tie).
    played : sequence of (int, float), optional
        The story so far as (position ticks, primary) points, for ``candidates``.

    Raises
    ------
    ValueError
        When the session has not begun the storyline, or has played it to the end.
    """
    started = time.perf_counter()
    composer = composer or StorylineComposer()
    library = composer.library or action_library()
    state = played_state(plan, session, library=library)
    last = max(p.number for p in plan.phases)
    if state.completed >= last:
        raise ValueError(f"the storyline has ended (phase {last} played); nothing to re-plan")
    resume = ResumeFrom(
        phase=state.completed + 1, ticks_done=state.ticks, core_events_done=state.core_events_done
    )
    if candidates < 1:
        raise ValueError(f"candidates: at least 1, got {candidates}")
    rests = [
        composer.compose(
            plan.template.value,
            plan.genre,
            subgenre=plan.subgenre,
            initial=state.world,
            actants=plan.actants,
            actions=plan.action_count.requested,
            urgency=plan.urgency,
            seed=_seed(plan, state, seed, j),
            resume=resume,
        )
        for j in range(candidates)
    ]
    scores = [arc_score(r, played or (), state.ticks) for r in rests] if candidates > 1 else [0.0]
    rest = rests[scores.index(max(scores))]
    return Replan(
        plan=rest,
        replanned_from=plan.id,
        resumed_at=resume.phase,
        played=StateSnapshot.from_world(state.world),
        ticks_done=state.ticks,
        core_events_done=state.core_events_done,
        unreached=_unreached(rest, library),
        arc_score=max(scores),
        elapsed_s=time.perf_counter() - started,
    )
