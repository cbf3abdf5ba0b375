"""Widget factories build and redraw headless."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("storylab.storyteller")

from storylab.tuning.costs import ActionCosts
from storylab.widgets import composition_panel, cost_sliders, genre_picker, template_picker


def test_genre_picker_follows_the_template():
    template = template_picker("tragedy")
    genre = genre_picker(template, "war")
    assert genre.value == "war"
    template.value = "rags_to_riches"
    assert "war" not in genre.options or genre.value == "war"
    assert genre.value in genre.options
    assert all(g in genre_picker(template).options for g in genre.options)


def test_cost_sliders_cover_the_categories():
    sliders = cost_sliders(ActionCosts(scale={"conflict": 2.0}), bound=1.0)
    assert set(sliders) == {"conflict", "relationship", "mystery", "resolution", "transformation"}
    assert sliders["conflict"].value == pytest.approx(2.0)
    assert 10 ** sliders["mystery"].max == pytest.approx(math.e)


def test_panel_draws_and_redraws(monkeypatch):
    import matplotlib.pyplot as plt

    import storylab.widgets

    shown = []
    monkeypatch.setattr(storylab.widgets, "display", lambda fig: shown.append(fig.axes[0]))
    open_before = len(plt.get_fignums())
    panel = composition_panel("man_in_a_hole", "action", seed=1)
    pickers, sliders, _ = panel.children
    assert len(shown) == 1  # drawn once when built, headless
    assert "actions, cost" in shown[0].get_title()
    sliders.children[0].value = 0.8  # conflict
    pickers.children[0].value = "tragedy"
    assert len(shown) >= 3
    assert shown[-1].get_lines()[-1].get_label().startswith("tragedy")
    assert len(plt.get_fignums()) == open_before  # every figure closed after display
