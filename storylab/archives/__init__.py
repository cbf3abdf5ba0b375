"""Archives: what the world remembers of a character and its realm, turned into stories.

An :class:`ArchiveBundle` holds entries under opaque keys; :func:`extract_world_state`
reads it into a starting :class:`~storylab.theory.WorldState`, :func:`extract_kernels`
into narrative kernels (story opportunities), and :func:`recommend` into a ranked,
explained table of template × genre pairs. Every threshold and weight comes from the
extraction config (``storylab/data/extraction.yaml`` or a user file in its format).
"""

from storylab.archives.bundle import ArchiveBundle, load_bundle, load_bundles
from storylab.archives.config import (
    ExtractionConfig,
    default_extraction,
    dump_extraction,
    load_extraction,
)
from storylab.archives.extract import ArchiveExtractor, extract_facts, extract_world_state
from storylab.archives.generate import generate_archives, write_archives
from storylab.archives.kernels import (
    KernelExtractor,
    KernelType,
    NarrativeKernel,
    extract_kernels,
)
from storylab.archives.labels import agreement, evaluate, load_labels
from storylab.archives.recommend import TemplateRecommender, best_pair, explain, recommend

__all__ = [
    "ArchiveBundle",
    "ArchiveExtractor",
    "ExtractionConfig",
    "KernelExtractor",
    "KernelType",
    "NarrativeKernel",
    "TemplateRecommender",
    "agreement",
    "best_pair",
    "default_extraction",
    "dump_extraction",
    "evaluate",
    "explain",
    "extract_facts",
    "extract_kernels",
    "extract_world_state",
    "generate_archives",
    "load_bundle",
    "load_bundles",
    "load_extraction",
    "load_labels",
    "recommend",
    "write_archives",
]
