import numpy as np
import pytest

from storylab import arc, classify_arc
from storylab.theory.text import text_arc, text_trajectory
from storylab.viz import plot_arc_fit, plot_text_arc


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_plot_arc_fit_draws_data_fit_and_turns():
    x = np.linspace(10.0, 70.0, 80)
    y = arc("cinderella").evaluate((x - 10) / 60) * 4 + 1
    fit = classify_arc(y, x)
    ax = plot_arc_fit(fit, y, x, runner_up=True)
    lines = ax.get_lines()
    assert len(lines) == 2 + 1 + len(fit.turning_points)
    fitted = lines[1].get_ydata()
    assert np.max(np.abs(fitted - y)) < 0.2  # the warped arc lies on the data
    assert ax.get_title() == "best: Cinderella"
    assert lines[3].get_xdata()[0] == pytest.approx(fit.turning_points[0].position)


def test_plot_arc_fit_abstention_title_and_bad_lengths():
    flat = np.full(30, 2.0)
    ax = plot_arc_fit(classify_arc(flat), flat)
    assert ax.get_title() == "abstained: flat"
    with pytest.raises(ValueError, match="differ in length"):
        plot_arc_fit(classify_arc(flat), flat, np.arange(29.0))


def test_plot_text_arc_band_and_fit():
    text = " ".join(["love happy"] * 300 + ["war death"] * 300 + ["love happy"] * 300)
    result = text_arc(text, window=200, points=40, shuffles=19, seed=0)
    ax = plot_text_arc(result)
    assert len(ax.collections) == 1 and len(ax.get_lines()) == 2
    assert "spread p = 0.050" in ax.get_title()
    bare = plot_text_arc(text_trajectory(text, window=200, points=40), null=result.null)
    assert len(bare.collections) == 1 and len(bare.get_lines()) == 1


def test_plot_risk_coverage_marks_the_threshold():
    from storylab.theory import risk_coverage
    from storylab.viz import plot_risk_coverage

    curve = risk_coverage([0.9, 0.8, 0.6, 0.3], [True, True, False, False])
    ax = plot_risk_coverage(curve, threshold=0.6)
    line, point = ax.get_lines()
    assert list(line.get_xdata()) == list(curve["coverage"])
    assert point.get_xdata()[0] == 0.75 and point.get_ydata()[0] == pytest.approx(1 / 3)
    assert "threshold 0.60" in ax.get_legend().get_texts()[1].get_text()
    with pytest.raises(ValueError, match="above every confidence"):
        plot_risk_coverage(curve, threshold=0.95)
