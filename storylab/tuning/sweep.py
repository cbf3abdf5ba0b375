"""Run a function over a parameter grid on any executor; get one tidy row per run.

The runs are validated first (:func:`~storylab.tuning.grid.plan_runs`), seeded by run
index (:func:`~storylab.tuning.grid.child_seeds`), cut into batches so one task carries
many runs, and sent to a :class:`concurrent.futures.Executor`: a local process pool by
default, a thread pool, or a Dask cluster's ``Client.get_executor()``. Which worker runs a
batch does not matter: a run's result depends only on its parameters and its seed.
"""

from __future__ import annotations

import math
import os
import pickle
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from storylab.tuning.cache import SweepCache
from storylab.tuning.grid import Grid, RunPlan, child_seeds, function_identity, plan_runs, run_key
from storylab.tuning.progress import progress_bar

__all__ = ["RESULT_COLUMNS", "sweep"]

#: The columns every sweep table ends with; metrics may not use these names.
RESULT_COLUMNS = ("seed", "elapsed_s", "status", "error")
#: Batches per worker when the batch size is chosen automatically (for load balance).
_BATCHES_PER_WORKER = 4
#: Largest automatic batch, so progress and the cache advance often.
_MAX_BATCH = 64
#: Seconds between a pool worker's checks that the process that started it is alive.
_PARENT_CHECK_S = 0.5


@dataclass(frozen=True)
class _Outcome:
    index: int
    status: str
    metrics: dict[str, Any]
    error: str | None
    elapsed_s: float


def _scalar_metrics(out: object) -> dict[str, Any]:
    if not isinstance(out, Mapping):
        raise TypeError(f"fn must return a dict of scalar metrics (got {type(out).__name__})")
    metrics: dict[str, Any] = {}
    for name, value in out.items():
        if not isinstance(name, str) or name in RESULT_COLUMNS or name.startswith("param_"):
            raise ValueError(f"metric name {name!r} clashes with the sweep table's columns")
        if isinstance(value, np.generic):
            value = value.item()
        if not (value is None or isinstance(value, str | bool | int | float)):
            raise TypeError(f"metric {name!r} must be a scalar (got {type(value).__name__})")
        # as a plain built-in value: a subclass may not pickle back to the parent process
        plain = next((t for t in (bool, int, float, str) if isinstance(value, t)), None)
        metrics[name] = value if plain is None else plain(value)
    return metrics


def _run_batch(
    fn: Callable[..., Any], as_model: bool, wants_seed: bool, tasks: list[tuple[int, Any, int]]
) -> list[_Outcome]:
    """Run one batch in a worker; an exception fails its run only."""
    outcomes = []
    for index, call, seed in tasks:
        start = time.perf_counter()
        extra = {"seed": seed} if wants_seed else {}
        try:
            out = fn(call, **extra) if as_model else fn(**call, **extra)
            metrics, status, error = _scalar_metrics(out), "ok", None
        except Exception as exc:
            metrics, status, error = {}, "failed", f"{type(exc).__name__}: {exc}"
        outcomes.append(_Outcome(index, status, metrics, error, time.perf_counter() - start))
    return outcomes


