"""Plots of played stories."""

import matplotlib.pyplot as plt
import pandas as pd

from storylab.play import StoryPlayer, simulate_players
from storylab.storyteller import compose
from storylab.viz import plot_arc_share, plot_played_vs_planned


def test_played_vs_planned_draws_arc_plan_and_each_playthrough():
    plan = compose("icarus", "status", seed=0)
    player = StoryPlayer(plan)
    result = player.start()
    result = player.step(next(c.id for c in result.choices if c.id.startswith("deviate.")))
    while result.status == "choice":
        result = player.step(result.choices[0].id)
    ax = plot_played_vs_planned(plan, [player.playthrough()], labels=["bent"])
    assert len(ax.lines) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "bent"
    plt.close(ax.figure)


def test_arc_share_bars_per_template_and_setting():
    frames = []
    for template, genre in (("icarus", "status"), ("tragedy", "status")):
        frame = simulate_players(compose(template, genre, seed=0), 4, progress=False)
        frames.append(frame.assign(template=template))
    ax = plot_arc_share(pd.concat(frames))
    assert len(ax.patches) == 4
    assert [t.get_text() for t in ax.get_yticklabels()] == ["icarus", "tragedy"]
    plt.close(ax.figure)
