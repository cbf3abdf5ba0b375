"""The step engine: every node type, nested programs, history, atomic steps."""

import itertools

import pytest

from storylab import UnknownNameError
from storylab.runtime import (
    NarrativeEngine,
    NarrativeProgram,
    Session,
    StepError,
)
from storylab.runtime.results import chain_hash


def program(nodes, edges=(), **extra):
    return NarrativeProgram.model_validate(
        {
            "id": extra.pop("id", "p"),
            "entry": nodes[0]["id"],
            "nodes": nodes,
            "edges": list(edges),
            **extra,
        }
    )


def chain(*ids):
    return [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]


def say(node_id, text, **kw):
    return {"id": node_id, "type": "dialogue", "text": text, **kw}


def menu(node_id, *choices, **kw):
    return {"id": node_id, "type": "choice", "choices": list(choices), **kw}


def opt(choice_id, to=None, **kw):
    return {"id": choice_id, "text": choice_id.title(), **({"to": to} if to else {}), **kw}


def play(prog, *, session=None, handlers=None, npc="npc_10"):
    engine = NarrativeEngine([prog], handlers=handlers)
    session = session or Session("s", player={"name": "Ash"})
    return engine, session, engine.start(session, npc, prog.id)


def test_dialogue_lines_collect_until_a_choice():
    prog = program(
        [say("a", "Hello {player.name}.", speaker="Mara"), say("b", "Sit."), menu("c", opt("ok"))],
        chain("a", "b", "c"),
    )
    _, _, r = play(prog)
    assert [(x.speaker, x.text) for x in r.lines] == [("Mara", "Hello Ash."), (None, "Sit.")]
    assert r.text == "Hello Ash.\nSit." and r.speaker is None
    assert r.status == "choice" and [c.id for c in r.choices] == ["ok"]
    assert r.snapshot.node == "c" and r.snapshot.history_length == 3


def test_dialogue_generation_request_carries_social_context():
    prog = program([say("a", "Line", generation_program="voice", end=True)])
    session = Session("s", relationships={"npc_10": {"affinity": 40, "mood": "happy"}})
    _, _, r = play(prog, session=session)
    (gen,) = r.generations
    assert gen.status == "done" and gen.content == "Line"
    assert gen.request.program == "voice" and gen.request.kind == "dialogue"
    assert (gen.request.social.tier, gen.request.social.mood) == ("friend", "happy")
    assert r.status == "finished" and r.finished == ("p",)


def test_choices_conditions_once_only_and_hidden_reasons():
    prog = program(
        [
            menu(
                "m",
                opt(
                    "talk",
                    "m",
                    once_only=True,
                    effects={"relationships": {"self": {"affinity": 5}}},
                ),
                opt("secret", "m", conditions=["rel.self.affinity >= 35"]),
                opt("bye", "end"),
            ),
            say("end", "Bye.", end=True),
        ]
    )
    engine, session, r = play(
        prog, session=Session("s", relationships={"npc_10": {"affinity": 30}})
    )
    assert [c.id for c in r.choices] == ["talk", "bye"] and r.hidden == ()
    r = engine.step(session, "npc_10", "talk", explain=True)
    assert [c.id for c in r.choices] == ["secret", "bye"]
    assert [(h.id, h.reason) for h in r.hidden] == [("talk", "once-only, already taken")]
    assert session.relationships["npc_10"]["affinity"] == 35
    offers, hidden = engine.choices(session, "npc_10")
    assert [o.id for o in offers] == ["secret", "bye"] and hidden[0].id == "talk"
    with pytest.raises(StepError, match=r"not on offer.*on offer: secret, bye"):
        engine.step(session, "npc_10", "talk")


def test_hidden_reason_names_the_failing_condition():
    prog = program([menu("m", opt("a", conditions=["flags.x", "rel.self.trust > 3"]), opt("b"))])
    engine, session, _ = play(prog, session=Session("s", flags={"x": True}))
    r = engine.current(session, "npc_10", explain=True)
    assert r.hidden[0].reason == "condition false: rel.self.trust > 3"


