"""Interactions played: a dry run that returns the diff and mutates nothing, and
:func:`execute`, which does it for real through the runtime engine and the session store.

An interaction applies its effects (``self`` is the NPC; axes clamped to their bounds),
stamps its cooldown, then starts its program at its node and plays ``inputs`` (choice ids)
on the runtime engine. Every axis change is recorded with its source:
``interaction:<id>`` for the interaction's effects, ``program:<id>`` for what the program
did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from storylab._data import UnknownNameError
from storylab.runtime.effects import CEffects
from storylab.runtime.playtest import flatten_state, playtest, session_env, state_diff
from storylab.runtime.results import NarrativeStepResult, StepError, Transcribed
from storylab.runtime.state import Session
from storylab.runtime.store import SessionStore
from storylab.world.gating import available, resolve
from storylab.world.relations import Change
from storylab.world.session import WorldSession, changes, cooldown_flag, sync_derived

__all__ = [
    "MAX_STEPS",
    "Chooser",
    "GatingError",
    "InteractionResult",
    "execute",
    "simulate_interaction",
]


#: Picks a choice id from a result that offers choices.
Chooser = Callable[[NarrativeStepResult], str]
#: Most steps a chooser plays in one interaction.
MAX_STEPS = 200


class GatingError(ValueError):
    """An interaction that is not available; the message lists why not."""


@dataclass(frozen=True)
class InteractionResult(Transcribed):
    """What an interaction did (or would do), with the program's :attr:`transcript` and
    :attr:`transcript_hash` ("" without a program).

    Attributes
    ----------
    npc, interaction : str
    results : tuple of NarrativeStepResult
        The program's start and steps (empty without a program).
    diff : DataFrame
        One row per value that changed (``name``, ``before``, ``after``, ``delta``), named
        as conditions read them (``rel.captain.affinity``, ``flags.met_mara``, ...).
    changes : tuple of Change
        The axis changes with their provenance.
    error : str or None
        Why the program stopped early (a choice not on offer, ...).
    session : Session
        The session after it.
    """

    npc: str
    interaction: str
    results: tuple[NarrativeStepResult, ...]
    diff: pd.DataFrame
    changes: tuple[Change, ...]
    error: str | None
    session: Session = field(repr=False)


def _perform(
    ws: WorldSession,
    start: Session,
    npc: str,
    interaction: str,
    inputs: Sequence[str | None] | Chooser,
) -> InteractionResult:
    world = ws.world
    r = resolve(world.interactions[interaction], npc)
    program = world.program_map.get(r.program) if r.program else None
    pid = program.id if program is not None else ""
    before = flatten_state(start, npc, pid)
    session, made = start.copy(), []
    fx = CEffects(r.effects)
    try:
        fx.apply(None, session_env(session, npc))
    except StepError as exc:
        raise GatingError(f"{interaction} with {npc}: {exc}") from None
    made += changes(world, start, session, ws.tick, f"interaction:{interaction}")
    session.flags[cooldown_flag(interaction, npc)] = session.world_time
    results: tuple[NarrativeStepResult, ...] = ()
    error = None
    if program is not None and callable(inputs):
        played_session = session.copy()
        results, error = _choose(ws, played_session, npc, pid, r.node, inputs)
        made += changes(world, session, played_session, ws.tick, f"program:{pid}")
        session = played_session
    elif program is not None:
        played = playtest(
            program, list(inputs), node=r.node, session=session, npc=npc, engine=ws.engine
        )
        assert played.session is not None
        made += changes(world, session, played.session, ws.tick, f"program:{pid}")
        session, results, error = played.session, played.results, played.error
    for other in world.npcs:
        sync_derived(world, session, other)
    diff = state_diff(before, flatten_state(session, npc, pid))
    return InteractionResult(npc, interaction, results, diff, tuple(made), error, session)


def _choose(
    ws: WorldSession, session: Session, npc: str, program: str, node: str | None, choose: Chooser
) -> tuple[tuple[NarrativeStepResult, ...], str | None]:
    """Play ``program`` on ``session`` (in place), asking ``choose`` at every choice."""
    engine, results = ws.engine, []
    try:
        result = engine.start(session, npc, program, node)
        results.append(result)
        for _ in range(MAX_STEPS):
            if result.status == "choice":
                result = engine.step(session, npc, choose(result))
            elif result.status == "waiting":
                comp = session.component(npc)
                wait = 0.0 if comp.wait_until is None else comp.wait_until - session.world_time
                engine.advance_time(session, max(0.0, wait))
                result = engine.step(session, npc, None)
            else:
                break
            results.append(result)
    except StepError as exc:
        return tuple(results), str(exc)
    return tuple(results), None


def _gate(ws: WorldSession, npc: str, interaction: str) -> None:
    if npc not in ws.world.npcs:
        raise UnknownNameError("NPC", npc, ws.world.npcs)
    row = available(ws, npc, interaction=interaction)
    if row.empty:
        raise GatingError(f"{interaction} does not apply to {npc}")
    if not row["available"].iloc[0]:
        raise GatingError(f"{interaction} with {npc} is not available: {row['why_not'].iloc[0]}")


def simulate_interaction(
    ws: WorldSession,
    npc: str,
    interaction: str,
    inputs: Sequence[str | None] | Chooser = (),
    *,
    force: bool = False,
) -> InteractionResult:
    """A dry run of ``interaction`` with ``npc`` on the session as overrides show it: the
    result holds the diff; ``ws`` is not touched. ``inputs`` are choice ids, or a function
    that picks one from each result offering choices.

    Raises
    ------
    GatingError
        When the interaction is not available (unless ``force``), naming why not.
    """
    if not force:
        _gate(ws, npc, interaction)
    return _perform(ws, ws.view().session, npc, interaction, inputs)


def execute(
    ws: WorldSession,
    npc: str,
    interaction: str,
    store: SessionStore,
    inputs: Sequence[str | None] | Chooser = (),
) -> InteractionResult:
    """Play ``interaction`` for real on ``ws``'s session (overrides ignored) and commit the
    result to ``store`` in one transaction; ``ws`` moves on only once it is committed.

    Raises
    ------
    GatingError
        When it is not available on the real session.
    storylab.runtime.ConflictError
        When the stored session changed since ``ws`` loaded it (nothing is written).
    storylab.runtime.StepError
        When the program stops on an input (nothing is written).
    """
    real = ws.copy().reset_overrides()
    _gate(real, npc, interaction)
    result = _perform(real, ws.session, npc, interaction, inputs)
    if result.error is not None:
        raise StepError(f"{interaction} with {npc}: {result.error}")
    store.save(result.session)
    ws.session = result.session
    ws.changes.extend(result.changes)
    return result
