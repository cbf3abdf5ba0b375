"""Shared test settings: a headless matplotlib backend; your own action library on disk."""

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import matplotlib
import pytest
import yaml

matplotlib.use("Agg")


@pytest.fixture
def own_library(tmp_path: Path) -> Callable[..., Path]:
    """Write the packaged action library with ``renames`` (id -> new id) and without the
    ids in ``drop`` as ``my-story-actions.yaml``; return its path."""
    from storylab._data import packaged_path

    def write(renames: Mapping[str, str], drop: Iterable[str] = ()) -> Path:
        data = yaml.safe_load(packaged_path("story-actions.yaml").read_text())
        data["actions"] = [a for a in data["actions"] if a["id"] not in set(drop)]
        for action in data["actions"]:
            action["id"] = renames.get(action["id"], action["id"])
        path = tmp_path / "my-story-actions.yaml"
        path.write_text(yaml.safe_dump(data))
        return path

    return write
