"""Sweeps: tidy tables, seeds by run index, the same table on every executor, bad grids."""

from __future__ import annotations

import functools
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from storylab import DataError
from storylab._data import Frozen
from storylab.theory import ArcType
from storylab.tuning import child_seeds, expand_grid, sweep
from storylab.tuning.grid import function_identity

GRID = {"x": [0.5, -1.0, 2.0], "n": [3, 40]}
#: Arguments of every call of ``noisy`` made in this process (thread pools).
CALLS: list[float] = []


def noisy(x: float, n: int = 5, seed: int = 0) -> dict[str, float]:
    """A seeded, CPU-light function that fails for negative x."""
    CALLS.append(x)
    if x < 0:
        raise ValueError(f"x must be >= 0, got {x}")
    sample = np.random.default_rng(seed).normal(x, 1.0, n)
    return {"mean": float(sample.mean()), "top": np.float64(sample.max()), "n_seen": n}


def no_seed(x: float) -> dict[str, float]:
    return {"double": 2 * x}


def bad_metrics(kind: str) -> object:
    return {
        "list": {"values": [1, 2]},
        "clash": {"status": 1.0},
        "param": {"param_x": 1.0},
        "not-a-dict": 3.0,
    }[kind]


class Knobs(Frozen):
    arc: ArcType = ArcType.TRAGEDY
    scale: float = 1.0
    costs: dict[str, float] = Field(default_factory=lambda: {"fight": 1.0, "talk": 1.0})


def with_config(config: Knobs, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return {"score": config.scale * config.costs["fight"] + rng.random(), "arc": str(config.arc)}


def _stable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="elapsed_s")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return sweep(noisy, GRID, seed=11, executor=ThreadPoolExecutor(1), progress=False)


def test_table_layout_and_failed_rows(reference):
    frame = reference
    assert list(frame.columns) == [
        "param_n",
        "param_x",
        "mean",
        "top",
        "n_seen",
        "seed",
        "elapsed_s",
        "status",
        "error",
    ]
    assert frame.index.name == "run" and list(frame.index) == list(range(6))
    # Names sorted, the first varying slowest.
    assert list(zip(frame.param_n, frame.param_x, strict=True)) == [
        (3, 0.5),
        (3, -1.0),
        (3, 2.0),
        (40, 0.5),
        (40, -1.0),
        (40, 2.0),
    ]
    failed = frame[frame.status == "failed"]
    assert list(failed.index) == [1, 4]
    assert failed.error.tolist() == ["ValueError: x must be >= 0, got -1.0"] * 2
    assert failed["mean"].isna().all()
    ok = frame[frame.status == "ok"]
    assert ok.error.isna().all() and (ok.elapsed_s >= 0).all()
    assert frame.seed.tolist() == child_seeds(11, 6)
    assert frame.seed.dtype == np.int64
    # The metrics are the function's own, called with the recorded seed.
    assert ok["mean"].tolist() == [
        noisy(r.param_x, r.param_n, r.seed)["mean"] for r in ok.itertuples()
    ]


def test_seeds_follow_the_run_index():
    assert child_seeds(5, 2) == child_seeds(5, 7)[:2]
    assert len(set(child_seeds(5, 1000))) == 1000
    assert child_seeds(5, 3) != child_seeds(6, 3)
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    assert child_seeds(rng_a, 3) == child_seeds(rng_b, 3)
    with pytest.raises(ValueError, match="seed"):
        child_seeds(-1, 2)
    with pytest.raises(ValueError, match="seed"):
        child_seeds("7", 2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ThreadPoolExecutor(3),
        lambda: ProcessPoolExecutor(1),
        lambda: ProcessPoolExecutor(2),
    ],
    ids=["threads-3", "processes-1", "processes-2"],
)
@pytest.mark.parametrize("batch_size", [None, 1, 4])
def test_same_table_whatever_the_executor(reference, make, batch_size):
    with make() as executor:
        frame = sweep(
            noisy, GRID, seed=11, executor=executor, batch_size=batch_size, progress=False
        )
    pd.testing.assert_frame_equal(_stable(frame), _stable(reference))


def test_default_pool_matches(reference):
    frame = sweep(noisy, GRID, seed=11, workers=2, progress=False)
    pd.testing.assert_frame_equal(_stable(frame), _stable(reference))


def test_explicit_runs_keep_their_order_and_seeds():
    runs = [{"x": 2.0, "n": 3}, {"x": 0.5}, {"x": 1.0, "n": 7}]
    frame = sweep(noisy, runs, seed=3, executor=ThreadPoolExecutor(2), progress=False)
    assert frame.param_x.tolist() == [2.0, 0.5, 1.0]
    assert frame.param_n.isna().tolist() == [False, True, False]  # default used, not shown
    assert frame.seed.tolist() == child_seeds(3, 3)
    assert frame.n_seen.tolist() == [3, 5, 7]


def test_function_without_seed_and_unseeded_sweeps():
    frame = sweep(no_seed, {"x": [1, 2]}, executor=ThreadPoolExecutor(1), progress=False)
    assert frame.double.tolist() == [2, 4]
    assert frame.seed.notna().all()  # recorded even though fn ignores it


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("list", "metric 'values' must be a scalar"),
        ("clash", "metric name 'status' clashes"),
        ("param", "metric name 'param_x' clashes"),
        ("not-a-dict", "must return a dict of scalar metrics (got float)"),
    ],
)
def test_bad_return_values_fail_their_row(kind, message):
    frame = sweep(bad_metrics, {"kind": [kind]}, executor=ThreadPoolExecutor(1), progress=False)
    assert frame.status.tolist() == ["failed"]
    assert message in frame.error.iloc[0]


