"""`storylab compose --profile`: tuned profiles change the composition they configure."""

import json
import math

from storylab.cli import main
from storylab.tuning import save_profile
from storylab.tuning.costs import ActionCosts
from storylab.tuning.position import PositionEstimation


def _plan(capsys, *extra):
    args = ["compose", "--template", "man_in_a_hole", "--genre", "crime", "--json", *extra]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def _action_ids(plan):
    return [a["action_id"] for phase in plan["phases"] for a in phase["actions"]]


def test_cost_profile_reprices_the_plan(tmp_path, capsys):
    path = tmp_path / "costs.yaml"
    save_profile(ActionCosts(scale={"mystery": 3.0}), path)
    base = _plan(capsys)
    tuned = _plan(capsys, "--profile", str(path))
    assert tuned["total_cost"] > base["total_cost"]
    assert _action_ids(tuned) != _action_ids(base)


def test_position_profile_sets_the_action_count_unless_overridden(tmp_path, capsys):
    path = tmp_path / "position.yaml"
    save_profile(PositionEstimation(default_actions={"man_in_a_hole": 30}), path)
    tuned = _plan(capsys, "--profile", str(path))
    assert tuned["action_count"]["requested"] == math.floor(30 * 0.95 + 0.5)
    explicit = _plan(capsys, "--profile", str(path), "--actions", "50")
    assert explicit["action_count"]["requested"] == 50


def test_two_profiles_setting_the_same_option_are_an_error(tmp_path, capsys):
    path = tmp_path / "costs.yaml"
    save_profile(ActionCosts(scale={"mystery": 3.0}), path)
    args = ["compose", "--template", "man_in_a_hole", "--genre", "crime"]
    assert main([*args, "--profile", str(path), "--profile", str(path)]) == 2
    assert "two profiles" in capsys.readouterr().err
