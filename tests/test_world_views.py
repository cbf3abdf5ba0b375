"""World plots, the time slider, and the world CLI's run and why-not commands."""

import json
from pathlib import Path

import pytest

from storylab.cli import main
from storylab.world import load_world, simulate

HARBOR = Path(__file__).resolve().parents[1] / "data" / "worlds" / "harbor-district"


@pytest.fixture(scope="module")
def run():
    return simulate(load_world(HARBOR), days=2, seed=5)


def test_plot_presence_lanes_and_marker(run):
    from storylab.viz.world import plot_presence

    ax = plot_presence(run, day=1, at=5.0, npcs=["captain", "guard"])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["docks", "market", "office"]  # only where these two go on day 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["captain", "guard"]
    assert any(line.get_xdata()[0] == 5.0 for line in ax.get_lines())
    with pytest.raises(ValueError):
        plot_presence(run, day=9)
    with pytest.raises(TypeError):
        plot_presence([1, 2])


def test_plot_relationships_and_variants(run):
    import pandas as pd

    from storylab.viz.world import plot_relationships, plot_variants

    ax = plot_relationships(run, axis="affinity")
    assert len(ax.get_lines()) == len(run.world.npcs)
    assert ax.get_xlim()[1] >= 47
    with pytest.raises(ValueError):
        plot_relationships(run, axis="charm")
    summary = pd.DataFrame(
        {
            "variant": ["a", "b"],
            "metric": ["m", "m"],
            "diff": [0.0, 1.0],
            "ci_low": [0.0, 0.5],
            "ci_high": [0.0, 2.0],
        }
    )
    summary.attrs["baseline"] = "a"
    ax = plot_variants(summary)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["m · b"]
    with pytest.raises(ValueError):
        plot_variants(summary[summary.variant == "a"])


def test_time_slider_redraws_headless(run, monkeypatch):
    pytest.importorskip("ipywidgets")
    import storylab.widgets

    shown = []
    monkeypatch.setattr(storylab.widgets, "display", lambda obj: shown.append(obj))
    panel = storylab.widgets.time_slider(run, day=1, value=4.0)
    slider, label = panel.children[0].children
    assert (slider.min, slider.max, slider.step) == (0.0, 23.5, 0.5)
    assert label.value == "day 1 mon 12:00"
    slider.value = 10.0
    assert label.value == "day 1 mon 18:00"
    assert len(shown) >= 4  # a figure and a table per position


def test_cli_run_json_is_deterministic(capsys):
    assert main(["world", "run", str(HARBOR), "--days", "2", "--seed", "3", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["world", "run", str(HARBOR), "--days", "2", "--seed", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == first
    assert first["days"] == 2 and {r["b"] for r in first["final"]} == {"player"}
    assert main(["world", "run", str(HARBOR), "--days", "0"]) == 2
    assert "days" in capsys.readouterr().err


def test_cli_why_not_with_a_state_file(tmp_path, capsys):
    state = tmp_path / "state.yaml"
    state.write_text("relationships: {captain: {affinity: 50}}\nworld_time: 100\n")
    args = ["world", "why-not", str(HARBOR), "--npc", "captain", "--state", str(state)]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["at"] == "day 5 fri 12:00"
    flirt = next(r for r in out["interactions"] if r["interaction"] == "flirt")
    assert flirt["available"] is True
    assert main(["world", "why-not", str(HARBOR), "--at", "sun 03:00"]) == 0
    text = capsys.readouterr().out
    assert "time: '03:00', needs between 16:00 and 02:00" in text
    assert main(["world", "why-not", str(HARBOR), "--npc", "kraken"]) == 2
