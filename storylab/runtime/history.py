"""A component's history: append-only, and cheap to save and load however long it grows.

A history keeps what was last saved (or loaded) in its encoded form and appends new entries
to a plain list; saving encodes only the entries added since, so save and load stay cheap
however long the history grows. Old entries are decoded only when someone reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, groupby, repeat
from typing import Any

__all__ = ["History", "HistoryEntry"]

#: (program id, node id, world time, how the node was reached: "start", "choice:<id>",
#: "edge:<id>", "fallback", "resume", "moved").
HistoryEntry = tuple[str, str, float, str]

_SEP = " "  # never inside an id (letters, digits, _ . : -); needs no escaping in JSON


def _runs(values: Iterable[Any]) -> list[list[Any]]:
    """Run-length encoding: ``[[value, count], ...]``."""
    return [[v, len(list(group))] for v, group in groupby(values)]


def _columns(flat: list[Any]) -> dict[str, Any]:
    """History in a compact form that is fast to write and read: node ids and ways joined
    into one text each, programs and times run-length encoded (they change rarely).
    ``flat`` holds the entries' fields one after another (four per entry)."""
    if not flat:
        return {"length": 0, "program": [], "node": "", "time": [], "via": ""}
    return {
        "length": len(flat) // 4,
        "program": _runs(flat[0::4]),
        "node": _SEP.join(flat[1::4]),
        "time": _runs(flat[2::4]),
        "via": _SEP.join(flat[3::4]),
    }


def _rows(columns: dict[str, Any]) -> list[HistoryEntry]:
    """Inverse of :func:`_columns`."""
    n = columns["length"]
    if not n:
        return []
    program = chain.from_iterable(repeat(v, k) for v, k in columns["program"])
    time = chain.from_iterable(repeat(v, k) for v, k in columns["time"])
    node, via = columns["node"].split(_SEP), columns["via"].split(_SEP)
    if not len(node) == len(via) == n:
        raise ValueError(
            f"saved history is damaged: {n} entries, {len(node)} nodes, {len(via)} ways"
        )
    return list(zip(program, node, time, via, strict=True))


def _join(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The encoding of history ``a`` followed by history ``b``."""
    if not b["length"]:
        return a
    if not a["length"]:
        return b
    runs = {}
    for key in ("program", "time"):
        left, right = a[key], b[key]
        if left[-1][0] == right[0][0]:
            runs[key] = [*left[:-1], [left[-1][0], left[-1][1] + right[0][1]], *right[1:]]
        else:
            runs[key] = [*left, *right]
    return {
        "length": a["length"] + b["length"],
        "program": runs["program"],
        "node": f"{a['node']}{_SEP}{b['node']}",
        "time": runs["time"],
        "via": f"{a['via']}{_SEP}{b['via']}",
    }


def _entries(flat: list[Any]) -> list[HistoryEntry]:
    """Entries from their fields laid out one after another (four per entry)."""
    return list(zip(flat[0::4], flat[1::4], flat[2::4], flat[3::4], strict=True))


class History:
    """Node entries in order: append, ``len``, slices, iteration, equality with lists.

    Hosts and tools read it like a list; the engine only appends and trims what a failed
    step appended. New entries are kept as their fields in one flat list (four per entry)
    so that appending allocates no container the garbage collector must track; the
    entries read back as tuples are built once, when first read, and kept.
    """

    __slots__ = ("_flat", "_read", "_saved", "_saved_len")

    def __init__(self, entries: Iterable[HistoryEntry] = ()):
        self._saved: dict[str, Any] | None = None  # encoded entries from a save
        self._saved_len = 0
        self._flat: list[Any] = list(chain.from_iterable(entries))  # fields after the save
        self._read: list[HistoryEntry] = []  # entries read so far (when nothing is saved)

    @classmethod
    def decode(cls, columns: dict[str, Any]) -> History:
        """A history from :meth:`encode` output (kept encoded until read)."""
        n = columns["length"]
        node_count = columns["node"].count(_SEP) + 1 if n else 0
        via_count = columns["via"].count(_SEP) + 1 if n else 0
        counted = [sum(k for _, k in columns[key]) for key in ("program", "time")]
        if not node_count == via_count == counted[0] == counted[1] == n:
            raise ValueError(f"saved history is damaged: {n} entries do not match its columns")
        history = cls()
        history._saved, history._saved_len = (columns, n) if n else (None, 0)
        return history

    def encode(self) -> dict[str, Any]:
        """The compact, JSON-ready form; what was encoded before is re-used, not redone."""
        if self._flat or self._saved is None:
            tail = _columns(self._flat)
            self._saved = tail if self._saved is None else _join(self._saved, tail)
            self._saved_len, self._flat, self._read = self._saved["length"], [], []
        saved = self._saved
        return {
            **saved,
            "program": [list(r) for r in saved["program"]],
            "time": [list(r) for r in saved["time"]],
        }

    def _materialize(self) -> list[HistoryEntry]:
        if self._saved is not None:
            self._flat[:0] = chain.from_iterable(_rows(self._saved))
            self._saved, self._saved_len, self._read = None, 0, []
        read, flat = self._read, self._flat
        if len(read) * 4 != len(flat):  # the engine appends to ``_flat`` directly
            read += _entries(flat[len(read) * 4 :])
        return read

    def append(self, entry: HistoryEntry) -> None:
        """Add an entry at the end."""
        self._flat.extend(entry)

    def __len__(self) -> int:
        return self._saved_len + len(self._flat) // 4

    def since(self, start: int) -> list[HistoryEntry]:
        """The entries from index ``start`` on (cheap when they are all new)."""
        if start >= self._saved_len:
            return _entries(self._flat[(start - self._saved_len) * 4 :])
        return self._materialize()[start:]

    def truncate(self, length: int) -> None:
        """Drop every entry from index ``length`` on."""
        if length < self._saved_len:
            self._materialize()
        del self._flat[(length - self._saved_len) * 4 :]
        del self._read[length - self._saved_len :]

    def __getitem__(self, index: Any) -> Any:
        return self._materialize()[index]

    def __iter__(self) -> Iterator[HistoryEntry]:
        return iter(self._materialize())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, History):
            other = other._materialize()
        return self._materialize() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"History({self._materialize()!r})"

    def copy(self) -> History:
        """An independent copy (the encoded part is shared; it is never changed)."""
        twin = History()
        twin._flat, twin._read = list(self._flat), list(self._read)
        twin._saved, twin._saved_len = self._saved, self._saved_len
        return twin
