"""Which of the six emotional arcs does a trajectory follow? Time-warped template matching.

A trajectory (any length from 11 points, any units, optional uneven positions) is smoothed
onto a fixed grid by a Gaussian kernel, z-normalised, and correlated with a bank of
*time-warped* arc templates: every arc whose turning points were moved earlier or later by a
monotone piecewise-linear warp of its control-point positions. The templates go through the
same smoothing operator as the data, so edge effects and blur cancel. A warp's score is its
correlation with the data minus a small penalty for how far its turns moved from the
canonical ones (a prior for canonical timing); an arc's score is that of its best warp, and
the fitted warp gives the turning points.

The classifier abstains, with the reason, when the trajectory is flat, when its best fit is
not distinguishable from white noise (a t statistic of the raw-resolution correlation), when
no arc correlates clearly, or when the two best arcs are too close to call.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field, model_validator

from storylab._data import Frozen
from storylab.theory.arcs import ArcType, TurningPoint, arc, raised_cosine

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MIN_POINTS",
    "ArcFit",
    "ArcMatch",
    "ClassifierSettings",
    "arc_templates",
    "classify_arc",
    "classify_arcs",
    "warp_arc",
]

#: The shortest trajectory the classifier accepts (the arcs' own sample count).
MIN_POINTS = 11
_ARC_ORDER = tuple(ArcType)
_REASONS = ("flat", "noise", "weak", "ambiguous")


class ClassifierSettings(Frozen):
    """Every tunable of the classifier, stored as given (sweepable, dumps to a flat dict).

    Parameters
    ----------
    grid:
        Points of the common grid the trajectory is smoothed onto.
    smoothing:
        Gaussian kernel width in story-position units (widened to the sample spacing for
        short trajectories).
    warp_step:
        Spacing of the candidate turn positions.
    turn_range:
        Earliest and latest position a turn may be moved to.
    min_gap:
        Smallest distance between the two turns of a double-reversal arc.
    mid_range:
        Range over which the midpoint of a monotone arc (rise or fall) may be moved.
    warp_penalty:
        Subtracted from a warp's correlation per unit of squared distance its knots moved
        from the canonical ones (a prior for canonical timing; 0 = every warp equal).
    min_score:
        Abstain when the best arc's score is below this.
    min_margin:
        Abstain when the two best arcs' scores are closer than this.
    min_strength:
        Abstain when the t statistic of the raw-resolution fit is below this (noise).
    """

    grid: int = Field(32, ge=16, le=1024)
    smoothing: float = Field(0.04, gt=0.0, le=0.5)
    warp_step: float = Field(0.05, gt=0.0, le=0.25)
    turn_range: tuple[float, float] = (0.1, 0.9)
    min_gap: float = Field(0.2, gt=0.0, lt=1.0)
    mid_range: tuple[float, float] = (0.3, 0.7)
    warp_penalty: float = Field(1.0, ge=0.0)
    min_score: float = Field(0.7, ge=-1.0, le=1.0)
    min_margin: float = Field(0.0, ge=0.0, le=2.0)
    min_strength: float = Field(4.0, ge=0.0)

    @model_validator(mode="after")
    def _ranges(self) -> ClassifierSettings:
        for name in ("turn_range", "mid_range"):
            lo, hi = getattr(self, name)
            if not 0.0 < lo < hi < 1.0:
                raise ValueError(f"{name} as (low, high) with 0 < low < high < 1, got {(lo, hi)}")
        return self


class ArcMatch(NamedTuple):
    """One arc's best fit: its score (correlation less the warp prior) and its turns.

    ``turns`` are in the caller's position units; ``knots`` is the fitted warp on the unit
    scale (the turns, or for a monotone arc the new position of its midpoint), ready for
    :func:`warp_arc`.
    """

    arc: ArcType
    score: float
    turns: tuple[float, ...]
    knots: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class ArcFit:
    """The result of :func:`classify_arc`.

    ``matches`` rank all six arcs, best first. ``best`` is the winning arc, or ``None`` when
    the classifier abstains; ``reason`` then says why. ``turning_points`` are the fitted
    turns of the best-scoring arc, in the caller's position and value units.
    """

    matches: tuple[ArcMatch, ...]
    best: ArcType | None
    reason: str | None
    strength: float
    turning_points: tuple[TurningPoint, ...]

    @property
    def abstained(self) -> bool:
        """Whether no arc was chosen."""
        return self.best is None

    @property
    def margin(self) -> float:
        """Score of the best-ranked arc minus that of the runner-up."""
        return self.matches[0].score - self.matches[1].score

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "best": None if self.best is None else self.best.value,
            "reason": self.reason,
            "strength": round(self.strength, 4),
            "margin": round(self.margin, 4),
            "matches": [
                {"arc": m.arc.value, "score": round(m.score, 4), "turns": list(m.turns)}
                for m in self.matches
            ],
            "turning_points": [t.model_dump() for t in self.turning_points],
        }


def warp_arc(kind: ArcType | str, knots: ArrayLike, position: ArrayLike) -> NDArray[np.float64]:
    """Evaluate an arc whose knots were moved to ``knots`` (a monotone time warp).

    ``knots`` are the new positions of the arc's interior control points (one per turn), or
    for a monotone arc the new position of its midpoint. The warp is piecewise linear.

    >>> float(warp_arc("man_in_a_hole", [0.3], 0.3))
    0.2
    """
    a = arc(kind)
    canon = _canonical_knots(a.type)
    new = np.concatenate([[0.0], np.asarray(knots, dtype=float).ravel(), [1.0]])
    if new.shape != canon.shape or np.any(np.diff(new) <= 0.0):
        raise ValueError(
            f"{len(canon) - 2} increasing knot(s) strictly inside (0, 1) for {a.type.value},"
            f" got {np.asarray(knots).ravel().tolist()}"
        )
    u = np.interp(np.asarray(position, dtype=float), new, canon)
    return raised_cosine(a.control_points, u)


def _canonical_knots(kind: ArcType) -> NDArray[np.float64]:
    points = [p.position for p in arc(kind).control_points]
    return np.array([0.0, 0.5, 1.0] if len(points) == 2 else points)


def _candidate_knots(kind: ArcType, s: ClassifierSettings) -> list[tuple[float, ...]]:
    n_turns = len(arc(kind).control_points) - 2
    lo, hi = s.mid_range if n_turns == 0 else s.turn_range
    grid = np.round(np.arange(lo, hi + 1e-9, s.warp_step), 6)
    if n_turns <= 1:
        return [(float(t),) for t in grid]
    return [
        (float(a), float(b))
        for a, b in itertools.combinations(grid, 2)
        if b - a >= s.min_gap - 1e-9
    ]


@lru_cache(maxsize=8)
def arc_templates(
    settings: ClassifierSettings | None = None,
) -> tuple[tuple[ArcType, tuple[float, ...]], ...]:
    """The template bank: ``(arc, knots)`` for every warp the classifier tries.

    >>> len(arc_templates())
    234
    """
    s = settings or ClassifierSettings()
    return tuple((kind, knots) for kind in _ARC_ORDER for knots in _candidate_knots(kind, s))


@dataclass(frozen=True)
class _Operators:
    kernel: NDArray[np.float64]  # n x grid smoothing/resampling operator
    templates: NDArray[np.float64]  # M x grid, smoothed and z-normalised (unit norm)
    penalty: NDArray[np.float64]  # M, the warp prior subtracted from each correlation
    member_penalty: NDArray[np.float64]  # the same, laid out like ``members``
    raw: NDArray[np.float64]  # M x n, templates at the raw positions, centred, unit norm
    starts: NDArray[np.intp]  # first template row of each arc
    members: NDArray[np.intp]  # 6 x widest family: template rows, padded by repeating
    knots: tuple[tuple[float, ...], ...]  # the warp of each template
    turns: tuple[tuple[float, ...], ...]  # its turn positions (none for monotone arcs)
    turn_matrix: NDArray[np.float64]  # M x 2, NaN where a template has fewer turns
    grid: NDArray[np.float64]


def _kernel(x: NDArray[np.float64], s: ClassifierSettings) -> tuple[NDArray, NDArray]:
    grid = np.linspace(0.0, 1.0, s.grid)
    spacing = np.diff(x)
    width = max(s.smoothing, 0.75 * float(np.max(spacing)))
    cell = np.empty_like(x)  # each sample stands for the stretch of story around it
    cell[1:-1] = (x[2:] - x[:-2]) / 2.0
    cell[0], cell[-1] = spacing[0] / 2.0, spacing[-1] / 2.0
    weights = cell[:, None] * np.exp(-0.5 * ((x[:, None] - grid[None, :]) / width) ** 2)
    return weights / weights.sum(axis=0, keepdims=True), grid


def _unit_rows(m: NDArray[np.float64]) -> NDArray[np.float64]:
    centred = m - m.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(centred, axis=-1, keepdims=True)
    return centred / np.where(norm > 0.0, norm, 1.0)


#: Resolution of the fine grid the template bank is tabulated on before interpolation.
_FINE = 4097


@lru_cache(maxsize=8)
def _fine_bank(s: ClassifierSettings) -> NDArray[np.float64]:
    """Every template tabulated on a fine even grid, positions x templates.

    Linear interpolation from it is within 3e-5 of the closed form on the arc scale.
    """
    fine = np.linspace(0.0, 1.0, _FINE)
    return np.stack([warp_arc(kind, knots, fine) for kind, knots in arc_templates(s)], axis=1)


def _tabulated(x: NDArray[np.float64], s: ClassifierSettings) -> NDArray[np.float64]:
    """The template bank at positions ``x`` (n x M), interpolated from :func:`_fine_bank`."""
    scaled = x * (_FINE - 1)
    left = np.minimum(scaled.astype(np.intp), _FINE - 2)
    weight = (scaled - left)[:, None]
    bank = _fine_bank(s)
    return bank[left] * (1.0 - weight) + bank[left + 1] * weight


@lru_cache(maxsize=16)
def _operators(x_bytes: bytes, s: ClassifierSettings) -> _Operators:
    x = np.frombuffer(x_bytes, dtype=float)
    kernel, grid = _kernel(x, s)
    bank = arc_templates(s)
    raw = _tabulated(x, s)  # n x M
    raw -= raw.mean(axis=0)
    raw /= np.sqrt(np.einsum("ij,ij->j", raw, raw))
    kinds = [kind for kind, _ in bank]
    starts = np.array([kinds.index(k) for k in _ARC_ORDER], dtype=np.intp)
    sizes = np.diff(np.append(starts, len(kinds)))
    members = np.empty((len(starts), sizes.max()), dtype=np.intp)
    for i, (start, size) in enumerate(zip(starts, sizes, strict=True)):
        members[i] = np.minimum(np.arange(start, start + sizes.max()), start + size - 1)
    turns = tuple(knots if len(arc(kind).control_points) > 2 else () for kind, knots in bank)
    turn_matrix = np.full((len(turns), 2), np.nan)
    for i, t in enumerate(turns):
        turn_matrix[i, : len(t)] = t
    penalty = np.array(
        [
            s.warp_penalty * float(np.sum((np.array(k) - _canonical_knots(kind)[1:-1]) ** 2))
            for kind, k in bank
        ]
    )
    return _Operators(
        kernel=kernel,
        templates=_unit_rows((kernel.T @ raw).T),
        penalty=penalty,
        member_penalty=penalty[members],
        raw=np.ascontiguousarray(raw.T),
        starts=starts,
        members=members,
        knots=tuple(knots for _, knots in bank),
        turns=turns,
        turn_matrix=turn_matrix,
        grid=grid,
    )


def _positions(n: int, positions: ArrayLike | None, label: str) -> NDArray[np.float64]:
    if positions is None:
        return _even(n)
    x = np.asarray(positions, dtype=float)
    if x.shape != (n,):
        raise ValueError(f"{label}: {n} positions, one per value, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{label}: finite positions (got NaN or infinity)")
    if np.any(np.diff(x) <= 0.0):
        raise ValueError(f"{label}: strictly increasing positions")
    return (x - x[0]) / (x[-1] - x[0])


@lru_cache(maxsize=64)
def _even(n: int) -> NDArray[np.float64]:
    x = np.linspace(0.0, 1.0, n)
    x.flags.writeable = False
    return x


def _check_values(v: NDArray[np.float64], label: str) -> None:
    if v.shape[-1] < MIN_POINTS:
        raise ValueError(
            f"{label}: at least {MIN_POINTS} points to classify an arc, got {v.shape[-1]}"
        )
    if not math.isfinite(float(v.sum())) and not np.all(np.isfinite(v)):
        raise ValueError(f"{label}: finite values (got NaN or infinity)")


def _decide(
    top: NDArray[np.float64], strength: NDArray[np.float64], flat: NDArray, s: ClassifierSettings
) -> NDArray[np.int8]:
    """Reason codes (index into ``_REASONS``; -1 = a clear fit), first failing test wins."""
    reason = np.full(len(strength), -1, dtype=np.int8)
    reason[(top[:, 0] - top[:, 1]) < s.min_margin] = 3
    reason[top[:, 0] < s.min_score] = 2
    reason[strength < s.min_strength] = 1
    reason[flat] = 0
    return reason


def _decide_one(
    first: float, second: float, strength: float, flat: bool, s: ClassifierSettings
) -> int:
    """:func:`_decide` for one trajectory, in plain Python (the single path stays lean)."""
    if flat:
        return 0
    if strength < s.min_strength:
        return 1
    if first < s.min_score:
        return 2
    return 3 if first - second < s.min_margin else -1


def _strength(r: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """t statistic of a correlation ``r`` over ``n`` points."""
    r = np.clip(r, -0.999999, 0.999999)
    return r * np.sqrt((n - 2) / (1.0 - r * r))


def _reason_text(
    code: int, family: NDArray, order: NDArray, strength: float, s: ClassifierSettings
) -> str | None:
    if code < 0:
        return None
    first, second = _ARC_ORDER[order[0]].value, _ARC_ORDER[order[1]].value
    if code == 0:
        return "flat: the trajectory does not vary"
    if code == 1:
        return (
            f"noise: the best fit ({first}) is not distinguishable from white noise"
            f" (strength {strength:.2f} < {s.min_strength})"
        )
    if code == 2:
        return f"weak: no arc fits clearly (best {first} at {family[order[0]]:.3f} < {s.min_score})"
    return (
        f"ambiguous: {first} ({family[order[0]]:.3f}) and {second} ({family[order[1]]:.3f})"
        f" are closer than {s.min_margin}"
    )


def classify_arc(
    values: ArrayLike,
    positions: ArrayLike | None = None,
    *,
    settings: ClassifierSettings | None = None,
) -> ArcFit:
    """Fit a trajectory against the six arcs, allowing early or late turns.

    Parameters
    ----------
    values:
        At least 11 finite numbers in any units.
    positions:
        Where each value sits in the story (strictly increasing, any units); evenly spaced
        when omitted.
    settings:
        Classifier tunables; the defaults when omitted.

    Returns
    -------
    ArcFit
        All six arcs ranked by score, the best arc or an abstention with its reason, and the
        fitted turning points.

    >>> from storylab import arc
    >>> fit = classify_arc(arc("cinderella").sample(50) * 10 + 3)
    >>> fit.best.value, [round(t.position, 2) for t in fit.turning_points]
    ('cinderella', [0.3, 0.7])
    """
    s = settings or _DEFAULTS
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"values: a 1-D sequence, got shape {v.shape}")
    _check_values(v, "values")
    x = _positions(len(v), positions, "positions")
    ops = _operators(x.tobytes(), s)
    n = len(v)
    raw_c = v - v.sum() / n
    raw_norm = math.sqrt(raw_c.dot(raw_c))
    flat = raw_norm <= _FLAT * n**0.5 * max(abs(float(v[0])), 1e-300)
    smooth = v @ ops.kernel
    centred = smooth - smooth.sum() / len(smooth)
    norm = math.sqrt(centred.dot(centred)) or 1.0
    per_family = (ops.templates @ centred / norm)[ops.members]  # 6 x widest family
    family = (per_family - ops.member_penalty).max(axis=1)  # ranking uses the warp prior ...
    best_in_family = per_family.argmax(axis=1)  # ... the fitted turns do not
    scores = family.tolist()
    order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
    best_template = int(ops.members[order[0], best_in_family[order[0]]])
    strength = 0.0
    if not flat:
        r = float(raw_c.dot(ops.raw[best_template])) / raw_norm
        r = min(max(r, -0.999999), 0.999999)
        strength = r * ((n - 2) / (1.0 - r * r)) ** 0.5
    code = _decide_one(scores[order[0]], scores[order[1]], strength, flat, s)
    scale = None if positions is None else np.asarray(positions, dtype=float)[[0, -1]]
    chosen = ops.members[_SIX, best_in_family].tolist()
    matches = tuple(
        ArcMatch(
            _ARC_ORDER[i],
            scores[i],
            _to_caller(ops.turns[chosen[i]], scale),
            ops.knots[chosen[i]],
        )
        for i in order
    )
    top_kind = _ARC_ORDER[order[0]]
    return ArcFit(
        matches=matches,
        best=None if code >= 0 else top_kind,
        reason=_reason_text(code, family, order, strength, s) if code >= 0 else None,
        strength=strength,
        turning_points=_turning_points(
            top_kind, ops.turns[best_template], matches[0].turns, smooth, ops.grid
        ),
    )


def _to_caller(turns: tuple[float, ...], scale: NDArray | None) -> tuple[float, ...]:
    if scale is None or not turns:
        return turns
    return tuple(round(float(scale[0] + t * (scale[1] - scale[0])), 6) for t in turns)


def _turning_points(
    kind: ArcType,
    unit_turns: tuple[float, ...],
    turns: tuple[float, ...],
    smooth: NDArray[np.float64],
    grid: NDArray[np.float64],
) -> tuple[TurningPoint, ...]:
    if not turns:
        return ()
    values = _peak_kinds(kind)
    level = np.interp(unit_turns, grid, smooth)
    return tuple(
        TurningPoint.model_construct(position=t, value=float(y), kind=values[k])
        for k, (t, y) in enumerate(zip(turns, level, strict=True))
    )


def classify_arcs(
    matrix: ArrayLike,
    positions: ArrayLike | None = None,
    *,
    settings: ClassifierSettings | None = None,
) -> pd.DataFrame:
    """Classify every row of a 2-D array at once (rows share ``positions``).

    Returns
    -------
    pandas.DataFrame
        One row per trajectory: ``best`` (categorical arc, missing when abstained),
        ``reason`` (``flat``, ``noise``, ``weak``, ``ambiguous`` or missing), ``score``,
        ``margin``, ``strength``, ``turn_1``/``turn_2`` (fitted turns of the best-scoring
        arc, in position units) and ``score_<arc>`` for each of the six arcs.
    """
    import pandas as pd

    s = settings or _DEFAULTS
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[0] == 0:
        raise ValueError(f"matrix: a non-empty 2-D array (trajectories x points), got {m.shape}")
    _check_values(m, "matrix")
    x = _positions(m.shape[1], positions, "positions")
    ops = _operators(x.tobytes(), s)
    n = m.shape[1]
    raw_c = m - m.mean(axis=1, keepdims=True)
    raw_norm = np.sqrt(np.einsum("ij,ij->i", raw_c, raw_c))
    flat = raw_norm <= _FLAT * np.sqrt(n) * np.maximum(np.abs(m[:, 0]), 1e-300)
    # templates x trajectories layout: the per-arc reductions run over contiguous rows
    smooth = (m @ ops.kernel).T  # grid x B
    centred = smooth - smooth.mean(axis=0)
    norm = np.sqrt(np.einsum("ij,ij->j", centred, centred))
    correlation = ops.templates @ (centred / np.where(norm > 0.0, norm, 1.0))  # M x B
    family = np.maximum.reduceat(correlation - ops.penalty[:, None], ops.starts, axis=0).T
    stops = np.append(ops.starts[1:], len(ops.templates))
    fitted = np.stack(
        [correlation[a:b].argmax(axis=0) + a for a, b in zip(ops.starts, stops, strict=True)]
    )  # 6 x B: each arc's best-fitting warp (turns are not pulled by the warp prior)
    best_template = fitted[family.argmax(axis=1), np.arange(len(m))]
    r = np.einsum("ij,ij->i", raw_c, ops.raw[best_template]) / np.where(flat, 1.0, raw_norm)
    strength = np.where(flat, 0.0, _strength(r, n))
    order = np.argsort(-family, axis=1, kind="stable")
    top = np.take_along_axis(family, order[:, :2], axis=1)
    reason = _decide(top, strength, flat, s)
    turns = ops.turn_matrix[best_template]
    if positions is not None:
        p = np.asarray(positions, dtype=float)
        turns = p[0] + turns * (p[-1] - p[0])
    categories = [k.value for k in _ARC_ORDER]
    out = {
        "best": pd.Categorical.from_codes(np.where(reason < 0, order[:, 0], -1), categories),
        "reason": pd.Categorical.from_codes(reason.astype(int), list(_REASONS)),
        "score": top[:, 0],
        "margin": top[:, 0] - top[:, 1],
        "strength": strength,
        "turn_1": turns[:, 0],
        "turn_2": turns[:, 1],
    }
    for j, name in enumerate(categories):
        out[f"score_{name}"] = family[:, j]
    return pd.DataFrame(out)


@lru_cache(maxsize=8)
def _peak_kinds(kind: ArcType) -> tuple[str, ...]:
    v = [p.value for p in arc(kind).control_points]
    return tuple("peak" if b > a else "trough" for a, b in itertools.pairwise(v))[:-1]


_DEFAULTS = ClassifierSettings()
#: Relative spread below which a trajectory counts as flat (rounding noise of a constant).
_FLAT = 1e-12
_SIX = np.arange(len(_ARC_ORDER))
