"""Calibrated abstention: the risk–coverage curve of a classifier's confidence.

A classifier that may abstain trades coverage (the share of trajectories it answers) for
risk (the share of its answers that are wrong). Sorting the answers by confidence and
sweeping a threshold traces the risk–coverage curve (El-Yaniv and Wiener, 2010); the cost
of a threshold is how much accuracy it loses against answering everything, counting
abstentions as errors. :func:`choose_threshold` picks the highest threshold whose cost stays
within a budget, which is how the default ``min_confidence`` was chosen (``docs/arcs.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["choose_threshold", "risk_coverage"]


def risk_coverage(confidence: ArrayLike, correct: ArrayLike) -> pd.DataFrame:
    """The risk–coverage curve: one row per distinct confidence, as a threshold.

    Parameters
    ----------
    confidence:
        The classifier's confidence in its top-ranked answer, one per trajectory (finite).
    correct:
        Whether that top-ranked answer is right (booleans, same length).

    Returns
    -------
    pandas.DataFrame
        ``threshold`` (answer when confidence >= it), ``coverage`` (share answered),
        ``risk`` (share of answers that are wrong; 0 when none are given), ``accuracy``
        (right answers over all trajectories: abstentions count as errors) and ``cost``
        (top-ranked accuracy minus ``accuracy``), by increasing threshold.
    """
    import pandas as pd

    c = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if c.ndim != 1 or c.shape != ok.shape or len(c) == 0:
        raise ValueError(
            f"confidence and correct: two non-empty 1-D arrays of one length,"
            f" got shapes {c.shape} and {ok.shape}"
        )
    if not np.all(np.isfinite(c)):
        raise ValueError("confidence: finite values (got NaN or infinity)")
    order = np.argsort(-c, kind="stable")
    c, ok = c[order], ok[order]
    last = np.r_[c[1:] != c[:-1], True]  # answering every trajectory down to this confidence
    answered = np.arange(1, len(c) + 1)[last]
    right = np.cumsum(ok)[last]
    frame = pd.DataFrame(
        {
            "threshold": c[last],
            "coverage": answered / len(c),
            "risk": 1.0 - right / answered,
            "accuracy": right / len(c),
        }
    )
    frame["cost"] = ok.mean() - frame["accuracy"]
    return frame.iloc[::-1].reset_index(drop=True)


def choose_threshold(curve: pd.DataFrame, max_cost: float = 0.01) -> float:
    """The highest threshold of a :func:`risk_coverage` curve whose cost is within
    ``max_cost`` (the lowest confidence, which answers everything, always qualifies)."""
    if not 0.0 <= max_cost <= 1.0:
        raise ValueError(f"max_cost between 0 and 1, got {max_cost}")
    within = curve[curve["cost"] <= max_cost + 1e-12]
    return float(within["threshold"].max())
