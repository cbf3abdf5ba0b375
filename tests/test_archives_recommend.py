"""Template × genre recommendation, the labelled set, the generator and the CLI."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from storylab import DataError
from storylab.archives import (
    ArchiveBundle,
    TemplateRecommender,
    default_extraction,
    explain,
    load_bundle,
    load_bundles,
    recommend,
)
from storylab.archives.generate import generate_archives, load_spec, write_archives
from storylab.archives.labels import agreement, evaluate, load_labels
from storylab.archives.recommend import TERM_COLUMNS, features
from storylab.cli import main
from storylab.theory import ArcType, genres
from storylab.validation import validate_file

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "data" / "archives" / "generated"
LABELS = ROOT / "data" / "archives" / "labelled" / "labels.yaml"
CONFIG = default_extraction()

DEAD_AT_WAR = {
    "character": {"name": "Ada", "alive": False, "death_cause": "slain in battle"},
    "character-encounter": {
        "encounters": [
            {
                "id": "e1",
                "perspectives": [
                    {"other": "Vex", "sentiment_shift": -0.9, "emotional_impact": 0.9}
                ],
            }
        ]
    },
    "realm-history": {"name": "Varn", "themes": {"war": 1.0}},
}


def test_table_covers_every_pair_ranked_and_the_terms_add_up():
    table = recommend(ArchiveBundle.from_dict(DEAD_AT_WAR))
    assert len(table) == len(ArcType) * len(genres())
    assert tuple(table.columns[: len(TERM_COLUMNS)]) == TERM_COLUMNS
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    compatible = table["compatible"].to_numpy()
    first_incompatible = int(np.argmin(compatible))
    assert compatible[:first_incompatible].all() and not compatible[first_incompatible:].any()
    for part in (table[compatible], table[~compatible]):
        assert np.all(np.diff(part["score"]) <= 0)
    assert compatible.sum() == sum(len(v) for v in CONFIG.recommendation.compatible.values())
    assert set(zip(table["template"], table["genre"], strict=True)) == {
        (t.value, g) for t in ArcType for g in genres()
    }
    terms = table.drop(columns=["rank", "template", "genre", "compatible", "score"])
    np.testing.assert_allclose(terms.sum(axis=1), table["score"], atol=1e-12)
    assert not (terms.to_numpy() == 0).all(axis=0).all()


def test_each_term_is_weight_times_feature():
    bundle = ArchiveBundle.from_dict(DEAD_AT_WAR)
    table = recommend(bundle).set_index(["template", "genre"])
    x = features(bundle, CONFIG)
    rules = CONFIG.recommendation
    row = table.loc[("tragedy", "war")]
    for feature in ("kernel.death", "realm.theme.war", "protagonist.has_nemesis"):
        w = rules.templates[ArcType.TRAGEDY].weights.get(feature, 0.0)
        w += rules.genres["war"].weights.get(feature, 0.0)
        assert row[feature] == pytest.approx(w * x[feature])
    assert row["fit"] == rules.compatible_bonus
    assert table.loc[("cinderella", "war"), "fit"] == rules.incompatible_penalty
    assert x["kernel.death"] == 1.0 and x["kernel.trauma"] == 0.0


def test_sensible_picks_for_clear_archives():
    dead = recommend(ArchiveBundle.from_dict(DEAD_AT_WAR))
    assert dead.iloc[0][["template", "genre"]].tolist() == ["tragedy", "war"]
    lover = {
        "character-personality": {"traits": {"compassionate": 0.9}},
        "character-encounter": {
            "encounters": [
                {
                    "id": f"e{i}",
                    "perspectives": [
                        {"other": "Wren", "sentiment_shift": 0.9, "emotional_impact": 0.8}
                    ],
                }
                for i in range(6)
            ]
        },
        "realm-history": {"name": "Lyre", "themes": {"romance": 0.9}},
    }
    assert recommend(ArchiveBundle.from_dict(lover)).iloc[0][["template", "genre"]].tolist() == [
        "cinderella",
        "love",
    ]


def test_ties_break_by_template_then_genre_order():
    zero = CONFIG.with_params(
        {
            k: 0.0
            for k, v in CONFIG.params().items()
            if k.startswith("recommendation__") and isinstance(v, float)
        }
        | {"recommendation__incompatible_last": False}
    )
    table = recommend(ArchiveBundle.from_dict({}), config=zero)
    assert (table["score"] == 0).all()
    assert table["template"].iloc[0] == "rags_to_riches" and table["genre"].iloc[0] == genres()[0]
    assert table["genre"].iloc[1] == genres()[1]
    allowed = recommend(
        ArchiveBundle.from_dict({}),
        config=zero.with_params({"recommendation__incompatible_last": True}),
    )
    first = [g for g in genres() if g in CONFIG.recommendation.compatible[ArcType.RAGS_TO_RICHES]]
    assert allowed["genre"].iloc[: len(first)].tolist() == first


def test_explain_lists_the_largest_terms_first():
    table = recommend(ArchiveBundle.from_dict(DEAD_AT_WAR))
    terms = explain(table, 1)
    assert terms.name.startswith("tragedy × war")
    assert terms.abs().is_monotonic_decreasing and (terms != 0).all()
    assert terms.sum() == pytest.approx(table["score"].iloc[0])
    assert len(explain(table, 2, top=2)) == 2


def test_weights_come_from_the_config(tmp_path):
    path = tmp_path / "extraction.yaml"
    path.write_text(
        yaml.safe_dump(CONFIG.with_params({"recommendation__genres__horror__bias": 10.0}).params())
    )
    table = TemplateRecommender(path).recommend(ArchiveBundle.from_dict(DEAD_AT_WAR))
    assert table["genre"].iloc[0] == "horror"


def test_labelled_set_is_valid_and_ranked_above_a_floor():
    labels = load_labels(LABELS)
    assert len(labels.labels) >= 40
    folder = LABELS.parent
    assert {lab.archive for lab in labels.labels} == {p.name for p in folder.glob("archive-*.yaml")}
    results = evaluate(LABELS)
    rates = agreement(results)
    # chance is 1/90 for a pair and 1/6 for a template; the floor is far above chance
    assert rates.loc["pair", "top_3"] >= 0.4
    assert rates.loc["template", "top_1"] >= 0.35 and rates.loc["genre", "top_3"] >= 0.6
    assert results["pair_rank"].between(1, 90).all()


def test_bad_labels_are_reported(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text(
        "kind: archive-labels\nversion: 1\nlabels:\n"
        "  - {archive: a.yaml, template: comedy, genre: noir, reason: x}\n"
        "  - {archive: a.yaml, template: tragedy, genre: war, reason: x}\n"
    )
    problems = {p.path: p.expected for p in validate_file(path)}
    assert "labels[0].template" in problems and "known genre" in problems["labels[0].genre"]
    path.write_text(
        "kind: archive-labels\nversion: 1\nlabels:\n  - {archive: a.yaml, "
        "template: tragedy, genre: war, reason: x}\n  - {archive: a.yaml, "
        "template: icarus, genre: war, reason: y}\n"
    )
    with pytest.raises(DataError, match="one label per archive"):
        load_labels(path)


def test_generator_is_seeded_and_independent_of_n():
    a, b = generate_archives(5, seed=3), generate_archives(8, seed=3)
    assert a == b[:5] and a != generate_archives(5, seed=4)
    assert generate_archives(0, seed=1) == []
    with pytest.raises(ValueError):
        generate_archives(-1)


def test_committed_generated_archives_are_the_generator_output():
    bundles = load_bundles(GENERATED)
    assert len(bundles) >= 200
    regenerated = generate_archives(len(bundles), seed=0)
    assert [b.to_dict() for b in bundles] == [
        ArchiveBundle.from_dict(a).to_dict() for a in regenerated
    ]
    assert sum(p.stat().st_size for p in GENERATED.iterdir()) < 5_000_000


def test_generated_archives_cover_the_space():
    bundles = [ArchiveBundle.from_dict(a) for a in generate_archives(200, seed=0)]
    facts = [features(b, CONFIG) for b in bundles]

    def share(pred):
        return np.mean([pred(f, b) for f, b in zip(facts, bundles, strict=True)])

    assert 0.25 < share(lambda f, b: f["protagonist.alive"] == 0) < 0.75
    assert share(lambda f, b: f["protagonist.calm"]) > 0.15
    assert share(lambda f, b: f["protagonist.volatile"]) > 0.15
    history_sizes = [len(b.get("character-history").participations) for b in bundles]
    assert min(history_sizes) == 0 and max(history_sizes) >= 5
    assert share(lambda f, b: f["protagonist.has_nemesis"]) > 0.2
    assert share(lambda f, b: f["protagonist.has_ally"]) > 0.2
    assert len({b.get("realm-history").name for b in bundles}) >= 6
    assert share(lambda f, b: bool(b.unknown_keys)) > 0.05
    assert share(lambda f, b: bool(b.missing_keys)) > 0.05
    for kind in (
        "death",
        "historical_event",
        "trauma",
        "unfinished_business",
        "conflict",
        "deep_bond",
    ):
        assert share(lambda f, b, k=kind: f[f"kernel.{k}"] > 0) > 0.1, kind


def test_bad_generator_spec(tmp_path):
    spec = load_spec().model_dump(mode="json")
    spec["big_five"] = [0.9, 0.1]
    path = tmp_path / "archive-generator.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert "low <= high" in validate_file(path)[0].expected


def test_cli_kernels_text_and_json(capsys):
    path = str(GENERATED / "archive-0003.yaml")
    assert main(["kernels", path, "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "kernels" in out and "recommendation" in out and "death" in out
    assert main(["kernels", path, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["character"] == load_bundle(path).name
    assert len(report["recommendation"]) == 5 and report["recommendation"][0]["rank"] == 1
    assert report["facts"]["protagonist.alive"] is False
    kernels = [k["significance"] for k in report["kernels"]]
    assert kernels == sorted(kernels, reverse=True)


def test_cli_kernels_with_config_and_bad_input(tmp_path, capsys):
    config = tmp_path / "extraction.yaml"
    config.write_text(
        yaml.safe_dump(CONFIG.with_params({"kernels__death__significance": 0.5}).params())
    )
    archive = tmp_path / "a.json"
    archive.write_text(json.dumps({"character": {"name": "A", "alive": False}, "future-key": 1}))
    assert main(["kernels", str(archive), "--config", str(config), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kernels"][0]["significance"] == 0.5
    assert "unknown entry 'future-key': ignored" in report["diagnostics"]
    bad = tmp_path / "a.txt"
    bad.write_text("x")
    assert main(["kernels", str(bad)]) == 2
    assert "an archive file ending in" in capsys.readouterr().err


def test_cli_archives_writes_a_reproducible_set(tmp_path, capsys):
    out = tmp_path / "set"
    assert main(["archives", str(out), "--n", "3", "--seed", "9"]) == 0
    assert "wrote 3 archives" in capsys.readouterr().out
    first = sorted(p.read_text() for p in out.iterdir())
    write_archives(out, 3, seed=9)
    assert sorted(p.read_text() for p in out.iterdir()) == first
    assert all(validate_file(p) == [] for p in out.iterdir())


def test_cli_agreement(capsys):
    assert main(["agreement", str(LABELS)]) == 0
    out = capsys.readouterr().out
    assert "labelled archives" in out and "top_3" in out
    assert main(["agreement", str(LABELS), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["archives"] >= 40 and 0 <= report["agreement"]["pair"]["top_1"] <= 1


TEMPLATES_YAML = ROOT / "storylab" / "data" / "story-templates.yaml"


@pytest.mark.skipif(not TEMPLATES_YAML.exists(), reason="story-templates.yaml not merged yet")
def test_compatibility_matches_the_story_templates():
    templates = yaml.safe_load(TEMPLATES_YAML.read_text())["templates"]
    for entry in templates:
        expected = {g["genre"] for g in entry["compatible_genres"]}
        assert set(CONFIG.recommendation.compatible[ArcType(entry["arc"])]) == expected


def test_incompatible_pairs_can_compete_on_score():
    by_score = CONFIG.with_params({"recommendation__incompatible_last": False})
    bundle = ArchiveBundle.from_dict(DEAD_AT_WAR)
    table = recommend(bundle, config=by_score)
    assert np.all(np.diff(table["score"]) <= 0) and not table["compatible"].all()
    kept = recommend(bundle)
    assert kept["compatible"].iloc[0] and sorted(kept["score"]) == sorted(table["score"])
