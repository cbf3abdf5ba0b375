"""The step engine: start programs, step them with player input, pause, resume, finish.

A step runs nodes until the narrative needs the player (a choice), the world (a wait),
or ends. Branch, comment, action, scene, action-block and external-call nodes run
through; dialogue lines are collected. Starting a program while one is active suspends
the active one; when the new one ends, the suspended one resumes where it stood.

Steps are atomic: every write goes through an undo log, and a step that fails (a choice
not on offer, input where none is taken, an unknown handler, an expression that fails)
raises :class:`StepError` with the session exactly as before.

>>> from storylab.runtime import NarrativeEngine, NarrativeProgram, Session
>>> prog = NarrativeProgram.model_validate({
...     "id": "hi", "entry": "a",
...     "nodes": [{"id": "a", "type": "dialogue", "speaker": "Mara", "text": "Hello."},
...               {"id": "b", "type": "choice", "choices": [{"id": "bye", "text": "Bye."}]}],
...     "edges": [{"from": "a", "to": "b"}]})
>>> engine, session = NarrativeEngine([prog]), Session()
>>> engine.start(session, "mara", "hi").choices
(ChoiceOffer(id='bye', text='Bye.'),)
>>> engine.step(session, "mara", "bye").status
'finished'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from hashlib import blake2b
from typing import Any

from storylab._data import UnknownNameError
from storylab.runtime.blocks import (
    BlockLibrary,
    Generation,
    GenerationProvider,
    GenerationRequest,
    OfflineProvider,
    default_block_library,
)
from storylab.runtime.compiled import (
    ACTION,
    BLOCK,
    CALL,
    CHOICE,
    DIALOGUE,
    SCENE,
    WAIT,
    CNode,
    CompiledProgram,
    compile_program,
)
from storylab.runtime.expressions import EvaluationError
from storylab.runtime.persistence import MigrationReport, load_session, save_session
from storylab.runtime.program import NarrativeProgram
from storylab.runtime.results import (
    ChoiceOffer,
    HiddenChoice,
    Line,
    NarrativeStepResult,
    SceneLaunch,
    StateSnapshot,
    Status,
    StepError,
)
from storylab.runtime.state import NarrativeStateComponent, Session
from storylab.runtime.working import (
    Handler,
    WorkingSet,
    dialogue_request,
    kind_name,
    restore,
    run_action_block,
    run_external_call,
    save_point,
)

__all__ = ["NarrativeEngine"]


class NarrativeEngine:
    """Plays :class:`NarrativeProgram` s against :class:`Session` s.

    Parameters
    ----------
    programs : iterable of NarrativeProgram
        Programs to register (see :meth:`add_program`).
    blocks : BlockLibrary, optional
        The action-block library (the packaged one by default).
    provider : GenerationProvider, optional
        Turns generation requests into content (:class:`OfflineProvider` by default).
    handlers : mapping of str to Handler, optional
        External-call handlers by name.
    max_nodes_per_step : int
        A step that runs more nodes than this without stopping fails (a loop with no choice).
    """

    def __init__(
        self,
        programs: Iterable[NarrativeProgram] = (),
        *,
        blocks: BlockLibrary | None = None,
        provider: GenerationProvider | None = None,
        handlers: Mapping[str, Handler] | None = None,
        max_nodes_per_step: int = 10_000,
    ):
        self.blocks = blocks if blocks is not None else default_block_library()
        self.provider: GenerationProvider = provider if provider is not None else OfflineProvider()
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.max_nodes_per_step = max_nodes_per_step
        self._programs: dict[str, CompiledProgram] = {}
        for program in programs:
            self.add_program(program)

    # -- registry -----------------------------------------------------------------------
    def add_program(self, program: NarrativeProgram) -> CompiledProgram:
        """Check, compile and register ``program`` (replacing an earlier version).

        Raises
        ------
        DataError
            When the program has errors.
        UnknownNameError
            When it names an action block the library lacks.
        """
        compiled = compile_program(program)
        for block in sorted(compiled.blocks):
            self.blocks.block(block)
        self._programs[program.id] = compiled
        return compiled

    def program(self, program_id: str) -> NarrativeProgram:
        """The registered program with ``program_id``."""
        return self.compiled(program_id).source

    def compiled(self, program_id: str) -> CompiledProgram:
        """The compiled form of a registered program."""
        try:
            return self._programs[program_id]
        except KeyError:
            raise UnknownNameError("program", program_id, self._programs) from None

    @property
    def program_ids(self) -> tuple[str, ...]:
        """Registered program ids, sorted."""
        return tuple(sorted(self._programs))

    def register_handler(self, name: str, handler: Handler) -> None:
        """Make ``handler`` answer external-call nodes naming ``name``."""
        self.handlers[name] = handler

    # -- API ------------------------------------------------------------------------------
    def start(
        self,
        session: Session,
        npc: str,
        program: str | NarrativeProgram,
        entry: str | None = None,
        *,
        explain: bool = False,
    ) -> NarrativeStepResult:
        """Start ``program`` for ``npc`` at ``entry`` (its entry node by default) and run it.

        ``program`` is a registered id, or a program (registered first unless it already
        is). An active program is suspended and resumes when this one ends. ``explain``
        lists the choices not on offer, with the reason.
        """
        if isinstance(program, NarrativeProgram):
            known = self._programs.get(program.id)
            same = known is not None and (known.source is program or known.source == program)
            cp = known if same else None
            program = (cp or self.add_program(program)).id
        cp = self.compiled(program)
        node = cp.entry if entry is None else entry
        if node not in cp.nodes:
            raise UnknownNameError(f"node of program {program!r}", node, cp.nodes)
        missing = sorted(cp.handlers - self.handlers.keys())
        if missing:
            raise StepError(f"program {program!r} calls unregistered handler(s): {missing}")
        comp = session.components.get(npc)
        created = comp is None
        if comp is None:
            comp = NarrativeStateComponent()
        elif comp.paused:
            raise StepError(f"{npc}'s narrative is paused; resume it first")
        saved = save_point(session, comp)
        run = WorkingSet(session, npc, comp, explain)
        try:
            if comp.program is not None and comp.node is not None:
                comp.stack.append((comp.program, comp.node, comp.pending, comp.wait_until))
            comp.program, comp.node, comp.pending, comp.wait_until = program, node, True, None
            run.bind(program)
            for name, value in cp.defaults.items():
                if name not in run.env.variables:
                    run.tx.set(run.env.variables, name, value)
            run.tx.set(comp.versions, program, cp.version)
            status = self._run(run, cp, cp.nodes[node], True, "start")
        except BaseException:
            restore(session, comp, saved)
            run.tx.rollback()
            raise
        if created:
            session.components[npc] = comp
        return self._result(run, status, None)

    def step(
        self, session: Session, npc: str, input: str | None = None, *, explain: bool = False
    ) -> NarrativeStepResult:
        """Play one step: ``input`` is a choice id at a choice, ``None`` elsewhere."""
        comp = self._active(session, npc)
        cp = self._programs[comp.program]  # type: ignore[index]
        node = cp.nodes[comp.node]  # type: ignore[index]
        saved = save_point(session, comp)
        run = comp.scratch
        if run is not None and run.current(session, npc):
            run.reset(explain)
        else:
            run = comp.scratch = WorkingSet(session, npc, comp, explain)
        try:
            if comp.pending:
                if input is not None:
                    raise StepError(
                        f"node {node.id!r} has not been reached yet; step without input"
                    )
                status = self._run(run, cp, node, True, "moved")
            elif node.kind == CHOICE:
                status = self._choose(run, cp, node, input)
            elif input is not None:
                raise StepError(
                    f"node {node.id!r} ({kind_name(node)}) takes no input; got {input!r}"
                )
            else:
                status = self._run(run, cp, node, False, "")
        except EvaluationError as exc:
            restore(session, comp, saved)
            run.tx.rollback()
            comp.scratch = None
            raise StepError(f"at {comp.program}/{comp.node}: {exc}") from None
        except BaseException:
            restore(session, comp, saved)
            run.tx.rollback()
            comp.scratch = None
            raise
        return self._result(run, status, input)

    def pause(self, session: Session, npc: str) -> None:
        """Refuse steps for ``npc`` until :meth:`resume`."""
        self._active(session, npc, allow_paused=True).paused = True

    def resume(self, session: Session, npc: str, *, explain: bool = False) -> NarrativeStepResult:
        """Accept steps again; return what is on offer now (the transcript is unchanged)."""
        comp = self._active(session, npc, allow_paused=True)
        comp.paused = False
        return self.current(session, npc, explain=explain)

    def finish(self, session: Session, npc: str, *, explain: bool = False) -> NarrativeStepResult:
        """End the active program now; a suspended one resumes (and is shown)."""
        comp = self._active(session, npc, allow_paused=True)
        ended = comp.program
        comp.finish()
        result = self.current(session, npc, explain=explain)
        return _with_finished(result, (ended,) if ended else ())

    def current(self, session: Session, npc: str, *, explain: bool = False) -> NarrativeStepResult:
        """What stands now for ``npc`` (choices on offer, waiting, finished), without a step."""
        comp = session.component(npc) if npc in session.components else NarrativeStateComponent()
        run = WorkingSet(session, npc, comp, explain)
        if comp.program is None:
            status: Status = "finished"
        elif comp.paused:
            status = "paused"
        else:
            node = self.compiled(comp.program).nodes[comp.node]  # type: ignore[index]
            status = "choice" if node.kind == CHOICE and not comp.pending else "waiting"
        return self._result(run, status, None, record=False)

    def choices(
        self, session: Session, npc: str
    ) -> tuple[tuple[ChoiceOffer, ...], tuple[HiddenChoice, ...]]:
        """The choices on offer for ``npc`` now, and those hidden (with the reason)."""
        comp = self._active(session, npc, allow_paused=True)
        node = self.compiled(comp.program).nodes[comp.node]  # type: ignore[arg-type,index]
        if node.kind != CHOICE:
            return (), ()
        run = WorkingSet(session, npc, comp, True)
        offers, hidden = self._offers(run, node)
        return offers, hidden

    def advance_time(self, session: Session, delta: float) -> None:
        """Move world time forward by ``delta`` (not negative)."""
        if delta < 0:
            raise ValueError(f"world time only moves forward; got {delta}")
        session.world_time += delta

    def launch_pending(self, session: Session) -> list[Generation]:
        """Send every pending generation request to the provider, in order; clear the queue."""
        done = [self.provider.generate(GenerationRequest.from_dict(p)) for p in session.pending]
        session.pending.clear()
        return done

    def save(self, session: Session) -> str:
        """The whole session as JSON (see :func:`~storylab.runtime.persistence.save_session`)."""
        return save_session(session)

    def load(self, data: str | dict[str, Any]) -> tuple[Session, MigrationReport]:
        """A saved session, migrated to this engine's program versions, and the report."""
        return load_session(self, data)

    # -- internals --------------------------------------------------------------------------
    def _active(
        self, session: Session, npc: str, *, allow_paused: bool = False
    ) -> NarrativeStateComponent:
        comp = session.components.get(npc)
        if comp is None or comp.program is None:
            raise StepError(f"{npc} has no active program; start one first")
        if comp.paused and not allow_paused:
            raise StepError(f"{npc}'s narrative is paused; resume it first")
        return comp

    def _offers(
        self, run: WorkingSet, node: CNode
    ) -> tuple[tuple[ChoiceOffer, ...], tuple[HiddenChoice, ...]]:
        env, taken = run.env, run.comp.taken[run.comp.program]  # type: ignore[index]
        if not run.explain:  # the fast path: no reasons, prebuilt offers for static texts
            fast = []
            for c in node.choices:
                if (c.cond is None or c.cond(env)) and not (c.once_only and c.key in taken):
                    fast.append(c.offer or ChoiceOffer(c.id, c.text.render(env)))
            return tuple(fast), ()
        offers, hidden = [], []
        for choice in node.choices:
            reason = None
            if choice.once_only and choice.key in taken:
                reason = "once-only, already taken"
            elif choice.cond is not None and not choice.cond(env):
                failed = next(e for e in choice.exprs if not e.evaluate(env))
                reason = f"condition false: {failed.source}"
            if reason is None:
                offers.append(ChoiceOffer(choice.id, choice.text.render(env)))
            else:
                hidden.append(HiddenChoice(choice.id, choice.text.render(env), reason))
        return tuple(offers), tuple(hidden)

    def _choose(
        self, run: WorkingSet, cp: CompiledProgram, node: CNode, input: str | None
    ) -> Status:
        if input is None:
            raise StepError(f"node {node.id!r} waits for a choice; pass its id as input")
        choice = node.choice_index.get(input)
        if (
            choice is None
            or (choice.once_only and choice.key in run.comp.taken[cp.id])
            or (choice.cond is not None and not choice.cond(run.env))
        ):
            offers, _ = self._offers(run, node)
            on_offer = ", ".join(o.id for o in offers) or "none"
            raise StepError(
                f"choice {input!r} is not on offer at {node.id!r}; on offer: {on_offer}"
            )
        env, tx = run.env, run.tx
        if choice.effects is not None:
            choice.effects.apply(tx, env)
        if choice.once_only:
            tx.set(run.comp.taken[cp.id], choice.key, True)
        if node.on_exit is not None:
            node.on_exit.apply(tx, env)
        target, via = (choice.to, choice.via) if choice.to is not None else self._route(run, node)
        if target is None:
            return self._end(run)
        return self._run(run, cp, cp.nodes[target], True, via)

    def _route(self, run: WorkingSet, node: CNode) -> tuple[str | None, str]:
        env = run.env
        for cond, effects, target, via in node.edges:
            if cond is None or cond(env):
                if effects is not None:
                    effects.apply(run.tx, env)
                return target, via
        if node.edges:
            raise StepError(f"no edge out of {node.id!r} has a condition that holds")
        return None, ""

    def _end(self, run: WorkingSet) -> Status:
        comp = run.comp
        run.finished += (comp.program,)  # type: ignore[operator]
        if not comp.stack:
            comp.program = comp.node = comp.wait_until = None
            comp.pending = False
            return "finished"
        comp.program, comp.node, pending, comp.wait_until = comp.stack.pop()
        run.bind(comp.program)
        cp = self.compiled(comp.program)
        return self._run(run, cp, cp.nodes[comp.node], pending, "resume")

    def _run(
        self, run: WorkingSet, cp: CompiledProgram, node: CNode, entering: bool, via: str
    ) -> Status:
        comp, env, tx, session = run.comp, run.env, run.tx, run.session
        remember = comp.history._tail.append  # History.append, without the method call
        budget = self.max_nodes_per_step
        try:
            while True:
                budget -= 1
                if budget < 0:
                    raise StepError(
                        f"ran {self.max_nodes_per_step} nodes without stopping at {node.id!r}; "
                        "a loop with no choice or wait?"
                    )
                kind = node.kind
                if entering:
                    visits = env.visits  # undone from the history on failure, not the log
                    visits[node.id] = visits.get(node.id, 0) + 1
                    remember((cp.id, node.id, env.world_time, via))
                    comp.node, comp.pending = node.id, False
                    if node.on_enter is not None:
                        node.on_enter.apply(tx, env)
                    if kind == WAIT and node.duration is not None:
                        comp.wait_until = env.world_time + node.duration
                if kind == CHOICE:
                    offers, hidden = self._offers(run, node)
                    if offers:
                        run.offers, run.hidden = offers, hidden
                        return "choice"
                    if node.fallback is None:
                        raise StepError(
                            f"no choice is on offer at {node.id!r} and it has no fallback"
                        )
                    if node.on_exit is not None:
                        node.on_exit.apply(tx, env)
                    node, entering, via = cp.nodes[node.fallback], True, "fallback"
                    continue
                if kind == DIALOGUE:
                    line = node.line
                    if line is None:
                        line = Line(node.speaker, node.text.render(env), node.id)
                    run.lines.append(line)
                    text = line.text
                    if node.gen_program is not None:
                        request = dialogue_request(self.blocks, run, node.gen_program, text)
                        run.gens += (self.provider.generate(request),)
                elif kind == ACTION:
                    if node.effects is not None:
                        node.effects.apply(tx, env)
                    if node.delay:
                        env.world_time = session.world_time = session.world_time + node.delay
                elif kind == WAIT:
                    if comp.wait_until is not None and env.world_time < comp.wait_until:
                        return "waiting"
                    if node.condition is not None and not node.condition.evaluate(env):
                        return "waiting"
                    comp.wait_until = None
                elif kind == BLOCK:
                    run_action_block(self.blocks, self.provider, run, node)
                elif kind == SCENE:
                    scene_id, intent, roles = node.scene
                    run.scenes += (SceneLaunch(scene_id, intent, dict(roles), node.id),)
                elif kind == CALL:
                    run_external_call(self.handlers, run, cp, node)
                if node.on_exit is not None:
                    node.on_exit.apply(tx, env)
                if node.next is not None:  # a single plain edge: no routing to do
                    node, via, entering = node.next, node.next_via, True
                else:
                    target, via = self._route(run, node)
                    if target is None:
                        return self._end(run)
                    node, entering = cp.nodes[target], True
        except EvaluationError as exc:
            raise StepError(f"at {cp.id}/{node.id}: {exc}") from None

    def _result(
        self, run: WorkingSet, status: Status, input: str | None, *, record: bool = True
    ) -> NarrativeStepResult:
        comp = run.comp
        offers: tuple[ChoiceOffer, ...] = ()
        hidden: tuple[HiddenChoice, ...] = ()
        if status == "choice" and run.offers is not None:
            offers, hidden = run.offers, run.hidden
        elif status == "choice":
            node = self._programs[comp.program].nodes[comp.node]  # type: ignore[index]
            offers, hidden = self._offers(run, node)
        if comp.paused:
            status = "paused"
        if record:
            parts = [comp.transcript_hash, status, comp.program or "", comp.node or "", input or ""]
            for x in run.lines:
                parts += (x.speaker or "", x.text)
            for c in offers:
                parts += c
            if run.gens:
                parts += [g.id for g in run.gens]
            if run.scenes:
                parts += [f"{s.scene_id}\x1e{s.intent}" for s in run.scenes]
            digest = blake2b("\x1f".join(parts).encode(), digest_size=16)  # = chain_hash
            comp.transcript_hash = digest.hexdigest()
        program = comp.program
        snapshot = _new(  # tuple.__new__ skips the named tuples' Python-level constructors
            StateSnapshot,
            (
                program,
                comp.node,
                tuple([(f[0], f[1]) for f in comp.stack]) if comp.stack else (),
                dict(run.env.variables) if program else {},
                comp.paused,
                comp.history._saved_len + len(comp.history._tail),
                run.session.world_time,
            ),
        )
        return _new(
            NarrativeStepResult,
            (
                status,
                program,
                comp.node,
                input,
                tuple(run.lines),
                offers,
                hidden,
                run.scenes,
                run.gens,
                run.finished,
                comp.transcript_hash,
                snapshot,
            ),
        )


_new = tuple.__new__


def _with_finished(result: NarrativeStepResult, finished: tuple[str, ...]) -> NarrativeStepResult:
    return result._replace(finished=finished)
