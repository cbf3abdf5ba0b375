"""The data shipped in data/ passes the project's own checks, as CI runs them: every file
validates, every world and program checks clean, and the character graph of the worlds has
no problem. The harbor programs run standalone with the same NPC ids the world uses."""

from pathlib import Path

import pytest

from storylab.cli import main
from storylab.runtime import NarrativeEngine, load_program, load_state
from storylab.validation import detect_kind, validate_paths
from storylab.world import load_world

DATA = Path(__file__).resolve().parents[1] / "data"
WORLDS = sorted(p.parent for p in (DATA / "worlds").glob("*/world.yaml"))
PROGRAMS = sorted((DATA / "programs").glob("*.program.yaml"))


def test_every_shipped_file_validates():
    checked = {path: problems for path, problems in validate_paths([DATA])}
    assert len(checked) > 50 and all(detect_kind(p) for p in checked)
    assert {str(p): problems for p, problems in checked.items() if problems} == {}


def test_validate_and_world_check_exit_0_on_the_shipped_data(capsys):
    assert WORLDS and PROGRAMS
    assert main(["validate", str(DATA)]) == 0
    assert main(["world", "check", *map(str, WORLDS)]) == 0
    assert main(["check", *map(str, PROGRAMS)]) == 0
    out = capsys.readouterr().out
    assert "error" not in out and out.count(": ok") > 50


@pytest.mark.parametrize("folder", ["worlds", "."])
def test_graph_check_of_the_shipped_data_exits_0(capsys, folder):
    """The worlds alone, and all of data/ (archives, programs and worlds: no id defined twice)."""
    assert main(["graph", "check", str(DATA / folder)]) == 0
    assert capsys.readouterr().out.strip() == "0 problem(s)"


def _relationship_targets(value) -> set[str]:
    """The NPCs every ``relationships`` effect in a dumped program names."""
    if isinstance(value, list):
        return set().union(*map(_relationship_targets, value))
    if not isinstance(value, dict):
        return set()
    found = set(value.get("relationships") or {})
    return found.union(*map(_relationship_targets, value.values()))


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_harbor_programs_name_the_worlds_roles_and_npcs(path):
    """Casts name roles the harbor binds (or its NPCs), effects and the start state key
    relationships by its NPC ids: what a program does standalone, it does in the world."""
    world = load_world(DATA / "worlds" / "harbor-district")
    program = load_program(path)
    for c in program.metadata.characters:
        assert c.id == "player" or c.id in world.roles or c.id in world.npcs, c.id
    assert _relationship_targets(program.model_dump()) - {"self"} <= set(world.npcs)
    assert set(load_state(DATA / "programs" / "harbor-start.state.yaml").relationships) <= set(
        world.npcs
    )


def test_the_state_file_starts_the_tavern_for_its_first_cast_entry():
    tavern = load_program(DATA / "programs" / "tavern-encounter.program.yaml")
    session = load_state(DATA / "programs" / "harbor-start.state.yaml")
    npc = tavern.metadata.characters[0].id  # what `storylab play` runs it for
    first = NarrativeEngine([tavern]).start(session, npc, tavern.id)
    # rel.self is the captain's relationship from the state file: chemistry 10 hides the flirt
    assert npc == "captain" and session.relationships[npc]["affinity"] == 30
    assert [c.id for c in first.choices] == ["adventure", "coin", "leave"]