def test_config_model_runs_receive_validated_models():
    grid = {"arc": ["icarus", "tragedy"], "costs__fight": [1.0, 3.0]}
    frame = sweep(
        with_config, grid, seed=2, params=Knobs, executor=ThreadPoolExecutor(2), progress=False
    )
    assert frame.columns[:2].tolist() == ["param_arc", "param_costs__fight"]
    assert frame.arc.tolist() == ["icarus", "icarus", "tragedy", "tragedy"]
    base = [np.random.default_rng(s).random() for s in frame.seed]
    assert np.allclose(frame.score - base, [1.0, 3.0, 1.0, 3.0])


def _problems(excinfo: pytest.ExceptionInfo[DataError]) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


@pytest.mark.parametrize(
    ("grid", "expected"),
    [
        ({"x": [1.0], "typo": [1]}, ["grid: typo: a parameter of test_tuning_sweep.noisy"]),
        ({"x": ["big"]}, ["grid: x: a value of type float (got 'big')"]),
        ({"x": [1.0], "n": [2.5]}, ["grid: n: a value of type int (got 2.5)"]),
        ({"x": [1.0], "n": ["3"]}, ["grid: n: a value of type int (got '3')"]),
        ({"n": [3]}, ["grid: x: a value (test_tuning_sweep.noisy requires it)"]),
        ({"x": [1.0], "seed": [1]}, ["grid: seed: a name other than 'seed'"]),
        ({"x": 1.0}, ["grid: x: a list of values to try (got 1.0)"]),
        ({"x": "abc"}, ["grid: x: a list of values to try"]),
        ({"x": []}, ["grid: x: at least one value"]),
        ({"x": [object()]}, ["grid: x[0]: a JSON value"]),
        ([{"x": 1.0}, {"x": 1.0, "m": 2}], ["grid: [1].m: a parameter of"]),
        ([{"x": 1.0}, 5], ["grid: [1]: a dict of parameters"]),
        ([], ["grid: at least one run"]),
        ("x", ["grid: a dict of value lists or a list of parameter dicts"]),
    ],
)
def test_bad_grids_fail_before_any_run(grid, expected):
    CALLS.clear()
    with pytest.raises(DataError) as excinfo:
        sweep(noisy, grid, seed=0, executor=ThreadPoolExecutor(1), progress=False)
    problems = _problems(excinfo)
    assert len(problems) == len(expected)
    for got, want in zip(problems, expected, strict=True):
        assert got.startswith(want)
    assert CALLS == []


def test_all_problems_reported_once():
    CALLS.clear()
    with pytest.raises(DataError) as excinfo:
        sweep(noisy, {"x": [1.0, "a", "b"], "n": [1, 2], "q": [0]}, progress=False)
    assert CALLS == []
    assert _problems(excinfo) == [
        "grid: q: a parameter of test_tuning_sweep.noisy (known: n, x)",
        "grid: x: a value of type float (got 'a')",
        "grid: x: a value of type float (got 'b')",
    ]


def test_bad_config_runs_name_the_field():
    with pytest.raises(DataError) as excinfo:
        sweep(
            with_config,
            [{"arc": "spiral"}, {"costs__fight": "high"}, {"extra": 1}],
            params=Knobs,
            progress=False,
        )
    problems = _problems(excinfo)
    assert problems[0].startswith("grid: [0].arc: input should be")
    assert problems[1].startswith("grid: [1].costs.fight: input should be a valid number")
    assert problems[2] == "grid: [2].extra: no such field (unknown fields are not allowed)"


def test_bad_arguments():
    with pytest.raises(TypeError, match="picklable"):
        sweep(lambda x: {"x": x}, {"x": [1]}, progress=False)
    with pytest.raises(TypeError, match="callable"):
        sweep(3, {"x": [1]}, progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        sweep(no_seed, {"x": [1]}, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="workers"):
        sweep(no_seed, {"x": [1]}, workers=0, progress=False)


def test_lambdas_run_on_threads():
    frame = sweep(lambda x: {"y": x + 1}, {"x": [1, 2]}, executor=ThreadPoolExecutor(2))
    assert frame.y.tolist() == [2, 3]


def test_grid_values_become_plain_json():
    runs = expand_grid({"arc": [ArcType.ICARUS], "k": np.arange(2), "pair": [(1, 2)]})
    assert runs == [
        {"arc": "icarus", "k": 0, "pair": [1, 2]},
        {"arc": "icarus", "k": 1, "pair": [1, 2]},
    ]
    assert type(runs[1]["k"]) is int


def test_function_identity_is_stable():
    assert function_identity(noisy) == "test_tuning_sweep.noisy"
    part = functools.partial(noisy, n=3)
    assert function_identity(part) == 'test_tuning_sweep.noisy{"args":[],"kw":{"n":3}}'
    with pytest.raises(ValueError, match="fn_id"):
        function_identity(functools.partial(noisy, n=object()))