def test_fallback_when_no_choice_is_on_offer_and_error_without():
    prog = program(
        [
            menu("m", opt("a", conditions=["flags.open"]), fallback="f"),
            say("f", "Nothing to say.", end=True),
        ]
    )
    _, _, r = play(prog)
    assert r.text == "Nothing to say." and r.status == "finished"
    stuck = program(
        [say("s", "Hi"), menu("m", opt("a", conditions=["flags.open"]))], chain("s", "m")
    )
    session = Session("s")
    with pytest.raises(StepError, match="no choice is on offer at 'm' and it has no fallback"):
        NarrativeEngine([stuck]).start(session, "npc_10", "p")
    assert session.components == {}


def test_action_effects_and_delay():
    prog = program(
        [
            {
                "id": "act",
                "type": "action",
                "delay": 2.5,
                "effects": {
                    "relationships": {"self": {"affinity": 3}, "npc_12": {"trust": -2}},
                    "flags": {"met": True},
                    "inventory": {"rope": 1, "coin": -2},
                    "arcs": {"mystery": 0.5},
                    "quests": {"ghost_ship": "started"},
                    "variables": {"n": "var.n + 10", "label": "'done'"},
                },
            },
            say("end", "t={time} n={var.n} {var.label}", end=True),
        ],
        chain("act", "end"),
        variables={"n": 1, "label": ""},
    )
    session = Session("s", inventory={"coin": 2}, arcs={"mystery": 0.25})
    _, _, r = play(prog, session=session)
    assert r.text == "t=2.5 n=11 done"
    assert session.relationships == {"npc_10": {"affinity": 3}, "npc_12": {"trust": -2}}
    assert session.flags == {"met": True} and session.inventory == {"coin": 0, "rope": 1}
    assert session.arcs == {"mystery": 0.75} and session.quests == {"ghost_ship": "started"}
    assert session.world_time == 2.5


def test_effects_on_edges_enter_and_exit_in_order():
    prog = program(
        [
            say(
                "a",
                "A",
                on_enter={"variables": {"log": "var.log + 'E'"}},
                on_exit={"variables": {"log": "var.log + 'X'"}},
            ),
            say("b", "{var.log}", end=True),
        ],
        [{"from": "a", "to": "b", "effects": {"variables": {"log": "var.log + 'G'"}}}],
        variables={"log": ""},
    )
    _, _, r = play(prog)
    assert r.lines[-1].text == "EXG"


def test_branch_routes_by_first_true_edge_and_fails_when_none_holds():
    prog = program(
        [{"id": "br", "type": "branch"}, say("hi", "High", end=True), say("lo", "Low", end=True)],
        [
            {"from": "br", "to": "hi", "conditions": ["rel.self.affinity >= 50"]},
            {"from": "br", "to": "lo", "conditions": ["rel.self.affinity < 50", "true"]},
        ],
    )
    for affinity, text in ((60, "High"), (10, "Low")):
        _, _, r = play(prog, session=Session("s", relationships={"npc_10": {"affinity": affinity}}))
        assert r.text == text
    only_high = program(
        [{"id": "br", "type": "branch"}, say("hi", "High", end=True)],
        [{"from": "br", "to": "hi", "conditions": ["rel.self.affinity >= 50"]}],
    )
    with pytest.raises(StepError, match="no edge out of 'br'"):
        play(only_high)


def test_scene_launch_with_roles():
    prog = program(
        [
            {
                "id": "s",
                "type": "scene",
                "scene_id": "tavern",
                "roles": {"captain": "npc_10"},
                "end": True,
            }
        ]
    )
    _, _, r = play(prog)
    (scene,) = r.scenes
    assert (scene.scene_id, scene.intent, dict(scene.roles), scene.node) == (
        "tavern",
        None,
        {"captain": "npc_10"},
        "s",
    )


def test_wait_for_duration_and_condition():
    prog = program(
        [
            {"id": "w", "type": "wait", "duration": 2},
            {"id": "w2", "type": "wait", "condition": "flags.ready"},
            say("done", "Done at {time}.", end=True),
        ],
        chain("w", "w2", "done"),
    )
    engine, session, r = play(prog)
    assert r.status == "waiting" and r.node == "w"
    with pytest.raises(StepError, match="takes no input"):
        engine.step(session, "npc_10", "go")
    engine.advance_time(session, 1)
    assert engine.step(session, "npc_10").status == "waiting"
    engine.advance_time(session, 1)
    r = engine.step(session, "npc_10")
    assert r.status == "waiting" and r.node == "w2"
    session.flags["ready"] = True
    assert engine.step(session, "npc_10").text == "Done at 2."
    for bad in (-1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="forward by a finite amount"):
            engine.advance_time(session, bad)
    assert session.world_time == 2


