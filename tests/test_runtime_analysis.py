"""Runtime analysis: reachability, path enumeration, Monte-Carlo playthroughs, playtest."""

import math
from pathlib import Path

import numpy as np
import pytest

from storylab._data import DataError
from storylab.runtime import NarrativeProgram, Session, StepError, read_program
from storylab.runtime.analysis import (
    enumerate_paths,
    monte_carlo,
    playtest,
    reachability,
)

PROGRAMS = Path(__file__).resolve().parents[1] / "data" / "programs"


def program(nodes, edges=(), **extra):
    data = {"id": "p", "entry": nodes[0]["id"], "nodes": list(nodes), "edges": list(edges)}
    return NarrativeProgram.model_validate({**data, **extra})


def say(node_id, text="...", **kw):
    return {"id": node_id, "type": "dialogue", "text": text, **kw}


def menu(node_id, *choices, **kw):
    return {"id": node_id, "type": "choice", "choices": list(choices), **kw}


def opt(choice_id, to=None, **kw):
    return {"id": choice_id, "text": choice_id.title(), **({"to": to} if to else {}), **kw}


def edge(a, b, **kw):
    return {"from": a, "to": b, **kw}


def clean(values):
    return {k: v for k, v in values.items() if not (isinstance(v, float) and math.isnan(v))}


UNSET = {"rel": 0, "inv": 0, "arc": 0, "flags": False}


def assert_same_state(final, state):
    """A Monte-Carlo final row (gaps filled as conditions read them) equals a state dict."""
    final = clean(final)
    assert set(state) <= set(final)
    for name, value in final.items():
        expected = state.get(name, UNSET.get(name.split(".", 1)[0]))
        assert value == expected, name
        assert isinstance(value, bool | np.bool_) == isinstance(expected, bool), name


@pytest.fixture(scope="module")
def tavern():
    return read_program(PROGRAMS / "tavern-encounter.program.yaml")


@pytest.fixture(scope="module")
def harbor():
    return read_program(PROGRAMS / "harbor-alarm.program.yaml")


@pytest.fixture(scope="module")
def dockside():
    return read_program(PROGRAMS / "dockside-farewell.program.yaml")


# -- reachability ----------------------------------------------------------------------------
def test_reachability_finds_unreachable_exits_dead_ends_and_traps():
    prog = program(
        [
            menu("start", opt("home", "home"), opt("loop", "spin"), opt("quit")),
            say("home", end=True),
            say("spin"),
            say("spin2"),
            say("orphan"),
        ],
        [edge("spin", "spin2"), edge("spin2", "spin")],
    )
    r = reachability(prog)
    assert r.reachable == ("start", "home", "spin", "spin2")
    assert r.unreachable == ("orphan",)
    assert r.depth == {"start": 0, "home": 1, "spin": 1, "spin2": 2}
    assert set(r.exits) == {"start", "home", "orphan"}  # "quit" has no target: start can end
    assert set(r.dead_ends) == {"start", "orphan"}
    assert r.traps == ("spin", "spin2")
    assert not r.ok
    frame = r.frame().set_index("node")
    assert frame.loc["orphan", "depth"] == -1 and frame.loc["spin", "trap"]
    assert "traps (no way to an exit): spin, spin2" in r.summary()


def test_example_programs_have_no_traps(tavern, harbor, dockside):
    for prog in (tavern, harbor, dockside):
        r = reachability(prog)
        assert not r.traps and not r.unreachable, r.summary()
        assert r.reachable[0] == prog.entry


# -- path enumeration ------------------------------------------------------------------------
def gate():
    return program(
        [
            menu(
                "hub",
                opt("work", "hub", effects={"variables": {"coins": "var.coins + 1"}}),
                opt("buy", "bought", conditions=["var.coins >= 2"], once_only=True),
                opt("leave"),
            ),
            say("bought", "Sold.", end=True),
        ],
        variables={"coins": 0},
    )


def test_enumerate_paths_respects_conditions_and_the_bound():
    report = enumerate_paths(gate(), max_choices=3)
    paths = {(row.choices, row.outcome) for row in report.paths.itertuples()}
    assert paths == {
        (("leave",), "finished"),
        (("work", "leave"), "finished"),
        (("work", "work", "buy"), "finished"),
        (("work", "work", "leave"), "finished"),
        (("work", "work", "work"), "max_steps"),
    }
    bought = report.paths[report.paths["choices"] == ("work", "work", "buy")].iloc[0]
    assert bought["nodes"] == ("hub", "hub", "hub", "bought")
    assert bought["var.coins"] == 2 and bought["end_node"] == "bought"
    assert not report.truncated


