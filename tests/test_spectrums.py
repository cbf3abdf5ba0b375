import pytest

from storylab import DataError, NarrativeState, SpectrumType, UnknownNameError
from storylab._data import packaged_path
from storylab.theory import (
    genre_mapping,
    genres,
    load_narrative_data,
    pacing_multiplier,
    primary_spectrum,
    secondary_spectrum,
    spectrum,
    spectrums,
)

STORY_GRID_CONTENT_GENRES = {
    "action",
    "war",
    "horror",
    "crime",
    "thriller",
    "western",
    "love",
    "performance",
    "society",
    "status",
    "worldview",
    "morality",
}


def test_ten_spectrums_with_four_ordered_stages():
    defs = spectrums()
    assert [d.type for d in defs] == list(SpectrumType)
    for d in defs:
        values = [s.value for s in d.stages]
        assert values == sorted(values, reverse=True)
        assert values[0] == 1.0 and values[-1] == -1.0
        assert d.media_examples


def test_stage_at_picks_nearest():
    life = spectrum("life_death")
    assert life.stage_at(0.9).stage == "positive"
    assert life.stage_at(-0.95).label == "damnation"


def test_genres_cover_story_grid_content_genres():
    assert set(genres()) >= STORY_GRID_CONTENT_GENRES
    assert primary_spectrum("love") is SpectrumType.LOVE_HATE
    assert primary_spectrum("crime", "prison") is SpectrumType.FREEDOM_SUBJUGATION
    assert secondary_spectrum("thriller") is SpectrumType.JUSTICE_INJUSTICE
    assert pacing_multiplier("thriller") < 1.0 < pacing_multiplier("epic_fantasy")


def test_unknown_genre_lists_known_ones():
    with pytest.raises(UnknownNameError) as err:
        genre_mapping("space_opera")
    assert "space_opera" in str(err.value) and "thriller" in str(err.value)
    with pytest.raises(UnknownNameError, match=r"subgenre of .crime.*caper"):
        primary_spectrum("crime", "heist_in_space")


def test_narrative_state_updates_are_immutable_and_clamped():
    s = NarrativeState(primary="life_death", values={"life_death": 0.5})
    t = s.shift("life_death", 0.9)
    assert s["life_death"] == 0.5 and t["life_death"] == 1.0
    assert s.with_value("love_hate", -3)["love_hate"] == -1.0
    assert hash(s) == hash(NarrativeState(primary="life_death", values={"life_death": 0.5}))
    assert s != t


def test_narrative_state_rejects_out_of_range_values():
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        NarrativeState(primary="life_death", values={"life_death": 1.5})


def test_distance_uses_only_shared_spectrums():
    a = NarrativeState(primary="love_hate", values={"love_hate": 0.1, "life_death": 0.9})
    b = NarrativeState(primary="love_hate", values={"love_hate": 0.4})
    assert a.distance_to(b) == pytest.approx(0.3)
    assert a.distance_to(a) == 0.0


def test_state_for_genre_tracks_primary_and_secondary():
    s = NarrativeState.for_genre("war", value=0.2)
    assert s.primary is SpectrumType.HONOR_DISHONOR
    assert set(s) == {SpectrumType.HONOR_DISHONOR, SpectrumType.LIFE_DEATH}
    assert s.primary_value == 0.2


def _write(tmp_path, text):
    path = tmp_path / "narrative-state.yaml"
    path.write_text(text)
    return path


def test_stage_values_out_of_order_name_the_field(tmp_path):
    text = packaged_path("narrative-state.yaml").read_text()
    bad = text.replace(
        "label: unconsciousness, value: 0.33", "label: unconsciousness, value: 1.0", 1
    )
    with pytest.raises(DataError) as err:
        load_narrative_data(_write(tmp_path, bad))
    (problem,) = err.value.problems
    assert problem.path == "spectrums[0].stages"
    assert "strictly decreasing" in problem.expected
    assert problem.file.endswith("narrative-state.yaml")


def test_stage_value_outside_range_and_unknown_field(tmp_path):
    text = packaged_path("narrative-state.yaml").read_text()
    bad = text.replace("label: damnation, value: -1.0", "label: damnation, value: -1.5", 1)
    bad = bad.replace(
        "    primary: life_death\n    pacing",
        "    primary: life_death\n    colour: red\n    pacing",
        1,
    )
    with pytest.raises(DataError) as err:
        load_narrative_data(_write(tmp_path, bad))
    paths = {p.path: p.expected for p in err.value.problems}
    assert "greater than or equal to -1" in paths["spectrums[0].stages[3].value"]
    assert "unknown fields" in paths["genres.action.colour"]


def test_malformed_yaml_names_line(tmp_path):
    with pytest.raises(DataError, match=r"line \d+, column \d+: valid YAML"):
        load_narrative_data(_write(tmp_path, "spectrums: [\n  - {type: life_death\n"))
