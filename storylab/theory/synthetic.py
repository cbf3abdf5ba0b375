"""Seeded synthetic trajectories of known arc: the test bed for :func:`classify_arc`.

Each trajectory is one of the six arcs with its turns moved by a random time warp, plus
noise (white, AR(1) or a random walk) on the arc scale, then mapped to arbitrary units by a
random positive scale and offset. Everything is reproducible from the seed.
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
    "DIFFICULTIES",
    "LENGTHS",
    "MIN_GAP",
    "NOISE_KINDS",
    "SyntheticSet",
    "accuracy_frame",
    "benchmark_set",
    "synthetic_trajectories",
]

NoiseKind = Literal["white", "ar1", "random_walk"]
#: Smallest distance between the two turns of a warped double-reversal arc.
MIN_GAP = 0.2
#: The kinds of noise the generator adds.
NOISE_KINDS: tuple[str, ...] = ("white", "ar1", "random_walk")


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
) -> NDArray[np.float64]:
    """Unit-variance noise of the given kind along each row."""
    white = rng.standard_normal(shape)
    if kind == "white":
        return white
    if kind == "ar1":
        phi = float(np.exp(-np.mean(np.diff(x)) / correlation))
        out = np.empty(shape)
        out[:, 0] = white[:, 0]  # start in the stationary distribution
        out[:, 1:], _ = lfilter(
            [np.sqrt(1.0 - phi * phi)], [1.0, -phi], white[:, 1:], axis=1, zi=phi * white[:, :1]
        )
        return out
    steps = white * np.sqrt(np.diff(x, prepend=0.0))[None, :]
    return np.cumsum(steps, axis=1)  # Brownian motion: variance equal to position, 1 at end


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
        position, applied at the mean spacing when positions are uneven) or
        ``random_walk`` (Brownian motion whose spread reaches ``noise`` at the end).
    warp:
        Each turn (or a monotone arc's midpoint) moves by up to this much, uniformly; the
        two turns of a double reversal stay at least ``MIN_GAP`` apart.
    uneven:
        Draw one shared set of sorted random positions instead of an even grid.
    units:
        Map each trajectory to arbitrary units: scale 10**U(-2, 3), offset U(-100, 100).
    seed:
        Seed or generator.
    """
    if n < 1 or length < 2:
        raise ValueError(f"n >= 1 and length >= 2, got n={n}, length={length}")
    if noise_kind not in NOISE_KINDS:
        raise ValueError(f"noise_kind one of {NOISE_KINDS}, got {noise_kind!r}")
    if noise < 0.0 or not 0.0 <= warp < 0.2 or correlation <= 0.0:
        raise ValueError("noise >= 0, 0 <= warp < 0.2 and correlation > 0")
    rng = np.random.default_rng(seed)
    if uneven:
        inner = np.sort(rng.uniform(0.0, 1.0, length - 2))
        x = np.concatenate([[0.0], inner, [1.0]])
    else:
        x = np.linspace(0.0, 1.0, length)
    kinds = [list(ArcType)[i % 6] for i in range(n)]
    values = np.empty((n, length))
    for i, kind in enumerate(kinds):
        points = arc(kind).control_points
        canon = [p.position for p in points[1:-1]] or [0.5]
        knots = np.array(canon) + rng.uniform(-warp, warp, len(canon))
        while len(knots) == 2 and knots[1] - knots[0] < MIN_GAP:  # keep both turns distinct
            knots = np.array(canon) + rng.uniform(-warp, warp, len(canon))
        values[i] = warp_arc(kind, knots, x)
    values += noise * _noise(rng, values.shape, x, noise_kind, correlation)
    if units:
        scale = 10.0 ** rng.uniform(-2.0, 3.0, (n, 1))
        values = values * scale + rng.uniform(-100.0, 100.0, (n, 1))
    return SyntheticSet(values, np.array([k.value for k in kinds]), x)


#: Named difficulty levels: noise level per noise kind (arc-scale units) and the warp.
DIFFICULTIES: dict[str, dict[str, Any]] = {
    "clean": {"noise": {"white": 0.0}, "warp": 0.1},
    "mild": {"noise": {"white": 0.05, "ar1": 0.05, "random_walk": 0.1}, "warp": 0.1},
    "moderate": {"noise": {"white": 0.1, "ar1": 0.1, "random_walk": 0.2}, "warp": 0.1},
    "strong": {"noise": {"white": 0.2, "ar1": 0.2, "random_walk": 0.4}, "warp": 0.15},
    "warped": {"noise": {"white": 0.05, "ar1": 0.05, "random_walk": 0.1}, "warp": 0.19},
}
#: Trajectory lengths of the benchmark set.
LENGTHS: tuple[int, ...] = (11, 25, 50, 200, 2000)


def benchmark_set(
    per_condition: int = 60,
    *,
    difficulties: tuple[str, ...] = tuple(DIFFICULTIES),
    lengths: tuple[int, ...] = LENGTHS,
    seed: int | np.random.Generator | None = 0,
) -> Iterator[tuple[dict[str, Any], SyntheticSet]]:
    """Yield ``(condition, set)`` for every difficulty × noise kind × length × spacing.

    Each condition holds ``per_condition`` trajectories (a multiple of 6 keeps the arcs
    balanced); even and uneven positions alternate by condition. Child generators are spawned
    from ``seed``, so each condition is reproducible on its own.
    """
    rng = np.random.default_rng(seed)
    for difficulty in difficulties:
        spec = DIFFICULTIES[difficulty]
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
                )
                yield condition, data


def accuracy_frame(
    classify: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray],
    per_condition: int = 60,
    *,
    seed: int | np.random.Generator | None = 0,
    **kwargs: Any,
) -> pd.DataFrame:
    """Run ``classify(values, positions) -> predicted labels`` over :func:`benchmark_set`.

    Returns one row per trajectory: the condition columns, ``arc`` (truth), ``predicted``
    (``None`` for an abstention) and ``correct`` (abstentions count as wrong).
    """
    frames = []
    for condition, data in benchmark_set(per_condition, seed=seed, **kwargs):
        predicted = np.asarray(classify(data.values, data.positions), dtype=object)
        frame = pd.DataFrame({"arc": data.labels, "predicted": predicted})
        frames.append(frame.assign(**condition))
    out = pd.concat(frames, ignore_index=True)
    out["correct"] = out["arc"] == out["predicted"]
    return out
