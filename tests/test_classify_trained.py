import inspect
import json
import tracemalloc

import numpy as np
import pytest

from storylab import ArcType, arc, classify_arc, classify_arcs
from storylab.theory import (
    ArcModel,
    ClassifierSettings,
    arc_model,
    choose_threshold,
    risk_coverage,
    train_arc_model,
)
from storylab.theory import _arc_bank as bank
from storylab.theory.arc_model import CLASSES, TRAIN_SEED, features
from storylab.theory.synthetic import (
    BENCHMARK_SEED,
    CALIBRATION_SEED,
    EXTENDED,
    accuracy_frame,
    benchmark_set,
    noise_trajectories,
)

TEMPLATES = ClassifierSettings(method="templates")
BOTH = [ClassifierSettings(), TEMPLATES]


@pytest.mark.parametrize("settings", BOTH, ids=["trained", "templates"])
@pytest.mark.parametrize("scale", [1e200, 1e-300, 1e300, -1e-300])
def test_extreme_units_classify_like_the_plain_trajectory(settings, scale):
    x = np.linspace(0.0, 1.0, 200)
    sine = np.sin(np.pi * x)  # rise then fall: icarus
    plain = classify_arc(sine, settings=settings)
    fit = classify_arc(sine * scale, settings=settings)
    assert plain.best is ArcType.ICARUS
    assert fit.best is (ArcType.ICARUS if scale > 0 else ArcType.MAN_IN_A_HOLE)
    if scale > 0:
        np.testing.assert_allclose(
            [m.score for m in fit.matches], [m.score for m in plain.matches], atol=1e-9
        )
        assert fit.turning_points[0].value == pytest.approx(
            plain.turning_points[0].value * scale, rel=1e-9
        )
    json.dumps(fit.to_dict(), allow_nan=False)  # every number finite
    table = classify_arcs(np.stack([sine * scale, sine]), settings=settings)
    numbers = table.select_dtypes("number").drop(columns=["turn_1", "turn_2"])
    assert np.isfinite(numbers.to_numpy()).all()
    assert list(table["best"].astype(str)) == [fit.best.value, "icarus"]


def test_huge_positions_and_a_constant_at_extreme_scale():
    v = arc("tragedy").sample(60)
    positions = np.linspace(-1.0, 1.0, 60) * 1e308
    assert classify_arc(v, positions).best is ArcType.TRAGEDY
    flat = classify_arc(np.full(40, 3e-300))
    assert flat.reason.startswith("flat") and flat.strength == 0.0
    long = arc("icarus").sample(2000)  # squared spread near the float limit, no overflow
    with np.errstate(all="raise"):
        table = classify_arcs(np.stack([long * 1e152, long * 1e154, long * 1e-152]))
    assert list(table["best"].astype(str)) == ["icarus"] * 3


def test_operator_cache_stays_within_its_byte_budget():
    rng = np.random.default_rng(0)
    for n in (5000, 6000, 7000, 8000, 9000, 10000, 11000, 12000):
        x = np.sort(rng.uniform(0.0, 1.0, n))
        classify_arc(rng.normal(size=n), x, settings=TEMPLATES)
        assert bank.cache_bytes() <= bank.CACHE_BYTES
    before = bank.cache_bytes()
    long = np.linspace(0.0, 1.0, 300_000)
    ops = bank.operators(long, TEMPLATES)
    assert ops.nbytes > bank.CACHE_BYTES // 4  # too big to keep: built, used and dropped
    assert bank.cache_bytes() == before


def test_a_long_series_is_classified_in_bounded_memory():
    n = 300_000
    x = np.linspace(0.0, 1.0, n)
    values = arc("cinderella").evaluate(x) + np.random.default_rng(1).normal(0.0, 0.2, n)
    tracemalloc.start()
    try:
        fit = classify_arc(values)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fit.best is ArcType.CINDERELLA
    assert peak < 400 * 2**20  # a few n x grid arrays, not n x templates (1.8 GB before)


def test_training_is_deterministic_and_round_trips(tmp_path):
    kw = {"per_condition": 6, "hidden": 8, "steps": 20}
    a, b = train_arc_model(**kw), train_arc_model(**kw)
    for name in ("w1", "b1", "w2", "b2"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    other = train_arc_model(**kw, seed=7)
    assert not np.array_equal(a.w1, other.w1)
    a.save(tmp_path / "m.npz")
    loaded = ArcModel.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.w2, a.w2)
    assert loaded.trained_with == a.trained_with and loaded.trained_with["per_condition"] == 6
    assert a.w1.shape == (32 + 4 * 6 + 2, 8) and a.w2.shape == (8, len(CLASSES))


def test_training_and_benchmark_draws_are_kept_apart():
    assert len({TRAIN_SEED, BENCHMARK_SEED, CALIBRATION_SEED}) == 3
    assert arc_model().trained_with["seed"] == TRAIN_SEED
    for seed in (BENCHMARK_SEED, CALIBRATION_SEED):
        with pytest.raises(ValueError, match="calibration draw"):
            train_arc_model(per_condition=6, hidden=4, steps=1, seed=seed)
    # the same conditions drawn with the training seed share no value with the benchmark's
    kw = {"per_condition": 6, "tiers": EXTENDED, "difficulties": ("strong",), "lengths": (25,)}
    train = np.concatenate([d.values for _, d in benchmark_set(seed=TRAIN_SEED, **kw)])
    bench = np.concatenate([d.values for _, d in benchmark_set(**kw)])
    assert not np.isin(train, bench).any()


