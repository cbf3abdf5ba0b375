"""Emotional arcs from text: the pipeline of Reagan et al. (2016), and a word-shuffle null.

Tokenise, score each word with its labMT happiness (1–9; the list ships offline with the
``labMTsimple`` package, whose data file is read directly), drop the neutral band (words
scored 4–6 by default), slide a fixed-size window over the words and average the scores in
each window. The trajectory can then be classified with :func:`classify_arc`.

The null model shuffles the same words (so the vocabulary and its scores stay, the order
goes) and runs the same windows; the spread of the shuffled trajectories is what a text with
no shape would show.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from storylab.theory.classify import ArcFit, ClassifierSettings, classify_arc

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Lexicon",
    "NullBand",
    "TextArc",
    "TextTrajectory",
    "labmt",
    "score_words",
    "shuffle_null",
    "text_arc",
    "text_trajectory",
    "tokenize",
]

_TOKEN = re.compile(r"[a-z0-9#@]+(?:['-][a-z0-9]+)*")


@dataclass(frozen=True)
class Lexicon:
    """A happiness word list: each word's score on the 1–9 scale."""

    words: dict[str, float]
    source: str

    def __len__(self) -> int:
        return len(self.words)


def _labmt_path() -> Path:
    spec = importlib.util.find_spec("labMTsimple")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the labMT word list comes with the labMTsimple package: pip install 'storylab[text]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "LabMT" / "labMT1.txt"


@lru_cache(maxsize=4)
def labmt(path: str | Path | None = None) -> Lexicon:
    """The labMT 1.0 happiness list (10,222 words), read once and cached.

    ``path`` may name another file in the same tab-separated layout (a header line, then
    word, rank, happiness, ...).
    """
    source = Path(path) if path is not None else _labmt_path()
    words: dict[str, float] = {}
    try:
        lines = source.read_text(encoding="utf-8").splitlines()[1:]
    except OSError as exc:
        raise ValueError(f"{source}: a readable labMT word list ({exc})") from None
    for number, line in enumerate(lines, start=2):
        fields = line.split("\t")
        try:
            words[fields[0]] = float(fields[2])
        except (IndexError, ValueError):
            raise ValueError(
                f"{source}: line {number}: word, rank and happiness separated by tabs"
            ) from None
    if not words:
        raise ValueError(f"{source}: at least one scored word")
    return Lexicon(words=words, source=str(source))


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (letters, digits, inner apostrophes and hyphens).

    >>> tokenize("Don't stop—the well-known end.")
    ["don't", 'stop', 'the', 'well-known', 'end']
    """
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


def score_words(
    tokens: list[str],
    lexicon: Lexicon | None = None,
    neutral: tuple[float, float] | None = (4.0, 6.0),
) -> NDArray[np.float64]:
    """Each token's happiness, NaN where the word is unscored or inside the neutral band."""
    lex = lexicon or labmt()
    scores = np.fromiter(map(lex.words.get, tokens, repeat(np.nan)), float, len(tokens))
    if neutral is not None:
        lo, hi = neutral
        if not lo <= hi:
            raise ValueError(f"neutral band as (low, high) with low <= high, got {neutral}")
        scores[(scores >= lo) & (scores <= hi)] = np.nan
    return scores


@dataclass(frozen=True)
class TextTrajectory:
    """The happiness of a text over its length: one value per window.

    ``positions`` are the window centres as a fraction of the text (0–1); ``values`` the
    mean happiness (1–9) of the scored words in each window.
    """

    positions: NDArray[np.float64]
    values: NDArray[np.float64]
    n_words: int
    n_scored: int
    window: int

    def classify(self, settings: ClassifierSettings | None = None) -> ArcFit:
        """Fit the trajectory against the six arcs (:func:`classify_arc`).

        The classifier's noise test assumes independent points, which overlapping windows
        are not; :func:`text_arc` adds the word-shuffle test that accounts for that.
        """
        return classify_arc(self.values, self.positions, settings=settings)

    def to_frame(self) -> pd.DataFrame:
        """One row per window: ``position`` and ``happiness``."""
        import pandas as pd

        return pd.DataFrame({"position": self.positions, "happiness": self.values})


