"""Sweep throughput: storylab.tuning.sweep on local workers against a plain loop.

Each run is a cheap CPU-bound story stand-in: a seeded random walk of ``--steps`` steps,
written in plain Python, pulled towards one of the six emotional arcs, scored by RMSE and
correlation against that arc. The reference is the same runs in a single-process ``for``
loop, in the same process and the same invocation.

    python benchmarks/sweep.py              # 2,000 runs
    python benchmarks/sweep.py --quick      # 200 runs, a few seconds
"""

from __future__ import annotations

import argparse
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from storylab.theory import ArcType, arc
from storylab.tuning import child_seeds, expand_grid, sweep


def walk_story(arc_type: str, steps: int, pull: float, seed: int) -> dict[str, float]:
    """A random walk pulled towards an arc; its fit to the arc."""
    rng = np.random.default_rng(seed)
    target = arc(arc_type).evaluate(np.linspace(0.0, 1.0, steps)).tolist()
    noise = rng.normal(0.0, 0.05, steps).tolist()
    value, walk = target[0], []
    for goal, kick in zip(target, noise, strict=True):
        value += pull * (goal - value) + kick
        walk.append(value)
    err = sum((w - t) ** 2 for w, t in zip(walk, target, strict=True)) / steps
    return {"rmse": math.sqrt(err), "corr": float(np.corrcoef(walk, target)[0, 1])}


def _grid(runs: int, steps: int) -> list[dict[str, object]]:
    pulls = [0.1, 0.2, 0.3, 0.5]
    base = expand_grid({"arc_type": [a.value for a in ArcType], "pull": pulls, "steps": [steps]})
    return [base[i % len(base)] for i in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs in the sweep")
    parser.add_argument("--steps", type=int, default=2000, help="walk steps per run")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes")
    parser.add_argument("--repeat", type=int, default=3, help="timings per mode (best kept)")
    parser.add_argument("--quick", action="store_true", help="200 runs, one timing each")
    args = parser.parse_args()
    runs = 200 if args.quick else args.runs
    repeat = 1 if args.quick else args.repeat
    grid = _grid(runs, args.steps)
    seeds = child_seeds(0, runs)
    walk_story(**grid[0], seed=0)  # warm up: load the arcs before any clock starts

    t_loop = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        loop = [walk_story(**run, seed=s) for run, s in zip(grid, seeds, strict=True)]
        t_loop = min(t_loop, time.perf_counter() - start)

    timings = {}
    for workers in sorted({1, args.workers}):
        timings[workers] = math.inf
        for _ in range(repeat):
            with ProcessPoolExecutor(workers) as pool:
                start = time.perf_counter()
                frame = sweep(walk_story, grid, seed=0, executor=pool, progress=False)
                timings[workers] = min(timings[workers], time.perf_counter() - start)
            assert frame.rmse.tolist() == [r["rmse"] for r in loop], "sweep and loop disagree"

    cores = os.cpu_count() or 1
    print(f"{runs} runs of walk_story(steps={args.steps}), {cores} cores, best of {repeat}")
    print(f"{'mode':<22}{'wall s':>10}{'runs/s':>10}{'runs/s/core':>13}{'speed-up':>10}")
    rows = [("loop, 1 process", 1, t_loop)] + [
        (f"sweep, {w} worker{'s' if w > 1 else ''}", w, t) for w, t in timings.items()
    ]
    for label, used, wall in rows:
        rate = runs / wall
        print(f"{label:<22}{wall:>10.2f}{rate:>10.0f}{rate / used:>13.0f}{t_loop / wall:>10.2f}")


if __name__ == "__main__":
    main()
