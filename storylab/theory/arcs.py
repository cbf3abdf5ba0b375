"""The six emotional arcs of Reagan et al. (2016) as curves you can evaluate.

Each arc is defined in ``emotional-arcs.yaml`` three ways that must agree: a closed form
(a piecewise raised cosine through the control points), the named control points, and an
11-sample trajectory at positions 0.0, 0.1, ..., 1.0. Arc values live on the *arc scale*
[0, 1] (0 = the unhappiest moment a story reaches, 1 = the happiest); :func:`to_spectrum`
maps them onto the spectrum scale [-1, 1].
"""

from __future__ import annotations

import itertools
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field, PrivateAttr, model_validator

from storylab._data import Frozen, UnknownNameError, packaged_path, parse_model, read_document

if TYPE_CHECKING:  # scipy is imported when the first arc is built, keeping `import storylab` light
    from scipy.interpolate import PchipInterpolator

__all__ = [
    "SAMPLE_POSITIONS",
    "ArcDirection",
    "ArcType",
    "ControlPoint",
    "EmotionalArc",
    "TurningPoint",
    "arc",
    "arcs",
    "from_spectrum",
    "load_arcs",
    "raised_cosine",
    "to_spectrum",
]

#: Positions of the 11 stored samples.
SAMPLE_POSITIONS = np.linspace(0.0, 1.0, 11)
#: How far a stored sample may sit from the closed form (samples are stored to 4 decimals).
SAMPLE_TOLERANCE = 5e-4


class ArcType(StrEnum):
    """The six basic shapes found by Reagan et al. (2016) in 1,327 Project Gutenberg books."""

    RAGS_TO_RICHES = "rags_to_riches"
    TRAGEDY = "tragedy"
    MAN_IN_A_HOLE = "man_in_a_hole"
    ICARUS = "icarus"
    CINDERELLA = "cinderella"
    OEDIPUS = "oedipus"


class ArcDirection(StrEnum):
    """Whether an arc ends higher (positive) or lower (negative) than it starts."""

    POSITIVE = "positive"
    NEGATIVE = "negative"


class ControlPoint(Frozen):
    """A named point the arc passes through (start, nadir, apex, ...)."""

    position: float = Field(ge=0.0, le=1.0)
    value: float = Field(ge=0.0, le=1.0)
    label: str = Field(min_length=1)


class TurningPoint(Frozen):
    """A local extremum of an arc or a fitted trajectory."""

    position: float
    value: float
    kind: Literal["peak", "trough"]


def to_spectrum(value: ArrayLike) -> NDArray[np.float64] | float:
    """Map arc-scale values [0, 1] onto the spectrum scale [-1, 1] (``2 v - 1``)."""
    out = 2.0 * np.asarray(value, dtype=float) - 1.0
    return float(out) if out.ndim == 0 else out


def from_spectrum(value: ArrayLike) -> NDArray[np.float64] | float:
    """Map spectrum values [-1, 1] onto the arc scale [0, 1] (``(s + 1) / 2``)."""
    out = (np.asarray(value, dtype=float) + 1.0) / 2.0
    return float(out) if out.ndim == 0 else out


def raised_cosine(points: tuple[ControlPoint, ...], x: ArrayLike) -> NDArray[np.float64]:
    """The closed form: between control points, ``v0 + (v1 - v0) (1 - cos(pi t)) / 2``.

    ``t`` runs from 0 to 1 across each segment, so the curve passes through every control
    point with zero slope there and is monotonic in between.
    """
    xs = np.array([p.position for p in points])
    vs = np.array([p.value for p in points])
    x = np.asarray(x, dtype=float)
    seg = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 2)
    t = (x - xs[seg]) / (xs[seg + 1] - xs[seg])
    return vs[seg] + (vs[seg + 1] - vs[seg]) * (1.0 - np.cos(np.pi * t)) / 2.0


