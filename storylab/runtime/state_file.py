"""Starting-state files: a session's facts in YAML or JSON, checked field by field.

A state file (``*.state.yaml``, or any file with ``kind: state``) holds the facts a
playthrough starts from; ``storylab play --state FILE`` and ``storylab validate`` read it
with :func:`load_state`. Every value has its type checked before a session is built, so
``inventory: {coin: lots}`` is a :class:`~storylab.DataError` naming ``inventory.coin``.

Examples
--------
>>> from storylab.runtime.state_file import parse_state
>>> session = parse_state({"inventory": {"coin": 3}, "world_time": 2}, "start.state.yaml")
>>> session.inventory, session.world_time
({'coin': 3}, 2.0)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, FiniteFloat, StrictBool, StrictInt, StrictStr

from storylab._data import DataError, Frozen, Problem, parse_model, read_document
from storylab.runtime.state import Session

__all__ = ["StateFile", "load_state", "parse_state"]

_Scalar = StrictBool | StrictInt | FiniteFloat | StrictStr


class StateFile(Frozen):
    """The facts of a starting session; every field is optional."""

    kind: Literal["state"] | None = None
    flags: dict[str, _Scalar | None] = Field(default_factory=dict)
    relationships: dict[str, dict[str, StrictInt | FiniteFloat | StrictStr]] = Field(
        default_factory=dict
    )
    inventory: dict[str, StrictInt] = Field(default_factory=dict)
    arcs: dict[str, StrictInt | FiniteFloat] = Field(default_factory=dict)
    quests: dict[str, _Scalar | None] = Field(default_factory=dict)
    player: dict[str, _Scalar | None] = Field(default_factory=dict)
    world_time: StrictInt | FiniteFloat = Field(default=0.0, ge=0)


def parse_state(data: Any, source: str | Path, session_id: str = "cli") -> Session:
    """A new :class:`Session` from the facts in ``data`` (``source`` labels errors)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise DataError([Problem(str(source), "(top level)", f"a mapping of facts, got {kind}")])
    facts = parse_model(StateFile, data, source).model_dump(exclude={"kind"})
    return Session(session_id, **facts)


def load_state(path: str | Path, session_id: str = "cli") -> Session:
    """Read a state file into a new :class:`Session`; a bad file raises ``DataError``."""
    return parse_state(read_document(path), path, session_id)
