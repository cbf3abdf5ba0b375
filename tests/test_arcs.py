import numpy as np
import pytest

from storylab import ArcType, DataError, UnknownNameError, arc, arcs
from storylab._data import packaged_path
from storylab.theory import from_spectrum, load_arcs, to_spectrum
from storylab.theory.arcs import SAMPLE_POSITIONS


def test_six_arcs_load():
    assert [a.type for a in arcs()] == list(ArcType)


def test_man_in_a_hole_at_half():
    assert 0.19 <= arc("man_in_a_hole").evaluate(0.5) <= 0.21


@pytest.mark.parametrize("a", arcs(), ids=lambda a: a.type.value)
def test_interpolation_hits_every_sample_exactly(a):
    np.testing.assert_allclose(a.evaluate(SAMPLE_POSITIONS), a.samples, atol=1e-12)


@pytest.mark.parametrize("a", arcs(), ids=lambda a: a.type.value)
def test_interpolation_never_overshoots_between_samples(a):
    x = np.linspace(0, 1, 2001)
    y = a.evaluate(x)
    seg = np.minimum((x * 10).astype(int), 9)
    lo = np.minimum(np.array(a.samples)[seg], np.array(a.samples)[seg + 1])
    hi = np.maximum(np.array(a.samples)[seg], np.array(a.samples)[seg + 1])
    assert np.all(y >= lo - 1e-12) and np.all(y <= hi + 1e-12)


@pytest.mark.parametrize("a", arcs(), ids=lambda a: a.type.value)
def test_formula_samples_and_control_points_agree(a):
    np.testing.assert_allclose(a.closed_form(SAMPLE_POSITIONS), a.samples, atol=5e-4)
    for p in a.control_points:
        assert a.closed_form(p.position) == pytest.approx(p.value, abs=1e-12)
        assert a.evaluate(p.position) == pytest.approx(p.value, abs=5e-4)
    turns = a.turning_points()
    assert [t.position for t in turns] == [p.position for p in a.control_points[1:-1]]
    for t in turns:
        assert a.derivative(t.position) == pytest.approx(0.0, abs=1e-9)


def test_shapes_have_expected_number_of_turns():
    expected = {"rise": 0, "fall": 0, "fall_rise": 1, "rise_fall": 1}
    for a in arcs():
        assert len(a.turning_points()) == expected.get(a.shape_pattern, 2)


def test_evaluate_keeps_array_shape_and_rejects_out_of_range():
    a = arc("cinderella")
    assert a.evaluate(np.zeros((2, 3))).shape == (2, 3)
    assert isinstance(a.evaluate(0.25), float)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        a.evaluate(1.2)
    with pytest.raises(ValueError, match="at least 2"):
        a.sample(1)
    assert a.sample(101).shape == (101,)


def test_scale_mapping_round_trips():
    assert to_spectrum(0.5) == 0.0 and to_spectrum(1.0) == 1.0
    np.testing.assert_allclose(from_spectrum(to_spectrum(np.array([0.1, 0.7]))), [0.1, 0.7])


def test_unknown_arc_lists_known():
    with pytest.raises(UnknownNameError, match="oedipus"):
        arc("hero_journey")


def _bad(tmp_path, old, new):
    text = packaged_path("emotional-arcs.yaml").read_text()
    assert old in text
    path = tmp_path / "emotional-arcs.yaml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(DataError) as err:
        load_arcs(path)
    return err.value.problems


def test_sample_missing_its_control_point_is_reported(tmp_path):
    (p,) = _bad(tmp_path, "0.2382, 0.2, 0.2573", "0.2382, 0.3, 0.2573")
    assert p.path == "arcs[2]" and "position 0.5" in p.expected


def test_turning_point_off_its_control_point_is_reported(tmp_path):
    (p,) = _bad(
        tmp_path,
        "{position: 0.5, value: 0.2, label: nadir}",
        "{position: 0.4, value: 0.2, label: nadir}",
    )
    assert p.path == "arcs[2]"


def test_control_point_outside_unit_interval(tmp_path):
    problems = _bad(
        tmp_path,
        "{position: 1.0, value: 0.8, label: resolution}",
        "{position: 1.2, value: 0.8, label: resolution}",
    )
    assert problems[0].path == "arcs[2].control_points[2].position"
