"""Every ```python block in docs/*.md runs, in page order, from the repository root.

A block that must not run (it needs a cluster, it is a fragment) is marked with a line
``<!-- no-run -->`` right before its opening fence; see docs/getting-started.md.
"""

import os
import re
import shutil
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
SKIP_MARK = "<!-- no-run -->"
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of every ```python block not marked ``<!-- no-run -->``."""
    blocks = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if before.strip() != SKIP_MARK:
            blocks.append((text.count("\n", 0, match.start()) + 2, match.group(1)))
    return blocks


def test_the_extractor_finds_blocks_and_honours_the_mark():
    page = "x\n```python\na = 1\n```\n<!-- no-run -->\n```python\nboom()\n```\n```bash\nls\n```\n"
    assert python_blocks(page) == [(3, "a = 1\n")]


@pytest.mark.parametrize(
    "page", [p for p in PAGES if python_blocks(p.read_text())], ids=lambda p: p.name
)
def test_docs_examples_run(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    # run in a copy-free scratch folder that sees the repository's data/ and docs/
    for name in ("data", "docs", "notebooks"):
        os.symlink(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORYLAB_PROGRESS", "0")
    # a module, so functions a page defines pickle into a sweep's process pool
    module = types.ModuleType(f"docs_{page.stem.replace('-', '_')}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for line, code in python_blocks(page.read_text()):
        try:
            # our own docs, not user data
            exec(compile(code, f"{page.name}:{line}", "exec"), module.__dict__)
        except Exception as exc:
            pytest.fail(f"{page.name}, the block at line {line}: {type(exc).__name__}: {exc}")
