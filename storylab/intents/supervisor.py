"""The supervisor: claims pending intents, runs them on an executor, retries, expires, recovers.

One loop, in the thread that calls :meth:`Supervisor.run`, repeatedly: recover what a gone
supervisor left running, expire runs past their deadline, settle finished futures
(a failure is retried with exponential backoff until ``max_attempts``, then the intent
fails with the error), and claim due intents, up to ``batch`` per idle worker task. Each
task executes :func:`execute_runs` on the executor (threads by default; any
:class:`concurrent.futures.Executor` whose workers can open the file, process pools and
Dask included): it makes each run's planned effects in memory, in order, and commits the
runs made within 0.1 s in one transaction (:func:`storylab.intents.runs.record_applied`
keeps their bookkeeping; a run whose session moved on is redone alone from fresh state).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storylab.intents.context import context_from
from storylab.intents.models import Effect, Intent
from storylab.intents.providers import ProviderError
from storylab.intents.runs import (
    Made,
    RunStopped,
    beat,
    change_session,
    check_owned,
    claim,
    commit_effects,
    expire,
    record_applied,
    recover,
    register,
    run_intents,
    settle,
    unregister,
)
from storylab.intents.store import IntentStore
from storylab.runtime.blocks import GenerationProvider, OfflineProvider
from storylab.runtime.state import Session
from storylab.runtime.store import ConflictError

if TYPE_CHECKING:
    import sqlite3

__all__ = ["Supervisor", "SupervisorStats", "execute_run", "execute_runs"]

_CONFLICT_RETRIES = 50  # fresh loads before an effect gives up on a busy session
_FLUSH = 0.1  # seconds between chunk events written while a reply streams
_SWEEP = 0.05  # seconds between looks for expired and abandoned runs
_local = threading.local()


def _store(path: str) -> IntentStore:
    """This thread's store for ``path`` (opened once per thread and process)."""
    stores = getattr(_local, "stores", None)
    if stores is None or _local.pid != os.getpid():  # a fresh thread, or a forked child
        _local.stores, _local.pid = {}, os.getpid()
        stores = _local.stores
    if path not in stores:
        stores[path] = IntentStore(path)
    return stores[path]


def _generate(
    store: IntentStore,
    run_id: str,
    intent: Intent,
    effect: Effect,
    session: Session,
    turns: list[tuple[str, str]],
    provider: GenerationProvider,
) -> tuple[str, str, list[str]]:
    """Generate a turn's reply from ``session`` and its recent ``turns``: (content,
    generation id, chunks not yet recorded).

    Chunks of a streamed reply are recorded as events at most every ``_FLUSH`` seconds
    (checking the run still owns the intent); the rest go with the effect."""
    p = effect.payload
    ctx = context_from(
        session,
        turns,
        p["participant"],
        description=p["description"],
        constraint=p.get("constraint"),
    )
    request = ctx.request()
    stream = getattr(provider, "stream", None)
    if stream is None:  # one chunk: recorded with the effect
        made = provider.generate(request)
        if made.content is None:
            raise ProviderError(f"{type(provider).__name__} left the generation pending")
        return made.content, made.id, [made.content]
    parts: list[str] = []
    unsent: list[str] = []
    flushed = time.monotonic()
    for chunk in stream(request):
        parts.append(chunk)
        unsent.append(chunk)
        if time.monotonic() - flushed > _FLUSH:
            check_owned(store._db, run_id)
            with store._tx() as db:
                store._events(
                    db, intent.id, [("chunk", {"index": effect.index, "text": t}) for t in unsent]
                )
            unsent, flushed = [], time.monotonic()
    return "".join(parts), f"gen-{request.key()}", unsent


