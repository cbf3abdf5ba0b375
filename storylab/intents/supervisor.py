"""The supervisor: claims pending intents, runs them on an executor, retries, expires, recovers.

One loop, in the thread that calls :meth:`Supervisor.run`, repeatedly: recover what a gone
supervisor left running, expire runs past their deadline, settle finished futures
(a failure is retried with exponential backoff until ``max_attempts``, then the intent
fails with the error), and claim due intents up to ``max_in_flight``. Each run executes
:func:`execute_run` on the executor (threads by default; any
:class:`concurrent.futures.Executor` whose workers can open the file, process pools and
Dask included), which generates and applies the intent's planned effects in order, each
in its own transaction (:func:`storylab.intents.runs.apply_effect`).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storylab.intents.context import context_from
from storylab.intents.models import Effect, Intent
from storylab.intents.providers import ProviderError
from storylab.intents.runs import (
    RunStopped,
    apply_effect,
    beat,
    claim,
    expire,
    recover,
    register,
    settle,
    unregister,
)
from storylab.intents.store import IntentStore
from storylab.runtime.blocks import GenerationProvider, OfflineProvider
from storylab.runtime.state import Session
from storylab.runtime.store import ConflictError

__all__ = ["Supervisor", "SupervisorStats", "execute_run"]

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


def _owned(store: IntentStore, run_id: str) -> None:
    row = store._db.execute(
        "SELECT status, deadline_at FROM intent_runs WHERE id=?", (run_id,)
    ).fetchone()
    if row[0] != "running":
        raise RunStopped(f"run {run_id} is {row[0]}")
    if row[1] < time.time():
        raise RunStopped(f"run {run_id} passed its deadline")


def _generate(
    store: IntentStore,
    run_id: str,
    intent: Intent,
    effect: Effect,
    session: Session,
    provider: GenerationProvider,
    window: int,
) -> tuple[str, str, list[str]]:
    """Generate a turn's reply: (content, generation id, chunks not yet recorded).

    Chunks of a streamed reply are recorded as events at most every ``_FLUSH`` seconds
    (checking the run still owns the intent); the rest go with the effect."""
    p = effect.payload
    ctx = context_from(
        session,
        store.recent_turns(intent.session_id, window),
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
            _owned(store, run_id)
            with store._tx() as db:
                for text in unsent:
                    store._event(db, intent.id, "chunk", index=effect.index, text=text)
            unsent, flushed = [], time.monotonic()
    return "".join(parts), f"gen-{request.key()}", unsent


def execute_run(
    path: str, run_id: str, provider: GenerationProvider, window: int = 8
) -> dict[str, Any]:
    """Generate and apply the planned effects of a run's intent, in order (a worker task).

    Each effect is generated from the session as loaded and applied in one transaction;
    if the session moved on meanwhile, it is generated again from the fresh state. Returns
    ``{"run": ..., "applied": n}``, or ``{"run": ..., "stopped": reason}`` when the run
    lost its intent (cancelled, expired, recovered by another supervisor).
    """
    store = _store(path)
    (intent_id,) = store._db.execute(
        "SELECT intent_id FROM intent_runs WHERE id=?", (run_id,)
    ).fetchone()
    intent = store.intent(intent_id)
    applied = 0
    session = None  # the session as last loaded or committed here
    try:
        for effect in intent.effects:
            if effect.status != "planned":
                continue
            for _ in range(_CONFLICT_RETRIES):
                if session is None:
                    session = store.sessions.load(intent.session_id)
                made: tuple[str | None, str | None, list[str]] = (None, None, [])
                if effect.kind == "generate_turn":
                    _owned(store, run_id)  # generate nothing for a run that lost its intent
                    made = _generate(store, run_id, intent, effect, session, provider, window)
                try:
                    apply_effect(store, run_id, intent, effect, session, *made)
                except ConflictError:
                    session = None  # load it afresh
                    continue
                applied += 1
                break
            else:
                raise ConflictError(
                    f"session {intent.session_id!r} kept changing: effect {effect.index} "
                    f"of {intent.id} not applied after {_CONFLICT_RETRIES} fresh loads"
                )
    except RunStopped as stop:
        return {"run": run_id, "applied": applied, "stopped": str(stop)}
    return {"run": run_id, "applied": applied}


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
        Runs at once (default: 2, or the executor's ``_max_workers`` when it has one).
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
        progress: bool = False,
    ):
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if deadline <= 0 or lease <= 0 or poll <= 0 or backoff < 0:
            raise ValueError("deadline, lease and poll must be positive, backoff not negative")
        self.path = store.path if isinstance(store, IntentStore) else str(store)
        self.provider = provider if provider is not None else OfflineProvider()
        self.executor = executor
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self.deadline, self.lease, self.poll = deadline, lease, poll
        self.max_in_flight = max_in_flight or getattr(executor, "_max_workers", None) or 2
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
        inflight: dict[Future[dict[str, Any]], str] = {}
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
                    self._abandon(store, inflight)
                    last_sweep = time.monotonic()
                done = [f for f in inflight if f.done()]
                for fut in done:
                    outcomes.append(self._settle(store, inflight.pop(fut), fut, stats, settling))
                stats.retried += outcomes.count("retried")
                stats.failed += outcomes.count("failed")
                bar.update(outcomes.count("failed") + outcomes.count("finished"))
                room = self.max_in_flight - len(inflight)
                for run_id in claim(store, sup, limit=room, deadline=self.deadline) if room else ():
                    fut = executor.submit(execute_run, self.path, run_id, self.provider)
                    inflight[fut] = run_id
                    stats.started += 1
                if once and not inflight and not self._pending(store):
                    break
                if inflight:
                    wait(list(inflight), timeout=self.poll, return_when=FIRST_COMPLETED)
                else:
                    self._stop.wait(self.poll)
        finally:
            for run_id in inflight.values():
                settle(store, run_id, "crashed", "the supervisor stopped mid-run", **settling)
            unregister(store, sup)
            store.close()
            bar.close()
            if own:
                executor.shutdown(wait=False, cancel_futures=True)
        return stats

    @staticmethod
    def _abandon(store: IntentStore, inflight: dict[Future[dict[str, Any]], str]) -> None:
        """Forget futures whose run ended elsewhere (expired, cancelled): they write
        nothing more, and need not be waited for."""
        if not inflight:
            return
        marks = ",".join("?" * len(inflight))
        ended = {
            r[0]
            for r in store._db.execute(
                "SELECT id FROM intent_runs WHERE status NOT IN ('running', 'succeeded') "
                f"AND id IN ({marks})",
                list(inflight.values()),
            )
        }
        for fut, run_id in list(inflight.items()):
            if run_id in ended:
                del inflight[fut]

    @staticmethod
    def _pending(store: IntentStore) -> bool:
        row = store._db.execute("SELECT 1 FROM intents WHERE status='pending' LIMIT 1")
        return row.fetchone() is not None

    def _settle(
        self,
        store: IntentStore,
        run_id: str,
        fut: Future[dict[str, Any]],
        stats: SupervisorStats,
        settling: dict[str, Any],
    ) -> str | None:
        exc = fut.exception()
        if exc is not None:
            error = f"{type(exc).__name__}: {exc}"
            stats.errors.append(error)
            return settle(store, run_id, "failed", error, **settling)
        if "stopped" in fut.result():  # settled elsewhere: cancelled, expired, recovered
            return None
        # a run that returns has applied everything, which finished the intent and the
        # run in its last transaction; settle only catches a run left open
        left = settle(store, run_id, "failed", "the run ended with effects left", **settling)
        stats.finished += left is None
        return left or "finished"
