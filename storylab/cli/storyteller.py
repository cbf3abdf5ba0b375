"""``storylab compose``: compose a storyline plan and print it as a table or JSON."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TYPE_CHECKING, Any

from storylab._files import replacing
from storylab.cli._args import URGENCIES, bounded_int, seed
from storylab.cli._library import add_library_options, library_options
from storylab.cli._output import print_table

if TYPE_CHECKING:
    from storylab.archives import ArchiveBundle
    from storylab.storyteller import StorylinePlan

__all__ = ["plan_rows", "register"]


def plan_rows(plan: StorylinePlan) -> list[dict[str, Any]]:
    """One row per planned action."""
    return [
        {
            "#": a.sequence_index,
            "phase": a.phase_number,
            "action": a.action_id + (" *" if a.core_event else ""),
            "category": a.category.value,
            "chained_from": a.chained_from or "",
            "delta": f"{a.narrative_effect.primary_delta:+.2f}",
            "primary": f"{a.primary_value:+.2f}",
            "position": f"{a.position:.3f}",
            "cost": a.cost,
        }
        for a in plan.actions
    ]


def phase_rows(plan: StorylinePlan) -> list[dict[str, Any]]:
    """One row per phase: goal, outcome and search statistics."""
    return [
        {
            "phase": f"{p.number}. {p.name}",
            "actions": len(p.actions),
            "cost": p.cost,
            "target": f"[{p.target_state.primary_min:+.2f}, {p.target_state.primary_max:+.2f}]",
            "end": f"{p.actions[-1].primary_value:+.2f}" if p.actions else "-",
            "position": f"{p.start_position:.2f}-{p.end_position:.2f}",
            "transition": p.transition_result.value,
            "expanded": p.search.expanded,
            "generated": p.search.generated,
            "stop": p.search.stop_reason,
        }
        for p in plan.phases
    ]


def _print_plan(plan: StorylinePlan, quality: dict[str, float | None]) -> None:
    sub = f" / {plan.subgenre}" if plan.subgenre else ""
    count = plan.action_count
    print(f"plan {plan.id}")
    print(
        f"{plan.template.value} ({plan.template_code}) · {plan.genre}{sub} · primary"
        f" {plan.primary_spectrum.value} · urgency {plan.urgency.value} · seed {plan.seed}"
    )
    print(
        f"actions: {len(plan.actions)} planned; target {count.resolved} (template"
        f" {count.template_default} x pacing {count.genre_multiplier} = {count.genre_adjusted}"
        + (f", requested {count.requested}" if count.requested is not None else "")
        + f", range {list(count.valid_range)})"
    )
    print()
    print_table(plan_rows(plan))
    print("(* core event)\n")
    print_table(phase_rows(plan))
    print()
    print(f"core events: {', '.join(plan.required_core_events)}")
    if plan.missing_core_events:
        print(f"MISSING core events: {', '.join(plan.missing_core_events)}")
    print(
        f"total cost {plan.total_cost:g} · intents {len(plan.intents)} · complete {plan.complete}"
    )
    print(
        "quality: "
        + " · ".join(f"{k} {'-' if v is None else format(v, '.3g')}" for k, v in quality.items())
        + " (see docs/storyteller.md, variety)"
    )
    for note in plan.notes + tuple(p.note for p in plan.phases if p.note):
        print(f"note: {note}")


def _quality(plan: StorylinePlan) -> dict[str, float | None]:
    """The plan's quality metrics (``storylab.tuning.plan_quality``); NaN becomes None."""
    import math

    from storylab.tuning.objectives import plan_quality

    return {k: None if math.isnan(v) else v for k, v in plan_quality(plan).items()}


def _choose_from_archive(args: argparse.Namespace) -> ArchiveBundle:
    """Load ``--archive`` and fill in a missing template or genre from its recommendation."""
    from storylab.archives import best_pair, load_bundle, recommend

    bundle = load_bundle(args.archive)
    if args.template is None or args.genre is None:
        row = best_pair(recommend(bundle), template=args.template, genre=args.genre)
        args.template, args.genre = str(row["template"]), str(row["genre"])
        print(
            f"recommended for {args.archive}: {args.template} × {args.genre}"
            f" (rank {row['rank']}, score {row['score']:.3f}; see `storylab kernels`)",
            file=sys.stderr,
        )
    return bundle


