"""Plan to play: does a played story keep its template's arc, with and without re-planning?

Usage::

    python benchmarks/play.py               # six templates x 1,000 simulated players
    python benchmarks/play.py --runs 50     # quick

For each of the six templates (its first compatible genre, the plan composed with seed 0),
``--runs`` simulated players (uniform choices: at each phase boundary they follow the plan
or take the offered deviation with equal odds) play the plan's program on the runtime
engine twice, with the same draws: once as planned (the reference: the story goes on as
planned after a deviation) and once re-planning the rest of the story after each deviation.
The played trajectory is classified with ``classify_arcs``; the table gives the share
classified as the template's arc in each setting and their ratio. Every player re-plans for
itself (no re-plan is shared between players), so the re-plan times are those a host pays
(the storyteller's process-wide phase memo is on, as it is by default; "cold ms" times the
first 100 players' re-plans again with the memo off, every phase searched). Targets: at least
90% on the arc with re-planning for every template; median re-plan under 20 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

from storylab.play import arc_share, simulate_players
from storylab.storyteller import StorylineComposer, compose, template_library

#: Players whose re-plans are timed again without the phase memo ("cold ms").
COLD_PLAYERS = 100


def run(runs: int, seed: int, candidates: int) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per template, and every re-plan's wall-clock seconds."""
    rows, times = [], []
    for template in template_library():
        genre = template.compatible_genres[0].genre
        plan = compose(template.arc.value, genre, seed=0)
        started = time.perf_counter()
        frame = simulate_players(
            plan, runs, seed=seed, candidates=candidates, share_replans=False, progress=False
        )
        elapsed = time.perf_counter() - started
        share = arc_share(frame)
        replans = [s for r in frame["replan_s"] for s in r]
        cold = simulate_players(
            plan,
            min(runs, COLD_PLAYERS),
            seed=seed,
            replanning=(True,),
            composer=StorylineComposer(memo=False),
            candidates=candidates,
            share_replans=False,
            progress=False,
        )
        cold_times = [s for r in cold["replan_s"] for s in r]
        times.extend(replans)
        off, on = share.loc[False, "follows_template"], share.loc[True, "follows_template"]
        rows.append(
            {
                "template": template.arc.value,
                "genre": genre,
                "players": runs,
                "on arc (as planned)": off,
                "on arc (re-planning)": on,
                "ratio": on / off if off else float("inf"),
                "deviations/player": share.loc[True, "deviations"],
                "replans": len(replans),
                "median replan ms": 1000 * float(np.median(replans)) if replans else 0.0,
                "cold ms": 1000 * float(np.median(cold_times)) if cold_times else 0.0,
                "wall s": elapsed,
            }
        )
    return pd.DataFrame(rows), np.array(times)


def main() -> None:
    """Parse the options, run, print the table and the re-plan times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="players per template")
    parser.add_argument("--seed", type=int, default=0, help="the players' seed")
    parser.add_argument("--candidates", type=int, default=1, help="candidate rests per replan")
    args = parser.parse_args()
    table, times = run(args.runs, args.seed, args.candidates)
    print(f"python {platform.python_version()} · {os.cpu_count()} cores · seed {args.seed}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    p50, p90 = np.percentile(times, [50, 90]) * 1000
    print(f"\nre-plans: {len(times)}, median {p50:.2f} ms, p90 {p90:.2f} ms")
    worst = table["on arc (re-planning)"].min()
    print(f"lowest share on arc with re-planning: {worst:.3f} (target >= 0.9)")
    print(f"median re-plan {p50:.2f} ms (target < 20 ms)")


if __name__ == "__main__":
    main()
