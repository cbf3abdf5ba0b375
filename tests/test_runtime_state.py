"""The state component's helpers, sessions, and the action-block library."""

import pytest
import yaml

from storylab import DataError, UnknownNameError
from storylab.runtime import (
    ActionBlockNode,
    BlockLibrary,
    NarrativeStateComponent,
    OfflineProvider,
    SaveError,
    Session,
    SocialContext,
    default_block_library,
    load_block_library,
)
from storylab.validation import validate_file


def test_component_helpers():
    comp = NarrativeStateComponent()
    assert not comp.active and comp.stack_depth == 0
    comp.start("outer", "a", {"n": 1})
    comp.advance("a", 0.0, "start")
    comp.start("inner", "x")
    assert comp.active and comp.stack_depth == 1 and comp.stack == [("outer", "a", False, None)]
    comp.advance("x", 1.0, "start")
    comp.advance("x", 2.0, "edge:0")
    assert comp.visited("x") == 2 and comp.visited("a", "outer") == 1 and comp.visited("zz") == 0
    comp.set_variable("m", 5)
    assert comp.get_variable("m") == 5 and comp.get_variable("n", "outer") == 1
    with pytest.raises(KeyError):
        comp.get_variable("n")
    comp.pause()
    assert comp.paused
    comp.resume()
    comp.set_error("boom")
    assert comp.error == "boom"
    comp.clear_error()
    assert comp.error is None
    assert comp.finish() == "outer" and comp.node == "a" and comp.stack_depth == 0
    assert comp.finish() is None and not comp.active
    assert comp.history == [
        ("outer", "a", 0.0, "start"),
        ("inner", "x", 1.0, "start"),
        ("inner", "x", 2.0, "edge:0"),
    ]
    again = NarrativeStateComponent.from_dict(comp.to_dict())
    assert again.to_dict() == comp.to_dict()
    twin = comp.copy()
    twin.visits["inner"]["x"] = 99
    twin.history.append(("inner", "x", 3.0, "edge:0"))
    assert comp.visits["inner"]["x"] == 2 and len(comp.history) == 3


def test_session_copy_is_independent():
    s = Session("s", flags={"a": 1}, relationships={"n": {"affinity": 2}}, inventory={"rope": 1})
    s.component("n").start("p", "a")
    t = s.copy()
    t.relationships["n"]["affinity"] = 50
    t.components["n"].node = "b"
    assert s.relationships["n"]["affinity"] == 2 and s.components["n"].node == "a"
    assert t.to_dict()["relationships"] == {"n": {"affinity": 50}}


def test_library_tiers_scores_and_resolution():
    lib = default_block_library()
    assert [lib.tier(a) for a in (-500, -1, 0, 12, 30, 59.9, 60, 90)] == [
        "hostile",
        "hostile",
        "stranger",
        "acquaintance",
        "friend",
        "friend",
        "close_friend",
        "intimate",
    ]
    bar, wary, tankard = (
        lib.block("lean_on_bar"),
        lib.block("wary_glance"),
        lib.block("raise_tankard"),
    )
    assert lib.compatibility(None, bar) == lib.scores.first
    assert lib.compatibility(bar, tankard) == lib.scores.follows  # follows kind idle
    assert lib.compatibility(tankard, wary) == lib.scores.avoids
    assert lib.compatibility(lib.block("dock_walk"), bar) == lib.scores.neutral
    node = ActionBlockNode(id="q", type="action_block", query={"tags": ["tavern"], "count": 3})
    res = lib.resolve(node, "enter_doorway")
    assert res.mode == "query" and len(res.blocks) == 3 and res.compatibility == 1.0
    assert res.blocks[0] == "lean_on_bar"  # follows entrance, lowest complexity
    strict = ActionBlockNode(
        id="s",
        type="action_block",
        query={"kind": "gesture", "min_compatibility": 0.9},
        fallback_blocks=["watch_ships"],
    )
    assert lib.resolve(strict, "dock_walk").mode == "fallback"
    assert lib.resolve(strict, "lean_on_bar").blocks == ("raise_tankard",)
    with pytest.raises(UnknownNameError, match="action block 'nope'"):
        lib.block("nope")


def test_composition_and_offline_provider():
    lib = default_block_library()
    node = ActionBlockNode(
        id="d", type="action_block", blocks=["raise_tankard", "raise_tankard", "laugh_together"]
    )
    res = lib.resolve(node, None)
    social = SocialContext("friend", "happy", 35.0)
    merged = lib.compose(res, "merged", social, npc="n", launch="immediate")
    layered = lib.compose(res, "layered", social, npc="n", launch="immediate")
    assert merged.prompt == "raises a tankard in greeting, laughs, head thrown back"
    assert layered.prompt.count(", while ") == 2 and len(layered.segments) == 3
    a, b = OfflineProvider().generate(merged), OfflineProvider().generate(merged)
    assert a == b and a.id.startswith("gen-") and a.content == merged.prompt
    assert OfflineProvider().generate(layered).id != a.id
    assert type(merged).from_dict(merged.to_dict()) == merged


