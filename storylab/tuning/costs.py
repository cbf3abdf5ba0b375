"""Tune action costs so composed storylines follow their arcs.

The planner finds the cheapest actions that reach each phase's target, so the costs decide
*how* a story gets there: in a few big swings or many small steps, through conflict or
through relationships. :class:`ActionCosts` scales every action's packaged cost by a factor
per category (a handful of numbers a designer can read, instead of one per action);
:func:`tune_action_costs` searches the log-factors (bounded) with ``scipy.optimize`` (Nelder-Mead)
to minimise the mean trajectory RMSE against the template arcs on training cases (template,
genre, seed, and optionally an archive to start from), with incomplete plans penalised,
and reports the same objective on held-out cases.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field, field_validator
from scipy.optimize import minimize

from storylab._data import Frozen
from storylab.archives import ArchiveBundle, extract_world_state, load_bundle
from storylab.storyteller import ActionCategory, StoryAction, StorylineComposer, template_library
from storylab.tuning.objectives import PLAN_METRICS, plan_metrics, trajectory_on_grid
from storylab.tuning.progress import progress_bar
from storylab.tuning.sweep import sweep

__all__ = [
    "ActionCosts",
    "Case",
    "CostTuning",
    "compose_case",
    "cost_objective",
    "evaluate_costs",
    "make_cases",
    "tune_action_costs",
]


#: The largest cost factor a profile may hold (larger ones overflow summed plan costs).
MAX_SCALE = 1000.0


class ActionCosts(Frozen):
    """Per-category factors on the packaged action costs; usable as the composer's ``costs``.

    >>> from storylab.storyteller import StorylineComposer
    >>> composer = StorylineComposer(costs=ActionCosts(scale={"conflict": 1.5}))
    """

    profile_name: ClassVar[str] = "action-costs"

    scale: dict[ActionCategory, float] = Field(default_factory=dict)

    @field_validator("scale")
    @classmethod
    def _positive(cls, scale: dict[ActionCategory, float]) -> dict[ActionCategory, float]:
        bad = {k.value: v for k, v in scale.items() if not 0 < v <= MAX_SCALE}
        if bad:
            raise ValueError(f"factors above 0 and at most {MAX_SCALE:g} (got {bad})")
        return {c: scale[c] for c in ActionCategory if c in scale}

    def __call__(self, action: StoryAction) -> float:
        """The cost of ``action`` under these factors."""
        return action.cost * self.scale.get(action.category, 1.0)


class Case(Frozen):
    """One composition to score: a template, a genre, a seed, and optionally an archive
    file whose world state the story starts from."""

    template: str
    genre: str
    seed: int = Field(ge=0)
    archive: str | None = None


def make_cases(
    seeds: int = 1,
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
    every: int = 1,
    archives: Sequence[str | Path] = (),
) -> list[Case]:
    """Cases for every ``every``-th supported (template, genre) pair, ``seeds`` seeds each;
    with ``archives``, case ``i`` starts from archive ``i`` (cycling through them)."""
    chosen = list(pairs if pairs is not None else template_library().pairs())[::every]
    cases = [(t, g, s) for s in range(seeds) for t, g in chosen]
    names = [str(a) for a in archives]
    return [
        Case(template=t, genre=g, seed=s, archive=names[i % len(names)] if names else None)
        for i, (t, g, s) in enumerate(cases)
    ]


@functools.lru_cache(maxsize=256)
def _bundle(path: str) -> ArchiveBundle:
    return load_bundle(path)


def compose_case(
    template: str,
    genre: str,
    seed: int,
    costs: ActionCosts | None = None,
    urgency: str = "medium",
    actions: int | None = None,
    trajectory_points: int = 0,
    archive: str | None = None,
) -> dict[str, float]:
    """Compose one storyline (from ``archive``'s world state when given); return its
    :func:`~storylab.tuning.objectives.plan_metrics` and, when ``trajectory_points`` is
    set, its trajectory on that many story shares."""
    initial = None if archive is None else extract_world_state(_bundle(archive), genre)
    plan = StorylineComposer(costs=costs).compose(
        template, genre, seed=seed, urgency=urgency, actions=actions, initial=initial
    )
    out = plan_metrics(plan)
    if trajectory_points:
        out |= trajectory_on_grid(plan, trajectory_points)
    return out


def cost_objective(metrics: pd.DataFrame, *, failure_penalty: float = 0.5) -> float:
    """Mean trajectory RMSE, plus ``failure_penalty`` per incomplete plan (on average)."""
    return float(metrics["fit_rmse"].mean() + failure_penalty * (1.0 - metrics["complete"].mean()))


def evaluate_costs(
    costs: ActionCosts | None, cases: Sequence[Case], *, executor: Executor | None = None
) -> pd.DataFrame:
    """Compose every case under ``costs``: one row per case, its template, genre, seed and
    :func:`~storylab.tuning.objectives.plan_metrics`.

    Runs in this process, or as a :func:`~storylab.tuning.sweep` on ``executor``.
    """
    scale = {} if costs is None else costs.model_dump(mode="json")["scale"]
    runs = [
        {"template": c.template, "genre": c.genre, "case_seed": c.seed}
        | {"archive": c.archive, "scale": scale}
        for c in cases
    ]
    if executor is None:
        metrics = pd.DataFrame([_compose_config_case(**run) for run in runs])
    else:
        table = sweep(_compose_config_case, runs, executor=executor, progress=False, seed=0)
        failed = table[table.status != "ok"]
        if len(failed):
            raise RuntimeError(f"composition failed: {failed.error.iloc[0]}")
        metrics = table[list(PLAN_METRICS)]
    keys = pd.DataFrame([c.model_dump() for c in cases])
    return pd.concat([keys, metrics.reset_index(drop=True)], axis=1)


def _compose_config_case(
    template: str, genre: str, case_seed: int, archive: str | None, scale: dict[str, float]
) -> dict[str, float]:
    costs = ActionCosts.model_validate({"scale": scale})
    return compose_case(template, genre, case_seed, costs, archive=archive)


@dataclass(frozen=True)
class CostTuning:
    """The result of :func:`tune_action_costs`.

    Attributes
    ----------
    costs
        The tuned factors (save with :func:`~storylab.tuning.save_profile`).
    scores
        Objective and mean metrics, before and after, on the training and held-out cases.
    history
        One row per objective evaluation: the factors tried and the training objective.
    """

    costs: ActionCosts
    scores: pd.DataFrame
    history: pd.DataFrame


def _summary(metrics: pd.DataFrame, penalty: float) -> dict[str, float]:
    cols = ["fit_rmse", "fit_corr", "complete", "planner_failures", "core_coverage", "cost"]
    return {"objective": cost_objective(metrics, failure_penalty=penalty)} | {
        c: float(metrics[c].mean()) for c in cols
    }


def tune_action_costs(
    train: Sequence[Case],
    test: Sequence[Case],
    *,
    start: ActionCosts | None = None,
    bound: float = 1.0,
    step: float = 0.1,
    first_step: float = 0.5,
    max_evaluations: int = 60,
    failure_penalty: float = 0.5,
    executor: Executor | None = None,
    callback: Callable[[dict[str, float]], None] | None = None,
    progress: bool | None = None,
) -> CostTuning:
    """Search per-category cost factors in ``[e^-bound, e^bound]`` that minimise
    :func:`cost_objective` on ``train``; score before and after on ``train`` and ``test``.

    Nelder-Mead (bounded, from a simplex that lowers each factor by ``e^-first_step`` in
    turn, so the first evaluations try every category) on log factors snapped to a grid of
    ``step``: the objective is piecewise constant in the costs (a plan changes only when
    the cheapest path does), and finer changes only reshuffle plans of equal cost. It needs
    no gradient, is deterministic, and stops after ``max_evaluations`` distinct factor
    sets; the best set seen is returned. The start is scored as given, even off the grid,
    so the tuned costs never fit the training cases worse than the start. A progress bar
    counts the evaluations (``progress``: see :func:`~storylab.tuning.progress.show_progress`).
    """
    if not train or not test:
        raise ValueError("need at least one training and one held-out case")
    categories = list(ActionCategory)
    base = ActionCosts(scale={c: (start or ActionCosts()).scale.get(c, 1.0) for c in categories})
    x0 = np.log(list(base.scale.values()))
    if np.any(np.abs(x0) > bound):
        raise ValueError(f"start factors must lie within e^±{bound}")
    history: list[dict[str, float]] = []
    seen: dict[tuple[float, ...], float] = {}

    def costs_at(x: np.ndarray) -> ActionCosts:
        if np.array_equal(x, x0):  # the start as given (off the grid, maybe): never lose it
            return base
        # log factors on a grid of ``step``: finer changes only reshuffle equal-cost plans
        snapped = np.clip(np.round(np.asarray(x) / step) * step, -bound, bound)
        return ActionCosts(
            scale={c: round(float(np.exp(v)), 4) for c, v in zip(categories, snapped, strict=True)}
        )

    bar = progress_bar(
        progress=progress, total=max_evaluations, desc="tune_action_costs", unit="evaluation"
    )

    def objective(x: np.ndarray) -> float:
        costs = costs_at(x)
        key = tuple(costs.scale.values())
        if key not in seen:
            seen[key] = cost_objective(
                evaluate_costs(costs, train, executor=executor), failure_penalty=failure_penalty
            )
            row = {c.value: costs.scale[c] for c in categories} | {"objective": seen[key]}
            history.append(row)
            bar.set_postfix(objective=f"{seen[key]:.4f}", refresh=False)
            if callback is not None:
                callback(row)
        bar.update()
        return seen[key]

    simplex = np.vstack([x0, x0 - first_step * np.eye(len(categories))])
    with bar:
        minimize(
            objective,
            x0,
            method="Nelder-Mead",
            bounds=[(-bound, bound)] * len(categories),
            options={"maxfev": max_evaluations, "initial_simplex": simplex, "xatol": step},
        )
    best = min(history, key=lambda r: r["objective"])
    tuned = ActionCosts(scale={c: best[c.value] for c in categories})
    scores = pd.DataFrame(
        [
            {
                "split": split,
                "stage": stage,
                **_summary(evaluate_costs(c, cases, executor=executor), failure_penalty),
            }
            for split, cases in (("train", train), ("test", test))
            for stage, c in (("before", base), ("after", tuned))
        ]
    )
    return CostTuning(tuned, scores, pd.DataFrame(history))
