"""Playing a plan on the runtime engine, re-planning from what the player did.

:class:`StoryPlayer` is the host loop: it starts the plan's program, makes each phase's
intents when the phase is reached (from the world just before it, seed 003's "re-evaluate
the world before each phase") and dispatches them when given a store or a provider, and,
with ``replanning``, re-plans the rest of the story wherever a deviation stops
(``phase<n>.resume``) and goes on with the new plan's program. :meth:`StoryPlayer.playthrough`
reads what was played back from the session's history.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from pydantic import Field

from storylab._data import Frozen
from storylab.play.intents import Dispatched, IntentSink, PhaseIntent, dispatch, phase_intents
from storylab.play.program import (
    BEGUN_FLAG,
    TICKS_ARC,
    phase_of_node,
    resume_node,
    to_program,
)
from storylab.play.replan import Replan, played_state, replan
from storylab.runtime import (
    ActionNode,
    GenerationProvider,
    NarrativeEngine,
    NarrativeProgram,
    NarrativeStepResult,
    Session,
)
from storylab.storyteller import StorylineComposer, StorylinePlan
from storylab.theory import ActantRole, WorldState

__all__ = ["Playthrough", "StoryPlayer"]


class Playthrough(Frozen):
    """One storyline as played: the choices, the actions and the primary spectrum."""

    plan_id: str
    replanning: bool
    choices: tuple[str, ...]
    actions: tuple[str, ...] = Field(description="action ids played, in order")
    ticks: tuple[int, ...] = Field(description="position ticks at the start and after each")
    primary: tuple[float, ...] = Field(description="primary spectrum at the start and after each")
    replans: int
    unreached: tuple[str, ...] = Field(description="targets and events the last replan missed")
    finished: bool

    @property
    def deviations(self) -> int:
        """How many deviations the player took."""
        return sum(c.startswith("deviate.") for c in self.choices)

    @property
    def story_share(self) -> tuple[float, ...]:
        """Share of the played story done at each point."""
        total = max(self.ticks[-1], 1)
        return tuple(round(t / total, 10) for t in self.ticks)


def _arcs(program: NarrativeProgram, primary: str) -> dict[str, tuple[str, float, int]]:
    """Action node id -> (label, primary change, ticks) for every action node of ``program``."""
    out = {}
    for node in program.nodes:
        if isinstance(node, ActionNode) and TICKS_ARC in node.effects.arcs:
            arcs = node.effects.arcs
            out[node.id] = (node.label or "", arcs.get(primary, 0.0), int(arcs[TICKS_ARC]))
    return out


class StoryPlayer:
    """Play ``plan`` for ``npc`` in a fresh session.

    Parameters
    ----------
    plan : StorylinePlan
    cast : mapping, optional
        Actant role -> character id (see :func:`~storylab.play.to_program`).
    npc : str
        The NPC the program runs for.
    replanning : bool
        Re-plan the rest of the story after each deviation.
    composer : StorylineComposer, optional
        The composer of the plan: re-plans use it (its costs and library), and the
        programs, intents and played states read its library.
    seed : int, optional
        Mixed into each re-plan's seed.
    candidates : int
        Candidate rests per re-plan (see :func:`~storylab.play.replan`).
    store, provider : optional
        Where phase intents go (see :func:`~storylab.play.dispatch`); with neither, they
        are made and kept on ``intents`` but not sent.
    engine : NarrativeEngine, optional
        An engine to share between players (programs are registered once).
    cache : mutable mapping, optional
        Re-plans by (plan id, played state); players sharing one skip repeated re-plans
        (re-planning is deterministic, so the story is the same).
    """

    def __init__(
        self,
        plan: StorylinePlan,
        *,
        cast: Mapping[ActantRole | str, str] | None = None,
        npc: str = "npc",
        replanning: bool = True,
        composer: StorylineComposer | None = None,
        seed: int | None = None,
        candidates: int = 1,
        store: IntentSink | None = None,
        provider: GenerationProvider | None = None,
        engine: NarrativeEngine | None = None,
        cache: MutableMapping[tuple[str, str], tuple[Replan, NarrativeProgram]] | None = None,
    ):
        self.plan = self.current = plan
        self.cast, self.npc, self.replanning = cast, npc, replanning
        self.composer, self.seed, self.candidates = composer, seed, candidates
        self.library = composer.library if composer is not None else None  # None: packaged
        self.store, self.provider = store, provider
        self.engine = engine if engine is not None else NarrativeEngine()
        self.cache = cache if cache is not None else {}
        self.session = Session(f"play-{plan.id}")
        self.choices: list[str] = []
        self.replans: list[Replan] = []
        self.replan_seconds: list[float] = []
        self.intents: list[PhaseIntent] = []
        self.dispatched: list[Dispatched] = []
        self._programs: dict[str, NarrativeProgram] = {}
        self.program = self._register(to_program(plan, cast, library=self.library))

    def _register(self, program: NarrativeProgram) -> NarrativeProgram:
        if program.id not in self.engine.program_ids:
            self.engine.add_program(program)
        self._programs[program.id] = program
        return program

    def _world_now(self) -> WorldState:
        if not self.session.flags.get(BEGUN_FLAG):
            return self.current.initial_state.to_world()
        return played_state(self.current, self.session, library=self.library).world

    def start(self) -> NarrativeStepResult:
        """Start the story; play to the first choice."""
        before = self._world_now()
        result = self.engine.start(self.session, self.npc, self.program.id)
        return self._after(result, before)

    def step(self, choice: str) -> NarrativeStepResult:
        """Take ``choice`` (an offered choice id); play to the next choice or the end."""
        before = self._world_now()
        result = self.engine.step(self.session, self.npc, choice)
        self.choices.append(choice)
        return self._after(result, before)

    def _after(self, result: NarrativeStepResult, before: WorldState) -> NarrativeStepResult:
        for scene in result.scenes:
            phase = phase_of_node(scene.node)
            if phase is not None:
                made = phase_intents(self.current, phase, before, self.cast, library=self.library)
                self.intents.extend(made)
                if self.store is not None or self.provider is not None:
                    self.dispatched.extend(
                        dispatch(
                            made,
                            store=self.store,
                            provider=self.provider,
                            scenario=f"storyline-{self.plan.id}",
                            session_id=self.session.id,
                            npc=self.npc,
                        )
                    )
        at = _resumed_after(result)
        if not self.replanning or at is None:
            return result
        state = played_state(self.current, self.session, library=self.library)
        key = (self.current.id, state.key())
        if key not in self.cache:
            new = replan(
                self.current,
                self.session,
                composer=self.composer,
                seed=self.seed,
                candidates=self.candidates,
                played=self._points() if self.candidates > 1 else None,
            )
            self.replan_seconds.append(new.elapsed_s)
            self.cache[key] = (new, to_program(new.plan, self.cast, library=self.library))
        new, program = self.cache[key]
        self.replans.append(new)
        self.current = new.plan
        self.program = self._register(program)
        self.engine.finish(self.session, self.npc)
        result = self.engine.start(self.session, self.npc, program.id)
        return self._after(result, state.world)

    def _points(self) -> list[tuple[int, float]]:
        pt = self.playthrough()
        return list(zip(pt.ticks, pt.primary, strict=True))

    def playthrough(self) -> Playthrough:
        """What was played so far, read from the session's history."""
        primary = self.plan.primary_spectrum.value
        tables = {pid: _arcs(p, primary) for pid, p in self._programs.items()}
        value, ticks = 0.0, 0
        points_t: list[int] = []
        points_v: list[float] = []
        actions: list[str] = []
        for program, node, *_ in self.session.component(self.npc).history:
            entry = tables.get(program, {}).get(node)
            if entry is None:
                continue
            label, change, step = entry
            value, ticks = value + change, ticks + step
            if label != "setup":
                actions.append(label)
            points_t.append(ticks)
            points_v.append(round(min(1.0, max(-1.0, value)), 10))
        comp = self.session.component(self.npc)
        return Playthrough(
            plan_id=self.plan.id,
            replanning=self.replanning,
            choices=tuple(self.choices),
            actions=tuple(actions),
            ticks=tuple(points_t),
            primary=tuple(points_v),
            replans=len(self.replans),
            unreached=tuple(
                f"{u.kind} {u.name}: {u.reason}"
                for u in (self.replans[-1].unreached if self.replans else ())
            ),
            finished=comp.program is None,
        )


def _resumed_after(result: NarrativeStepResult) -> int | None:
    """The phase a deviation followed, when ``result`` stopped where it may be re-planned."""
    node = result.node or ""
    if result.status != "choice" or not node.endswith(".resume"):
        return None
    phase = phase_of_node(node.removesuffix(".resume"))
    return phase if phase is not None and node == resume_node(phase) else None
