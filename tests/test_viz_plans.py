import matplotlib.pyplot as plt
import pytest

from storylab.storyteller import compose
from storylab.viz.plans import plot_plan


@pytest.fixture(scope="module")
def plan():
    return compose("cinderella", "love", seed=3)


def test_plot_plan_draws_arc_trajectory_and_core_events(plan):
    ax = plot_plan(plan)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "Cinderella" in labels and "planned trajectory" in labels
    trajectory = next(line for line in ax.get_lines() if line.get_label() == "planned trajectory")
    assert len(trajectory.get_xdata()) == len(plan.actions) + 1
    stars = next(line for line in ax.get_lines() if line.get_label() == "core events")
    assert len(stars.get_xdata()) == len(plan.required_core_events) == 3
    assert len(ax.patches) == len(plan.phases)  # one band per phase
    assert trajectory.get_xdata()[-1] == pytest.approx(1.0)
    plt.close(ax.figure)


def test_plot_plan_uses_the_given_axes(plan):
    fig, ax = plt.subplots()
    assert plot_plan(plan, ax=ax, annotate=False) is ax
    assert not ax.texts
    plt.close(fig)
