"""The generation context of a turn, built from the session and its timeline, as a table.

:func:`build_context` gathers what a generated turn should know (recent turns of the
timeline, each character with their relationship state, the intent's description and
constraint, who speaks) as rows that :meth:`TurnContext.to_frame` shows before anything
runs; :meth:`TurnContext.request` turns them into the runtime's
:class:`~storylab.runtime.GenerationRequest` (the rows become its segments, the instruction
its prompt).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storylab.runtime.blocks import (
    BlockLibrary,
    GenerationRequest,
    SocialContext,
    default_block_library,
)
from storylab.runtime.state import Session

if TYPE_CHECKING:
    import pandas as pd

    from storylab.intents.store import IntentStore

__all__ = ["ContextRow", "TurnContext", "build_context"]


@dataclass(frozen=True, slots=True)
class ContextRow:
    """One part of a context: what it is, where it comes from, its text."""

    part: str  # "turn", "character", "intent", "constraint" or "actor"
    source: str
    text: str


@dataclass(frozen=True, slots=True)
class TurnContext:
    """Everything a generated turn is given, part by part."""

    session_id: str
    actor: str
    description: str
    constraint: str | None
    social: SocialContext
    rows: tuple[ContextRow, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per context part (``part``, ``source``, ``text``)."""
        import pandas as pd

        return pd.DataFrame(
            [(r.part, r.source, r.text) for r in self.rows], columns=["part", "source", "text"]
        )

    @property
    def prompt(self) -> str:
        """The instruction: who speaks, to what end, under which constraint."""
        tail = f" [constraint: {self.constraint}]" if self.constraint else ""
        return f"{self.actor}: {self.description}{tail}"

    def request(self) -> GenerationRequest:
        """The runtime generation request: the rows as segments, :attr:`prompt` as prompt."""
        return GenerationRequest(
            kind="dialogue",
            program=None,
            prompt=self.prompt,
            segments=tuple(f"{r.part} {r.source}: {r.text}" for r in self.rows),
            blocks=(),
            composition=None,
            npc=self.actor,
            social=self.social,
            launch="immediate",
        )


def _describe(fields: dict[str, Any], library: BlockLibrary) -> str:
    affinity = float(fields.get("affinity", 0.0))
    parts = [f"tier {library.tier(affinity)}", f"mood {fields.get('mood', library.default_mood)}"]
    parts += [f"{k} {v}" for k, v in sorted(fields.items()) if k != "mood"]
    return ", ".join(parts)


def context_from(
    session: Session,
    turns: list[tuple[str, str]],
    actor: str,
    *,
    description: str,
    constraint: str | None = None,
    library: BlockLibrary | None = None,
) -> TurnContext:
    """The context from a loaded ``session`` and its recent ``turns`` (participant, text)."""
    library = library or default_block_library()
    rows = [ContextRow("turn", who, text) for who, text in turns]
    people = sorted(set(session.relationships) | set(session.components) | {actor})
    rows += [
        ContextRow("character", p, _describe(session.relationships.get(p, {}), library))
        for p in people
    ]
    rows.append(ContextRow("intent", "description", description))
    if constraint:
        rows.append(ContextRow("constraint", "constraint", constraint))
    rows.append(ContextRow("actor", actor, "speaks next"))
    mine = session.relationships.get(actor, {})
    affinity = float(mine.get("affinity", 0.0))
    social = SocialContext(
        library.tier(affinity), str(mine.get("mood", library.default_mood)), affinity
    )
    return TurnContext(session.id, actor, description, constraint, social, tuple(rows))


def build_context(
    store: IntentStore,
    session_id: str,
    actor: str,
    *,
    description: str,
    constraint: str | None = None,
    window: int = 8,
    library: BlockLibrary | None = None,
) -> TurnContext:
    """The context of ``actor``'s next turn in a stored session (its last ``window`` turns).

    >>> import tempfile, os
    >>> from storylab.intents import IntentStore
    >>> store = IntentStore(os.path.join(tempfile.mkdtemp(), "play.db"))
    >>> store.sessions.create(Session("inn", relationships={"bo": {"affinity": 0.5}}))
    >>> ctx = build_context(store, "inn", "bo", description="greet the guest")
    >>> ctx.to_frame().part.tolist(), ctx.prompt
    (['character', 'intent', 'actor'], 'bo: greet the guest')
    >>> store.close()
    """
    session = store.sessions.load(session_id)
    return context_from(
        session,
        store.recent_turns(session_id, window),
        actor,
        description=description,
        constraint=constraint,
        library=library,
    )
