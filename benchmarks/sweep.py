"""Sweep throughput: storyline compositions on local workers against a plain loop, with and
without the phase-search memo.

Every run composes one storyline (``storylab.tuning.costs.compose_case``: the composer plus
the plan objectives) for a (template, genre) pair the library supports. Two designs:

- ``independent`` (default): the pairs at the three urgencies, each run with its own seed.
  No phase problem recurs (the seed sets every phase's tie-break ranks), so the memo can
  only cost time here; this row shows how little.
- ``archives``: for each pair in turn, every generated archive in ``data/archives`` as the
  starting world, one seed per pair (common random numbers: the archives are compared on
  the same draws). Archives
  whose facts differ only where no precondition reads them give the same phase problems,
  which the memo answers without searching.

The reference is the same function in a single-process ``for`` loop, in the same
invocation, over the first ``--loop-runs`` runs; the sweep runs with the memo on, then
(unless ``--memo-only``) again with it off. Rows report wall and CPU time, compositions per
CPU-second, and the memo's hits and misses summed over the runs.

    python benchmarks/sweep.py                          # 10,000 compositions on 2 workers
    python benchmarks/sweep.py --design archives        # the archive sweep
    python benchmarks/sweep.py --quick                  # 400 compositions, a few seconds
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from storylab.storyteller import phase_memo, template_library
from storylab.storyteller.memo import DEFAULT_MEMO_SIZE
from storylab.tuning import child_seeds, sweep
from storylab.tuning.costs import compose_case

ARCHIVES = Path(__file__).resolve().parents[1] / "data" / "archives" / "generated"


def compose_run(
    template: str,
    genre: str,
    urgency: str,
    seed: int,
    case_seed: int | None = None,
    archive: str | None = None,
    memo_size: int = DEFAULT_MEMO_SIZE,
) -> dict[str, float]:
    """``compose_case`` under a memo of ``memo_size`` searches (0: off), with the memo's
    hits and misses during the run (``case_seed``, when given, replaces the sweep's seed)."""
    memo = phase_memo()
    if memo.maxsize != memo_size:
        memo.resize(memo_size)
    hits, misses = memo.hits, memo.misses
    out = compose_case(
        template,
        genre,
        seed if case_seed is None else case_seed,
        urgency=urgency,
        archive=archive,
    )
    return out | {"memo_hits": memo.hits - hits, "memo_misses": memo.misses - misses}


def _runs(n: int, design: str) -> list[dict[str, object]]:
    pairs = template_library().pairs()
    if design == "independent":
        base = [
            {"template": t, "genre": g, "urgency": u}
            for u in ("medium", "low", "high")
            for t, g in pairs
        ]
    else:
        base = [
            {"template": t, "genre": g, "urgency": "medium", "case_seed": i, "archive": str(a)}
            for i, (t, g) in enumerate(pairs)
            for a in sorted(ARCHIVES.glob("archive-*.yaml"))
        ]
    return [base[i % len(base)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="compositions in the sweep")
    parser.add_argument("--loop-runs", type=int, default=500, help="compositions in the loop")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes")
    parser.add_argument("--design", choices=("independent", "archives"), default="independent")
    parser.add_argument("--memo-size", type=int, default=DEFAULT_MEMO_SIZE, help="per worker")
    parser.add_argument("--memo-only", action="store_true", help="skip the memo-off sweep")
    parser.add_argument("--quick", action="store_true", help="400 compositions, loop of 100")
    args = parser.parse_args()
    runs, loop_runs = (400, 100) if args.quick else (args.runs, min(args.loop_runs, args.runs))
    grid = _runs(runs, args.design)
    seeds = child_seeds(0, runs)
    compose_run(**grid[0], seed=seeds[0])  # warm up: load the libraries before any clock
    memo = phase_memo()
    memo.resize(args.memo_size)
    memo.clear()

    start, cpu = time.perf_counter(), time.process_time()
    loop = [
        compose_run(**run, seed=s, memo_size=args.memo_size)
        for run, s in zip(grid[:loop_runs], seeds, strict=False)
    ]
    t_loop, cpu_loop = time.perf_counter() - start, time.process_time() - cpu
    rows = [("loop, 1 process", loop_runs, t_loop, cpu_loop, _memo_counts(loop))]
    memo.clear()  # the workers fork from this process: they start with an empty memo

    frames = {}
    for size in (args.memo_size,) if args.memo_only else (args.memo_size, 0):
        sized = [run | {"memo_size": size} for run in grid]
        start, cpu = time.perf_counter(), _cpu_with_children()
        frame = sweep(compose_run, sized, seed=0, workers=args.workers, progress=False)
        wall, cpu_s = time.perf_counter() - start, _cpu_with_children() - cpu
        label = f"sweep, memo {'on' if size else 'off'}"
        rows.append((label, runs, wall, cpu_s, _memo_counts(frame.to_dict("records"))))
        frames[size] = frame

    frame = frames[args.memo_size]
    same = frame["fit_rmse"].iloc[:loop_runs].tolist() == [r["fit_rmse"] for r in loop]
    failed = int((frame.status != "ok").sum())
    print(f"{runs} compositions ({args.design}) on {args.workers} workers ({os.cpu_count()} cores)")
    print(
        f"{'mode':<18}{'runs':>7}{'wall s':>8}{'comp/s':>8}{'cpu s':>8}{'comp/cpu-s':>12}"
        f"{'hits':>8}{'misses':>8}{'hit rate':>10}"
    )
    for label, n, wall, cpu_s, (hits, misses) in rows:
        rate = hits / max(hits + misses, 1)
        print(
            f"{label:<18}{n:>7}{wall:>8.1f}{n / wall:>8.1f}{cpu_s:>8.1f}{n / cpu_s:>12.1f}"
            f"{hits:>8}{misses:>8}{rate:>10.1%}"
        )
    sweep_on = rows[1]
    efficiency = (runs / sweep_on[3]) / (loop_runs / cpu_loop)
    print(
        f"wall-clock speed-up, sweep/loop: {(runs / sweep_on[2]) / (loop_runs / t_loop):.2f}x;"
        f" compositions per CPU-second, sweep/loop: {efficiency:.2f}"
    )
    if 0 in frames:
        off = rows[2]
        apart = ["elapsed_s", "memo_hits", "memo_misses", "param_memo_size"]
        identical = frames[0].drop(columns=apart).equals(frame.drop(columns=apart))
        print(
            f"memo speed-up: wall {off[2] / sweep_on[2]:.2f}x, CPU {off[3] / sweep_on[3]:.2f}x;"
            f" rows with and without the memo identical: {identical}"
        )
    print(
        f"mean time inside a run: loop {t_loop / loop_runs * 1e3:.1f} ms,"
        f" sweep workers {frame.elapsed_s.mean() * 1e3:.1f} ms"
    )
    print(
        f"sweep rows identical to the loop's: {same}; failed runs: {failed};"
        f" complete plans: {frame['complete'].mean():.1%}; load average {os.getloadavg()[0]:.1f}"
    )


def _memo_counts(records: list[dict]) -> tuple[int, int]:
    """Memo hits and misses summed over runs (failed runs, with NaN counts, left out)."""
    counts = [(r["memo_hits"], r["memo_misses"]) for r in records if r["memo_hits"] >= 0]
    return int(sum(h for h, _ in counts)), int(sum(m for _, m in counts))


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its finished child processes (the pool's)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
