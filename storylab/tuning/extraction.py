"""Fit the template-recommendation weights to hand-labelled archives.

The recommender scores every template × genre pair linearly (``storylab.archives.recommend``):
``template bias + genre bias + fit + sum over features (w_template + w_genre) × x``. Read as
a softmax over the pairs, that is a multinomial logistic model of which pair a designer
would choose, so its weights can be fitted to labels by maximum likelihood: here with
L-BFGS (``scipy.optimize``), an L2 pull towards the hand-set weights (so 45 labels refine
the designer's judgement rather than replace it), and only the weights the hand-set config
already has (``structure="hand"``) or every template and genre on every feature it uses
(``structure="full"``). :func:`cross_validate` measures agreement with the labels on
held-out folds before and after; :func:`fit_recommendation` writes the fitted config in the
extraction-config format, which ``load_extraction`` and ``storylab kernels --config`` read.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import log_softmax

from storylab.archives import (
    ArchiveBundle,
    ExtractionConfig,
    default_extraction,
    load_bundle,
    load_labels,
)
from storylab.archives.recommend import features
from storylab.theory import ArcType, genres
from storylab.tuning.sweep import sweep

__all__ = [
    "AGREEMENT_COLUMNS",
    "LabelledArchives",
    "RecommendationFit",
    "agreement",
    "cross_validate",
    "fit_recommendation",
    "load_labelled",
    "search_extraction",
]

#: The agreement measures, in the order tables show them.
AGREEMENT_COLUMNS = ("top1", "top3", "template_top1", "genre_top1", "log_loss")


@dataclass(frozen=True)
class LabelledArchives:
    """Archives with their labels, in the labels file's order."""

    names: tuple[str, ...]
    bundles: tuple[ArchiveBundle, ...]
    templates: tuple[str, ...]
    genres: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, rows: Sequence[int] | NDArray[np.integer]) -> LabelledArchives:
        """The archives at ``rows``."""
        pick = [int(i) for i in rows]
        return LabelledArchives(
            tuple(self.names[i] for i in pick),
            tuple(self.bundles[i] for i in pick),
            tuple(self.templates[i] for i in pick),
            tuple(self.genres[i] for i in pick),
        )


def load_labelled(labels_path: str | Path) -> LabelledArchives:
    """Read a labels file (``kind: archive-labels``) and the archives it names (same folder).

    Raises
    ------
    DataError
        A bad labels file, or a listed archive that fails to load.
    """
    folder = Path(labels_path).parent
    labels = load_labels(labels_path).labels
    return LabelledArchives(
        tuple(label.archive for label in labels),
        tuple(load_bundle(folder / label.archive) for label in labels),
        tuple(label.template.value for label in labels),
        tuple(label.genre for label in labels),
    )


