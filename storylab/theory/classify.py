"""Which of the six emotional arcs does a trajectory follow? Warped templates and a small network.

A trajectory (any length from 11 points, any units, optional uneven positions) is smoothed
onto a fixed grid by a Gaussian kernel, z-normalised, and correlated with a bank of
*time-warped* arc templates: every arc whose turning points were moved earlier or later by a
monotone piecewise-linear warp of its control-point positions. The templates go through the
same smoothing operator as the data, so edge effects and blur cancel. A warp's score is its
correlation with the data minus a small penalty for how far its turns moved from the
canonical ones (a prior for canonical timing); an arc's score is that of its best warp, and
the fitted warp gives the turning points.

Two methods rank the arcs (``ClassifierSettings.method``). ``trained`` (the default) ranks
them by the probabilities of a small network trained on the seeded generator
(:mod:`storylab.theory.arc_model`), which holds up under strong, autocorrelated or spiky
noise; ``templates`` ranks them by the template scores alone. Either way the template
matcher supplies the turning points.

The classifier abstains, with the reason, when the trajectory is flat, and otherwise on
thresholds calibrated on the generator: with ``trained``, when the network's probability of
"no arc" reaches ``max_noise`` (``noise``) or the best arc's probability among the six is
below ``min_confidence`` (``weak``); with ``templates``, when its best fit is not
distinguishable from white noise (a t statistic of the raw-resolution correlation) or no arc
correlates clearly. Both
abstain when the two best arcs are closer than ``min_margin``. Values are divided by their
largest magnitude first, so any finite units work (1e-300 to 1e300).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field, model_validator

from storylab._data import Frozen
from storylab.theory import _arc_bank as bank
from storylab.theory._arc_bank import arc_templates, warp_arc
from storylab.theory.arc_model import DESPIKE_BELOW, ArcModel, arc_model, despike, model_inputs
from storylab.theory.arcs import ArcType, TurningPoint, arc

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
_ARC_ORDER = bank.ARC_ORDER
_REASONS = ("flat", "noise", "weak", "ambiguous")
#: Default ``min_confidence`` and ``max_noise``: chosen on the generator (``docs/arcs.md``).
MIN_CONFIDENCE = 0.49
MAX_NOISE = 0.87


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
        ``templates``: abstain when the t statistic of the raw-resolution fit is below this.
    method:
        ``trained`` ranks the arcs by the network's probabilities, ``templates`` by the
        template scores (``min_score`` and ``min_strength`` then apply).
    min_confidence:
        ``trained``: abstain when the best arc's probability among the six is below this.
    max_noise:
        ``trained``: abstain when the probability of "no arc" is at least this. Both
        defaults were chosen on the generator (``docs/arcs.md``).
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
    method: Literal["trained", "templates"] = "trained"
    min_confidence: float = Field(MIN_CONFIDENCE, ge=0.0, le=1.0)
    max_noise: float = Field(MAX_NOISE, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ranges(self) -> ClassifierSettings:
        for name in ("turn_range", "mid_range"):
            lo, hi = getattr(self, name)
            if not 0.0 < lo < hi < 1.0:
                raise ValueError(f"{name} as (low, high) with 0 < low < high < 1, got {(lo, hi)}")
        return self


class ArcMatch(NamedTuple):
    """One arc's best fit: its score and its turns.

    ``score`` is the arc's probability (among the six) under ``trained``, its best template's
    correlation less the warp prior under ``templates``. ``turns`` are in the caller's
    position units; ``knots`` is the fitted warp on the unit scale (the turns, or for a
    monotone arc the new position of its midpoint), ready for :func:`warp_arc`.
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
    turns of the best-ranked arc, in the caller's position and value units. ``noise`` is the
    network's probability that there is no arc (0 with ``templates``). Every number is
    finite.
    """

    matches: tuple[ArcMatch, ...]
    best: ArcType | None
    reason: str | None
    strength: float
    turning_points: tuple[TurningPoint, ...]
    noise: float = 0.0

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
            "noise": round(self.noise, 4),
            "margin": round(self.margin, 4),
            "matches": [
                {"arc": m.arc.value, "score": round(m.score, 4), "turns": list(m.turns)}
                for m in self.matches
            ],
            "turning_points": [t.model_dump() for t in self.turning_points],
        }


def _positions(n: int, positions: ArrayLike | None, label: str) -> NDArray[np.float64]:
    if positions is None:
        return _even(n) if n <= _EVEN_CACHED else np.linspace(0.0, 1.0, n)
    x = np.asarray(positions, dtype=float)
    if x.shape != (n,):
        raise ValueError(f"{label}: {n} positions, one per value, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{label}: finite positions (got NaN or infinity)")
    x = x / max(float(np.abs(x).max()), 1e-300)  # any units: no overflow in the steps below
    if np.any(np.diff(x) <= 0.0):
        raise ValueError(f"{label}: strictly increasing positions")
    return (x - x[0]) / (x[-1] - x[0])


#: Longest trajectory whose even positions are cached.
_EVEN_CACHED = 4096


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
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{label}: finite values (got NaN or infinity)")


def _centre(
    m: NDArray[np.float64], despiked: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Rows (despiked when asked), centred, and their squared norms."""
    unit = despike(m) if despiked else m
    centred = unit - unit.mean(axis=1, keepdims=True)
    return unit, centred, np.einsum("ij,ij->i", centred, centred)