def test_external_call_with_args_and_result():
    calls = []

    def roll(args, ctx):
        calls.append((args, ctx.npc, ctx.node))
        return args["sides"] * 2

    prog = program(
        [
            {
                "id": "c",
                "type": "external_call",
                "handler": "roll",
                "args": {"sides": "var.n + 1", "tag": 3},
                "store_as": "out",
            },
            say("end", "{var.out}", end=True),
        ],
        chain("c", "end"),
        variables={"n": 5, "out": 0},
    )
    _, _, r = play(prog, handlers={"roll": roll})
    assert r.text == "12" and calls == [({"sides": 6, "tag": 3}, "npc_10", "c")]


def test_unknown_handler_is_an_error():
    prog = program([{"id": "c", "type": "external_call", "handler": "nope", "end": True}])
    engine, session = NarrativeEngine([prog]), Session("s")
    with pytest.raises(StepError, match="unregistered handler"):
        engine.start(session, "npc_10", "p")
    engine.register_handler("nope", lambda args, ctx: None)
    assert engine.start(session, "npc_10", "p").status == "finished"
    del engine.handlers["nope"]
    session2 = Session("s2")
    engine.handlers["other"] = lambda a, c: None
    with pytest.raises(StepError):
        engine.start(session2, "npc_10", "p")


def test_comment_is_skipped_but_counted_as_visited():
    prog = program(
        [
            {"id": "note", "type": "comment", "text": "for writers"},
            say("end", "{visits('note')}", end=True),
        ],
        chain("note", "end"),
    )
    _, _, r = play(prog)
    assert r.text == "1" and r.lines[0].node == "end"


def test_action_blocks_direct_query_fallback_and_pending():
    prog = program(
        [
            {"id": "d", "type": "action_block", "blocks": ["enter_doorway", "lean_on_bar"]},
            {
                "id": "q",
                "type": "action_block",
                "query": {"tags": ["tavern"], "kind": "gesture", "count": 1},
                "composition": "merged",
            },
            {
                "id": "f",
                "type": "action_block",
                "query": {"tags": ["no-such-tag"]},
                "fallback_blocks": ["watch_ships"],
                "launch": "pending",
            },
            menu("m", opt("ok")),
        ],
        chain("d", "q", "f", "m"),
    )
    engine, session, r = play(
        prog, session=Session("s", relationships={"npc_10": {"affinity": 70}})
    )
    direct, query, pending = r.generations
    assert direct.request.blocks == ("enter_doorway", "lean_on_bar")
    assert (
        direct.request.prompt == "steps in from the doorway, shaking rain from a coat; "
        "then leans on the bar, one elbow on the worn wood"
    )
    assert direct.request.social.tier == "close_friend" and direct.status == "done"
    # after lean_on_bar (idle), raise_tankard follows idle: the best-scored gesture
    assert query.request.blocks == ("raise_tankard",)
    assert pending.status == "pending" and pending.content is None
    assert pending.request.blocks == ("watch_ships",)
    assert session.components["npc_10"].last_block == "watch_ships"
    assert len(session.pending) == 1
    (launched,) = engine.launch_pending(session)
    assert launched.status == "done" and launched.id == pending.id and session.pending == []


def test_action_block_without_match_or_fallback_fails_atomically():
    prog = program(
        [{"id": "q", "type": "action_block", "query": {"tags": ["no-such-tag"]}, "end": True}]
    )
    session = Session("s")
    with pytest.raises(StepError, match="0 of 1 block"):
        play(prog, session=session)
    assert session.to_dict()["components"] == {}


def test_unknown_block_id_rejected_when_registering():
    prog = program([{"id": "d", "type": "action_block", "blocks": ["nope"], "end": True}])
    with pytest.raises(UnknownNameError, match="action block 'nope'"):
        NarrativeEngine([prog])


