"""``storylab arcs`` (table, ``classify``, ``text``), ``storylab spectrums`` and ``validate``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from storylab._files import replacing
from storylab.cli._args import bounded_int, input_file, seed
from storylab.cli._output import print_json, print_table

if TYPE_CHECKING:
    import pandas as pd

    from storylab.theory import ArcFit


def arcs_table() -> list[dict[str, Any]]:
    """One row per arc: shape, direction, start, turns and end on the arc scale."""
    from storylab.theory import arcs

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
    from storylab.theory import arcs

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from storylab.viz import plot_arc_gallery

        panels = plot_arc_gallery()
        with replacing(args.plot) as tmp:
            panels.flat[0].figure.savefig(tmp, dpi=120)
    if args.json:
        print_json([a.model_dump(mode="json") for a in arcs()])
    else:
        print_table(arcs_table())
        if args.plot:
            print(f"\narc gallery written to {args.plot}")
    return 0


def _read_csv(path: str) -> pd.DataFrame:
    """A CSV with a header row, or bare numbers (columns then named value, value_2, ...)."""
    import pandas as pd

    input_file(path)
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: empty CSV (no header and no rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: a readable CSV file ({exc})") from None
    if all(_is_number(c) for c in frame.columns):  # no header: the first row is data
        frame = pd.read_csv(path, header=None)
        frame.columns = ["value"] + [f"value_{i}" for i in range(2, frame.shape[1] + 1)]
    if frame.empty:
        raise ValueError(f"{path}: no data rows under the header {list(frame.columns)}")
    return frame


def _is_number(text: object) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def _numeric(frame: pd.DataFrame, column: str, path: str) -> Any:
    import pandas as pd

    if column not in frame.columns:
        raise ValueError(f"{path}: no column {column!r}; columns: {', '.join(map(str, frame))}")
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        got = frame[column].iloc[row]
        raise ValueError(f"{path}: column {column!r}, data row {row + 1}: a number, got {got!r}")
    return values.to_numpy(dtype=float)


def _pick_column(frame: pd.DataFrame, args: argparse.Namespace) -> str:
    if args.column:
        return args.column
    import pandas as pd

    candidates = [
        c
        for c in frame.columns
        if c != args.position and pd.to_numeric(frame[c], errors="coerce").notna().any()
    ]
    if len(candidates) == 1:
        return str(candidates[0])
    if not candidates:
        raise ValueError(f"{args.file}: no numeric column; columns: {', '.join(map(str, frame))}")
    raise ValueError(
        f"{args.file}: several numeric columns ({', '.join(map(str, candidates))});"
        " choose one with --column"
    )


def _print_fit(fit: ArcFit) -> None:
    print_table(
        [
            {
                "rank": rank,
                "arc": m.arc.value,
                "score": f"{m.score:+.3f}",
                "turns": ", ".join(f"{t:g}" for t in m.turns) or "-",
            }
            for rank, m in enumerate(fit.matches, start=1)
        ]
    )
    print()
    if fit.best is None:
        print(f"abstained: {fit.reason}")
        return
    print(f"best: {fit.best.value} (margin {fit.margin:.3f}, strength {fit.strength:.1f})")
    for t in fit.turning_points:
        print(f"  {t.kind} at {t.position:g}: {t.value:.4g}")


def _run_classify(args: argparse.Namespace) -> int:
    from storylab.theory import classify_arc

    frame = _read_csv(args.file)
    column = _pick_column(frame, args)
    values = _numeric(frame, column, args.file)
    positions = _numeric(frame, args.position, args.file) if args.position else None
    try:
        fit = classify_arc(values, positions)
    except ValueError as exc:
        raise ValueError(f"{args.file}, column {column!r}: {exc}") from None
    if args.json:
        print_json({"file": args.file, "column": column, **fit.to_dict()})
    else:
        print(f"{args.file}, column {column!r}: {len(values)} points")
        _print_fit(fit)
    return 0


def _run_text(args: argparse.Namespace) -> int:
    from storylab.theory.text import text_arc

    path = input_file(args.file)
    try:
        text = path.read_text(encoding="utf-8")
        result = text_arc(
            text,
            window=args.window,
            points=args.points,
            shuffles=args.shuffles,
            seed=args.seed,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    t, null = result.trajectory, result.null
    if args.json:
        print_json(
            {
                "file": str(path),
                "words": t.n_words,
                "scored_words": t.n_scored,
                "window": t.window,
                "spread_p": null.spread_p,
                "outside_null_band": null.outside(t),
                **result.fit.to_dict(),
                "trajectory": {"position": t.positions.tolist(), "happiness": t.values.tolist()},
            }
        )
        return 0
    print(
        f"{path}: {t.n_words} words ({t.n_scored} scored outside the neutral band),"
        f" {len(t.values)} windows of {t.window} words"
    )
    print(
        f"word-shuffle null ({args.shuffles} shuffles): spread p = {null.spread_p:.3f},"
        f" {null.outside(t):.0%} of the trajectory outside the band"
    )
    print()
    _print_fit(result.fit)
    return 0


def _run_spectrums(args: argparse.Namespace) -> int:
    from storylab.theory import genres, spectrums
    from storylab.theory.spectrums import genre_mapping

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
    from storylab.validation import validate_paths

    failed = 0
    for path, problems in validate_paths(args.paths):
        if problems:
            failed += 1
            for p in problems:
                print(p)
        else:
            print(f"{path}: ok")
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the theory commands."""
    p = sub.add_parser(
        "arcs",
        help="the six emotional arcs (table, JSON, gallery), classify",
        description="Print the six emotional arcs of Reagan et al. (2016): shape, direction "
        "and turning points; `arcs classify` and `arcs text` fit a trajectory or a text.",
    )
    p.add_argument("--json", action="store_true", help="print the arcs as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the gallery of six arcs")
    p.set_defaults(run=_run_arcs)
    arcs_sub = p.add_subparsers(dest="arcs_command", metavar="{classify,text}")

    c = arcs_sub.add_parser(
        "classify",
        help="which arc does a trajectory in a CSV follow?",
        description="Fit the six arcs to a column of a CSV file; print the ranked matches, "
        "the fitted turns, or an abstention with its reason.",
    )
    c.add_argument("file", metavar="FILE.csv", help="a CSV with a header, or bare numbers")
    c.add_argument("--column", help="the column of values (default: the only numeric one)")
    c.add_argument("--position", metavar="COLUMN", help="a column of story positions")
    c.add_argument("--json", action="store_true", help="print the fit as JSON")
    c.set_defaults(run=_run_classify)

    c = arcs_sub.add_parser(
        "text",
        help="the emotional arc of a UTF-8 text (Reagan et al.)",
        description="Score a text with the labMT word list in sliding windows, test it "
        'against word-shuffled copies and classify its arc (needs `pip install "storylab[text]"`).',
    )
    c.add_argument("file", metavar="FILE.txt", help="a UTF-8 text file")
    c.add_argument(
        "--window", type=bounded_int(1, 10_000_000), default=10_000, help="words per window (10000)"
    )
    c.add_argument(
        "--points",
        type=bounded_int(2, 10_000),
        default=200,
        help="number of windows, 2-10000 (200)",
    )
    c.add_argument(
        "--shuffles",
        type=bounded_int(1, 1000),
        default=20,
        help="word shuffles for the null, 1-1000 (20)",
    )
    c.add_argument("--seed", type=seed, default=0, help="seed of the shuffles (0)")
    c.add_argument("--json", action="store_true", help="print the fit and trajectory as JSON")
    c.set_defaults(run=_run_text)

    p = sub.add_parser(
        "spectrums",
        help="the ten life-value spectrums and the genre table",
        description="Print the ten Story Grid life-value spectrums with their stages, and "
        "which spectrums each genre uses.",
    )
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(run=_run_spectrums)

    p = sub.add_parser(
        "validate",
        help="check storylab data files and folders; exit 1 on any problem",
        description="Check storylab data files (folders recursively: every .yaml, .yml and "
        ".json in them); print every problem with file, path and expectation. A file's kind "
        "comes from its `kind:` field, else from its name.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to check")
    p.set_defaults(run=_run_validate)
