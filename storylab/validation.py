"""``storylab validate``: check any storylab data file and list every problem in it.

Each kind of file registers the loader that validates it. A file's kind comes from its
top-level ``kind:`` field when present, else from its name (``my-story-actions.yaml`` is a
``story-actions`` file, ``start.state.yaml`` a ``state`` file). Folders are checked
recursively: every ``.yaml``, ``.yml`` and ``.json`` file in them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib import import_module
from pathlib import Path

from storylab._data import DataError, Problem, read_document

__all__ = ["DATA_SUFFIXES", "VALIDATORS", "detect_kind", "validate_file", "validate_paths"]

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
    "playtest": "storylab.world.playtests:load_playtest",
    "state": "storylab.runtime.state_file:load_state",
}

#: File name endings ``validate`` reads inside a folder.
DATA_SUFFIXES = (".yaml", ".yml", ".json")


def detect_kind(path: str | Path) -> str | None:
    """The registered kind of a file, or ``None`` when it is not recognised."""
    try:
        document = read_document(path)
    except DataError:
        document = None
    declared = document.get("kind") if isinstance(document, dict) else None
    if isinstance(declared, str) and declared.endswith("-profile"):
        return "profile"
    if isinstance(declared, str) and declared in VALIDATORS:
        return declared
    name = Path(path).name
    if Path(name).with_suffix("").suffix == ".state":  # start.state.yaml
        return "state"
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
        return [
            Problem(
                str(path),
                "kind",
                f"a storylab data file: declare its kind with a top-level `kind:` field"
                f" (or name it after the kind); kinds: {known}",
            )
        ]
    module, func = VALIDATORS[kind].split(":")
    try:
        getattr(import_module(module), func)(path)
    except DataError as exc:
        return list(exc.problems)
    return []


def _files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.suffix in DATA_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def validate_paths(paths: Iterable[str | Path]) -> Iterator[tuple[Path, list[Problem]]]:
    """Each file under ``paths`` (folders recursively) with its problems (empty when valid)."""
    for given in paths:
        files = _files(Path(given))
        if not files:
            expected = f"a folder with storylab data files ({', '.join(DATA_SUFFIXES)})"
            yield Path(given), [Problem(str(given), "", expected)]
        for path in files:
            yield path, validate_file(path)
