"""Tuning plots draw on the Axes they are given and reject bad input."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from storylab.theory import arc
from storylab.viz.tuning import plot_before_after, plot_trajectory_bands, plot_tuning_history


def test_bands_draw_median_band_and_arc():
    shares = np.linspace(0, 1, 5)
    values = np.array([[0, 0.1, 0.2, 0.3, 0.4], [0, 0.3, 0.4, 0.5, 0.6], [0, 0.2, 0.3, 0.4, 0.5]])
    fig, ax = plt.subplots()
    out = plot_trajectory_bands(values, shares, arc=arc("rags_to_riches"), ax=ax, label="r")
    assert out is ax
    median, reference = ax.get_lines()
    assert np.allclose(median.get_ydata(), [0, 0.2, 0.3, 0.4, 0.5])
    assert median.get_label() == "r (n=3)" and reference.get_label() == "Rags to riches"
    assert len(ax.collections) == 1  # the band
    with pytest.raises(ValueError, match="points per story"):
        plot_trajectory_bands(values, shares[:3], ax=ax)
    with pytest.raises(ValueError, match="quantiles"):
        plot_trajectory_bands(values, shares, quantiles=(0.9, 0.1), ax=ax)
    plt.close(fig)


def test_before_after_and_history():
    scores = pd.DataFrame(
        {"split": ["train", "train", "test", "test"], "stage": ["before", "after"] * 2}
    ).assign(rmse=[0.3, 0.2, 0.25, 0.22])
    ax = plot_before_after(scores, "rmse")
    heights = sorted(round(p.get_height(), 2) for p in ax.patches)
    assert heights == [0.2, 0.22, 0.25, 0.3]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["train", "test"]
    ax = plot_tuning_history(pd.DataFrame({"objective": [0.3, 0.4, 0.2, 0.25]}))
    evaluated, best = ax.get_lines()
    assert list(evaluated.get_ydata()) == [0.3, 0.4, 0.2, 0.25]
    assert list(best.get_ydata()) == [0.3, 0.3, 0.2, 0.2]
    plt.close("all")
