"""The packaged action library, templates and planning data, and bad input to their loaders."""

import copy

import pytest
import yaml

from storylab import DataError, UnknownNameError
from storylab._data import packaged_path
from storylab.storyteller import (
    ActionCategory,
    ActionCountResolver,
    action_library,
    load_actions,
    load_planning,
    load_templates,
    planning_config,
    template_library,
)
from storylab.theory import arc, genres, to_spectrum
from storylab.validation import validate_file


def _doc(name):
    return yaml.safe_load(packaged_path(name).read_text())


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _paths(exc):
    return [p.path for p in exc.value.problems]


# --------------------------------------------------------------------------- packaged data


def test_action_library_shape():
    lib = action_library()
    assert len(lib) == 110
    assert {a.category for a in lib} == set(ActionCategory)
    assert all(("Propp" in a.description) or ("Story Grid" in a.description) for a in lib)
    assert lib.external_facts == (
        "protagonist.has_nemesis",
        "protagonist.has_ally",
        "protagonist.experienced_trauma",
        "protagonist.achieved_victory",
        "protagonist.trait.confrontational",
        "protagonist.trait.cautious",
    )
    # every external fact is read by some precondition (so the archives' facts matter)
    read = {p.key for a in lib for p in a.preconditions}
    assert set(lib.external_facts) <= read


def test_every_genre_has_core_events_in_story_order():
    lib = action_library()
    for genre in genres():
        events = lib.core_events(genre)
        assert events, genre
        assert all(e.core_event and genre in e.genres for e in events)
    assert [a.id for a in lib.core_events("love")] == [
        "lovers_meet",
        "lovers_break_up",
        "proof_of_love",
    ]
    # topological: the event that produces antagonist.known comes first in thrillers
    assert next(a.id for a in lib.core_events("thriller")) == "discover_crime"


def test_chains_and_variants():
    lib = action_library()
    assert [a.id for a in lib.chain("false_ending")] == ["false_ending", "monster_returns"]
    strikes = lib.get("villain_strikes")
    assert strikes.narrative_effect_for("horror").primary_delta == -0.25
    assert strikes.narrative_effect_for("action").primary_delta == -0.2
    assert strikes.description_for("western").startswith("A gang")
    with pytest.raises(UnknownNameError, match=r"known: .*all_is_lost"):
        lib.get("nope")


def test_templates_follow_their_arcs():
    lib = template_library()
    assert lib.names == (
        "rags_to_riches",
        "tragedy",
        "man_in_a_hole",
        "icarus",
        "cinderella",
        "oedipus",
    )
    for tpl in lib:
        assert tpl.direction == arc(tpl.arc).direction
        assert tpl.phases[-1].terminal and not any(p.terminal for p in tpl.phases[:-1])
        for phase in tpl.phases:
            value = float(to_spectrum(arc(tpl.arc).evaluate(phase.position.ceiling)))
            lo, hi = phase.target_state.primary_min, phase.target_state.primary_max
            assert lo <= value <= hi
        for entry in tpl.compatible_genres:
            assert entry.genre in genres()
    assert lib.get("MAN_IN_A_HOLE") is lib.get("man_in_a_hole")
    with pytest.raises(UnknownNameError, match="known: cinderella"):
        lib.get("hero_with_a_thousand_faces")


def test_planning_urgency_limits():
    cfg = planning_config()
    assert (cfg.limits("low").max_iterations, cfg.limits("low").beam_width) == (3000, 20)
    assert (cfg.limits("medium").max_iterations, cfg.limits("medium").beam_width) == (1500, 15)
    assert (cfg.limits("high").max_iterations, cfg.limits("high").beam_width) == (600, 10)
    with pytest.raises(UnknownNameError, match="known: exact, high, low, medium"):
        cfg.limits("panic")


@pytest.mark.parametrize("name", ["story-actions.yaml", "story-templates.yaml", "planning.yaml"])
def test_packaged_files_validate(name):
    assert validate_file(packaged_path(name)) == []


# --------------------------------------------------------------------------- bad input


def test_malformed_action_lists_every_problem(tmp_path):
    data = _doc("story-actions.yaml")
    data["actions"][0]["colour"] = "red"
    data["actions"][1]["preconditions"] = [{"key": "stakes", "op": "=>", "value": 1}]
    data["actions"][2]["cost"] = -1
    path = _write(tmp_path, "story-actions.yaml", data)
    with pytest.raises(DataError) as exc:
        load_actions(path)
    paths = _paths(exc)
    assert "actions[0].colour" in paths
    assert "actions[1].preconditions[0].op" in paths
    assert "actions[2].cost" in paths
    assert all(p.file == str(path) for p in exc.value.problems)
    # `storylab validate` reports the same problems
    assert [p.path for p in validate_file(path)] == paths


