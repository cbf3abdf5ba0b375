"""``storylab play``, ``storylab check`` and ``storylab schema``."""

import json
from pathlib import Path

from storylab.cli import main
from storylab.runtime import program_json_schema

PROGRAMS = Path(__file__).resolve().parents[1] / "data" / "programs"
TAVERN = str(PROGRAMS / "tavern-encounter.program.yaml")
STATE = str(PROGRAMS / "harbor-start.state.yaml")


def test_play_prints_the_transcript(capsys):
    assert main(["play", TAVERN, "--state", STATE, "--inputs", "coin,rumors,leave"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[scene tavern_interior captain=captain]\nCaptain Mara: You're new")
    assert "> rumors\nCaptain Mara: A ship came in at dawn" in out
    assert "[end of tavern_encounter]" in out and "[transcript hash " in out


def test_play_is_deterministic_and_json(capsys):
    args = ["play", TAVERN, "--state", STATE, "--inputs", "coin, adventure", "--json", "--explain"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    data = json.loads(first)
    assert data["error"] is None and len(data["steps"]) == 3
    assert data["steps"][0]["hidden"][0] == {
        "id": "flirt",
        "text": "Just admiring the view.",
        "reason": "condition false: rel.self.chemistry >= 30",
    }
    assert data["final_state"]["relationships"]["captain"]["affinity"] == 37


def test_play_reports_a_bad_choice_after_the_good_steps(capsys):
    assert main(["play", TAVERN, "--state", STATE, "--inputs", "coin,fly"]) == 2
    captured = capsys.readouterr()
    assert "> coin" in captured.out
    assert "choice 'fly' is not on offer at 'talk'" in captured.err


def test_play_with_other_programs_and_waits(capsys):
    alarm = str(PROGRAMS / "harbor-alarm.program.yaml")
    assert main(["play", alarm, "--also", TAVERN, "--inputs", "help"]) == 0
    out = capsys.readouterr().out
    assert "Guard Jorin: Good arms." in out and "[end of harbor_alarm]" in out


def test_play_rejects_unknown_state_keys(tmp_path, capsys):
    state = tmp_path / "s.yaml"
    state.write_text("mood: odd\n")
    assert main(["play", TAVERN, "--state", str(state)]) == 2
    assert "s.yaml: mood: no such field" in capsys.readouterr().err


def test_check_prints_errors_and_warnings(tmp_path, capsys):
    good = str(PROGRAMS / "dockside-farewell.program.yaml")
    warn = tmp_path / "warn.program.yaml"
    warn.write_text(
        "id: w\nentry: a\nnodes:\n  - {id: a, type: dialogue, text: Hi}\n"
        "  - {id: b, type: comment}\n"
    )
    bad = tmp_path / "bad.program.yaml"
    bad.write_text(
        "id: b\nentry: a\nnodes:\n  - {id: a, type: branch}\nedges:\n  - {from: a, to: z}\n"
    )
    broken = tmp_path / "broken.program.yaml"
    broken.write_text("id: [\n")
    assert main(["check", good, str(warn)]) == 0
    out = capsys.readouterr().out
    assert "dockside-farewell.program.yaml: ok (10 nodes, 8 edges, 0 warning(s))" in out
    assert "warning:" in out and "'b' is unreachable" in out and "dead end" in out
    assert main(["check", str(bad), str(broken)]) == 1
    out = capsys.readouterr().out
    assert "error:" in out and "edges[0].to: an existing node id (no node 'z')" in out
    assert "valid YAML" in out


def test_schema(tmp_path, capsys):
    assert main(["schema", "program"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "storylab narrative program"
    out = tmp_path / "p.json"
    assert main(["schema", "program", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == json.loads(json.dumps(program_json_schema()))


def test_check_reports_unknown_callees_and_call_cycles(tmp_path, capsys):
    def write(name, callee):
        path = tmp_path / f"{name}.program.yaml"
        path.write_text(
            f"id: {name}\nentry: c\nnodes:\n"
            f"  - {{id: c, type: call, program: {callee}}}\n"
            "  - {id: e, type: dialogue, text: End., end: true}\n"
            "edges:\n  - {from: c, to: e}\n"
        )
        return str(path)

    assert main(["check", write("a", "b")]) == 1
    assert "nodes[0].program: a known program (no program 'b'" in capsys.readouterr().out
    assert main(["check", write("a", "b"), write("b", "a")]) == 1
    assert "call cycle a -> b -> a" in capsys.readouterr().out
