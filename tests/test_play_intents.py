"""Phase intents: typed parameters, made from the state when the phase is reached; dispatch."""

import json

import pytest

from storylab.intents import IntentStore
from storylab.play import (
    AssignBehavior,
    ModifyRelationship,
    RecordHistory,
    StoryPlayer,
    TriggerEncounter,
    dispatch,
    phase_intents,
    store_inputs,
)
from storylab.runtime import OfflineProvider
from storylab.storyteller import ActionCategory, StoryIntentType, compose
from storylab.theory import ActantRole, NarrativeState, SpectrumType, WorldState

CAST = {"subject": "mara", "opponent": "vex", "helper": "ide", "sender": "old_kai"}


@pytest.fixture(scope="module")
def plan():
    return compose("man_in_a_hole", "action", seed=1, actants=CAST)


def _world(plan, value):
    return WorldState(
        narrative=NarrativeState(
            primary=plan.primary_spectrum, values={plan.primary_spectrum: value}
        )
    )


def test_intents_carry_typed_parameters_per_type(plan):
    made = [i for p in plan.phases for i in phase_intents(plan, p.number, _world(plan, -0.3))]
    assert len(made) == len(plan.intents)
    assert {type(i).__name__ for i in made} >= {"TriggerEncounter", "RecordHistory"}
    for intent, spec in zip(made, plan.intents, strict=True):
        assert intent.type is spec.type and intent.action == spec.action_id
        assert intent.role is spec.target_role and intent.urgency == spec.urgency
        assert intent.character == (CAST.get(spec.target_role.value) if spec.target_role else None)
        assert intent.spectrum is SpectrumType.LIFE_DEATH and intent.value == -0.3
        phase = plan.phases[intent.phase - 1]
        assert intent.target == (phase.target_state.primary_min, phase.target_state.primary_max)
        assert intent.cast[ActantRole.SUBJECT] == "mara"
        if isinstance(intent, TriggerEncounter | ModifyRelationship):
            assert intent.parties == ("mara", intent.character)
        if isinstance(intent, ModifyRelationship):
            assert isinstance(intent.delta, float)
        if isinstance(intent, AssignBehavior):
            assert isinstance(intent.behavior, ActionCategory)
        if isinstance(intent, RecordHistory):
            assert intent.event == intent.action
    # typed: JSON keeps the type and round-trips through the union
    data = json.loads(made[0].model_dump_json())
    assert data["type"] == made[0].type.value and data["phase"] == 1


def test_intents_read_the_state_they_are_given(plan):
    low = phase_intents(plan, 2, _world(plan, -0.5))
    high = phase_intents(plan, 2, _world(plan, 0.4))
    assert {i.value for i in low} == {-0.5} and {i.value for i in high} == {0.4}
    assert all(i.phase == 2 for i in low)
    uncast = phase_intents(plan, 2, _world(plan, 0.0), cast={})
    assert all(i.character is None for i in uncast)


def test_bad_phase_and_world_are_refused(plan):
    with pytest.raises(ValueError, match="phase: one of"):
        phase_intents(plan, 9, _world(plan, 0.0))
    with pytest.raises(ValueError, match="narrative state"):
        phase_intents(plan, 1, WorldState())


def test_dispatch_to_a_provider_and_to_a_store(plan):
    intents = phase_intents(plan, 1, _world(plan, 0.0))
    sent = dispatch(intents, provider=OfflineProvider())
    assert [d.via for d in sent] == ["provider"] * len(intents)
    assert sent[0].content.startswith(f"[{intents[0].type.value} ")
    assert sent[0].ref == dispatch(intents, provider=OfflineProvider())[0].ref  # deterministic

    class Store:
        def __init__(self):
            self.rows = []

        def create_intent(self, scenario, kind, inputs, session_id=None):
            self.rows.append((scenario, kind, inputs, session_id))
            return f"intent-{len(self.rows)}"

    store = Store()
    stored = dispatch(intents, store=store, scenario="s", session_id="play-1")
    assert [d.ref for d in stored] == [f"intent-{k + 1}" for k in range(len(intents))]
    scenario, kind, inputs, session = store.rows[0]
    first = intents[0]
    assert scenario == f"s/1.{first.sequence_index}.{first.type.value}" and session == "play-1"
    assert len({row[0] for row in store.rows}) == len(intents)  # one scenario per intent
    assert kind == first.type.value and inputs["action_id"] == first.action
    assert inputs["phase_number"] == 1 and inputs["chapter"] == "phase 1"
    assert f"{first.spectrum.value} +0.00" in inputs["description"]
    with pytest.raises(ValueError, match="store or a generation provider"):
        dispatch(intents)


def test_store_inputs_flatten_the_typed_parameters(plan):
    made = [i for p in plan.phases for i in phase_intents(plan, p.number, _world(plan, -0.2))]
    encounter = next(i for i in made if isinstance(i, TriggerEncounter))
    inputs = store_inputs(encounter)
    assert inputs["character"] == encounter.character and "delta" not in inputs
    assert f"parties {list(encounter.parties)}" in inputs["description"]
    lo, hi = encounter.target
    assert f"life_death -0.20, phase target [{lo:+.2f}, {hi:+.2f}]" in inputs["description"]
    history = next(i for i in made if isinstance(i, RecordHistory))
    assert f"event {history.event}" in store_inputs(history)["description"]
    relation = ModifyRelationship(
        **{**encounter.model_dump(), "type": "modify_relationship", "delta": -0.15}
    )
    assert store_inputs(relation)["delta"] == -0.15


def test_the_player_makes_each_phase_intents_when_the_phase_is_reached(plan):
    player = StoryPlayer(plan, provider=OfflineProvider())
    result = player.start()
    assert {i.phase for i in player.intents} == {1}  # not all up front
    first = player.intents[0]
    assert first.value == plan.initial_state.values[plan.primary_spectrum]
    deviation = next(c.id for c in result.choices if c.id.startswith("deviate."))
    player.step(deviation)  # re-plans, then reaches phase 2 from the bent world
    second = [i for i in player.intents if i.phase == 2]
    assert second and second[0].value == pytest.approx(
        player.replans[0].played.values[plan.primary_spectrum]
    )
    assert {i.action for i in second} <= {a.action_id for a in player.current.actions}
    assert len(player.dispatched) == len(player.intents)
    assert {d.intent.type for d in player.dispatched} <= set(StoryIntentType)


def test_the_player_persists_phase_intents_in_the_intents_store(plan, tmp_path):
    store = IntentStore(tmp_path / "play.sqlite")
    player = StoryPlayer(plan, store=store)
    result = player.start()
    player.step(next(c.id for c in result.choices if c.id.startswith("deviate.")))
    assert player.dispatched and {d.via for d in player.dispatched} == {"store"}
    stored = store.intent(player.dispatched[0].ref)
    first = player.dispatched[0].intent
    assert stored.kind == first.type.value and stored.status == "pending"
    assert stored.inputs["action_id"] == first.action
    assert stored.inputs["phase_number"] == first.phase
    assert len(store.intents()) == len(player.dispatched)
