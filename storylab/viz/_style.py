"""Shared plotting helpers: the packaged style and Axes creation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from storylab._data import packaged_path

STYLE = str(packaged_path("storylab.mplstyle"))


@contextmanager
def style() -> Iterator[None]:
    """Apply storylab's style inside the block without touching global rcParams.

    Interactive mode is the one setting carried out of the block: the notebook backend
    switches it on when the first figure is drawn, and restoring the old value would stop
    later figures from displaying.
    """
    with plt.style.context(STYLE):
        try:
            yield
        finally:
            interactive = mpl.is_interactive()
    mpl.interactive(interactive)


def axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 3.6)) -> Axes:
    """``ax`` itself, or a fresh Axes on a new figure."""
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new
