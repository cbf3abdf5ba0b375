"""Save and load, migration across program versions, deterministic replay, the examples."""

import json
from pathlib import Path

import pytest

from storylab.runtime import (
    NarrativeEngine,
    NarrativeProgram,
    SaveError,
    Session,
    format_transcript,
    load_program,
    transcript_json,
)

ROOT = Path(__file__).resolve().parents[1] / "data" / "programs"


HARBOUR = [load_program(p) for p in sorted(ROOT.glob("*.program.yaml"))]


def harbour_engine():
    return NarrativeEngine(HARBOUR)


def harbour_session():
    return Session(
        "s1",
        player={"name": "Ash"},
        relationships={"captain": {"affinity": 30, "chemistry": 10, "mood": "curious"}},
        inventory={"coin": 3},
    )


def test_tavern_choice_unlocks_rumours_when_affinity_rises():
    engine, session = harbour_engine(), harbour_session()
    r = engine.start(session, "captain", "tavern_encounter", explain=True)
    assert "rumors" in {h.id for h in r.hidden}
    r = engine.step(session, "captain", "coin")
    assert "rumors" in {c.id for c in r.choices}
    r = engine.step(session, "captain", "rumors")
    assert session.quests == {"ghost_ship": "started"} and session.inventory["coin"] == 2
    assert "rumors" not in {c.id for c in r.choices}
    r = engine.step(session, "captain", "leave")
    assert r.text == "Fair winds, Ash. We talked of 1 thing(s)." and r.status == "finished"


def test_interruption_suspends_and_resumes_the_tavern():
    engine, session = harbour_engine(), harbour_session()
    engine.start(session, "captain", "tavern_encounter")
    r = engine.start(session, "captain", "harbor_alarm")
    assert r.snapshot.stack == (("tavern_encounter", "talk"),)
    r = engine.step(session, "captain", "stay")
    assert r.status == "waiting" and r.node == "stay_put"
    engine.advance_time(session, 1)
    r = engine.step(session, "captain")
    assert r.finished == ("harbor_alarm",) and r.program == "tavern_encounter"
    assert [c.id for c in r.choices] == ["adventure", "coin", "leave"]
    assert session.relationships["guard"]["trust"] == -5


def test_action_block_scene_branches_on_affinity():
    for affinity, launch, blocks in (
        (40, "immediate", ("raise_tankard", "laugh_together")),
        (5, "pending", ("storm_out",)),
    ):
        engine, session = harbour_engine(), harbour_session()
        session.relationships["captain"]["affinity"] = affinity
        r = engine.start(session, "captain", "dockside_farewell")
        walk, beat, voice = r.generations
        assert walk.request.blocks == ("dock_walk", "watch_ships")
        assert (beat.request.launch, beat.request.blocks) == (launch, blocks)
        assert voice.request.program == "mara_voice"
        assert r.lines[0].text == (
            "Come back in one piece." if affinity >= 30 else "Mind the tide."
        )
        assert len(session.pending) == (launch == "pending")


def play_script(engine, session, script):
    results = []
    for npc, op, arg in script:
        if op == "start":
            results.append(engine.start(session, npc, arg))
        elif op == "time":
            engine.advance_time(session, arg)
        else:
            results.append(engine.step(session, npc, arg))
    return results


SCRIPT = [
    ("captain", "start", "tavern_encounter"),
    ("captain", "step", "adventure"),
    ("captain", "start", "harbor_alarm"),
    ("captain", "step", "help"),
    ("captain", "step", "coin"),
    ("captain", "step", "rumors"),
    ("guard", "start", "harbor_alarm"),
    ("guard", "step", "stay"),
    ("guard", "time", 2),
    ("guard", "step", None),
    ("captain", "step", "leave"),
    ("captain", "start", "dockside_farewell"),
    ("captain", "step", "wave"),
]


def test_replay_is_byte_identical():
    a = play_script(harbour_engine(), harbour_session(), SCRIPT)
    b = play_script(harbour_engine(), harbour_session(), SCRIPT)
    assert transcript_json(a) == transcript_json(b)
    assert format_transcript(a) == format_transcript(b)
    assert a[-1].transcript_hash == b[-1].transcript_hash