def test_chain_cycle_and_missing_chain(tmp_path):
    data = _doc("story-actions.yaml")
    by_id = {a["id"]: a for a in data["actions"]}
    by_id["monster_returns"]["chained_action"] = "false_ending"
    by_id["complication"]["chained_action"] = "no_such_action"
    with pytest.raises(DataError) as exc:
        load_actions(_write(tmp_path, "story-actions.yaml", data))
    text = str(exc.value)
    assert "an acyclic chain (false_ending -> monster_returns -> false_ending)" in text
    assert "a known action id" in text


def test_duplicate_action_id(tmp_path):
    data = _doc("story-actions.yaml")
    data["actions"][5]["id"] = data["actions"][0]["id"]
    with pytest.raises(DataError, match="a unique id") as exc:
        load_actions(_write(tmp_path, "story-actions.yaml", data))
    assert _paths(exc) == ["actions[5].id"]


def test_precondition_key_must_be_produced_or_external(tmp_path):
    data = _doc("story-actions.yaml")
    data["actions"][0]["preconditions"] = [{"key": "dragon.slain", "op": "==", "value": True}]
    with pytest.raises(DataError, match=r"actions\[0\]\.preconditions\[0\]\.key"):
        load_actions(_write(tmp_path, "story-actions.yaml", data))
    data["external_facts"].append({"key": "dragon.slain", "description": "from the archives"})
    assert len(load_actions(_write(tmp_path, "story-actions.yaml", data))) == 110


def test_delta_off_grid_and_unknown_genre(tmp_path):
    data = _doc("story-actions.yaml")
    data["actions"][1]["genres"] = ["space_opera"]
    with pytest.raises(DataError) as exc:
        load_actions(_write(tmp_path, "story-actions.yaml", data))
    assert _paths(exc) == ["actions[1].genres"]
    data = _doc("story-actions.yaml")
    data["actions"][0]["narrative_effect"]["primary_delta"] = 0.07
    with pytest.raises(DataError, match=r"a multiple of the spectrum step 0\.05") as exc:
        load_actions(_write(tmp_path, "story-actions.yaml", data))
    assert _paths(exc) == ["actions[0].narrative_effect.primary_delta"]


def test_malformed_templates(tmp_path):
    good = _doc("story-templates.yaml")
    cases = {
        "centre": lambda t: t["phases"][0]["position"].update(center=0.9),
        "order": lambda t: t["phases"].reverse(),
        "range": lambda t: t.update(action_count_range=[50, 30]),
        "genre": lambda t: t["compatible_genres"].append({"genre": "space_opera"}),
        "arc": lambda t: t["phases"][0]["target_state"].update(primary_min=0.9, primary_max=1.0),
    }
    for name, mutate in cases.items():
        data = copy.deepcopy(good)
        mutate(data["templates"][0])
        with pytest.raises(DataError) as exc:
            load_templates(_write(tmp_path, "story-templates.yaml", data))
        assert any(p.path.startswith("templates[0]") for p in exc.value.problems), name


def test_template_genre_without_core_events(tmp_path):
    actions = _doc("story-actions.yaml")
    for a in actions["actions"]:
        if a["id"] == "revolution":
            a["core_event"] = False
    library = load_actions(_write(tmp_path, "story-actions.yaml", actions))
    with pytest.raises(DataError, match="a genre with core events"):
        load_templates(actions=library)


def test_bad_planning_file(tmp_path):
    data = _doc("planning.yaml")
    del data["urgency"]["high"]
    data["spectrum_step"] = 0.3
    with pytest.raises(DataError) as exc:
        load_planning(_write(tmp_path, "planning.yaml", data))
    assert "limits for every urgency level" in str(exc.value)


def test_action_count_resolution_and_clamp():
    tpl = template_library().get("man_in_a_hole")
    resolver = ActionCountResolver()
    thriller = resolver.resolve(tpl, "thriller")
    assert (thriller.genre_adjusted, thriller.resolved, thriller.clamped) == (35, 35, False)
    big = resolver.resolve(tpl, "action", 1000)
    assert big.resolved == tpl.action_count_range[1] and big.clamped
    assert "outside the template's range" in big.note
    small = resolver.resolve(tpl, "action", 3)
    assert small.resolved == tpl.action_count_range[0] and small.clamped
    with pytest.raises(ValueError, match="positive integer"):
        resolver.resolve(tpl, "action", 0)
