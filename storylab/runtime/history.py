"""A component's history: append-only, and cheap to save and load however long it grows.

New entries go into a plain list; once enough have piled up (the engine checks after each
step) they are folded into an encoded chunk, the form a save writes. A save then only
encodes the few entries added since the last fold and joins the chunks, so the first save
of a long playthrough costs about what every later one does. Encoded entries are decoded
only when someone reads them, and each is decoded once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, groupby, repeat
from typing import Any

from storylab.runtime.saved import SaveError

__all__ = ["FOLD_AT", "History", "HistoryEntry"]

#: (program id, node id, world time, how the node was reached: "start", "choice:<id>",
#: "edge:<id>", "fallback", "resume", "moved").
HistoryEntry = tuple[str, str, float, str]

#: New entries kept as plain fields before :meth:`History.settle` folds them into a chunk.
FOLD_AT = 2048

_SEP = " "  # never inside an id (letters, digits, _ . : -); needs no escaping in JSON


def _runs(values: list[Any]) -> list[list[Any]]:
    """Run-length encoding: ``[[value, count], ...]``."""
    if values and values.count(values[0]) == len(values):  # one run: the common case
        return [[values[0], len(values)]]
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
        raise SaveError(
            f"damaged save: history has {n} entries, {len(node)} nodes, {len(via)} ways"
        )
    return list(zip(program, node, time, via, strict=True))


def _merged_runs(parts: Iterable[list[list[Any]]]) -> list[list[Any]]:
    """Run lists one after another, a run that continues across a boundary made one."""
    out: list[list[Any]] = []
    for runs in parts:
        for value, count in runs:
            if out and out[-1][0] == value:
                out[-1] = [value, out[-1][1] + count]
            else:
                out.append([value, count])
    return out


def _join(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """The encoding of the chunks' histories one after another."""
    chunks = [c for c in chunks if c["length"]]
    if len(chunks) == 1:
        return chunks[0]
    if not chunks:
        return _columns([])
    return {
        "length": sum(c["length"] for c in chunks),
        "program": _merged_runs(c["program"] for c in chunks),
        "node": _SEP.join(c["node"] for c in chunks),
        "time": _merged_runs(c["time"] for c in chunks),
        "via": _SEP.join(c["via"] for c in chunks),
    }


def _entries(flat: list[Any]) -> list[HistoryEntry]:
    """Entries from their fields laid out one after another (four per entry)."""
    return list(zip(flat[0::4], flat[1::4], flat[2::4], flat[3::4], strict=True))


class History:
    """Node entries in order: append, ``len``, slices, iteration, equality with lists.

    Hosts and tools read it like a list; the engine only appends, trims what a failed
    step appended, and settles between steps. New entries are kept as their fields in one
    flat list (four per entry) so that appending allocates no container the garbage
    collector must track; the entries read back as tuples are built once, when first
    read, and kept.
    """

    __slots__ = ("_chunks", "_flat", "_read", "_saved_len")

    def __init__(self, entries: Iterable[HistoryEntry] = ()):
        self._chunks: list[dict[str, Any]] = []  # encoded entries (never changed once made)
        self._saved_len = 0  # entries in the chunks
        self._flat: list[Any] = list(chain.from_iterable(entries))  # fields of later entries
        self._read: list[HistoryEntry] = []  # the first entries, read back as tuples

    @classmethod
    def decode(cls, columns: dict[str, Any]) -> History:
        """A history from :meth:`encode` output (kept encoded until read)."""
        n = columns["length"]
        node_count = columns["node"].count(_SEP) + 1 if n else 0
        via_count = columns["via"].count(_SEP) + 1 if n else 0
        programs, times = columns["program"], columns["time"]
        counted = [  # one run each, the common case, needs no sum
            runs[0][1] if len(runs) == 1 else sum(run[1] for run in runs)
            for runs in (programs, times)
        ]
        if not node_count == via_count == counted[0] == counted[1] == n:
            raise SaveError(f"damaged save: history's {n} entries do not match its columns")
        history = cls.__new__(cls)  # every field is set here
        history._chunks, history._saved_len = ([columns], n) if n else ([], 0)
        history._flat, history._read = [], []
        return history

    def encode(self, last: int | None = None) -> dict[str, Any]:
        """The compact, JSON-ready form; what was encoded before is re-used, not redone.
        With ``last``, only the latest ``last`` entries."""
        if last is not None and last < len(self):
            flat = self._flat
            if 4 * last <= len(flat):  # all of them still plain fields
                return _columns(flat[len(flat) - 4 * last :])
            older: list[HistoryEntry] = []  # from the newest chunks, decoding no more
            for chunk in reversed(self._chunks):
                older[:0] = _rows(chunk)
                if 4 * len(older) + len(flat) >= 4 * last:
                    break
            wanted = last - len(flat) // 4
            return _columns([*chain.from_iterable(older[len(older) - wanted :]), *flat])
        self._fold()
        if len(self._chunks) != 1:
            self._chunks = [_join(self._chunks)]
        saved = self._chunks[0]
        return {
            **saved,
            "program": [list(r) for r in saved["program"]],
            "time": [list(r) for r in saved["time"]],
        }

    def settle(self) -> None:
        """Fold the new entries into an encoded chunk once :data:`FOLD_AT` have piled up
        (the engine calls this after each step, never inside one)."""
        if len(self._flat) >= 4 * FOLD_AT:
            self._fold()

    def _fold(self) -> None:
        if self._flat:
            self._chunks.append(_columns(self._flat))
            self._saved_len += len(self._flat) // 4
            self._flat = []

    def _materialize(self) -> list[HistoryEntry]:
        read, done = self._read, len(self._read)
        if done < self._saved_len:
            start = 0
            for chunk in self._chunks:
                end = start + chunk["length"]
                if end > done:
                    read += _rows(chunk)[done - start :]
                    done = end
                start = end
        if done < len(self):
            read += _entries(self._flat[(done - self._saved_len) * 4 :])
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
            kept = self._materialize()[:length]
            self._chunks, self._saved_len = [], 0
            self._flat = list(chain.from_iterable(kept))
        else:
            del self._flat[(length - self._saved_len) * 4 :]
        del self._read[length:]

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
        """An independent copy (the encoded chunks are shared; they are never changed)."""
        twin = History()
        twin._chunks, twin._saved_len = list(self._chunks), self._saved_len
        twin._flat, twin._read = list(self._flat), list(self._read)
        return twin
