"""``storylab compose --program`` writes a playable program; ``storylab play`` plays it;
``storylab simulate-players`` compares re-planning on and off."""

import json

from storylab.cli import main
from storylab.runtime import check_program, load_program


def test_compose_writes_a_program_that_checks_and_plays(tmp_path, capsys):
    out = tmp_path / "story.yaml"
    args = ["compose", "--template", "icarus", "--genre", "status", "--actant", "subject=Ana"]
    assert main([*args, "--json", "--program", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.lstrip().startswith("{")  # the JSON stays clean
    assert f"program written to {out}" in captured.err
    program = load_program(out)
    report = check_program(program)
    assert report.errors == () and report.warnings == ()
    assert main(["play", str(out), "--inputs", "continue,continue,continue"]) == 0
    played = capsys.readouterr().out
    assert "[scene icarus." in played and "The story ends (icarus, status)." in played
    assert "ana: [update_personality · subject: ana]" in played  # the cast speaks its intents


def test_a_program_path_that_cannot_be_written_is_one_line_and_writes_nothing(tmp_path, capsys):
    plot = tmp_path / "plan.png"
    args = ["compose", "--template", "icarus", "--genre", "status", "--plot", str(plot)]
    assert main([*args, "--program", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "directory" in err[0]
    assert list(tmp_path.iterdir()) == []  # the plot is not written either
    assert main([*args, "--program", str(tmp_path / "s.program.yaml")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.png", "s.program.yaml"]


def test_simulate_players_prints_the_shares_and_draws_them(tmp_path, capsys):
    plot = tmp_path / "shares.png"
    args = ["simulate-players", "--template", "tragedy", "--genre", "status"]
    assert main([*args, "--players", "6", "--json", "--plot", str(plot)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["replanning"] for s in data["settings"]] == [False, True]
    assert all(s["players"] == 6 for s in data["settings"])
    assert data["settings"][1]["follows_template"] >= data["settings"][0]["follows_template"]
    assert plot.stat().st_size > 0
    assert main([*args, "--players", "6", "--weight", "continue=1000000"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("tragedy · status · plan ") and len(table) == 5


def test_simulate_players_refuses_bad_weights_on_one_line(capsys):
    args = ["simulate-players", "--template", "tragedy", "--genre", "status"]
    for bad in ("continue", "=2", "continue=-1", "continue=nan"):
        assert main([*args, "--players", "2", "--weight", bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--weight" in err[0]


def test_simulate_players_with_your_own_library(tmp_path, capsys, own_library):
    mine = own_library({"small_victory": "fair_wind"})  # a staple under another name
    args = ["simulate-players", "--template", "cinderella", "--genre", "love", "--players", "4"]
    assert main([*args, "--library", str(mine), "--json"]) == 0
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert [s["players"] for s in settings] == [4, 4]
    broken = tmp_path / "broken.yaml"
    broken.write_text("actions: [1\n")
    assert main([*args, "--library", str(broken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(broken) in err[0]
