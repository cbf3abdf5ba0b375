"""Action blocks: a YAML library of reusable prompt fragments, resolved and composed.

An action-block node names blocks directly or queries them by kind, tags and complexity.
Query resolution ranks candidates by compatibility with the previous block (a block
``follows`` ids or kinds it flows well after and ``avoids`` those it should not follow),
falling back to the node's ``fallback_blocks`` when too few fit. The chosen fragments are
composed into one :class:`GenerationRequest` that carries the social context (relationship
tier and mood). Generation goes through a :class:`GenerationProvider`; the default
:class:`OfflineProvider` is deterministic and never touches the network.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import Field, PrivateAttr, model_validator

from storylab._data import Frozen, UnknownNameError, packaged_path, parse_model, read_document
from storylab.runtime.program import ActionBlockNode

__all__ = [
    "ActionBlock",
    "BlockLibrary",
    "BlockResolution",
    "BlockResolutionError",
    "Generation",
    "GenerationProvider",
    "GenerationRequest",
    "OfflineProvider",
    "RelationshipTier",
    "SocialContext",
    "default_block_library",
    "load_block_library",
]

#: Encodes a request for its key (``json.dumps(..., sort_keys=True, ensure_ascii=False)``).
_KEY_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


class BlockResolutionError(ValueError):
    """No blocks satisfy an action-block node and it has no usable fallback."""


class ActionBlock(Frozen):
    """One reusable fragment: what it shows and what it flows well after."""

    id: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    complexity: int = Field(ge=1, le=5)
    prompt: str = Field(min_length=1)
    follows: list[str] = Field(default_factory=list)
    avoids: list[str] = Field(default_factory=list)


class RelationshipTier(Frozen):
    """A named band of affinity: the tier applies from ``min_affinity`` upwards."""

    name: str = Field(min_length=1)
    min_affinity: float


class _Scores(Frozen):
    first: float = Field(ge=0.0, le=1.0)
    follows: float = Field(ge=0.0, le=1.0)
    neutral: float = Field(ge=0.0, le=1.0)
    avoids: float = Field(ge=0.0, le=1.0)


class BlockLibrary(Frozen):
    """The blocks, the compatibility scores, the composition joiners and the social tiers."""

    kind: Literal["action-blocks"] = "action-blocks"
    scores: _Scores
    joiners: dict[Literal["sequential", "layered", "merged"], str]
    tiers: list[RelationshipTier] = Field(min_length=1)
    default_mood: str
    blocks: list[ActionBlock] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> BlockLibrary:
        ids = [b.id for b in self.blocks]
        dups = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dups:
            raise ValueError(f"block ids must be unique; repeated: {dups}")
        if len(self.joiners) != 3:
            raise ValueError("joiners needs sequential, layered and merged")
        return self

    _by_id: dict[str, ActionBlock] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: object) -> None:
        self._by_id.update((b.id, b) for b in self.blocks)

    @cached_property
    def _ascending(self) -> list[tuple[float, str]]:
        """``(min_affinity, name)`` of the tiers, lowest first (ties keep their order)."""
        return sorted(((t.min_affinity, t.name) for t in self.tiers), key=lambda t: t[0])

    @property
    def index(self) -> Mapping[str, ActionBlock]:
        """Blocks by id."""
        return self._by_id

    def block(self, block_id: str) -> ActionBlock:
        """The block with ``block_id``."""
        try:
            return self.index[block_id]
        except KeyError:
            raise UnknownNameError("action block", block_id, self.index) from None

    def compatibility(self, previous: ActionBlock | None, block: ActionBlock) -> float:
        """How well ``block`` follows ``previous`` (``scores.first`` when nothing came before)."""
        if previous is None:
            return self.scores.first
        if previous.id in block.avoids or previous.kind in block.avoids:
            return self.scores.avoids
        if previous.id in block.follows or previous.kind in block.follows:
            return self.scores.follows
        return self.scores.neutral

    def tier(self, affinity: float) -> str:
        """The relationship tier of an affinity value."""
        best = self._ascending[0][1]  # the lowest tier also takes affinities below it
        for least, name in self._ascending:
            if affinity >= least:
                best = name
        return best

    def resolve(self, node: ActionBlockNode, previous: str | None) -> BlockResolution:
        """The blocks an action-block node plays, given the previously launched block.

        Raises
        ------
        BlockResolutionError
            When a query finds too few compatible blocks and there is no fallback.
        """
        prev = self.index.get(previous) if previous else None
        if node.blocks:
            chosen = [self.block(b) for b in node.blocks]
            return self._scored(chosen, prev, "direct")
        q = node.query
        assert q is not None
        pool = [
            b
            for b in self.blocks
            if (q.kind is None or b.kind == q.kind)
            and set(q.tags) <= set(b.tags)
            and q.min_complexity <= b.complexity <= q.max_complexity
        ]
        chosen, last = [], prev
        for _ in range(q.count):
            ranked = sorted(
                (b for b in pool if b not in chosen),
                key=lambda b: (-self.compatibility(last, b), b.complexity, b.id),
            )
            if not ranked or self.compatibility(last, ranked[0]) < q.min_compatibility:
                break
            chosen.append(ranked[0])
            last = ranked[0]
        if len(chosen) == q.count:
            return self._scored(chosen, prev, "query")
        if node.fallback_blocks:
            return self._scored([self.block(b) for b in node.fallback_blocks], prev, "fallback")
        raise BlockResolutionError(
            f"action-block node {node.id!r}: {len(chosen)} of {q.count} block(s) match the query "
            f"(kind={q.kind}, tags={q.tags}, complexity {q.min_complexity}-{q.max_complexity}, "
            f"min compatibility {q.min_compatibility}) and there are no fallback_blocks"
        )

    def _scored(
        self, chosen: Sequence[ActionBlock], prev: ActionBlock | None, mode: str
    ) -> BlockResolution:
        scores, last = [], prev
        for b in chosen:
            scores.append(self.compatibility(last, b))
            last = b
        score = min(scores) if scores else self.scores.first
        return BlockResolution(
            tuple(b.id for b in chosen), tuple(b.prompt for b in chosen), score, mode
        )

    def compose(
        self,
        resolution: BlockResolution,
        composition: str,
        social: SocialContext,
        *,
        npc: str,
        launch: str,
    ) -> GenerationRequest:
        """One generation request from the resolved fragments and the social context."""
        fragments = resolution.prompts
        if composition == "merged":
            fragments = tuple(dict.fromkeys(fragments))
        prompt = self.joiners[composition].join(fragments)  # type: ignore[index]
        return GenerationRequest(
            kind="action_blocks",
            program=None,
            prompt=prompt,
            segments=resolution.prompts,
            blocks=resolution.blocks,
            composition=composition,
            npc=npc,
            social=social,
            launch=launch,
        )


@dataclass(frozen=True, slots=True)
class BlockResolution:
    """Blocks chosen for a node, their prompts, the weakest compatibility, and how."""

    blocks: tuple[str, ...]
    prompts: tuple[str, ...]
    compatibility: float
    mode: str  # "direct", "query" or "fallback"


@dataclass(frozen=True, slots=True)
class SocialContext:
    """The relationship tier, mood and affinity a generation should respect."""

    tier: str
    mood: str
    affinity: float


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """What to generate: a dialogue line or a composed action-block sequence."""

    kind: str  # "dialogue" or "action_blocks"
    program: str | None
    prompt: str
    segments: tuple[str, ...]
    blocks: tuple[str, ...]
    composition: str | None
    npc: str
    social: SocialContext
    launch: str  # "immediate" or "pending"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        s = self.social
        return {
            "kind": self.kind,
            "program": self.program,
            "prompt": self.prompt,
            "segments": list(self.segments),
            "blocks": list(self.blocks),
            "composition": self.composition,
            "npc": self.npc,
            "social": {"tier": s.tier, "mood": s.mood, "affinity": s.affinity},
            "launch": self.launch,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenerationRequest:
        """Inverse of :meth:`to_dict`."""
        fields = dict(data)
        fields["segments"], fields["blocks"] = tuple(data["segments"]), tuple(data["blocks"])
        fields["social"] = SocialContext(**data["social"])
        return cls(**fields)

    def key(self) -> str:
        """A stable content hash (the same request always has the same key)."""
        text = _KEY_ENCODER.encode(self.to_dict())
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class Generation:
    """A launched (``done``) or queued (``pending``) generation."""

    id: str
    status: str  # "done" or "pending"
    request: GenerationRequest
    content: str | None


class GenerationProvider(Protocol):
    """Anything that turns a request into content."""

    def generate(self, request: GenerationRequest) -> Generation:
        """Generate the content for ``request``."""
        ...


class OfflineProvider:
    """Deterministic, offline: the content is the prompt, the id a hash of the request."""

    def generate(self, request: GenerationRequest) -> Generation:
        """The request's prompt as content, with a content-addressed id."""
        return Generation(f"gen-{request.key()}", "done", request, request.prompt)


def load_block_library(path: str | Path) -> BlockLibrary:
    """Read and validate an action-block library file."""
    return parse_model(BlockLibrary, read_document(path), path)


@cache
def default_block_library() -> BlockLibrary:
    """The packaged library (``storylab/data/action-blocks.yaml``)."""
    return load_block_library(packaged_path("action-blocks.yaml"))