def test_increment_columns_are_the_whitened_increments():
    rng = np.random.default_rng(3)
    x = np.concatenate([[0.0], np.sort(rng.uniform(0.0, 1.0, 38)), [1.0]])
    templates = rng.normal(size=(40, 3))
    inverse = bank.inverse_steps(x)
    columns = bank.increment_columns(templates, inverse)
    u = rng.normal(size=40)
    du, dt = np.diff(u) * np.sqrt(inverse), np.diff(templates, axis=0) * np.sqrt(inverse)[:, None]
    np.testing.assert_allclose(u @ columns, du @ dt / np.linalg.norm(dt, axis=0))
    np.testing.assert_allclose((u + 5.0) @ columns, u @ columns)  # offsets do not count


@pytest.mark.parametrize("length", [11, 25, 200])
def test_network_inputs_ignore_units_and_position_units(length):
    rng = np.random.default_rng(length)
    x = np.sort(rng.uniform(0.0, 1.0, length))
    values = rng.normal(size=(4, length)) + arc("cinderella").evaluate((x - x[0]) / np.ptp(x))
    plain = features(values, x, ClassifierSettings())
    for scale, offset in ((1e-200, 3.0), (7.0, -40.0), (1e250, 10.0)):
        moved = features((values + offset) * scale, x * 40.0 - 3.0, ClassifierSettings())
        np.testing.assert_allclose(moved, plain, atol=1e-6)


def test_shipped_model_records_the_default_training_arguments():
    model = arc_model()
    defaults = {
        k: p.default
        for k, p in inspect.signature(train_arc_model).parameters.items()
        if k in {"per_condition", "hidden", "steps", "seed"}
    }
    assert {k: model.trained_with[k] for k in defaults} == defaults
    assert model.trained_with["decay_per_million"] == round(
        inspect.signature(train_arc_model).parameters["decay"].default * 1e6
    )
    rows = features(
        np.stack([arc("oedipus").sample(50)] * 2), np.linspace(0, 1, 50), ClassifierSettings()
    )
    p = model.probabilities(rows)
    assert p.shape == (2, 7) and np.allclose(p.sum(axis=1), 1.0)
    assert CLASSES[int(p[0].argmax())] == "oedipus"


def test_trained_method_needs_the_networks_grid():
    with pytest.raises(ValueError, match=r"grid=32 and smoothing=0\.04"):
        classify_arc(arc("icarus").sample(40), settings=ClassifierSettings(grid=64))
    fit = classify_arc(
        arc("icarus").sample(40), settings=ClassifierSettings(grid=64, method="templates")
    )
    assert fit.best is ArcType.ICARUS


def test_risk_coverage_curve_and_threshold():
    confidence = np.array([0.9, 0.8, 0.8, 0.6, 0.3, 0.2])
    correct = np.array([True, True, False, True, False, False])
    curve = risk_coverage(confidence, correct)
    assert list(curve["threshold"]) == [0.2, 0.3, 0.6, 0.8, 0.9]
    full = curve.iloc[0]
    assert full["coverage"] == 1.0 and full["risk"] == pytest.approx(0.5)
    assert full["cost"] == pytest.approx(0.0)
    top = curve.iloc[-1]
    assert top["coverage"] == pytest.approx(1 / 6) and top["risk"] == 0.0
    assert curve.loc[curve["threshold"] == 0.8, "risk"].item() == pytest.approx(1 / 3)
    assert choose_threshold(curve, 0.0) == 0.6  # drops only wrong answers
    assert choose_threshold(curve, 1 / 6) == 0.8
    assert choose_threshold(curve, 1.0) == 0.9
    with pytest.raises(ValueError, match="one length"):
        risk_coverage([0.5], [True, False])
    with pytest.raises(ValueError, match="finite"):
        risk_coverage([np.nan], [True])
    with pytest.raises(ValueError, match="max_cost"):
        choose_threshold(curve, 2.0)


def test_default_threshold_abstains_on_noise_and_costs_little_on_strong_arcs():
    def run(values, positions):
        table = classify_arcs(values, positions)
        scores = table.filter(like="score_").to_numpy()
        top = np.array([k.value for k in ArcType])[scores.argmax(axis=1)]
        return table.assign(predicted=table["best"].astype(object), top=top)

    frame = accuracy_frame(run, 12, tiers=EXTENDED, difficulties=("strong",), seed=5)
    top_ranked = (frame["top"] == frame["arc"]).mean()
    assert frame["correct"].mean() >= top_ranked - 0.03  # abstaining costs little
    assert (frame["top"] == frame["arc"]).mean() >= 0.8
    for kind, bar in (("white", 0.65), ("ar1", 0.3), ("spike", 0.8)):
        noise = noise_trajectories(200, length=200, noise_kind=kind, seed=3)
        assert classify_arcs(noise)["best"].isna().mean() >= bar
    reasons = set(classify_arcs(noise_trajectories(60, length=200, seed=4))["reason"].dropna())
    assert reasons <= {"noise", "weak"} and "noise" in reasons