def _windows(
    scores: NDArray[np.float64], window: int, points: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Window means along the last axis of ``scores`` (NaN = unscored), via cumulative sums."""
    n = scores.shape[-1]
    if window > n:
        raise ValueError(f"the text has {n} words, fewer than the window of {window}")
    starts = np.round(np.linspace(0, n - window, points)).astype(np.intp)
    scored = ~np.isnan(scores)
    pad = [(0, 0)] * (scores.ndim - 1) + [(1, 0)]
    total = np.pad(np.cumsum(np.where(scored, scores, 0.0), axis=-1), pad)
    count = np.pad(np.cumsum(scored, axis=-1), pad)
    sums = total[..., starts + window] - total[..., starts]
    counts = count[..., starts + window] - count[..., starts]
    if np.any(counts == 0):
        raise ValueError(
            f"every window needs scored words; some of the {window}-word windows have none"
            " (use a larger window or a narrower neutral band)"
        )
    positions = (starts + window / 2.0) / n
    return positions, sums / counts


def _check(window: int, points: int) -> None:
    if window < 1 or points < 2:
        raise ValueError(f"window >= 1 and points >= 2, got window={window}, points={points}")


def text_trajectory(
    text: str,
    *,
    window: int = 10_000,
    points: int = 200,
    neutral: tuple[float, float] | None = (4.0, 6.0),
    lexicon: Lexicon | None = None,
) -> TextTrajectory:
    """The emotional trajectory of a text (Reagan et al. 2016).

    Parameters
    ----------
    text:
        The whole text.
    window:
        Words per window (all tokens count towards the window, scored or not).
    points:
        Number of evenly spaced windows from the first word to the last.
    neutral:
        Happiness band whose words are ignored (``None`` keeps every scored word).
    lexicon:
        Word scores; labMT 1.0 by default.
    """
    _check(window, points)
    return _trajectory(score_words(tokenize(text), lexicon, neutral), window, points)


def _trajectory(scores: NDArray[np.float64], window: int, points: int) -> TextTrajectory:
    positions, values = _windows(scores, window, points)
    return TextTrajectory(
        positions=positions,
        values=values,
        n_words=len(scores),
        n_scored=int(np.count_nonzero(~np.isnan(scores))),
        window=window,
    )


@dataclass(frozen=True)
class NullBand:
    """What the same words in random order give: the band a shapeless text stays inside.

    ``trajectories`` holds one row per shuffle; ``low`` and ``high`` are its pointwise
    quantiles. ``spread_p`` is the permutation p-value of the real trajectory's spread
    (standard deviation): ``(1 + k) / (1 + shuffles)`` where ``k`` shuffles vary at least as
    much. Small means the shape is not word-order noise.
    """

    positions: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    trajectories: NDArray[np.float64]
    spread_p: float
    seed: int | None

    def outside(self, trajectory: TextTrajectory) -> float:
        """Share of the trajectory's points that fall outside the band."""
        v = trajectory.values
        return float(np.mean((v < self.low) | (v > self.high)))


def shuffle_null(
    text: str,
    *,
    shuffles: int = 20,
    window: int = 10_000,
    points: int = 200,
    neutral: tuple[float, float] | None = (4.0, 6.0),
    lexicon: Lexicon | None = None,
    quantiles: tuple[float, float] = (0.025, 0.975),
    seed: int | np.random.Generator | None = None,
) -> NullBand:
    """Trajectories of ``shuffles`` word-shuffled copies of ``text`` and their band."""
    _check(window, points)
    return _null(
        score_words(tokenize(text), lexicon, neutral), shuffles, window, points, quantiles, seed
    )


def _null(
    scores: NDArray[np.float64],
    shuffles: int,
    window: int,
    points: int,
    quantiles: tuple[float, float],
    seed: int | np.random.Generator | None,
) -> NullBand:
    if shuffles < 1:
        raise ValueError(f"shuffles >= 1, got {shuffles}")
    rng = np.random.default_rng(seed)
    positions, real = _windows(scores, window, points)
    shuffled = rng.permuted(np.broadcast_to(scores, (shuffles, len(scores))), axis=1)
    _, trajectories = _windows(shuffled, window, points)
    low, high = np.quantile(trajectories, quantiles, axis=0)
    spread_p = float((1 + np.sum(trajectories.std(axis=1) >= real.std())) / (1 + shuffles))
    return NullBand(
        positions=positions,
        low=low,
        high=high,
        trajectories=trajectories,
        spread_p=spread_p,
        seed=seed if isinstance(seed, int) else None,
    )


@dataclass(frozen=True)
class TextArc:
    """A text's trajectory, its word-shuffle null band and its arc fit.

    ``fit`` abstains (reason ``noise``) when the trajectory's spread is within what
    shuffled words give (``null.spread_p > alpha``), whatever the shape looks like.
    """

    trajectory: TextTrajectory
    null: NullBand
    fit: ArcFit


def text_arc(
    text: str,
    *,
    window: int = 10_000,
    points: int = 200,
    neutral: tuple[float, float] | None = (4.0, 6.0),
    shuffles: int = 20,
    alpha: float = 0.05,
    lexicon: Lexicon | None = None,
    settings: ClassifierSettings | None = None,
    seed: int | np.random.Generator | None = 0,
) -> TextArc:
    """The arc of a text, tested against ``shuffles`` word-shuffled copies of it.

    Parameters are those of :func:`text_trajectory` and :func:`shuffle_null`; ``alpha`` is
    the largest ``spread_p`` that still counts as a shape.
    """
    _check(window, points)
    if shuffles < 1:
        raise ValueError(f"shuffles >= 1, got {shuffles}")
    if 1.0 / (1 + shuffles) > alpha:
        raise ValueError(
            f"with {shuffles} shuffles the smallest possible p is {1 / (1 + shuffles):.3f},"
            f" above alpha = {alpha}: use at least {int(np.ceil(1 / alpha)) - 1} shuffles"
        )
    scores = score_words(tokenize(text), lexicon, neutral)
    trajectory = _trajectory(scores, window, points)
    null = _null(scores, shuffles, window, points, (0.025, 0.975), seed)
    fit = trajectory.classify(settings)
    if null.spread_p > alpha and fit.best is not None:
        fit = dataclasses.replace(
            fit,
            best=None,
            reason=(
                f"noise: the trajectory varies no more than word-shuffled copies of the text"
                f" (spread p = {null.spread_p:.3f} > {alpha})"
            ),
        )
    return TextArc(trajectory=trajectory, null=null, fit=fit)
