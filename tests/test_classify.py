import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storylab import ArcType, arc, arcs, classify_arc, classify_arcs
from storylab.theory import ClassifierSettings
from storylab.theory.classify import MIN_POINTS, arc_templates, warp_arc

ALL = list(ArcType)


@pytest.mark.parametrize("n", [11, 200, 2000])
@pytest.mark.parametrize("a", arcs(), ids=lambda a: a.type.value)
def test_canonical_arcs_are_recovered_with_their_turns(a, n):
    fit = classify_arc(a.sample(n))
    assert fit.best is a.type and fit.reason is None and not fit.abstained
    assert fit.matches[0].arc is a.type and fit.margin > 0.02
    assert len({m.arc for m in fit.matches}) == 6
    assert [m.score for m in fit.matches] == sorted((m.score for m in fit.matches), reverse=True)
    turns = a.turning_points()
    assert [t.kind for t in fit.turning_points] == [t.kind for t in turns]
    for got, want in zip(fit.turning_points, turns, strict=True):
        assert got.position == pytest.approx(want.position, abs=0.051)
        assert got.value == pytest.approx(want.value, abs=0.12)  # smoothed level


def test_scores_do_not_depend_on_units():
    v = arc("oedipus").sample(120)
    a, b = classify_arc(v), classify_arc(v * 1e4 - 37.0)
    assert [m.arc for m in a.matches] == [m.arc for m in b.matches]
    np.testing.assert_allclose([m.score for m in a.matches], [m.score for m in b.matches])
    assert b.turning_points[0].value == pytest.approx(a.turning_points[0].value * 1e4 - 37.0)


@pytest.mark.parametrize("kind", ["cinderella", "oedipus"])
@pytest.mark.parametrize("knots", [(0.15, 0.45), (0.2, 0.5), (0.5, 0.85), (0.4, 0.85)])
def test_time_warped_double_reversals_and_where_plain_correlation_fails(kind, knots):
    x = np.linspace(0.0, 1.0, 200)
    v = warp_arc(kind, knots, x)
    fit = classify_arc(v)
    assert fit.best is ArcType(kind)
    assert [t.position for t in fit.turning_points] == pytest.approx(knots, abs=0.026)
    if knots == (0.15, 0.45):  # an early double reversal: correlation with the canon misses
        canon = [np.corrcoef(v, a.evaluate(x))[0, 1] for a in arcs()]
        assert ALL[int(np.argmax(canon))] is not ArcType(kind)


def test_uneven_positions_in_any_units():
    rng = np.random.default_rng(3)
    seconds = np.sort(rng.uniform(0.0, 3600.0, 300))
    unit = (seconds - seconds[0]) / (seconds[-1] - seconds[0])
    v = warp_arc("cinderella", (0.25, 0.6), unit) * 50.0 + rng.normal(0.0, 2.0, 300)
    fit = classify_arc(v, seconds)
    assert fit.best is ArcType.CINDERELLA
    span = seconds[-1] - seconds[0]
    expected = [seconds[0] + 0.25 * span, seconds[0] + 0.6 * span]
    assert [t.position for t in fit.turning_points] == pytest.approx(expected, abs=0.06 * span)
    assert fit.matches[0].turns == tuple(t.position for t in fit.turning_points)


def test_flat_trajectory_abstains():
    fit = classify_arc(np.full(50, 3.2))
    assert fit.best is None and fit.abstained and fit.reason.startswith("flat")
    assert fit.strength == 0.0


# the template method's white-noise test abstains on nearly all pure noise; the trained
# method's thresholds were set so that abstaining costs little on strong-noise arcs, which
# leaves more pure noise labelled (docs/arcs.md, "Calibration")
@pytest.mark.parametrize(("method", "bars"), [("templates", (0.9, 0.98)), ("trained", (0.25, 0.7))])
@pytest.mark.parametrize("n", [11, 200, 2000])
def test_pure_white_noise_mostly_abstains(n, method, bars):
    s = ClassifierSettings(method=method)
    noise = np.random.default_rng(n).normal(5.0, 2.0, (300, n))
    table = classify_arcs(noise, settings=s)
    assert table["best"].isna().mean() >= (bars[0] if n == 11 else bars[1])
    assert set(table["reason"].dropna()) <= {"noise", "weak"}
    fits = [classify_arc(row, settings=s) for row in noise[:20]]
    reasons = {f.reason.split(":")[0] for f in fits if f.abstained}
    assert reasons and reasons <= {"noise", "weak"}


def test_abstention_thresholds_are_settings():
    v = arc("icarus").sample(100)
    strict = ClassifierSettings(min_margin=1.5)
    fit = classify_arc(v, settings=strict)
    assert fit.best is None and fit.reason.startswith("ambiguous") and "icarus" in fit.reason
    weak = classify_arc(v, settings=ClassifierSettings(min_score=1.0, method="templates"))
    assert weak.best is None and weak.reason.startswith("weak")
    unsure = classify_arc(v + np.random.default_rng(0).normal(0.0, 0.2, 100))
    assert unsure.best is ArcType.ICARUS and unsure.matches[0].score < 0.999
    strict = ClassifierSettings(min_confidence=0.999)
    fit = classify_arc(v + np.random.default_rng(0).normal(0.0, 0.2, 100), settings=strict)
    assert fit.best is None and fit.reason.startswith("weak") and "< 0.999" in fit.reason
    noisy = classify_arc(v, settings=ClassifierSettings(max_noise=0.0))
    assert noisy.best is None and noisy.reason.startswith("noise")
    assert ClassifierSettings.model_validate(strict.model_dump()) == strict


