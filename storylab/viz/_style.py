"""Shared plotting helpers: the packaged style and Axes creation."""

from __future__ import annotations

from contextlib import AbstractContextManager

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from storylab._data import packaged_path

STYLE = str(packaged_path("storylab.mplstyle"))


def style() -> AbstractContextManager[None]:
    """Context manager applying storylab's style without touching global rcParams."""
    return plt.style.context(STYLE)


def axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 3.6)) -> Axes:
    """``ax`` itself, or a fresh Axes on a new figure."""
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new
