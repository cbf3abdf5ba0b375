"""The narrative program model: nodes, edges, effects and metadata, as frozen pydantic models.

A program is a directed graph. Ten node types cover dialogue, choices, state changes,
action blocks, scenes, routing, waiting, calls into the host, calls of other programs
(sub-conversations that return) and comments. Edges carry
optional conditions and effects; the first edge (in file order) whose conditions hold is
taken. Conditions, effect expressions and templates are strings in the language of
:mod:`storylab.runtime.expressions`; :func:`check_program` parses them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from storylab._data import Frozen, parse_model, read_document
from storylab.runtime._bulk import collection_paused

__all__ = [
    "ActionBlockNode",
    "ActionNode",
    "BlockQuery",
    "BranchNode",
    "CallNode",
    "Character",
    "Choice",
    "ChoiceNode",
    "CommentNode",
    "DialogueNode",
    "Edge",
    "Effects",
    "ExternalCallNode",
    "NarrativeProgram",
    "Node",
    "ProgramMetadata",
    "Renames",
    "SceneNode",
    "WaitNode",
    "parse_program",
    "program_json_schema",
    "read_program",
]

Scalar = bool | int | float | str | None
Id = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.:\-]*$")]
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
_W = r"[A-Za-z_][A-Za-z0-9_]*"
#: What ``set`` can write: ``rel.<npc>.<field>``, ``flags.<name>``, ``inv.<item>``,
#: ``arc.<name>``, ``quest.<name>`` or ``var.<name>`` (the names conditions read).
Target = Annotated[str, Field(pattern=rf"^(rel\.{_W}\.{_W}|(flags|inv|arc|quest|var)\.{_W})$")]


class Effects(Frozen):
    """State changes, applied in the order the author wrote them.

    ``relationships`` and ``arcs`` add deltas; ``flags`` and ``quests`` set values;
    ``inventory`` adds counts (a count may not drop below zero); ``variables`` set program
    variables to expressions (a string is always an expression: write ``"'text'"`` for
    text); ``set`` sets any target conditions can read (``rel.mara.affinity``,
    ``inv.coin``, ``flags.met``, ``arc.x``, ``quest.x``, ``var.x``) to a value or an
    expression (again, a string is an expression). The groups run in the order their keys
    are written, and the entries of each group in theirs.
    """

    relationships: dict[Name, dict[Name, int | float]] = Field(default_factory=dict)
    flags: dict[Name, Scalar] = Field(default_factory=dict)
    inventory: dict[Name, int] = Field(default_factory=dict)
    arcs: dict[Name, int | float] = Field(default_factory=dict)
    quests: dict[Name, Scalar] = Field(default_factory=dict)
    variables: dict[Name, Scalar] = Field(default_factory=dict)
    set: dict[Target, Scalar] = Field(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_order(cls, data: Any, handler: Any) -> Effects:
        effects = handler(data)
        if data.__class__ is dict and tuple(data) != _GROUPS[: len(data)]:
            written = tuple(k for k in data if k in _GROUPS)
            # kept beside the fields (not a field, nor a private attribute, which would
            # cost every instance): only effects written out of field order carry it
            effects.__dict__["_order"] = written + tuple(k for k in _GROUPS if k not in written)
        return effects

    @property
    def order(self) -> tuple[str, ...]:
        """The groups in the order they apply (as written; unwritten ones in field order)."""
        return self.__dict__.get("_order", _GROUPS)


_GROUPS = tuple(Effects.model_fields)


class _NodeBase(Frozen):
    id: Id
    label: str | None = None
    on_enter: Effects | None = None
    on_exit: Effects | None = None
    end: bool = Field(default=False, description="an intended ending (never a dead end)")


class DialogueNode(_NodeBase):
    """A line: text (a template) spoken by ``speaker``; may ask a generation program."""

    type: Literal["dialogue"]
    text: str
    speaker: str | None = None
    generation_program: str | None = None


class Choice(Frozen):
    """One option of a choice node; ``to`` defaults to the node's outgoing edges."""

    id: Id
    text: str
    conditions: list[str] = Field(default_factory=list)
    effects: Effects | None = None
    once_only: bool = False
    to: Id | None = None


class ChoiceNode(_NodeBase):
    """Waits for the player to pick one of the ``choices`` on offer.

    When none is on offer (all hidden or used up), ``fallback`` is taken.
    """

    type: Literal["choice"]
    prompt: str | None = None
    choices: list[Choice]
    fallback: Id | None = None


class ActionNode(_NodeBase):
    """Applies ``effects``; ``delay`` advances world time."""

    type: Literal["action"]
    effects: Effects
    delay: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)


class BlockQuery(Frozen):
    """Select action blocks by kind, tags and complexity (best compatibility first)."""

    kind: str | None = None
    tags: list[str] = Field(default_factory=list)
    min_complexity: int = Field(default=1, ge=1)
    max_complexity: int = Field(default=5, ge=1)
    count: int = Field(default=1, ge=1)
    min_compatibility: float = Field(default=0.0, ge=0.0, le=1.0)