def _model(s: ClassifierSettings) -> ArcModel:
    model = arc_model()
    if (s.grid, s.smoothing) != (model.grid, model.smoothing):
        raise ValueError(
            f"settings: the trained method needs grid={model.grid} and smoothing="
            f"{model.smoothing} (its network's inputs), got grid={s.grid} and smoothing="
            f"{s.smoothing}; use method='templates' to change them"
        )
    return model


def _decide(
    top: NDArray[np.float64],
    strength: NDArray[np.float64],
    flat: NDArray,
    noise: NDArray | None,
    s: ClassifierSettings,
) -> NDArray[np.int8]:
    """Reason codes (index into ``_REASONS``; -1 = a clear fit), first failing test wins."""
    reason = np.full(len(strength), -1, dtype=np.int8)
    reason[(top[:, 0] - top[:, 1]) < s.min_margin] = 3
    if noise is None:
        reason[top[:, 0] < s.min_score] = 2
        reason[strength < s.min_strength] = 1
    else:
        reason[top[:, 0] < s.min_confidence] = 2
        reason[noise >= s.max_noise] = 1
    reason[flat] = 0
    return reason


def _strength(r: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """t statistic of a correlation ``r`` over ``n`` points."""
    r = np.clip(r, -0.999999, 0.999999)
    return r * np.sqrt((n - 2) / (1.0 - r * r))


def _reason_text(
    code: int,
    scores: NDArray,
    order: NDArray,
    strength: float,
    noise: float,
    s: ClassifierSettings,
) -> str | None:
    if code < 0:
        return None
    first, second = _ARC_ORDER[order[0]].value, _ARC_ORDER[order[1]].value
    best = f"best {first} at {scores[order[0]]:.3f}"
    if code == 0:
        return "flat: the trajectory does not vary"
    if code == 1 and s.method == "trained":
        return (
            f"noise: the trajectory looks like noise with no arc (p = {noise:.3f}"
            f" >= {s.max_noise}; {best})"
        )
    if code == 1:
        return (
            f"noise: the best fit ({first}) is not distinguishable from white noise"
            f" (strength {strength:.2f} < {s.min_strength})"
        )
    if code == 2:
        threshold = s.min_confidence if s.method == "trained" else s.min_score
        return f"weak: no arc fits clearly ({best} < {threshold})"
    return (
        f"ambiguous: {first} ({scores[order[0]]:.3f}) and {second} ({scores[order[1]]:.3f})"
        f" are closer than {s.min_margin}"
    )


class _Core(NamedTuple):
    """What both entry points share, for B trajectories."""

    scores: NDArray[np.float64]  # B x 6, the ranking scores
    order: NDArray[np.intp]  # B x 6, arcs best first
    top: NDArray[np.float64]  # B x 2, the two best scores
    penalised: NDArray[np.float64]  # M x B, template correlations less the warp prior
    best_template: NDArray[np.intp]  # B, the best-ranked arc's fitted warp
    strength: NDArray[np.float64]  # B
    reason: NDArray[np.int8]  # B
    noise: NDArray[np.float64]  # B, the network's probability of "no arc" (0: templates)
    smooth: NDArray[np.float64]  # B x grid, in the caller's units
    ops: bank.Operators


def _prepare(
    m: NDArray[np.float64], x: NDArray[np.float64], s: ClassifierSettings
) -> tuple[bank.Operators, NDArray, NDArray, NDArray, NDArray, NDArray, NDArray]:
    """Operators, unit rows, their centring and norm, flatness, smoothing and peaks."""
    ops = bank.operators(x, s)
    n = m.shape[1]
    despiked = s.method == "trained" and n < DESPIKE_BELOW
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        unit, raw_c, squared = _centre(m, despiked)
    peak = np.ones((len(m), 1))
    redo = np.flatnonzero(~((squared >= _TINY) & (squared <= 1.0 / _TINY)))
    if len(redo):  # beyond about 1e±125 (or flat, or NaN): divide by the largest magnitude
        big = np.maximum(m[redo].max(axis=1), -m[redo].min(axis=1))[:, None]
        peak[redo] = np.where(big > 0.0, big, 1.0)
        unit, raw_c = unit.copy(), raw_c.copy()
        unit[redo], raw_c[redo], squared[redo] = _centre(m[redo] / peak[redo], despiked)
    raw_norm = np.sqrt(squared)
    flat = raw_norm <= _FLAT * np.sqrt(n) * np.abs(unit[:, 0])
    # one product gives the smoothing and (trained) the raw correlations with the canon
    product = unit @ (ops.both if s.method == "trained" else ops.kernel)
    return ops, unit, raw_c, np.where(flat, 1.0, raw_norm), flat, product, peak


def _inputs(
    raw_c: NDArray[np.float64],
    raw_norm: NDArray[np.float64],
    product: NDArray[np.float64],
    family: NDArray[np.float64],
    slope_family: NDArray[np.float64],
    ops: bank.Operators,
) -> NDArray[np.float64]:
    """The network's inputs from :func:`_prepare`'s product (smoothing, then the canon) and
    :func:`_template_scores`."""
    grid = ops.kernel.shape[1]
    smooth, raw = product[:, :grid], product[:, grid:]
    return model_inputs(raw_c, raw_norm, ops.inverse_steps, smooth, raw, family, slope_family)


def _network_inputs(
    values: NDArray[np.float64], positions: NDArray[np.float64], s: ClassifierSettings
) -> NDArray[np.float64]:
    """The trained method's network inputs for the rows of ``values`` (for training)."""
    m = np.asarray(values, dtype=float)
    x = _positions(m.shape[1], positions, "positions")
    s = s.model_copy(update={"method": "trained"})
    ops, _, raw_c, raw_norm, _, product, _ = _prepare(m, x, s)
    family, _, slope_family = _template_scores(product[:, : s.grid], ops, slopes=True)
    return _inputs(raw_c, raw_norm, product, family, slope_family, ops)


def _core(m: NDArray[np.float64], positions: ArrayLike | None, s: ClassifierSettings) -> _Core:
    _check_values(m, "matrix" if len(m) > 1 else "values")
    model = _model(s) if s.method == "trained" else None
    n = m.shape[1]
    x = _positions(n, positions, "positions")
    ops, _, raw_c, raw_norm, flat, product, peak = _prepare(m, x, s)
    smooth = product[:, : s.grid]
    family, penalised, slope_family = _template_scores(smooth, ops, slopes=model is not None)
    if model is None:
        scores, noise = family, np.zeros(len(m))
    else:
        p = model.probabilities(_inputs(raw_c, raw_norm, product, family, slope_family, ops))
        noise = p[:, 6]
        scores = p[:, :6] / np.maximum(1.0 - noise, 1e-300)[:, None]  # given some arc
    order = np.argsort(-scores, axis=1, kind="stable")
    best_template = _fitted(penalised, order[:, 0], ops)
    r = _raw_correlation(raw_c, best_template, ops) / raw_norm
    strength = np.where(flat, 0.0, _strength(r, n))
    top = scores[np.arange(len(scores))[:, None], order[:, :2]]
    reason = _decide(top, strength, flat, None if model is None else noise, s)
    return _Core(
        scores, order, top, penalised, best_template, strength, reason, noise, smooth * peak, ops
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
    core = _core(v[None, :], positions, s)
    ops, scores, order = core.ops, core.scores[0], core.order[0]
    code, strength = int(core.reason[0]), float(core.strength[0])
    scale = None if positions is None else np.asarray(positions, dtype=float)[[0, -1]]
    correlation = (core.penalised[:, 0] + ops.penalty)[ops.members]  # 6 x widest family
    chosen = ops.members[_SIX, correlation.argmax(axis=1)].tolist()  # each arc's best warp
    matches = tuple(
        ArcMatch(
            _ARC_ORDER[i],
            float(scores[i]),
            _to_caller(ops.turns[chosen[i]], scale),
            ops.knots[chosen[i]],
        )
        for i in order.tolist()
    )
    top_kind = _ARC_ORDER[order[0]]
    return ArcFit(
        matches=matches,
        best=None if code >= 0 else top_kind,
        reason=_reason_text(code, scores, order, strength, float(core.noise[0]), s),
        strength=strength,
        turning_points=_turning_points(
            top_kind,
            ops.turns[int(core.best_template[0])],
            matches[0].turns,
            core.smooth[0],
            ops.grid,
        ),
        noise=float(core.noise[0]),
    )


def _to_caller(turns: tuple[float, ...], scale: NDArray | None) -> tuple[float, ...]:
    if scale is None or not turns:
        return turns
    return tuple(round(float(scale[0] * (1.0 - t) + scale[1] * t), 6) for t in turns)


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
        ``margin``, ``strength``, ``turn_1``/``turn_2`` (fitted turns of the best-ranked
        arc, in position units), ``noise`` (the network's probability of "no arc"; 0 with
        ``templates``) and ``score_<arc>`` for each of the six arcs.
    """
    import pandas as pd

    s = settings or _DEFAULTS
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[0] == 0:
        raise ValueError(f"matrix: a non-empty 2-D array (trajectories x points), got {m.shape}")
    core = _core(m, positions, s)
    top = core.top
    turns = core.ops.turn_matrix[core.best_template]
    if positions is not None:
        p = np.asarray(positions, dtype=float)
        turns = p[0] * (1.0 - turns) + p[-1] * turns
    categories = [k.value for k in _ARC_ORDER]
    reason = core.reason
    out = {
        "best": pd.Categorical.from_codes(np.where(reason < 0, core.order[:, 0], -1), categories),
        "reason": pd.Categorical.from_codes(reason.astype(int), list(_REASONS)),
        "score": top[:, 0],
        "margin": top[:, 0] - top[:, 1],
        "strength": core.strength,
        "turn_1": turns[:, 0],
        "turn_2": turns[:, 1],
        "noise": core.noise,
    }
    for j, name in enumerate(categories):
        out[f"score_{name}"] = core.scores[:, j]
    return pd.DataFrame(out)


def _template_scores(
    smooth: NDArray[np.float64], ops: bank.Operators, slopes: bool = False
) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating] | None]:
    """Each arc's template score (B x 6), every template's penalised correlation (M x B) and,
    with ``slopes``, each arc's best warp by the correlation of the smoothed curve's steps
    with the smoothed templates' steps, less the warp prior (B x 6; else ``None``).

    With ``slopes`` (the network's inputs) the products run in single precision, twice as
    fast and exact to about 1e-7, far below what the network resolves.
    """
    # templates x trajectories layout: the per-arc reductions run over contiguous rows
    centred = (smooth - smooth.mean(axis=1, keepdims=True)).T
    norm = np.sqrt(np.einsum("ij,ij->j", centred, centred))
    unit = centred / np.where(norm > 0.0, norm, 1.0)
    if not slopes:
        penalised = ops.templates @ unit  # M x B
        penalised -= ops.penalty[:, None]
        return np.maximum.reduceat(penalised, ops.starts, axis=0).T, penalised, None
    steps = np.diff(centred, axis=0)
    step_norm = np.sqrt(np.einsum("ij,ij->j", steps, steps))
    m = len(ops.penalty)
    both = np.empty((2 * m, len(norm)), dtype=np.float32)  # 2M x B: levels, then steps
    np.matmul(ops.with_slopes[:m], unit.astype(np.float32), out=both[:m])
    unit = centred / np.where(step_norm > 0.0, step_norm, 1.0)
    np.matmul(ops.with_slopes[m:], unit.astype(np.float32), out=both[m:])
    both -= ops.both_penalty[:, None]
    best = np.maximum.reduceat(both, ops.both_starts, axis=0).T
    return best[:, :6], both[:m], best[:, 6:]


def _fitted(
    penalised: NDArray[np.float64], kinds: NDArray[np.intp], ops: bank.Operators
) -> NDArray[np.intp]:
    """Each trajectory's best-fitting warp of arc ``kinds[i]``, without the warp prior (the
    turns follow the data)."""
    if len(kinds) == 1:  # one trajectory: no grouping
        a, b = ops.starts[kinds[0]], ops.stops[kinds[0]]
        return (penalised[a:b, 0] + ops.penalty[a:b]).argmax(keepdims=True) + a
    best = np.empty(len(kinds), dtype=np.intp)
    for k, (a, b) in enumerate(zip(ops.starts, ops.stops, strict=True)):
        rows = np.flatnonzero(kinds == k)
        if len(rows):
            block = penalised[a:b] if len(rows) == len(kinds) else penalised[a:b, rows]
            best[rows] = (block + ops.penalty[a:b, None]).argmax(axis=0) + a
    return best


def _raw_correlation(
    raw_c: NDArray[np.float64], templates: NDArray[np.intp], ops: bank.Operators
) -> NDArray[np.float64]:
    """Dot product of each centred row with its template at the raw positions."""
    if len(raw_c) == 1:
        return raw_c @ ops.raw(templates)[0]
    used, which = np.unique(templates, return_inverse=True)
    out = np.empty(len(raw_c))
    chunk = max(1, 2**22 // raw_c.shape[1])  # at most 32 MB of raw templates at once
    for a in range(0, len(used), chunk):
        raw = ops.raw(used[a : a + chunk])
        rows = np.flatnonzero((which >= a) & (which < a + chunk))
        out[rows] = np.einsum("ij,ij->i", raw_c[rows], raw[which[rows] - a])
    return out


@lru_cache(maxsize=8)
def _peak_kinds(kind: ArcType) -> tuple[str, ...]:
    v = [p.value for p in arc(kind).control_points]
    return tuple("peak" if b > a else "trough" for a, b in itertools.pairwise(v))[:-1]


_DEFAULTS = ClassifierSettings()
#: Relative spread below which a trajectory counts as flat (rounding noise of a constant).
_FLAT = 1e-12
#: Rows whose squared spread is below this or above its inverse (or overflows) are rescaled
#: and centred again.
_TINY = 1e-250
_SIX = np.arange(len(_ARC_ORDER))