def test_batch_agrees_with_single_calls():
    from storylab.theory.synthetic import synthetic_trajectories

    data = synthetic_trajectories(60, length=80, noise=0.2, noise_kind="ar1", seed=5)
    table = classify_arcs(data.values, data.positions)
    assert list(table.columns[:7]) == [
        "best",
        "reason",
        "score",
        "margin",
        "strength",
        "turn_1",
        "turn_2",
    ]
    for i, row in enumerate(data.values):
        fit = classify_arc(row)
        best = table["best"].iloc[i]
        assert (None if best != best else best) == (fit.best and fit.best.value)
        # the network runs in single precision: products of different batch sizes round apart
        assert table["score"].iloc[i] == pytest.approx(fit.matches[0].score, rel=1e-5)
        assert table[f"score_{fit.matches[-1].arc.value}"].iloc[i] == pytest.approx(
            fit.matches[-1].score, rel=1e-5, abs=1e-8
        )


def test_accuracy_on_a_fixed_seed_set_per_difficulty_and_arc():
    from storylab.theory.synthetic import accuracy_frame

    def ours(values, positions):
        return classify_arcs(values, positions)["best"].astype(object).to_numpy()

    frame = accuracy_frame(ours, 18, difficulties=("mild", "moderate", "warped"), seed=11)
    assert len(frame) == 18 * 3 * 5 * 3
    by_difficulty = frame.groupby("difficulty")["correct"].mean()
    assert by_difficulty["mild"] >= 0.98 and by_difficulty["warped"] >= 0.95
    assert by_difficulty["moderate"] >= 0.95
    moderate = frame[frame["difficulty"] == "moderate"]
    assert moderate.groupby("arc")["correct"].mean().min() >= 0.85


@pytest.mark.parametrize("kind", ["cinderella", "oedipus"])
def test_double_reversals_under_autocorrelated_noise_and_warps(kind):
    from storylab.theory.synthetic import synthetic_trajectories

    data = synthetic_trajectories(240, length=300, noise=0.12, noise_kind="ar1", warp=0.15, seed=7)
    rows = data.labels == kind
    table = classify_arcs(data.values[rows], data.positions)
    assert (table["best"] == kind).mean() >= 0.9


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=f"at least {MIN_POINTS} points"):
        classify_arc([1.0] * 10)
    with pytest.raises(ValueError, match="finite values"):
        classify_arc([1.0] * 10 + [np.nan, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        classify_arc(np.zeros((2, 20)))
    with pytest.raises(ValueError, match="20 positions"):
        classify_arc(np.arange(20.0), np.arange(19.0))
    with pytest.raises(ValueError, match="strictly increasing"):
        classify_arc(np.arange(20.0), np.r_[np.arange(19.0), 5.0])
    with pytest.raises(ValueError, match="2-D"):
        classify_arcs(np.zeros(20))
    with pytest.raises(ValueError, match="at least 11"):
        classify_arcs(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="turn_range"):
        ClassifierSettings(turn_range=(0.5, 0.4))
    with pytest.raises(ValueError, match="knot"):
        warp_arc("cinderella", [0.6, 0.3], 0.5)


def test_template_bank_and_fit_summary():
    bank = arc_templates()
    assert {kind for kind, _ in bank} == set(ALL)
    assert all(b - a >= 0.2 - 1e-9 for kind, k in bank if len(k) == 2 for a, b in [k])
    summary = classify_arc(arc("man_in_a_hole").sample(40)).to_dict()
    assert summary["best"] == "man_in_a_hole" and len(summary["matches"]) == 6
    assert summary["turning_points"][0]["kind"] == "trough"
    assert dataclasses.is_dataclass(classify_arc(arc("tragedy").sample(40)))


MIRROR = {
    ArcType.RAGS_TO_RICHES: ArcType.TRAGEDY,
    ArcType.MAN_IN_A_HOLE: ArcType.ICARUS,
    ArcType.CINDERELLA: ArcType.OEDIPUS,
}
MIRROR |= {v: k for k, v in MIRROR.items()}


@pytest.mark.parametrize("a", arcs(), ids=lambda a: a.type.value)
def test_turning_an_arc_upside_down_gives_its_mirror(a):
    fit = classify_arc(-a.sample(120))
    assert fit.best is MIRROR[a.type]
    kinds = [t.kind for t in fit.turning_points]
    assert kinds == [{"peak": "trough", "trough": "peak"}[t.kind] for t in a.turning_points()]


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(list(ArcType)),
    scale=st.floats(1e-6, 1e6),
    shift=st.floats(-1e3, 1e3),
    n=st.integers(11, 400),
    seed=st.integers(0, 2**16),
)
def test_classification_ignores_units(kind, scale, shift, n, seed):
    rng = np.random.default_rng(seed)
    v = arc(kind).sample(n) + rng.normal(0.0, 0.1, n)
    a, b = classify_arc(v), classify_arc((v + shift) * scale)  # offset within float precision
    assert [m.arc for m in a.matches] == [m.arc for m in b.matches]
    np.testing.assert_allclose(
        [m.score for m in a.matches], [m.score for m in b.matches], atol=1e-6
    )
    assert a.best == b.best
