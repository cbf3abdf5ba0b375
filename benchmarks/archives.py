"""Archive extraction and recommendation throughput, storylab beside references, one run.

Usage::

    python benchmarks/archives.py               # the 200 archives in data/archives/generated
    python benchmarks/archives.py --n 40 --repeats 2       # quick

Over the same archives (already parsed into bundles; file reading is timed on its own):

* **extract**: world state (facts + narrative state) per archive with one
  ``ArchiveExtractor``, against a *naive* reference that re-reads ``extraction.yaml``
  for every archive (what a caller without a cached config pays), and a *plain-dict*
  reference that computes only the seed's six facts straight from the raw dicts (the floor
  for any extractor; it knows nothing of rules, defaults or narrative state);
* **kernels**: ``extract_kernels`` per archive;
* **recommend**: the ranked, explained 6 × 15 table per archive with one
  ``TemplateRecommender``, against a *naive* reference that rebuilds the recommender
  (re-reading the config) per archive, and a *loop* reference that scores the 90 pairs
  with Python dict look-ups and sorts them, without building a table.

Ratios are reference time / storylab time (above 1: storylab is faster).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from storylab._data import packaged_path
from storylab.archives import (
    ArchiveExtractor,
    TemplateRecommender,
    extract_kernels,
    load_bundles,
    load_extraction,
)
from storylab.archives.bundle import ArchiveBundle
from storylab.archives.config import ExtractionConfig
from storylab.archives.recommend import features
from storylab.theory import genres

ROOT = Path(__file__).resolve().parents[1]
GENRE = "thriller"


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def plain_dict_facts(raw: dict, config: ExtractionConfig) -> dict[str, object]:
    """The seed's six facts from raw archive dicts, thresholds taken from ``config``."""
    facts = config.facts
    traits = (raw.get("character-personality") or {}).get("traits", {})
    history = raw.get("character-history") or {}
    backstory = history.get("backstory") or {}
    sentiments: dict[str, list[float]] = {}
    for e in (raw.get("character-encounter") or {}).get("encounters", []):
        for p in e["perspectives"]:
            sentiments.setdefault(p["other"], []).append(p["sentiment_shift"])
    means = [sum(v) / len(v) for v in sentiments.values()]
    victories = [v["significance"] for v in history.get("victories", [])]
    return {
        "protagonist.trait.confrontational": traits.get("confrontational", 0.0)
        >= facts["protagonist.trait.confrontational"].threshold,
        "protagonist.trait.cautious": traits.get("cautious", 0.0)
        >= facts["protagonist.trait.cautious"].threshold,
        "protagonist.has_nemesis": min(means, default=0.0)
        <= facts["protagonist.has_nemesis"].threshold,
        "protagonist.has_ally": max(means, default=0.0) >= facts["protagonist.has_ally"].threshold,
        "protagonist.experienced_trauma": bool(backstory.get("trauma")),
        "protagonist.achieved_victory": max(victories, default=0.0)
        >= facts["protagonist.achieved_victory"].threshold,
    }


def loop_recommend(bundle: ArchiveBundle, config: ExtractionConfig) -> list[tuple]:
    """Score the 90 pairs with dict look-ups and sort them (no contributions table)."""
    x = features(bundle, config)
    rules = config.recommendation
    scored = []
    for template, tw in rules.templates.items():
        t_score = tw.bias + sum(w * x.get(f, 0.0) for f, w in tw.weights.items())
        for genre in genres():
            gw = rules.genres.get(genre)
            g_score = gw.bias + sum(w * x.get(f, 0.0) for f, w in gw.weights.items()) if gw else 0
            fit = (
                rules.compatible_bonus
                if genre in rules.compatible[template]
                else rules.incompatible_penalty
            )
            suits = genre in rules.compatible[template]
            last = rules.incompatible_last and not suits
            scored.append((last, -(t_score + g_score + fit), template.value, genre))
    return sorted(scored)


def run(n: int, repeats: int) -> pd.DataFrame:
    """Time every variant over the first ``n`` generated archives."""
    paths = sorted((ROOT / "data" / "archives" / "generated").glob("archive-*.yaml"))[:n]
    load_s = best_time(lambda: load_bundles(paths), repeats)
    bundles = load_bundles(paths)
    raws = [b.to_dict() for b in bundles]
    config_path = packaged_path("extraction.yaml")
    config = load_extraction(config_path)
    extractor = ArchiveExtractor(config)
    recommender = TemplateRecommender(config)

    timings = {
        ("load", "storylab: read + validate files", None): load_s,
        ("extract", "storylab", "storylab"): best_time(
            lambda: [extractor.world_state(b, GENRE) for b in bundles], repeats
        ),
        ("extract", "naive: re-read config per archive", "storylab"): best_time(
            lambda: [ArchiveExtractor(config_path).world_state(b, GENRE) for b in bundles],
            repeats,
        ),
        ("extract", "plain dict: six facts only", "storylab"): best_time(
            lambda: [plain_dict_facts(r, config) for r in raws], repeats
        ),
        ("kernels", "storylab", None): best_time(
            lambda: [extract_kernels(b, config=config) for b in bundles], repeats
        ),
        ("recommend", "storylab", "storylab"): best_time(
            lambda: [recommender.recommend(b) for b in bundles], repeats
        ),
        ("recommend", "naive: rebuild recommender per archive", "storylab"): best_time(
            lambda: [TemplateRecommender(config_path).recommend(b) for b in bundles], repeats
        ),
        ("recommend", "loop: dict scoring, no table", "storylab"): best_time(
            lambda: [loop_recommend(b, config) for b in bundles], repeats
        ),
    }
    rows = []
    for (task, variant, _), seconds in timings.items():
        own = timings.get((task, "storylab", "storylab"))
        rows.append(
            {
                "task": task,
                "variant": variant,
                "archives/s": round(len(bundles) / seconds, 1),
                "ms/archive": round(1000 * seconds / len(bundles), 3),
                "reference/storylab": (
                    round(seconds / own, 2) if own is not None and variant != "storylab" else None
                ),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    """Parse flags, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="archives to use (default 200)")
    parser.add_argument("--repeats", type=int, default=3, help="best of how many runs")
    args = parser.parse_args()
    table = run(args.n, args.repeats)
    print(f"{args.n} archives, best of {args.repeats} runs, genre {GENRE}")
    print(table.to_string(index=False, na_rep="-"))


if __name__ == "__main__":
    main()
