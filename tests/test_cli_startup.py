"""First contact: help starts fast (no heavy imports), every command and option is described."""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

import storylab
from storylab.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "scipy", "matplotlib")
#: What building the parser does not need either: `import storylab` loads its names lazily.
LIBRARY = ("numpy", "pydantic", "yaml", "storylab.storyteller", "storylab.runtime")


def _subparsers(parser: argparse.ArgumentParser, prefix=()):
    """(command path, parser) for every parser under ``parser``, itself first."""
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _subparsers(child, (*prefix, name))


COMMANDS = [path for path, _ in _subparsers(build_parser()) if path]


def _loaded_after(runs: list[list[str]], modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh process has loaded after running each command line."""
    script = (
        "import contextlib, io, json, sys\n"
        "from storylab.cli import main\n"
        f"for argv in {json.dumps(runs)}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert main(argv) == 0, argv\n"
        f"print(json.dumps([m for m in {list(modules)!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_help_of_every_command_imports_no_heavy_module():
    assert _loaded_after([[*c, "--help"] for c in [(), *COMMANDS]], HEAVY) == []


def test_help_and_version_load_no_library_code():
    runs = [["--help"], ["compose", "--help"], ["--version"]]
    assert _loaded_after(runs, LIBRARY) == []


def test_the_parser_offers_every_urgency_the_composer_knows():
    from storylab.cli._args import URGENCIES
    from storylab.storyteller import Urgency

    assert tuple(u.value for u in Urgency) == URGENCIES


def test_public_names_load_on_first_use():
    names = set(storylab.__all__) - {"__version__"}
    assert names <= set(dir(storylab))
    assert all(getattr(storylab, name) is not None for name in names)
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        storylab.nonsense  # noqa: B018


def test_python_m_storylab_help_and_version_in_a_fresh_process():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "storylab", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "compose" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert not imported & set(HEAVY)
    version = subprocess.run(
        [sys.executable, "-m", "storylab", "--version"], cwd=ROOT, capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.strip() == f"storylab {storylab.__version__}"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_a_description_and_every_option_help(path):
    parser = dict(_subparsers(build_parser()))[path]
    assert parser.description, f"storylab {' '.join(path)}: no description"
    undocumented = [
        action.dest
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction)
        and not action.help
    ]
    assert not undocumented, f"storylab {' '.join(path)}: options without help {undocumented}"


def test_argument_errors_are_one_line(capsys):
    assert main(["compose", "--seed", "-1"]) == 2
    assert main(["arcs", "text", "x.txt", "--shuffles", "9" * 5000]) == 2
    assert main(["nonsense"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("storylab") for line in err)
    assert "an integer from 0 to" in err[0] and "an integer from 1 to 1000" in err[1]


def test_py_typed_ships_with_the_package():
    assert (ROOT / "storylab" / "py.typed").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"py.typed"' in pyproject
