"""What a step returns, and transcripts made of step results.

Results are named tuples: immutable, and the cheapest objects Python builds (one is made
on every step). :meth:`NarrativeStepResult.to_dict` gives the JSON-ready form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal, NamedTuple

from storylab.runtime.blocks import Generation

__all__ = [
    "ChoiceOffer",
    "HiddenChoice",
    "Line",
    "NarrativeStepResult",
    "SceneLaunch",
    "StateSnapshot",
    "Status",
    "StepError",
    "Transcribed",
    "chain_hash",
    "format_transcript",
    "transcript_json",
]

#: Why a step stopped: at a choice, at a wait, because the last program finished, or paused.
Status = Literal["choice", "waiting", "finished", "paused"]


class StepError(ValueError):
    """A step or start that cannot go ahead; the session is exactly as before it.

    Attributes
    ----------
    code : str
        A stable name of what went wrong (``invalid_choice``, ``paused``, ...; the table
        in ``docs/runtime.md``), for hosts to act on without reading the message.
    data : dict
        What lies behind it, e.g. ``{"choice": "x", "node": "menu", "choices": ("a",)}``.
    """

    def __init__(self, message: str, code: str = "step_failed", **data: Any):
        super().__init__(message)
        self.code, self.data = code, data


class Line(NamedTuple):
    """A line of dialogue."""

    speaker: str | None
    text: str
    node: str


class ChoiceOffer(NamedTuple):
    """A choice on offer."""

    id: str
    text: str


class HiddenChoice(NamedTuple):
    """A choice not on offer, and why (a failing condition, or once-only and taken)."""

    id: str
    text: str
    reason: str


class SceneLaunch(NamedTuple):
    """A scene a scene node asked the host to launch."""

    scene_id: str | None
    intent: str | None
    roles: Mapping[str, str]
    node: str


class StateSnapshot(NamedTuple):
    """The component after the step: position, suspended programs, variables."""

    program: str | None
    node: str | None
    stack: tuple[tuple[str, str], ...]
    variables: Mapping[str, Any]
    paused: bool
    history_length: int
    world_time: float

    @property
    def stack_depth(self) -> int:
        """How many programs are suspended."""
        return len(self.stack)


class NarrativeStepResult(NamedTuple):
    """Everything one step produced.

    ``text`` joins the lines; ``speaker`` is the last line's speaker. ``finished`` names
    every program that ended during the step, ``called`` the programs a call node entered
    and ``returned`` those that ended and returned to their call node. ``transcript_hash``
    chains the hash of every result of this NPC's narrative so far, so two runs with the
    same programs, state and inputs end with the same hash.
    """

    status: Status
    program: str | None
    node: str | None
    input: str | None
    lines: tuple[Line, ...]
    choices: tuple[ChoiceOffer, ...]
    hidden: tuple[HiddenChoice, ...]
    scenes: tuple[SceneLaunch, ...]
    generations: tuple[Generation, ...]
    finished: tuple[str, ...]
    transcript_hash: str
    snapshot: StateSnapshot
    called: tuple[str, ...] = ()
    returned: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """All lines' text, one per line."""
        return "\n".join(line.text for line in self.lines)

    @property
    def speaker(self) -> str | None:
        """The speaker of the last line, if any."""
        return self.lines[-1].speaker if self.lines else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the snapshot included)."""
        snap = self.snapshot
        return {
            "status": self.status,
            "program": self.program,
            "node": self.node,
            "input": self.input,
            "lines": [{"speaker": x.speaker, "text": x.text, "node": x.node} for x in self.lines],
            "choices": [{"id": c.id, "text": c.text} for c in self.choices],
            "hidden": [{"id": c.id, "text": c.text, "reason": c.reason} for c in self.hidden],
            "scenes": [
                {"scene_id": s.scene_id, "intent": s.intent, "roles": dict(s.roles), "node": s.node}
                for s in self.scenes
            ],
            "generations": [
                {
                    "id": g.id,
                    "status": g.status,
                    "content": g.content,
                    "request": g.request.to_dict(),
                }
                for g in self.generations
            ],
            "finished": list(self.finished),
            "called": list(self.called),
            "returned": list(self.returned),
            "transcript_hash": self.transcript_hash,
            "snapshot": {
                "program": snap.program,
                "node": snap.node,
                "stack": [list(f) for f in snap.stack],
                "variables": dict(snap.variables),
                "paused": snap.paused,
                "history_length": snap.history_length,
                "world_time": snap.world_time,
            },
        }


def chain_hash(previous: str, result_parts: Iterable[str]) -> str:
    """The next transcript hash: ``previous`` chained with one step's parts (blake2b-128)."""
    payload = "\x1f".join((previous, *result_parts)).encode()
    h = hashlib.blake2b(payload, digest_size=16)
    return h.hexdigest()


def format_transcript(results: Iterable[NarrativeStepResult]) -> str:
    """A readable transcript: inputs, lines, scenes, generations, choices on offer, endings."""
    out: list[str] = []
    for r in results:
        if r.input is not None:
            out.append(f"> {r.input}")
        for s in r.scenes:
            roles = ", ".join(f"{k}={v}" for k, v in sorted(s.roles.items()))
            out.append(f"[scene {s.scene_id or s.intent}{' ' + roles if roles else ''}]")
        for line in r.lines:
            out.append(f"{line.speaker}: {line.text}" if line.speaker else line.text)
        for g in r.generations:
            out.append(f"[generation {g.id} {g.status}: {g.request.prompt}]")
        for name in r.called:
            out.append(f"[call {name}]")
        for name in r.finished:
            out.append(f"[{'return from' if name in r.returned else 'end of'} {name}]")
        for c in r.choices:
            out.append(f"  [{c.id}] {c.text}")
        for h in r.hidden:
            out.append(f"  ({h.id}) {h.text} -- {h.reason}")
        if r.status == "waiting":
            out.append(f"[waiting at {r.node}]")
    return "\n".join(out) + ("\n" if out else "")


class Transcribed:
    """Adds :attr:`transcript` and :attr:`transcript_hash` to a class that holds a
    ``results`` tuple of step results (a playtest, a world interaction)."""

    __slots__ = ()
    results: tuple[NarrativeStepResult, ...]

    @property
    def transcript(self) -> str:
        """The readable transcript (see :func:`format_transcript`)."""
        return format_transcript(self.results)

    @property
    def transcript_hash(self) -> str:
        """The chained hash of every result ("" when there are none; equal runs, equal
        hash)."""
        return self.results[-1].transcript_hash if self.results else ""


def transcript_json(results: Iterable[NarrativeStepResult]) -> str:
    """The results as one stable JSON document (sorted keys, no snapshot timings)."""
    return json.dumps([r.to_dict() for r in results], sort_keys=True, ensure_ascii=False, indent=1)
