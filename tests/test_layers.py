"""Lower layers never import higher ones (the layer rule of docs/architecture.md)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "storylab"

#: layer 1, which every layer may import: the data reader and the atomic file writer
BASE = {"_data", "_files"}

#: subpackage -> the storylab subpackages its modules may import (besides itself)
ALLOWED = {
    "theory": {"_data"},
    "archives": {"_data", "theory"},
    "storyteller": {"_data", "theory", "archives"},
    "runtime": {"_data", "theory"},
    "world": {"_data", "theory", "runtime"},
    "intents": {"_data", "runtime"},
    "play": {"_data", "theory", "archives", "storyteller", "runtime", "intents"},
    "graph": {"_data", "theory", "archives", "runtime", "world", "intents", "validation"},
    "tuning": {"_data", "theory", "archives", "storyteller", "runtime", "world", "play", "graph"},
    "viz": {
        "_data",
        "theory",
        "archives",
        "storyteller",
        "runtime",
        "tuning",
        "world",
        "play",
        "graph",
    },
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "storylab" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_lower_layers(layer):
    bad = {
        str(path.relative_to(PACKAGE)): sorted(_imports(path) - ALLOWED[layer] - BASE - {layer})
        for path in (PACKAGE / layer).rglob("*.py")
    }
    assert not {k: v for k, v in bad.items() if v}


def test_nothing_below_the_cli_imports_the_cli_or_widgets():
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in {"cli", "widgets.py", "__main__.py"}:
            continue
        assert not _imports(path) & {"cli", "widgets"}, rel
