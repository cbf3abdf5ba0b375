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


def test_compose_with_your_own_library_and_templates(tmp_path, capsys, own_library):
    import yaml

    from storylab._data import packaged_path

    args = ["compose", "--template", "cinderella", "--genre", "love", "--json"]
    assert main(args) == 0
    packaged = json.loads(capsys.readouterr().out)
    actions, templates = packaged_path("story-actions.yaml"), packaged_path("story-templates.yaml")
    assert main([*args, "--library", str(actions), "--templates", str(templates)]) == 0
    assert json.loads(capsys.readouterr().out) == packaged
    # no proof of love, a staple renamed: the plan and its program follow the library
    mine = own_library({"small_victory": "fair_wind"}, drop=["proof_of_love"])
    program = tmp_path / "story.yaml"
    assert main([*args, "--library", str(mine), "--program", str(program)]) == 0
    ids = {
        a["action_id"] for p in json.loads(capsys.readouterr().out)["phases"] for a in p["actions"]
    }
    assert "proof_of_love" not in ids and {"lovers_meet", "fair_wind"} <= ids
    assert "fair_wind" in program.read_text()
    # templates are checked against the library in use
    assert main([*args, "--library", str(mine), "--templates", str(templates)]) == 0
    capsys.readouterr()
    bare = tmp_path / "staples.yaml"
    data = yaml.safe_load(actions.read_text())
    data["actions"] = [a for a in data["actions"] if a["id"] in ("setback", "small_victory")]
    bare.write_text(yaml.safe_dump(data))
    assert main([*args, "--library", str(bare), "--templates", str(templates)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "compatible_genres" in err and str(bare) in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("actions: [1\n")
    assert main([*args, "--library", str(broken)]) == 2
    assert str(broken) in capsys.readouterr().err
