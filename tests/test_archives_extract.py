"""ArchiveExtractor: every fact rule of the packaged config, at its boundary; config files."""

import pytest
import yaml

from storylab import DataError, NarrativeState, UnknownNameError
from storylab._data import parse_model
from storylab.archives import (
    ArchiveBundle,
    ArchiveExtractor,
    default_extraction,
    dump_extraction,
    extract_facts,
    extract_world_state,
    load_extraction,
)
from storylab.archives.config import ExtractionConfig, FactRule, flatten, unflatten
from storylab.archives.extract import apply_rule, measures
from storylab.validation import validate_file

CONFIG = default_extraction()


def bundle_with(measure: str, value) -> ArchiveBundle:
    """A bundle whose ``measure`` is ``value`` (everything else default)."""
    family, _, rest = measure.partition(".")
    if measure == "character.alive":
        entries = {"character": {"name": "A", "alive": value}}
    elif measure == "character.death_cause":
        entries = {"character": {"name": "A", "alive": False, "death_cause": value}}
    elif measure in ("character.name", "realm.name"):
        entries = {"character" if family == "character" else "realm-history": {"name": value}}
    elif family == "personality":
        trait = rest.removeprefix("trait.")
        entry = {"traits": {trait: value}} if rest.startswith("trait.") else {rest: value}
        entries = {"character-personality": entry}
    elif measure == "history.max_significance" or rest.startswith("role."):
        role = rest.removeprefix("role.") if rest.startswith("role.") else "witness"
        part = {"event": "ev", "role": role, "significance": value}
        entries = {"character-history": {"participations": [part]}}
    elif measure == "history.trauma":
        entries = {"character-history": {"backstory": {"trauma": value}}}
    elif measure == "history.goals":
        entries = {"character-history": {"backstory": {"goals": [f"g{i}" for i in range(value)]}}}
    elif measure == "history.max_victory":
        entries = {"character-history": {"victories": [{"title": "t", "significance": value}]}}
    elif family == "encounters":
        p = {"other": "V", "sentiment_shift": value, "emotional_impact": 0.5}
        entries = {"character-encounter": {"encounters": [{"id": "e", "perspectives": [p]}]}}
    elif measure == "realm.stability" or rest.startswith("theme."):
        theme = rest.removeprefix("theme.")
        lore = {"stability": value} if rest == "stability" else {"themes": {theme: value}}
        entries = {"realm-history": {"name": "R", **lore}}
    elif measure == "realm.max_event_significance":
        event = {"code": "c", "significance": value}
        entries = {"realm-history": {"name": "R", "events": [event]}}
    else:
        raise AssertionError(f"no builder for measure {measure}")
    bundle = ArchiveBundle.from_dict(entries)
    assert measures(bundle)[measure] == value
    return bundle


RULES = sorted(CONFIG.facts.items())


@pytest.mark.parametrize(("fact", "rule"), RULES, ids=[f for f, _ in RULES])
def test_every_fact_rule_of_the_packaged_config(fact, rule):
    def fact_of(value):
        return extract_facts(bundle_with(rule.source, value), CONFIG).get(fact)

    match rule.transform:
        case "at_least" | "at_most":
            step = 0.01 if rule.transform == "at_least" else -0.01
            assert fact_of(rule.threshold) is True  # the threshold itself counts
            assert fact_of(round(rule.threshold - step, 6)) is False
        case "contains_any":
            for word in rule.words:
                assert fact_of(f"Something {word.upper()} happened") is True
            assert fact_of("quietly in bed") is False
        case "present":
            present, absent = ("a wound", None) if rule.source == "history.trauma" else (2, 0)
            assert fact_of(present) is True
            if absent is not None:
                assert fact_of(absent) is False
        case "value":
            sample = {"character.name": "Zed", "realm.name": "Zon", "character.alive": False}
            value = sample.get(rule.source, 0.37)
            assert fact_of(value) == value
    # where the source is missing, the fact is the rule's default (or left out when null)
    empty = ArchiveBundle.from_dict({})
    if measures(empty).get(rule.source) is None:
        assert extract_facts(empty, CONFIG).get(fact) == rule.default


def test_nemesis_and_ally_come_from_mean_sentiment_per_other():
    def encounter(i, other, shift):
        p = {"other": other, "sentiment_shift": shift, "emotional_impact": 0.5}
        return {"id": f"e{i}", "perspectives": [p]}

    mixed = [encounter(0, "V", -0.9), encounter(1, "V", 0.1), encounter(2, "W", 0.5)]
    facts = extract_facts(
        ArchiveBundle.from_dict({"character-encounter": {"encounters": mixed}}), CONFIG
    )
    assert facts["protagonist.has_nemesis"] is False  # V's mean is -0.4
    assert facts["protagonist.has_ally"] is True  # W's mean is 0.5, at the threshold


