"""Tune position estimation: how many actions a story of a template and genre will take.

While a storyline is composed, its position is estimated as ticks done over an estimated
total (``StoryProgress``), starting from the template's default action count times the
genre's pacing multiplier. When stories run longer or shorter than that, the estimate is
off and phases hit their position ceilings (forced advances).

:func:`simulate_progress` replays the estimator over a story's real phase lengths, taken
from composed plans and stretched at random (each phase runs ``e^N(0, σ)`` times as long),
and scores the estimate against the position known at the end. :func:`tune_position`
fits the genre multipliers and default counts to such stories: bounded least squares on
the log of the action count each story needed (``log count ≈ log default[template] +
log multiplier[genre]``) with a pull towards the packaged values, and reports the error
and forced-advance rate before and after on held-out stories.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field, model_validator
from scipy.optimize import lsq_linear

from storylab._data import Frozen
from storylab.storyteller import (
    StorylinePlan,
    StoryProgress,
    compose,
    planning_config,
    template_library,
)
from storylab.theory import genres, pacing_multiplier
from storylab.tuning.costs import Case

__all__ = [
    "PositionEstimation",
    "PositionTuning",
    "Story",
    "compose_stories",
    "simulate_progress",
    "stretch",
    "tune_position",
]


#: Bounds of a profile's numbers (a 1e308 multiplier would overflow the action count).
MAX_MULTIPLIER = 100.0
MAX_DEFAULT_ACTIONS = 10_000


class PositionEstimation(Frozen):
    """Genre pacing multipliers and template default action counts (missing = packaged)."""

    profile_name: ClassVar[str] = "position-estimation"

    genre_multipliers: dict[str, float] = Field(default_factory=dict)
    default_actions: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_and_positive(self) -> PositionEstimation:
        unknown = sorted(set(self.genre_multipliers) - set(genres()))
        unknown += sorted(set(self.default_actions) - set(template_library().names))
        if unknown:
            raise ValueError(f"known genres and template names (got {unknown})")
        if any(not 0 < m <= MAX_MULTIPLIER for m in self.genre_multipliers.values()):
            raise ValueError(f"multipliers above 0 and at most {MAX_MULTIPLIER:g}")
        if any(not 1 <= n <= MAX_DEFAULT_ACTIONS for n in self.default_actions.values()):
            raise ValueError(f"default action counts from 1 to {MAX_DEFAULT_ACTIONS}")
        return self

    def multiplier(self, genre: str) -> float:
        """The pacing multiplier of ``genre``."""
        return self.genre_multipliers.get(genre, pacing_multiplier(genre))

    def default(self, template: str) -> int:
        """The default action count of ``template``."""
        tpl = template_library().get(template)
        return self.default_actions.get(tpl.name, tpl.default_action_count)

    def actions_for(self, template: str, genre: str) -> int:
        """The action count to request: default × multiplier, rounded, within the range."""
        lo, hi = template_library().get(template).action_count_range
        wanted = max(1, math.floor(self.default(template) * self.multiplier(genre) + 0.5))
        return min(hi, max(lo, wanted))


@dataclass(frozen=True)
class Story:
    """A story's shape for the estimator: its template, genre, and ticks per phase action."""

    template: str
    genre: str
    phase_ticks: tuple[tuple[int, ...], ...]


def _story(plan: StorylinePlan) -> Story:
    config = planning_config()
    ticks = tuple(
        tuple(config.ticks(a.narrative_effect.position_advance) for a in phase.actions)
        for phase in plan.phases
    )
    return Story(plan.template.value, plan.genre, ticks)


def compose_stories(cases: Sequence[Case]) -> list[Story]:
    """Compose each case with the packaged settings and keep its phase lengths."""
    return [_story(compose(c.template, c.genre, seed=c.seed)) for c in cases]


def stretch(story: Story, sigma: float, rng: np.random.Generator) -> Story:
    """The story with each phase running ``e^N(0, sigma)`` times as long (at least 1 action)."""
    phases = []
    for ticks in story.phase_ticks:
        n = max(1, round(len(ticks) * float(np.exp(rng.normal(0.0, sigma)))))
        source = ticks or (planning_config().ticks("standard"),)
        phases.append(tuple(source[i % len(source)] for i in range(n)))
    return Story(story.template, story.genre, tuple(phases))


