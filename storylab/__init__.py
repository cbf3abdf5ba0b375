"""storylab: a workbench for designing and studying stories with numbers.

``import storylab`` stays light: it never imports matplotlib or ipywidgets. Plots live in
:mod:`storylab.viz`, widgets in :mod:`storylab.widgets`.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what static tools see; at run time each name loads on first use
    from storylab._data import DataError, Problem, UnknownNameError
    from storylab.archives import (
        ArchiveBundle,
        extract_kernels,
        extract_world_state,
        load_bundle,
        recommend,
    )
    from storylab.runtime import NarrativeEngine, NarrativeProgram, Session
    from storylab.storyteller import StorylineComposer, StorylinePlan, compose
    from storylab.theory import (
        ActantRole,
        ArcType,
        EmotionalArc,
        NarrativeState,
        SpectrumType,
        arc,
        arcs,
        classify_arc,
        classify_arcs,
        genres,
        primary_spectrum,
        spectrum,
        spectrums,
    )

try:
    __version__ = version("storylab")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

#: Where each public name lives: ``import storylab`` loads none of them, so the command line
#: (which imports this package first) starts without numpy, pydantic or the packaged data.
_HOMES = {
    "storylab._data": ("DataError", "Problem", "UnknownNameError"),
    "storylab.archives": (
        "ArchiveBundle",
        "extract_kernels",
        "extract_world_state",
        "load_bundle",
        "recommend",
    ),
    "storylab.runtime": ("NarrativeEngine", "NarrativeProgram", "Session"),
    "storylab.storyteller": ("StorylineComposer", "StorylinePlan", "compose"),
    "storylab.theory": (
        "ActantRole",
        "ArcType",
        "EmotionalArc",
        "NarrativeState",
        "SpectrumType",
        "arc",
        "arcs",
        "classify_arc",
        "classify_arcs",
        "genres",
        "primary_spectrum",
        "spectrum",
        "spectrums",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    """Load a public name from its subpackage on first use (PEP 562)."""
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module 'storylab' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME_OF})


__all__ = [
    "ActantRole",
    "ArcType",
    "ArchiveBundle",
    "DataError",
    "EmotionalArc",
    "NarrativeEngine",
    "NarrativeProgram",
    "NarrativeState",
    "Problem",
    "Session",
    "SpectrumType",
    "StorylineComposer",
    "StorylinePlan",
    "UnknownNameError",
    "__version__",
    "arc",
    "arcs",
    "classify_arc",
    "classify_arcs",
    "compose",
    "extract_kernels",
    "extract_world_state",
    "genres",
    "load_bundle",
    "primary_spectrum",
    "recommend",
    "spectrum",
    "spectrums",
]
