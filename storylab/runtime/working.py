"""The working set of one step and the node kinds that talk to the host.

:class:`WorkingSet` carries what a step reads and collects (the expression environment,
the undo log, lines, scenes, generations); :meth:`WorkingSet.begin` and :func:`restore`
cover the component fields the undo log does not. Action-block and external-call nodes
run here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from storylab.runtime.blocks import (
    BlockLibrary,
    BlockResolutionError,
    Generation,
    GenerationProvider,
    GenerationRequest,
    SocialContext,
)
from storylab.runtime.compiled import KIND_NAMES, CNode, CompiledProgram
from storylab.runtime.effects import Txn, check_scalar
from storylab.runtime.expressions import Env
from storylab.runtime.results import ChoiceOffer, HiddenChoice, Line, SceneLaunch, StepError
from storylab.runtime.state import NarrativeStateComponent, Session

__all__ = [
    "CallContext",
    "Handler",
    "WorkingSet",
    "call_handler",
    "dialogue_request",
    "kind_name",
    "restore",
    "run_action_block",
    "run_external_call",
    "social_context",
]


@dataclass(frozen=True, slots=True)
class CallContext:
    """What an external handler is told besides its arguments."""

    session_id: str
    npc: str
    program: str
    node: str
    world_time: float


#: An external-call handler: ``handler(args, context) -> value or None``.
Handler = Callable[[dict[str, Any], CallContext], Any]


class WorkingSet:
    """The working set of one step; kept on the component between steps and reset, since
    building it costs as much as a short step."""

    __slots__ = (
        "at",
        "called",
        "comp",
        "env",
        "explain",
        "finished",
        "gens",
        "hidden",
        "lines",
        "npc",
        "offers",
        "returned",
        "scenes",
        "session",
        "tx",
    )

    def __init__(self, session: Session, npc: str, comp: NarrativeStateComponent, explain: bool):
        self.session, self.npc, self.comp = session, npc, comp
        self.at: tuple | None = None  # (compiled program, node) where the last step stopped
        self.tx = Txn()
        env = self.env = Env.__new__(Env)
        env.flags, env.relationships, env.inventory = (
            session.flags,
            session.relationships,
            session.inventory,
        )
        env.arcs, env.quests, env.player, env.npc = (
            session.arcs,
            session.quests,
            session.player,
            npc,
        )
        self.reset(explain)

    def begin(self, session: Session, npc: str, explain: bool) -> tuple | None:
        """Start a step of ``npc`` in ``session``: ``None`` when this working set no longer
        points at the session's tables (the host replaced one; build a new working set),
        else what :func:`restore` puts back on failure (the component fields the undo log
        does not cover), after a :meth:`reset`."""
        env = self.env
        if not (
            self.session is session
            and self.npc == npc
            and env.flags is session.flags
            and env.relationships is session.relationships
            and env.inventory is session.inventory
            and env.arcs is session.arcs
            and env.quests is session.quests
            and env.player is session.player
        ):
            return None
        comp = self.comp
        history, stack = comp.history, comp.stack
        saved = (
            comp.program,
            comp.node,
            comp.pending,
            comp.wait_until,
            comp.last_block,
            comp.transcript_hash,
            tuple(stack) if stack else (),
            history._saved_len + len(history._flat) // 4,
            session.world_time,
            len(session.pending),
        )
        self.reset(explain)
        return saved

    def reset(self, explain: bool) -> None:
        """Empty what a step collects and point the env at the active program's tables."""
        self.explain = explain
        self.lines: list[Line] = []
        self.scenes: tuple[SceneLaunch, ...] = ()  # rare: tuples, grown by concatenation
        self.gens: tuple[Generation, ...] = ()
        self.finished: tuple[str, ...] = ()
        self.called: tuple[str, ...] = ()  # programs call nodes entered
        self.returned: tuple[str, ...] = ()  # programs that returned to their call node
        self.offers: tuple[ChoiceOffer, ...] | None = None
        self.hidden: tuple[HiddenChoice, ...] = ()
        self.tx.log.clear()
        env, comp = self.env, self.comp
        env.world_time = self.session.world_time
        program = comp.program
        if program is not None:
            variables, visits = comp.variables.get(program), comp.visits.get(program)
            if variables is None or visits is None or program not in comp.taken:
                self.bind(program)
            else:
                env.variables, env.visits = variables, visits

    def bind(self, program: str) -> None:
        comp, tx = self.comp, self.tx
        for table in (comp.variables, comp.visits, comp.taken):
            if program not in table:
                tx.set(table, program, {})
        self.env.variables, self.env.visits = comp.variables[program], comp.visits[program]


