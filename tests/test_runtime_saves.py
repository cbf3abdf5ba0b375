"""Saves: small and flat however long the playthrough, old formats still load, damage of
every kind raises SaveError, and a node renamed without a version bump is caught on load."""

import json
from pathlib import Path

import orjson
import pytest

from storylab.runtime import (
    NarrativeEngine,
    NarrativeProgram,
    SaveError,
    Session,
    StepError,
    load_program,
    save_session,
)

ROOT = Path(__file__).resolve().parents[1] / "data" / "programs"
HARBOUR = [load_program(p) for p in sorted(ROOT.glob("*.program.yaml"))]
SUB = NarrativeProgram.model_validate(
    {
        "id": "aside",
        "entry": "ask",
        "variables": {"topic": "'none'"},
        "nodes": [
            {
                "id": "ask",
                "type": "choice",
                "choices": [{"id": "tell", "text": "Tell me of {var.topic}", "once_only": True}],
                "fallback": "done",
            },
            {"id": "done", "type": "dialogue", "text": "Done.", "end": True},
        ],
    }
)
CALLER = NarrativeProgram.model_validate(
    {
        "id": "caller",
        "entry": "c",
        "nodes": [
            {"id": "c", "type": "call", "program": "aside", "args": {"topic": "'ships'"}},
            {"id": "e", "type": "dialogue", "text": "Back.", "end": True},
        ],
        "edges": [{"from": "c", "to": "e"}],
    }
)


def engine(**kw):
    return NarrativeEngine([*HARBOUR, SUB, CALLER], **kw)


def rich_session():
    """A session with a call in progress, an interruption on the stack, a pending
    generation, variables, visits, once-only choices and history."""
    e = engine()
    s = Session(
        "s1",
        player={"name": "Ash"},
        relationships={"captain": {"affinity": 5, "mood": "curious"}},
        inventory={"coin": 3},
        flags={"omen": 1.5},
    )
    e.start(s, "captain", "tavern_encounter")
    e.step(s, "captain", "coin")
    e.start(s, "captain", "caller")
    e.start(s, "guard", "dockside_farewell")
    return e, s


def test_save_keeps_recent_history_and_read_visit_counts_only():
    e, s = rich_session()
    small = json.loads(e.save(s, history=3))
    comp = small["components"]["captain"]
    assert comp["history"]["length"] == 3
    assert comp["stack"] == [
        ["tavern_encounter", "talk", False, None],
        ["caller", "c", False, None],
    ]
    assert comp["program"] == "aside"
    full = json.loads(save_session(s))
    length = len(s.components["captain"].history)
    assert full["components"]["captain"]["history"]["length"] == length
    loaded, report = engine().load(e.save(s))
    assert report.clean
    assert e.step(loaded, "captain", "tell").text == "Back."


def _long_program(n=60):
    nodes = [
        {
            "id": f"n{i}",
            "type": "choice",
            "choices": [{"id": "on", "text": "On", "to": f"n{(i + 1) % n}"}],
        }
        for i in range(n)
    ]
    nodes[0]["choices"].append({"id": "again", "text": "{visits('n1')}", "to": "n1"})
    return NarrativeProgram.model_validate({"id": "long", "entry": "n0", "nodes": nodes})


def test_a_long_playthrough_saves_in_flat_size():
    e, s = NarrativeEngine([_long_program()]), Session()
    e.start(s, "p", "long")
    sizes = []
    for k in range(3000):
        e.step(s, "p", "on")
        if k % 500 == 499:
            sizes.append(len(e.save(s)))
    assert max(sizes) - min(sizes) <= 16  # which ids the recent history holds; no growth
    assert max(sizes) < 1500
    loaded, _ = e.load(e.save(s))
    assert loaded.components["p"].visits["long"] == {"n1": s.components["p"].visits["long"]["n1"]}
    assert e.step(loaded, "p", "on").transcript_hash == e.step(s, "p", "on").transcript_hash


def test_saves_in_the_first_format_still_load():
    _, s = rich_session()
    old = json.loads(save_session(s))
    old["format"] = "storylab.session/1"
    loaded, report = engine().load(json.dumps(old))
    assert report.clean and loaded.components["captain"].history == s.components["captain"].history


