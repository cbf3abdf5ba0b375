"""Turn tuned profiles into composer options.

``storylab compose --profile FILE`` (and any caller) can hand profiles here and pass the
result to ``StorylineComposer`` / ``compose``: an ``action-costs`` profile sets ``costs``, a
``position-estimation`` profile sets ``actions`` for the template and genre asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from storylab.tuning.costs import ActionCosts
from storylab.tuning.position import PositionEstimation
from storylab.tuning.profiles import Profile, read_profile

__all__ = ["compose_options"]


def compose_options(
    profiles: Iterable[str | Path | Profile], template: str, genre: str
) -> dict[str, Any]:
    """Keyword arguments for ``compose(template, genre, **options)`` from ``profiles``.

    Raises
    ------
    storylab.DataError
        A profile file that is not a valid profile.
    ValueError
        A profile the composer does not take, or two profiles setting the same option.
    """
    options: dict[str, Any] = {}
    for item in profiles:
        profile = item if isinstance(item, Profile) else read_profile(item)
        config = profile.config
        if isinstance(config, ActionCosts):
            key, value = "costs", config
        elif isinstance(config, PositionEstimation):
            key, value = "actions", config.actions_for(template, genre)
        else:
            raise ValueError(f"a {profile.name} profile does not configure the composer")
        if key in options:
            raise ValueError(f"two profiles set the composer's {key!r}")
        options[key] = value
    return options