def social_context(blocks: BlockLibrary, run: WorkingSet) -> SocialContext:
    """The NPC's relationship tier (from affinity) and mood, for generation requests."""
    row = run.env.relationships.get(run.npc, {})
    affinity = row.get("affinity", 0)
    mood = row.get("mood", blocks.default_mood)
    return SocialContext(blocks.tier(affinity), str(mood), float(affinity))


def dialogue_request(
    blocks: BlockLibrary, run: WorkingSet, program: str, text: str
) -> GenerationRequest:
    """A dialogue node's request to its generation program (the text is the prompt)."""
    social = social_context(blocks, run)
    return GenerationRequest(
        "dialogue", program, text, (text,), (), None, run.npc, social, "immediate"
    )


def run_action_block(
    blocks: BlockLibrary, provider: GenerationProvider, run: WorkingSet, node: CNode
) -> None:
    """Resolve, compose and launch (or queue) an action-block node's generation."""
    spec = node.block
    try:
        resolution = blocks.resolve(spec, run.comp.last_block)
    except BlockResolutionError as exc:
        raise StepError(
            str(exc), "block_unresolved", program=run.comp.program, node=node.id
        ) from None
    request = blocks.compose(
        resolution, spec.composition, social_context(blocks, run), npc=run.npc, launch=spec.launch
    )
    if spec.launch == "immediate":
        run.gens += (provider.generate(request),)
    else:
        run.gens += (Generation(f"gen-{request.key()}", "pending", request, None),)
        run.session.pending.append(request.to_dict())
    if resolution.blocks:
        run.comp.last_block = resolution.blocks[-1]


def call_handler(
    handlers: Mapping[str, Handler], node: CNode, program: str, session_id: str, env: Env
) -> Any:
    """Call external-call ``node``'s handler with its arguments evaluated in ``env``; its
    result (checked as a storable value when the node stores it).

    Raises
    ------
    StepError
        ``unknown_handler`` when no handler has the name, ``handler_failed`` when it raises.
    """
    handler = handlers.get(node.handler)
    if handler is None:
        known = ", ".join(sorted(handlers)) or "none"
        raise StepError(
            f"unknown handler {node.handler!r} at {node.id!r}; registered: {known}",
            "unknown_handler",
            program=program,
            node=node.id,
            handler=node.handler,
        )
    args = {name: fn(env) for name, fn in node.args}
    ctx = CallContext(session_id, env.npc, program, node.id, env.world_time)
    try:
        value = handler(args, ctx)
    except Exception as exc:
        raise StepError(
            f"handler {node.handler!r} at {node.id!r} failed: {exc!r}",
            "handler_failed",
            program=program,
            node=node.id,
            handler=node.handler,
            error=repr(exc),
        ) from exc
    return value if node.store_as is None else check_scalar(value, f"var.{node.store_as}")


def run_external_call(
    handlers: Mapping[str, Handler], run: WorkingSet, cp: CompiledProgram, node: CNode
) -> None:
    """Call an external-call node's handler; store its result when asked."""
    value = call_handler(handlers, node, cp.id, run.session.id, run.env)
    if node.store_as is not None:
        run.tx.set(run.env.variables, node.store_as, value)


def kind_name(node: CNode) -> str:
    """The node's type name (``dialogue``, ``choice``, ...)."""
    return KIND_NAMES[node.kind]


def restore(session: Session, comp: NarrativeStateComponent, saved: tuple) -> None:
    """Put back what the undo log does not cover (call it before ``Txn.rollback``)."""
    (comp.program, comp.node, comp.pending, comp.wait_until, comp.last_block) = saved[:5]
    comp.transcript_hash, comp.stack = saved[5], list(saved[6])
    for program, node, _, via in comp.history.since(saved[7]):
        if via == "return":  # back at a call node: not a visit
            continue
        counts = comp.visits[program]
        counts[node] -= 1
        if not counts[node]:
            del counts[node]
    comp.history.truncate(saved[7])
    session.world_time = saved[8]
    del session.pending[saved[9] :]
