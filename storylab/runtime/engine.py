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

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from storylab._data import UnknownNameError
from storylab.runtime._bulk import collection_paused
from storylab.runtime.blocks import (
    BlockLibrary,
    Generation,
    GenerationProvider,
    GenerationRequest,
    OfflineProvider,
    default_block_library,
)
from storylab.runtime.calls import check_calls
from storylab.runtime.check import ProgramReport
from storylab.runtime.compiled import (
    CHOICE,
    SUB,
    CompiledProgram,
    compile_program,
)
from storylab.runtime.document import compile_document
from storylab.runtime.expressions import EvaluationError
from storylab.runtime.loop import StepLoop, evaluation_error
from storylab.runtime.persistence import MigrationReport, load_session, save_session
from storylab.runtime.program import NarrativeProgram
from storylab.runtime.results import (
    ChoiceOffer,
    HiddenChoice,
    NarrativeStepResult,
    Status,
    StepError,
)
from storylab.runtime.state import NarrativeStateComponent, Session
from storylab.runtime.working import (
    Handler,
    WorkingSet,
    kind_name,
    restore,
)

__all__ = ["NarrativeEngine"]


class NarrativeEngine(StepLoop):
    """Plays :class:`NarrativeProgram` s against :class:`Session` s.

    Parameters
    ----------
    programs : iterable of NarrativeProgram or mapping
        Programs to register, as models or as program data (see :meth:`add_program`).
    blocks : BlockLibrary, optional
        The action-block library (the packaged one by default).
    provider : GenerationProvider, optional
        Turns generation requests into content (:class:`OfflineProvider` by default).
    handlers : mapping of str to Handler, optional
        External-call handlers by name.
    max_nodes_per_step : int
        A step that runs more nodes than this without stopping fails (a loop with no choice).
    max_call_depth : int
        How many programs may be suspended under the active one (calls and interruptions);
        a call beyond it fails (a call that never returns).
    save_history : int
        How many of the latest history entries a save keeps (see :meth:`save`).
    save_visits : {"read", "all"}
        Which visit counts a save keeps: those the programs' expressions read (as ink
        does), or all of them (for a later version that may read more).
    """

    def __init__(
        self,
        programs: Iterable[NarrativeProgram | Mapping[str, Any]] = (),
        *,
        blocks: BlockLibrary | None = None,
        provider: GenerationProvider | None = None,
        handlers: Mapping[str, Handler] | None = None,
        max_nodes_per_step: int = 10_000,
        max_call_depth: int = 64,
        save_history: int = 32,
        save_visits: Literal["read", "all"] = "read",
    ):
        if save_history < 0 or max_call_depth < 1:
            raise ValueError("save_history is 0 or more and max_call_depth 1 or more")
        self.blocks = blocks if blocks is not None else default_block_library()
        self.provider: GenerationProvider = provider if provider is not None else OfflineProvider()
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.max_nodes_per_step = max_nodes_per_step
        self.max_call_depth, self.save_history = max_call_depth, save_history
        if save_visits not in ("read", "all"):
            raise ValueError(f"save_visits is 'read' or 'all', not {save_visits!r}")
        self.save_visits = save_visits
        self._programs: dict[str, CompiledProgram] = {}
        for program in programs:
            self.add_program(program)

    # -- registry -----------------------------------------------------------------------
    def add_program(
        self, program: NarrativeProgram | Mapping[str, Any], source: str | Path = "<program>"
    ) -> CompiledProgram:
        """Check, compile and register ``program`` (replacing an earlier version).

        ``program`` is a model, or program data as read from YAML or JSON (``source``
        labels its schema problems), which is validated and checked exactly as
        :func:`~storylab.runtime.program.parse_program` and
        :func:`~storylab.runtime.check.check_program` would, and compiled without building
        the models when it can be (:func:`~storylab.runtime.document.compile_document`).

        Raises
        ------
        DataError
            When the program has errors.
        UnknownNameError
            When it names an action block the library lacks.
        """
        with collection_paused():  # restored as the last thing before returning
            if isinstance(program, NarrativeProgram):
                compiled = compile_program(program)
            else:
                compiled = compile_document(program, source)
            for block in sorted(compiled.blocks):
                self.blocks.block(block)
            self._programs[compiled.id] = compiled
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
        self._require_callees(cp)
        comp = session.components.get(npc)
        created = comp is None
        if comp is None:
            comp = NarrativeStateComponent()
        elif comp.paused:
            raise StepError(f"{npc}'s narrative is paused; resume it first", "paused", npc=npc)
        else:
            self._require_registered(comp, npc)  # the programs it would resume
        run = WorkingSet(session, npc, comp, explain)
        saved: tuple = run.begin(session, npc, explain)  # type: ignore[assignment]
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
        comp = session.components.get(npc)
        if comp is None or comp.program is None or comp.paused:
            comp = self._active(session, npc)  # raises
        cp = self._programs.get(comp.program)  # type: ignore[arg-type]
        if cp is None:
            self._require_registered(comp, npc)  # raises
        run = comp.scratch
        at = run.at if run is not None else None  # where the last step stopped
        if at is not None and at[0] is cp and at[1].id is comp.node:
            node = at[1]  # unless the host moved the component since
        else:
            node = cp.nodes[comp.node]  # type: ignore[index]
        saved = run.begin(session, npc, explain) if run is not None else None
        if saved is None:
            run = comp.scratch = WorkingSet(session, npc, comp, explain)
            saved = run.begin(session, npc, explain)
        try:
            if comp.pending:
                if input is not None:
                    raise StepError(
                        f"node {node.id!r} has not been reached yet; step without input",
                        "not_waiting",
                        program=cp.id,
                        node=node.id,
                        input=input,
                    )
                status = self._run(run, cp, node, True, "moved")
            elif node.kind == CHOICE:
                status = self._choose(run, cp, node, input)
            elif input is not None:
                raise StepError(
                    f"node {node.id!r} ({kind_name(node)}) takes no input; got {input!r}",
                    "not_awaiting_choice",
                    program=cp.id,
                    node=node.id,
                    kind=kind_name(node),
                    input=input,
                )
            else:
                status = self._run(run, cp, node, False, "")
        except EvaluationError as exc:
            restore(session, comp, saved)
            run.tx.rollback()
            comp.scratch = None
            raise evaluation_error(comp.program or "", comp.node or "", exc) from None
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

    def finish(
        self, session: Session, npc: str, *, stack: bool = False, explain: bool = False
    ) -> NarrativeStepResult:
        """End the active program now, running no node; the suspended one below resumes
        where it stood (and is shown). With ``stack``, end every suspended program too.

        A program a call node started that is finished this way returns to its caller
        without running on: the next :meth:`step` goes on from the call node's edges.
        """
        comp = self._active(session, npc, allow_paused=True)
        self._require_registered(comp, npc)
        ended = (comp.program,) if comp.program else ()
        if stack:
            ended += tuple(frame[0] for frame in reversed(comp.stack))
            comp.stack.clear()
        comp.finish()
        comp.scratch = None
        result = self.current(session, npc, explain=explain)
        back = comp.program is not None and not comp.pending
        if back and self.compiled(comp.program).nodes[comp.node].kind == SUB:  # type: ignore[arg-type,index]
            return result._replace(finished=ended, returned=ended)
        return result._replace(finished=ended)

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
        try:
            return self._result(run, status, None, record=False)
        except EvaluationError as exc:  # a choice text that fails
            raise evaluation_error(comp.program or "", comp.node or "", exc) from None

    def choices(
        self, session: Session, npc: str
    ) -> tuple[tuple[ChoiceOffer, ...], tuple[HiddenChoice, ...]]:
        """The choices on offer for ``npc`` now, and those hidden (with the reason)."""
        comp = self._active(session, npc, allow_paused=True)
        node = self.compiled(comp.program).nodes[comp.node]  # type: ignore[arg-type,index]
        if node.kind != CHOICE:
            return (), ()
        run = WorkingSet(session, npc, comp, True)
        try:
            return self._offers(run, node)
        except EvaluationError as exc:
            raise evaluation_error(comp.program or "", comp.node or "", exc) from None

    def advance_time(self, session: Session, delta: float) -> None:
        """Move world time forward by ``delta`` (finite, not negative)."""
        if not 0 <= delta < math.inf:  # also refuses NaN
            raise ValueError(f"world time only moves forward by a finite amount; got {delta}")
        session.world_time += delta

    def launch_pending(self, session: Session) -> list[Generation]:
        """Send every pending generation request to the provider, in order; clear the queue."""
        done = [self.provider.generate(GenerationRequest.from_dict(p)) for p in session.pending]
        session.pending.clear()
        return done

    def save(self, session: Session, *, history: int | None = None) -> str:
        """The session as compact JSON: facts, positions, the stack, variables, once-only
        choices, the visit counts the programs read, and the latest ``history`` entries
        of each history (:attr:`save_history` by default), so a save stays small however
        long the playthrough (see :func:`~storylab.runtime.persistence.save_session`)."""
        keep = self.save_history if history is None else history
        counted = self._counted if self.save_visits == "read" else None
        return save_session(session, history=keep, counted=counted)

    def load(self, data: str | bytes | dict[str, Any]) -> tuple[Session, MigrationReport]:
        """A saved session, migrated to this engine's program versions, and the report."""
        return load_session(self, data)

    # -- internals --------------------------------------------------------------------------
    def _active(
        self, session: Session, npc: str, *, allow_paused: bool = False
    ) -> NarrativeStateComponent:
        comp = session.components.get(npc)
        if comp is None or comp.program is None:
            raise StepError(
                f"{npc} has no active program; start one first", "no_active_program", npc=npc
            )
        if comp.paused and not allow_paused:
            raise StepError(f"{npc}'s narrative is paused; resume it first", "paused", npc=npc)
        return comp

    def _require_registered(self, comp: NarrativeStateComponent, npc: str) -> None:
        """Refuse (``unknown_program``) a component whose active or suspended programs are
        not all registered with this engine: it could not play or resume them."""
        for program in (comp.program, *(frame[0] for frame in comp.stack)):
            if program is not None and program not in self._programs:
                raise StepError(
                    f"{npc} is inside program {program!r}, which is not registered; "
                    f"registered: {', '.join(self.program_ids)}",
                    "unknown_program",
                    npc=npc,
                    program=program,
                )

    def _require_callees(self, cp: CompiledProgram) -> None:
        """Refuse to start ``cp`` when it, or a program it calls (however deep), calls a
        program or a handler that is not registered."""
        seen, todo = {cp.id}, [cp]
        while todo:
            current = todo.pop()
            missing = sorted(current.handlers - self.handlers.keys())
            if missing:
                raise StepError(
                    f"program {current.id!r} calls unregistered handler(s): {missing}",
                    "unknown_handler",
                    program=current.id,
                    handlers=tuple(missing),
                )
            for callee in sorted(current.callees - seen):
                found = self._programs.get(callee)
                if found is None:
                    raise StepError(
                        f"program {current.id!r} calls program {callee!r}, which is not "
                        f"registered; registered: {', '.join(self.program_ids)}",
                        "unknown_program",
                        program=current.id,
                        callee=callee,
                    )
                seen.add(callee)
                todo.append(found)

    def _counted(self, program: str) -> tuple[str, ...] | None:
        """The nodes of ``program`` whose visit counts some expression reads (``None``
        when the engine does not know the program: keep all)."""
        cp = self._programs.get(program)
        return None if cp is None else cp.counted

    def check(self) -> ProgramReport:
        """Problems between the registered programs: calls of unknown programs, arguments
        the callee does not declare, and call cycles that can never end (see
        :func:`~storylab.runtime.calls.check_calls`)."""
        return check_calls([cp.source for cp in self._programs.values()])