@pytest.mark.parametrize("cut", range(1, len(SCRIPT)))
def test_save_load_mid_play_continues_identically(cut):
    engine, session = harbour_engine(), harbour_session()
    straight = play_script(engine, session, SCRIPT)
    engine2, first = harbour_engine(), harbour_session()
    before = play_script(engine2, first, SCRIPT[:cut])
    text = engine2.save(first)
    fresh = harbour_engine()
    loaded, report = fresh.load(text)
    assert report.clean and str(report) == "no migration needed"
    after = play_script(fresh, loaded, SCRIPT[cut:])
    assert transcript_json(before + after) == transcript_json(straight)
    assert fresh.save(loaded) == engine.save(session)


def test_history_folding_between_steps_changes_nothing_a_host_sees(monkeypatch):
    from storylab.runtime import StepError, history

    engine, session = harbour_engine(), harbour_session()
    straight = play_script(engine, session, SCRIPT)
    monkeypatch.setattr(history, "FOLD_AT", 1)  # fold after every step
    engine2, folded = harbour_engine(), harbour_session()
    before = play_script(engine2, folded, SCRIPT[:4])
    entries = list(folded.components["captain"].history)
    with pytest.raises(StepError):
        engine2.step(folded, "captain", "no-such-choice")
    assert list(folded.components["captain"].history) == entries
    after = play_script(engine2, folded, SCRIPT[4:])
    assert transcript_json(before + after) == transcript_json(straight)
    assert engine2.save(folded) == engine.save(session)
    for npc, comp in session.components.items():
        assert folded.components[npc].history == comp.history


def test_numbers_json_cannot_hold_are_refused_naming_where_they_are():
    engine, session = harbour_engine(), harbour_session()
    play_script(engine, session, SCRIPT[:3])
    session.flags["omen"] = float("nan")
    with pytest.raises(ValueError, match=r"cannot save flags\.omen = nan: JSON holds finite"):
        engine.save(session)
    session.flags["omen"] = 1.5
    session.components["captain"].set_variable("gold", 2**70, "tavern_encounter")
    with pytest.raises(ValueError, match=r"components\.captain\.variables\.tavern_encounter\.gold"):
        engine.save(session)
    session.components["captain"].set_variable("gold", 2**40, "tavern_encounter")
    session.relationships["captain"]["trust"] = float("-inf")
    with pytest.raises(ValueError, match=r"relationships\.captain\.trust = -inf"):
        engine.save(session)
    del session.relationships["captain"]["trust"]
    loaded, _ = engine.load(engine.save(session))
    assert loaded.flags["omen"] == 1.5
    assert loaded.components["captain"].variables["tavern_encounter"]["gold"] == 2**40


def test_saved_json_is_stable_and_round_trips():
    engine, session = harbour_engine(), harbour_session()
    play_script(engine, session, SCRIPT[:6])
    text = engine.save(session)
    data = json.loads(text)
    assert data["format"] == "storylab.session/2"
    history = data["components"]["captain"]["history"]
    assert history["program"] == [
        ["tavern_encounter", 5],
        ["harbor_alarm", 6],
        ["tavern_encounter", 5],
    ]
    assert history["time"] == [[0.0, 9], [0.5, 7]]
    assert history["node"].split(" ")[:3] == ["arrive", "greet", "talk"]
    assert history["length"] == 16 and len(history["via"].split(" ")) == 16
    assert engine.save(Session.from_dict(data)) == text
    assert engine.save(engine.load(text.encode())[0]) == text  # bytes, as read from a file
    with pytest.raises(ValueError, match="line 1 column"):
        engine.load(text[:-1])
    with pytest.raises(ValueError, match="not a saved session"):
        Session.from_dict({"format": "other"})


def _v2(**changes):
    data = _tavern_v1()
    data["version"] = 2
    data.update(changes)
    return NarrativeProgram.model_validate(data)


