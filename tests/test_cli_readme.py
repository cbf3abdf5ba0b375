"""The README matches the repository: its notebook list, its extras, its commands."""

import re
from pathlib import Path

from storylab.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_notebook_list_matches_the_notebooks():
    listed = re.findall(r"\(notebooks/([\w-]+\.ipynb)\)", _section("Notebooks"))
    assert listed == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


def test_every_extra_is_in_the_readme_table():
    pyproject = (ROOT / "pyproject.toml").read_text()
    block = pyproject.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    extras = re.findall(r"^([\w-]+) = \[", block, re.M)
    table = _section("Set up")
    assert extras and all(f"| `{extra}` |" in table for extra in extras)


def test_every_command_is_in_the_command_table():
    table = _section("The command line")
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    missing = [name for name in sub.choices if f"`storylab {name}" not in table]
    assert not missing