def _turning_indices(values: NDArray[np.float64]) -> list[int]:
    """Indices of strict interior local extrema (plateaus count once, at their middle)."""
    steps = np.sign(np.diff(values))
    nz = np.flatnonzero(steps)
    out = []
    for a, b in itertools.pairwise(nz):
        if steps[a] != steps[b]:
            out.append(int((a + 1 + b) // 2))
    return out


class EmotionalArc(Frozen):
    """One of the six arcs: evaluate it, differentiate it, sample it, find its turns.

    >>> a = arc("man_in_a_hole")
    >>> round(a.evaluate(0.5), 3)
    0.2
    >>> [(t.position, t.kind) for t in a.turning_points()]
    [(0.5, 'trough')]
    """

    type: ArcType
    name: str
    shape_pattern: Literal[
        "rise", "fall", "fall_rise", "rise_fall", "rise_fall_rise", "fall_rise_fall"
    ]
    direction: ArcDirection
    mathematical_form: str = Field(min_length=1)
    description: str = ""
    control_points: tuple[ControlPoint, ...] = Field(min_length=2)
    samples: tuple[float, ...] = Field(min_length=11, max_length=11)

    _curve: PchipInterpolator = PrivateAttr()

    @model_validator(mode="after")
    def _three_views_agree(self) -> EmotionalArc:
        positions = [p.position for p in self.control_points]
        if positions[0] != 0.0 or positions[-1] != 1.0 or positions != sorted(set(positions)):
            raise ValueError(f"control point positions increasing from 0.0 to 1.0, got {positions}")
        samples = np.array(self.samples)
        if np.any((samples < 0.0) | (samples > 1.0)):
            raise ValueError(f"samples on the arc scale [0, 1], got {list(self.samples)}")
        closed = raised_cosine(self.control_points, SAMPLE_POSITIONS)
        worst = int(np.argmax(np.abs(closed - samples)))
        if abs(closed[worst] - samples[worst]) > SAMPLE_TOLERANCE:
            raise ValueError(
                f"samples that follow the closed form: at position {SAMPLE_POSITIONS[worst]:.1f}"
                f" the sample is {samples[worst]} but the form gives {closed[worst]:.4f}"
            )
        turns = [round(float(SAMPLE_POSITIONS[i]), 6) for i in _turning_indices(samples)]
        interior = [p.position for p in self.control_points[1:-1]]
        if turns != interior:
            raise ValueError(
                f"sample turning points at the interior control points {interior}, got {turns}"
            )
        rises = np.sign(np.diff([p.value for p in self.control_points]))
        pattern = "_".join("rise" if r > 0 else "fall" for r in rises)
        if pattern != self.shape_pattern:
            raise ValueError(f"shape_pattern {pattern!r} (from the control points)")
        ends_higher = self.control_points[-1].value > self.control_points[0].value
        if (self.direction is ArcDirection.POSITIVE) != ends_higher:
            raise ValueError("direction 'positive' exactly when the arc ends above its start")
        return self

    def model_post_init(self, __context: object) -> None:
        from scipy.interpolate import PchipInterpolator

        self._curve = PchipInterpolator(SAMPLE_POSITIONS, np.array(self.samples))

    @staticmethod
    def _positions(position: ArrayLike) -> NDArray[np.float64]:
        x = np.asarray(position, dtype=float)
        if np.any(~np.isfinite(x)) or np.any((x < 0.0) | (x > 1.0)):
            bad = x[~((x >= 0.0) & (x <= 1.0))].ravel()[:3]
            raise ValueError(f"positions must lie in [0, 1]; got {bad.tolist()}")
        return x

    def evaluate(self, position: ArrayLike) -> NDArray[np.float64] | float:
        """Arc value at ``position`` (a float or array in [0, 1]); shape-preserving (PCHIP)."""
        out = self._curve(self._positions(position))
        return float(out) if np.ndim(out) == 0 else out

    def derivative(self, position: ArrayLike) -> NDArray[np.float64] | float:
        """Slope of the interpolated arc at ``position``."""
        out = self._curve.derivative()(self._positions(position))
        return float(out) if np.ndim(out) == 0 else out

    def closed_form(self, position: ArrayLike) -> NDArray[np.float64] | float:
        """The arc's mathematical form (raised cosine through the control points)."""
        out = raised_cosine(self.control_points, self._positions(position))
        return float(out) if np.ndim(out) == 0 else out

    def sample(self, n: int = 11) -> NDArray[np.float64]:
        """``n`` evenly spaced values from position 0 to 1."""
        if n < 2:
            raise ValueError(f"n must be at least 2, got {n}")
        return self._curve(np.linspace(0.0, 1.0, n))

    def turning_points(self) -> list[TurningPoint]:
        """The interior peaks and troughs (they sit on samples: PCHIP never overshoots)."""
        samples = np.array(self.samples)
        return [
            TurningPoint(
                position=round(float(SAMPLE_POSITIONS[i]), 6),
                value=float(samples[i]),
                kind="peak" if samples[i] > samples[i - 1] else "trough",
            )
            for i in _turning_indices(samples)
        ]


class ArcsData(Frozen):
    """The contents of ``emotional-arcs.yaml``."""

    version: int
    source: str
    scale: dict[str, float]
    arcs: tuple[EmotionalArc, ...]

    @model_validator(mode="after")
    def _all_six(self) -> ArcsData:
        kinds = [a.type for a in self.arcs]
        if sorted(kinds) != sorted(ArcType) or len(kinds) != len(set(kinds)):
            raise ValueError(f"each of the six arcs exactly once, got {[k.value for k in kinds]}")
        return self


def load_arcs(path: str | Path | None = None) -> ArcsData:
    """Load and validate an ``emotional-arcs.yaml`` (the packaged one by default)."""
    source = path or packaged_path("emotional-arcs.yaml")
    return parse_model(ArcsData, read_document(source), source)


@cache
def _packaged() -> dict[ArcType, EmotionalArc]:
    return {a.type: a for a in load_arcs().arcs}


def arcs() -> tuple[EmotionalArc, ...]:
    """The six packaged arcs, in enum order."""
    table = _packaged()
    return tuple(table[t] for t in ArcType)


def arc(kind: ArcType | str) -> EmotionalArc:
    """One packaged arc by type; unknown names raise an error listing the known ones."""
    try:
        return _packaged()[ArcType(kind)]
    except ValueError:
        raise UnknownNameError("arc", kind, [t.value for t in ArcType]) from None
