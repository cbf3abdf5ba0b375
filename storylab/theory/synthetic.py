"""Seeded synthetic trajectories of known arc: the test bed for :func:`classify_arc`.

Each trajectory is one of the six arcs with its turns moved by a random monotone time warp,
optionally cropped at both ends, plus noise (white, AR(1), moving-average, spikes or a random
walk) on the arc scale, then mapped to arbitrary units by a random positive scale and offset
(optionally extreme scales, 1e-300 to 1e300). Everything is reproducible from the seed.

Two benchmark sets cross tiers of difficulty with noise kinds and lengths: ``DIFFICULTIES``
(the original set) and ``EXTENDED`` (the harder set: AR(1) with a random coefficient up to
0.97, moving-average and spike noise, crops of the ends up to 8 % and extreme units).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.signal import lfilter

from storylab.theory.arcs import ArcType, arc
from storylab.theory.classify import warp_arc

__all__ = [
    "BENCHMARK_SEED",
    "CALIBRATION_SEED",
    "DIFFICULTIES",
    "EXTENDED",
    "LENGTHS",
    "MIN_GAP",
    "NOISE_KINDS",
    "SyntheticSet",
    "accuracy_frame",
    "benchmark_set",
    "noise_trajectories",
    "synthetic_trajectories",
]

#: The seed of the benchmark draw (``benchmarks/arcs.py``, the default of :func:`benchmark_set`).
BENCHMARK_SEED = 0
#: The seed of the draw the abstention thresholds are chosen on (never the benchmark's).
CALIBRATION_SEED = 1
NoiseKind = Literal["white", "ar1", "ma", "spike", "random_walk"]
#: Smallest distance between the two turns of a warped double-reversal arc.
MIN_GAP = 0.2
#: The kinds of noise the generator adds.
NOISE_KINDS: tuple[str, ...] = ("white", "ar1", "ma", "spike", "random_walk")
#: Probability that a point carries a spike (``spike`` noise).
SPIKE_RATE = 0.05
#: Widest box of the ``ma`` noise (a moving average of 2 to this many white values).
MA_WIDTH = 8


class SyntheticSet(NamedTuple):
    """Trajectories (rows of ``values``), their true arcs and their shared positions."""

    values: NDArray[np.float64]
    labels: NDArray[np.str_]
    positions: NDArray[np.float64]


def _noise(
    rng: np.random.Generator,
    shape: tuple[int, int],
    x: NDArray[np.float64],
    kind: str,
    correlation: float,
    phi: float | None = None,
) -> NDArray[np.float64]:
    """Unit-variance noise of the given kind along each row."""
    white = rng.standard_normal(shape)
    if kind == "white":
        return white
    if kind == "ar1" and phi is not None:
        return _ar1(white, rng.uniform(0.5, phi, (shape[0], 1)))
    if kind == "ar1":
        coefficient = float(np.exp(-np.mean(np.diff(x)) / correlation))
        out = np.empty(shape)
        out[:, 0] = white[:, 0]  # start in the stationary distribution
        out[:, 1:], _ = lfilter(
            [np.sqrt(1.0 - coefficient**2)],
            [1.0, -coefficient],
            white[:, 1:],
            axis=1,
            zi=coefficient * white[:, :1],
        )
        return out
    if kind == "ma":
        widths = rng.integers(2, MA_WIDTH + 1, shape[0])
        wide = np.concatenate([white, rng.standard_normal((shape[0], MA_WIDTH))], axis=1)
        total = np.cumsum(wide, axis=1)
        out = np.empty(shape)
        for q in np.unique(widths):
            rows = widths == q
            box = (
                total[rows, q - 1 : q - 1 + shape[1]]
                - np.pad(total[rows], ((0, 0), (1, 0)))[:, : shape[1]]
            )
            out[rows] = box / np.sqrt(q)
        return out
    if kind == "spike":
        return white * (rng.uniform(size=shape) < SPIKE_RATE) / np.sqrt(SPIKE_RATE)
    steps = white * np.sqrt(np.diff(x, prepend=0.0))[None, :]
    return np.cumsum(steps, axis=1)  # Brownian motion: variance equal to position, 1 at end


def _ar1(white: NDArray[np.float64], phi: NDArray[np.float64]) -> NDArray[np.float64]:
    """Stationary unit-variance AR(1) rows, each with its own coefficient (a column)."""
    out = np.empty_like(white)
    out[:, 0] = white[:, 0]
    innovation = np.sqrt(1.0 - phi[:, 0] ** 2)
    for t in range(1, white.shape[1]):
        out[:, t] = phi[:, 0] * out[:, t - 1] + innovation * white[:, t]
    return out


def synthetic_trajectories(
    n: int,
    *,
    length: int = 200,
    noise: float = 0.1,
    noise_kind: NoiseKind = "white",
    correlation: float = 0.05,
    warp: float = 0.1,
    uneven: bool = False,
    units: bool = True,
    phi: float | None = None,
    crop: float = 0.0,
    extreme_units: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> SyntheticSet:
    """Draw ``n`` noisy, time-warped trajectories, cycling through the six arcs.

    Parameters
    ----------
    n:
        Number of trajectories (arcs in enum order, repeated).
    length:
        Points per trajectory (at least 2).
    noise:
        Standard deviation of the noise on the arc scale (the arcs span about 0.55–0.8).
    noise_kind:
        ``white``, ``ar1`` (stationary, correlation length ``correlation`` in story
        position, applied at the mean spacing when positions are uneven; or with ``phi``
        a coefficient drawn per trajectory from U(0.5, phi)), ``ma`` (a moving average of
        2 to ``MA_WIDTH`` white values, width drawn per trajectory), ``spike`` (a point
        carries a spike with probability ``SPIKE_RATE``, elsewhere no noise) or
        ``random_walk`` (Brownian motion whose spread reaches ``noise`` at the end). Every
        kind but the random walk has standard deviation ``noise``.
    warp:
        Each turn (or a monotone arc's midpoint) moves by up to this much, uniformly; the
        two turns of a double reversal stay at least ``MIN_GAP`` apart.
    uneven:
        Draw one shared set of sorted random positions instead of an even grid.
    units:
        Map each trajectory to arbitrary units: scale 10**U(-2, 3), offset U(-100, 100).
    phi:
        Largest AR(1) coefficient (``ar1`` only; ``None`` keeps the correlation length).
    crop:
        Cut up to this fraction of the story off each end, uniformly (the trajectory shows
        the arc from ``c0`` to ``1 - c1``).
    extreme_units:
        Fraction of trajectories (with ``units``) scaled by 10**U(-300, 300) instead, with
        the offset in proportion.
    seed:
        Seed or generator.
    """
    if n < 1 or length < 2:
        raise ValueError(f"n >= 1 and length >= 2, got n={n}, length={length}")
    if noise_kind not in NOISE_KINDS:
        raise ValueError(f"noise_kind one of {NOISE_KINDS}, got {noise_kind!r}")
    if noise < 0.0 or not 0.0 <= warp < 0.2 or correlation <= 0.0:
        raise ValueError("noise >= 0, 0 <= warp < 0.2 and correlation > 0")
    if not (0.0 <= crop <= 0.2 and 0.0 <= extreme_units <= 1.0):
        raise ValueError(
            f"0 <= crop <= 0.2 and 0 <= extreme_units <= 1, got {crop}, {extreme_units}"
        )
    if phi is not None and not 0.5 < phi < 1.0:
        raise ValueError(f"phi in (0.5, 1), got {phi}")
    rng = np.random.default_rng(seed)
    if uneven:
        inner = np.sort(rng.uniform(0.0, 1.0, length - 2))
        x = np.concatenate([[0.0], inner, [1.0]])
    else:
        x = np.linspace(0.0, 1.0, length)
    kinds = [list(ArcType)[i % 6] for i in range(n)]
    values = np.empty((n, length))
    ends = rng.uniform(0.0, crop, (n, 2)) if crop > 0.0 else np.zeros((n, 2))
    for i, kind in enumerate(kinds):
        points = arc(kind).control_points
        canon = [p.position for p in points[1:-1]] or [0.5]
        knots = np.array(canon) + rng.uniform(-warp, warp, len(canon))
        while len(knots) == 2 and knots[1] - knots[0] < MIN_GAP:  # keep both turns distinct
            knots = np.array(canon) + rng.uniform(-warp, warp, len(canon))
        values[i] = warp_arc(kind, knots, ends[i, 0] + x * (1.0 - ends[i].sum()))
    values += noise * _noise(rng, values.shape, x, noise_kind, correlation, phi)
    if units:
        scale = 10.0 ** rng.uniform(-2.0, 3.0, (n, 1))
        offset = rng.uniform(-100.0, 100.0, (n, 1))
        if extreme_units > 0.0:
            extreme = rng.uniform(size=(n, 1)) < extreme_units
            big = 10.0 ** rng.uniform(-300.0, 300.0, (n, 1))
            offset = np.where(extreme, big * offset, offset)
            scale = np.where(extreme, big, scale)
        values = values * scale + offset
    return SyntheticSet(values, np.array([k.value for k in kinds]), x)


def noise_trajectories(
    n: int,
    *,
    length: int = 200,
    noise_kind: NoiseKind = "white",
    phi: float | None = None,
    seed: int | np.random.Generator | None = None,
) -> NDArray[np.float64]:
    """``n`` rows of pure noise (no arc) of one kind, in arbitrary units: what "no arc" is.

    The kinds and ``phi`` are those of :func:`synthetic_trajectories` (``ar1`` without
    ``phi`` uses a correlation length of 0.05); each row is scaled by 10**U(-2, 3) and
    shifted by U(-100, 100).
    """
    if n < 1 or length < 2 or noise_kind not in NOISE_KINDS:
        raise ValueError(f"n >= 1, length >= 2 and noise_kind one of {NOISE_KINDS}")
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, length)
    values = _noise(rng, (n, length), x, noise_kind, 0.05, phi)
    return values * 10.0 ** rng.uniform(-2.0, 3.0, (n, 1)) + rng.uniform(-100.0, 100.0, (n, 1))


#: Named difficulty levels: noise level per noise kind (arc-scale units) and the warp.
DIFFICULTIES: dict[str, dict[str, Any]] = {
    "clean": {"noise": {"white": 0.0}, "warp": 0.1},
    "mild": {"noise": {"white": 0.05, "ar1": 0.05, "random_walk": 0.1}, "warp": 0.1},
    "moderate": {"noise": {"white": 0.1, "ar1": 0.1, "random_walk": 0.2}, "warp": 0.1},
    "strong": {"noise": {"white": 0.2, "ar1": 0.2, "random_walk": 0.4}, "warp": 0.15},
    "warped": {"noise": {"white": 0.05, "ar1": 0.05, "random_walk": 0.1}, "warp": 0.19},
}
#: The harder tiers: moving-average and spike noise beside the original kinds (spikes are
#: rarer, so their level is higher at the strong tier), AR(1) coefficients drawn up to
#: ``phi``, crops of the ends up to ``crop`` and extreme units for a quarter of the
#: trajectories (scaled by 10**U(-300, 300)).
EXTENDED: dict[str, dict[str, Any]] = {
    name: {**spec, "phi": 0.97, "crop": 0.08, "extreme_units": 0.25}
    for name, spec in {
        "clean": {"noise": {"white": 0.0}, "warp": 0.1},
        "mild": {
            "noise": {"white": 0.05, "ar1": 0.05, "ma": 0.05, "spike": 0.05, "random_walk": 0.1},
            "warp": 0.1,
        },
        "moderate": {
            "noise": {"white": 0.1, "ar1": 0.1, "ma": 0.1, "spike": 0.1, "random_walk": 0.2},
            "warp": 0.1,
        },
        "strong": {
            "noise": {"white": 0.25, "ar1": 0.25, "ma": 0.25, "spike": 0.5, "random_walk": 0.4},
            "warp": 0.15,
        },
        "warped": {
            "noise": {"white": 0.05, "ar1": 0.05, "ma": 0.05, "spike": 0.05, "random_walk": 0.1},
            "warp": 0.19,
        },
    }.items()
}
#: Trajectory lengths of the benchmark set.
LENGTHS: tuple[int, ...] = (11, 25, 50, 200, 2000)


def benchmark_set(
    per_condition: int = 60,
    *,
    difficulties: tuple[str, ...] | None = None,
    lengths: tuple[int, ...] = LENGTHS,
    tiers: dict[str, dict[str, Any]] = DIFFICULTIES,
    seed: int | np.random.Generator | None = BENCHMARK_SEED,
) -> Iterator[tuple[dict[str, Any], SyntheticSet]]:
    """Yield ``(condition, set)`` for every difficulty × noise kind × length × spacing.

    ``tiers`` is :data:`DIFFICULTIES` or :data:`EXTENDED` (``difficulties`` picks some of
    its tiers, all by default). Each condition holds ``per_condition`` trajectories (a
    multiple of 6 keeps the arcs balanced); even and uneven positions alternate by condition.
    Child generators are spawned from ``seed`` in order, so a condition is regenerated by
    the same seed with the same tiers, difficulties and lengths.
    """
    rng = np.random.default_rng(seed)
    for difficulty in tuple(tiers) if difficulties is None else difficulties:
        spec = tiers[difficulty]
        extra = {k: spec[k] for k in ("phi", "crop", "extreme_units") if k in spec}
        for kind, noise in spec["noise"].items():
            for i, length in enumerate(lengths):
                uneven = bool(i % 2)
                condition = {
                    "difficulty": difficulty,
                    "noise_kind": kind,
                    "noise": noise,
                    "length": length,
                    "uneven": uneven,
                }
                data = synthetic_trajectories(
                    per_condition,
                    length=length,
                    noise=noise,
                    noise_kind=kind,
                    warp=spec["warp"],
                    uneven=uneven,
                    seed=rng.spawn(1)[0],
                    **extra,
                )
                yield condition, data


def accuracy_frame(
    classify: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray],
    per_condition: int = 60,
    *,
    seed: int | np.random.Generator | None = BENCHMARK_SEED,
    **kwargs: Any,
) -> pd.DataFrame:
    """Run ``classify(values, positions) -> predicted labels`` over :func:`benchmark_set`.

    ``classify`` may instead return a DataFrame with a ``predicted`` column and any others
    (a confidence, say), which are kept. Returns one row per trajectory: the condition
    columns, ``arc`` (truth), ``predicted`` (``None`` for an abstention) and ``correct``
    (abstentions count as wrong).
    """
    frames = []
    for condition, data in benchmark_set(per_condition, seed=seed, **kwargs):
        result = classify(data.values, data.positions)
        if isinstance(result, pd.DataFrame):
            frame = result.reset_index(drop=True).assign(arc=data.labels)
        else:
            predicted = np.asarray(result, dtype=object)
            frame = pd.DataFrame({"arc": data.labels, "predicted": predicted})
        frames.append(frame.assign(**condition))
    out = pd.concat(frames, ignore_index=True)
    out["correct"] = out["arc"] == out["predicted"]
    return out
