"""A small trained arc classifier: a one-hidden-layer network over smoothed, normalised series.

The template matcher (:mod:`storylab.theory.classify`) explains a trajectory (which warp of
which arc, where the turns are); this network decides which arc it is when the noise is
strong. Its inputs, for a trajectory already divided by its largest absolute value:

- for short series (fewer than ``DESPIKE_BELOW`` points), spikes clipped first: each value
  more than four robust spreads from the median of its neighbours is pulled back;
- the series smoothed onto the classifier's grid by the same Gaussian kernel as the
  templates, then z-normalised (units and offset gone);
- its correlations with the six canonical arcs at the raw resolution and the six template
  scores (the warps), and the same two for its increments: the raw increments, each over
  the root of its step (the whitening of a random walk), against the arcs' increments, and
  the steps of the smoothed curve against those of the smoothed templates;
- the roughness of the raw samples (the von Neumann ratio: squared steps over twice the
  squared spread; 1 for white noise, near 0 for a smooth curve) and ``1 / sqrt(n)``, which
  tell the network how far to trust the shape.

It outputs probabilities for the six arcs and ``noise`` (no arc). It is trained on the
seeded generator (:mod:`storylab.theory.synthetic`, the ``EXTENDED`` tiers at every length
in ``TRAIN_LENGTHS``, plus pure-noise rows) with full-batch Adam from a seeded start, so
:func:`train_arc_model` with the same arguments gives the same weights on the same machine.
The shipped weights (``storylab/data/arc-model.npz``, a few kilobytes) were made by
``train_arc_model()`` with its defaults, and record the arguments used.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from storylab._data import packaged_path
from storylab.theory.arcs import ArcType

if TYPE_CHECKING:
    from storylab.theory.classify import ClassifierSettings

__all__ = [
    "CLASSES",
    "DESPIKE_BELOW",
    "MODEL_FILE",
    "TRAIN_LENGTHS",
    "TRAIN_SEED",
    "ArcModel",
    "arc_model",
    "despike",
    "features",
    "model_inputs",
    "train_arc_model",
]

#: The network's outputs: the six arcs in enum order, then "noise" (no arc).
CLASSES: tuple[str, ...] = (*(k.value for k in ArcType), "noise")
#: Series shorter than this lose their spikes before smoothing.
DESPIKE_BELOW = 100
#: The packaged weights.
MODEL_FILE = "arc-model.npz"
#: The seed of the training draw: never the benchmark's or the calibration draw's.
TRAIN_SEED = 2016
#: Lengths of the training trajectories.
TRAIN_LENGTHS: tuple[int, ...] = (11, 13, 15, 18, 21, 25, 30, 40, 50, 75, 100, 200, 500, 2000)


@dataclass(frozen=True)
class ArcModel:
    """Weights of the network and what its features need (the grid and the smoothing)."""

    w1: NDArray[np.float64]
    b1: NDArray[np.float64]
    w2: NDArray[np.float64]
    b2: NDArray[np.float64]
    grid: int
    smoothing: float
    trained_with: dict[str, int]

    @cached_property
    def _single(self) -> tuple[NDArray[np.float32], ...]:
        """The weights in single precision (converted once)."""
        return tuple(w.astype(np.float32) for w in (self.w1, self.b1, self.w2, self.b2))

    def probabilities(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Class probabilities (rows x ``CLASSES``) for a feature matrix."""
        w1, b1, w2, b2 = self._single
        hidden = x.astype(np.float32) @ w1  # single precision: 2x
        hidden += b1
        np.tanh(hidden, out=hidden)
        logits = hidden @ w2
        logits += b2
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits.astype(np.float64)

    def save(self, path: str | Path) -> None:
        """Write the weights and their provenance to an ``.npz`` file."""
        with open(path, "wb") as handle:
            np.savez(
                handle,
                w1=self.w1,
                b1=self.b1,
                w2=self.w2,
                b2=self.b2,
                grid=self.grid,
                smoothing=self.smoothing,
                trained_with=np.array(list(self.trained_with.items()), dtype=object).astype(str),
            )

    @classmethod
    def load(cls, path: str | Path) -> ArcModel:
        """Read weights written by :meth:`save`."""
        with np.load(path) as data:
            return cls(
                w1=data["w1"],
                b1=data["b1"],
                w2=data["w2"],
                b2=data["b2"],
                grid=int(data["grid"]),
                smoothing=float(data["smoothing"]),
                trained_with={str(k): int(v) for k, v in data["trained_with"]},
            )