def _paths(value, path=()):
    """Every path into a JSON value (the root excluded)."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        yield (*path, key)
        yield from _paths(item, (*path, key))


def _at(data, path):
    for key in path:
        data = data[key]
    return data


REPLACEMENTS = [None, True, 0, -1, 1.5, "x", [], {}, [1, "x"], {"x": 1}, 2**70]


def _damaged(blob):
    data = json.loads(blob)
    for path in _paths(data):
        parent = _at(data, path[:-1])
        twin = json.loads(blob)
        target = _at(twin, path[:-1])
        del target[path[-1]]
        yield f"delete {path}", json.dumps(twin)
        for value in REPLACEMENTS:
            if parent[path[-1]] == value and type(parent[path[-1]]) is type(value):
                continue
            twin = json.loads(blob)
            _at(twin, path[:-1])[path[-1]] = value
            yield f"{path} = {value!r}", json.dumps(twin)
    for cut in range(0, len(blob), 7):
        yield f"cut at {cut}", blob[:cut]


def _use(e, session):
    """Play on a loaded session: only the library's step errors may come out."""
    for npc in sorted(session.components):
        try:
            result = e.current(session, npc)
            e.step(session, npc, result.choices[0].id if result.choices else None)
        except StepError:
            pass
    orjson.loads(e.save(session))


def test_every_kind_of_damage_raises_save_error_or_loads_a_playable_session():
    e, s = rich_session()
    blob = e.save(s)
    tried = refused = 0
    for what, text in _damaged(blob):
        tried += 1
        try:
            loaded, _ = engine().load(text)
        except SaveError:
            refused += 1
            continue
        except Exception as exc:  # pragma: no cover - the failure this test looks for
            pytest.fail(f"{what}: {type(exc).__name__}: {exc}")
        try:
            _use(engine(), loaded)
        except Exception as exc:  # pragma: no cover
            pytest.fail(f"{what}: loaded, then {type(exc).__name__}: {exc}")
    assert tried > 1500 and refused > tried // 2


def test_save_error_names_the_place():
    e, s = rich_session()
    data = json.loads(e.save(s))
    data["components"]["captain"]["stack"][0][2] = "yes"
    with pytest.raises(SaveError, match=r"components\.captain\.stack\[0\]"):
        e.load(json.dumps(data))
    data = json.loads(e.save(s))
    data["inventory"]["coin"] = "lots"
    with pytest.raises(SaveError, match=r"inventory\.coin: expected a count"):
        e.load(json.dumps(data))
    with pytest.raises(SaveError, match="not a saved session"):
        e.load("[1, 2]")


def test_a_rename_without_a_version_bump_is_caught_on_load():
    e, s = rich_session()
    blob = e.save(s)
    tavern = next(p for p in HARBOUR if p.id == "tavern_encounter")
    text = json.dumps(tavern.model_dump(by_alias=True, exclude_none=True))
    renamed = NarrativeProgram.model_validate(json.loads(text.replace('"talk"', '"chat"')))
    assert renamed.version == tavern.version
    others = [p for p in HARBOUR if p.id != "tavern_encounter"]
    loaded, report = NarrativeEngine([renamed, *others, SUB, CALLER]).load(blob)
    kinds = {n.kind for n in report.notes}
    assert {"unversioned-change", "node-missing"} <= kinds
    frame = loaded.components["captain"].stack[0]
    assert frame[:3] == ("tavern_encounter", "arrive", True)


def test_the_one_pass_checks_decide_as_the_detailed_ones(monkeypatch):
    """The checks that build no message (the common case) accept exactly what the
    detailed checks accept, on every damaged variant of a save."""
    from storylab.runtime import saved

    e, s = rich_session()
    outcomes = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(saved, "_fits", lambda data: False)
            monkeypatch.setattr(saved, "_history_fits", lambda columns: False)
        got = []
        for what, text in _damaged(e.save(s)):
            try:
                engine().load(text)
                got.append((what, "loaded"))
            except SaveError as exc:
                got.append((what, str(exc)))
        outcomes.append(got)
    assert outcomes[0] == outcomes[1]
