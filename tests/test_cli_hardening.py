"""The command line under bad input: one line, a non-zero exit, no lost or partial files."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

from storylab.cli import main
from storylab.cli._output import to_json
from storylab.runtime import SessionStore
from storylab.theory import text as text_module
from storylab.tuning import SweepCache

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "data" / "programs"
TAVERN = str(PROGRAMS / "tavern-encounter.program.yaml")


def _refused(capsys, argv, status=2):
    """Run ``argv``; assert the exit status and a single stderr line; return that line."""
    assert main(argv) == status
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


def _listing(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("bad", [["--seed", "-1"], ["--n", "-1"], ["--n", "9" * 5000]])
def test_archives_checks_its_arguments_before_touching_the_folder(tmp_path, capsys, bad):
    out = tmp_path / "set"
    assert main(["archives", str(out), "--n", "3", "--seed", "1"]) == 0
    (out / "notes.txt").write_text("mine")
    before = _listing(out)
    line = _refused(capsys, ["archives", str(out), *bad])
    assert "an integer from 0 to" in line
    assert _listing(out) == before


def test_archives_never_deletes_files_it_does_not_write(tmp_path, capsys):
    out = tmp_path / "set"
    assert main(["archives", str(out), "--n", "3", "--seed", "1"]) == 0
    (out / "notes.txt").write_text("mine")
    assert main(["archives", str(out), "--n", "2", "--seed", "2"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["archive-0000.yaml", "archive-0001.yaml", "archive-0002.yaml", "notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"


def test_archives_swaps_only_when_every_file_is_written(tmp_path, capsys):
    out = tmp_path / "set"
    assert main(["archives", str(out), "--n", "3", "--seed", "1"]) == 0
    (out / "archive-0001.yaml").unlink()
    (out / "archive-0001.yaml").mkdir()  # in the way of the second file
    before = (out / "archive-0000.yaml").read_text()
    line = _refused(capsys, ["archives", str(out), "--n", "3", "--seed", "5"])
    assert line == f"storylab: error: cannot write {out}/archive-0001.yaml: it is a directory"
    assert (out / "archive-0000.yaml").read_text() == before  # not swapped
    assert sorted(p.name for p in out.iterdir()) == [
        "archive-0000.yaml",
        "archive-0001.yaml",
        "archive-0002.yaml",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["arcs", "--plot", "{dir}"],
        ["arcs", "--plot", "{dir}/missing/arcs.png"],
        ["schema", "program", "--out", "{dir}"],
        ["compose", "--template", "tragedy", "--genre", "war", "--plot", "{dir}"],
        ["export-pddl", "--template", "tragedy", "--genre", "war", "--phase", "1", "{dir}/f"],
    ],
    ids=["plot-dir", "plot-missing", "schema-dir", "compose-plot-dir", "pddl-file"],
)
def test_a_failed_write_is_one_line_naming_the_path_and_leaves_nothing(tmp_path, capsys, argv):
    (tmp_path / "f").write_text("a file where a folder should be")
    before = _listing(tmp_path)
    line = _refused(capsys, [a.format(dir=tmp_path) for a in argv])
    assert str(tmp_path) in line
    assert _listing(tmp_path) == before  # no partial or temporary file


@pytest.mark.parametrize(
    "text, field",
    [
        ("relationships: [1, 2]\n", "relationships"),
        ("inventory: {coin: lots}\n", "inventory.coin"),
        ("42\n", "(top level)"),
        ("world_time: .nan\n", "world_time"),
        ("player: {name: [Ash]}\n", "player.name"),
    ],
)
def test_state_files_of_the_wrong_type_name_the_file_and_field(tmp_path, capsys, text, field):
    state = tmp_path / "start.state.yaml"
    state.write_text(text)
    line = _refused(capsys, ["play", TAVERN, "--state", str(state)])
    assert f"{state}: {field}" in line
    assert main(["validate", str(state)]) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["kernels", "{dir}"],
        ["play", "{dir}"],
        ["play", TAVERN, "--state", "{dir}"],
        ["arcs", "classify", "{dir}"],
        ["arcs", "text", "{dir}"],
        ["check", "{dir}"],
        ["compose", "--template", "tragedy", "--genre", "war", "--profile", "{dir}"],
    ],
)
def test_a_directory_where_a_file_is_expected(tmp_path, capsys, argv):
    status = 1 if argv[0] == "check" else 2
    if status == 1:
        assert main([a.format(dir=tmp_path) for a in argv]) == 1
        assert "directory" in capsys.readouterr().out
        return
    line = _refused(capsys, [a.format(dir=tmp_path) for a in argv], status)
    assert str(tmp_path) in line and "directory" in line


def test_a_5000_digit_integer_in_a_file(tmp_path, capsys):
    state = tmp_path / "big.state.yaml"
    state.write_text("world_time: " + "9" * 5000 + "\n")
    assert "digits" in _refused(capsys, ["play", TAVERN, "--state", str(state)])


def test_a_profile_with_an_overflowing_multiplier_is_not_ok(tmp_path, capsys):
    profile = tmp_path / "pace.yaml"
    profile.write_text(
        "kind: position-estimation-profile\nconfig:\n  genre_multipliers: {war: 1e308}\n"
    )
    assert main(["validate", str(profile)]) == 1
    assert "multipliers above 0 and at most 100" in capsys.readouterr().out
    args = ["compose", "--template", "tragedy", "--genre", "war", "--profile", str(profile)]
    assert "multipliers above 0" in _refused(capsys, args)


@pytest.mark.parametrize(
    "option", ["--shuffles -1", "--shuffles 99999999", "--points 99999999", "--window 0"]
)
def test_arcs_text_bounds_its_numbers(tmp_path, capsys, option):
    book = tmp_path / "book.txt"
    book.write_text("happy " * 50)
    assert "an integer from" in _refused(capsys, ["arcs", "text", str(book), *option.split()])


def test_a_missing_optional_extra_names_the_extra(tmp_path, capsys, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "labMTsimple" else find_spec(name, *a),
    )
    text_module.labmt.cache_clear()
    book = tmp_path / "book.txt"
    book.write_text("happy " * 50)
    try:
        line = _refused(capsys, ["arcs", "text", str(book), "--window", "5", "--points", "3"])
    finally:
        text_module.labmt.cache_clear()
    assert "pip install 'storylab[text]'" in line


def test_an_unexpected_error_is_still_one_line(monkeypatch, capsys):
    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("storylab.cli.theory._run_spectrums", broken)
    line = _refused(capsys, ["spectrums"], status=3)
    assert line == "storylab: internal error (ZeroDivisionError): division by zero"


def test_json_output_is_always_valid_json(capsys):
    text = to_json({"score": float("nan"), "turns": [1.0, float("inf")], "ok": 1})
    assert json.loads(text) == {"score": None, "turns": [1.0, None], "ok": 1}
    assert "written as null: score, turns[1]" in capsys.readouterr().err


def test_classify_json_stays_json_for_a_flat_series(tmp_path, capsys):
    flat = tmp_path / "flat.csv"
    flat.write_text("mood\n" + "1e200\n" * 30)
    assert main(["arcs", "classify", str(flat), "--json"]) == 0
    json.loads(capsys.readouterr().out)


def test_check_warns_about_state_the_program_reads_but_never_sets(capsys):
    assert main(["check", TAVERN]) == 0
    out = capsys.readouterr().out
    assert re.search(r"warning: .*player\.name is read but no effect sets it", out)


def test_the_readme_play_command_plays_the_tavern(capsys):
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"`(storylab play data/programs/tavern[^`]*)`", readme).group(1)
    assert main(command.split()[1:]) == 0
    assert "[end of tavern_encounter]" in capsys.readouterr().out


def test_the_session_store_refuses_what_is_not_its_own(tmp_path):
    cache = tmp_path / "sweep.db"
    SweepCache(cache).close()
    with pytest.raises(ValueError, match=f"{cache}: a session store .*storylab_sweep_cache"):
        SessionStore(cache)
    with SweepCache(cache) as reopened:  # and left the cache usable
        assert len(reopened) == 0
    with pytest.raises(ValueError, match="empty path"):
        SessionStore("")
    with pytest.raises(ValueError, match=f"{tmp_path}: a session store file, got a directory"):
        SessionStore(tmp_path)
    text = tmp_path / "notes.db"
    text.write_text("not a database " * 100)
    with pytest.raises(ValueError, match=f"{text}: a session store SQLite can open"):
        SessionStore(text)
    assert text.read_text() == "not a database " * 100
    with SessionStore(tmp_path / "sessions.db") as store:  # its own file opens
        assert store.ids() == []