def test_enumerate_paths_from_overrides_and_truncation():
    report = enumerate_paths(gate(), max_choices=1, overrides={"var.coins": 5})
    assert sorted(report.paths["choices"]) == [("buy",), ("leave",), ("work",)]
    cut = enumerate_paths(gate(), max_choices=8, max_paths=3)
    assert cut.truncated and len(cut.paths) == 3
    with pytest.raises(ValueError):
        enumerate_paths(gate(), max_choices=-1)


def test_enumerate_paths_reports_errors_and_waits():
    prog = program(
        [
            menu(
                "m",
                opt("pay", "paid", effects={"inventory": {"coin": -1}}),
                opt("wait", "hold"),
            ),
            say("paid", end=True),
            {"id": "hold", "type": "wait", "condition": "flags.called"},
            say("after", end=True),
        ],
        [edge("hold", "after")],
    )
    paths = enumerate_paths(prog).paths.set_index("outcome")
    assert "coin would drop to -1" in paths.loc["error", "error"]
    assert paths.loc["waiting", "end_node"] == "hold"


# -- Monte-Carlo -----------------------------------------------------------------------------
def play_tavern(tavern, n, **kw):
    return monte_carlo(tavern, n, session=Session(player={"name": "Ash"}), **kw)


def test_monte_carlo_is_seeded_and_prefix_stable(tavern):
    a = play_tavern(tavern, 60, seed=7, overrides={"inv.coin": 3})
    b = play_tavern(tavern, 60, seed=7, overrides={"inv.coin": 3})
    c = play_tavern(tavern, 120, seed=7, overrides={"inv.coin": 3})
    assert a.playthroughs.equals(b.playthroughs)
    assert list(c.playthroughs["choices"][:60]) == list(a.playthroughs["choices"])
    d = play_tavern(tavern, 60, seed=8, overrides={"inv.coin": 3})
    assert list(d.playthroughs["choices"]) != list(a.playthroughs["choices"])
    assert a.seed == 7 and set(a.playthroughs["seed"]) == {7}
    gen = play_tavern(tavern, 5, seed=np.random.default_rng(3))
    assert gen.seed is None and len(gen.playthroughs) == 5


def test_monte_carlo_coverage_adds_up(tavern):
    mc = play_tavern(tavern, 200, seed=1, overrides={"inv.coin": 3})
    frame, nodes = mc.playthroughs, mc.node_coverage.set_index("node")
    assert nodes["visits"].sum() == frame["nodes"].sum()
    assert nodes.loc["arrive", "playthroughs"] == 200 and nodes.loc["arrive", "share"] == 1.0
    assert (nodes["playthroughs"] <= 200).all()
    assert set(frame["outcome"]) == {"finished"}
    edges = mc.edge_coverage
    leave = edges[(edges["from"] == "talk") & (edges["via"] == "choice:leave")]
    assert int(leave["traversals"].iloc[0]) == 200  # every playthrough leaves once
    assert 0 < mc.node_share <= 1 and 0 < mc.edge_share <= 1
    # "flirt" needs chemistry 30: never on offer, so its reply is never reached
    assert nodes.loc["reply_flirt", "visits"] == 0
    assert "rel.npc.affinity" in mc.distributions().index


def test_monte_carlo_weights_steer_and_zero_weight_never_picks(tavern):
    never = monte_carlo(gate(), 100, seed=2, weights={"leave": 0.0, "buy": 0.0})
    assert not any({"leave", "buy"} & set(c) for c in never.playthroughs["choices"])
    assert set(never.playthroughs["outcome"]) == {"max_steps"}
    assert never.playthroughs["steps"].max() == 200
    # when every choice on offer weighs 0 the pick is uniform: the tavern still ends
    forced = play_tavern(tavern, 20, seed=2, weights={"leave": 0.0})
    assert set(forced.playthroughs["outcome"]) == {"finished"}
    eager = play_tavern(tavern, 300, seed=2, weights={"talk/leave": 50.0})
    uniform = play_tavern(tavern, 300, seed=2)
    assert eager.playthroughs["steps"].mean() < uniform.playthroughs["steps"].mean()
    with pytest.raises(ValueError, match="not negative"):
        play_tavern(tavern, 5, weights={"leave": -1})
    with pytest.raises(ValueError, match="name no choice"):
        play_tavern(tavern, 5, weights={"talk/leav": 2})