def _make(
    store: IntentStore,
    run_id: str,
    intent: Intent,
    effects: list[Effect],
    session: Session,
    provider: GenerationProvider,
    window: int,
    checked: float,
) -> tuple[list[Made], Exception | None]:
    """Apply ``effects`` in order to ``session`` in memory, generating turns as needed
    (each from the state the effects before it left); what was made, and the error that
    stopped it (a provider's failure) if any. ``checked``: when (``time.monotonic``) the
    run was last seen owning its intent; a turn is generated only for a run seen owning
    it within ``_FLUSH`` seconds (else looked up again)."""
    turns = store.recent_turns(intent.session_id, window)
    made: list[Made] = []
    try:
        for effect in effects:
            output, gen_id, chunks = None, None, []
            if effect.kind == "generate_turn":
                if time.monotonic() - checked > _FLUSH:  # generate nothing for a lost run
                    check_owned(store._db, run_id)
                    checked = time.monotonic()
                output, gen_id, chunks = _generate(
                    store,
                    run_id,
                    intent,
                    effect,
                    session,
                    turns[-window:] if window else [],
                    provider,
                )
            turn = change_session(session, effect, output)
            if turn is not None:
                turns.append((turn["participant"], turn["content"]))
            made.append(Made(effect, turn, gen_id, chunks))
    except RunStopped:
        raise
    except Exception as exc:  # the run fails with it, after committing what was made
        return made, exc
    return made, None


@dataclass
class _Prepared:
    """A run's effects made in memory, ready to commit."""

    run_id: str
    intent: Intent
    session: Session
    made: list[Made]
    error: Exception | None  # the failure that stopped the making (after ``made``)


def _prepare(
    store: IntentStore,
    run_id: str,
    provider: GenerationProvider,
    window: int,
    read: tuple[Intent | RunStopped, float] | None = None,
) -> _Prepared:
    """Load the run's session and make its intent's planned effects in memory. ``read``:
    the run's intent (or why it stopped) as :func:`run_intents` found it, and when; read
    here when not given."""
    if read is None:
        read = run_intents(store, [run_id])[run_id], time.monotonic()
    intent, checked = read
    if isinstance(intent, RunStopped):
        raise intent
    planned = [e for e in intent.effects if e.status == "planned"]
    session = store.sessions.load(intent.session_id)
    made, error = _make(store, run_id, intent, planned, session, provider, window, checked)
    return _Prepared(run_id, intent, session, made, error)


def _commit(store: IntentStore, p: _Prepared) -> dict[str, Any]:
    """Commit what ``p`` made (raising its error afterwards); the run's outcome."""
    if p.made:
        commit_effects(store, p.run_id, p.intent, p.session, p.made)
    if p.error is not None:
        raise p.error
    return _outcome(p)


def _outcome(p: _Prepared) -> dict[str, Any]:
    """The outcome of a run whose effects were committed (or, with none, not needed)."""
    if p.error is not None:
        return _failure(p.run_id, p.error)
    # every planned effect committed: that transaction finished the intent
    return {"run": p.run_id, "applied": len(p.made), "finished": bool(p.made)}


def execute_run(
    path: str, run_id: str, provider: GenerationProvider, window: int = 8
) -> dict[str, Any]:
    """Generate and apply the planned effects of a run's intent (a worker task).

    The effects are generated in order from the session as loaded (each seeing the turns
    the ones before it added), then committed together in one transaction
    (:func:`~storylab.intents.runs.commit_effects`); if the session moved on meanwhile,
    they are generated again from the fresh state. When a generation fails, the effects
    before it are committed and the error is raised (the supervisor retries the rest).
    Returns ``{"run": ..., "applied": n, "finished": bool}``, or ``{"run": ...,
    "stopped": reason}`` when the run lost its intent (cancelled, expired, recovered by
    another supervisor).
    """
    store = _store(path)
    try:
        for _ in range(_CONFLICT_RETRIES):
            p = _prepare(store, run_id, provider, window)
            try:
                return _commit(store, p)
            except ConflictError:
                continue
    except RunStopped as stop:
        return _failure(run_id, stop)
    raise ConflictError(
        f"session {p.intent.session_id!r} kept changing: the effects of {p.intent.id} "
        f"not applied after {_CONFLICT_RETRIES} fresh loads"
    )


