"""Compiling program data without the models: the same program, the same errors."""

import copy
import importlib.util
import sys
from pathlib import Path

import pytest

from storylab import DataError
from storylab._data import read_document
from storylab.runtime import NarrativeEngine, Session, compile_program, parse_program
from storylab.runtime.analysis import monte_carlo
from storylab.runtime.document import compile_document

ROOT = Path(__file__).resolve().parents[1]


def _stories():
    """The benchmarks' story generator, loaded under its own name (not on sys.path)."""
    spec = importlib.util.spec_from_file_location("bench_stories", ROOT / "benchmarks/stories.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


STORIES = _stories()

PROGRAMS = sorted((ROOT / "data" / "programs").glob("*.program.yaml"))
GENERATED = STORIES.to_program_data(STORIES.generate_story(200, 3))


def shape(cp):
    """Everything the engine reads of a compiled program, as plain values."""

    def fx(effects):
        if effects is None:
            return None
        parts = effects.parts
        return (effects.rel, effects.flags, effects.inv, effects.arcs, effects.quests,
                tuple(k for k, _ in effects.vars), tuple(t for t, _ in effects.sets),
                None if parts is None else tuple(map(fx, parts)))  # fmt: skip

    nodes = []
    for node in cp.nodes.values():
        nodes.append(
            (
                node.id, node.kind, node.end, fx(node.on_enter), fx(node.on_exit),
                fx(node.effects), node.delay, node.duration, node.speaker, node.line,
                node.text and node.text.source, node.fallback, node.handler, node.callee,
                node.store_as, node.scene, node.next and node.next.id, node.next_via,
                tuple((c is None, fx(e), t.id, via) for c, e, t, via in node.edges),
                tuple((c.id, c.key, c.via, c.to, c.once_only, c.offer, fx(c.effects),
                       tuple(e.source for e in c.exprs)) for c in node.choices or ()),
                node.fixed, node.block,
            )
        )  # fmt: skip
    return (cp.id, cp.version, cp.entry, cp.defaults, cp.counted, cp.handlers, cp.callees,
            cp.blocks, cp.node_renames, cp.variable_renames, nodes)  # fmt: skip


@pytest.mark.parametrize("data", [read_document(p) for p in PROGRAMS] + [GENERATED])
def test_documents_compile_to_what_the_models_compile_to(data):
    fast = compile_document(copy.deepcopy(data))
    assert fast._source is None  # no model was built
    slow = compile_program(parse_program(data))
    assert shape(fast) == shape(slow)
    assert fast.source == slow.source  # made on first read, from the data as given


def test_a_document_plays_as_its_model_does():
    a, b = NarrativeEngine([GENERATED]), NarrativeEngine([parse_program(GENERATED)])
    pid = GENERATED["id"]
    frame_a = monte_carlo(a.program(pid), 50, seed=4).playthroughs
    frame_b = monte_carlo(b.program(pid), 50, seed=4).playthroughs
    assert frame_a.equals(frame_b)
    sa, sb = Session(), Session()
    ra, rb = a.start(sa, "r", pid), b.start(sb, "r", pid)
    for i in range(300):
        if ra.status != "choice":
            break
        pick = ra.choices[i % len(ra.choices)].id
        ra, rb = a.step(sa, "r", pick), b.step(sb, "r", pick)
        assert ra == rb
    assert a.save(sa) == b.save(sb)


def _variants():
    """(name, change) pairs: each breaks the data for the schema or the checker, or is
    accepted by the models only by converting a value."""
    yield "version text", lambda d: d.update(version="2")
    yield "version bool", lambda d: d.update(version=True)
    yield "version zero", lambda d: d.update(version=0)
    yield "unknown field", lambda d: d.update(author="me")
    yield "no nodes", lambda d: d.update(nodes=[])
    yield "entry missing", lambda d: d.update(entry="nowhere")
    yield "entry list", lambda d: d.update(entry=["n0"])
    yield "bad id", lambda d: d.update(id="has space")
    yield "id newline", lambda d: d["nodes"][1].update(id="n1\n")
    yield "id space", lambda d: d["nodes"][1].update(id="n1 n2")
    yield "id empty", lambda d: d["nodes"][1].update(id="")
    yield "id number", lambda d: d["nodes"][1].update(id=7)
    yield "duplicate node", lambda d: d["nodes"][2].update(id=d["nodes"][1]["id"])
    yield "node type", lambda d: d["nodes"][0].update(type="song")
    yield "node extra", lambda d: d["nodes"][0].update(colour="red")
    yield "end text", lambda d: d["nodes"][0].update(end="true")
    yield "text missing", lambda d: d["nodes"][0].pop("text")
    yield "template", lambda d: d["nodes"][0].update(text="{var.")
    yield "undeclared", lambda d: d["nodes"][0].update(text="{var.nope}")
    yield "visits missing", lambda d: d["nodes"][0].update(text="{visits('zz')}")
    yield "edge to", lambda d: d["edges"][0].update(to="zz")
    yield "edge from_", lambda d: d["edges"][0].update(from_=d["edges"][0].pop("from"))
    yield "edge ids", lambda d: [e.update(id="same") for e in d["edges"][:2]]
    yield "edge condition", lambda d: d["edges"][0].update(conditions="var.x")
    yield "choices empty", lambda d: _choice_node(d).update(choices=[])
    yield "choice dup", lambda d: _choice_node(d)["choices"][1].update(id="c0")
    yield "choice to", lambda d: _choice_node(d)["choices"][0].update(to="zz")
    yield "choice once", lambda d: _choice_node(d)["choices"][0].update(once_only=1)
    yield "fallback", lambda d: _choice_node(d).update(fallback="zz")
    yield "flag list", lambda d: d["nodes"][0].update(on_enter={"flags": {"x": [1]}})
    yield "inventory float", lambda d: d["nodes"][0].update(on_enter={"inventory": {"x": 2.0}})
    yield "rel bool", lambda d: d["nodes"][0].update(on_enter={"relationships": {"a": {"b": True}}})
    yield "set target", lambda d: d["nodes"][0].update(on_enter={"set": {"hp": 1}})
    yield "set undeclared", lambda d: d["nodes"][0].update(on_enter={"set": {"var.zz": 1}})
    yield "write undeclared", lambda d: d["nodes"][0].update(on_enter={"variables": {"zz": 1}})
    yield "group", lambda d: d["nodes"][0].update(on_enter={"moods": {}})
    yield "nan", lambda d: d["variables"].update(gold=float("nan"))
    yield "huge", lambda d: d["variables"].update(gold=2**70)
    yield "tuple", lambda d: d.update(nodes=tuple(d["nodes"]))
    yield "delay", lambda d: d["nodes"].append({"id": "w", "type": "action", "effects": {},
                                                 "delay": -1})  # fmt: skip
    yield "wait", lambda d: d["nodes"].append({"id": "w", "type": "wait"})
    yield "rename", lambda d: d.update(renames={"nodes": {"old": "zz"}})
    yield "rating", lambda d: d.update(metadata={"content_rating": "x"})
    yield "scene", lambda d: d["nodes"].append({"id": "s", "type": "scene"})
    yield (
        "store_as",
        lambda d: d["nodes"].append(
            {"id": "h", "type": "external_call", "handler": "h", "store_as": "zz"}
        ),
    )


def _choice_node(data):
    return next(n for n in data["nodes"] if n["type"] == "choice")


@pytest.mark.parametrize("name, change", list(_variants()))
def test_bad_or_converted_data_gets_what_the_model_path_gives(name, change):
    data = copy.deepcopy(GENERATED)
    change(data)
    try:
        expected = compile_program(parse_program(copy.deepcopy(data), "story.yaml"))
    except DataError as exc:
        with pytest.raises(DataError) as info:
            compile_document(data, "story.yaml")
        assert info.value.problems == exc.problems
    else:  # accepted by converting: the model path's program
        got = compile_document(data, "story.yaml")
        assert shape(got) == shape(expected) and got.source == expected.source


def test_the_engine_takes_documents_and_names_their_source():
    engine = NarrativeEngine([GENERATED])
    assert engine.program_ids == (GENERATED["id"],)
    bad = {**GENERATED, "version": "two"}
    with pytest.raises(DataError, match=r"story\.yaml: version"):
        engine.add_program(bad, "story.yaml")
    assert engine.compiled(GENERATED["id"]).version == 1  # nothing half-applied


def test_loading_restores_the_collector_as_it_was():
    import gc

    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            NarrativeEngine([GENERATED])
            with pytest.raises(DataError):
                NarrativeEngine([{**GENERATED, "entry": "nowhere"}])
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_shared_parts_stay_bounded_and_plays_are_unchanged(monkeypatch):
    """A host loading program after program keeps a bounded table of shared parts; a full
    table is emptied, and what was compiled before plays exactly as it did."""
    from storylab.runtime import compiled, effects

    pid = GENERATED["id"]
    expected = monte_carlo(NarrativeEngine([GENERATED]).program(pid), 30, seed=2).playthroughs
    monkeypatch.setattr(effects, "SHARED_MAX", 5)
    tables = (effects._SHARED_EFFECTS, compiled._SINGLE, compiled._VIAS,
              compiled._SHARED_OFFERS, compiled._SHARED_ROWS)  # fmt: skip
    for table in tables:
        table.clear()  # as in a fresh process
    first = NarrativeEngine([copy.deepcopy(GENERATED)])
    again = NarrativeEngine([parse_program(GENERATED)])  # the model path shares the same way
    assert all(len(table) <= 5 for table in tables)
    for engine in (first, again):
        assert monte_carlo(engine.program(pid), 30, seed=2).playthroughs.equals(expected)