def _run_compose(args: argparse.Namespace) -> int:
    from storylab._data import DataError, Problem, read_document
    from storylab.storyteller import StorylineComposer
    from storylab.tuning.compose import compose_options

    if args.archive and args.initial:
        raise ValueError("give --archive or --initial, not both")
    if args.archive:
        initial: Any = _choose_from_archive(args)
    elif args.template is None or args.genre is None:
        raise ValueError("--template and --genre are required unless --archive is given")
    else:
        initial = read_document(args.initial) if args.initial else None
        if initial is not None and not isinstance(initial, dict):
            expected = "a mapping with facts / narrative / position"
            raise DataError([Problem(args.initial, "(top level)", expected)])
    actants = {}
    for item in args.actant or []:
        role, sep, name = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--actant takes ROLE=NAME, got {item!r}")
        actants[role] = name
    options = compose_options(args.profile or [], args.template, args.genre)
    own = library_options(args)
    composer = StorylineComposer(costs=options.get("costs"), **own)
    plan = composer.compose(
        args.template,
        args.genre,
        subgenre=args.subgenre,
        initial=initial,
        actants=actants,
        actions=args.actions if args.actions is not None else options.get("actions"),
        urgency=args.urgency,
        seed=args.seed,
    )
    program = None
    if args.program:
        from storylab.play import program_yaml, to_program

        program = program_yaml(to_program(plan, library=own["library"]))
    with contextlib.ExitStack() as outputs:  # both files are written, or neither
        if args.plot:
            import matplotlib

            matplotlib.use("Agg")
            from storylab.viz.plans import plot_plan

            tmp = outputs.enter_context(replacing(args.plot))
            plot_plan(plan).figure.savefig(tmp, dpi=120)
        if program is not None:
            outputs.enter_context(replacing(args.program)).write_text(program, encoding="utf-8")
    if program is not None:
        print(
            f"program written to {args.program} (play it: storylab play {args.program})",
            file=sys.stderr,
        )
    quality = _quality(plan)
    if args.json:
        import json

        data = json.loads(plan.to_json())
        data["quality"] = quality  # StorylinePlan.from_json reads the document with it
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _print_plan(plan, quality)
        if args.plot:
            print(f"\nplot written to {args.plot}")
    if args.timings:  # on stderr, so stdout stays the plan (one JSON document with --json)
        timings = composer.timings_
        per_phase = ", ".join(f"{1000 * s:.1f}" for s in timings["phases_s"])
        print(
            f"time: {1000 * timings['total_s']:.1f} ms (search per phase, ms: {per_phase})",
            file=sys.stderr,
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the storyteller commands."""
    p = sub.add_parser(
        "compose",
        help="compose a storyline plan from a template and a genre",
        description="Compose a storyline phase by phase with the GOAP planner.",
    )
    p.add_argument(
        "--template",
        help="arc template: rags_to_riches, tragedy, man_in_a_hole, icarus, cinderella,"
        " oedipus (or its code); an unknown name lists the known ones",
    )
    p.add_argument("--genre", help="genre (see `storylab spectrums`)")
    p.add_argument("--subgenre", help="subgenre of the genre")
    p.add_argument(
        "--actions",
        type=bounded_int(1, 10_000),
        metavar="N",
        help="target action count, 1-10000 (clamped to the template's range)",
    )
    p.add_argument(
        "--urgency",
        choices=URGENCIES,
        default="medium",
        help="search limits per phase: beam searches (low, medium, high) or exact A* within"
        " the exact bound of planning.yaml (exact)",
    )
    p.add_argument(
        "--seed", type=seed, default=0, help="tie-break and plan-id seed, 0 or more (default 0)"
    )
    p.add_argument("--initial", metavar="FILE", help="starting world state (YAML or JSON)")
    p.add_argument(
        "--profile",
        metavar="FILE",
        action="append",
        help="tuned profile (action costs, position estimation); repeat for several",
    )
    p.add_argument(
        "--archive",
        metavar="FILE",
        help="start from an archive bundle; a missing --template/--genre is recommended",
    )
    add_library_options(p)
    p.add_argument(
        "--actant", action="append", metavar="ROLE=NAME", help="cast a character in a role"
    )
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="draw the trajectory over the arc")
    p.add_argument(
        "--program",
        metavar="OUT.yaml",
        help="also write the plan as a playable narrative program (see `storylab play`)",
    )
    p.add_argument("--timings", action="store_true", help="print wall-clock times (on stderr)")
    p.set_defaults(run=_run_compose)