def _failure(run_id: str, exc: Exception) -> dict[str, Any]:
    """A run's outcome when it raised: stopped (it lost its intent) or an error."""
    if isinstance(exc, RunStopped):
        return {"run": run_id, "applied": 0, "stopped": str(exc)}
    return {"run": run_id, "error": f"{type(exc).__name__}: {exc}"}


def _commit_group(
    store: IntentStore, group: list[_Prepared], out: dict[str, dict[str, Any]]
) -> list[str]:
    """Commit the runs of ``group`` in one transaction, recording their outcomes in
    ``out``; returns the runs whose session moved on (nothing of theirs written).

    Each session is saved in a savepoint (one that moved on rolls back alone), then the
    bookkeeping of all the saved runs is written at once (:func:`record_applied`). If
    that fails (a run lost its intent, say), the transaction rolls back and each run
    commits alone, with its own checks."""
    conflicted: list[str] = []
    saved: list[_Prepared] = []

    def bookkeeping(db: sqlite3.Connection) -> None:
        runs = [(p.run_id, p.intent, p.session.version, p.made) for p in saved]
        record_applied(store, db, runs)

    try:
        with store.sessions.transaction(also=bookkeeping):
            for p in group:
                if not p.made:
                    continue
                try:
                    store.sessions.save(p.session)
                except ConflictError:
                    conflicted.append(p.run_id)
                else:
                    saved.append(p)
    except Exception:
        for p in saved:  # rolled back: the copies are at their loaded versions again
            p.session.version -= 1
        conflicted, saved = [], []
        for p in group:
            try:
                out[p.run_id] = _commit(store, p)
            except ConflictError:
                conflicted.append(p.run_id)
            except Exception as exc:
                out[p.run_id] = _failure(p.run_id, exc)
        return conflicted
    for p in group:
        if p.run_id not in conflicted:
            out[p.run_id] = _outcome(p)
    return conflicted


def execute_runs(
    path: str, run_ids: list[str], provider: GenerationProvider, window: int = 8
) -> list[dict[str, Any]]:
    """Execute several runs (one worker task), committing them in groups.

    The runs made within ``_FLUSH`` seconds commit in one transaction
    (:meth:`~storylab.runtime.SessionStore.transaction`), each in a savepoint of it: one
    whose session moved on rolls back alone and is then executed on its own
    (:func:`execute_run`); one that lost its intent is reported stopped. A run that
    raises is reported as ``{"run": ..., "error": "Type: message"}``; the others go on.
    Returns the outcomes in the order of ``run_ids``.
    """
    store = _store(path)
    out: dict[str, dict[str, Any]] = {}
    todo = list(run_ids)
    while todo:
        group: list[_Prepared] = []
        read = run_intents(store, todo)
        started = time.monotonic()
        while todo and (not group or time.monotonic() - started < _FLUSH):
            run_id = todo.pop(0)
            try:
                group.append(_prepare(store, run_id, provider, window, (read[run_id], started)))
            except Exception as exc:
                out[run_id] = _failure(run_id, exc)
        conflicted = _commit_group(store, group, out)
        for run_id in conflicted:
            try:
                out[run_id] = execute_run(path, run_id, provider, window)
            except Exception as exc:
                out[run_id] = _failure(run_id, exc)
    return [out[r] for r in run_ids]


@dataclass
class SupervisorStats:
    """What one :meth:`Supervisor.run` did."""

    started: int = 0
    finished: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0
    recovered: int = 0
    errors: list[str] = field(default_factory=list)


