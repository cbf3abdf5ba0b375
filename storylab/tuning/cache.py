"""A resumable sweep's memory: finished runs in an SQLite file, keyed by run.

Only the process that runs the sweep writes the file, one transaction per finished batch,
so workers (local or on a cluster) never touch it. A run is keyed by
:func:`~storylab.tuning.grid.run_key` (function identity, canonical-JSON parameters and
seed), so the same run met in another sweep is found too. Failed runs are not stored: a
rerun tries them again.

A file that is not a storylab sweep cache is reported, never overwritten.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storylab._data import DataError, Problem

__all__ = ["CacheError", "CachedRun", "SweepCache"]

#: Schema version written into every cache; a different one is refused.
SCHEMA_VERSION = 1
_MARKER = "storylab_sweep_cache"
_SCHEMA = f"""
CREATE TABLE {_MARKER} (version INTEGER NOT NULL);
CREATE TABLE runs (
    key TEXT PRIMARY KEY,
    fn_id TEXT NOT NULL,
    params TEXT NOT NULL,
    seed INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    elapsed_s REAL NOT NULL
);
INSERT INTO {_MARKER} (version) VALUES ({SCHEMA_VERSION});
"""
#: Keys looked up per query (well under SQLite's bound-variable limit).
_BATCH = 500


class CacheError(DataError):
    """A cache file that cannot be used: not SQLite, not a sweep cache, or damaged."""

    def __init__(self, path: str | Path, expected: str):
        super().__init__([Problem(str(path), "", expected)])


@dataclass(frozen=True)
class CachedRun:
    """One finished run as stored: its metrics and how long it took."""

    metrics: dict[str, Any]
    elapsed_s: float


class SweepCache:
    """An open cache file; use as a context manager or call :meth:`close`.

    Parameters
    ----------
    path
        The SQLite file. Created (with its schema) when missing or empty.

    Raises
    ------
    CacheError
        When the file exists but is not a storylab sweep cache of this version.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.is_dir():
            raise CacheError(self.path, "a cache file (this is a directory)")
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        try:
            self._db = sqlite3.connect(self.path)
        except sqlite3.Error as exc:
            raise CacheError(self.path, f"a file SQLite can open ({exc})") from None
        try:
            if fresh:
                self._db.executescript(_SCHEMA)
            else:
                self._check()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise CacheError(self.path, f"a storylab sweep cache (SQLite says: {exc})") from None
        except CacheError:
            self._db.close()
            raise

    def _check(self) -> None:
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        if not {_MARKER, "runs"} <= tables:
            shown = ", ".join(sorted(tables)) or "none"
            raise CacheError(
                self.path, f"a storylab sweep cache (an SQLite file with tables: {shown})"
            )
        versions = [r[0] for r in self._db.execute(f"SELECT version FROM {_MARKER}")]
        if versions != [SCHEMA_VERSION]:
            raise CacheError(
                self.path, f"a sweep cache of version {SCHEMA_VERSION} (found {versions})"
            )

    def __enter__(self) -> SweepCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def __len__(self) -> int:
        return self._query(lambda db: db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def _query(self, work: Any) -> Any:
        try:
            return work(self._db)
        except sqlite3.DatabaseError as exc:
            raise CacheError(self.path, f"a readable sweep cache (SQLite says: {exc})") from None

    def lookup(self, keys: Iterable[str]) -> dict[str, CachedRun]:
        """The stored runs among ``keys`` (missing keys are left out)."""
        wanted = list(keys)
        found: dict[str, CachedRun] = {}
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            marks = ",".join("?" * len(batch))
            sql = f"SELECT key, metrics, elapsed_s FROM runs WHERE key IN ({marks})"
            rows = self._query(lambda db, sql=sql, batch=batch: db.execute(sql, batch).fetchall())
            for key, metrics, elapsed in rows:
                found[key] = CachedRun(self._metrics(key, metrics), float(elapsed))
        return found

    def _metrics(self, key: str, text: str) -> dict[str, Any]:
        try:
            metrics = json.loads(text)
        except (TypeError, json.JSONDecodeError):
            metrics = None
        if not isinstance(metrics, dict):
            raise CacheError(self.path, f"run {key[:12]}: metrics stored as a JSON object")
        return metrics

    def store(
        self, fn_id: str, runs: Iterable[tuple[str, Mapping[str, Any], int, Mapping, float]]
    ) -> None:
        """Store finished runs of ``fn_id``, each ``(key, params, seed, metrics, elapsed_s)``."""
        rows = [
            (key, fn_id, json.dumps(params, sort_keys=True), seed, _dump(metrics), elapsed)
            for key, params, seed, metrics, elapsed in runs
        ]

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.executemany("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?)", rows)

        self._query(write)


def _dump(metrics: Mapping[str, Any]) -> str:
    # Metrics are JSON scalars; NaN and infinities survive Python's JSON dialect.
    return json.dumps(dict(metrics), allow_nan=True)
