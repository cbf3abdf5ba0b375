"""A/B variants: paired playthroughs, bootstrap intervals, bad variants refused up front."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from storylab._data import DataError
from storylab.tuning.variants import bootstrap_ci, compare_variants
from storylab.world import load_world, vary_world
from storylab.world.montecarlo import playthrough

HARBOR = Path(__file__).resolve().parents[1] / "data" / "worlds" / "harbor-district"


@pytest.fixture(scope="module")
def world():
    return load_world(HARBOR)


def _compare(world, variants, **kw):
    with ThreadPoolExecutor(2) as pool:
        return compare_variants(
            world, variants, runs=6, seed=2, hours=8, executor=pool, progress=False, **kw
        )


def test_identical_variants_give_an_interval_containing_zero(world):
    out = _compare(world, {"a": {}, "b": {}}).set_index(["variant", "metric"])
    b = out.loc["b"]
    assert (b["ci_low"] <= 0).all() and (b["ci_high"] >= 0).all()
    assert (b["diff"] == 0).all()
    assert out.attrs["runs"].shape[0] == 12


def test_a_program_branch_moves_the_metric_it_should(world):
    variants = {"baseline": {}, "rumours": {"interactions.talk.node": "rumor"}}
    out = _compare(world, variants, metrics=["flags_set", "interactions"])
    row = out.set_index(["variant", "metric"]).loc[("rumours", "flags_set")]
    assert row["diff"] > 0 and row["ci_low"] > 0
    assert list(out.columns) == [
        "variant",
        "metric",
        "mean",
        "baseline_mean",
        "diff",
        "ci_low",
        "ci_high",
        "runs",
    ]


def test_runs_are_paired_by_seed(world):
    table = _compare(world, {"a": {}, "b": {}}).attrs["runs"]
    seeds = table.pivot(index="param_replicate", columns="param_variant", values="param_world_seed")
    assert (seeds["a"] == seeds["b"]).all() and seeds["a"].nunique() == 6


def test_bad_variants_are_refused_before_any_run(world):
    with pytest.raises(DataError) as info:
        _compare(
            world,
            {
                "a": {"npcs.captain.personality.extraversion": 2.0},
                "b": {"npcs.kraken.personality.extraversion": 0.5},
            },
        )
    paths = [p.path for p in info.value.problems]
    assert "npcs.kraken.personality.extraversion" in paths
    assert "npcs.captain.personality.extraversion" in paths
    with pytest.raises(ValueError):
        _compare(world, {"a": {}}, baseline="z")
    with pytest.raises(ValueError):
        _compare(world, {})


def test_vary_world_keeps_programs_and_checks_references(world):
    bold = vary_world(world, {"npcs.captain.personality.extraversion": 0.9})
    assert bold.npcs["captain"].personality.extraversion == 0.9
    assert world.npcs["captain"].personality.extraversion == 0.7
    assert set(bold.program_map) == set(world.program_map)
    with pytest.raises(DataError, match="a known location"):
        vary_world(world, {"npcs.captain.home": "moon"})


def test_playthrough_is_seeded(world):
    assert playthrough(world, 4, hours=6) == playthrough(world, 4, hours=6)
    with pytest.raises(ValueError):
        playthrough(world, 4, hours=0)


def test_bootstrap_interval():
    low, high = bootstrap_ci(np.array([1.0, 2.0, 3.0, 4.0]), seed=1)
    assert 1.0 <= low < 2.5 < high <= 4.0
    assert np.isnan(bootstrap_ci(np.array([]))[0])
