"""The step loop: running nodes until the narrative needs the player, the world, or ends.

:class:`StepLoop` holds what :class:`~storylab.runtime.engine.NarrativeEngine` does inside
a step: take a choice, run nodes one after another (dialogue, action, branch, wait, and
the kinds that talk to the host through :mod:`storylab.runtime.working`), work out the
offers, and build the step's result with its transcript hash. Every write goes through
the working set's undo log (``run.tx``); the engine rolls it back when a step fails.

This is the inner loop of every step, so it reads compiled nodes (never the pydantic
models), keeps what it touches in local variables, and sets the component's position
only where a step stops or hands control to the host.
"""

from __future__ import annotations

from hashlib import blake2b
from itertools import chain
from typing import TYPE_CHECKING

from storylab.runtime.compiled import (
    ACTION,
    BLOCK,
    BRANCH,
    CALL,
    CHOICE,
    DIALOGUE,
    SCENE,
    SUB,
    WAIT,
    CNode,
    CompiledProgram,
)
from storylab.runtime.effects import check_scalar
from storylab.runtime.expressions import EvaluationError
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
from storylab.runtime.working import (
    WorkingSet,
    dialogue_request,
    run_action_block,
    run_external_call,
)

if TYPE_CHECKING:
    from storylab.runtime.blocks import BlockLibrary, GenerationProvider
    from storylab.runtime.working import Handler

__all__ = ["StepLoop", "evaluation_error"]

_new = tuple.__new__  # skips the named tuples' Python-level constructors
_flat = chain.from_iterable


