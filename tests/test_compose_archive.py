"""Composing from an archive bundle: the composer reads it, the CLI recommends a pair."""

import json
from pathlib import Path

import pytest

from storylab import load_bundle, recommend
from storylab.archives import best_pair, extract_world_state
from storylab.cli import main
from storylab.storyteller import StorylineComposer

ARCHIVE = Path(__file__).resolve().parents[1] / "data/archives/labelled/archive-0003.yaml"


def test_composer_reads_a_bundle_like_its_world_state():
    bundle = load_bundle(ARCHIVE)
    composer = StorylineComposer()
    from_bundle = composer.compose("man_in_a_hole", "crime", initial=bundle, seed=3)
    world = extract_world_state(bundle, "crime")
    from_world = composer.compose("man_in_a_hole", "crime", initial=world, seed=3)
    assert from_bundle.to_json() == from_world.to_json()
    assert from_bundle.initial_state.facts  # archive facts reached the plan


def test_best_pair_respects_pins_and_compatibility():
    table = recommend(load_bundle(ARCHIVE))
    top = best_pair(table)
    assert bool(top["compatible"]) and top["rank"] == table[table["compatible"]]["rank"].min()
    assert best_pair(table, genre="crime")["genre"] == "crime"
    with pytest.raises(ValueError, match="no compatible"):
        best_pair(table, template="cinderella", genre="war")


def test_cli_composes_the_recommended_pair(capsys):
    assert main(["compose", "--archive", str(ARCHIVE), "--json"]) == 0
    captured = capsys.readouterr()
    plan = json.loads(captured.out)
    top = best_pair(recommend(load_bundle(ARCHIVE)))
    assert (plan["template"], plan["genre"]) == (top["template"], top["genre"])
    assert "recommended for" in captured.err


def test_cli_needs_template_and_genre_without_archive(capsys):
    assert main(["compose", "--genre", "crime"]) == 2
    assert "--template and --genre are required" in capsys.readouterr().err
    assert main(["compose", "--archive", str(ARCHIVE), "--initial", str(ARCHIVE)]) == 2
