"""Fuzz: hostile input to every command, loader, expression, save, store and classifier.

Hypothesis generates the input; every test asserts what docs/reliability.md promises:

- only storylab's own errors (``DataError`` and the other ``ValueError`` subclasses,
  ``UnknownNameError``, ``ConflictError``, ``WriteError``), never a ``TypeError``,
  ``KeyError``, ``RecursionError``, ``MemoryError`` or a hang;
- every command exits 0, 1 or 2 (3 is an internal error) with at most one error line;
- a case ends within a minute (``time_bound``) and an expression allocates at most 512 MB
  (``memory_bound``);
- no temporary or half-written file is left, and a refused command changes no file;
- a refused engine or store call leaves the session as it was.

The suite is time-boxed for CI (``derandomize=True``, small ``max_examples``);
``benchmarks/fuzz.py N`` runs the same tests with N examples each and new random input.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import os
import resource
import shutil
import signal
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from storylab._data import DataError, UnknownNameError, read_document
from storylab._files import WriteError
from storylab.cli import build_parser, main
from storylab.runtime import (
    ExpressionError,
    NarrativeEngine,
    SaveError,
    Session,
    SessionStore,
    StepError,
    compile_expression,
    load_program,
)
from storylab.runtime.expressions import Env
from storylab.runtime.store import ConflictError
from storylab.theory import classify_arc
from storylab.validation import VALIDATORS, validate_file

ROOT = Path(__file__).resolve().parents[1]
#: Examples per test; 0 keeps each test's CI default (benchmarks/fuzz.py sets it).
EXAMPLES = int(os.environ.get("STORYLAB_FUZZ_EXAMPLES", "0"))
#: Cases tried per test in this process (benchmarks/fuzz.py reports them).
CASES: Counter[str] = Counter()
#: Exit statuses of the fuzzed commands, per command (how deep the fuzz got).
OUTCOMES: Counter[str] = Counter()
LIBRARY_ERRORS = (ValueError, UnknownNameError, ConflictError, WriteError)
#: Longest a single case may run (commands take a few seconds at most on a loaded machine).
CASE_SECONDS = 60.0


def fuzz(default: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Hypothesis settings: ``default`` examples in CI, reproducible; more and random in the
    benchmark."""
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        database=None,
        derandomize=not EXAMPLES,
        suppress_health_check=list(HealthCheck),
    )


# -- bounds on each case ---------------------------------------------------------------------


class Overtime(BaseException):
    """A case that ran past its time bound (a BaseException: no ``except Exception`` eats it)."""


