import json

from storylab.cli import main


def test_compose_table(capsys):
    assert main(["compose", "--template", "man_in_a_hole", "--genre", "crime"]) == 0
    out = capsys.readouterr().out
    assert "fall_into_the_hole" in out and "discover_crime *" in out
    assert "complete True" in out and "time:" not in out


def test_compose_json_is_deterministic_and_plot(tmp_path, capsys):
    png = tmp_path / "plan.png"
    args = ["compose", "--template", "cinderella", "--genre", "love", "--seed", "4", "--json"]
    assert main([*args, "--plot", str(png)]) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    data = json.loads(first)
    assert data["template"] == "cinderella" and data["seed"] == 4
    assert "elapsed_s" not in first
    assert png.stat().st_size > 10_000


def test_compose_timings_and_clamp(capsys):
    args = ["compose", "--template", "tragedy", "--genre", "war", "--actions", "999"]
    assert main([*args, "--timings", "--urgency", "high"]) == 0
    captured = capsys.readouterr()
    assert "time:" in captured.err and "time:" not in captured.out
    assert "outside the template's range" in captured.out
    assert main([*args, "--timings", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["template"] == "tragedy" and "time:" in captured.err


def test_compose_errors(tmp_path, capsys):
    assert main(["compose", "--template", "epic", "--genre", "action"]) == 2
    assert "known: cinderella, icarus" in capsys.readouterr().err
    assert main(["compose", "--template", "tragedy", "--genre", "action"]) == 2
    assert "does not support genre 'action'" in capsys.readouterr().err
    bad = tmp_path / "world.yaml"
    bad.write_text("narrative: {primary: love_hate, values: {love_hate: -3}}\n")
    assert (
        main(["compose", "--template", "cinderella", "--genre", "love", "--initial", str(bad)]) == 2
    )
    assert "narrative.values" in capsys.readouterr().err
    assert main(["compose", "--template", "cinderella", "--genre", "love", "--actant", "x"]) == 2
    assert "ROLE=NAME" in capsys.readouterr().err
