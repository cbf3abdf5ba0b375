"""ArchiveBundle: opaque keys, typed entries, defaults, bad input."""

import json

import pytest
import yaml

from storylab import DataError
from storylab.archives import (
    ArchiveBundle,
    extract_kernels,
    extract_world_state,
    load_bundle,
    load_bundles,
)
from storylab.archives.models import DEFAULT_ENTRIES, ENTRY_MODELS, PersonalityEntry

FULL = {
    "character": {"name": "Ada", "alive": False, "death_cause": "fever", "death_place": "mill"},
    "character-personality": {"openness": 0.7, "traits": {"cautious": 0.8}},
    "character-history": {
        "participations": [{"event": "siege", "role": "soldier", "significance": 0.9}],
        "backstory": {"trauma": "fire", "goals": ["home"]},
        "victories": [{"title": "bridge", "significance": 0.7}],
    },
    "character-encounter": {
        "encounters": [
            {
                "id": "e1",
                "perspectives": [{"other": "Vex", "sentiment_shift": -0.9, "emotional_impact": 1}],
            }
        ]
    },
    "realm-history": {"name": "Varn", "themes": {"war": 0.9}, "stability": 0.2},
}


def test_known_entries_are_typed_and_unknown_ones_kept_aside():
    b = ArchiveBundle.from_dict({**FULL, "guild-ledger": {"gold": 3}, "z-notes": "x"})
    assert b.name == "Ada" and b.get("character-personality").traits == {"cautious": 0.8}
    assert b.unknown_keys == ("guild-ledger", "z-notes") and b.missing_keys == ()
    assert b.known_keys == tuple(FULL)
    assert b.raw("guild-ledger") == {"gold": 3}
    assert b.diagnostics == (
        "unknown entry 'guild-ledger': ignored",
        "unknown entry 'z-notes': ignored",
    )
    with pytest.raises(KeyError, match="does not read entry 'guild-ledger'"):
        b.get("guild-ledger")


def test_unknown_entries_change_nothing_downstream():
    plain = ArchiveBundle.from_dict(FULL)
    extra = ArchiveBundle.from_dict({**FULL, "character-inventory": [1, 2], "realm-economy": None})
    assert extract_world_state(plain, "war") == extract_world_state(extra, "war")
    assert extract_kernels(plain) == extract_kernels(extra)


def test_missing_entries_use_documented_defaults_and_say_so():
    b = ArchiveBundle.from_dict({"character": {"name": "Bo"}})
    assert b.missing_keys == tuple(k for k in ENTRY_MODELS if k != "character")
    assert (
        b.get("character-personality")
        == PersonalityEntry()
        == DEFAULT_ENTRIES["character-personality"]
    )
    assert b.get("character-personality").neuroticism == 0.5
    assert "missing entry 'character-history': using the documented defaults" in b.diagnostics
    assert not b.has("realm-history") and b.has("character")


def test_empty_bundle_is_neutral_not_an_error(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    for b in (ArchiveBundle.from_dict({}), ArchiveBundle.from_dict(None), load_bundle(empty)):
        assert b.is_empty and b.name == "unknown" and len(b.diagnostics) == len(ENTRY_MODELS)
        assert extract_kernels(b) == []
        state = extract_world_state(b, "war")
        assert set(state.narrative.values.values()) == {0.0}
        assert state.facts["protagonist.alive"] is True
        assert not any(v is True for k, v in state.facts.items() if k != "protagonist.alive")


@pytest.mark.parametrize(
    ("entries", "path", "expected"),
    [
        (
            {"character-personality": {"openness": 1.4}},
            "character-personality.openness",
            "less than or equal to 1",
        ),
        (
            {"character-personality": {"traits": {"cautious": -0.1}}},
            "character-personality.traits.cautious",
            "greater than or equal to 0",
        ),
        ({"character": {"name": "A", "nickname": "x"}}, "character.nickname", "no such field"),
        ({"character": {"alive": True}}, "character.name", "required"),
        (
            {"character": {"name": "A", "death_cause": "fever"}},
            "character",
            "only when alive is false",
        ),
        (
            {
                "character-history": {
                    "participations": [{"event": "e", "role": "r", "significance": "high"}]
                }
            },
            "character-history.participations[0].significance",
            "valid number",
        ),
        (
            {
                "character-encounter": {
                    "encounters": [
                        {
                            "id": "e",
                            "perspectives": [
                                {"other": "V", "sentiment_shift": -1.5, "emotional_impact": 0.5}
                            ],
                        }
                    ]
                }
            },
            "character-encounter.encounters[0].perspectives[0].sentiment_shift",
            "greater than or equal to -1",
        ),
        (
            {"character-encounter": {"encounters": [{"id": "e", "perspectives": []}]}},
            "character-encounter.encounters[0].perspectives",
            "at least 1",
        ),
        ({"realm-history": ["war"]}, "realm-history", "valid dictionary"),
    ],
)
def test_malformed_entry_names_key_field_and_expectation(entries, path, expected):
    with pytest.raises(DataError) as err:
        ArchiveBundle.from_dict(entries, source="a.yaml")
    problem = err.value.problems[0]
    assert (problem.file, problem.path) == ("a.yaml", path)
    assert expected in problem.expected


def test_every_problem_is_reported_at_once_and_nothing_half_built():
    bad = {"character": {"name": ""}, "character-personality": {"openness": 2, "neuroticism": -1}}
    with pytest.raises(DataError) as err:
        ArchiveBundle.from_dict(bad)
    assert [p.path for p in err.value.problems] == [
        "character.name",
        "character-personality.openness",
        "character-personality.neuroticism",
    ]


def test_duplicate_encounter_ids_are_rejected():
    e = {"id": "e1", "perspectives": [{"other": "V", "sentiment_shift": 0, "emotional_impact": 0}]}
    with pytest.raises(DataError, match="unique encounter ids"):
        ArchiveBundle.from_dict({"character-encounter": {"encounters": [e, e]}})


def test_yaml_and_json_files_give_the_same_bundle(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(FULL))
    (tmp_path / "b.json").write_text(json.dumps(FULL))
    (tmp_path / "notes.txt").write_text("ignored by load_bundles")
    a, b = load_bundles(tmp_path)
    assert a == b and a.source.endswith("a.yaml") and a.to_dict() == b.to_dict()
    assert ArchiveBundle.from_dict(a.to_dict()) == a


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("archive.txt", "character: {name: A}", "an archive file ending in .yaml, .yml, .json"),
        ("archive.yaml", "character: [unclosed", "valid YAML"),
        ("archive.json", "{not json", "valid JSON"),
        ("archive.yaml", "- just\n- a list\n", "a mapping of entry keys (got list)"),
        ("archive.yaml", "plain words", "a mapping of entry keys (got str)"),
    ],
)
def test_files_that_are_not_yaml_or_json_bundles_are_clear_errors(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError) as err:
        load_bundle(path)
    assert err.value.problems[0].file == str(path)
    assert expected in err.value.problems[0].expected


def test_binary_and_missing_files(tmp_path):
    binary = tmp_path / "a.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DataError, match="readable UTF-8"):
        load_bundle(binary)
    with pytest.raises(DataError, match="file not found"):
        load_bundle(tmp_path / "nope.json")


def test_entries_may_be_given_as_models():
    b = ArchiveBundle.from_dict({"character-personality": PersonalityEntry(openness=0.9)})
    assert b.get("character-personality").openness == 0.9
    assert "ArchiveBundle('unknown'" in repr(b)
