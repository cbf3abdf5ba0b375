"""Fitting the recommendation weights to the labelled archives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("storylab.archives")

from storylab import DataError
from storylab.archives import default_extraction, dump_extraction, load_extraction, recommend
from storylab.tuning.extraction import (
    AGREEMENT_COLUMNS,
    agreement,
    cross_validate,
    fit_recommendation,
    load_labelled,
)
from storylab.validation import validate_file

LABELLED = Path(__file__).resolve().parents[1] / "data" / "archives" / "labelled"


@pytest.fixture(scope="module")
def labelled():
    return load_labelled(LABELLED)


def _agreement_by_recommend(data, config) -> dict[str, float]:
    ranks, templates, genres = [], [], []
    for bundle, template, genre in zip(data.bundles, data.templates, data.genres, strict=True):
        table = recommend(bundle, config=config)
        hit = table[(table.template == template) & (table.genre == genre)]
        ranks.append(int(hit["rank"].iloc[0]))
        templates.append(table.template.iloc[0] == template)
        genres.append(table.genre.iloc[0] == genre)
    ranks = np.array(ranks)
    return {
        "top1": float(np.mean(ranks == 1)),
        "top3": float(np.mean(ranks <= 3)),
        "template_top1": float(np.mean(templates)),
        "genre_top1": float(np.mean(genres)),
    }


def test_labels_load(labelled):
    assert len(labelled) >= 40
    assert labelled.names[0] == "archive-0000.yaml"
    assert len(labelled.subset([2, 0])) == 2
    assert labelled.subset([2, 0]).names == (labelled.names[2], labelled.names[0])


def test_agreement_matches_the_recommender(labelled):
    """The tuner's vectorised scores rank exactly as storylab.archives.recommend does."""
    subset = labelled.subset(range(12))
    got = agreement(subset)
    expected = _agreement_by_recommend(subset, default_extraction())
    assert {k: got[k] for k in expected} == expected
    assert 0 < got["log_loss"] < np.log(90)


def test_fit_improves_held_out_agreement(labelled):
    table = cross_validate(labelled, folds=5, seed=0)
    assert list(table.columns) == ["fold", "stage", "n", *AGREEMENT_COLUMNS]
    assert table.n[table.stage == "after"].sum() == len(labelled)
    mean = table.groupby("stage")[list(AGREEMENT_COLUMNS)].mean()
    assert mean.loc["after", "log_loss"] < mean.loc["before", "log_loss"] - 0.05
    assert mean.loc["after", "top1"] > mean.loc["before", "top1"]
    assert mean.loc["after", "genre_top1"] > mean.loc["before", "genre_top1"]


def test_fitted_config_round_trips_and_recommends(labelled, tmp_path):
    train = labelled.subset(range(0, len(labelled), 2))
    fit = fit_recommendation(train)
    assert fit.converged and fit.iterations > 0
    assert fit.after["log_loss"] < fit.before["log_loss"]
    assert fit.config.facts == default_extraction().facts
    assert fit.config.kernels == default_extraction().kernels
    hand = default_extraction().recommendation.templates
    for name, weights in fit.config.recommendation.templates.items():
        assert set(weights.weights) == set(hand[name].weights)  # the hand-set structure
    path = tmp_path / "tuned-extraction.yaml"
    dump_extraction(fit.config, path)
    assert validate_file(path) == []
    assert load_extraction(path) == fit.config
    check = _agreement_by_recommend(train, path)
    assert {k: fit.after[k] for k in check} == check


def test_full_structure_adds_weights(labelled):
    fit = fit_recommendation(labelled.subset(range(10)), structure="full", l2=3.0)
    templates = fit.config.recommendation.templates
    assert all(len(w.weights) > 5 for w in templates.values())
    assert any(len(w.weights) > 0 for w in fit.config.recommendation.genres.values())


def test_bad_labels_and_arguments(labelled, tmp_path):
    (tmp_path / "labels.yaml").write_text(
        "kind: archive-labels\nversion: 1\nlabels:\n"
        "  - {archive: a.yaml, template: spiral, genre: horror, reason: x}\n"
        "  - {archive: b.yaml, template: icarus, genre: opera, reason: y}\n"
    )
    with pytest.raises(DataError) as excinfo:
        load_labelled(tmp_path)
    paths = [p.path for p in excinfo.value.problems]
    assert paths == ["labels[0].template", "labels[1].genre"]
    (tmp_path / "labels.yaml").write_text(
        "kind: archive-labels\nversion: 1\nlabels:\n"
        "  - {archive: a.yaml, template: icarus, genre: horror, reason: x}\n"
        "  - {archive: a.yaml, template: icarus, genre: horror, reason: x}\n"
    )
    with pytest.raises(DataError, match="each archive once"):
        load_labelled(tmp_path)
    (tmp_path / "labels.yaml").write_text(
        "kind: archive-labels\nversion: 1\nlabels:\n"
        "  - {archive: gone.yaml, template: icarus, genre: horror, reason: x}\n"
    )
    with pytest.raises(DataError, match=r"gone\.yaml"):
        load_labelled(tmp_path)
    (tmp_path / "labels.yaml").write_text("kind: archive-labels\nversion: 1\nlabels: []\n")
    with pytest.raises(DataError, match="at least one labelled archive"):
        load_labelled(tmp_path)
    with pytest.raises(ValueError, match="folds"):
        cross_validate(labelled, folds=1)
    with pytest.raises(ValueError, match="l2"):
        fit_recommendation(labelled, l2=0.0)
