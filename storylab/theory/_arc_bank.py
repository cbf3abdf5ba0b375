"""The classifier's template bank and its per-positions operators, in a byte-bounded cache.

Private to :mod:`storylab.theory.classify`: time-warped arcs (:func:`warp_arc`), the bank of
warps the classifier tries (:func:`arc_templates`), the Gaussian smoothing kernel onto the
grid, and the bank smoothed by that kernel. Operators are cached per positions array, but
only while the cache holds less than ``CACHE_BYTES``; operators for long series (whose
kernel alone is larger than the budget) are built per call and dropped. Raw-resolution
templates are built only for the templates a fit needs, never for the whole bank.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from storylab.theory.arcs import ArcType, arc, raised_cosine

if TYPE_CHECKING:
    from storylab.theory.classify import ClassifierSettings

ARC_ORDER = tuple(ArcType)
#: Largest total size of the cached operators (bytes).
CACHE_BYTES = 64 * 2**20
#: Largest raw template bank (values) kept with the operators (about 4 MB).
RAW_KEPT = 2**19
#: Resolution of the fine grid the template bank is tabulated on before interpolation.
_FINE = 4097


def warp_arc(kind: ArcType | str, knots: ArrayLike, position: ArrayLike) -> NDArray[np.float64]:
    """Evaluate an arc whose knots were moved to ``knots`` (a monotone time warp).

    ``knots`` are the new positions of the arc's interior control points (one per turn), or
    for a monotone arc the new position of its midpoint. The warp is piecewise linear.

    >>> float(warp_arc("man_in_a_hole", [0.3], 0.3))
    0.2
    """
    a = arc(kind)
    canon = canonical_knots(a.type)
    new = np.concatenate([[0.0], np.asarray(knots, dtype=float).ravel(), [1.0]])
    if new.shape != canon.shape or np.any(np.diff(new) <= 0.0):
        raise ValueError(
            f"{len(canon) - 2} increasing knot(s) strictly inside (0, 1) for {a.type.value},"
            f" got {np.asarray(knots).ravel().tolist()}"
        )
    u = np.interp(np.asarray(position, dtype=float), new, canon)
    return raised_cosine(a.control_points, u)


def canonical_knots(kind: ArcType) -> NDArray[np.float64]:
    """The unwarped knots of an arc, with 0 and 1 (a monotone arc's midpoint is 0.5)."""
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
    from storylab.theory.classify import ClassifierSettings

    s = settings or ClassifierSettings()
    return tuple((kind, knots) for kind in ARC_ORDER for knots in _candidate_knots(kind, s))


def kernel(x: NDArray[np.float64], s: ClassifierSettings) -> NDArray[np.float64]:
    """The ``n x grid`` Gaussian smoothing operator for unit positions ``x`` (columns sum to 1).

    Each sample is weighted by the stretch of story it stands for; the width is the
    settings' smoothing, widened to 0.75 of the largest gap. Built in place (one n x grid
    array at a time).
    """
    grid = np.linspace(0.0, 1.0, s.grid)
    spacing = np.diff(x)
    width = max(s.smoothing, 0.75 * float(np.max(spacing)))
    cell = np.empty_like(x)
    cell[1:-1] = (x[2:] - x[:-2]) / 2.0
    cell[0], cell[-1] = spacing[0] / 2.0, spacing[-1] / 2.0
    weights = np.subtract.outer(x, grid)
    weights /= width
    weights *= weights
    weights *= -0.5
    np.exp(weights, out=weights)
    weights *= cell[:, None]
    weights /= weights.sum(axis=0, keepdims=True)
    return weights


def unit_rows(m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows centred and scaled to unit norm (constant rows stay zero)."""
    return _unit_norm(m - m.mean(axis=-1, keepdims=True))


def _unit_norm(m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows scaled to unit norm (zero rows stay zero)."""
    norm = np.linalg.norm(m, axis=-1, keepdims=True)
    return m / np.where(norm > 0.0, norm, 1.0)


@lru_cache(maxsize=8)
def _fine_bank(s: ClassifierSettings) -> NDArray[np.float64]:
    """Every template tabulated on a fine even grid, positions x templates.

    Linear interpolation from it is within 3e-5 of the closed form on the arc scale.
    """
    fine = np.linspace(0.0, 1.0, _FINE)
    return np.stack([warp_arc(kind, knots, fine) for kind, knots in arc_templates(s)], axis=1)


@dataclass(frozen=True)
class Operators:
    """Everything the classifier needs for one positions array and one settings."""

    x: NDArray[np.float64]  # unit positions
    settings: ClassifierSettings
    kernel: NDArray[np.float64]  # n x grid smoothing/resampling operator (a view of ``both``)
    both: NDArray[np.float64]  # n x (grid + 12): the kernel, the canonical raw templates, then
    # their whitened increments (:func:`increment_columns`)
    inverse_steps: NDArray[np.float64]  # n - 1: one over each step between positions
    templates: NDArray[np.float64]  # M x grid, smoothed and z-normalised (unit norm)
    # 2M x grid, single precision: ``templates``, then rows whose product with a smoothed
    # curve is the product of its steps with the smoothed templates' steps (at unit norm)
    with_slopes: NDArray[np.float32]
    both_penalty: NDArray[np.float32]  # 2M: ``penalty`` twice, laid out like ``with_slopes``
    both_starts: NDArray[np.intp]  # 12: ``starts``, then the same in the second half
    penalty: NDArray[np.float64]  # M, the warp prior subtracted from each correlation
    member_penalty: NDArray[np.float64]  # the same, laid out like ``members``
    starts: NDArray[np.intp]  # first template row of each arc
    stops: NDArray[np.intp]  # one past the last template row of each arc
    canonical: NDArray[np.intp]  # 6: the template row nearest each arc's unwarped knots
    members: NDArray[np.intp]  # 6 x widest family: template rows, padded by repeating
    knots: tuple[tuple[float, ...], ...]  # the warp of each template
    turns: tuple[tuple[float, ...], ...]  # its turn positions (none for monotone arcs)
    turn_matrix: NDArray[np.float64]  # M x 2, NaN where a template has fewer turns
    grid: NDArray[np.float64]
    raw_bank: NDArray[np.float64] | None  # M x n raw templates, kept for short series only

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays that grow with the number of positions."""
        kept = 0 if self.raw_bank is None else self.raw_bank.nbytes
        return self.x.nbytes + self.both.nbytes + self.inverse_steps.nbytes + kept

    def raw(self, rows: NDArray[np.intp]) -> NDArray[np.float64]:
        """Templates ``rows`` at the raw positions (k x n), centred, unit norm."""
        if self.raw_bank is not None:
            return self.raw_bank[rows]
        return _raw(self.x, self.settings, rows)


def _raw(x: NDArray[np.float64], s: ClassifierSettings, rows: ArrayLike) -> NDArray[np.float64]:
    """Templates ``rows`` at positions ``x`` (k x n), centred, unit norm."""
    scaled = x * (_FINE - 1)
    left = np.minimum(scaled.astype(np.intp), _FINE - 2)
    weight = (scaled - left)[None, :]
    bank = _fine_bank(s)[:, rows].T  # k x fine
    return unit_rows(bank[:, left] * (1.0 - weight) + bank[:, left + 1] * weight)


def inverse_steps(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """One over each step between consecutive unit positions (steps below 1e-300 count as
    1e-300)."""
    return 1.0 / np.maximum(np.diff(x), 1e-300)


def increment_columns(
    raw: NDArray[np.float64], inverse: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Columns ``c`` (n x k) such that ``u @ c`` is the inner product of the increments of ``u``
    and of each template (columns of ``raw``), each increment divided by the square root of
    its step, the template's side at unit norm.

    Dividing increments by the root of their step whitens a random walk (Brownian motion
    has independent increments of variance equal to the step), so this is the matched
    filter for an arc under random-walk noise; for strongly autocorrelated AR(1) noise it is
    close to the prewhitened one.
    """
    steps = np.diff(raw, axis=0)
    slope = steps * inverse[:, None]  # increment / step
    slope /= np.sqrt(np.einsum("ij,ij,i->j", steps, steps, inverse))
    out = np.zeros_like(raw)
    out[1:] += slope
    out[:-1] -= slope
    return out


def _build(x: NDArray[np.float64], s: ClassifierSettings) -> Operators:
    smoothing = kernel(x, s)
    # column views stay contiguous
    both = np.empty((len(x), s.grid + 2 * len(ARC_ORDER)), order="F")
    both[:, : s.grid] = smoothing
    del smoothing
    smoothing = both[:, : s.grid]
    bank = arc_templates(s)
    kinds = [kind for kind, _ in bank]
    starts = np.array([kinds.index(k) for k in ARC_ORDER], dtype=np.intp)
    stops = np.append(starts[1:], len(kinds))
    sizes = stops - starts
    members = np.empty((len(starts), sizes.max()), dtype=np.intp)
    for i, (start, size) in enumerate(zip(starts, sizes, strict=True)):
        members[i] = np.minimum(np.arange(start, start + sizes.max()), start + size - 1)
    turns = tuple(knots if len(arc(kind).control_points) > 2 else () for kind, knots in bank)
    turn_matrix = np.full((len(turns), 2), np.nan)
    for i, t in enumerate(turns):
        turn_matrix[i, : len(t)] = t
    moved = np.array(
        [float(np.sum((np.array(k) - canonical_knots(kind)[1:-1]) ** 2)) for kind, k in bank]
    )
    penalty = s.warp_penalty * moved
    canonical = np.array(
        [a + int(np.argmin(moved[a:b])) for a, b in zip(starts, stops, strict=True)]
    )
    inverse = inverse_steps(x)
    canon = both[:, s.grid : s.grid + len(ARC_ORDER)]
    canon[:] = _raw(x, s, canonical).T
    both[:, s.grid + len(ARC_ORDER) :] = increment_columns(canon, inverse)
    # the smoothed bank: grid x M, from the fine table's values at x, chunked over templates
    scaled = x * (_FINE - 1)
    left = np.minimum(scaled.astype(np.intp), _FINE - 2)
    weight = (scaled - left)[:, None]
    fine = _fine_bank(s)
    smoothed = np.empty((len(bank), s.grid))
    chunk = max(1, 2**22 // len(x))
    for a in range(0, len(bank), chunk):
        cols = fine[:, a : a + chunk]
        at_x = cols[left] * (1.0 - weight) + cols[left + 1] * weight
        smoothed[a : a + chunk] = (smoothing.T @ at_x).T
    templates = unit_rows(smoothed)
    steps = _unit_norm(np.diff(smoothed, axis=1))  # D t / |D t|, D the step operator
    return Operators(
        x=x,
        settings=s,
        kernel=smoothing,
        both=both,
        inverse_steps=inverse,
        templates=templates,
        with_slopes=np.concatenate(  # D' (D t / |D t|): its product with c is (D c)'(D t) / |D t|
            [templates, -np.diff(steps, axis=1, prepend=0.0, append=0.0)], dtype=np.float32
        ),
        penalty=penalty,
        both_penalty=np.tile(penalty, 2).astype(np.float32),
        both_starts=np.concatenate([starts, starts + len(bank)]),
        member_penalty=penalty[members],
        starts=starts,
        stops=stops,
        canonical=canonical,
        members=members,
        knots=tuple(knots for _, knots in bank),
        turns=turns,
        turn_matrix=turn_matrix,
        grid=np.linspace(0.0, 1.0, s.grid),
        raw_bank=_raw(x, s, slice(None)) if len(x) * len(bank) <= RAW_KEPT else None,
    )


_CACHE: OrderedDict[tuple[bytes, ClassifierSettings], Operators] = OrderedDict()


def operators(x: NDArray[np.float64], s: ClassifierSettings) -> Operators:
    """The operators for unit positions ``x``, from the cache when there (least recently used
    entries are evicted to keep the cache under ``CACHE_BYTES``)."""
    key = (x.tobytes(), s)
    found = _CACHE.get(key)
    if found is not None:
        _CACHE.move_to_end(key)
        return found
    ops = _build(x, s)
    if ops.nbytes <= CACHE_BYTES // 4:
        _CACHE[key] = ops
        while cache_bytes() > CACHE_BYTES:
            _CACHE.popitem(last=False)
    return ops


def cache_bytes() -> int:
    """Memory held by the cached operators (bytes)."""
    return sum(ops.nbytes for ops in _CACHE.values())