def test_visits_count_every_entry_including_self_loops():
    prog = program(
        [menu("m", opt("again", "m"), opt("stop", "end")), say("end", "{visits('m')}", end=True)],
    )
    engine, session, _ = play(prog)
    for _ in range(3):
        engine.step(session, "npc_10", "again")
    assert engine.step(session, "npc_10", "stop").text == "4"
    comp = session.components["npc_10"]
    assert comp.visited("m", "p") == 4
    assert [h[3] for h in comp.history] == [
        "start",
        "choice:again",
        "choice:again",
        "choice:again",
        "choice:stop",
    ]


def test_history_records_program_node_time_and_way():
    prog = program(
        [
            say("a", "A"),
            {"id": "t", "type": "action", "delay": 1, "effects": {}},
            menu("m", opt("x", "end")),
            say("end", "E", end=True),
        ],
        [{"from": "a", "to": "t", "id": "a-t"}, {"from": "t", "to": "m"}],
    )
    engine, session, _ = play(prog)
    engine.step(session, "npc_10", "x")
    assert session.components["npc_10"].history == [
        ("p", "a", 0.0, "start"),
        ("p", "t", 0.0, "edge:a-t"),
        ("p", "m", 1.0, "edge:1"),
        ("p", "end", 1.0, "choice:x"),
    ]


def test_nested_programs_push_and_pop():
    outer = program(
        [say("hi", "Outer."), menu("m", opt("leave", "bye")), say("bye", "Bye.", end=True)],
        chain("hi", "m"),
        id="outer",
    )
    inner = program(
        [say("x", "Interrupt!"), menu("q", opt("ok", "y")), say("y", "Back to it.", end=True)],
        chain("x", "q"),
        id="inner",
    )
    engine, session = NarrativeEngine([outer, inner]), Session("s")
    engine.start(session, "npc", "outer")
    r = engine.start(session, "npc", "inner")
    assert r.snapshot.stack == (("outer", "m"),) and r.snapshot.stack_depth == 1
    assert session.components["npc"].stack_depth == 1
    r = engine.step(session, "npc", "ok")
    assert r.text == "Back to it." and r.finished == ("inner",)
    assert (
        r.program == "outer" and [c.id for c in r.choices] == ["leave"] and r.snapshot.stack == ()
    )
    r = engine.step(session, "npc", "leave")
    assert r.status == "finished" and r.program is None
    with pytest.raises(StepError, match="no active program"):
        engine.step(session, "npc", None)


def test_finish_pops_and_pause_blocks_steps():
    outer = program([menu("m", opt("a"))], id="outer")
    inner = program([menu("n", opt("b"))], id="inner")
    engine, session = NarrativeEngine([outer, inner]), Session("s")
    engine.start(session, "npc", "outer")
    engine.start(session, "npc", "inner")
    engine.pause(session, "npc")
    with pytest.raises(StepError, match="paused"):
        engine.step(session, "npc", "b")
    with pytest.raises(StepError, match="paused"):
        engine.start(session, "npc", "outer")
    assert engine.current(session, "npc").status == "paused"
    r = engine.resume(session, "npc")
    assert r.status == "choice" and [c.id for c in r.choices] == ["b"]
    r = engine.finish(session, "npc")
    assert r.finished == ("inner",) and r.program == "outer" and [c.id for c in r.choices] == ["a"]


def test_start_at_another_entry_and_unknown_names():
    prog = program([say("a", "A", end=True), say("b", "B", end=True)])
    engine, session = NarrativeEngine([prog]), Session("s")
    assert engine.start(session, "npc", "p", entry="b").text == "B"
    with pytest.raises(UnknownNameError, match="node of program"):
        engine.start(session, "npc", "p", entry="zzz")
    with pytest.raises(UnknownNameError, match="program 'nope'"):
        engine.start(session, "npc", "nope")


def _failing_midway():
    return program(
        [
            menu(
                "m",
                opt(
                    "go",
                    "act",
                    effects={"relationships": {"self": {"affinity": 5}}, "flags": {"went": True}},
                ),
            ),
            {
                "id": "act",
                "type": "action",
                "effects": {"inventory": {"gem": 1}, "variables": {"n": "var.n + 1"}},
                "delay": 3,
            },
            say("bad", "{var.n / var.zero}"),
            say("end", "never", end=True),
        ],
        chain("act", "bad", "end"),
        variables={"n": 0, "zero": 0},
    )


