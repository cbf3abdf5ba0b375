"""``storylab intents``: create, list, show, run, events; errors in one line; Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storylab.cli import main

ROOT = Path(__file__).resolve().parents[1]
INPUTS = json.dumps({"author": "ann", "text": "Hi", "participants": ["ann", "bo"]})
_ESCAPED = INPUTS.replace("{", "{{").replace("}", "}}")  # survives str.format


def _create(db, scenario="inn"):
    assert main(["intents", "create", str(db), scenario, "direct_control", "--inputs", INPUTS]) == 0


def test_create_run_list_show_and_events(tmp_path, capsys):
    db = tmp_path / "play.db"
    _create(db)
    intent_id = capsys.readouterr().out.strip()
    assert main(["intents", "list", str(db)]) == 0
    assert "pending" in capsys.readouterr().out
    assert main(["intents", "run", str(db), "--once", "--quiet"]) == 0
    assert "finished 1" in capsys.readouterr().out
    assert main(["intents", "show", str(db), intent_id]) == 0
    out = capsys.readouterr().out
    assert "status finished" in out and "bo: reply to the player" in out
    assert main(["intents", "show", str(db), intent_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["progress"]["applied"] == 2
    assert main(["intents", "events", str(db), intent_id, "--follow"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "created" in lines[0] and "finished" in lines[-1]
    assert main(["intents", "list", str(db), "--scenario", "elsewhere"]) == 0
    assert "(nothing)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list", "{tmp}/missing.db"], "no such store"),
        (["show", "{db}", "i-nope"], "unknown intent 'i-nope'"),
        (["create", "{db}", "inn", "chat", "--inputs", "{{}}"], "unknown intent kind 'chat'"),
        (["create", "{db}", "inn", "direct_control", "--inputs", "{{}}"], "author"),
        (
            ["create", "{db}", "inn", "direct_control", "--inputs", _ESCAPED],
            "already has a pending intent",
        ),
        (["run", "{db}", "--provider", "http"], "needs --url"),
        (["run", "{db}", "--url", "http://x"], "--url is for --provider http"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path, capsys, argv, message):
    db = tmp_path / "play.db"
    _create(db)
    capsys.readouterr()
    filled = [a.format(tmp=tmp_path, db=db) for a in argv]
    assert main(["intents", *filled]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") <= 3


def test_a_foreign_file_is_refused_by_name(tmp_path, capsys):
    other = tmp_path / "notes.db"
    other.write_text("hello " * 100)
    assert main(["intents", "list", str(other)]) == 2
    assert f"{other}: not a SQLite database" in capsys.readouterr().err
    assert other.read_text() == "hello " * 100


def test_ctrl_c_stops_the_supervisor_cleanly(tmp_path):
    db = tmp_path / "play.db"
    _create(db)
    proc = subprocess.Popen(
        [sys.executable, "-m", "storylab", "intents", "run", str(db), "--quiet"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the intent is done
        time.sleep(0.2)
        out = subprocess.run(
            [sys.executable, "-m", "storylab", "intents", "list", str(db)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if "finished" in out:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "finished 1" in out and "Traceback" not in err
