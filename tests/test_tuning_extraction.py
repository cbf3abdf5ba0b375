"""Fitting the recommendation weights to the labelled archives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("storylab.archives")

from storylab import DataError
from storylab.archives import default_extraction, dump_extraction, evaluate, load_extraction
from storylab.tuning.extraction import (
    AGREEMENT_COLUMNS,
    agreement,
    cross_validate,
    fit_recommendation,
    load_labelled,
    search_extraction,
)
from storylab.validation import validate_file

LABELS = Path(__file__).resolve().parents[1] / "data" / "archives" / "labelled" / "labels.yaml"


@pytest.fixture(scope="module")
def labelled():
    return load_labelled(LABELS)


def _reference(labels_path, config, names) -> dict[str, float]:
    """Agreement by storylab.archives.evaluate (one recommendation table per archive)."""
    results = evaluate(labels_path, config=config)
    results = results[results.archive.isin(names)]
    return {
        "top1": float(np.mean(results.pair_rank == 1)),
        "top3": float(np.mean(results.pair_rank <= 3)),
        "template_top1": float(np.mean(results.template_rank == 1)),
        "genre_top1": float(np.mean(results.genre_rank == 1)),
    }


def test_labels_load(labelled):
    assert len(labelled) >= 40
    assert labelled.names[0] == "archive-0000.yaml"
    assert len(labelled.subset([2, 0])) == 2
    assert labelled.subset([2, 0]).names == (labelled.names[2], labelled.names[0])


def test_agreement_matches_the_recommender(labelled):
    """The tuner's vectorised scores rank exactly as storylab.archives.recommend does."""
    got = agreement(labelled)
    expected = _reference(LABELS, default_extraction(), labelled.names)
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
    check = _reference(LABELS, path, train.names)
    assert {k: fit.after[k] for k in check} == check


def test_full_structure_adds_weights(labelled):
    fit = fit_recommendation(labelled.subset(range(10)), structure="full", l2=3.0)
    templates = fit.config.recommendation.templates
    assert all(len(w.weights) > 5 for w in templates.values())
    assert any(len(w.weights) > 0 for w in fit.config.recommendation.genres.values())


def test_bad_labels_and_arguments(labelled, tmp_path):
    labels = tmp_path / "labels.yaml"
    labels.write_text(
        "kind: archive-labels\nversion: 1\nlabels:\n"
        "  - {archive: gone.yaml, template: icarus, genre: horror, reason: x}\n"
    )
    with pytest.raises(DataError, match=r"gone\.yaml"):
        load_labelled(labels)
    labels.write_text("kind: archive-labels\nversion: 1\nlabels: []\n")
    with pytest.raises(DataError, match="labels"):
        load_labelled(labels)
    with pytest.raises(ValueError, match="folds"):
        cross_validate(labelled, folds=1)
    with pytest.raises(ValueError, match="l2"):
        fit_recommendation(labelled, l2=0.0)


def test_search_over_extraction_settings(labelled):
    key = "kernels__conflict__min_emotional_impact"
    table = search_extraction(labelled, {key: [0.3, 0.9, 1.5]}, folds=3)
    assert table[f"param_{key}"].tolist() == [0.3, 0.9, 1.5]
    assert table.status.tolist() == ["ok", "ok", "failed"]
    assert "less than or equal to 1" in table.error.iloc[2]
    assert table.log_loss_before.iloc[0] != table.log_loss_before.iloc[1]  # features changed
    direct = (
        cross_validate(labelled, default_extraction().with_params({key: 0.9}), folds=3, seed=0)
        .groupby("stage")["log_loss"]
        .mean()
    )
    assert table.log_loss_after.iloc[1] == pytest.approx(direct["after"])