def simulate_progress(story: Story, target_actions: int) -> dict[str, float]:
    """Replay the position estimator over ``story`` with an initial estimate of
    ``target_actions``; score it against the position known once the story is complete.

    Returns the mean and largest absolute position error, the share of phases that end at
    or past their position ceiling (forced advances), and the actions the story took.
    """
    template = template_library().get(story.template)
    progress = StoryProgress(target_actions)
    estimates, done, forced = [], [], 0
    for index, (phase, ticks) in enumerate(zip(template.phases, story.phase_ticks, strict=True)):
        progress.on_phase_generated(
            template.phases[index - 1].transition.position_floor if index else 0.0
        )
        for tick in ticks:
            progress.on_action_completed(tick)
            estimates.append(progress.position)
            done.append(progress.ticks_done)
        forced += progress.ticks_done / progress.total_ticks >= phase.transition.position_ceiling
        progress.on_phase_completed()
    error = np.abs(np.array(estimates) - np.array(done) / progress.ticks_done)
    return {
        "position_error": float(error.mean()),
        "position_error_max": float(error.max()),
        "forced_advance_rate": forced / len(template.phases),
        "actions": float(progress.ticks_done / progress.config.ticks_per_action),
    }


def _score(stories: Sequence[Story], estimation: PositionEstimation) -> pd.DataFrame:
    rows = [
        {"template": s.template, "genre": s.genre}
        | simulate_progress(s, estimation.actions_for(s.template, s.genre))
        for s in stories
    ]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PositionTuning:
    """The result of :func:`tune_position`: the tuned estimation and before/after scores."""

    estimation: PositionEstimation
    scores: pd.DataFrame
    per_story: pd.DataFrame


def tune_position(
    train: Sequence[Story],
    test: Sequence[Story],
    *,
    sigma: float = 0.3,
    draws: int = 4,
    pull: float = 0.5,
    seed: int | np.random.Generator | None = 0,
) -> PositionTuning:
    """Fit multipliers and default counts to stretched training stories; score on held-out.

    Each story is stretched ``draws`` times (``sigma``: spread of the log stretch; 0 keeps
    the composed lengths). ``pull`` weighs the packaged values against the data (0 = data
    only). Multipliers stay within [0.5, 2]; default counts within their template's range.
    """
    if not train or not test:
        raise ValueError("need at least one training and one held-out story")
    if sigma < 0 or draws < 1 or pull < 0:
        raise ValueError("need sigma >= 0, draws >= 1 and pull >= 0")
    rng = np.random.default_rng(seed)
    fit_on = [stretch(s, sigma, rng) for s in train for _ in range(draws)]
    check_on = [stretch(s, sigma, rng) for s in test for _ in range(draws)]
    packaged = PositionEstimation()
    names = template_library().names
    all_genres = genres()
    rows, target = [], []
    for story in fit_on:
        row = np.zeros(len(names) + len(all_genres))
        row[names.index(story.template)] = 1.0
        row[len(names) + all_genres.index(story.genre)] = 1.0
        rows.append(row)
        ticks = sum(sum(p) for p in story.phase_ticks)
        target.append(math.log(ticks / planning_config().ticks_per_action))
    prior = np.log(
        [packaged.default(t) for t in names] + [packaged.multiplier(g) for g in all_genres]
    )
    a = np.vstack([np.array(rows), math.sqrt(pull) * np.eye(len(prior))])
    b = np.concatenate([target, math.sqrt(pull) * prior])
    ranges = [template_library().get(t).action_count_range for t in names]
    lower = np.log([lo for lo, _ in ranges] + [0.5] * len(all_genres))
    upper = np.log([hi for _, hi in ranges] + [2.0] * len(all_genres))
    solution = lsq_linear(a, b, bounds=(lower, upper)).x
    seen_t = {s.template for s in train}
    seen_g = {s.genre for s in train}
    tuned = PositionEstimation(
        default_actions={
            t: round(float(np.exp(v))) for t, v in zip(names, solution, strict=False) if t in seen_t
        },
        genre_multipliers={
            g: round(float(np.exp(v)), 4)
            for g, v in zip(all_genres, solution[len(names) :], strict=True)
            if g in seen_g
        },
    )
    per_story = pd.concat(
        [
            _score(stories, est).assign(split=split, stage=stage)
            for split, stories in (("train", fit_on), ("test", check_on))
            for stage, est in (("before", packaged), ("after", tuned))
        ],
        ignore_index=True,
    )
    metrics = ["position_error", "position_error_max", "forced_advance_rate", "actions"]
    scores = per_story.groupby(["split", "stage"], sort=False)[metrics].mean().reset_index()
    return PositionTuning(tuned, scores, per_story)
