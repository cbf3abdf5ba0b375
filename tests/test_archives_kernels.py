"""KernelExtractor: each kernel type at its thresholds, ordering, config overrides."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storylab.archives import (
    ArchiveBundle,
    KernelExtractor,
    KernelType,
    default_extraction,
    extract_kernels,
    extract_world_state,
    generate_archives,
    recommend,
)

RULES = default_extraction().kernels


def kinds(bundle, config=None):
    return [k.type for k in extract_kernels(bundle, config=config)]


def history(participations=(), trauma=None, goals=()):
    return ArchiveBundle.from_dict(
        {
            "character-history": {
                "participations": [
                    {"event": f"ev{i}", "role": "soldier", "significance": s}
                    for i, s in enumerate(participations)
                ],
                "backstory": {"trauma": trauma, "goals": list(goals)},
            }
        }
    )


def encounters(*perspectives):
    return ArchiveBundle.from_dict(
        {
            "character-encounter": {
                "encounters": [
                    {"id": f"e{i}", "kind": "duel", "perspectives": [p]}
                    for i, p in enumerate(perspectives)
                ]
            }
        }
    )


def view(other, shift, impact):
    return {"other": other, "sentiment_shift": shift, "emotional_impact": impact}


def test_death_is_a_kernel_only_for_the_dead():
    dead = ArchiveBundle.from_dict(
        {"character": {"name": "Ada", "alive": False, "death_cause": "fever", "death_place": "x"}}
    )
    (kernel,) = extract_kernels(dead)
    assert kernel.type is KernelType.DEATH and kernel.significance == RULES.death.significance
    assert kernel.data == {"cause": "fever", "place": "x"}
    assert "Ada" in kernel.description and "fever" in kernel.description
    anonymous = ArchiveBundle.from_dict({"character": {"name": "Bo", "alive": False}})
    assert "cause unknown" in extract_kernels(anonymous)[0].description
    assert kinds(ArchiveBundle.from_dict({"character": {"name": "Bo"}})) == []


def test_historical_events_at_and_below_the_threshold():
    at = RULES.historical_event.min_significance
    found = extract_kernels(history([at, round(at - 0.01, 6), 1.0]))
    assert [(k.type, k.significance) for k in found] == [
        (KernelType.HISTORICAL_EVENT, 1.0),
        (KernelType.HISTORICAL_EVENT, at),
    ]
    assert found[1].data == {"event": "ev0", "role": "soldier", "outcome": None}


def test_trauma_needs_a_trauma():
    assert kinds(history(trauma="the fire")) == [KernelType.TRAUMA]
    assert kinds(history(trauma="")) == [] == kinds(history())
    assert extract_kernels(history(trauma="x"))[0].significance == RULES.trauma.significance


def test_unfinished_business_at_the_goal_count():
    n = RULES.unfinished_business.min_goals
    goals = [f"goal {i}" for i in range(n)]
    (kernel,) = extract_kernels(history(goals=goals))
    assert kernel.type is KernelType.UNFINISHED_BUSINESS and kernel.data == {"goals": goals}
    assert kinds(history(goals=goals[:-1])) == []


def test_conflict_needs_both_a_bitter_shift_and_a_strong_impact():
    shift, impact = RULES.conflict.max_sentiment_shift, RULES.conflict.min_emotional_impact
    assert kinds(encounters(view("V", shift, impact))) == [KernelType.CONFLICT]
    assert kinds(encounters(view("V", shift + 0.01, impact))) == []
    assert kinds(encounters(view("V", shift, impact - 0.01))) == []
    (kernel,) = extract_kernels(encounters(view("V", -1.0, 1.0)))
    assert kernel.data == {"encounter": "e0", "kind": "duel", "others": ["V"]}
    assert kernel.significance == RULES.conflict.significance


def test_one_conflict_kernel_per_encounter_naming_the_bitter_side():
    b = ArchiveBundle.from_dict(
        {
            "character-encounter": {
                "encounters": [
                    {"id": "brawl", "perspectives": [view("V", -0.9, 0.9), view("W", 0.5, 0.2)]}
                ]
            }
        }
    )
    (kernel,) = extract_kernels(b)
    assert kernel.data["others"] == ["V", "W"] and kernel.description.endswith("with V")


def test_deep_bond_at_the_count_and_mean_thresholds():
    n, mean = RULES.deep_bond.min_encounters, RULES.deep_bond.min_mean_sentiment
    (kernel,) = extract_kernels(encounters(*[view("W", mean, 0.5)] * n))
    assert kernel.type is KernelType.DEEP_BOND
    assert kernel.data == {"other": "W", "mean_sentiment": mean, "encounters": n}
    assert kinds(encounters(*[view("W", mean, 0.5)] * (n - 1))) == []
    assert kinds(encounters(*[view("W", round(mean - 0.01, 6), 0.5)] * n)) == []
    # the mean is over all encounters with that other: one cold meeting breaks the bond
    assert kinds(encounters(*[view("W", mean, 0.5)] * n, view("W", 0.0, 0.1))) == []


def test_order_is_by_significance_then_type_then_description():
    b = ArchiveBundle.from_dict(
        {
            "character": {"name": "A", "alive": False},
            "character-history": {
                "participations": [
                    {"event": "b", "role": "r", "significance": 0.8},
                    {"event": "a", "role": "r", "significance": 0.8},
                ],
                "backstory": {"trauma": "t", "goals": ["g"]},
            },
        }
    )
    found = extract_kernels(b)
    assert [k.type for k in found] == [
        KernelType.DEATH,
        KernelType.HISTORICAL_EVENT,
        KernelType.HISTORICAL_EVENT,
        KernelType.TRAUMA,
        KernelType.UNFINISHED_BUSINESS,
    ]
    assert [k.data.get("event") for k in found[1:3]] == ["a", "b"]
    significances = [k.significance for k in found]
    assert significances == sorted(significances, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in significances)


def test_thresholds_come_from_the_config():
    strict = default_extraction().with_params({"kernels__historical_event__min_significance": 0.95})
    b = history([0.9])
    assert kinds(b) == [KernelType.HISTORICAL_EVENT]
    assert kinds(b, strict) == []
    assert KernelExtractor(strict).kernels(b) == []


@pytest.mark.parametrize("kind", list(KernelType))
def test_every_kernel_type_has_a_rule(kind):
    assert hasattr(RULES, kind.value)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_any_generated_archive_extracts_cleanly(seed):
    (raw,) = generate_archives(1, seed=seed)
    bundle = ArchiveBundle.from_dict(raw)
    found = extract_kernels(bundle)
    assert [k.sort_key() for k in found] == sorted(k.sort_key() for k in found)
    assert all(0.0 <= k.significance <= 1.0 for k in found)
    assert (KernelType.DEATH in [k.type for k in found]) == (not bundle.get("character").alive)
    state = extract_world_state(bundle, "epic_fantasy")
    assert all(-1.0 <= v <= 1.0 for v in state.narrative.values.values())
    table = recommend(bundle)
    terms = table.drop(columns=["rank", "template", "genre", "compatible", "score"]).sum(axis=1)
    np.testing.assert_allclose(terms, table["score"], atol=1e-12)
