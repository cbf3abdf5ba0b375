"""Resumable sweeps: finished runs are stored, reruns do only the missing ones."""

from __future__ import annotations

import os
import sqlite3
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from storylab.tuning import CacheError, SweepCache, sweep
from storylab.tuning.grid import run_key

GRID = {"x": list(range(8))}
#: Where ``counted`` appends one line per call (works across processes).
LOG_ENV = "STORYLAB_TEST_SWEEP_LOG"
#: While this file exists, ``counted`` interrupts the run with x == 5 (and removes it).
TRAP_ENV = "STORYLAB_TEST_SWEEP_TRAP"


def counted(x: int, seed: int) -> dict[str, float]:
    with open(os.environ[LOG_ENV], "a", encoding="utf-8") as log:
        log.write(f"{x}\n")
    trap = Path(os.environ.get(TRAP_ENV, "/nonexistent"))
    if x == 5 and trap.exists():
        trap.unlink()
        raise KeyboardInterrupt
    if x == 7:
        raise RuntimeError("seven always fails")
    return {"y": x * 10 + seed % 7, "half": x / 2}


class SerialExecutor(Executor):
    """Runs each task at submission, like a one-worker pool that finishes everything."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


@pytest.fixture
def log(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "calls.log"
    path.touch()
    monkeypatch.setenv(LOG_ENV, str(path))
    monkeypatch.setenv(TRAP_ENV, str(tmp_path / "trap"))
    return path


def _calls(log: Path) -> list[int]:
    calls = sorted(int(line) for line in log.read_text().split())
    log.write_text("")
    return calls


def _stable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="elapsed_s")


def test_rerun_reads_everything_from_the_cache(log, tmp_path):
    cache = tmp_path / "runs.sqlite"
    first = sweep(counted, GRID, seed=1, cache=cache, executor=ThreadPoolExecutor(2))
    assert _calls(log) == list(range(8))
    assert first.attrs["cached_runs"] == 0
    with SweepCache(cache) as store:
        assert len(store) == 7  # the failed run is not stored
    again = sweep(counted, GRID, seed=1, cache=cache, executor=ThreadPoolExecutor(2))
    assert _calls(log) == [7]  # failed runs are retried
    assert again.attrs["cached_runs"] == 7
    pd.testing.assert_frame_equal(again, first.assign(elapsed_s=again.elapsed_s))
    assert again.elapsed_s[:7].tolist() == first.elapsed_s[:7].tolist()


def test_half_filled_cache_runs_only_the_missing_half(log, tmp_path):
    cache = tmp_path / "runs.sqlite"
    runs = [{"x": x} for x in range(8)]
    sweep(counted, runs[:4], seed=9, cache=cache, executor=ProcessPoolExecutor(2))
    assert _calls(log) == [0, 1, 2, 3]
    resumed = sweep(counted, runs, seed=9, cache=cache, executor=ProcessPoolExecutor(2))
    assert _calls(log) == [4, 5, 6, 7]
    fresh = sweep(counted, runs, seed=9, executor=ThreadPoolExecutor(1), progress=False)
    pd.testing.assert_frame_equal(_stable(resumed), _stable(fresh))


def test_interrupted_sweep_resumes(log, tmp_path):
    cache = tmp_path / "runs.sqlite"
    (tmp_path / "trap").touch()
    with pytest.raises(KeyboardInterrupt):
        sweep(counted, GRID, seed=2, cache=cache, executor=SerialExecutor(), batch_size=1)
    assert _calls(log) == list(range(8))
    with SweepCache(cache) as store:
        assert len(store) == 6  # everything that finished, except the failure
    resumed = sweep(counted, GRID, seed=2, cache=cache, executor=SerialExecutor(), batch_size=1)
    assert _calls(log) == [5, 7]
    assert resumed.attrs["cached_runs"] == 6
    assert resumed.status.tolist() == ["ok"] * 7 + ["failed"]


def test_other_seeds_and_functions_do_not_hit(log, tmp_path):
    cache = tmp_path / "runs.sqlite"
    sweep(counted, GRID, seed=1, cache=cache, executor=ThreadPoolExecutor(1))
    _calls(log)
    sweep(counted, GRID, seed=2, cache=cache, executor=ThreadPoolExecutor(1))
    assert len(_calls(log)) == 8
    sweep(counted, GRID, seed=1, cache=cache, executor=ThreadPoolExecutor(1), fn_id="v2")
    assert len(_calls(log)) == 8
    sweep(counted, GRID, seed=1, cache=cache, executor=ThreadPoolExecutor(1), fn_id="v2")
    assert _calls(log) == [7]


def test_a_cache_needs_a_seed(tmp_path):
    with pytest.raises(ValueError, match="fixed seed"):
        sweep(counted, GRID, cache=tmp_path / "c.sqlite")
    assert not (tmp_path / "c.sqlite").exists()


def _sqlite_with(path: Path, sql: str) -> Path:
    db = sqlite3.connect(path)
    db.executescript(sql)
    db.close()
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"definitely not sqlite" * 10), "file is not a database"),
        (lambda p: _sqlite_with(p, "CREATE TABLE notes (t TEXT);"), "tables: notes"),
        (lambda p: p.mkdir(), "this is a directory"),
    ],
    ids=["garbage", "foreign-sqlite", "directory"],
)
def test_unusable_cache_files_are_reported_untouched(log, tmp_path, make, message):
    path = tmp_path / "cache.sqlite"
    make(path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(CacheError, match=message) as excinfo:
        sweep(counted, GRID, seed=1, cache=path, executor=ThreadPoolExecutor(1))
    assert str(path) in str(excinfo.value)
    assert _calls(log) == []
    if before is not None:
        assert path.read_bytes() == before


def test_wrong_version_and_damaged_rows(log, tmp_path):
    path = tmp_path / "cache.sqlite"
    with SweepCache(path):
        pass
    _sqlite_with(path, "UPDATE storylab_sweep_cache SET version = 99;")
    with pytest.raises(CacheError, match=r"version 1 \(found \[99\]\)"):
        SweepCache(path)
    path.unlink()
    sweep(counted, {"x": [1]}, seed=1, cache=path, executor=ThreadPoolExecutor(1))
    _sqlite_with(path, "UPDATE runs SET metrics = 'oops';")
    with pytest.raises(CacheError, match="metrics stored as a JSON object"):
        sweep(counted, {"x": [1]}, seed=1, cache=path, executor=ThreadPoolExecutor(1))


def test_missing_folder_is_reported(tmp_path):
    with pytest.raises(CacheError, match="SQLite can open"):
        SweepCache(tmp_path / "no" / "such" / "cache.sqlite")


def test_keys_depend_on_every_part():
    base = run_key("f", {"a": 1, "b": [1.0]}, 3)
    assert base == run_key("f", {"b": [1.0], "a": 1}, 3)
    assert len({base, run_key("g", {"a": 1, "b": [1.0]}, 3), run_key("f", {"a": 1}, 3)}) == 3
    assert base != run_key("f", {"a": 1, "b": [1.0]}, 4)
    assert run_key("f", {"a": 1}, 3) != run_key("f", {"a": 1.0}, 3)
