"""Notebooks are stored without outputs, except the cells whose numbers nbval checks."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_checked_cells_keep_outputs(path):
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] != "code":
            continue
        checked = cell["source"] and "".join(cell["source"]).startswith("# NBVAL_CHECK_OUTPUT")
        kept = cell["metadata"].get("keep_output", False)
        assert bool(checked) == bool(kept), (
            f"cell {i}: keep_output must mark exactly the checked cells"
        )
        if not checked:
            assert not cell["outputs"], f"cell {i} of {path.name} has stored outputs"
        else:
            assert cell["outputs"], f"checked cell {i} of {path.name} has no reference output"
