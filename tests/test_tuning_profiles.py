"""Config models as flat dicts and YAML profiles: round trips, validation, `storylab validate`."""

from __future__ import annotations

import sys
import types
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field

from storylab import DataError
from storylab._data import Frozen
from storylab.cli import main
from storylab.theory import ArcType
from storylab.tuning import (
    PROFILES,
    config_from_flat,
    flatten_config,
    load_profile,
    profile_name,
    read_profile,
    save_profile,
)
from storylab.validation import detect_kind, validate_file


class Weights(Frozen):
    profile_name: ClassVar[str] = "toy-weights"

    arc: ArcType = ArcType.ICARUS
    scale: float = Field(default=1.0, gt=0.0)
    rounds: int = 3
    costs: dict[str, float] = Field(default_factory=lambda: {"fight": 2.0, "talk": 0.5})


class ComposerKnobs(Frozen):
    depth: int = 4


@pytest.fixture
def registered(monkeypatch):
    module = types.ModuleType("toy_profiles")
    module.Weights = Weights  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "toy_profiles", module)
    monkeypatch.setitem(PROFILES, "toy-weights", "toy_profiles:Weights")


def test_names():
    assert profile_name(Weights) == "toy-weights"
    assert profile_name(ComposerKnobs) == "composer-knobs"


def test_flat_dict_round_trip():
    config = Weights(scale=0.25, costs={"fight": 1e-5, "flee": 3.0})
    flat = flatten_config(config)
    assert flat == {
        "arc": "icarus",
        "scale": 0.25,
        "rounds": 3,
        "costs__fight": 1e-5,
        "costs__flee": 3.0,
    }
    assert config_from_flat(Weights, flat) == config
    with pytest.raises(DataError, match="params: scale"):
        config_from_flat(Weights, {**flat, "scale": -1.0})


def test_conflicting_flat_names():
    nested = {"fight": 1.0}
    with pytest.raises(DataError, match="params: costs: one value"):
        config_from_flat(Weights, {"costs__talk": 1.0, "costs": nested})
    assert config_from_flat(Weights, {"costs": nested}).costs == nested
    with pytest.raises(
        DataError, match="params: costs__talk: a name that does not nest inside 'costs'"
    ):
        config_from_flat(Weights, {"costs": 1.0, "costs__talk": 1.0})
    assert nested == {"fight": 1.0}  # inputs are never modified


def test_empty_mappings_and_separators_in_names():
    assert config_from_flat(Weights, flatten_config(Weights(costs={}))) == Weights(costs={})
    dotted = Weights(costs={"a.b": 1.0})
    assert config_from_flat(Weights, flatten_config(dotted)) == dotted
    with pytest.raises(ValueError, match="holds '__'"):
        flatten_config(Weights(costs={"a__b": 1.0}))


@given(
    scale=st.floats(min_value=1e-9, max_value=1e9, allow_nan=False),
    rounds=st.integers(-(2**40), 2**40),
    costs=st.dictionaries(
        st.text("abcdefghij_.", min_size=1, max_size=6).filter(lambda k: "__" not in k),
        st.floats(allow_nan=False, allow_infinity=False),
        max_size=4,
    ),
)
def test_profiles_round_trip_unchanged(tmp_path_factory, scale, rounds, costs):
    path = tmp_path_factory.mktemp("p") / "weights.yaml"
    config = Weights(scale=scale, rounds=rounds, costs=costs)
    save_profile(config, path)
    text = path.read_text()
    loaded = load_profile(Weights, path)
    assert loaded == config
    assert config_from_flat(Weights, flatten_config(loaded)) == config
    save_profile(loaded, path)
    assert path.read_text() == text  # byte-stable


def test_profile_file_layout_and_meta(tmp_path, registered):
    path = save_profile(
        Weights(rounds=5), tmp_path / "w.yaml", meta={"objective": 0.5, "seed": 3, "data": "x"}
    )
    assert path.read_text().splitlines()[:6] == [
        "kind: toy-weights-profile",
        "meta:",
        "  objective: 0.5",
        "  seed: 3",
        "  data: x",
        "config:",
    ]
    profile = read_profile(path)
    assert profile.name == "toy-weights"
    assert profile.config == Weights(rounds=5)
    assert profile.meta == {"objective": 0.5, "seed": 3, "data": "x"}
    bare = save_profile(Weights(), tmp_path / "bare.yaml")
    assert "meta" not in bare.read_text()
    assert read_profile(bare).meta == {}


def _write(tmp_path, text: str):
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "kind: toy-weights-profile\nconfig: {scale: -2}\n",
            ["config.scale: input should be greater than 0"],
        ),
        (
            "kind: toy-weights-profile\nconfig: {rounds: 2, speed: 3}\n",
            ["config.speed: no such field"],
        ),
        (
            "kind: toy-weights-profile\nconfig: {}\nextra: 1\n",
            ["extra: no such field"],
        ),
        (
            "kind: toy-weights-profile\nmeta: {a: [1]}\nconfig: {}\n",
            ["meta.a: value error, a scalar: string, number, bool or null (got list)"],
        ),
        ("kind: toy-weights-profile\n", ["config: a value (the field is required)"]),
        ("kind: other-weights-profile\nconfig: {}\n", ["kind: input should be 'toy-weights-"]),
        ("- a list\n", [": a mapping with kind, config"]),
        ("kind: [unclosed\n", [": line 2, column 1: valid YAML"]),
    ],
)
def test_bad_profiles_name_file_and_path(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(DataError) as excinfo:
        load_profile(Weights, path)
    problems = [str(p) for p in excinfo.value.problems]
    assert len(problems) == len(expected)
    for got, want in zip(problems, expected, strict=True):
        assert got.startswith(f"{path}") and want in got


def test_kind_decides_the_model(tmp_path, registered):
    with pytest.raises(
        DataError,
        match="unknown profile 'nope-profile'; known: action-costs-profile, "
        "position-estimation-profile, toy-weights-profile",
    ):
        read_profile(_write(tmp_path, "kind: nope-profile\nconfig: {}\n"))
    with pytest.raises(DataError, match="kind: '<name>-profile' \\(got None\\)"):
        read_profile(_write(tmp_path, "config: {}\n"))


def test_storylab_validate_knows_profiles(tmp_path, registered, capsys):
    good = save_profile(Weights(), tmp_path / "costs.yaml")
    assert detect_kind(good) == "profile"
    assert validate_file(good) == []
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: toy-weights-profile\nconfig: {rounds: many}\n")
    assert [p.path for p in validate_file(bad)] == ["config.rounds"]
    assert main(["validate", str(bad)]) != 0
    assert "config.rounds" in capsys.readouterr().out


def test_failed_save_leaves_no_file(tmp_path):
    target = tmp_path / "missing-dir" / "w.yaml"
    with pytest.raises(OSError, match=r"cannot write .*missing-dir"):
        save_profile(Weights(), target)
    assert not target.exists()