@pytest.mark.parametrize("name", ["tavern", "harbor", "dockside"])
def test_monte_carlo_playthroughs_replay_identically_on_the_engine(name, request):
    prog = request.getfixturevalue(name)
    session = Session(player={"name": "Ash"})
    mc = monte_carlo(prog, 25, seed=11, max_steps=12, session=session, overrides={"inv.coin": 2})
    for player in range(25):
        row = mc.playthroughs.iloc[player]
        replay = mc.replay(player)
        assert replay.error is None
        assert replay.inputs == row["choices"]
        assert_same_state(mc.finals().iloc[player].to_dict(), replay.states[-1])
        assert replay.results[-1].snapshot.history_length == row["nodes"]
        if row["outcome"] == "finished":
            assert replay.results[-1].status == "finished"


def test_monte_carlo_errors_handlers_and_bad_arguments():
    prog = program(
        [
            {"id": "call", "type": "external_call", "handler": "roll", "store_as": "r"},
            menu("m", opt("spend", "done", effects={"inventory": {"gem": -1}}), opt("stop")),
            say("done", end=True),
        ],
        [edge("call", "m")],
        variables={"r": 0},
    )
    with pytest.raises(StepError, match="unregistered handler"):
        monte_carlo(prog, 3)
    mc = monte_carlo(prog, 200, seed=0, handlers={"roll": lambda args, ctx: 4})
    frame = mc.playthroughs
    assert set(frame["outcome"]) == {"error", "finished"}
    assert frame.loc[frame["outcome"] == "error", "error"].str.contains("gem").all()
    assert (frame["var.r"] == 4).all()
    with pytest.raises(ValueError):
        monte_carlo(prog, 0, handlers={"roll": lambda a, c: 1})
    unnamed = monte_carlo(read_program(PROGRAMS / "tavern-encounter.program.yaml"), 3, seed=0)
    assert set(unnamed.playthroughs["outcome"]) == {"error"}  # the greeting needs player.name
    assert unnamed.playthroughs["error"].str.contains("player.name is not set").all()
    bad = program([say("a")], [edge("a", "nowhere")])
    with pytest.raises(DataError):
        monte_carlo(bad, 3)


# -- playtest --------------------------------------------------------------------------------
def test_playtest_from_a_node_with_overrides_and_diff(tavern):
    session = Session(player={"name": "Ash"})
    result = playtest(
        tavern,
        ["rumors", "leave"],
        node="talk",
        overrides={"rel.npc.affinity": 40, "inv.coin": 2},
        session=session,
    )
    assert result.error is None and result.node == "talk"
    assert "A ship came in at dawn" in result.transcript
    diff = result.diff.set_index("name")
    assert diff.loc["inv.coin", "before"] == 2 and diff.loc["inv.coin", "after"] == 1
    assert diff.loc["inv.coin", "delta"] == -1
    assert diff.loc["flags.heard_rumor", "before"] is False
    assert diff.loc["quest.ghost_ship", "after"] == "started"
    assert "rel.npc.affinity" not in diff.index  # rumours do not move affinity
    assert session.inventory == {} and session.components == {}  # caller's session untouched
    frame = result.frame
    assert list(frame["step"]) == [0, 1, 2]
    assert frame["inv.coin"].tolist() == [2, 1, 1]
    again = playtest(
        tavern, ["rumors", "leave"], node="talk", overrides={"rel.npc.affinity": 40, "inv.coin": 2}
    )
    assert (
        again.transcript_hash != ""
        and again.transcript_hash
        == playtest(
            tavern,
            ["rumors", "leave"],
            node="talk",
            overrides={"rel.npc.affinity": 40, "inv.coin": 2},
        ).transcript_hash
    )


def test_playtest_stops_at_a_bad_input_and_keeps_what_was_played(tavern):
    result = playtest(tavern, ["coin", "rumors", "leave"], overrides={"player.name": "Ash"})
    assert result.inputs == ("coin",)
    assert "not on offer" in result.error
    assert result.diff.set_index("name").loc["rel.npc.affinity", "after"] == 5


def test_playtest_passes_duration_waits_and_rejects_bad_overrides(harbor, tavern):
    result = playtest(harbor, ["stay"])
    assert [r.status for r in result.results] == ["choice", "waiting", "finished"]
    assert result.states[-1]["time"] == 1.0
    assert "player.name is not set" in playtest(tavern).error
    for bad in ({"rel.npc": 1}, {"var.nope": 1}, {"mood": 2}, {"time": "noon"}, {"flags.": 1}):
        with pytest.raises(ValueError, match="cannot override"):
            playtest(tavern, overrides=bad)
