"""Sweep throughput: storyline compositions on local workers against a plain loop.

Every run composes one storyline (``storylab.tuning.costs.compose_case``: the composer plus
the plan objectives) for a (template, genre) pair the library supports, at one of the three
urgencies, with its own seed. The reference is the same function in a single-process
``for`` loop, in the same invocation, over the first ``--loop-runs`` runs (a loop over all
of them would take several times longer than the sweep); both report compositions per
second per core, and their ratio.

    python benchmarks/sweep.py                  # 10,000 compositions on 2 workers
    python benchmarks/sweep.py --quick          # 400 compositions, a few seconds
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from storylab.storyteller import template_library
from storylab.tuning import child_seeds, sweep
from storylab.tuning.costs import compose_case


def _runs(n: int) -> list[dict[str, object]]:
    base = [
        {"template": t, "genre": g, "urgency": u}
        for u in ("medium", "low", "high")
        for t, g in template_library().pairs()
    ]
    return [base[i % len(base)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="compositions in the sweep")
    parser.add_argument("--loop-runs", type=int, default=500, help="compositions in the loop")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes")
    parser.add_argument("--quick", action="store_true", help="400 compositions, loop of 100")
    args = parser.parse_args()
    runs, loop_runs = (400, 100) if args.quick else (args.runs, min(args.loop_runs, args.runs))
    grid = _runs(runs)
    seeds = child_seeds(0, runs)
    compose_case(**grid[0], seed=seeds[0])  # warm up: load the libraries before any clock

    start, cpu = time.perf_counter(), time.process_time()
    loop = [compose_case(**run, seed=s) for run, s in zip(grid[:loop_runs], seeds, strict=False)]
    t_loop, cpu_loop = time.perf_counter() - start, time.process_time() - cpu

    start, cpu = time.perf_counter(), _cpu_with_children()
    frame = sweep(compose_case, grid, seed=0, workers=args.workers, progress=False)
    t_sweep, cpu_sweep = time.perf_counter() - start, _cpu_with_children() - cpu
    same = frame["fit_rmse"].iloc[:loop_runs].tolist() == [r["fit_rmse"] for r in loop]
    failed = int((frame.status != "ok").sum())

    rate_loop, rate_sweep = loop_runs / t_loop, runs / t_sweep
    print(f"{runs} compositions on {args.workers} workers ({os.cpu_count()} cores)")
    print(f"{'mode':<20}{'runs':>7}{'wall s':>8}{'comp/s':>8}{'cpu s':>8}{'comp/cpu-s':>12}")
    for label, n, wall, cpu_s in (
        ("loop, 1 process", loop_runs, t_loop, cpu_loop),
        (f"sweep, {args.workers} workers", runs, t_sweep, cpu_sweep),
    ):
        print(f"{label:<20}{n:>7}{wall:>8.1f}{n / wall:>8.1f}{cpu_s:>8.1f}{n / cpu_s:>12.1f}")
    efficiency = (runs / cpu_sweep) / (loop_runs / cpu_loop)
    print(
        f"wall-clock speed-up {rate_sweep / rate_loop:.2f}x;"
        f" compositions per CPU-second, sweep/loop: {efficiency:.2f}"
    )
    print(
        f"mean time inside a run: loop {t_loop / loop_runs * 1e3:.1f} ms,"
        f" sweep workers {frame.elapsed_s.mean() * 1e3:.1f} ms"
    )
    print(
        f"sweep rows identical to the loop's: {same}; failed runs: {failed};"
        f" complete plans: {frame['complete'].mean():.1%}; load average {os.getloadavg()[0]:.1f}"
    )


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its finished child processes (the pool's)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