@cache
def arc_model() -> ArcModel:
    """The packaged network (read once)."""
    return ArcModel.load(packaged_path(MODEL_FILE))


def despike(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows with values far from the median of their neighbours pulled back (short series)."""
    a, b, c = u[:, :-2], u[:, 1:-1], u[:, 2:]
    middle = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    median = u.copy()
    median[:, 1:-1] = middle
    median[:, 0] = np.median(u[:, :3], axis=1)  # the ends: median of the first/last three
    median[:, -1] = np.median(u[:, -3:], axis=1)
    step = u - median
    spread = np.maximum(1.4826 * np.median(np.abs(step), axis=1), 0.1 * u.std(axis=1))
    limit = 4.0 * spread[:, None]
    return median + np.clip(step, -limit, limit)


def model_inputs(
    centred: NDArray[np.float64],
    norm: NDArray[np.float64],
    inverse: NDArray[np.float64],
    smooth: NDArray[np.float64],
    raw: NDArray[np.float64],
    family: NDArray[np.float64],
    slope_family: NDArray[np.float64],
) -> NDArray[np.float64]:
    """The network's inputs for B rows.

    ``centred`` are the rows over their largest magnitude (despiked when short), centred;
    ``norm`` their norms (1 for a flat row); ``inverse`` one over each step between the unit
    positions; ``smooth`` the rows smoothed onto the grid; ``raw`` their inner products with
    the six canonical arcs at the raw positions, then with the arcs' whitened increments;
    ``family`` the six template scores and ``slope_family`` the same for the steps of the
    smoothed curve.
    """
    n, k = centred.shape[1], raw.shape[1] // 2
    grid = smooth - smooth.mean(axis=1, keepdims=True)
    scale = np.sqrt(np.einsum("ij,ij->i", grid, grid))[:, None]
    grid *= np.sqrt(smooth.shape[1]) / np.where(scale > 0.0, scale, 1.0)
    if np.ptp(inverse) <= 1e-9 * inverse[0]:  # even steps: from the lag products, no copy
        lag = np.einsum("ij,ij->i", centred[:, 1:], centred[:, :-1])
        walk = 2.0 * norm**2 - centred[:, 0] ** 2 - centred[:, -1] ** 2 - 2.0 * lag
        walk *= inverse[0]
    else:
        steps = np.diff(centred, axis=1)
        steps *= np.sqrt(inverse)
        walk = np.einsum("ij,ij->i", steps, steps)  # squared increments over their steps
    rough = walk / ((n - 1) * 2.0 * norm**2)  # the von Neumann ratio when evenly spaced
    root = np.sqrt(walk)
    out = np.empty((len(centred), grid.shape[1] + 4 * k + 2))
    out[:, : grid.shape[1]] = grid
    blocks = out[:, grid.shape[1] : -2].reshape(len(centred), 4, k)
    blocks[:, 0] = raw[:, :k] / norm[:, None]
    blocks[:, 1] = family
    blocks[:, 2] = raw[:, k:] / np.where(root > 0.0, root, 1.0)[:, None]
    blocks[:, 3] = slope_family
    blocks *= 3.0
    out[:, -2] = rough
    out[:, -1] = 3.0 / np.sqrt(n)
    return out


def features(
    values: NDArray[np.float64], positions: NDArray[np.float64], settings: ClassifierSettings
) -> NDArray[np.float64]:
    """The network's inputs for the rows of ``values`` at ``positions`` (any units)."""
    from storylab.theory.classify import _network_inputs

    return _network_inputs(values, positions, settings)


def _training_set(
    per_condition: int, seed: int, grid: int, smoothing: float
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    from storylab.theory.classify import ClassifierSettings
    from storylab.theory.synthetic import (
        EXTENDED,
        NOISE_KINDS,
        benchmark_set,
        noise_trajectories,
    )

    settings = ClassifierSettings(grid=grid, smoothing=smoothing)
    rows, labels = [], []
    for _, data in benchmark_set(per_condition, lengths=TRAIN_LENGTHS, tiers=EXTENDED, seed=seed):
        rows.append(features(data.values, data.positions, settings))
        labels.append([CLASSES.index(label) for label in data.labels])
    rng = np.random.default_rng([seed, 1])
    per_kind = max(1, per_condition * 21 // 30)  # about one row in seven is pure noise
    for length in TRAIN_LENGTHS:
        x = np.linspace(0.0, 1.0, length)
        for kind in NOISE_KINDS:
            noise = noise_trajectories(
                per_kind,
                length=length,
                noise_kind=kind,
                phi=0.97 if kind == "ar1" else None,
                seed=rng.spawn(1)[0],
            )
            rows.append(features(noise, x, settings))
            labels.append([len(CLASSES) - 1] * per_kind)
    return np.concatenate(rows), np.concatenate(labels).astype(np.intp)


def train_arc_model(
    *,
    per_condition: int = 96,
    hidden: int = 48,
    steps: int = 1500,
    decay: float = 1e-3,
    seed: int = TRAIN_SEED,
    grid: int = 32,
    smoothing: float = 0.04,
    progress: bool = False,
) -> ArcModel:
    """Train the network on the seeded generator (full-batch Adam, cross-entropy, L2 ``decay``).

    ``seed`` draws the training set and the starting weights; the same arguments give the
    same weights. The seeds of the benchmark and of the calibration draw
    (:data:`~storylab.theory.synthetic.BENCHMARK_SEED`, ``CALIBRATION_SEED``) are refused:
    a model trained on the draw it is measured or calibrated on would overfit it.
    """
    from tqdm.auto import tqdm

    from storylab.theory.synthetic import BENCHMARK_SEED, CALIBRATION_SEED

    if seed in (BENCHMARK_SEED, CALIBRATION_SEED):
        raise ValueError(
            f"seed: not {BENCHMARK_SEED} or {CALIBRATION_SEED} (the benchmark's and the"
            f" calibration draw's), got {seed}"
        )

    x, y = _training_set(per_condition, seed, grid, smoothing)
    rng = np.random.default_rng([seed, 2])
    k = len(CLASSES)
    params = [
        rng.normal(0.0, 1.0 / np.sqrt(x.shape[1]), (x.shape[1], hidden)),
        np.zeros(hidden),
        rng.normal(0.0, 1.0 / np.sqrt(hidden), (hidden, k)),
        np.zeros(k),
    ]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    onehot = np.eye(k)[y]
    rate = 0.01
    for step in tqdm(range(1, steps + 1), disable=not progress, desc="training"):
        w1, b1, w2, b2 = params
        h = np.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        d_logits = (p - onehot) / len(x)
        d_h = (d_logits @ w2.T) * (1.0 - h * h)
        grads = [
            x.T @ d_h + decay * w1,
            d_h.sum(axis=0),
            h.T @ d_logits + decay * w2,
            d_logits.sum(axis=0),
        ]
        for i, (g, (m, v)) in enumerate(zip(grads, moments, strict=True)):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            params[i] = params[i] - rate * (m / (1 - 0.9**step)) / (
                np.sqrt(v / (1 - 0.999**step)) + 1e-8
            )
    return ArcModel(
        *params,
        grid=grid,
        smoothing=smoothing,
        trained_with={
            "per_condition": per_condition,
            "hidden": hidden,
            "steps": steps,
            "decay_per_million": round(decay * 1e6),
            "seed": seed,
        },
    )