def test_apply_rule_handles_missing_and_unknown_measures():
    rule = FactRule(source="x", transform="present", default=False)
    assert apply_rule(rule, None) is False and apply_rule(rule, "") is False
    assert apply_rule(FactRule(source="x", transform="value"), None) is None


def test_world_state_carries_the_genre_state_and_fact_shifts():
    b = bundle_with("history.trauma", "fire")
    state = ArchiveExtractor().world_state(b, "war")
    shift = CONFIG.narrative.shifts["protagonist.experienced_trauma"]["primary"]
    assert state.position == 0.0
    assert state.narrative.primary.value == "honor_dishonor"
    assert state.narrative["honor_dishonor"] == pytest.approx(CONFIG.narrative.base + shift)
    assert state.narrative["life_death"] == CONFIG.narrative.base  # secondary untouched
    neutral = extract_world_state(ArchiveBundle.from_dict({}), "crime", "prison")
    assert neutral.narrative == NarrativeState.for_genre("crime", "prison", CONFIG.narrative.base)


def test_named_spectrum_shifts_apply_only_when_tracked():
    b = bundle_with("encounters.max_sentiment", 0.9)
    love = extract_world_state(b, "love").narrative["love_hate"]
    deltas = CONFIG.narrative.shifts["protagonist.has_ally"]
    assert love == pytest.approx(deltas["primary"] + deltas["love_hate"])
    assert extract_world_state(b, "war").narrative["love_hate"] is None


def test_config_round_trips_through_yaml_and_flat_params(tmp_path):
    path = tmp_path / "my-extraction.yaml"
    dump_extraction(CONFIG, path)
    again = load_extraction(path)
    assert again == CONFIG and dump_extraction(again) == path.read_text()
    flat = CONFIG.params()
    assert all(not isinstance(v, dict) or v == {} for v in flat.values())
    assert flat["kernels__conflict__min_emotional_impact"] == 0.7
    assert unflatten(flatten(CONFIG.model_dump(mode="json"))) == CONFIG.model_dump(mode="json")
    flat_file = tmp_path / "flat-extraction.yaml"
    flat_file.write_text(yaml.safe_dump(flat))
    assert load_extraction(flat_file) == CONFIG
    assert validate_file(flat_file) == [] and validate_file(path) == []


def test_override_file_changes_extraction(tmp_path):
    path = tmp_path / "extraction.yaml"
    tweaked = CONFIG.with_params(
        {"facts__protagonist.trait.cautious__threshold": 0.9, "narrative__base": 0.5}
    )
    dump_extraction(tweaked, path)
    b = bundle_with("personality.trait.cautious", 0.8)
    assert extract_facts(b, CONFIG)["protagonist.trait.cautious"] is True
    state = extract_world_state(b, "crime", config=path)
    assert state.facts["protagonist.trait.cautious"] is False
    assert state.narrative.primary_value == 0.5
    assert ArchiveExtractor(str(path)).config == tweaked


@pytest.mark.parametrize(
    ("params", "where", "expected"),
    [
        (
            {"facts__protagonist.calm__threshold": None},
            "facts.protagonist.calm",
            "threshold exactly",
        ),
        (
            {"facts__x__source": "a", "facts__x__transform": "contains_any"},
            "facts.x",
            "words exactly",
        ),
        (
            {"recommendation__genres__war__weights__no.such.fact": 1.0},
            "(top level)",
            "no.such.fact",
        ),
        ({"recommendation__genres__noir__bias": 1.0}, "recommendation", "known genres"),
        ({"narrative__shifts__protagonist.has_ally__nowhere": 0.1}, "narrative.shifts", "targets"),
        (
            {"kernels__deep_bond__min_encounters": 0},
            "kernels.deep_bond.min_encounters",
            "greater than",
        ),
    ],
)
def test_bad_configs_name_the_path(params, where, expected):
    with pytest.raises(DataError) as err:
        CONFIG.with_params(params)
    assert any(p.path.startswith(where) and expected in p.expected for p in err.value.problems), (
        err.value
    )


def test_bad_config_file_is_reported_by_validate(tmp_path):
    path = tmp_path / "extraction.yaml"
    path.write_text("kind: extraction\nversion: 1\nfacts: {}\n")
    problems = validate_file(path)
    assert {p.path for p in problems} == {"kernels", "recommendation"}


def test_names_may_not_contain_the_flat_separator():
    document = CONFIG.model_dump(mode="json")
    document["facts"]["bad__name"] = {"source": "x", "transform": "value"}
    with pytest.raises(DataError, match="without '__'"):
        parse_model(ExtractionConfig, document, "x.yaml")


def test_unknown_genre_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="known: action"):
        extract_world_state(ArchiveBundle.from_dict({}), "noir")
