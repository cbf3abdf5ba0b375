"""Played versus planned, and Monte-Carlo players with re-planning on and off."""

import pandas as pd
import pytest

from storylab.play import (
    Playthrough,
    StoryPlayer,
    arc_share,
    played_vs_planned,
    simulate_players,
)
from storylab.storyteller import compose


@pytest.fixture(scope="module")
def plan():
    return compose("tragedy", "status", seed=0)


def _play(plan, picks, replanning):
    player = StoryPlayer(plan, replanning=replanning)
    result = player.start()
    while result.status == "choice":
        offered = [c.id for c in result.choices]
        result = player.step(picks(offered))
    return player.playthrough()


def test_following_the_plan_plays_the_plan(plan):
    played = _play(plan, lambda offered: offered[0], replanning=True)
    frame = played_vs_planned(plan, [played])
    row = frame.iloc[0]
    assert row["distance"] == pytest.approx(0.0, abs=1e-9)
    assert row["played"] == row["planned"] and len(row["played"]) == 50
    assert row["arc"] == "tragedy" and bool(row["follows_template"])
    assert row["core_events_missing"] == () and row["deviations"] == 0
    assert played.primary == tuple(p.primary for p in plan.trajectory)


def test_deviating_moves_the_played_story_away(plan):
    deviate = lambda offered: next((c for c in offered if c.startswith("deviate.")), offered[0])  # noqa: E731
    off, on = _play(plan, deviate, False), _play(plan, deviate, True)
    frame = played_vs_planned(plan, [off, on])
    assert (frame["distance"] > 0).all()
    assert list(frame["replanning"]) == [False, True]
    assert list(frame["replans"]) == [0, len(plan.phases) - 1]
    assert set(frame.columns) >= {"arc", "reason", "follows_template", "core_events_missing"}


def test_bad_input_is_refused(plan):
    with pytest.raises(ValueError, match="at least one"):
        played_vs_planned(plan, [])
    with pytest.raises(ValueError, match="at least 11"):
        played_vs_planned(plan, [_play(plan, lambda o: o[0], True)], points=5)
    empty = Playthrough(
        plan_id=plan.id,
        replanning=False,
        choices=(),
        actions=(),
        ticks=(0,),
        primary=(0.0,),
        replans=0,
        unreached=(),
        finished=False,
    )
    with pytest.raises(ValueError, match="played no action"):
        played_vs_planned(plan, [empty])
    with pytest.raises(ValueError, match="n: at least 1"):
        simulate_players(plan, 0, progress=False)


def test_monte_carlo_is_deterministic_and_compares_replanning(plan):
    frame = simulate_players(plan, 12, seed=5, progress=False)
    again = simulate_players(plan, 12, seed=5, progress=False)
    stable = [c for c in frame.columns if c not in ("elapsed_s", "replan_s")]
    pd.testing.assert_frame_equal(frame[stable], again[stable])
    assert len(frame) == 24 and list(frame["player"][:12]) == list(range(12))
    off, on = frame[~frame["replanning"]], frame[frame["replanning"]]
    assert (off["replans"] == 0).all() and (on["replans"] == on["deviations"]).all()
    # common random numbers: the first decision is the same in both conditions
    assert list(off["choices"].str[0]) == list(on["choices"].str[0])
    shares = arc_share(frame)
    assert list(shares.index) == [False, True]
    assert (shares["players"] == 12).all()
    assert shares.loc[True, "follows_template"] >= shares.loc[False, "follows_template"]


def test_weights_steer_the_players(plan):
    loyal = simulate_players(plan, 20, seed=1, weights={"continue": 1e6}, progress=False)
    assert (loyal["deviations"] == 0).all() and loyal["follows_template"].all()
    rebels = simulate_players(
        plan, 10, seed=1, weights={"continue": 0.0}, replanning=(False,), progress=False
    )
    assert (rebels["deviations"] == len(plan.phases) - 1).all()


def test_unshared_replans_are_timed_per_player(plan):
    frame = simulate_players(
        plan, 4, seed=2, replanning=(True,), share_replans=False, progress=False
    )
    assert [len(r) for r in frame["replan_s"]] == list(frame["replans"])
