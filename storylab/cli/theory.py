"""``storylab arcs``, ``storylab spectrums`` and ``storylab validate``."""

from __future__ import annotations

import argparse
from typing import Any

from storylab.cli._output import print_json, print_table
from storylab.theory import arcs, genres, spectrums
from storylab.theory.spectrums import genre_mapping
from storylab.validation import validate_file


def arcs_table() -> list[dict[str, Any]]:
    """One row per arc: shape, direction, start, turns and end on the arc scale."""
    rows = []
    for a in arcs():
        turns = ", ".join(f"{t.kind}@{t.position:.1f}={t.value:.2f}" for t in a.turning_points())
        rows.append(
            {
                "arc": a.type.value,
                "shape": a.shape_pattern,
                "direction": a.direction.value,
                "start": round(a.samples[0], 3),
                "turning_points": turns or "-",
                "end": round(a.samples[-1], 3),
            }
        )
    return rows


def _run_arcs(args: argparse.Namespace) -> int:
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from storylab.viz import plot_arc_gallery

        panels = plot_arc_gallery()
        panels.flat[0].figure.savefig(args.plot, dpi=120)
    if args.json:
        print_json([a.model_dump(mode="json") for a in arcs()])
    else:
        print_table(arcs_table())
        if args.plot:
            print(f"\narc gallery written to {args.plot}")
    return 0


def _run_spectrums(args: argparse.Namespace) -> int:
    if args.json:
        print_json(
            {
                "spectrums": [s.model_dump(mode="json") for s in spectrums()],
                "genres": {g: genre_mapping(g).model_dump(mode="json") for g in genres()},
            }
        )
        return 0
    print_table(
        [
            {
                "spectrum": s.type.value,
                "stages": " > ".join(f"{st.label} ({st.value:+.2f})" for st in s.stages),
            }
            for s in spectrums()
        ]
    )
    print()
    print_table(
        [
            {
                "genre": g,
                "primary": genre_mapping(g).primary.value,
                "secondary": (genre_mapping(g).secondary or "-"),
                "pacing": genre_mapping(g).pacing_multiplier,
                "subgenres": ", ".join(genre_mapping(g).subgenres) or "-",
            }
            for g in genres()
        ]
    )
    return 0


def _run_validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.paths:
        problems = validate_file(path)
        if problems:
            failed += 1
            for p in problems:
                print(p)
        else:
            print(f"{path}: ok")
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the theory commands."""
    p = sub.add_parser("arcs", help="the six emotional arcs (table, JSON, gallery)")
    p.add_argument("--json", action="store_true", help="print the arcs as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the gallery of six arcs")
    p.set_defaults(run=_run_arcs)

    p = sub.add_parser("spectrums", help="the ten life-value spectrums and the genre table")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(run=_run_spectrums)

    p = sub.add_parser("validate", help="check storylab data files; exit 1 on any problem")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(run=_run_validate)
