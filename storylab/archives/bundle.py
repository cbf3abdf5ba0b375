"""``ArchiveBundle``: archive entries under opaque string keys.

A bundle is what a host (a game server, a world database, a file on disk) hands storylab:
entries such as ``character`` or ``character-history`` keyed by name. storylab reads the
keys listed in :data:`~storylab.archives.models.ENTRY_MODELS` and validates each against
its model; any other key is kept untouched, ignored by the extractors (forward
compatibility: a newer host may send entries this storylab does not know) and listed in
the bundle's diagnostics. A known key that is absent falls back to
:data:`~storylab.archives.models.DEFAULT_ENTRIES`, and the diagnostics say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from storylab._data import DataError, Frozen, Problem, _describe, _format_loc, read_document
from storylab.archives.models import DEFAULT_ENTRIES, ENTRY_MODELS

__all__ = ["ARCHIVE_SUFFIXES", "ArchiveBundle", "load_bundle", "load_bundles"]

#: File name endings a bundle may be read from.
ARCHIVE_SUFFIXES = (".yaml", ".yml", ".json")


class ArchiveBundle:
    """Archive entries under opaque keys; the known ones validated, the rest kept aside.

    Build one with :meth:`from_dict` or :func:`load_bundle`. Bundles are immutable.

    >>> b = ArchiveBundle.from_dict({"character": {"name": "Ada"}, "guild-ledger": [1, 2]})
    >>> b.get("character").name, b.unknown_keys
    ('Ada', ('guild-ledger',))
    >>> ArchiveBundle.from_dict({}).get("character").alive
    True
    """

    __slots__ = ("_entries", "_raw", "source")

    def __init__(self, entries: Mapping[str, Frozen], raw: Mapping[str, Any], source: str):
        self._entries = MappingProxyType(dict(entries))
        self._raw = MappingProxyType(dict(raw))
        self.source = source

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, source: str = "<dict>") -> ArchiveBundle:
        """Validate the known entries of ``data``; every problem is reported at once.

        Raises
        ------
        DataError
            When ``data`` is not a mapping with string keys, or a known entry is malformed;
            each problem names the entry key, the field and what was expected.
        """
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            got = type(data).__name__
            raise DataError([Problem(source, "", f"a mapping of entry keys (got {got})")])
        problems: list[Problem] = []
        entries: dict[str, Frozen] = {}
        for key, value in data.items():
            if not isinstance(key, str):
                problems.append(Problem(source, repr(key), "a string entry key"))
                continue
            model = ENTRY_MODELS.get(key)
            if model is None:
                continue
            if isinstance(value, model):
                entries[key] = value
                continue
            if isinstance(value, Frozen):
                value = value.model_dump()
            try:
                entries[key] = model.model_validate(value)
            except ValidationError as exc:
                problems.extend(
                    Problem(source, _format_loc((key, *e["loc"])), _describe(e))
                    for e in exc.errors()
                )
        if problems:
            raise DataError(problems)
        return cls(entries, data, source)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every entry key present, known or not, in the order given."""
        return tuple(self._raw)

    @property
    def known_keys(self) -> tuple[str, ...]:
        """The keys present that storylab reads."""
        return tuple(k for k in self._raw if k in ENTRY_MODELS)

    @property
    def unknown_keys(self) -> tuple[str, ...]:
        """The keys present that storylab does not read (ignored by the extractors)."""
        return tuple(k for k in self._raw if k not in ENTRY_MODELS)

    @property
    def missing_keys(self) -> tuple[str, ...]:
        """The keys storylab reads that are absent (their defaults apply)."""
        return tuple(k for k in ENTRY_MODELS if k not in self._entries)

    @property
    def is_empty(self) -> bool:
        """Whether no known entry is present."""
        return not self._entries

    @property
    def name(self) -> str:
        """The character's name (``"unknown"`` without a ``character`` entry)."""
        return self.get("character").name  # type: ignore[attr-defined]

    @property
    def diagnostics(self) -> tuple[str, ...]:
        """What the extractors will do differently from a complete bundle, one line each."""
        lines = [f"missing entry {k!r}: using the documented defaults" for k in self.missing_keys]
        lines += [f"unknown entry {k!r}: ignored" for k in self.unknown_keys]
        return tuple(lines)

    def has(self, key: str) -> bool:
        """Whether the known entry ``key`` is present (not defaulted)."""
        return key in self._entries

    def get(self, key: str) -> Frozen:
        """The typed entry ``key``, or its documented default when absent.

        Raises
        ------
        KeyError
            When ``key`` is not one storylab reads; use :meth:`raw` for those.
        """
        if key not in ENTRY_MODELS:
            known = ", ".join(ENTRY_MODELS)
            raise KeyError(f"storylab does not read entry {key!r}; it reads: {known}")
        return self._entries.get(key, DEFAULT_ENTRIES[key])

    def raw(self, key: str) -> Any:
        """The entry ``key`` exactly as given (known or not)."""
        return self._raw[key]

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready dict: typed entries dumped, unknown entries as given."""
        return {
            k: (self._entries[k].model_dump(mode="json") if k in self._entries else v)
            for k, v in self._raw.items()
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArchiveBundle):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ArchiveBundle({self.name!r}, keys={list(self.keys)}, source={self.source!r})"


def load_bundle(path: str | Path) -> ArchiveBundle:
    """Read one bundle from a YAML (``.yaml``/``.yml``) or JSON (``.json``) file.

    An empty file is an empty bundle.

    Raises
    ------
    DataError
        When the file has another ending, cannot be read or parsed, or a known entry in it
        is malformed.
    """
    label = str(path)
    if Path(path).suffix.lower() not in ARCHIVE_SUFFIXES:
        endings = ", ".join(ARCHIVE_SUFFIXES)
        raise DataError([Problem(label, "", f"an archive file ending in {endings}")])
    return ArchiveBundle.from_dict(read_document(path), source=label)


def load_bundles(paths: str | Path | Iterable[str | Path]) -> list[ArchiveBundle]:
    """Read every bundle in a directory (sorted by name) or in a list of files."""
    if isinstance(paths, str | Path):
        folder = Path(paths)
        if not folder.is_dir():
            return [load_bundle(folder)]
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in ARCHIVE_SUFFIXES)
    return [load_bundle(p) for p in paths]
