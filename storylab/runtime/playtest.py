"""Playtest from here: start a program at any node with state overrides, play scripted
inputs on the real engine, and get the transcript, a per-step frame and the diff of the
state against the start. Nothing is persisted; the caller's session is never touched.

State is named the way conditions read it: ``rel.<npc>.<field>``, ``flags.<name>``,
``inv.<item>``, ``arc.<name>``, ``quest.<name>``, ``var.<name>`` (the program's
variables), ``player.<field>`` and ``time``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from storylab.runtime.engine import NarrativeEngine
from storylab.runtime.expressions import Env
from storylab.runtime.program import NarrativeProgram
from storylab.runtime.results import NarrativeStepResult, StepError, Transcribed
from storylab.runtime.state import Session
from storylab.runtime.working import Handler

__all__ = [
    "PlaytestResult",
    "apply_overrides",
    "fill_unset",
    "flatten_env",
    "flatten_state",
    "playtest",
    "session_env",
    "state_diff",
]

_ROOTS = {
    "rel": "relationships",
    "flags": "flags",
    "inv": "inventory",
    "arc": "arcs",
    "quest": "quests",
    "player": "player",
}

_UNSET: dict[str, Any] = {"rel": 0, "inv": 0, "arc": 0, "flags": False}


def fill_unset(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with unset values filled as conditions read them (0 for ``rel``, ``inv``
    and ``arc`` columns, false for ``flags``); other gaps stay missing."""
    fills = {
        c: _UNSET[c.split(".", 1)[0]]
        for c in frame.columns
        if isinstance(c, str) and c.split(".", 1)[0] in _UNSET and frame[c].isna().any()
    }
    if not fills:
        return frame
    out = frame.copy()
    for column, value in fills.items():
        out[column] = out[column].astype(object).where(out[column].notna(), value)
        out[column] = out[column].infer_objects()
    return out


def flatten_env(env: Env) -> dict[str, Any]:
    """Every value in ``env`` under its expression name, sorted by name."""
    out: dict[str, Any] = {"time": env.world_time}
    for npc, row in env.relationships.items():
        for name, value in row.items():
            out[f"rel.{npc}.{name}"] = value
    for root, attr in _ROOTS.items():
        if root != "rel":
            for name, value in getattr(env, attr).items():
                out[f"{root}.{name}"] = value
    for name, value in env.variables.items():
        out[f"var.{name}"] = value
    return dict(sorted(out.items()))


def session_env(session: Session, npc: str, variables: Mapping[str, Any] | None = None) -> Env:
    """An :class:`Env` over ``session``'s own facts (effects applied through it change the
    session) and ``variables``, running for ``npc``."""
    return Env(
        flags=session.flags,
        relationships=session.relationships,
        inventory=session.inventory,
        arcs=session.arcs,
        quests=session.quests,
        player=session.player,
        variables=variables,
        npc=npc,
        world_time=session.world_time,
    )


def flatten_state(session: Session, npc: str, program: str) -> dict[str, Any]:
    """``session``'s facts and ``npc``'s variables of ``program``, flattened (see module)."""
    comp = session.components.get(npc)
    variables = comp.variables.get(program, {}) if comp is not None else {}
    return flatten_env(session_env(session, npc, variables))


def apply_overrides(
    session: Session,
    npc: str,
    program: NarrativeProgram | None,
    overrides: Mapping[str, Any] | None,
) -> Session:
    """A copy of ``session`` with ``overrides`` (flattened names -> values) applied.

    ``var.<name>`` sets ``npc``'s variable of ``program`` (it must be declared; without a
    program there are none). All names are checked before anything is applied.

    Raises
    ------
    ValueError
        Naming the first override that does not fit.
    """
    plan: list[tuple[str, tuple[str, ...], Any]] = []
    for name, value in (overrides or {}).items():
        root, *parts = name.split(".")
        if root == "time":
            ok = not parts and isinstance(value, int | float) and not isinstance(value, bool)
        elif root == "rel":
            ok = len(parts) == 2
        elif root == "var":
            ok = len(parts) == 1 and program is not None and parts[0] in program.variables
        else:
            ok = root in _ROOTS and len(parts) == 1
        if not ok or not all(parts):
            raise ValueError(
                f"cannot override {name!r}: use rel.<npc>.<field>, flags.<name>, inv.<item>, "
                "arc.<name>, quest.<name>, player.<field>, time or a declared var.<name>"
            )
        plan.append((root, tuple(parts), value))
    out = session.copy()
    for root, parts, value in plan:
        if root == "time":
            out.world_time = float(value)
        elif root == "rel":
            out.relationships.setdefault(parts[0], {})[parts[1]] = value
        elif root == "var" and program is not None:
            comp = out.component(npc)
            comp.variables.setdefault(program.id, dict(program.variables))[parts[0]] = value
        else:
            getattr(out, _ROOTS[root])[parts[0]] = value
    return out


