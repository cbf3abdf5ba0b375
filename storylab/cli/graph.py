"""``storylab graph ingest|show|check``: the character identity graph."""

from __future__ import annotations

import argparse
from pathlib import Path

from storylab.cli._args import command_group
from storylab.cli._output import print_frames, print_json, records


def _run_ingest(args: argparse.Namespace) -> int:
    from storylab.graph import CharacterGraph, ingest

    report = ingest(args.db, args.paths, prune=args.prune, progress=args.progress)
    with CharacterGraph(args.db) as graph:
        counts = graph.sources()[["nodes", "edges"]].sum()
    print(
        f"{args.db}: {report['added']} sources added, {report['replaced']} replaced, "
        f"{report['unchanged']} unchanged, {report['removed']} removed "
        f"({counts['nodes']} nodes and {counts['edges']} edges defined)"
    )
    return 0


def _run_show(args: argparse.Namespace) -> int:
    from storylab.graph import CharacterGraph

    if not Path(args.db).is_file():
        raise FileNotFoundError(f"{args.db}: no graph database (build one with 'graph ingest')")
    filters = {"world": args.world, "tag": args.tag, "arc": args.arc, "rating": args.rating}
    with CharacterGraph(args.db, read_only=True) as graph:
        uses = graph.uses(args.character, **filters)
        usage = graph.usage(args.character, **filters)
    print_frames(
        {"usage": usage, "uses": uses},
        as_json=args.json,
        meta={"character": args.character},
        title=f"{args.character}: used {len(uses)} times",
        hidden=["tags"],
    )
    return 0


def _run_check(args: argparse.Namespace) -> int:
    from storylab.graph import build_graph

    with build_graph(args.paths) as graph:
        problems = graph.check()
    if args.json:
        print_json(records(problems))
    else:
        for row in problems.itertuples(index=False):
            where = f"{row.source}: {row.location}" if row.location else row.source
            print(f"{where}: [{row.check}] {row.message}")
        print(f"{len(problems)} problem(s)")
    return 1 if len(problems) else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the graph commands."""
    gsub = command_group(
        sub,
        "graph",
        help="build, question and check the character identity graph",
        description="The character identity graph over archives, worlds, programs and intents.",
    )
    p = gsub.add_parser(
        "ingest",
        help="build or refresh a graph database from files",
        description="Ingest worlds (with their programs), programs, archives, action-block "
        "libraries and intents stores; only sources whose content changed are written again.",
    )
    p.add_argument("db", metavar="DB", help="the SQLite file (may be the sessions/intents file)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="a file or folder to read")
    p.add_argument("--prune", action="store_true", help="remove sources not among the paths")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.set_defaults(run=_run_ingest)
    p = gsub.add_parser(
        "show",
        help="where a character is used",
        description="Everything a character (template id or node key) is used in, by kind "
        "and world.",
    )
    p.add_argument("db", metavar="DB", help="a graph database written by 'graph ingest'")
    p.add_argument("character", metavar="CHARACTER", help="a template id or a node key")
    p.add_argument("--world", help="only uses in this world")
    p.add_argument("--tag", help="only uses tagged so")
    p.add_argument("--arc", help="only content made for this arc")
    p.add_argument("--rating", help="only content rated this or milder (general, teen, ...)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_run_show)
    p = gsub.add_parser(
        "check",
        help="consistency checks; exit 1 on any problem",
        description="Build the graph of PATHS in memory and print every consistency problem "
        "with its source and place; exit 1 when there is any.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="a file or folder to read")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_run_check)
