"""Saved playtests: replayed as regression tests; a program change fails with the first
differing step."""

import shutil
from pathlib import Path

import pytest

from storylab._data import DataError
from storylab.cli import main
from storylab.world.playtests import (
    Playtest,
    assert_playtest,
    load_playtest,
    record_playtest,
    run_playtest,
    save_playtest,
)

ROOT = Path(__file__).resolve().parents[1]
SAVED = sorted((ROOT / "data" / "worlds" / "harbor-district" / "playtests").glob("*.yaml"))


@pytest.mark.parametrize("path", SAVED, ids=[p.stem for p in SAVED])
def test_saved_playtests_hold(path):
    assert_playtest(path)


@pytest.fixture
def copy(tmp_path):
    """A copy of the harbour world and its programs, to change."""
    shutil.copytree(ROOT / "data" / "worlds", tmp_path / "data" / "worlds")
    shutil.copytree(ROOT / "data" / "programs", tmp_path / "data" / "programs")
    return tmp_path / "data"


def _record(copy, **fields):
    folder = copy / "worlds" / "harbor-district" / "playtests"
    pt = Playtest(name="t", world="..", npc="captain", **fields)
    path = folder / "t.playtest.yaml"
    save_playtest(record_playtest(pt, folder), path)
    return path


def test_a_program_change_fails_with_the_first_differing_step(copy, capsys):
    path = _record(copy, program="tavern_encounter", node="greet", inputs=["coin", "leave"])
    assert run_playtest(path).ok
    program = copy / "programs" / "tavern-encounter.program.yaml"
    text = program.read_text()
    program.write_text(text.replace("Smart. The sea provides", "Clever. The sea provides"))
    outcome = run_playtest(path)
    assert not outcome.ok
    assert outcome.difference.startswith("step 1:") and "Clever" in outcome.difference
    with pytest.raises(AssertionError, match="step 1"):
        assert_playtest(path)
    assert main(["playtest", "run", str(path)]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_a_changed_effect_fails_on_the_state_diff(copy):
    path = _record(copy, interaction="talk", inputs=["listen"])
    program = copy / "programs" / "harbor-talk.program.yaml"
    text = program.read_text()
    program.write_text(
        text.replace(
            "effects: {relationships: {self: {affinity: 2}}}",
            "effects: {relationships: {self: {affinity: 4}}}",
            1,
        )
    )
    outcome = run_playtest(path)
    assert outcome.difference.startswith("state diff: rel.captain.affinity")


def test_a_gating_change_fails(copy):
    path = _record(copy, interaction="talk", inputs=["listen"])
    world = copy / "worlds" / "harbor-district" / "world.yaml"
    world.write_text(
        world.read_text().replace("gating: {min_affinity: -20}", "gating: {min_affinity: 50}")
    )
    assert run_playtest(path).difference.startswith("gating:")


def test_overrides_and_time_are_part_of_a_playtest(copy):
    path = _record(
        copy,
        interaction="flirt",
        at="sat 20:00",
        overrides={"rel.captain.affinity": 50},
        inputs=["flirt"],
    )
    saved = load_playtest(path)
    assert saved.expected.diff["rel.captain.chemistry"] == {"before": 40.0, "after": 45.0}
    assert run_playtest(path).ok


def test_bad_playtests(tmp_path):
    neither = tmp_path / "n.playtest.yaml"
    neither.write_text("kind: playtest\nname: n\nworld: .\nnpc: a\n")
    with pytest.raises(DataError, match="one of them"):
        load_playtest(neither)
    bad = tmp_path / "x.playtest.yaml"
    bad.write_text("kind: playtest\nname: x\nworld: .\nnpc: a\nprogram: p\nextra: 1\n")
    with pytest.raises(DataError, match="extra"):
        load_playtest(bad)
    bare = tmp_path / "y.playtest.yaml"
    bare.write_text("kind: playtest\nname: y\nworld: .\nnpc: a\nprogram: p\n")
    with pytest.raises(ValueError, match="no expectation"):
        run_playtest(bare)