def state_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> pd.DataFrame:
    """One row per flattened value that changed: ``name``, ``before``, ``after``, ``delta``
    (numeric change, else NaN). An unset value shows as conditions read it: 0 for ``rel``,
    ``inv`` and ``arc``, false for ``flags``, ``None`` otherwise."""
    rows = []
    for name in sorted(before.keys() | after.keys()):
        unset = _UNSET.get(name.split(".", 1)[0])
        a, b = before.get(name, unset), after.get(name, unset)
        if a == b and type(a) is type(b):
            continue
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
        rows.append((name, a, b, b - a if numeric else math.nan))  # type: ignore[operator]
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    return pd.DataFrame(
        {
            "name": pd.Series(columns[0], dtype=object),
            "before": pd.Series(columns[1], dtype=object),
            "after": pd.Series(columns[2], dtype=object),
            "delta": pd.Series(columns[3], dtype=float),
        }
    )


@dataclass(frozen=True)
class PlaytestResult(Transcribed):
    """What a playtest played and how the state moved, with its :attr:`transcript` and
    :attr:`transcript_hash`.

    Attributes
    ----------
    program, node : str
        The program and the node it started at.
    inputs : tuple
        The inputs played (those after a failing one are not).
    results : tuple of NarrativeStepResult
        The start's result, then one per step.
    states : tuple of dict
        The flattened state before the start, then after each result.
    error : str or None
        Why play stopped early (a choice not on offer, a stuck wait, ...).
    overrides : dict
        The overrides the start applied.
    session : Session or None
        The played copy of the session, as it ended.
    """

    program: str
    node: str
    inputs: tuple[str | None, ...]
    results: tuple[NarrativeStepResult, ...]
    states: tuple[dict[str, Any], ...]
    error: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    session: Session | None = field(default=None, repr=False, compare=False)

    @property
    def diff(self) -> pd.DataFrame:
        """The :func:`state_diff` of the state before the start and after the last step."""
        return state_diff(self.states[0], self.states[-1])

    @property
    def frame(self) -> pd.DataFrame:
        """One row per result: ``step``, ``input``, ``status``, ``node``, ``text`` and every
        state value after it (step 0 is the start; unset values filled by
        :func:`fill_unset`)."""
        rows = [
            {
                "step": k,
                "input": r.input,
                "status": r.status,
                "node": r.node,
                "text": r.text,
                **state,
            }
            for k, (r, state) in enumerate(zip(self.results, self.states[1:], strict=True))
        ]
        return fill_unset(pd.DataFrame(rows))


def playtest(
    program: NarrativeProgram,
    inputs: Sequence[str | None] = (),
    *,
    node: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    session: Session | None = None,
    npc: str = "npc",
    engine: NarrativeEngine | None = None,
    handlers: Mapping[str, Handler] | None = None,
) -> PlaytestResult:
    """Start ``program`` at ``node`` (its entry by default) on a copy of ``session`` with
    ``overrides`` applied, then play ``inputs`` (choice ids; ``None`` steps without input).

    Waits with a duration are passed by advancing world time, as a host would. A step that
    fails stops play: the result keeps what was played and the error.

    >>> from storylab.runtime import NarrativeProgram
    >>> prog = NarrativeProgram.model_validate({
    ...     "id": "p", "entry": "ask", "variables": {"n": 0},
    ...     "nodes": [{"id": "ask", "type": "choice", "choices": [
    ...         {"id": "yes", "text": "Yes", "effects": {"variables": {"n": "var.n + 1"}}}]}]})
    >>> playtest(prog, ["yes"], overrides={"var.n": 5}).diff.values.tolist()
    [['var.n', 5, 6, 1.0]]
    """
    if engine is None:
        engine = NarrativeEngine([program], handlers=handlers)
    elif program.id not in engine.program_ids:
        engine.add_program(program)
    start = apply_overrides(session or Session(), npc, program, overrides)
    start.component(npc).variables.setdefault(program.id, dict(program.variables))
    entry = node if node is not None else program.entry
    states = [flatten_state(start, npc, program.id)]
    results: list[NarrativeStepResult] = []
    played: list[str | None] = []
    error = None

    def record(result: NarrativeStepResult) -> None:
        results.append(result)
        states.append(flatten_state(start, npc, program.id))
        comp = start.components.get(npc)
        if result.status == "waiting" and comp is not None and comp.wait_until is not None:
            engine.advance_time(start, max(0.0, comp.wait_until - start.world_time))
            record(engine.step(start, npc, None))

    try:
        record(engine.start(start, npc, program.id, entry))
        for inp in inputs:
            result = engine.step(start, npc, inp)
            played.append(inp)
            record(result)
    except StepError as exc:
        error = str(exc)
    return PlaytestResult(
        program.id,
        entry,
        tuple(played),
        tuple(results),
        tuple(states),
        error,
        dict(overrides or {}),
        start,
    )
