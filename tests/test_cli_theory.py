import json

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
    assert "a storylab data file; kinds:" in out and "file not found" in out
