"""Template × genre recommendation: a ranked, explained table for a bundle.

Every pair of a template (one of the six arcs) and a genre gets a linear score from the
bundle's *features* (its facts as numbers and ``kernel.<type>`` significances) with the
weights in the config's ``recommendation`` section:

``score = template bias + genre bias + fit + sum over features (w_template + w_genre) × x``

The table keeps one column per term, so a designer can read off why a pair ranks where it
does, and the columns add up to ``score``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from storylab.archives.bundle import ArchiveBundle
from storylab.archives.config import ExtractionConfig, default_extraction, resolve_config
from storylab.archives.extract import extract_facts, feature_value
from storylab.archives.kernels import KernelExtractor, KernelType, NarrativeKernel
from storylab.theory import ArcType, genres

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TERM_COLUMNS", "TemplateRecommender", "explain", "features", "recommend"]

#: The columns before the per-feature contributions, in order.
TERM_COLUMNS = (
    "rank",
    "template",
    "genre",
    "compatible",
    "score",
    "template_bias",
    "genre_bias",
    "fit",
)


def features(
    bundle: ArchiveBundle,
    config: ExtractionConfig,
    kernels: list[NarrativeKernel] | None = None,
) -> dict[str, float]:
    """The bundle's features: every fact as a number and ``kernel.<type>`` significances."""
    out = {k: feature_value(v) for k, v in extract_facts(bundle, config).items()}
    found = kernels if kernels is not None else KernelExtractor(config).kernels(bundle)
    for kind in KernelType:
        out[f"kernel.{kind.value}"] = max(
            (k.significance for k in found if k.type is kind), default=0.0
        )
    return out


class TemplateRecommender:
    """Scores template × genre pairs with one config; the weights are laid out once.

    Parameters
    ----------
    config
        A config, a path to a config file, or ``None`` for the packaged one.
    """

    def __init__(self, config: ExtractionConfig | str | Path | None = None):
        self.config = resolve_config(config)
        rules = self.config.recommendation
        self.templates = tuple(ArcType)
        self.genres = genres()
        used = {f for w in rules.templates.values() for f in w.weights}
        used |= {f for w in rules.genres.values() for f in w.weights}
        self.feature_names = tuple(sorted(used))
        index = {f: i for i, f in enumerate(self.feature_names)}

        def matrix(table: dict, names: tuple) -> tuple[np.ndarray, np.ndarray]:
            weights = np.zeros((len(names), len(index)))
            bias = np.zeros(len(names))
            for row, name in enumerate(names):
                if name in table:
                    bias[row] = table[name].bias
                    for feature, w in table[name].weights.items():
                        weights[row, index[feature]] = w
            return weights, bias

        self._tw, self._tb = matrix(rules.templates, self.templates)
        self._gw, self._gb = matrix(rules.genres, self.genres)
        self._compatible = np.array(
            [[g in rules.compatible[t] for g in self.genres] for t in self.templates]
        )
        self._fit = np.where(self._compatible, rules.compatible_bonus, rules.incompatible_penalty)
        self._pair_templates = np.repeat([t.value for t in self.templates], len(self.genres))
        self._pair_genres = np.tile(np.array(self.genres, dtype=object), len(self.templates))

    def recommend(self, bundle: ArchiveBundle) -> pd.DataFrame:
        """One row per template × genre pair, best first, with each term's contribution."""
        import pandas as pd  # imported here so that ``import storylab`` stays light

        found = features(bundle, self.config)
        x = np.array([found.get(f, 0.0) for f in self.feature_names])
        nt, ng = len(self.templates), len(self.genres)
        # contributions[t, g, f] = (w_template[t, f] + w_genre[g, f]) * x[f]
        terms = (self._tw[:, None, :] + self._gw[None, :, :]) * x
        terms = terms.reshape(nt * ng, len(self.feature_names)) + 0.0  # no -0.0 cells
        tb = np.repeat(self._tb, ng)
        gb = np.tile(self._gb, nt)
        fit = self._fit.reshape(-1)
        score = tb + gb + fit + terms.sum(axis=1)
        # by score (compatible pairs first when asked); the stable sort keeps template order,
        # then genre order, among equal keys
        order = np.argsort(-score, kind="stable")
        if self.config.recommendation.incompatible_last:
            order = order[np.argsort(~self._compatible.reshape(-1)[order], kind="stable")]
        numbers = np.column_stack([score, tb, gb, fit, terms])[order]
        table = pd.DataFrame(numbers, columns=[*TERM_COLUMNS[4:], *self.feature_names])
        table.insert(0, "genre", self._pair_genres[order])
        table.insert(0, "template", self._pair_templates[order])
        table.insert(2, "compatible", self._compatible.reshape(-1)[order])
        table.insert(0, "rank", np.arange(1, len(table) + 1))
        return table


@cache
def _default_recommender() -> TemplateRecommender:
    return TemplateRecommender(default_extraction())


def recommend(
    bundle: ArchiveBundle, *, config: ExtractionConfig | str | Path | None = None
) -> pd.DataFrame:
    """The ranked template × genre table for ``bundle`` (see the module docs).

    Columns: ``rank``, ``template``, ``genre``, ``compatible`` (whether the template suits
    the genre), ``score``, ``template_bias``, ``genre_bias``, ``fit``, then one contribution
    column per feature with a weight; the columns from ``template_bias`` on sum to
    ``score``.
    """
    recommender = _default_recommender() if config is None else TemplateRecommender(config)
    return recommender.recommend(bundle)


def best_pair(
    table: pd.DataFrame, *, template: str | None = None, genre: str | None = None
) -> pd.Series:
    """The highest-ranked compatible row of a :func:`recommend` table.

    ``template`` and/or ``genre`` pin that part of the pair; the rest is the recommendation.
    Raises ``ValueError`` when no compatible pair matches.
    """
    rows = table[table["compatible"]]
    if template is not None:
        rows = rows[rows["template"] == template]
    if genre is not None:
        rows = rows[rows["genre"] == genre]
    if rows.empty:
        pinned = ", ".join(f"{k}={v}" for k, v in (("template", template), ("genre", genre)) if v)
        raise ValueError(f"no compatible template × genre pair with {pinned}")
    return rows.sort_values("rank", kind="stable").iloc[0]


def explain(table: pd.DataFrame, rank: int = 1, *, top: int | None = None) -> pd.Series:
    """The non-zero terms of one row of a :func:`recommend` table, largest magnitude first."""
    row = table.loc[table["rank"] == rank].iloc[0]
    terms = row.drop(["rank", "template", "genre", "compatible", "score"]).astype(float)
    terms = terms[terms != 0.0]
    order = np.argsort(-np.abs(terms.to_numpy()), kind="stable")
    terms = terms.iloc[order]
    terms.name = f"{row['template']} × {row['genre']} (score {row['score']:.3f})"
    return terms if top is None else terms.head(top)