def test_load_under_new_version_reports_moves_and_renames():
    engine, session = harbour_engine(), harbour_session()
    engine = NarrativeEngine(HARBOUR, save_visits="all")  # a later version may read more
    engine.start(session, "captain", "tavern_encounter")
    engine.step(session, "captain", "coin")
    saved = engine.save(session)

    text = json.dumps(_tavern_v1()).replace('"talk"', '"menu"').replace("topics", "subjects")
    renamed = json.loads(text)
    prog = _v2(
        nodes=renamed["nodes"],
        edges=renamed["edges"],
        variables={"subjects": 0, "mood": "calm"},
        renames={"nodes": {"talk": "menu"}, "variables": {"topics": "subjects"}},
    )
    new_engine = NarrativeEngine([prog])
    loaded, report = new_engine.load(saved)
    kinds = [(n.kind, n.old, n.new) for n in report.notes]
    assert ("version", "1", "2") in kinds
    assert ("node-moved", "talk", "menu") in kinds
    assert ("variable-renamed", "topics", "subjects") in kinds
    assert ("variable-added", None, "mood") in kinds
    comp = loaded.components["captain"]
    assert comp.node == "menu" and comp.variables["tavern_encounter"] == {
        "subjects": 1,
        "mood": "calm",
    }
    assert comp.visits["tavern_encounter"]["menu"] == 2 and comp.taken["tavern_encounter"] == {
        "menu/coin": True
    }
    r = new_engine.current(loaded, "captain")
    assert [c.id for c in r.choices] == ["adventure", "rumors", "leave"]
    assert new_engine.step(loaded, "captain", "leave").status == "finished"


def _tavern_v1():
    path = ROOT / "tavern-encounter.program.yaml"
    return load_program(path).model_dump(mode="json", by_alias=True, exclude_none=True)


def _tavern_v2_without_talk():
    v1 = _tavern_v1()
    nodes = [n for n in v1["nodes"] if n["id"] != "talk"]
    for n in nodes:
        if n["id"] == "farewell":
            n["text"] = "Fair winds."
    edges = [e for e in v1["edges"] if "talk" not in (e["from"], e["to"])]
    return _v2(nodes=nodes, edges=edges, variables={})


def test_missing_node_moves_to_entry_and_runs_on_next_step():
    engine, session = harbour_engine(), harbour_session()
    engine = NarrativeEngine(HARBOUR, save_visits="all")  # a later version may read more
    engine.start(session, "captain", "tavern_encounter")
    engine.step(session, "captain", "coin")
    saved = engine.save(session)
    new_engine = NarrativeEngine([_tavern_v2_without_talk()])
    loaded, report = new_engine.load(saved)
    notes = {n.kind: n for n in report.notes}
    assert notes["node-missing"].old == "talk" and notes["node-missing"].new == "arrive"
    assert "variable-removed" in notes and "var.topics" in notes["variable-removed"].detail
    assert notes["choice-dropped"].old == "talk/coin"
    assert notes["visits-dropped"].old == "talk"
    assert "captain/tavern_encounter: node-missing" in str(report)
    assert new_engine.current(loaded, "captain").status == "waiting"
    with pytest.raises(ValueError, match="not been reached yet"):
        new_engine.step(loaded, "captain", "coin")
    r = new_engine.step(loaded, "captain")
    assert r.lines[0].node == "greet"
    assert loaded.components["captain"].history[-2][3] == "moved"


def test_loading_with_an_active_program_missing_is_an_error():
    engine, session = harbour_engine(), harbour_session()
    engine.start(session, "captain", "tavern_encounter")
    with pytest.raises(SaveError, match="program 'tavern_encounter'"):
        NarrativeEngine([]).load(engine.save(session))


def test_incomplete_saves_are_reported():
    engine = harbour_engine()
    data = json.loads(engine.save(harbour_session()))
    del data["pending"], data["flags"]
    with pytest.raises(ValueError, match="lacks flags, pending"):
        engine.load(data)