class StepLoop:
    """The inside of a step; :class:`~storylab.runtime.engine.NarrativeEngine` is one.

    It reads the engine's action-block library, generation provider, external handlers,
    node budget and compiled programs.
    """

    blocks: BlockLibrary
    provider: GenerationProvider
    handlers: dict[str, Handler]
    max_nodes_per_step: int
    max_call_depth: int
    _programs: dict[str, CompiledProgram]

    def _offers(
        self, run: WorkingSet, node: CNode
    ) -> tuple[tuple[ChoiceOffer, ...], tuple[HiddenChoice, ...]]:
        """The choices of ``node`` on offer now and, when explaining, those hidden."""
        env, taken = run.env, run.comp.taken[run.comp.program]  # type: ignore[index]
        if not run.explain:
            return _on_offer(node, env, taken), ()
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
            offers, _ = self._offers(run, node)
            raise StepError(
                f"node {node.id!r} waits for a choice; pass its id as input",
                "choice_required",
                program=cp.id,
                node=node.id,
                choices=tuple(o.id for o in offers),
            )
        choice = node.choice_index.get(input)
        env = run.env
        if (
            choice is None
            or (choice.once_only and choice.key in run.comp.taken[cp.id])
            or (choice.cond is not None and not choice.cond(env))
        ):
            offers, _ = self._offers(run, node)
            ids = tuple(o.id for o in offers)
            raise StepError(
                f"choice {input!r} is not on offer at {node.id!r}; on offer: "
                f"{', '.join(ids) or 'none'}",
                "invalid_choice",
                program=cp.id,
                node=node.id,
                choice=input,
                choices=ids,
            )
        log = run.tx.log
        if choice.effects is not None:
            choice.effects.apply(log, env)
        if choice.once_only:
            run.tx.set(run.comp.taken[cp.id], choice.key, True)
        if node.on_exit is not None:
            node.on_exit.apply(log, env)
        if choice.target is not None:
            return self._run(run, cp, choice.target, True, choice.via)
        target, via = self._route(run, node)
        if target is None:
            return self._resume(run)
        return self._run(run, cp, target, True, via)

    def _route(self, run: WorkingSet, node: CNode) -> tuple[CNode | None, str]:
        """The first edge out of ``node`` whose condition holds (its effects applied)."""
        if node.next is not None:  # one plain edge
            return node.next, node.next_via  # type: ignore[return-value]
        env = run.env
        for cond, effects, target, via in node.edges:
            if cond is None or cond(env):
                if effects is not None:
                    effects.apply(run.tx.log, env)
                return target, via
        if node.edges:
            raise StepError(
                f"no edge out of {node.id!r} has a condition that holds",
                "no_edge",
                program=run.comp.program,
                node=node.id,
            )
        return None, ""

    def _resume(self, run: WorkingSet) -> Status:
        """The active program ended: resume the suspended one (and run on), or finish."""
        resumed = self._end(run)
        if resumed is None:
            return "finished"
        cp, node, pending = resumed
        return self._run(run, cp, node, pending, "resume")

    def _end(self, run: WorkingSet) -> tuple[CompiledProgram, CNode, bool] | None:
        """The active program ended: pop the suspended one and say where it goes on (its
        program, node, and whether the node is still to be entered), or ``None`` when none
        is left. A call node resumed not pending goes on after the call."""
        comp = run.comp
        ended = comp.program
        run.finished += (ended,)  # type: ignore[operator]
        if not comp.stack:
            comp.program = comp.node = comp.wait_until = None
            comp.pending = False
            return None
        cp = self._programs.get(comp.stack[-1][0])
        if cp is None:  # a session from another engine (the step is undone)
            raise StepError(
                f"program {comp.stack[-1][0]!r} cannot resume: it is not registered",
                "unknown_program",
                npc=run.npc,
                program=comp.stack[-1][0],
            )
        comp.program, comp.node, pending, comp.wait_until = comp.stack.pop()
        run.bind(comp.program)
        node = cp.nodes[comp.node]
        if node.kind == SUB and not pending:
            run.returned += (ended,)  # type: ignore[operator]
        return cp, node, pending

    def _call(self, run: WorkingSet, cp: CompiledProgram, node: CNode) -> CompiledProgram:
        """Enter call node ``node``: evaluate its arguments here, suspend this program at
        the node, make the callee active with the arguments set; the callee's program."""
        comp, env = run.comp, run.env
        callee = self._programs.get(node.callee)
        if callee is None:
            raise StepError(
                f"node {node.id!r} calls program {node.callee!r}, which is not registered",
                "unknown_program",
                program=cp.id,
                node=node.id,
                callee=node.callee,
            )
        if len(comp.stack) >= self.max_call_depth:
            raise StepError(
                f"calls nested deeper than {self.max_call_depth} at {node.id!r}; "
                "a call that never returns?",
                "call_depth",
                program=cp.id,
                node=node.id,
                depth=len(comp.stack),
            )
        args = [(name, check_scalar(fn(env), f"var.{name}")) for name, fn in node.args]
        comp.stack.append((cp.id, node.id, False, comp.wait_until))
        comp.program, comp.node, comp.pending, comp.wait_until = callee.id, callee.entry, True, None
        run.bind(callee.id)
        tx, variables = run.tx, env.variables
        for name, value in callee.defaults.items():
            if name not in variables:
                tx.set(variables, name, value)
        for name, value in args:
            tx.set(variables, name, value)
        tx.set(comp.versions, callee.id, callee.version)
        run.called += (callee.id,)  # type: ignore[operator]
        return callee

    def _run(
        self, run: WorkingSet, cp: CompiledProgram, node: CNode, entering: bool, via: str
    ) -> Status:
        """Run from ``node`` (entering it first when ``entering``) to the next stop; calls
        and returns switch programs inside this loop (no recursion, however many)."""
        comp, env, log, session = run.comp, run.env, run.tx.log, run.session
        remember = comp.history._flat.extend  # History.append, without the method call
        say = run.lines.append
        budget = self.max_nodes_per_step
        try:
            while True:  # once per program switch (a call or a return)
                visits, program, nodes = env.visits, cp.id, cp.nodes
                while True:
                    budget -= 1
                    if budget < 0:
                        raise StepError(
                            f"ran {self.max_nodes_per_step} nodes without stopping at "
                            f"{node.id!r}; a loop with no choice or wait?",
                            "step_budget",
                            program=program,
                            node=node.id,
                            budget=self.max_nodes_per_step,
                        )
                    kind = node.kind
                    if entering:
                        nid = node.id  # visit counts are undone from the history, not the log
                        visits[nid] = visits.get(nid, 0) + 1
                        remember((program, nid, env.world_time, via))
                        if node.on_enter is not None:
                            node.on_enter.apply(log, env)
                        if kind == WAIT and node.duration is not None:
                            comp.wait_until = env.world_time + node.duration
                    if kind == CHOICE:
                        if run.explain:
                            offers, hidden = self._offers(run, node)
                        else:
                            offers, hidden = node.fixed, ()
                            if offers is None:
                                taken = comp.taken[program] if node.once else None
                                offers = _on_offer(node, env, taken)
                        if offers:
                            run.offers, run.hidden = offers, hidden
                            comp.node, comp.pending, run.at = node.id, False, (cp, node)
                            return "choice"
                        if node.fallback is None:
                            raise StepError(
                                f"no choice is on offer at {node.id!r} and it has no fallback",
                                "no_choice_on_offer",
                                program=program,
                                node=node.id,
                            )
                        if node.on_exit is not None:
                            node.on_exit.apply(log, env)
                        node, entering, via = nodes[node.fallback], True, "fallback"
                        continue
                    if kind == DIALOGUE:
                        line = node.line
                        if line is None:
                            line = Line(node.speaker, node.text.render(env), node.id)
                        say(line)
                        if node.gen_program is not None:
                            comp.node, comp.pending = node.id, False
                            request = dialogue_request(
                                self.blocks, run, node.gen_program, line.text
                            )
                            run.gens += (self.provider.generate(request),)
                    elif kind == ACTION:
                        if node.effects is not None:
                            node.effects.apply(log, env)
                        if node.delay:
                            env.world_time = session.world_time = session.world_time + node.delay
                    elif kind == BRANCH:
                        pass  # routes by its edges below (checked early: branches are common)
                    elif kind == WAIT:
                        if (comp.wait_until is not None and env.world_time < comp.wait_until) or (
                            node.condition is not None and not node.condition.evaluate(env)
                        ):
                            comp.node, comp.pending = node.id, False
                            return "waiting"
                        comp.wait_until = None
                    elif kind == BLOCK:
                        comp.node, comp.pending = node.id, False
                        run_action_block(self.blocks, self.provider, run, node)
                    elif kind == SCENE:
                        scene_id, intent, roles = node.scene
                        run.scenes += (SceneLaunch(scene_id, intent, dict(roles), node.id),)
                    elif kind == CALL:
                        comp.node, comp.pending = node.id, False
                        run_external_call(self.handlers, run, cp, node)
                    elif kind == SUB:
                        if entering:  # the call: play the callee from its entry
                            via = f"call:{program}/{node.id}"
                            cp = self._call(run, cp, node)
                            node, entering = cp.nodes[cp.entry], True
                            break
                        # back from the callee (not a visit: restore skips "return" entries)
                        remember((program, node.id, env.world_time, "return"))
                    if node.on_exit is not None:
                        node.on_exit.apply(log, env)
                    if node.next is not None:  # a single plain edge: no routing to do
                        node, via, entering = node.next, node.next_via, True
                    else:
                        target, via = self._route(run, node)
                        if target is not None:
                            node, entering = target, True
                            continue
                        resumed = self._end(run)
                        if resumed is None:
                            return "finished"
                        cp, node, entering = resumed
                        via = "resume"
                        break
        except EvaluationError as exc:
            raise evaluation_error(program, node.id, exc) from None

    def _result(
        self, run: WorkingSet, status: Status, input: str | None, *, record: bool = True
    ) -> NarrativeStepResult:
        """What the step returns; ``record`` chains its transcript hash."""
        comp = run.comp
        program, node, lines = comp.program, comp.node, tuple(run.lines)
        offers: tuple[ChoiceOffer, ...] = ()
        hidden: tuple[HiddenChoice, ...] = ()
        if status == "choice":
            offers, hidden = run.offers, run.hidden  # type: ignore[assignment]
            if offers is None:
                cnode = self._programs[program].nodes[node]  # type: ignore[index]
                offers, hidden = self._offers(run, cnode)
        if comp.paused:
            status = "paused"
        if record:
            parts = [comp.transcript_hash, status, program or "", node or "", input or ""]
            for speaker, text, _ in lines:
                parts += (speaker or "", text)
            parts += _flat(offers)
            if run.gens:
                parts += [g.id for g in run.gens]
            if run.scenes:
                parts += [f"{s.scene_id}\x1e{s.intent}" for s in run.scenes]
            if run.called or run.returned:
                parts += [f"call\x1e{p}" for p in run.called]
                parts += [f"return\x1e{p}" for p in run.returned]
            digest = blake2b("\x1f".join(parts).encode(), digest_size=16)  # = chain_hash
            comp.transcript_hash = digest.hexdigest()
        stack, history = comp.stack, comp.history
        history.settle()  # between steps: a failed step never trims into a folded chunk
        snapshot = _new(
            StateSnapshot,
            (
                program,
                node,
                tuple([(f[0], f[1]) for f in stack]) if stack else (),
                dict(run.env.variables) if program else {},
                comp.paused,
                history._saved_len + len(history._flat) // 4,
                run.session.world_time,
            ),
        )
        return _new(
            NarrativeStepResult,
            (
                status,
                program,
                node,
                input,
                lines,
                offers,
                hidden,
                run.scenes,
                run.gens,
                run.finished,
                comp.transcript_hash,
                snapshot,
                run.called,
                run.returned,
            ),
        )


def evaluation_error(program: str, node: str, exc: EvaluationError) -> StepError:
    """The step error of an expression that failed at ``program``/``node``."""
    return StepError(
        f"at {program}/{node}: {exc}",
        exc.code,
        program=program,
        node=node,
        expression=exc.source,
        position=exc.position,
    )


def _on_offer(node: CNode, env: object, taken: dict[str, bool] | None) -> tuple[ChoiceOffer, ...]:
    """The offers' fast path: no reasons, prebuilt offers for texts without holes."""
    offers = []
    for cond, key, offer, choice in node.rows:
        if (cond is None or cond(env)) and (key is None or key not in taken):  # type: ignore[operator]
            offers.append(offer or ChoiceOffer(choice.id, choice.text.render(env)))
    return tuple(offers)
