"""storylab: a workbench for designing and studying stories with numbers.

``import storylab`` stays light: it never imports matplotlib or ipywidgets. Plots live in
:mod:`storylab.viz`, widgets in :mod:`storylab.widgets`.
"""

from importlib.metadata import PackageNotFoundError, version

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
