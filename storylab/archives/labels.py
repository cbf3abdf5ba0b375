"""Hand labels for archives, and how well the recommender agrees with them.

A labels file (``kind: archive-labels``) lists, for archives in the same folder, the
template and genre a designer chose and why. :func:`evaluate` ranks every labelled archive
with a config and reports where the label landed; :func:`agreement` sums that up as top-k
rates. The tuning work fits the extraction config's weights against these.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, field_validator

from storylab._data import Frozen, parse_model, read_document
from storylab.archives.bundle import load_bundle
from storylab.archives.config import ExtractionConfig, resolve_config
from storylab.archives.recommend import TemplateRecommender
from storylab.theory import ArcType, genres

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ArchiveLabel", "LabelSet", "agreement", "evaluate", "load_labels"]


class ArchiveLabel(Frozen):
    """A designer's choice for one archive file."""

    archive: str = Field(min_length=1)
    template: ArcType
    genre: str
    reason: str = Field(min_length=1)

    @field_validator("genre")
    @classmethod
    def _known_genre(cls, genre: str) -> str:
        if genre not in genres():
            raise ValueError(f"a known genre ({', '.join(genres())})")
        return genre


class LabelSet(Frozen):
    """The contents of a labels file."""

    kind: Literal["archive-labels"] = "archive-labels"
    version: Literal[1] = 1
    labels: tuple[ArchiveLabel, ...] = Field(min_length=1)

    @field_validator("labels")
    @classmethod
    def _one_each(cls, labels: tuple[ArchiveLabel, ...]) -> tuple[ArchiveLabel, ...]:
        names = [lab.archive for lab in labels]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"one label per archive, got several for {twice}")
        return labels


def load_labels(path: str | Path) -> LabelSet:
    """Load and validate a labels file."""
    return parse_model(LabelSet, read_document(path), path)


def evaluate(
    labels_path: str | Path, *, config: ExtractionConfig | str | Path | None = None
) -> pd.DataFrame:
    """One row per labelled archive: the label, the top pick, and the label's ranks.

    Columns: ``archive``, ``template``, ``genre`` (the label), ``top_template``,
    ``top_genre``, ``pair_rank`` (rank of the labelled pair among all pairs),
    ``template_rank`` and ``genre_rank`` (rank of the labelled template, and genre, when
    each is ranked by its best pair).
    """
    import pandas as pd

    folder = Path(labels_path).parent
    recommender = TemplateRecommender(resolve_config(config))
    rows = []
    for label in load_labels(labels_path).labels:
        table = recommender.recommend(load_bundle(folder / label.archive))
        pair = table.loc[
            (table["template"] == label.template.value) & (table["genre"] == label.genre), "rank"
        ]
        templates = table.drop_duplicates("template")["template"].tolist()
        genre_order = table.drop_duplicates("genre")["genre"].tolist()
        rows.append(
            {
                "archive": label.archive,
                "template": label.template.value,
                "genre": label.genre,
                "top_template": table["template"].iloc[0],
                "top_genre": table["genre"].iloc[0],
                "pair_rank": int(pair.iloc[0]),
                "template_rank": templates.index(label.template.value) + 1,
                "genre_rank": genre_order.index(label.genre) + 1,
            }
        )
    return pd.DataFrame(rows)


def agreement(results: pd.DataFrame, ks: tuple[int, ...] = (1, 3)) -> pd.DataFrame:
    """Top-k agreement rates from :func:`evaluate`: rows pair, template, genre; columns top_k."""
    import pandas as pd

    return pd.DataFrame(
        {
            f"top_{k}": [
                float(np.mean(results[f"{what}_rank"] <= k))
                for what in ("pair", "template", "genre")
            ]
            for k in ks
        },
        index=pd.Index(["pair", "template", "genre"], name="match"),
    )