@contextlib.contextmanager
def time_bound(seconds: float = CASE_SECONDS) -> Iterator[None]:
    """Fail a case that runs longer than ``seconds`` (a hang becomes a failure, not a stall)."""

    def overtime(signum: int, frame: Any) -> None:
        raise Overtime(f"a case ran over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, overtime)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def memory_bound(extra_mb: int = 512) -> Iterator[None]:
    """Cap this process's address space at its current size plus ``extra_mb`` (Linux)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except OSError:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = pages * resource.getpagesize() + extra_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# -- hostile values and documents ----------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 2**63, 1e308, -1e308, 5e-324, 10**40]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
FIELDS = [
    "kind", "id", "version", "entry", "nodes", "edges", "type", "text", "choices", "to",
    "from", "conditions", "effects", "variables", "flags", "relationships", "inventory",
    "arcs", "quests", "player", "world_time", "config", "meta", "scale",
    "genre_multipliers", "default_actions", "name", "spectrums", "genres", "archives",
    "labels", "template", "genre", "character", "realm", "facts", "narrative", "position",
]  # fmt: skip
KEYS = st.one_of(st.sampled_from(FIELDS), TEXT)
DOCS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=15,
)
_ALIAS_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "kind: state\n"
)
HOSTILE_TEXTS = [
    "",
    "\x00\x01\x02",
    "[" * 5000 + "]" * 5000,
    _ALIAS_BOMB,
    "kind: state\nflags: {a: 1}\nflags: {b: 2}\n",
    "!!python/object/apply:os.system ['echo pwned']\n",
    "x: " + "9" * 5000 + "\n",
    "inventory: {coin: lots}\n",
    "relationships: [1, 2]\n",
    "42\n",
    "kind: position-estimation-profile\nconfig: {genre_multipliers: {war: 1e308}}\n",
    "kind: action-costs-profile\nconfig: {scale: {conflict: .inf}}\n",
    '{"a": NaN, "b": Infinity}',
    "a: b: c",
    "\ufeffkind: program\n",
    "key: 'unterminated\n",
]


def _mutated(draw: Any, doc: Any, depth: int = 0) -> Any:
    """``doc`` with one value somewhere replaced, dropped or joined by an unknown field."""
    if isinstance(doc, dict) and doc and depth < 8 and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(doc, key=str)))
        action = draw(st.sampled_from(["descend", "drop", "add"]))
        if action == "drop":
            return {k: v for k, v in doc.items() if k != key}
        if action == "add":
            return {**doc, draw(KEYS): draw(DOCS)}
        return {**doc, key: _mutated(draw, doc[key], depth + 1)}
    if isinstance(doc, list) and doc and depth < 8 and draw(st.booleans()):
        index = draw(st.integers(0, len(doc) - 1))
        return [*doc[:index], _mutated(draw, doc[index], depth + 1), *doc[index + 1 :]]
    return draw(st.one_of(SCALARS, DOCS))


def _real_documents() -> list[tuple[str, Any]]:
    files = [
        *sorted((ROOT / "data" / "programs").glob("*.yaml")),
        ROOT / "data" / "archives" / "generated" / "archive-0010.yaml",
        *sorted((ROOT / "storylab" / "data").glob("*.yaml")),
    ]
    return [(p.name, yaml.safe_load(p.read_text())) for p in files]


REAL = _real_documents()


@st.composite
def hostile_text(draw: Any) -> str:
    """YAML/JSON text: a known-hostile payload, random data, or a real file mutated."""
    kind = draw(st.sampled_from(["payload", "random", "mutated", "mutated"]))
    if kind == "payload":
        return draw(st.sampled_from(HOSTILE_TEXTS))
    if kind == "random":
        return draw(st.one_of(TEXT, DOCS.map(lambda d: yaml.safe_dump(d, allow_unicode=True))))
    _, doc = draw(st.sampled_from(REAL))
    return yaml.safe_dump(_mutated(draw, doc), allow_unicode=True, sort_keys=False)


# -- a scratch folder per example, with copies of the shipped data ---------------------------

_TEMPLATE = Path(tempfile.mkdtemp(prefix="storylab-fuzz-template-"))
for _src, _dst in [
    (ROOT / "data" / "programs", "programs"),
    (ROOT / "data" / "archives" / "labelled", "labelled"),
    (ROOT / "storylab" / "data", "packaged"),
    (ROOT / "data" / "worlds", "worlds"),
]:
    shutil.copytree(_src, _TEMPLATE / _dst, ignore=shutil.ignore_patterns("*.mplstyle"))
shutil.copy(ROOT / "data" / "archives" / "generated" / "archive-0010.yaml", _TEMPLATE)
_INTENT = json.dumps({"author": "ann", "text": "Hi", "participants": ["ann", "bo"]})
with contextlib.redirect_stdout(io.StringIO()):  # a project store holding one intent
    main(["intents", "create", str(_TEMPLATE / "project.db"), "inn", "direct_control",
          "--inputs", _INTENT])  # fmt: skip


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A fresh copy of the data in a temporary folder, also the working directory."""
    with tempfile.TemporaryDirectory(prefix="storylab-fuzz-") as name:
        folder = Path(name) / "w"
        shutil.copytree(_TEMPLATE, folder)
        with contextlib.chdir(folder):
            yield folder


def _snapshot(folder: Path) -> dict[str, str]:
    """Hashes of the files under ``folder``; SQLite stores left out: opening one may set its
    journal mode or add another layer's tables (their state is fuzzed by the store test)."""
    files = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    return {
        str(p.relative_to(folder)): hashlib.sha1(data).hexdigest()
        for p, data in files.items()
        if not data.startswith(b"SQLite format 3") and not p.name.endswith(("-wal", "-shm"))
    }


def _temporaries(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob(".*.tmp*")]


# -- every CLI command, its arguments drawn from its own parser ------------------------------


def _commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    if prefix and parser.get_default("run") is not None:
        yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _commands(child, (*prefix, name))


COMMANDS = list(_commands(build_parser()))
NUMERIC_TEXT = st.one_of(
    st.integers(-3, 12).map(str),
    st.sampled_from(["-1", "0", "1e308", "nan", "9" * 5000, "99999999999", "", "0x1f", "٣"]),
)
#: Plausible values per option name (drawn three times in four), else any text.
DEST_VALUES = {
    "template": ["tragedy", "man_in_a_hole", "cinderella", "icarus"],
    "genre": ["war", "crime", "romance", "action"],
    "subgenre": ["heist", "noir"],
    "npc": ["npc_10", "npc_12"],
    "entry": ["greet", "start"],
    "column": ["value", "mood"],
    "position": ["position", "value"],
    "actant": ["hero=Ash", "villain="],
    "format": ["program", "world"],
    "db": ["project.db", "new.db", "archive-0010.yaml", "programs"],
    "scenario": ["inn", "harbor"],
    "kind": ["direct_control", "player_turn", "nope"],
    "inputs": ["coin,rumors,leave", "coin,adventure", "-", "help", "fly", _INTENT, "{}"],
}
_OUTPUT_DESTS = {"plot", "out", "outdir"}
#: Options that wait or reach the network by design (a supervisor until Ctrl-C, an event
#: stream, an HTTP provider): never drawn; the commands that need one to stop get it.
_NOT_DRAWN = {"--follow", "--url"}
_NOT_DRAWN_CHOICES = {"http"}
_ALWAYS = {("intents", "run"): ["--once"]}


@st.composite
def path_argument(draw: Any, output: bool) -> str:
    """A file argument: written hostile text, a real (copied) file, a folder, nothing."""
    if output:
        return draw(st.sampled_from(["out/plot.png", "out", ".", "programs", "new/deep/x.json"]))
    choice = draw(st.sampled_from(["hostile", "real", "real", "odd"]))
    if choice == "hostile":
        name = draw(
            st.sampled_from(
                ["h.yaml", "h.json", "h.state.yaml", "h.program.yaml", "h.csv", "h.txt",
                 "h-profile.yaml", "h.archive.yaml", "labels.yaml"]
            )
        )  # fmt: skip
        Path(name).write_text(draw(hostile_text()), encoding="utf-8")
        return name
    if choice == "real":
        return draw(
            st.sampled_from(
                ["programs/tavern-encounter.program.yaml", "programs/harbor-start.state.yaml",
                 "programs/harbor-alarm.program.yaml", "labelled/labels.yaml",
                 "archive-0010.yaml", "packaged/story-actions.yaml",
                 "packaged/emotional-arcs.yaml", "packaged/extraction.yaml",
                 "worlds/harbor-district", "worlds/harbor-district/world.yaml",
                 "worlds/harbor-district/playtests/mara-coin.playtest.yaml", "project.db"]
            )
        )  # fmt: skip
    return draw(st.sampled_from(["", ".", "missing.yaml", "programs", "/dev/null", "a\x00b"]))


def _value(draw: Any, action: argparse.Action) -> str:
    if action.choices is not None:
        choices = sorted(set(map(str, action.choices)) - _NOT_DRAWN_CHOICES)
        return draw(
            st.one_of(st.sampled_from(choices), TEXT.filter(lambda t: t not in _NOT_DRAWN_CHOICES))
        )
    if action.type is not None and action.type is not str:
        return draw(NUMERIC_TEXT)
    if action.dest in DEST_VALUES:
        known = st.sampled_from(DEST_VALUES[action.dest])
        return draw(st.one_of(known, known, known, TEXT))
    return draw(path_argument(action.dest in _OUTPUT_DESTS))


@st.composite
def command_line(draw: Any) -> tuple[str, list[str]]:
    """A command's name and a command line: arguments for every one of its parameters
    (options at random)."""
    path, parser = draw(st.sampled_from(COMMANDS))
    argv = [*path, *_ALWAYS.get(path, [])]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        if _NOT_DRAWN & set(action.option_strings):
            continue
        if action.option_strings:
            if not (action.required or draw(st.integers(0, 2)) == 0):
                continue
            flag = draw(st.sampled_from(action.option_strings))
            argv += [flag] if action.nargs == 0 else [flag, _value(draw, action)]
        else:
            count = draw(st.integers(1, 2)) if action.nargs in ("+", "*") else 1
            argv += [_value(draw, action) for _ in range(count)]
    if draw(st.integers(0, 9)) == 0:  # now and then a stray token
        argv.insert(draw(st.integers(0, len(argv))), draw(st.one_of(TEXT, NUMERIC_TEXT)))
    return " ".join(path), argv


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``storylab ARGV`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def assert_clean_exit(argv: list[str], status: int, err: str) -> None:
    """Exit 0, 1 or 2; no traceback; a refusal is exactly one error line."""
    assert status in (0, 1, 2), f"storylab {argv}: exit {status}: {err}"
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if ": error:" in line]
    if status == 2:
        assert len(errors) == 1, f"storylab {argv}: {err!r}"


@fuzz(60)
@given(data=st.data())
def test_every_command_refuses_hostile_input_in_one_line(data):
    CASES["cli"] += 1
    with scratch() as folder:
        Path("out").mkdir()
        command, argv = data.draw(command_line(), label="command line")
        before = _snapshot(folder)
        with time_bound():
            status, _, err = run_cli(argv)
        OUTCOMES[f"{command} exit {status}"] += 1
        assert_clean_exit(argv, status, err)
        assert not _temporaries(folder), "a temporary file was left behind"
        if status == 2:
            after = _snapshot(folder)
            changed = {k for k in before if after.get(k) != before[k]}
            assert not changed, f"a refused command changed {sorted(changed)}"


# -- loaders ------------------------------------------------------------------------------


@fuzz(80)
@given(text=hostile_text(), suffix=st.sampled_from([".yaml", ".json"]))
@example(text="[" * 5000 + "]" * 5000, suffix=".yaml")
@example(text=_ALIAS_BOMB, suffix=".yaml")
def test_read_document_raises_only_data_errors(text, suffix):
    CASES["read_document"] += 1
    with contextlib.suppress(DataError):
        read_document(f"doc{suffix}", text=text)


@fuzz(80)
@given(text=hostile_text(), kind=st.sampled_from(sorted(VALIDATORS)))
def test_every_registered_loader_raises_only_data_errors(text, kind):
    CASES["loaders"] += 1
    module, func = VALIDATORS[kind].split(":")
    with scratch():
        path = Path(f"fuzz.{kind}.yaml")
        path.write_text(text, encoding="utf-8")
        with contextlib.suppress(DataError):
            getattr(import_module(module), func)(path)
        problems = validate_file(path)
        assert all(str(p) for p in problems)


# -- the expression language ----------------------------------------------------------------

TOKENS = st.sampled_from(
    ["1", "2.5", "0", "999", "'x'", "\"a\"", "true", "none", "var.v", "var.missing",
     "flags.a", "inv.coin", "inv", "rel.npc_10.trust", "rel.self.trust", "arc.hope",
     "quest.q", "player.name", "time", "npc", "visited('start')", "visits('start')",
     "min(", "max(", "abs(", "(", ")", "[", "]", ",", "+", "-", "*", "/", "%", "==", "!=",
     "<", "<=", ">", ">=", "and", "or", "not", "in", "!", "&&", "||", "."]
)  # fmt: skip
ENV_VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))


@fuzz(200)
@given(
    tokens=st.lists(TOKENS, max_size=14).filter(lambda t: t.count("*") <= 2),
    raw=st.one_of(st.none(), st.text(max_size=60)),
    values=st.dictionaries(st.sampled_from(["v", "a", "coin", "q", "name"]), ENV_VALUES),
)
def test_expressions_raise_only_expression_errors(tokens, raw, values):
    CASES["expressions"] += 1
    source = raw if raw is not None else " ".join(tokens)
    try:
        expression = compile_expression(source)
    except ExpressionError:
        return
    env = Env(
        variables={"v": values.get("v", 1)},
        flags={"a": values.get("a", True)},
        inventory={"coin": values.get("coin", 3)},
        quests={"q": values.get("q")},
        player={"name": values.get("name", "Ash")},
        visits={"start": 1},
        npc="npc_10",
    )
    with time_bound(), memory_bound(), contextlib.suppress(ExpressionError):
        expression.evaluate(env)


@pytest.mark.parametrize("source", ["'x' * 999999999", "'%z' % 1", "[1] * 999999999"])
def test_expression_bounds(source):
    CASES["expression bounds"] += 1
    with memory_bound(), pytest.raises(ExpressionError):
        compile_expression(source).evaluate(Env())


# -- engine.load and the session store -------------------------------------------------------

PROGRAMS = [load_program(p) for p in sorted((ROOT / "data" / "programs").glob("*.program.yaml"))]
ENGINE = NarrativeEngine(PROGRAMS)


def _played() -> Session:
    session = Session("s", player={"name": "Ash"}, inventory={"coin": 3})
    ENGINE.start(session, "npc_10", "tavern_encounter")
    ENGINE.step(session, "npc_10", "coin")
    return session


SAVED = json.loads(ENGINE.save(_played()))


@fuzz(80)
@given(data=st.data())
def test_engine_load_of_a_damaged_save_raises_one_documented_error(data):
    CASES["engine.load"] += 1
    damaged = _mutated(data.draw, SAVED)
    how = data.draw(st.sampled_from(["dict", "text", "truncated"]))
    text = json.dumps(damaged, allow_nan=True)
    payload: Any = damaged if how == "dict" else text
    if how == "truncated":
        payload = text[: data.draw(st.integers(0, len(text)))]
    with contextlib.suppress(SaveError):  # the one error a damaged save raises
        ENGINE.load(payload)


@fuzz(40)
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from(["start", "step", "advance_time", "pause", "resume", "finish"]),
            st.one_of(st.sampled_from(["npc_10", "npc_12", "ghost"]), TEXT),
            st.one_of(
                st.sampled_from(["coin", "rumors", "leave", "fly", None]),
                TEXT,
                NUMBERS,
                st.sampled_from(["tavern_encounter", "harbor_alarm", "nope"]),
            ),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_a_refused_store_call_changes_nothing(calls):
    CASES["session store"] += 1
    with scratch(), SessionStore("sessions.db") as store:
        store.create(Session("s", player={"name": "Ash"}, inventory={"coin": 3}))
        for op, npc, arg in calls:
            before = store.load("s").to_dict()
            method = getattr(store, op)
            args = {
                "start": (npc, str(arg)),
                "step": (npc, arg),
                "advance_time": (arg,),
            }.get(op, (npc,))
            try:
                with time_bound():
                    method(ENGINE, "s", *args)
            except (StepError, *LIBRARY_ERRORS, TypeError) as exc:
                if isinstance(exc, TypeError):  # only from a non-number time step
                    assert op == "advance_time" and not isinstance(arg, int | float)
                assert store.load("s").to_dict() == before


@fuzz(40)
@given(text=st.one_of(hostile_text(), st.binary(max_size=200)))
def test_the_store_opens_only_its_own_files(text):
    CASES["store files"] += 1
    with scratch():
        path = Path("x.db")
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        with contextlib.suppress(DataError):
            SessionStore(path).close()


# -- the classifier --------------------------------------------------------------------------


SERIES = st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=80)
SCALES = st.sampled_from([1.0, 1e200, 1e-300, -1.0])


def _classify(values: list[float], scale: float, with_positions: bool) -> Any:
    """classify_arc of the scaled series, or ``None`` when it refuses with a ValueError."""
    with np.errstate(all="ignore"):
        array = np.array(values) * scale
    positions = np.linspace(0, 1, len(values)) if with_positions else None
    try:
        return classify_arc(array, positions)
    except ValueError:
        return None


@fuzz(60)
@given(
    values=SERIES, scale=st.sampled_from([1.0, 1e200, 1e-300, -1.0]), with_positions=st.booleans()
)
def test_the_classifier_returns_a_fit_or_a_value_error(values, scale, with_positions):
    CASES["classifier"] += 1
    with np.errstate(all="ignore"), time_bound():
        _classify(values, scale, with_positions)


@fuzz(60)
@given(
    values=st.lists(st.floats(-1e6, 1e6), min_size=11, max_size=80),
    scale=st.sampled_from([1e-300, 1e-9, 1e12, 1e290]),
    offset=st.floats(-10.0, 10.0),
)
def test_the_classifier_ignores_units(values, scale, offset):
    CASES["classifier units"] += 1
    plain = _classify(values, 1.0, False)
    spread = np.ptp(values)
    if plain is None or plain.reason == "flat" or spread < max(1e-6, 1e-3 * np.abs(values).max()):
        return  # refused, flat, or a spread that 1e-300 or an offset would round away
    fit = _classify([v + offset * np.ptp(values) for v in values], scale, False)
    by_arc = {m.arc: m.score for m in plain.matches}
    assert all(m.score == pytest.approx(by_arc[m.arc], abs=1e-6) for m in fit.matches)
    if plain.margin > 1e-6:
        assert fit.matches[0].arc is plain.matches[0].arc


@fuzz(60)
@given(values=SERIES, scale=SCALES)
def test_a_classified_series_has_finite_scores_at_any_scale(values, scale):
    CASES["classifier scores"] += 1
    with np.errstate(all="ignore"):
        fit = _classify(values, scale, False)
    assert fit is None or fit.best is None or all(math.isfinite(m.score) for m in fit.matches)
