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