def test_library_file_errors(tmp_path):
    path = tmp_path / "my-action-blocks.yaml"
    data = default_block_library().model_dump(mode="json")
    data["blocks"].append(dict(data["blocks"][0]))
    data["blocks"][1]["complexity"] = 9
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(DataError) as err:
        load_block_library(path)
    paths = [p.path for p in err.value.problems]
    assert "blocks[1].complexity" in paths
    data["blocks"][1]["complexity"] = 1
    path.write_text(yaml.safe_dump(data))
    problems = validate_file(path)
    assert len(problems) == 1 and "repeated: ['enter_doorway']" in problems[0].expected
    assert isinstance(default_block_library(), BlockLibrary)


def test_history_reads_like_a_list_and_saves_incrementally():
    from storylab.runtime import History

    h = History([("p", "a", 0.0, "start"), ("p", "b", 0.0, "edge:0")])
    first = h.encode()
    assert first == {
        "length": 2,
        "program": [["p", 2]],
        "node": "a b",
        "time": [[0.0, 2]],
        "via": "start edge:0",
    }
    first["program"][0][1] = 99  # callers cannot damage it
    h.append(("q", "c", 1.5, "choice:x"))
    assert len(h) == 3 and h.since(2) == [("q", "c", 1.5, "choice:x")]
    again = History.decode(h.encode())
    assert (
        again
        == h
        == [("p", "a", 0.0, "start"), ("p", "b", 0.0, "edge:0"), ("q", "c", 1.5, "choice:x")]
    )
    assert again.encode()["program"] == [["p", 2], ["q", 1]]
    again.truncate(1)
    assert list(again) == [("p", "a", 0.0, "start")] and again[0][1] == "a"
    twin = h.copy()
    twin.append(("q", "d", 2.0, "edge:1"))
    assert len(h) == 3 and len(twin) == 4
    assert History.decode(History().encode()) == []
    with pytest.raises(ValueError, match="damaged"):
        History.decode(
            {"length": 3, "program": [["p", 3]], "node": "a b", "time": [[0.0, 3]], "via": "x y z"}
        )


def test_history_reads_stay_right_between_appends_and_truncates():
    from storylab.runtime import History

    rows = [("p", f"n{k}", float(k // 3), "edge:0") for k in range(7)]
    h = History(rows[:2])
    assert h[-1] == rows[1] and list(h) == rows[:2]  # entries read, then more appended
    for row in rows[2:5]:
        h.append(row)
    assert h[2:] == rows[2:5] and len(h) == 5
    h.truncate(3)
    assert list(h) == rows[:3] and h.since(1) == rows[1:3]
    h.append(rows[5])  # the same length as before the truncate, new last entry
    h.append(rows[6])
    assert h == rows[:3] + rows[5:] and h[3] == rows[5]
    saved = History.decode(h.encode())
    saved.append(rows[0])
    saved.truncate(2)  # cuts into the part that was saved
    assert saved == rows[:2] and len(saved) == 2
    twin = h.copy()
    twin.truncate(0)
    assert len(twin) == 0 and list(twin) == [] and h == rows[:3] + rows[5:]


def test_history_folded_between_steps_reads_and_saves_as_if_never_folded(monkeypatch):
    from storylab.runtime import History, history

    monkeypatch.setattr(history, "FOLD_AT", 3)
    rows = [("p" if k < 5 else "q", f"n{k}", float(k // 4), f"edge:{k}") for k in range(12)]
    h = History()
    for k, row in enumerate(rows):
        h.append(row)
        h.settle()  # folds at 3, 6, 9, 12 entries
        if k in (3, 4, 7):
            assert h[-1] == row and h[: k + 1] == rows[: k + 1]  # reads between folds
    assert h == rows and len(h) == 12 and h.since(10) == rows[10:] and h[4:8] == rows[4:8]
    assert h.encode() == History(rows).encode()  # runs continue across chunk boundaries
    assert h.encode()["program"] == [["p", 5], ["q", 7]]
    assert History.decode(h.encode()) == rows
    twin = h.copy()
    h.truncate(4)  # into the first folded chunk
    assert h == rows[:4] and len(h) == 4 and twin == rows
    extra = [("r", "x", 9.0, "moved"), ("r", "y", 9.0, "edge:0")]
    for row in extra:
        h.append(row)
        h.settle()
    assert (
        h.encode() == History(rows[:4] + extra).encode() and twin.encode() == History(rows).encode()
    )


def test_visit_counts_save_packed_and_damage_is_caught():
    comp = NarrativeStateComponent()
    comp.visits = {"p": {"a": 2, "b": 1}, "q": {}}
    data = comp.to_dict()
    assert data["visits"] == {
        "p": {"nodes": "a b", "counts": [2, 1]},
        "q": {"nodes": "", "counts": []},
    }
    assert NarrativeStateComponent.from_dict(data).visits == comp.visits
    data["visits"]["p"]["counts"].append(5)
    with pytest.raises(SaveError, match="as many counts as node ids"):
        NarrativeStateComponent.from_dict(data)
