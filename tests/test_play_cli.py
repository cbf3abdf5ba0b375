"""``storylab compose --program`` writes a playable program; ``storylab play`` plays it."""

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


def test_a_program_path_that_cannot_be_written_is_one_line(tmp_path, capsys):
    args = ["compose", "--template", "icarus", "--genre", "status", "--program", str(tmp_path)]
    assert main(args) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "directory" in err[0]
