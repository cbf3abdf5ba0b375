"""A bounded memo of phase searches: a phase problem met again is not searched again.

:func:`~storylab.storyteller.astar_search` is a pure function of what it reads from the
compiled :class:`~storylab.storyteller.PhaseProblem` and of its limits and tie-break
ranks. :class:`PhaseMemo` keys a search by exactly those values:

- the search domain: the action library (by identity: a library is immutable once loaded,
  and the memo keeps the libraries it has keys for alive), the genre, the planning grid
  (spectrum step, position advance sizes), the fact keys the preconditions read, and every
  step's actions, link costs, grid moves and ticks. Costs enter as the *resolved* per-link
  values, so a callable cost (such as ``ActionCosts``) is keyed by what it returned, never
  by identity;
- the start state: the values (with their types) of the facts the search reads, the primary
  spectrum on the grid, the ticks already done, and the step taken last (repeat penalty);
- the phase as the search sees it: goal range and fact conditions, position floor and
  ceiling in ticks, the corridor (and whether it is on), whether the goal is facts-only, the
  required core events (in order) and the excluded ones, each step's cost with the reuse
  penalty and the repeat penalty;
- the limits (max iterations, beam width, the exact bound) and the tie-break ranks.

A search stopped by its time limit depends on the clock, so it is never stored.

Anything else in a world (facts no precondition reads, the secondary spectrum) cannot
change the search, so worlds that differ only there share an entry. The memo is per process,
least-recently-used and bounded (``maxsize=0`` turns it off); it counts hits and misses.
The process-wide memo that composers share holds :data:`DEFAULT_MEMO_SIZE` searches, or
as many as the environment variable ``STORYLAB_PHASE_MEMO`` says (``0``: off), read at import
so that sweep workers inherit it.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from storylab.storyteller.planner import PhaseSearch, SearchStats, astar_search
from storylab.storyteller.search_space import PhaseProblem, SearchDomain

__all__ = ["DEFAULT_MEMO_SIZE", "PhaseMemo", "memo_key", "memo_stats", "phase_memo"]

#: Phase searches the process-wide memo keeps by default (a few MB).
DEFAULT_MEMO_SIZE = 4096

_DOMAIN_KEYS: weakref.WeakKeyDictionary[SearchDomain, tuple] = weakref.WeakKeyDictionary()


def _domain_key(domain: SearchDomain, library: object) -> tuple:
    """Everything about a search domain that the search reads (computed once per domain).

    The library enters by ``id``: :class:`PhaseMemo` keeps every library it has keys for
    alive, so the id cannot be reused while such a key exists. Keys hold only atoms and
    tuples of atoms, which the garbage collector stops tracking, so a full memo adds no work
    to collections.
    """
    found = _DOMAIN_KEYS.get(domain)
    if found is None:
        sizes = domain.config.position_advance
        found = (
            id(library),
            domain.genre,
            domain.config.spectrum_step,
            (sizes.micro, sizes.standard, sizes.macro),
            domain.keys,
            tuple((s.ids, s.link_costs, s.link_deltas, s.ticks) for s in domain.steps),
        )
        _DOMAIN_KEYS[domain] = found
    return found


def memo_key(
    problem: PhaseProblem,
    *,
    max_iterations: int | None,
    beam_width: int | None,
    ranks: Sequence[int] | None,
    max_seconds: float | None = None,
    max_nodes: int | None = None,
) -> tuple:
    """The key that determines ``astar_search(problem, ...)`` (with the problem's heuristic).

    Two problems with equal keys give the same search, step for step.
    """
    domain = problem.domain
    fid, primary, ticks, done, last = problem.initial
    facts = tuple((type(v).__name__, v) for v in domain.facts(fid))
    goal = tuple((c.key, c.op, type(c.value).__name__, c.value) for c in problem.goal_facts)
    return (
        _domain_key(domain, problem.library),
        facts,
        primary,
        ticks,
        done,
        last,
        (problem.goal_lo, problem.goal_hi, problem.floor_ticks, problem.ceiling_ticks),
        (problem.corridor, problem.corridor_lo, problem.corridor_hi, problem.facts_only),
        goal,
        problem.required,
        tuple(sorted(problem.excluded)),
        tuple(problem.step_cost(i) for i in range(len(domain.steps))),
        problem.repeat_penalty,
        max_iterations,
        beam_width,
        max_seconds,
        max_nodes,
        tuple(ranks) if ranks is not None else None,
    )


class PhaseMemo:
    """A least-recently-used memo of :func:`~storylab.storyteller.astar_search` results.

    Parameters
    ----------
    maxsize : int
        Searches kept at most; ``0`` keeps none (every call searches).

    Examples
    --------
    >>> from storylab.storyteller import StorylineComposer
    >>> memo = PhaseMemo(maxsize=64)
    >>> composer = StorylineComposer(memo=memo)
    >>> first = composer.compose("man_in_a_hole", "action", seed=3)
    >>> again = composer.compose("man_in_a_hole", "action", seed=3)
    >>> again.model_dump_json() == first.model_dump_json(), memo.stats()["hits"] > 0
    (True, True)
    """

    def __init__(self, maxsize: int = DEFAULT_MEMO_SIZE):
        if maxsize < 0:
            raise ValueError(f"maxsize must be >= 0, got {maxsize}")
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple, tuple] = OrderedDict()
        self._libraries: dict[int, object] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def search(
        self,
        problem: PhaseProblem,
        *,
        max_iterations: int | None = None,
        beam_width: int | None = None,
        ranks: Sequence[int] | None = None,
        max_seconds: float | None = None,
        max_nodes: int | None = None,
    ) -> PhaseSearch:
        """``astar_search(problem, ...)``, from the memo when the same search was done before.

        A hit returns the stored result with ``elapsed_s`` set to the time of the look-up.
        """
        return self.search_counted(
            problem,
            max_iterations=max_iterations,
            beam_width=beam_width,
            ranks=ranks,
            max_seconds=max_seconds,
            max_nodes=max_nodes,
        )[0]

    def search_counted(
        self,
        problem: PhaseProblem,
        *,
        max_iterations: int | None = None,
        beam_width: int | None = None,
        ranks: Sequence[int] | None = None,
        max_seconds: float | None = None,
        max_nodes: int | None = None,
    ) -> tuple[PhaseSearch, bool]:
        """Like :meth:`search`, and whether the result came from the memo."""
        limits = {
            "max_iterations": max_iterations,
            "beam_width": beam_width,
            "ranks": ranks,
            "max_seconds": max_seconds,
            "max_nodes": max_nodes,
        }
        if self.maxsize == 0:
            with self._lock:
                self.misses += 1
            return astar_search(problem, **limits), False
        started = time.perf_counter()
        key = memo_key(problem, **limits)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
        if found is not None:
            steps, cost, reached, stats = found
            result = PhaseSearch(
                steps=steps,
                cost=cost,
                reached=reached,
                stats=SearchStats(**dict(zip(SearchStats.model_fields, stats, strict=True))),
                elapsed_s=time.perf_counter() - started,
            )
            return result, True
        result = astar_search(problem, **limits)
        if result.stats.stop_reason == "time_limit":
            with self._lock:
                self.misses += 1
            return result, False
        stored = (
            result.steps,
            result.cost,
            result.reached,
            tuple(result.stats.model_dump().values()),
        )
        with self._lock:
            self.misses += 1
            self._libraries.setdefault(id(problem.library), problem.library)
            self._entries[key] = stored
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return result, False

    def resize(self, maxsize: int) -> None:
        """Keep at most ``maxsize`` searches from now on (``0`` turns the memo off)."""
        if maxsize < 0:
            raise ValueError(f"maxsize must be >= 0, got {maxsize}")
        with self._lock:
            self.maxsize = maxsize
            while len(self._entries) > maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every stored search and reset the counters."""
        with self._lock:
            self._entries.clear()
            self._libraries.clear()
            self.hits = self.misses = 0

    def stats(self) -> dict[str, Any]:
        """Hits, misses, hit rate, entries stored and the size limit."""
        calls = self.hits + self.misses
        return {
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": self.hits / calls if calls else 0.0,
            "size": len(self._entries),
            "maxsize": self.maxsize,
        }


def _shared_size() -> int:
    """The shared memo's size: ``STORYLAB_PHASE_MEMO`` (``0`` turns it off) or the default."""
    value = os.environ.get("STORYLAB_PHASE_MEMO", "").strip()
    if not value:
        return DEFAULT_MEMO_SIZE
    if not value.isdigit():
        raise ValueError(f"STORYLAB_PHASE_MEMO must be a whole number >= 0, got {value!r}")
    return int(value)


_SHARED = PhaseMemo(_shared_size())


def phase_memo() -> PhaseMemo:
    """The process-wide memo that composers use by default (``resize(0)`` turns it off)."""
    return _SHARED


def memo_stats() -> dict[str, Any]:
    """The process-wide memo's :meth:`PhaseMemo.stats`."""
    return _SHARED.stats()