def _exit_with_parent() -> None:
    """Pool-worker initializer: end this worker when the process that started it dies.

    A killed sweep (``kill -9``) otherwise leaves its workers running their batches.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="storylab-parent-watch", daemon=True).start()


def _worker_count(executor: Executor) -> int:
    count = getattr(executor, "_max_workers", None)  # concurrent.futures pools
    if isinstance(count, int) and count > 0:
        return count
    client = getattr(executor, "_client", None)  # distributed.client.ClientExecutor
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    return 1


def _execute(
    fn: Callable[..., Any],
    plan: RunPlan,
    seeds: list[int],
    pending: list[int],
    executor: Executor,
    batch_size: int | None,
    finished: Callable[[list[_Outcome]], None],
) -> None:
    size = batch_size or min(
        _MAX_BATCH,
        math.ceil(len(pending) / (_BATCHES_PER_WORKER * _worker_count(executor))),
    )
    futures: dict[Future[list[_Outcome]], list[int]] = {}
    for start in range(0, len(pending), size):
        tasks = [(i, plan.calls[i], seeds[i]) for i in pending[start : start + size]]
        future = executor.submit(_run_batch, fn, plan.as_model, plan.wants_seed, tasks)
        futures[future] = [i for i, _, _ in tasks]
    collected: set[Future[list[_Outcome]]] = set()
    try:
        for future in as_completed(futures):
            collected.add(future)
            finished(_batch_outcomes(future, futures[future]))
    except BaseException:
        # Interrupted: drop what has not started, keep what has already finished.
        for future in futures:
            future.cancel()
        for future in set(futures) - collected:
            if future.done() and not future.cancelled() and future.exception() is None:
                finished(future.result())
        raise


def _batch_outcomes(future: Future[list[_Outcome]], indices: list[int]) -> list[_Outcome]:
    """A finished batch's outcomes; a batch that failed as a whole (its result would not
    pickle, its worker died) fails each of its runs, not the sweep."""
    try:
        return future.result()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        return [_Outcome(i, "failed", {}, error, 0.0) for i in indices]


def _table(plan: RunPlan, seeds: list[int], done: dict[int, _Outcome]) -> pd.DataFrame:
    params = list(dict.fromkeys(k for run in plan.params for k in run))
    outcomes = [done[i] for i in range(len(plan.params))]
    metrics = list(dict.fromkeys(k for o in outcomes for k in o.metrics))
    records = [
        {
            **{f"param_{k}": run.get(k) for k in params},
            **o.metrics,
            "seed": seed,
            "elapsed_s": o.elapsed_s,
            "status": o.status,
            "error": o.error,
        }
        for run, seed, o in zip(plan.params, seeds, outcomes, strict=True)
    ]
    columns = [f"param_{k}" for k in params] + metrics + list(RESULT_COLUMNS)
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame.index.name = "run"
    return frame


def sweep(
    fn: Callable[..., Any],
    grid: Grid,
    *,
    executor: Executor | None = None,
    seed: int | np.random.Generator | None = None,
    cache: str | Path | None = None,
    progress: bool | None = None,
    params: type[BaseModel] | None = None,
    workers: int = 2,
    batch_size: int | None = None,
    fn_id: str | None = None,
) -> pd.DataFrame:
    """Run ``fn`` once per parameter set in ``grid``; one row per run, in run order.

    Parameters
    ----------
    fn
        Returns a dict of scalar metrics. Called as ``fn(**run)`` (or ``fn(config)`` with
        ``params``), plus ``seed=<int>`` when it has a ``seed`` parameter. Must be picklable
        (a module-level function) for a process pool.
    grid
        A dict of value lists (every combination, names sorted, first varying slowest) or a
        list of parameter dicts. Checked before any run: see
        :func:`~storylab.tuning.grid.plan_runs`.
    executor
        Any :class:`concurrent.futures.Executor`, e.g.
        ``distributed.Client(address).get_executor()``. Default: a local process pool of
        ``workers`` processes, shut down at the end. storylab never starts a cluster.
    seed
        Root of the child seeds; run ``i`` gets the ``i``-th spawned seed whatever the
        executor, so the same grid and seed give the same table.
    cache
        An SQLite file of finished runs. Runs found there are not run again; the others are
        stored as their batch finishes, so an interrupted sweep resumes. Needs a fixed seed.
    progress
        Show a ``tqdm.auto`` progress bar; ``None``: unless ``STORYLAB_PROGRESS=0`` (see
        :mod:`storylab.tuning.progress`).
    params
        A pydantic config model; each run (``a__b`` names reach nested fields) must validate
        as one, and ``fn`` receives the model instance.
    workers
        Processes of the default pool.
    batch_size
        Runs per submitted task; default: about four batches per worker, at most 64.
    fn_id
        Names ``fn`` in cache keys; default: its module and qualified name. Change it when
        ``fn``'s behaviour changes, or old results are reused.

    Returns
    -------
    pandas.DataFrame
        ``param_*`` columns, the metrics, then ``seed``, ``elapsed_s``, ``status`` (``"ok"``
        or ``"failed"``) and ``error`` (``"Type: message"`` or ``None``); index ``run``.
        ``attrs["cached_runs"]`` counts the rows read from the cache.

    Raises
    ------
    storylab.DataError
        A bad grid (before any run), or a cache file that is not a sweep cache.
    """
    plan = plan_runs(fn, grid, params)
    if cache is not None and seed is None:
        raise ValueError("a cached sweep needs a fixed seed, or reruns could never match it")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be at least 1 (got {batch_size})")
    if executor is None and workers < 1:
        raise ValueError(f"workers must be at least 1 (got {workers})")
    if executor is None or isinstance(executor, ProcessPoolExecutor):
        try:
            pickle.dumps(fn)
        except Exception as exc:
            raise TypeError(
                f"fn must be picklable to run in a process pool ({exc}); define it at module "
                "level or pass executor=ThreadPoolExecutor()"
            ) from None
    seeds = child_seeds(seed, len(plan.params))
    done: dict[int, _Outcome] = {}
    store = SweepCache(cache) if cache is not None else None
    try:
        keys: list[str] = []
        identity = ""
        if store is not None:
            identity = fn_id or function_identity(fn)
            keys = [run_key(identity, p, s) for p, s in zip(plan.params, seeds, strict=True)]
            hits = store.lookup(keys)
            for i, key in enumerate(keys):
                if key in hits:
                    done[i] = _Outcome(i, "ok", hits[key].metrics, None, hits[key].elapsed_s)
        cached = len(done)
        pending = [i for i in range(len(plan.params)) if i not in done]
        label = getattr(fn, "__name__", "sweep")
        with progress_bar(
            progress=progress, total=len(plan.params), initial=cached, desc=label, unit="run"
        ) as bar:

            def finished(outcomes: list[_Outcome]) -> None:
                done.update((o.index, o) for o in outcomes)
                if store is not None:
                    rows = []
                    for o in [o for o in outcomes if o.status == "ok"]:
                        i = o.index
                        rows.append((keys[i], plan.params[i], seeds[i], o.metrics, o.elapsed_s))
                    store.store(identity, rows)
                bar.update(len(outcomes))

            if pending:
                own = executor is None
                pool = (
                    ProcessPoolExecutor(max_workers=workers, initializer=_exit_with_parent)
                    if own
                    else executor
                )
                try:
                    _execute(fn, plan, seeds, pending, pool, batch_size, finished)
                finally:
                    if own:
                        pool.shutdown(wait=True, cancel_futures=True)
    finally:
        if store is not None:
            store.close()
    frame = _table(plan, seeds, done)
    frame.attrs["cached_runs"] = cached
    return frame