class Supervisor:
    """Runs pending intents of a store until stopped.

    Parameters
    ----------
    store : IntentStore or path
        The store (only its path is used: the supervisor and each worker open their own
        connections).
    provider : GenerationProvider, optional
        Generates turns; the runtime's deterministic :class:`OfflineProvider` by default.
        Must pickle when the executor runs processes.
    executor : Executor, optional
        Where runs execute; a two-thread pool by default (owned and shut down by
        :meth:`run`).
    max_attempts : int
        Runs per intent before it fails with the last error.
    backoff, max_backoff : float
        The wait before retry ``n`` is ``min(max_backoff, backoff * 2 ** (n - 1))`` seconds.
    deadline : float
        Seconds a run may take before it expires (counted as a failed attempt).
    lease : float
        Seconds of silence after which another supervisor's runs count as abandoned.
    poll : float
        Seconds between loop turns when nothing happens.
    max_in_flight : int, optional
        Worker tasks at once (default: 2, or the executor's ``_max_workers`` when it has
        one).
    batch : int
        Runs claimed per worker task, in one transaction with the others claimed at the
        same time; a task executes its runs one after the other, and each run's deadline
        counts from its claim.
    progress : bool
        Show a tqdm counter of settled intents.
    """

    def __init__(
        self,
        store: IntentStore | str | Path,
        provider: GenerationProvider | None = None,
        *,
        executor: Executor | None = None,
        max_attempts: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        deadline: float = 120.0,
        lease: float = 10.0,
        poll: float = 0.05,
        max_in_flight: int | None = None,
        batch: int = 8,
        progress: bool = False,
    ):
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        if deadline <= 0 or lease <= 0 or poll <= 0 or backoff < 0:
            raise ValueError("deadline, lease and poll must be positive, backoff not negative")
        self.path = store.path if isinstance(store, IntentStore) else str(store)
        self.provider = provider if provider is not None else OfflineProvider()
        self.executor = executor
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self.deadline, self.lease, self.poll = deadline, lease, poll
        self.max_in_flight = max_in_flight or getattr(executor, "_max_workers", None) or 2
        self.batch = batch
        self.progress = progress
        self.id: str | None = None
        self._stop = threading.Event()

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retrying after failed attempt ``attempt``."""
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1))

    def stop(self) -> None:
        """Ask :meth:`run` to return (from any thread); it settles what it started."""
        self._stop.set()

    def cancel(self, intent_id: str, reason: str = "cancelled on request") -> bool:
        """Cancel an intent (its running run writes nothing more)."""
        with IntentStore(self.path) as store:
            return store.cancel(intent_id, reason)

    def run(self, *, once: bool = False, timeout: float | None = None) -> SupervisorStats:
        """Supervise until :meth:`stop`, ``timeout`` seconds, or (``once``) no pending
        intent is left. Runs still in flight when it returns are settled as crashed (and
        retried by the next supervisor) and write nothing more."""
        from tqdm.auto import tqdm

        self._stop.clear()
        stats = SupervisorStats()
        settling = {"max_attempts": self.max_attempts, "backoff": self.delay}
        own = self.executor is None
        executor = self.executor or ThreadPoolExecutor(self.max_in_flight)
        inflight: dict[Future[list[dict[str, Any]]], list[str]] = {}
        bar = tqdm(desc="intents", unit="intent", disable=not self.progress)
        store = IntentStore(self.path)
        self.id = sup = register(store)
        ends = None if timeout is None else time.monotonic() + timeout
        last_beat = time.monotonic()
        last_sweep = -_SWEEP  # sweep (recover, expire) on the first turn
        try:
            while not self._stop.is_set() and (ends is None or time.monotonic() < ends):
                if time.monotonic() - last_beat > self.lease / 4:
                    beat(store, sup)
                    last_beat = time.monotonic()
                outcomes: list[str | None] = []
                if time.monotonic() - last_sweep > _SWEEP:
                    recovered = [o for _, o in recover(store, sup, lease=self.lease, **settling)]
                    stats.recovered += len(recovered)
                    outcomes = recovered + [o for _, o in expire(store, **settling)]
                    stats.expired += len(outcomes) - len(recovered)
                    outcomes += self._abandon(store, inflight, stats)
                    last_sweep = time.monotonic()
                done = [f for f in inflight if f.done()]
                for fut in done:
                    outcomes += self._settle(store, inflight.pop(fut), fut, stats, settling)
                stats.retried += outcomes.count("retried")
                stats.failed += outcomes.count("failed")
                bar.update(outcomes.count("failed") + outcomes.count("finished"))
                room = self.max_in_flight - len(inflight)
                runs = (
                    claim(store, sup, limit=room * self.batch, deadline=self.deadline)
                    if room
                    else []
                )
                for k in range(min(room, len(runs))):  # spread over the idle workers
                    fut = executor.submit(execute_runs, self.path, runs[k::room], self.provider)
                    inflight[fut] = runs[k::room]
                stats.started += len(runs)
                if once and not inflight and not self._pending(store):
                    break
                if inflight:  # until a task ends or the next sweep is due
                    due = _SWEEP - (time.monotonic() - last_sweep)
                    wait(list(inflight), timeout=max(self.poll, due), return_when=FIRST_COMPLETED)
                else:
                    self._stop.wait(self.poll)
        finally:
            for run_id in (r for runs in inflight.values() for r in runs):
                settle(store, run_id, "crashed", "the supervisor stopped mid-run", **settling)
            unregister(store, sup)
            store.close()
            bar.close()
            if own:
                executor.shutdown(wait=False, cancel_futures=True)
        return stats

    @staticmethod
    def _abandon(
        store: IntentStore,
        inflight: dict[Future[list[dict[str, Any]]], list[str]],
        stats: SupervisorStats,
    ) -> list[str | None]:
        """Forget tasks none of whose runs is running any more (some ended elsewhere:
        expired, cancelled): they write nothing more, and need not be waited for. Their
        succeeded runs count as finished."""
        ids = [r for runs in inflight.values() for r in runs]
        if not ids:
            return []
        status = dict(
            store._db.execute(
                f"SELECT id, status FROM intent_runs WHERE id IN ({','.join('?' * len(ids))})",
                ids,
            ).fetchall()
        )
        outcomes: list[str | None] = []
        for fut, runs in list(inflight.items()):
            if "running" not in {status.get(r) for r in runs}:
                del inflight[fut]
                finished = sum(status.get(r) == "succeeded" for r in runs)
                stats.finished += finished
                outcomes += ["finished"] * finished
        return outcomes

    @staticmethod
    def _pending(store: IntentStore) -> bool:
        row = store._db.execute("SELECT 1 FROM intents WHERE status='pending' LIMIT 1")
        return row.fetchone() is not None

    def _settle(
        self,
        store: IntentStore,
        runs: list[str],
        fut: Future[list[dict[str, Any]]],
        stats: SupervisorStats,
        settling: dict[str, Any],
    ) -> list[str | None]:
        exc = fut.exception()
        if exc is None:
            results = fut.result()
        else:  # the whole task failed (a broken process pool, say): each of its runs did
            results = [{"run": r, "error": f"{type(exc).__name__}: {exc}"} for r in runs]
        outcomes: list[str | None] = []
        for res in results:
            run_id = res["run"]
            if "error" in res:
                stats.errors.append(res["error"])
                outcomes.append(settle(store, run_id, "failed", res["error"], **settling))
            elif "stopped" in res:  # settled elsewhere: cancelled, expired, recovered
                outcomes.append(None)
            elif res["finished"]:  # its last transaction finished the intent and the run
                stats.finished += 1
                outcomes.append("finished")
            else:  # nothing was planned: settle catches the run left open
                left = settle(
                    store, run_id, "failed", "the run ended with effects left", **settling
                )
                stats.finished += left is None
                outcomes.append(left or "finished")
        return outcomes
