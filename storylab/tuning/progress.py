"""Progress bars for long work, one switch for all of them.

Sweeps and tuners take ``progress: bool | None``: ``True`` or ``False`` decide; ``None`` (the
default) shows a bar unless the environment variable ``STORYLAB_PROGRESS`` is ``0`` (or
``false``, ``no``, ``off``), which is how CI and headless notebook runs turn every bar off.

Examples
--------
>>> import os
>>> os.environ["STORYLAB_PROGRESS"] = "0"
>>> show_progress(None), show_progress(True)
(False, True)
>>> del os.environ["STORYLAB_PROGRESS"]
"""

from __future__ import annotations

import os
from typing import Any

from tqdm.auto import tqdm

__all__ = ["ENV_VAR", "progress_bar", "show_progress"]

#: The environment variable that turns default progress bars off (``0``).
ENV_VAR = "STORYLAB_PROGRESS"
_OFF = {"0", "false", "no", "off"}


def show_progress(progress: bool | None = None) -> bool:
    """Whether to show a bar: ``progress`` when given, else the environment's choice."""
    if progress is not None:
        return bool(progress)
    return os.environ.get(ENV_VAR, "1").strip().lower() not in _OFF


def progress_bar(*, progress: bool | None = None, **kwargs: Any) -> tqdm:
    """A ``tqdm.auto`` bar (a notebook widget or a console bar), off when not shown.

    ``kwargs`` go to ``tqdm`` (``total``, ``desc``, ``unit``, ``initial``).
    """
    return tqdm(disable=not show_progress(progress), **kwargs)