class ActionBlockNode(_NodeBase):
    """Resolves action blocks (by id or query) and composes one generation request."""

    type: Literal["action_block"]
    blocks: list[Id] = Field(default_factory=list)
    query: BlockQuery | None = None
    fallback_blocks: list[Id] = Field(default_factory=list)
    composition: Literal["sequential", "layered", "merged"] = "sequential"
    launch: Literal["immediate", "pending"] = "immediate"

    @model_validator(mode="after")
    def _has_source(self) -> ActionBlockNode:
        if not self.blocks and self.query is None:
            raise ValueError("an action_block node needs 'blocks' or 'query'")
        return self


class SceneNode(_NodeBase):
    """Launches a scene (by id or by intent) with roles bound to characters."""

    type: Literal["scene"]
    scene_id: str | None = None
    intent: str | None = None
    roles: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_target(self) -> SceneNode:
        if self.scene_id is None and self.intent is None:
            raise ValueError("a scene node needs 'scene_id' or 'intent'")
        return self


class BranchNode(_NodeBase):
    """Routes by its outgoing edges' conditions, without stopping."""

    type: Literal["branch"]


class WaitNode(_NodeBase):
    """Waits until world time has advanced by ``duration`` and/or ``condition`` holds."""

    type: Literal["wait"]
    duration: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    condition: str | None = None

    @model_validator(mode="after")
    def _has_trigger(self) -> WaitNode:
        if self.duration is None and self.condition is None:
            raise ValueError("a wait node needs 'duration' or 'condition'")
        return self


class ExternalCallNode(_NodeBase):
    """Calls a handler the host registered; ``args`` are expressions (strings) or literals.

    The handler's return value is stored in the variable ``store_as`` when given.
    """

    type: Literal["external_call"]
    handler: Name
    args: dict[Name, Scalar] = Field(default_factory=dict)
    store_as: Name | None = None


class CallNode(_NodeBase):
    """Plays ``program`` as a sub-conversation, then goes on by this node's edges.

    ``args`` set variables of the called program before its entry runs: expressions
    (strings) or literals, evaluated in this program.
    """

    type: Literal["call"]
    program: Id
    args: dict[Name, Scalar] = Field(default_factory=dict)


class CommentNode(_NodeBase):
    """A note for authors; skipped when played."""

    type: Literal["comment"]
    text: str = ""


Node = Annotated[
    DialogueNode
    | ChoiceNode
    | ActionNode
    | ActionBlockNode
    | SceneNode
    | BranchNode
    | WaitNode
    | ExternalCallNode
    | CallNode
    | CommentNode,
    Field(discriminator="type"),
]


class Edge(Frozen):
    """A way from one node to another, taken when all ``conditions`` hold."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: Id | None = None
    from_: Id = Field(alias="from")
    to: Id
    conditions: list[str] = Field(default_factory=list)
    effects: Effects | None = None


class Character(Frozen):
    """A character the program involves and the role it plays."""

    id: Id
    name: str | None = None
    role: str | None = None


class ProgramMetadata(Frozen):
    """Tags, content rating and the cast."""

    tags: list[str] = Field(default_factory=list)
    content_rating: Literal["general", "teen", "mature", "adult"] = "general"
    characters: list[Character] = Field(default_factory=list)


class Renames(Frozen):
    """Where nodes and variables of earlier versions went (old id -> new id)."""

    nodes: dict[str, Id] = Field(default_factory=dict)
    variables: dict[str, Name] = Field(default_factory=dict)


class NarrativeProgram(Frozen):
    """A versioned narrative program: a graph of nodes and edges with an entry node."""

    id: Id
    version: int = Field(default=1, ge=1)
    kind: str = Field(default="dialogue", min_length=1)
    title: str | None = None
    entry: Id
    variables: dict[Name, Scalar] = Field(default_factory=dict)
    nodes: list[Node] = Field(min_length=1)
    edges: list[Edge] = Field(default_factory=list)
    metadata: ProgramMetadata = Field(default_factory=ProgramMetadata)
    renames: Renames = Field(default_factory=Renames)

    def node(self, node_id: str) -> Any:
        """The node with ``node_id`` (``KeyError`` when there is none)."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


def program_json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`NarrativeProgram`, for editors to validate and complete."""
    schema = NarrativeProgram.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "storylab narrative program"
    return schema


def parse_program(data: Any, source: str | Path = "<program>") -> NarrativeProgram:
    """Validate program data against the model only (see :func:`check_program` for the rest).

    Raises
    ------
    DataError
        Naming the source, the path inside it and what was expected.
    """
    with collection_paused():
        return parse_model(NarrativeProgram, data, source)


def read_program(path: str | Path) -> NarrativeProgram:
    """Read a program from a YAML or JSON file (model validation only)."""
    return parse_program(read_document(path), path)
