"""``storylab export-pddl``: a phase problem as PDDL for classical planners."""

from __future__ import annotations

import argparse

from storylab.cli._args import URGENCIES, bounded_int, seed
from storylab.cli._library import add_library_options, library_options
from storylab.cli._output import print_table

__all__ = ["register"]


def _run_export(args: argparse.Namespace) -> int:
    from storylab.storyteller import StorylineComposer
    from storylab.storyteller.pddl import export_phase

    export = export_phase(
        args.template,
        args.genre,
        args.phase,
        subgenre=args.subgenre,
        actions=args.actions,
        urgency=args.urgency,
        seed=args.seed,
        costs="unit" if args.unit_cost else "action-costs",
        composer=StorylineComposer(**library_options(args)),
    )
    domain, problem = export.write(args.outdir)
    steps = sum(1 for ids in export.schemas.values() if ids)
    print_table(
        [
            {"file": str(domain), "what": f"domain: {steps} step schemas ({export.costs})"},
            {"file": str(problem), "what": f"problem: costs x{export.cost_scale}"},
        ]
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export-pddl`` command."""
    p = sub.add_parser(
        "export-pddl",
        help="write a storyline phase's planning problem as PDDL (domain.pddl, problem.pddl)",
        description=(
            "Compose the storyline, then write phase N's planning problem (as the composer "
            "posed it) as a PDDL domain and problem on storylab's planning grid, with action "
            "costs scaled to integers, so any classical planner finds the same optimal cost."
        ),
    )
    p.add_argument("--template", required=True, help="arc name, e.g. man_in_a_hole")
    p.add_argument("--genre", required=True, help="genre (see `storylab spectrums`)")
    p.add_argument(
        "--phase", required=True, type=bounded_int(1, 100), metavar="N", help="phase number, from 1"
    )
    p.add_argument("--subgenre", help="subgenre of the genre")
    add_library_options(p)
    p.add_argument(
        "--actions", type=bounded_int(1, 10_000), metavar="N", help="requested story length"
    )
    p.add_argument(
        "--urgency",
        default="medium",
        choices=URGENCIES,
        help="search limits of the composer (default medium)",
    )
    p.add_argument("--seed", type=seed, default=0, help="composer seed, 0 or more (default 0)")
    p.add_argument(
        "--unit-cost",
        action="store_true",
        help="compile the costs into unit-cost steps (for planners without :action-costs)",
    )
    p.add_argument("outdir", metavar="OUTDIR", help="folder for domain.pddl and problem.pddl")
    p.set_defaults(run=_run_export)
