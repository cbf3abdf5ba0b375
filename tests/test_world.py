import pytest
from pydantic import ValidationError

from storylab import NarrativeState
from storylab.theory import Condition, Effect, WorldState


def test_conditions_on_plain_facts():
    s = WorldState(facts={"trust": 3, "ally": True, "mood": "grim"})
    assert Condition(key="trust", op=">=", value=3).holds(s)
    assert not Condition(key="trust", op=">", value=3).holds(s)
    assert Condition(key="mood", op="!=", value="calm").holds(s)
    assert not Condition(key="mood", op="<", value=2).holds(s)  # strings do not order
    assert not Condition(key="missing", op="==", value=False).holds(s)
    assert Condition(key="missing", op="!=", value=True).holds(s)


def test_effects_exclusive_and_additive():
    s = WorldState(facts={"n": 1})
    t = s.apply(
        [
            Effect(key="n", value=2, cardinality="additive"),
            Effect(key="clues", value="ring", cardinality="additive"),
            Effect(key="clues", value="letter", cardinality="additive"),
            Effect(key="ally", value=True),
        ]
    )
    assert t.facts == {"ally": True, "clues": frozenset({"ring", "letter"}), "n": 3}
    assert s.facts == {"n": 1}
    assert Condition(key="clues", op="==", value="ring").holds(t)
    assert Condition(key="clues", op=">=", value=2).holds(t)


def test_states_hash_by_value():
    n = NarrativeState.for_genre("crime")
    a = WorldState(facts={"x": 1, "y": frozenset({"a"})}, narrative=n, position=0.5)
    b = WorldState(facts={"y": {"a"}, "x": 1}, narrative=n, position=0.5)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.with_position(2.0).position == 1.0
    with pytest.raises(ValidationError):
        WorldState(position=1.5)
