import numpy as np
import pytest

from storylab import ArcType
from storylab.theory.synthetic import (
    DIFFICULTIES,
    accuracy_frame,
    benchmark_set,
    synthetic_trajectories,
)


def test_same_seed_same_set_and_balanced_labels():
    a = synthetic_trajectories(12, length=30, noise=0.2, noise_kind="ar1", seed=4)
    b = synthetic_trajectories(12, length=30, noise=0.2, noise_kind="ar1", seed=4)
    c = synthetic_trajectories(12, length=30, noise=0.2, noise_kind="ar1", seed=5)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.allclose(a.values, c.values)
    assert a.values.shape == (12, 30) and list(a.labels[:6]) == [k.value for k in ArcType]
    np.testing.assert_array_equal(a.positions, np.linspace(0, 1, 30))


def test_without_noise_or_units_the_arc_is_exact_up_to_the_warp():
    clean = synthetic_trajectories(6, length=11, noise=0.0, warp=0.0, units=False, seed=0)
    from storylab import arcs

    np.testing.assert_allclose(clean.values, [a.closed_form(clean.positions) for a in arcs()])


@pytest.mark.parametrize("kind", ["white", "ar1", "random_walk"])
def test_noise_kinds_have_the_requested_scale_and_memory(kind):
    flat = synthetic_trajectories(600, length=400, noise=0.3, noise_kind=kind, units=False, seed=1)
    base = synthetic_trajectories(600, length=400, noise=0.0, noise_kind=kind, units=False, seed=1)
    noise = flat.values - base.values
    lag1 = np.mean(noise[:, 1:] * noise[:, :-1]) / np.mean(noise**2)
    if kind == "white":
        assert noise.std() == pytest.approx(0.3, rel=0.05) and abs(lag1) < 0.05
    elif kind == "ar1":
        assert noise.std() == pytest.approx(0.3, rel=0.1) and lag1 > 0.9
    else:
        assert noise[:, -1].std() == pytest.approx(0.3, rel=0.1) and lag1 > 0.95


def test_uneven_positions_and_units():
    s = synthetic_trajectories(6, length=50, uneven=True, seed=2)
    assert s.positions[0] == 0.0 and s.positions[-1] == 1.0
    assert np.all(np.diff(s.positions) > 0)
    assert np.ptp(np.abs(s.values).max(axis=1)) > 1.0  # rows live in different units


def test_bad_arguments():
    with pytest.raises(ValueError, match="noise_kind"):
        synthetic_trajectories(6, noise_kind="pink")
    with pytest.raises(ValueError, match="length"):
        synthetic_trajectories(6, length=1)
    with pytest.raises(ValueError, match="warp"):
        synthetic_trajectories(6, warp=0.3)


def test_benchmark_set_covers_every_condition_and_accuracy_frame():
    conditions = [c for c, _ in benchmark_set(6, lengths=(11, 40))]
    expected = sum(len(spec["noise"]) for spec in DIFFICULTIES.values()) * 2
    assert len(conditions) == expected and {c["uneven"] for c in conditions} == {False, True}

    def always_tragedy(values, positions):
        return ["tragedy"] * len(values)

    frame = accuracy_frame(always_tragedy, 6, difficulties=("mild",), lengths=(20,))
    assert frame["correct"].mean() == pytest.approx(1 / 6)
    assert set(frame.columns) >= {"difficulty", "noise_kind", "length", "arc", "predicted"}


def test_new_noise_kinds_ma_and_spike():
    kw = {"length": 400, "noise": 0.3, "units": False, "seed": 1}
    for kind in ("ma", "spike"):
        noisy = synthetic_trajectories(600, noise_kind=kind, **kw)
        clean = synthetic_trajectories(600, noise_kind=kind, **{**kw, "noise": 0.0})
        noise = noisy.values - clean.values
        assert noise.std() == pytest.approx(0.3, rel=0.1)
        lag1 = np.mean(noise[:, 1:] * noise[:, :-1]) / np.mean(noise**2)
        if kind == "ma":
            assert lag1 > 0.3  # a moving average of 2 to 8 values
        else:
            assert abs(lag1) < 0.05 and np.mean(noise != 0.0) == pytest.approx(0.05, abs=0.01)


def test_ar1_coefficient_up_to_phi():
    kw = {"length": 2000, "noise": 1.0, "units": False, "noise_kind": "ar1", "seed": 2}
    noise = synthetic_trajectories(60, phi=0.97, **kw).values
    noise -= synthetic_trajectories(60, phi=0.97, **{**kw, "noise": 0.0}).values
    lag1 = np.sum(noise[:, 1:] * noise[:, :-1], axis=1) / np.sum(noise**2, axis=1)
    assert lag1.min() > 0.45 and lag1.max() < 0.98 and np.ptp(lag1) > 0.3
    with pytest.raises(ValueError, match="phi"):
        synthetic_trajectories(6, noise_kind="ar1", phi=1.0)


def test_crops_and_extreme_units():
    whole = synthetic_trajectories(60, length=101, noise=0.0, warp=0.0, units=False, seed=3)
    cropped = synthetic_trajectories(
        60, length=101, noise=0.0, warp=0.0, units=False, crop=0.08, seed=3
    )
    rises = cropped.values[whole.labels == "rags_to_riches"]
    assert rises[:, 0].min() >= whole.values[0, 0] and rises[:, 0].max() > whole.values[0, 0]
    data = synthetic_trajectories(400, length=30, extreme_units=0.25, seed=4)
    magnitude = np.log10(np.abs(data.values).max(axis=1))
    assert magnitude.max() > 100 and magnitude.min() < -100
    assert np.mean(np.abs(magnitude) > 10) == pytest.approx(0.25, abs=0.07)
    assert np.isfinite(data.values).all()
    with pytest.raises(ValueError, match="crop"):
        synthetic_trajectories(6, crop=0.5)


def test_extended_set_is_regenerable_condition_by_condition():
    from storylab.theory.synthetic import EXTENDED, noise_trajectories

    a = list(benchmark_set(6, tiers=EXTENDED, difficulties=("strong",), lengths=(11, 30)))
    b = list(benchmark_set(6, tiers=EXTENDED, difficulties=("strong",), lengths=(11, 30)))
    assert [c for c, _ in a] == [c for c, _ in b]
    assert {c["noise_kind"] for c, _ in a} == {"white", "ar1", "ma", "spike", "random_walk"}
    for (_, x), (_, y) in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.values, y.values)
    pure = noise_trajectories(5, length=20, noise_kind="spike", seed=1)
    np.testing.assert_array_equal(
        pure, noise_trajectories(5, length=20, noise_kind="spike", seed=1)
    )
    with pytest.raises(ValueError, match="noise_kind"):
        noise_trajectories(5, noise_kind="pink")