class _LinearRecommender:
    """The recommender's score as arrays: biases and weights packed in one vector."""

    def __init__(self, config: ExtractionConfig, structure: Literal["hand", "full"]):
        rules = config.recommendation
        self.config = config
        self.templates = tuple(t.value for t in ArcType)
        self.genres = genres()
        tables = [(rules.templates, self.templates), (rules.genres, self.genres)]
        used = sorted({f for table, _ in tables for w in table.values() for f in w.weights})
        self.features = tuple(used)
        index = {f: i for i, f in enumerate(used)}
        blocks, masks = [], []
        for table, names in tables:
            bias = np.zeros(len(names))
            weights = np.zeros((len(names), len(used)))
            mask = np.full(weights.shape, structure == "full")
            for row, name in enumerate(names):
                if name in table:
                    bias[row] = table[name].bias  # type: ignore[index]
                    for feature, w in table[name].weights.items():  # type: ignore[index]
                        weights[row, index[feature]] = w
                        mask[row, index[feature]] = True
            blocks += [bias, weights.ravel()]
            masks += [np.ones(len(names), bool), mask.ravel()]
        self.theta0 = np.concatenate(blocks)
        self.free = np.concatenate(masks)
        compatible = np.array([[g in rules.compatible[t] for g in self.genres] for t in ArcType])
        self.fit = np.where(compatible, rules.compatible_bonus, rules.incompatible_penalty)
        #: Rank key added before the score: 1 for pairs sorted after every allowed pair.
        self.last = (~compatible).ravel() if rules.incompatible_last else np.zeros(compatible.size)

    def unpack(self, theta: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        nt, ng, nf = len(self.templates), len(self.genres), len(self.features)
        cuts = np.cumsum([nt, nt * nf, ng])
        tb, tw, gb, gw = np.split(theta, cuts)
        return tb, tw.reshape(nt, nf), gb, gw.reshape(ng, nf)

    def matrix(self, data: LabelledArchives) -> NDArray[np.float64]:
        rows = [features(b, self.config) for b in data.bundles]
        return np.array([[row.get(f, 0.0) for f in self.features] for row in rows])

    def targets(self, data: LabelledArchives) -> NDArray[np.intp]:
        t = [self.templates.index(x) for x in data.templates]
        g = [self.genres.index(x) for x in data.genres]
        return np.array(t) * len(self.genres) + np.array(g)

    def scores(self, theta: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
        """``(archives, templates × genres)`` scores, template-major like the recommender."""
        tb, tw, gb, gw = self.unpack(theta)
        s = (x @ tw.T)[:, :, None] + (x @ gw.T)[:, None, :] + tb[:, None] + gb + self.fit
        return s.reshape(len(x), -1)

    def loss(
        self, theta: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.intp], l2: float
    ) -> tuple[float, NDArray[np.float64]]:
        """Mean cross-entropy plus ``l2/2 ‖θ − θ₀‖²``, and its gradient (zero for the weights
        held fixed); see :meth:`log_probabilities`."""
        n, nt, ng = len(x), len(self.templates), len(self.genres)
        logp = self.log_probabilities(self.scores(theta, x), y)
        delta = np.exp(logp)
        delta[np.arange(n), y] -= 1.0
        delta = delta.reshape(n, nt, ng) / n
        by_t, by_g = delta.sum(axis=2), delta.sum(axis=1)
        grad = np.concatenate(
            [by_t.sum(0), (by_t.T @ x).ravel(), by_g.sum(0), (by_g.T @ x).ravel()]
        )
        diff = theta - self.theta0
        value = -logp[np.arange(n), y].mean() + 0.5 * l2 * diff @ diff
        return float(value), (grad + l2 * diff) * self.free

    def log_probabilities(
        self, scores: NDArray[np.float64], y: NDArray[np.intp]
    ) -> NDArray[np.float64]:
        """Log softmax of the scores over the pairs ranked in the label's group: with
        ``incompatible_last`` an allowed label competes only with allowed pairs (the others
        rank below it whatever their score), a disallowed one only with disallowed pairs."""
        rival = self.last[None, :] == self.last[y][:, None]
        return log_softmax(np.where(rival, scores, -np.inf), axis=1)

    def to_config(self, theta: NDArray[np.float64]) -> ExtractionConfig:
        tb, tw, gb, gw = self.unpack(theta)
        params: dict[str, float] = {}
        for section, names, bias, weights in (
            ("templates", self.templates, tb, tw),
            ("genres", self.genres, gb, gw),
        ):
            for i, name in enumerate(names):
                params[f"recommendation__{section}__{name}__bias"] = round(float(bias[i]), 6)
                for j, feature in enumerate(self.features):
                    if self.free[self._offset(section, i, j)]:
                        key = f"recommendation__{section}__{name}__weights__{feature}"
                        params[key] = round(float(weights[i, j]), 6)
        return self.config.with_params(params)

    def _offset(self, section: str, row: int, column: int) -> int:
        nt, ng, nf = len(self.templates), len(self.genres), len(self.features)
        if section == "templates":
            return nt + row * nf + column
        return nt + nt * nf + ng + row * nf + column


def agreement(data: LabelledArchives, config: ExtractionConfig | None = None) -> dict[str, float]:
    """How well a config's recommendations agree with the labels.

    ``top1``/``top3``: share of archives whose labelled pair ranks first / in the first
    three (in the recommender's order: pairs the templates allow first when the config says
    ``incompatible_last``, ties in template then genre order); ``template_top1`` /
    ``genre_top1``: share whose best-ranked pair has the labelled template / genre;
    ``log_loss``: mean negative log softmax probability of the labelled pair.
    """
    model = _LinearRecommender(config or default_extraction(), "hand")
    return _agreement(model, model.theta0, model.matrix(data), model.targets(data))


def _agreement(
    model: _LinearRecommender,
    theta: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.intp],
) -> dict[str, float]:
    scores = model.scores(theta, x)
    order = np.argsort(-scores, axis=1, kind="stable")
    # compatible pairs first when the config asks, keeping score order within each group
    order = np.take_along_axis(order, np.argsort(model.last[order], axis=1, kind="stable"), axis=1)
    rank = np.argmax(order == y[:, None], axis=1) + 1
    best = order[:, 0]
    ng = len(model.genres)
    logp = model.log_probabilities(scores, y)[np.arange(len(y)), y]
    return {
        "top1": float(np.mean(rank == 1)),
        "top3": float(np.mean(rank <= 3)),
        "template_top1": float(np.mean(best // ng == y // ng)),
        "genre_top1": float(np.mean(best % ng == y % ng)),
        "log_loss": float(-logp.mean()),
    }


@dataclass(frozen=True)
class RecommendationFit:
    """A fitted config and how the fit went (on the data it was fitted to)."""

    config: ExtractionConfig
    before: dict[str, float]
    after: dict[str, float]
    iterations: int
    converged: bool


def _fit(
    model: _LinearRecommender, x: NDArray[np.float64], y: NDArray[np.intp], l2: float
) -> tuple[NDArray[np.float64], int, bool]:
    if l2 <= 0:
        raise ValueError(f"l2 must be positive (got {l2})")
    result = minimize(model.loss, model.theta0, args=(x, y, l2), jac=True, method="L-BFGS-B")
    return result.x, int(result.nit), bool(result.success)


def fit_recommendation(
    data: LabelledArchives,
    config: ExtractionConfig | None = None,
    *,
    l2: float = 1.0,
    structure: Literal["hand", "full"] = "hand",
) -> RecommendationFit:
    """Fit the recommendation weights of ``config`` (default: the packaged one) to ``data``.

    Only the ``recommendation`` section changes; ``dump_extraction(fit.config, path)`` writes
    a file that loads back equal.
    """
    model = _LinearRecommender(config or default_extraction(), structure)
    x, y = model.matrix(data), model.targets(data)
    theta, iterations, converged = _fit(model, x, y, l2)
    fitted = model.to_config(theta)
    refit = _LinearRecommender(fitted, structure)
    return RecommendationFit(
        fitted,
        _agreement(model, model.theta0, x, y),
        _agreement(refit, refit.theta0, refit.matrix(data), refit.targets(data)),
        iterations,
        converged,
    )


def cross_validate(
    data: LabelledArchives,
    config: ExtractionConfig | None = None,
    *,
    folds: int = 5,
    l2: float = 1.0,
    structure: Literal["hand", "full"] = "hand",
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Agreement on held-out folds, before (the given weights) and after fitting.

    Returns one row per fold and stage (``before``/``after``) with the
    :data:`AGREEMENT_COLUMNS` and the fold's size ``n``.
    """
    if not 2 <= folds <= len(data):
        raise ValueError(f"folds must be between 2 and {len(data)} (got {folds})")
    model = _LinearRecommender(config or default_extraction(), structure)
    x, y = model.matrix(data), model.targets(data)
    order = np.random.default_rng(seed).permutation(len(data))
    rows = []
    for fold, test in enumerate(np.array_split(order, folds)):
        train = np.setdiff1d(order, test)
        theta, _, _ = _fit(model, x[train], y[train], l2)
        for stage, params in (("before", model.theta0), ("after", theta)):
            scores = _agreement(model, params, x[test], y[test])
            rows.append({"fold": fold, "stage": stage, "n": len(test), **scores})
    return pd.DataFrame(rows, columns=["fold", "stage", "n", *AGREEMENT_COLUMNS])


def _cv_setting(
    data: LabelledArchives,
    base: ExtractionConfig,
    folds: int,
    l2: float,
    cv_seed: int,
    **params: object,
) -> dict[str, float]:
    table = cross_validate(data, base.with_params(params), folds=folds, l2=l2, seed=cv_seed)
    means = table.groupby("stage")[list(AGREEMENT_COLUMNS)].mean()
    return {f"{k}_{stage}": float(means.loc[stage, k]) for stage in means.index for k in means}


def search_extraction(
    data: LabelledArchives,
    grid: Mapping[str, Sequence[object]] | Sequence[Mapping[str, object]],
    config: ExtractionConfig | None = None,
    *,
    folds: int = 5,
    l2: float = 1.0,
    seed: int = 0,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Cross-validate the recommendation fit under each extraction setting in ``grid``.

    ``grid`` sets extraction-config leaves by their flat names (``kernels__conflict__
    min_emotional_impact``, ``facts__protagonist.volatile__threshold``): thresholds and
    significances that decide the features, which no gradient reaches. Each setting is one
    :func:`~storylab.tuning.sweep` run (on ``executor``, default a thread) with the same
    folds; the table has the held-out agreement before (``*_before``) and after
    (``*_after``) fitting the weights, so the best setting is the one with the lowest
    ``log_loss_after``. A progress bar counts the settings (``progress``: see
    :func:`~storylab.tuning.progress.show_progress`).
    """
    base = config or default_extraction()
    run = functools.partial(_cv_setting, data, base, folds, l2, seed)
    own = executor is None
    pool = ThreadPoolExecutor(1) if own else executor
    try:
        return sweep(
            run, grid, executor=pool, seed=seed, progress=progress, fn_id="search_extraction"
        )
    finally:
        if own:
            pool.shutdown()
