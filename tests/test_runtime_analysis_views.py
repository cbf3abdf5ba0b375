"""Views of runtime analysis: the playthrough plot and the notebook player widget."""

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from storylab.runtime import Session, read_program
from storylab.runtime.analysis import playtest
from storylab.viz.runtime import playthrough_columns, plot_playthrough
from storylab.widgets import program_player

PROGRAMS = Path(__file__).resolve().parents[1] / "data" / "programs"


@pytest.fixture(scope="module")
def tavern():
    return read_program(PROGRAMS / "tavern-encounter.program.yaml")


def test_plot_playthrough_draws_relationships_and_spectrums(tavern):
    frame = playtest(
        tavern,
        ["coin", "adventure", "leave"],
        overrides={"player.name": "Ash", "arc.life_death": 0.5, "arc.mystery": 0.1},
    ).frame
    rel, spec = playthrough_columns(frame)
    assert rel == ["rel.npc.affinity"]
    assert spec == ["arc.life_death"]  # arc.mystery is not a life-value spectrum
    ax = plot_playthrough(frame, title="tavern")
    assert ax.get_title() == "tavern"
    assert [line.get_label() for line in ax.get_lines()] == ["rel.npc.affinity"]
    y = ax.get_lines()[0].get_ydata()
    assert list(y) == [0, 5, 7, 7]
    twin = [a for a in ax.figure.axes if a is not ax]
    assert len(twin) == 1 and twin[0].get_ylim() == (-1.05, 1.05)
    plt.close("all")


def test_plot_playthrough_into_given_axes_and_bad_frames():
    frame = pd.DataFrame({"step": [0, 1, 2], "arc.love_hate": [0.0, 0.2, -0.4]})
    fig, ax = plt.subplots()
    assert plot_playthrough(frame, ax=ax) is ax
    assert len(fig.axes) == 1  # spectrum only: no twin axis
    with pytest.raises(ValueError, match="step"):
        plot_playthrough(frame.drop(columns="step"))
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_playthrough(frame[["step"]])
    with pytest.raises(ValueError, match="no such columns"):
        plot_playthrough(frame, columns=["rel.x.y"])
    plt.close("all")


def test_program_player_buttons_play_the_program(tavern):
    box = program_player(tavern, session=Session(player={"name": "Ash"}))
    view, buttons = box.children
    labels = [b.tooltip for b in buttons.children]
    assert labels == ["adventure", "coin", "leave", None]  # the last is Restart
    assert "Looking for work" in view.value
    buttons.children[1].click()  # coin
    assert box.results[-1].input == "coin"
    assert "coin" not in [b.tooltip for b in buttons.children]  # once-only, gone
    assert box.session.relationships["npc"]["affinity"] == 5
    leave = next(b for b in buttons.children if b.tooltip == "leave")
    leave.click()
    assert box.results[-1].status == "finished"
    assert [b.description for b in buttons.children] == ["Restart"]
    buttons.children[0].click()
    assert len(box.results) == 1 and box.session.relationships == {}


def test_program_player_waits_and_starts_from_a_node():
    harbor = read_program(PROGRAMS / "harbor-alarm.program.yaml")
    box = program_player(harbor, node="respond")
    _, buttons = box.children
    next(b for b in buttons.children if b.tooltip == "stay").click()
    assert box.results[-1].status == "waiting"
    wait = next(b for b in buttons.children if b.description == "Wait")
    wait.click()
    assert box.results[-1].status == "finished" and box.session.world_time == 1.0
