"""``storylab validate``: check any storylab data file and list every problem in it.

Each kind of file registers the loader that validates it. A file's kind comes from its
top-level ``kind:`` field when present, else from its name (``my-story-actions.yaml`` is a
``story-actions`` file).
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from storylab._data import DataError, Problem, read_document

__all__ = ["VALIDATORS", "detect_kind", "validate_file"]

#: kind -> "module:function" taking a path and raising DataError when the file is bad.
VALIDATORS: dict[str, str] = {
    "narrative-state": "storylab.theory.spectrums:load_narrative_data",
    "emotional-arcs": "storylab.theory.arcs:load_arcs",
    "extraction": "storylab.archives.config:load_extraction",
    "archive-generator": "storylab.archives.generate:load_spec",
    "archive": "storylab.archives.bundle:load_bundle",
    "archive-labels": "storylab.archives.labels:load_labels",
    "program": "storylab.runtime.check:load_program",
    "action-blocks": "storylab.runtime.blocks:load_block_library",
    "story-actions": "storylab.storyteller.actions:load_actions",
    "story-templates": "storylab.storyteller.templates:load_templates",
    "planning": "storylab.storyteller.config:load_planning",
    "profile": "storylab.tuning.profiles:read_profile",
    "world": "storylab.world.check:load_world",
}


def detect_kind(path: str | Path) -> str | None:
    """The registered kind of a file, or ``None`` when it is not recognised."""
    try:
        document = read_document(path)
    except DataError:
        document = None
    if isinstance(document, dict) and str(document.get("kind")).endswith("-profile"):
        return "profile"
    if isinstance(document, dict) and document.get("kind") in VALIDATORS:
        return str(document["kind"])
    name = Path(path).name
    matches = [kind for kind in VALIDATORS if kind in name]
    return max(matches, key=len) if matches else None


def validate_file(path: str | Path) -> list[Problem]:
    """Every problem in ``path`` (empty when the file is valid)."""
    kind = detect_kind(path)
    if kind is None:
        try:
            read_document(path)
        except DataError as exc:
            return list(exc.problems)
        known = ", ".join(sorted(VALIDATORS))
        return [Problem(str(path), "", f"a storylab data file; kinds: {known}")]
    module, func = VALIDATORS[kind].split(":")
    try:
        getattr(import_module(module), func)(path)
    except DataError as exc:
        return list(exc.problems)
    return []
