"""Playtests that become regression tests: a scripted run saved to YAML with what it should
produce, replayed by ``storylab playtest run`` and by :func:`assert_playtest` in pytest.

A playtest names a world (a path relative to the playtest file), an NPC, what to start (an
interaction, or a program and a node: "playtest from here"), the time, dev overrides and
the inputs. It is played on a dry run (nothing is persisted): an interaction through
:func:`~storylab.world.simulate_interaction`, a program through the runtime's
:func:`~storylab.runtime.playtest.playtest`. The expectation holds each step (input, node,
text), the transcript hash and the diff of the state; a replay reports the first step that
differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator

from storylab._data import Frozen, parse_model, read_document
from storylab._files import write_atomic
from storylab.runtime.playtest import playtest
from storylab.runtime.results import NarrativeStepResult
from storylab.world.check import load_world
from storylab.world.interactions import GatingError, simulate_interaction
from storylab.world.manifest import World
from storylab.world.schedule import parse_at
from storylab.world.session import WorldSession

__all__ = [
    "Expected",
    "Playtest",
    "PlaytestOutcome",
    "Step",
    "assert_playtest",
    "load_playtest",
    "record_playtest",
    "run_playtest",
    "save_playtest",
]

Scalar = bool | int | float | str | None


class Step(Frozen):
    """One played step: the input given, the node it reached, the text shown."""

    input: str | None = None
    node: str | None = None
    text: str = ""


class Expected(Frozen):
    """What a playtest must produce."""

    transcript_hash: str
    steps: list[Step]
    diff: dict[str, dict[Literal["before", "after"], Scalar]] = Field(default_factory=dict)


class Playtest(Frozen):
    """A saved playtest (see the module docstring)."""

    kind: Literal["playtest"] = "playtest"
    name: str = Field(min_length=1)
    world: str = Field(min_length=1, description="the world, relative to this file")
    npc: str
    interaction: str | None = None
    program: str | None = None
    node: str | None = None
    at: float | str | None = None
    overrides: dict[str, Scalar] = Field(default_factory=dict)
    inputs: list[str | None] = Field(default_factory=list, max_length=10_000)
    expected: Expected | None = None

    @model_validator(mode="after")
    def _one_start(self) -> Playtest:
        if (self.interaction is None) == (self.program is None):
            raise ValueError("a playtest starts an 'interaction' or a 'program' (one of them)")
        return self


@dataclass(frozen=True)
class PlaytestOutcome:
    """A replay: what it produced and the first difference from the expectation."""

    name: str
    played: Expected
    difference: str | None

    @property
    def ok(self) -> bool:
        """Whether it matched."""
        return self.difference is None


def _steps(results: Sequence[NarrativeStepResult]) -> list[Step]:
    return [Step(input=r.input, node=r.node, text=r.text) for r in results]


def _play(pt: Playtest, world: World) -> Expected:
    ws = WorldSession(world)
    if pt.at is not None:
        ws.override({"time": parse_at(world, pt.at)})
    ws.override(pt.overrides)
    if pt.interaction is not None:
        result = simulate_interaction(ws, pt.npc, pt.interaction, pt.inputs)
        results, diff = result.results, result.diff
    else:
        program = world.program_map.get(pt.program or "")
        if program is None:
            raise ValueError(f"playtest {pt.name}: program {pt.program!r} is not in the world")
        played = playtest(
            program,
            pt.inputs,
            node=pt.node,
            session=ws.view().session,
            npc=pt.npc,
            engine=ws.engine,
        )
        results, diff = played.results, played.diff
    changes = {
        row.name: {"before": _plain(row.before), "after": _plain(row.after)}
        for row in diff.itertuples()
    }
    last = results[-1].transcript_hash if results else ""
    return Expected(transcript_hash=last, steps=_steps(results), diff=changes)


def _plain(value: Any) -> Scalar:
    return value.item() if hasattr(value, "item") else value


def _world(pt: Playtest, base: Path) -> World:
    return load_world(base / pt.world)


def record_playtest(pt: Playtest, base: str | Path = ".") -> Playtest:
    """``pt`` with its expectation filled by playing it now (world relative to ``base``)."""
    return pt.model_copy(update={"expected": _play(pt, _world(pt, Path(base)))})


def load_playtest(path: str | Path) -> Playtest:
    """Read and validate a playtest file."""
    return parse_model(Playtest, read_document(path), path)


def save_playtest(pt: Playtest, path: str | Path) -> Path:
    """Write ``pt`` as YAML (atomically)."""
    data = pt.model_dump(mode="json", exclude_none=True)
    return write_atomic(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _first_difference(want: Expected, got: Expected) -> str | None:
    for k, (a, b) in enumerate(zip(want.steps, got.steps, strict=False)):
        if a != b:
            return f"step {k}: expected {a.model_dump()}, got {b.model_dump()}"
    if len(want.steps) != len(got.steps):
        k = min(len(want.steps), len(got.steps))
        return f"step {k}: expected {len(want.steps)} step(s), got {len(got.steps)}"
    if want.transcript_hash != got.transcript_hash:
        return f"transcript hash: expected {want.transcript_hash}, got {got.transcript_hash}"
    if want.diff != got.diff:
        names = sorted(set(want.diff) ^ set(got.diff)) or sorted(
            n for n in want.diff if want.diff[n] != got.diff.get(n)
        )
        name = names[0]
        return f"state diff: {name} expected {want.diff.get(name)}, got {got.diff.get(name)}"
    return None


def run_playtest(source: str | Path | Playtest, base: str | Path | None = None) -> PlaytestOutcome:
    """Replay a saved playtest (a file, or a model with ``base`` for its world path).

    Raises
    ------
    DataError
        When the file is not a valid playtest or its world does not load.
    ValueError
        When it has no expectation yet (record it first).
    """
    if isinstance(source, Playtest):
        pt, folder = source, Path(base or ".")
    else:
        pt, folder = load_playtest(source), Path(source).parent
    if pt.expected is None:
        raise ValueError(f"playtest {pt.name} has no expectation; record it first")
    try:
        played = _play(pt, _world(pt, folder))
    except GatingError as exc:
        return PlaytestOutcome(pt.name, Expected(transcript_hash="", steps=[]), f"gating: {exc}")
    return PlaytestOutcome(pt.name, played, _first_difference(pt.expected, played))


def assert_playtest(path: str | Path) -> None:
    """For pytest: fail with the first difference when a saved playtest no longer holds."""
    outcome = run_playtest(path)
    if not outcome.ok:
        raise AssertionError(f"playtest {outcome.name} ({path}): {outcome.difference}")
