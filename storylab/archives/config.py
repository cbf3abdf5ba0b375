"""The extraction config: every archive → fact mapping, kernel threshold and score weight.

The packaged ``storylab/data/extraction.yaml`` is the default; a user file in the same
format replaces it (``load_extraction(path)``). The config is a tree of plain mappings
with scalar (or list) leaves, so it also reads and writes as a *flat* dict whose keys join
the path with ``__`` (``kernels__conflict__min_emotional_impact``): that is the form
sweeps and optimisers use (:meth:`ExtractionConfig.params`, :meth:`ExtractionConfig.with_params`),
and a file may be written in either form.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from storylab._data import DataError, Frozen, Problem, packaged_path, parse_model, read_document
from storylab._files import write_atomic
from storylab.theory import ArcType, SpectrumType, genres

__all__ = [
    "SEPARATOR",
    "ExtractionConfig",
    "FactRule",
    "KernelRules",
    "NarrativeRules",
    "RecommendationRules",
    "ScoreWeights",
    "default_extraction",
    "dump_extraction",
    "flatten",
    "load_extraction",
    "resolve_config",
    "unflatten",
]

#: Joins the path of a leaf in a flat config key.
SEPARATOR = "__"


def _no_separator(key: str) -> str:
    if SEPARATOR in key:
        raise ValueError(f"a name without {SEPARATOR!r} (it joins flat config keys)")
    return key


Key = Annotated[
    str,
    StringConstraints(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$"),
    AfterValidator(_no_separator),
]
Significance = Annotated[float, Field(ge=0.0, le=1.0)]
Delta = Annotated[float, Field(ge=-1.0, le=1.0)]


class FactRule(Frozen):
    """How one fact is read from one measure of the bundle.

    ``transform`` is one of: ``value`` (the measure itself), ``at_least`` / ``at_most``
    (whether the measure is ``>=`` / ``<=`` ``threshold``), ``present`` (whether the measure
    is given and non-empty), ``contains_any`` (whether the text contains any of ``words``,
    ignoring case). When the measure is missing the fact is ``default``, or left out when
    ``default`` is null.
    """

    source: Key
    transform: Literal["value", "at_least", "at_most", "present", "contains_any"]
    threshold: float | None = None
    words: tuple[str, ...] = ()
    default: bool | int | float | str | None = None

    @model_validator(mode="after")
    def _parameters_fit_transform(self) -> FactRule:
        needs_threshold = self.transform in ("at_least", "at_most")
        if needs_threshold != (self.threshold is not None):
            raise ValueError("threshold exactly when transform is at_least or at_most")
        if (self.transform == "contains_any") != bool(self.words):
            raise ValueError("words exactly when transform is contains_any")
        return self


class NarrativeRules(Frozen):
    """The initial narrative state: every tracked spectrum starts at ``base``, then each fact
    in ``shifts`` moves a spectrum by ``delta × fact`` (true = 1, false or missing = 0).

    A shift's target is ``primary``, ``secondary`` or a spectrum name; a target the genre
    does not track is skipped.
    """

    base: Delta = 0.0
    shifts: dict[Key, dict[Key, Delta]] = Field(default_factory=dict)

    @field_validator("shifts")
    @classmethod
    def _targets(cls, shifts: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        allowed = {"primary", "secondary", *(t.value for t in SpectrumType)}
        bad = sorted({t for targets in shifts.values() for t in targets} - allowed)
        if bad:
            raise ValueError(f"targets primary, secondary or a spectrum name, got {bad}")
        return shifts


class DeathRule(Frozen):
    """A dead character is always a kernel, of this significance."""

    significance: Significance


class HistoricalEventRule(Frozen):
    """A participation of at least ``min_significance`` is a kernel (significance as given)."""

    min_significance: Significance


class TraumaRule(Frozen):
    """A backstory trauma is a kernel of this significance."""

    significance: Significance


class UnfinishedBusinessRule(Frozen):
    """At least ``min_goals`` open goals make a kernel of this significance."""

    significance: Significance
    min_goals: int = Field(ge=1)


class ConflictRule(Frozen):
    """An encounter with a perspective whose sentiment shift is at most
    ``max_sentiment_shift`` and whose emotional impact is at least ``min_emotional_impact``."""

    significance: Significance
    max_sentiment_shift: Delta
    min_emotional_impact: Significance


class DeepBondRule(Frozen):
    """Another character met at least ``min_encounters`` times with a mean sentiment shift
    of at least ``min_mean_sentiment``."""

    significance: Significance
    min_mean_sentiment: Delta
    min_encounters: int = Field(ge=1)


class KernelRules(Frozen):
    """Thresholds and significances of the six kernel types."""

    death: DeathRule
    historical_event: HistoricalEventRule
    trauma: TraumaRule
    unfinished_business: UnfinishedBusinessRule
    conflict: ConflictRule
    deep_bond: DeepBondRule


class ScoreWeights(Frozen):
    """A linear score: ``bias + sum(weight × feature)``."""

    bias: float = 0.0
    weights: dict[Key, float] = Field(default_factory=dict)


class RecommendationRules(Frozen):
    """Weights that score every template × genre pair.

    ``score = template bias + template terms + genre bias + genre terms + fit`` where
    ``fit`` is ``compatible_bonus`` when the genre is in the template's ``compatible`` list
    and ``incompatible_penalty`` otherwise. With ``incompatible_last`` every compatible pair
    ranks above every incompatible one (so the top pick is one the templates allow). A
    feature is a fact key (true = 1, false = 0,
    numbers as they are) or ``kernel.<type>`` (the highest significance among kernels of
    that type, 0 when there is none).
    """

    templates: dict[ArcType, ScoreWeights]
    genres: dict[Key, ScoreWeights] = Field(default_factory=dict)
    compatible: dict[ArcType, tuple[str, ...]]
    compatible_bonus: float = 0.0
    incompatible_penalty: float = 0.0
    incompatible_last: bool = True

    @model_validator(mode="after")
    def _cover_known_names(self) -> RecommendationRules:
        missing = [t.value for t in ArcType if t not in self.templates or t not in self.compatible]
        if missing:
            raise ValueError(f"templates and compatible for every arc type, missing {missing}")
        known = set(genres())
        named = set(self.genres) | {g for gs in self.compatible.values() for g in gs}
        unknown = sorted(named - known)
        if unknown:
            raise ValueError(f"known genres ({', '.join(sorted(known))}), got {unknown}")
        return self


KERNEL_FEATURES = tuple(f"kernel.{k}" for k in KernelRules.model_fields)


class ExtractionConfig(Frozen):
    """The whole of ``extraction.yaml``: facts, narrative start, kernels, recommendation."""

    kind: Literal["extraction"] = "extraction"
    version: Literal[1] = 1
    facts: dict[Key, FactRule]
    narrative: NarrativeRules = NarrativeRules()
    kernels: KernelRules
    recommendation: RecommendationRules

    @model_validator(mode="after")
    def _features_are_defined(self) -> ExtractionConfig:
        defined = set(self.facts) | set(KERNEL_FEATURES)
        used = {f for w in self.recommendation.templates.values() for f in w.weights}
        used |= {f for w in self.recommendation.genres.values() for f in w.weights}
        used |= set(self.narrative.shifts)
        unknown = sorted(used - defined)
        if unknown:
            raise ValueError(f"features that are facts defined here or kernel.<type>: {unknown}")
        return self

    def params(self) -> dict[str, Any]:
        """The config as a flat dict (``a__b__c`` keys) for sweeps; see :func:`flatten`."""
        return flatten(self.model_dump(mode="json"))

    def with_params(self, params: dict[str, Any]) -> ExtractionConfig:
        """A copy with some flat-keyed leaves replaced (new leaves may be added).

        Raises
        ------
        DataError
            When the result is not a valid config.
        """
        merged = self.params() | dict(params)
        return parse_model(ExtractionConfig, unflatten(merged), "<params>")


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Join nested mapping keys with ``__``; leaves are scalars and lists.

    >>> flatten({"a": {"b": 1, "c": [2]}, "d": "x"})
    {'a__b': 1, 'a__c': [2], 'd': 'x'}
    """
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{SEPARATOR}{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """Undo :func:`flatten` (nested mappings pass through unchanged).

    >>> unflatten({"a__b": 1, "a__c": [2], "d": "x"})
    {'a': {'b': 1, 'c': [2]}, 'd': 'x'}
    """
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = str(key).split(SEPARATOR)
        node = out
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise DataError([Problem("<params>", key, "a path that is not also a leaf")])
        node[leaf] = value
    return out


def load_extraction(path: str | Path | None = None) -> ExtractionConfig:
    """Load and validate an extraction config (the packaged one by default).

    The file may be nested (like the packaged one) or flat (``a__b`` keys), or mix both.
    """
    source = path or packaged_path("extraction.yaml")
    document = read_document(source)
    if isinstance(document, dict):
        document = unflatten(document)
    return parse_model(ExtractionConfig, document, source)


@cache
def default_extraction() -> ExtractionConfig:
    """The packaged extraction config, loaded once."""
    return load_extraction()


def dump_extraction(config: ExtractionConfig, path: str | Path | None = None) -> str:
    """The config as YAML text (nested form); also written to ``path`` when given.

    ``load_extraction`` of the written file gives back an equal config.
    """
    text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    if path is not None:
        write_atomic(path, text)
    return text


def resolve_config(config: ExtractionConfig | str | Path | None) -> ExtractionConfig:
    """A config as given, loaded from a path, or the packaged one for ``None``."""
    if config is None:
        return default_extraction()
    if isinstance(config, ExtractionConfig):
        return config
    return load_extraction(config)
