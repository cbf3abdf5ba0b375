"""Theory: life-value spectrums, narrative state, emotional arcs, actant roles."""

from storylab.theory.actants import ACTANT_AXES, ActantRole
from storylab.theory.arcs import (
    ArcDirection,
    ArcType,
    ControlPoint,
    EmotionalArc,
    TurningPoint,
    arc,
    arcs,
    from_spectrum,
    load_arcs,
    to_spectrum,
)
from storylab.theory.spectrums import (
    GenreMapping,
    SpectrumDefinition,
    SpectrumStage,
    SpectrumType,
    genre_mapping,
    genres,
    load_narrative_data,
    pacing_multiplier,
    primary_spectrum,
    secondary_spectrum,
    spectrum,
    spectrums,
)
from storylab.theory.state import NarrativeState
from storylab.theory.world import Condition, Effect, FactValue, WorldState

__all__ = [
    "ACTANT_AXES",
    "ActantRole",
    "ArcDirection",
    "ArcType",
    "Condition",
    "ControlPoint",
    "Effect",
    "EmotionalArc",
    "FactValue",
    "GenreMapping",
    "NarrativeState",
    "SpectrumDefinition",
    "SpectrumStage",
    "SpectrumType",
    "TurningPoint",
    "WorldState",
    "arc",
    "arcs",
    "from_spectrum",
    "genre_mapping",
    "genres",
    "load_arcs",
    "load_narrative_data",
    "pacing_multiplier",
    "primary_spectrum",
    "secondary_spectrum",
    "spectrum",
    "spectrums",
    "to_spectrum",
]
