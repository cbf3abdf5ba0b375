"""Measure and tune the planner's variety model against arc fit.

:func:`variety_table` composes every (template, genre) case under one variety model and
scores each plan with :func:`~storylab.tuning.objectives.plan_metrics` plus whether
:func:`~storylab.theory.classify_arc` classifies the composed trajectory as its own template;
:func:`tune_variety` does that over a grid of variety parameters and returns one tidy row per
setting: the bars of ``docs/storyteller.md`` (repeat rate, longest run, distinct share,
completeness, arc fit, classification, composition time) side by side.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd
from tqdm.auto import tqdm

from storylab.storyteller import StorylineComposer, planning_config, template_library
from storylab.storyteller.config import PlanningConfig, VarietyModel
from storylab.theory.classify import classify_arc
from storylab.tuning.objectives import plan_metrics

__all__ = ["default_cases", "tune_variety", "variety_table"]


def default_cases(seeds: int = 5) -> list[tuple[str, str, str | None, int]]:
    """Every template x compatible genre (first listed subgenre when limited) x ``seeds``."""
    return [
        (tpl.name, entry.genre, entry.subgenres[0] if entry.subgenres else None, seed)
        for tpl in template_library()
        for entry in tpl.compatible_genres
        for seed in range(seeds)
    ]


def variety_table(
    variety: VarietyModel | Mapping[str, float],
    cases: Iterable[tuple[str, str, str | None, int]] | None = None,
    *,
    config: PlanningConfig | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per composed case: its plan metrics, ``classified`` (as its own template)
    and the composition's wall time ``ms`` (every phase searched, no memo)."""
    model = variety if isinstance(variety, VarietyModel) else VarietyModel(**variety)
    cfg = (config or planning_config()).model_copy(update={"variety": model})
    rows = []
    items = list(cases if cases is not None else default_cases())
    for template, genre, subgenre, seed in tqdm(items, disable=not progress, desc="compose"):
        composer = StorylineComposer(config=cfg, memo=False)
        started = time.perf_counter()
        plan = composer.compose(template, genre, subgenre=subgenre, seed=seed)
        ms = 1000 * (time.perf_counter() - started)
        fit = classify_arc(
            [p.primary for p in plan.trajectory], [p.story_share for p in plan.trajectory]
        )
        best = fit.best.value if fit.best is not None else None
        rows.append(
            {
                "template": template,
                "genre": genre,
                "seed": seed,
                **plan_metrics(plan),
                "classified": float(best == template),
                "ms": ms,
            }
        )
    return pd.DataFrame(rows)


def tune_variety(
    grid: Mapping[str, Sequence[float]],
    cases: Iterable[tuple[str, str, str | None, int]] | None = None,
    *,
    config: PlanningConfig | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per setting of ``grid`` (names of :class:`VarietyModel` fields -> values):
    the mean metrics over ``cases``, the worst plan's repeat rate, longest run and distinct
    share, and the median composition time."""
    items = list(cases if cases is not None else default_cases())
    names = list(grid)
    out = []
    settings = list(itertools.product(*(grid[n] for n in names)))
    for values in tqdm(settings, disable=not progress, desc="variety"):
        setting = dict(zip(names, values, strict=True))
        table = variety_table(setting, items, config=config, progress=False)
        out.append(
            {
                **setting,
                "repeat_rate": table["repeat_rate"].mean(),
                "repeat_rate_max": table["repeat_rate"].max(),
                "longest_run_max": table["longest_run"].max(),
                "distinct_share": table["distinct_share"].mean(),
                "distinct_share_min": table["distinct_share"].min(),
                "complete": table["complete"].mean(),
                "fit_rmse": table["fit_rmse"].mean(),
                "fit_corr": table["fit_corr"].mean(),
                "classified": table["classified"].mean(),
                "median_ms": statistics.median(table["ms"]),
            }
        )
    return pd.DataFrame(out)
