"""``storylab kernels`` and ``storylab archives``: read an archive, or make a set of them."""

from __future__ import annotations

import argparse
from typing import Any

from storylab.cli._args import bounded_int, seed
from storylab.cli._output import print_json, print_table

__all__ = ["kernels_report", "register"]


def kernels_report(path: str, config_path: str | None = None, top: int = 5) -> dict[str, Any]:
    """Everything ``storylab kernels`` prints, as JSON-ready data."""
    from storylab.archives import (
        extract_facts,
        extract_kernels,
        load_bundle,
        load_extraction,
        recommend,
    )
    from storylab.archives.config import default_extraction
    from storylab.archives.recommend import explain

    config = load_extraction(config_path) if config_path else default_extraction()
    bundle = load_bundle(path)
    table = recommend(bundle, config=config).head(top)
    return {
        "archive": str(path),
        "character": bundle.name,
        "diagnostics": list(bundle.diagnostics),
        "kernels": [k.model_dump(mode="json") for k in extract_kernels(bundle, config=config)],
        "facts": extract_facts(bundle, config),
        "recommendation": [
            {
                "rank": int(row["rank"]),
                "template": row["template"],
                "genre": row["genre"],
                "score": round(float(row["score"]), 6),
                "terms": {
                    k: round(float(v), 6) for k, v in explain(table, int(row["rank"])).items()
                },
            }
            for _, row in table.iterrows()
        ],
    }


def _run_kernels(args: argparse.Namespace) -> int:
    report = kernels_report(args.file, args.config, args.top)
    if args.json:
        print_json(report)
        return 0
    print(f"{report['character']}  ({report['archive']})")
    for line in report["diagnostics"]:
        print(f"  note: {line}")
    print("\nkernels")
    print_table(
        [
            {"type": k["type"], "significance": k["significance"], "description": k["description"]}
            for k in report["kernels"]
        ]
    )
    print("\nrecommendation")
    print_table(
        [
            {
                "rank": r["rank"],
                "template": r["template"],
                "genre": r["genre"],
                "score": f"{r['score']:.3f}",
                "largest terms": ", ".join(
                    f"{k} {v:+.2f}" for k, v in list(r["terms"].items())[:3]
                ),
            }
            for r in report["recommendation"]
        ]
    )
    return 0


def _run_generate(args: argparse.Namespace) -> int:
    from storylab.archives.generate import write_archives

    paths = write_archives(args.out, args.n, args.seed)
    print(f"wrote {len(paths)} archives to {args.out} (seed {args.seed})")
    return 0


def _run_agreement(args: argparse.Namespace) -> int:
    from storylab.archives.labels import agreement, evaluate

    results = evaluate(args.labels, config=args.config)
    rates = agreement(results)
    if args.json:
        print_json({"archives": len(results), "agreement": rates.to_dict(orient="index")})
        return 0
    print(f"{len(results)} labelled archives ({args.labels})")
    print_table(
        [{"match": m, **{k: f"{v:.3f}" for k, v in row.items()}} for m, row in rates.iterrows()]
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``kernels``, ``archives`` and ``agreement`` to the command line."""
    p = sub.add_parser(
        "kernels",
        help="an archive's narrative kernels and the recommended template × genre",
        description="Read an archive bundle (YAML or JSON); print its narrative kernels and "
        "the best template × genre pairs with the terms that put them there.",
    )
    p.add_argument("file", help="archive bundle (.yaml, .yml or .json)")
    p.add_argument("--config", help="extraction config replacing the packaged one")
    p.add_argument(
        "--top", type=bounded_int(1, 1000), default=5, help="recommendations to show (default 5)"
    )
    p.add_argument("--json", action="store_true", help="print JSON (with the facts too)")
    p.set_defaults(run=_run_kernels)

    g = sub.add_parser(
        "archives",
        help="generate a seeded set of synthetic archives",
        description="Write N synthetic archives (archive-NNNN.yaml) into OUT; the same N "
        "and seed give the same files.",
    )
    g.add_argument(
        "out", help="output folder (archive-NNNN.yaml files of the same names are replaced)"
    )
    g.add_argument(
        "--n", type=bounded_int(0, 100_000), default=200, help="how many, 0-100000 (default 200)"
    )
    g.add_argument("--seed", type=seed, default=0, help="random seed, 0 or more (default 0)")
    g.set_defaults(run=_run_generate)

    a = sub.add_parser(
        "agreement",
        help="how often the recommendation agrees with hand-labelled archives",
        description="Rank every archive of a labels file; print top-1 and top-3 agreement "
        "for the template × genre pair, the template alone and the genre alone.",
    )
    a.add_argument("labels", help="labels file (kind: archive-labels)")
    a.add_argument("--config", help="extraction config replacing the packaged one")
    a.add_argument("--json", action="store_true", help="print JSON")
    a.set_defaults(run=_run_agreement)
