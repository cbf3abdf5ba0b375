"""Reading a graph never writes: `graph show` and read-only stores leave the file as it was."""

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from storylab._data import DataError
from storylab.cli import main
from storylab.graph import PROBLEM_COLUMNS, CharacterGraph, Fragment, GraphNode, ingest

HARBOR = Path(__file__).resolve().parents[1] / "data" / "worlds" / "harbor-district"


def _fingerprint(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_size


def _aged(path: Path) -> tuple[str, int, int]:
    """Move the file's mtime into the past (so a write would show), then fingerprint it."""
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    return _fingerprint(path)


@pytest.fixture(scope="module")
def graph_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("graph") / "g.db"
    ingest(db, [HARBOR])
    return db


def test_graph_show_leaves_the_file_unchanged(graph_db, capsys):
    before = _aged(graph_db)
    assert main(["graph", "show", str(graph_db), "sea_captain"]) == 0
    assert main(["graph", "show", str(graph_db), "sea_captain", "--json"]) == 0
    assert main(["graph", "show", str(graph_db), "nobody"]) == 2  # an error writes nothing
    capsys.readouterr()
    assert _fingerprint(graph_db) == before


def test_graph_show_on_a_file_without_a_graph_adds_no_tables(tmp_path, capsys):
    path = tmp_path / "sessions.db"
    with sqlite3.connect(path) as db:  # a rollback-journal file of another layer
        db.execute("CREATE TABLE sessions (id TEXT)")
    db.close()
    before = _aged(path)
    assert main(["graph", "show", str(path), "sea_captain"]) == 2
    assert "graph tables (build them with 'graph ingest')" in capsys.readouterr().err
    assert _fingerprint(path) == before
    assert sorted(os.listdir(tmp_path)) == ["sessions.db"]
    with sqlite3.connect(path) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["sessions"]
    db.close()


def test_a_read_only_graph_answers_queries_and_refuses_writes(graph_db):
    before = _aged(graph_db)
    with CharacterGraph(graph_db, read_only=True) as g:
        assert len(g.uses("sea_captain")) > 0
        assert list(g.check().columns) == list(PROBLEM_COLUMNS)  # checks run read-only
        with pytest.raises(ValueError, match="read-only"):
            g.ingest([Fragment("x", "program", "1", [GraphNode("program:x")], [])])
        with pytest.raises(ValueError, match="read-only"):
            g.remove_source(g.sources()["name"].iloc[0])
    assert _fingerprint(graph_db) == before


def test_read_only_needs_an_existing_sqlite_file(tmp_path):
    with pytest.raises(DataError, match="a SQLite database"):
        CharacterGraph(tmp_path / "missing.db", read_only=True)
    assert not (tmp_path / "missing.db").exists()
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, but long enough to have a header" * 4)
    with pytest.raises(DataError, match="a SQLite database"):
        CharacterGraph(text, read_only=True)
    with pytest.raises(ValueError, match="needs a database file"):
        CharacterGraph(":memory:", read_only=True)


def test_read_only_refuses_another_schema_version(graph_db, tmp_path):
    other = tmp_path / "old.db"
    other.write_bytes(graph_db.read_bytes())
    with sqlite3.connect(other) as db:
        db.execute("UPDATE storylab_schema SET version = 99 WHERE layer = 'graph'")
    db.close()
    with pytest.raises(DataError, match="graph schema version 1 \\(got 99\\)"):
        CharacterGraph(other, read_only=True)
