"""``WorldState``: the facts of a story world, its narrative state and its position.

Shared by the archives (which build a starting state) and the storyteller (which plans
over states). Facts are ``str -> bool | int | float | str | frozenset[str]``; set-valued
facts come from *additive* effects.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator

from storylab._data import Frozen
from storylab.theory.state import NarrativeState

__all__ = ["Condition", "Effect", "FactValue", "WorldState"]

FactValue = bool | int | float | str | frozenset[str]
Operator = Literal["==", "!=", ">", "<", ">=", "<="]

_ORDER: dict[str, Callable[[object, object], bool]] = {
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


class Condition(Frozen):
    """A precondition ``key op value`` on a world state's facts.

    A missing fact satisfies only ``!=``. On a set-valued fact, ``==``/``!=`` test
    membership and the ordering operators compare the set's size.

    >>> s = WorldState(facts={"ally": True, "clues": frozenset({"ring"})})
    >>> Condition(key="ally", op="==", value=True).holds(s)
    True
    >>> Condition(key="clues", op=">=", value=2).holds(s)
    False
    """

    key: str = Field(min_length=1)
    op: Operator = "=="
    value: bool | int | float | str

    def holds(self, state: WorldState) -> bool:
        """Whether the condition is true in ``state``."""
        return self.test(state.facts.get(self.key))

    def test(self, fact: FactValue | None) -> bool:
        """Whether the condition is true of one fact value (``None`` when missing)."""
        if fact is None:
            return self.op == "!="
        if isinstance(fact, frozenset):
            if self.op in ("==", "!="):
                return (self.value in fact) == (self.op == "==")
            fact = len(fact)
        if self.op == "==":
            return fact == self.value
        if self.op == "!=":
            return fact != self.value
        if isinstance(fact, bool | str) or isinstance(self.value, bool | str):
            return False
        return _ORDER[self.op](fact, self.value)


class Effect(Frozen):
    """A change to one fact: *exclusive* replaces it, *additive* accumulates.

    Additive numbers add; additive strings join a set.
    """

    key: str = Field(min_length=1)
    value: bool | int | float | str
    cardinality: Literal["exclusive", "additive"] = "exclusive"

    def apply(self, facts: Mapping[str, FactValue]) -> FactValue:
        """The fact's new value given the current ``facts``."""
        if self.cardinality == "exclusive":
            return self.value
        current = facts.get(self.key)
        if isinstance(self.value, int | float) and not isinstance(self.value, bool):
            base = (
                current if isinstance(current, int | float) and not isinstance(current, bool) else 0
            )
            return base + self.value
        members = current if isinstance(current, frozenset) else frozenset()
        return members | {str(self.value)}


class WorldState(Frozen):
    """Immutable, hashable world: facts, a narrative state, and a story position in [0, 1]."""

    facts: Mapping[str, FactValue] = Field(default_factory=dict)
    narrative: NarrativeState | None = None
    position: float = Field(default=0.0, ge=0.0, le=1.0)

    _hash: int = PrivateAttr(default=0)

    @field_validator("facts")
    @classmethod
    def _sorted(cls, facts: Mapping[str, FactValue]) -> dict[str, FactValue]:
        return {k: (frozenset(v) if isinstance(v, set) else v) for k, v in sorted(facts.items())}

    def model_post_init(self, __context: object) -> None:
        self._hash = hash((tuple(self.facts.items()), self.narrative, self.position))

    def __hash__(self) -> int:
        return self._hash

    def satisfies(self, condition: Condition) -> bool:
        """Whether ``condition`` holds here."""
        return condition.holds(self)

    def apply(self, effects: tuple[Effect, ...] | list[Effect]) -> WorldState:
        """A new state with ``effects`` applied in order."""
        facts = dict(self.facts)
        for effect in effects:
            facts[effect.key] = effect.apply(facts)
        return WorldState(facts=facts, narrative=self.narrative, position=self.position)

    def with_narrative(self, narrative: NarrativeState) -> WorldState:
        """A copy with another narrative state."""
        return WorldState(facts=self.facts, narrative=narrative, position=self.position)

    def with_position(self, position: float) -> WorldState:
        """A copy at another position, clamped to [0, 1]."""
        return WorldState(
            facts=self.facts, narrative=self.narrative, position=min(1.0, max(0.0, position))
        )