def test_failing_step_leaves_state_exactly_as_before():
    engine, session, _ = play(
        _failing_midway(), session=Session("s", relationships={"npc_10": {"affinity": 1}})
    )
    before = session.to_dict()
    with pytest.raises(StepError, match=r"at p/bad: cannot compute: division by zero"):
        engine.step(session, "npc_10", "go")
    assert session.to_dict() == before
    for bad in ("nope", None):
        with pytest.raises(StepError):
            engine.step(session, "npc_10", bad)
        assert session.to_dict() == before


def test_inventory_cannot_go_negative():
    prog = program(
        [
            {
                "id": "a",
                "type": "action",
                "effects": {"flags": {"x": 1}, "inventory": {"coin": -1}},
                "end": True,
            }
        ]
    )
    session = Session("s")
    with pytest.raises(StepError, match="coin would drop to -1"):
        play(prog, session=session)
    assert session.flags == {}


def test_handler_failure_is_atomic():
    def boom(args, ctx):
        raise RuntimeError("offline")

    prog = program(
        [
            {"id": "a", "type": "action", "effects": {"flags": {"x": 1}}},
            {"id": "c", "type": "external_call", "handler": "boom", "end": True},
        ],
        chain("a", "c"),
    )
    session = Session("s")
    with pytest.raises(StepError, match="handler 'boom' at 'c' failed"):
        play(prog, session=session, handlers={"boom": boom})
    assert session.flags == {} and session.components == {}


def test_loop_without_stop_is_caught():
    prog = program(
        [{"id": "a", "type": "branch"}, {"id": "b", "type": "comment"}],
        [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}],
    )
    engine = NarrativeEngine([prog], max_nodes_per_step=50)
    with pytest.raises(StepError, match="ran 50 nodes without stopping"):
        engine.start(Session("s"), "npc", "p")


def test_transcript_hash_is_deterministic_and_input_sensitive():
    prog = program([menu("m", opt("a", "m"), opt("b", "m"))])

    def run(inputs):
        engine, session, r = play(prog)
        hashes = [r.transcript_hash]
        hashes += [engine.step(session, "npc_10", i).transcript_hash for i in inputs]
        return hashes

    assert run("abba") == run("abba")
    assert run("abba")[-1] != run("abab")[-1]
    assert len(set(run("aaaa"))) == 5  # every step moves the chain on


def test_transcript_hash_chains_the_documented_parts():
    prog = program([say("a", "Hi", speaker="Mara"), menu("m", opt("x"))], chain("a", "m"))
    _, _, r = play(prog)
    parts = ["choice", "p", "m", "", "Mara", "Hi", "x", "X"]
    assert r.transcript_hash == chain_hash("", parts)


def test_start_accepts_a_program_object():
    prog = program([say("a", "A", end=True)], id="obj")
    engine, session = NarrativeEngine(), Session("s")
    assert engine.start(session, "npc", prog).text == "A"
    compiled = engine.compiled("obj")
    engine.start(session, "npc", prog)
    assert engine.compiled("obj") is compiled  # not compiled again
    newer = program([say("a", "B", end=True)], id="obj", version=2)
    assert engine.start(session, "npc", newer).text == "B"


def test_a_step_starts_where_the_host_left_the_component():
    prog = program([menu("m1", opt("a", "m2")), menu("m2", opt("b", "m1"), opt("c", "m1"))])
    engine, session, r = play(prog)
    assert r.node == "m1"
    comp = session.component("npc_10")
    comp.node = "".join(["m", "2"])  # an equal id, not the same object
    with pytest.raises(StepError, match="choice 'a' is not on offer at 'm2'"):
        engine.step(session, "npc_10", "a")
    assert engine.step(session, "npc_10", "c").node == "m1"
    engine.add_program(program([menu("m1", opt("z", "m1"))]))  # a new version, same ids
    assert [c.id for c in engine.step(session, "npc_10", "z").choices] == ["z"]
