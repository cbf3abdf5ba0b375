"""storylab: a workbench for designing and studying stories with numbers.

``import storylab`` stays light: it never imports matplotlib or ipywidgets. Plots live in
:mod:`storylab.viz`, widgets in :mod:`storylab.widgets`.
"""

from importlib.metadata import PackageNotFoundError, version

from storylab._data import DataError, Problem, UnknownNameError
from storylab.storyteller import StorylineComposer, StorylinePlan, compose
from storylab.theory import (
    ActantRole,
    ArcType,
    EmotionalArc,
    NarrativeState,
    SpectrumType,
    arc,
    arcs,
    genres,
    primary_spectrum,
    spectrum,
    spectrums,
)

try:
    __version__ = version("storylab")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "ActantRole",
    "ArcType",
    "DataError",
    "EmotionalArc",
    "NarrativeState",
    "Problem",
    "SpectrumType",
    "StorylineComposer",
    "StorylinePlan",
    "UnknownNameError",
    "__version__",
    "arc",
    "arcs",
    "compose",
    "genres",
    "primary_spectrum",
    "spectrum",
    "spectrums",
]
